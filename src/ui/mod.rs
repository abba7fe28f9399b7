//! What the commands show on the terminal and nothing else (no policy here):
//! escaping, numbers for people, progress, the act preview and report.

pub mod fmt;
pub mod preview;
pub mod progress;
pub mod report;
pub mod sanitize;
