//! Read and write Postfix queue files, agreeing with Postfix byte for byte.
//!
//! The crate has no I/O policy, no paths and no threads: callers hand it the
//! bytes of a file (all of them, or the head and tail around the content).
//!
//! # API structure
//!
//! - [`record`]: framing. [`Records`] iterates over `(type, payload, offset)`
//!   in physical order; [`FileView`] is the byte view every reader uses.
//! - [`logical`]: [`LogicalReader`] reads as Postfix's `rec_get` does:
//!   follows `p` pointers, skips `w` padding, stops at `E`.
//! - [`envelope`]: [`Envelope`] decodes sender, attributes, recipients and
//!   times from the envelope and extracted segments, skipping the content.
//! - [`content`]: [`Headers`] reads the header block without the body.
//! - [`write`]: [`RecordWriter`] and [`QueueFileBuilder`] make files.
//! - [`text`]: Postfix's `atol`, `split_nameval` and `is_header`.
//! - [`rec_type`]: record type bytes and their names.
//!
//! # Example
//!
//! ```
//! use queue_file::{Envelope, FileView, QueueFileBuilder};
//!
//! let bytes = QueueFileBuilder::new(b"alice@example.org", 1_795_359_329)
//!     .attr_before_sender("sasl_username", b"alice")
//!     .recipient(b"bob@example.net")
//!     .line(b"Subject: hello")
//!     .build();
//! let envelope = Envelope::decode(FileView::whole(&bytes))?;
//! assert_eq!(envelope.sender, Some(&b"alice@example.org"[..]));
//! assert_eq!(envelope.sasl_username(), Some(&b"alice"[..]));
//! assert_eq!(envelope.todo_recipients().count(), 1);
//! # Ok::<(), queue_file::Error>(())
//! ```

#![deny(missing_docs)]

pub mod bounce_log;
pub mod content;
pub mod envelope;
pub mod error;
pub mod logical;
pub mod quote;
pub mod rec_type;
pub mod record;
pub mod showq;
pub mod text;
pub mod write;

pub use bounce_log::{BounceLog, LogEntry, LogKind};
pub use content::{Header, Headers};
pub use envelope::{Attribute, Envelope, Recipient, RecipientState, Segment, SizeRecord};
pub use error::{Error, ErrorKind, Result};
pub use logical::{LogicalReader, ReadMode};
pub use record::{FileView, Record, Records};
pub use showq::{Showq, ShowqInput, ShowqMessage, ShowqOptions, ShowqRecipient};
pub use write::{QueueFileBuilder, RecordWriter};
