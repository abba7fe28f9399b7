//! The crate's error: what went wrong talking to a Postfix program, with the command line or
//! the file it concerns. Context is added by wrapping (as `ignore::Error::WithPath`), not by
//! formatting strings, so a caller can still tell a missing program from a refusal.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Why a Postfix program or its configuration could not give an answer.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The program could not be started (missing, not executable) or its pipes failed.
    Spawn {
        /// The command line, as a person would type it.
        command: String,
        /// What the system said.
        source: io::Error,
    },
    /// The program ran and reported failure (exit status and its stderr).
    Failed {
        /// The command line.
        command: String,
        /// Exit status and the program's own words.
        detail: String,
    },
    /// The program's output was not what it prints.
    Output {
        /// The command line.
        command: String,
        /// What was unexpected.
        detail: String,
    },
    /// A configuration value qsurgeon cannot use.
    Config {
        /// The parameter (`hash_queue_depth`, `mydestination`, …).
        param: String,
        /// What is wrong with it.
        detail: String,
    },
    /// A file named by the configuration could not be read.
    Read {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// Another error, with what was being done when it happened.
    Context {
        /// What was being done.
        context: String,
        /// The error.
        source: Box<Error>,
    },
}

impl Error {
    /// Wraps `self` with what was being done.
    pub fn context(self, context: impl Into<String>) -> Error {
        Error::Context {
            context: context.into(),
            source: Box::new(self),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Spawn { command, source } => write!(f, "cannot run `{command}`: {source}"),
            Error::Failed { command, detail } => write!(f, "`{command}` failed: {detail}"),
            Error::Output { command, detail } => write!(f, "`{command}`: {detail}"),
            Error::Config { param, detail } => write!(f, "{param}: {detail}"),
            Error::Read { path, source } => write!(f, "read {}: {source}", path.display()),
            Error::Context { context, source } => write!(f, "{context}: {source}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Spawn { source, .. } | Error::Read { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// `.context(...)` for results of this crate, as anyhow spells it.
pub(crate) trait Context<T> {
    fn with_context<S: Into<String>>(self, context: impl FnOnce() -> S) -> Result<T, Error>;
}

impl<T> Context<T> for Result<T, Error> {
    fn with_context<S: Into<String>>(self, context: impl FnOnce() -> S) -> Result<T, Error> {
        self.map_err(|e| e.context(context()))
    }
}
