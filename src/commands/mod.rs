//! The commands of the binary, one module each: option wiring, reading
//! the input, reporting errors. The mechanisms live in the crates.

pub mod act;
pub mod check;
pub mod fallback;
pub mod generate;
pub mod list;
pub mod metrics;
pub mod restore;
pub mod show;
pub mod summary;
pub mod triage;
pub mod watch;
