//! Where the queue scan meets the selection language.
//!
//! - [`spec`]: [`SelectionSpec`], the selection flags as typed values, and
//!   the selection, queues and read plan that follow from them.
//! - [`view`]: [`MessageView`], a scanned message as the selection sees it
//!   (`select::Fields` over `queue_scan::Message`), delay reasons and DSN
//!   status read as Postfix reads the defer log.
//! - [`dimension`]: [`Dimension`], what messages are grouped by, and the
//!   keys of a message in each.
//! - [`tally`]: [`Tables`], totals per key of each dimension, and their
//!   top rows.
//! - [`query`]: [`Query`] and [`Query::run`], a scan whose per-worker
//!   results ([`Fold`]) are merged and returned.
//! - [`snapshot`]: [`snapshot::Snapshot`], the selected messages' facts kept
//!   in memory after one scan, for drill-downs without scanning again.
//! - [`interner`]: [`Interner`], byte strings stored once.
//! - [`postqueue`]: selections over `postqueue -j` records (not root).
//! - [`error`]: the crate's [`Error`].
//!
//! ```no_run
//! use query::{Dimension, Fold, KeyList, MessageView, Query, SelectionSpec};
//! use queue_scan::{QueueLayout, ReadPlan, ScanError, ScanProgress};
//!
//! /// Messages per SASL user.
//! #[derive(Default)]
//! struct PerUser(std::collections::HashMap<Vec<u8>, u64>, KeyList);
//! impl Fold for PerUser {
//!     fn message(&mut self, view: &MessageView<'_, '_>) {
//!         Dimension::SaslUser.keys(view, &mut self.1);
//!         for key in self.1.iter() {
//!             *self.0.entry(key.to_vec()).or_default() += 1;
//!         }
//!     }
//!     fn error(&mut self, e: ScanError) { eprintln!("{e}") }
//!     fn merge(mut self, other: Self) -> Self {
//!         for (k, n) in other.0 { *self.0.entry(k).or_default() += n }
//!         self
//!     }
//! }
//!
//! let spec = SelectionSpec { older_than: Some("1h".into()), ..Default::default() };
//! let query = Query::for_spec(&spec, ReadPlan::default())?;
//! let layout = QueueLayout::with_defaults("/var/spool/postfix");
//! let per_user = query.run(&layout, &ScanProgress::default(), PerUser::default);
//! println!("{} SASL users", per_user.0.len());
//! # Ok::<(), query::Error>(())
//! ```

#![warn(missing_docs)]

pub mod dimension;
pub mod error;
pub mod interner;
pub mod postqueue;
pub mod query;
pub mod snapshot;
pub mod spec;
pub mod tally;
pub mod view;

pub use dimension::{Dimension, KeyList};
pub use error::Error;
pub use interner::Interner;
pub use query::{Fold, Query};
pub use spec::{SelectionSpec, DEFAULT_QUEUES};
pub use tally::{Rank, Tables, Tally};
pub use view::MessageView;
