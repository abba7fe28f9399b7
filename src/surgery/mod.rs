pub mod backup;
