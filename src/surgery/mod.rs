pub mod backup;
pub mod postsuper;
