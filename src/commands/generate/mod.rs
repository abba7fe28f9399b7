//! `qsurgeon generate man|completions DIR` (hidden, for packagers): the man
//! pages and shell completions, from the clap definitions.

pub mod completions;
pub mod man;
