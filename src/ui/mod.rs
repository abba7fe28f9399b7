//! What the commands show on the terminal and nothing else (no policy here).

pub mod preview;
pub mod report;
