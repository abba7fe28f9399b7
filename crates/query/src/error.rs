//! The crate's error: a selection that cannot be built or a query that
//! cannot start, with the flag, value or program it concerns.

use std::fmt;

/// Why a query could not be built or started.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A selection flag's value does not parse (`--older-than 2x`).
    Selection(select::ParseError),
    /// `--id VALUE` is not a queue ID.
    BadId {
        /// The value given.
        value: String,
        /// Why it is not one.
        why: String,
    },
    /// `--queue NAME` names no message queue.
    BadQueue {
        /// The name given.
        name: String,
    },
    /// `--nonexistent-local-sender` without a Postfix configuration to ask
    /// (`--queue-dir`).
    LocalSenderNeedsPostfix,
    /// Postfix could not answer the nonexistent-local-sender lookups.
    Postfix(postfix::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Selection(e) => write!(f, "{e}"),
            Error::BadId { value, why } => write!(f, "--id {value:?}: {why}"),
            Error::BadQueue { name } => write!(
                f,
                "--queue {name}: not a message queue (one of {})",
                queue_scan::MESSAGE_QUEUES.join(", ")
            ),
            Error::LocalSenderNeedsPostfix => f.write_str(
                "--nonexistent-local-sender asks Postfix which addresses exist: use -c CONFIG_DIR (or the default instance), not --queue-dir",
            ),
            Error::Postfix(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        // The wrapped errors are shown as they are (see Display), so their
        // own causes are this error's causes; naming them again would print
        // the message twice in a cause chain.
        match self {
            Error::Selection(e) => e.source(),
            Error::Postfix(e) => e.source(),
            _ => None,
        }
    }
}

impl From<select::ParseError> for Error {
    fn from(e: select::ParseError) -> Error {
        Error::Selection(e)
    }
}

impl From<postfix::Error> for Error {
    fn from(e: postfix::Error) -> Error {
        Error::Postfix(e)
    }
}
