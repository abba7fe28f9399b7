//! The commands of the binary, one module each: option wiring, reading
//! the input, reporting errors. The mechanisms live in the crates.

pub mod show;
