//! Where the queue scan meets the selection language.
//!
//! - [`view`]: [`MessageView`], a scanned message as the selection sees it
//!   (`select::Fields` over `queue_scan::Message`).

#![warn(missing_docs)]

pub mod view;

pub use view::MessageView;
