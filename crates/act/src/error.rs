//! The crate's error: why a run could not start or could not go on, with the file or the
//! command it concerns.

use std::fmt;
use std::io;
use std::path::PathBuf;

use postfix::PostsuperError;

/// Why acting could not start or go on.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The journal (or its directory) is not safe to write as this user; nothing was written
    /// and nothing was done.
    UnsafeJournal {
        /// The journal file.
        path: PathBuf,
        /// What exactly is wrong ("is a symbolic link", "owned by uid 65534", …).
        problem: String,
    },
    /// Opening, writing or syncing the journal failed.
    Journal {
        /// The journal file.
        path: PathBuf,
        /// What was being done.
        what: &'static str,
        /// What the system said.
        source: io::Error,
    },
    /// A setting the executor cannot use (`batch_size` 0, a rate that is not a positive
    /// number).
    Setting {
        /// The setting's name.
        name: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// postsuper could not be asked or run (a version check, a batch that could not start).
    Postsuper(PostsuperError),
    /// A sink refused an event (the journal could not be written): the run stopped there.
    Sink(Box<Error>),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::UnsafeJournal { path, problem } => write!(
                f,
                "refusing to write the journal {}: {problem} (use --journal FILE or --no-journal)",
                path.display()
            ),
            Error::Journal { path, what, source } => write!(
                f,
                "{what} the journal {}: {source} (use --journal FILE or --no-journal)",
                path.display()
            ),
            Error::Setting { name, detail } => write!(f, "{name}: {detail}"),
            Error::Postsuper(e) => write!(f, "{e}"),
            Error::Sink(e) => write!(f, "stopped: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Journal { source, .. } => Some(source),
            Error::Postsuper(e) => Some(e),
            Error::Sink(e) => Some(e),
            _ => None,
        }
    }
}

impl From<PostsuperError> for Error {
    fn from(e: PostsuperError) -> Error {
        Error::Postsuper(e)
    }
}
