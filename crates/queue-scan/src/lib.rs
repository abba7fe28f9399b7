//! The Postfix queue directory: its layout, its configuration, and a
//! parallel scan of its queue files.
//!
//! - [`layout`]: queue names, hashed paths, queue ID syntax.
//! - [`config`]: an instance's settings that the scan and printers need.
//! - [`scan`]: the parallel scan and the per-message view it lends out.

#![deny(missing_docs)]

pub mod config;
pub mod layout;
pub mod scan;

pub use config::InstanceConfig;
pub use layout::{is_valid_queue_id, QueueLayout, MESSAGE_QUEUES};
pub use scan::{
    read_one, scan, FileInfo, Message, ReadPlan, ScanError, ScanErrorKind, ScanOptions,
    ScanProgress, ScanStats, Visitor,
};
