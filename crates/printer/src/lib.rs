//! Printers for Postfix queue data, byte for byte as Postfix prints it.
//!
//! Like ripgrep's `grep-printer`, this crate only formats: callers read
//! the files (or ask showq) and choose where the output goes and how a
//! terminal sees it.
//!
//! - [`postcat`]: a queue file as `postcat -e -h -b -o -d -v -r` prints
//!   it, streamed to any [`std::io::Write`].
//! - [`json`]: `show --json`, every record of a queue file as one lossless
//!   JSON document, streamed; and the lossless byte-string values
//!   ([`json::string_or_bytes`], [`json::data`]) other JSON output uses.
//! - [`postqueue`]: `postqueue -p` (mailq) text and `postqueue -j` JSON
//!   lines for what showq reports per message, appended to byte buffers so
//!   parallel workers can format whole blocks.
//! - [`list`]: `list`'s formats (mailq text, `postqueue -j` JSON with
//!   richer members, IDs, CSV, counts) for scanned messages, one whole
//!   block per message.
//! - [`time`]: `asctime(localtime(t))`, as postcat and mailq print times.
//!
//! # Example
//!
//! ```
//! use printer::postcat::{postcat, PostcatFlags};
//!
//! let file = queue_file::QueueFileBuilder::new(b"alice@example.org", 0)
//!     .recipient(b"bob@example.net")
//!     .line(b"Subject: hello")
//!     .build();
//! let headers = PostcatFlags { header: true, ..PostcatFlags::default() };
//! let mut out = Vec::new();
//! postcat(&mut out, b"F00", &file, headers.with_defaults(), &mut |_| {})?;
//! assert_eq!(out, b"Subject: hello\n");
//!
//! let mut json = Vec::new();
//! let error = printer::json::write_json(&mut json, b"F00", &file)?;
//! assert!(error.is_none());
//! let doc: serde_json::Value = serde_json::from_slice(&json)?;
//! assert_eq!(doc["records"][0]["name"], "message_size");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

pub mod json;
pub mod list;
pub mod postcat;
pub mod postqueue;
pub mod time;
