pub mod postsuper;
