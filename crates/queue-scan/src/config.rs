//! What the scan and the printers need to know about a Postfix instance.
//! The values come from Postfix's own configuration, read by the `postfix`
//! crate (this crate starts no process), or are Postfix's defaults for a
//! queue directory read without Postfix.

use std::path::PathBuf;

use crate::layout::QueueLayout;

/// What qsurgeon needs to know about a Postfix instance: where its queue
/// is, and the settings that change how showq and postqueue print it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceConfig {
    /// Queue directory and hashing.
    pub layout: QueueLayout,
    /// `enable_long_queue_ids`: selects mailq's wide layout.
    pub long_queue_ids: bool,
    /// `smtputf8_enable`: what `printable()` keeps.
    pub smtputf8: bool,
    /// `empty_address_recipient`: how the null sender is shown.
    pub empty_address_recipient: String,
    /// `duplicate_filter_limit`: showq's logfile duplicate filter size.
    pub duplicate_filter_limit: usize,
    /// The largest queue file the scan reads, from `message_size_limit`
    /// ([`crate::open::queue_file_limit`]); larger files are named and skipped.
    pub queue_file_limit: u64,
}

impl InstanceConfig {
    /// Postfix's defaults for a queue directory read without Postfix.
    pub fn with_defaults(queue_dir: impl Into<PathBuf>) -> InstanceConfig {
        InstanceConfig {
            layout: QueueLayout::with_defaults(queue_dir),
            long_queue_ids: false,
            smtputf8: true,
            empty_address_recipient: "MAILER-DAEMON".into(),
            duplicate_filter_limit: 1000,
            queue_file_limit: crate::open::DEFAULT_QUEUE_FILE_LIMIT,
        }
    }
}
