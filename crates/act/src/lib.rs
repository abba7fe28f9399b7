//! Acting on a selection of queued messages, through Postfix's own `postsuper`.
//!
//! - [`backup`]: copies of messages before they are deleted (`delete --backup DIR`), and
//!   putting them back into the queue through `postdrop` (`restore DIR`).
//! - [`json`]: byte strings that stay lossless in JSON.
//!
//! qsurgeon never writes to the queue directory itself: every change is a postsuper batch.

#![warn(missing_docs)]

pub mod backup;
pub mod json;
