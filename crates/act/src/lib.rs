//! Acting on a selection of queued messages, through Postfix's own `postsuper`.
//!
//! The flow every verb follows, as library parts a command line, a full-screen triage or a
//! standing rule can each drive without clap:
//!
//! - [`verb`]: what the user asked for ([`Verb`]) and the postsuper operation it means for a
//!   message in a given queue.
//! - [`plan`]: the selected messages with their device and inode ([`Plan`]), built from a
//!   scan by a fold ([`PlanBuilder`]), with the preview counts; and the re-check of one
//!   message just before acting ([`recheck`]).
//! - [`executor`]: runs a plan batch by batch ([`Executor`]) and tells a [`Sink`] what
//!   happened to every queue ID ([`Event`]), including the IDs a postsuper that died
//!   mid-batch had already handled.
//! - [`journal`]: the audit sinks, a JSON-lines [`Journal`] opened safely and an
//!   one-line-per-run [`Syslog`].
//! - [`backup`]: copies of messages before they are deleted (`delete --backup DIR`), and
//!   putting them back into the queue through `postdrop` (`restore DIR`).
//!
//! qsurgeon never writes to the queue directory itself: every change is a postsuper batch
//! (or `postqueue -i` for flush). Byte strings in the journal and the backup manifests are
//! written losslessly by `printer::json::string_or_bytes`.

#![warn(missing_docs)]

pub mod backup;
mod error;
pub mod executor;
pub mod journal;
pub mod plan;
pub mod preview;
pub mod verb;

pub use error::Error;
pub use executor::{Action, Discard, Event, Executor, Outcome, Sink, Tee};
pub use journal::{Journal, Refusal, RunInfo, SelectionRecord, Syslog};
pub use plan::{recheck, Plan, PlanBuilder, Planned, Recheck, Rechecker, Unreadable};
pub use preview::{Preview, Sample, Top};
pub use verb::Verb;
