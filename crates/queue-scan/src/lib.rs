//! The Postfix queue directory: its layout, its configuration, and a
//! parallel scan of its queue files.
//!
//! - [`layout`]: queue names, hashed paths, queue ID syntax.
//! - [`config`]: an instance's settings that the scan and printers need.
//! - [`open`]: the one safe way to open queue files and logs.
//! - [`scan`](mod@scan): the parallel scan and the per-message view it lends out;
//!   `listing` (private): the directories listed once, in showq's order.

#![deny(missing_docs)]

pub mod config;
pub mod layout;
mod listing;
mod logdir;
pub mod open;
pub mod scan;

pub use config::InstanceConfig;
pub use layout::{is_valid_queue_id, LayoutError, QueueLayout, MESSAGE_QUEUES};
pub use listing::list_queues;
pub use open::{FileInfo, OpenError, OpenErrorKind, DEFAULT_QUEUE_FILE_LIMIT};
pub use scan::{
    default_threads, read_one, read_one_with_limit, scan, scan_ordered, scan_reduce, set_threads,
    Message, ReadPlan, ScanError, ScanErrorKind, ScanOptions, ScanProgress, ScanStats, Visitor,
};
