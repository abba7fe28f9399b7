//! Decoding errors: small, hand-written and positioned.
//!
//! An [`Error`] says what went wrong ([`ErrorKind`]), at which byte offset of
//! the file, and for which record type when one was being read. It never
//! knows the file's path: the scanning layer wraps it with one.

use std::fmt;

/// A positioned decoding error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    offset: u64,
    record_type: Option<u8>,
}

/// What went wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file ended inside a record's length bytes.
    TruncatedLength,
    /// The file ended inside a record's payload.
    TruncatedPayload {
        /// The length the record announced.
        len: u64,
    },
    /// A record length used more than Postfix's four length bytes.
    TooManyLengthBytes,
    /// A `p` record whose value is not a decimal offset.
    MalformedPointer,
    /// More than 10,000 backward jumps, as `rec_goto` counts them.
    TooManyReverseJumps,
    /// Pointer records form a loop (more records read than the file holds).
    PointerLoop,
    /// The bytes needed are not in the partial view the caller supplied;
    /// read the whole file and decode again.
    NotLoaded,
    /// The file ended before the `E` record.
    MissingEnd,
    /// A record type that is not allowed in its segment.
    UnexpectedRecord,
    /// The `C` size record is malformed or inconsistent with the file.
    BadSizeRecord,
    /// The first byte is not a possible first record type.
    NotAQueueFile,
}

/// A `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An error of `kind` at byte `offset`, for a record of `record_type`.
    pub fn new(kind: ErrorKind, offset: u64, record_type: Option<u8>) -> Error {
        Error {
            kind,
            offset,
            record_type,
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The byte offset in the file where the problem was found.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The type byte of the record being read, when known.
    pub fn record_type(&self) -> Option<u8> {
        self.record_type
    }

    /// True when the caller should supply the whole file and try again.
    pub fn is_not_loaded(&self) -> bool {
        self.kind == ErrorKind::NotLoaded
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ErrorKind::TruncatedLength => write!(f, "unexpected end of file in record length"),
            ErrorKind::TruncatedPayload { len } => {
                write!(f, "unexpected end of file in record data (length {len})")
            }
            ErrorKind::TooManyLengthBytes => write!(f, "record length has more than 4 bytes"),
            ErrorKind::MalformedPointer => write!(f, "malformed pointer record value"),
            ErrorKind::TooManyReverseJumps => write!(f, "too many reverse jump records"),
            ErrorKind::PointerLoop => write!(f, "pointer records form a loop"),
            ErrorKind::NotLoaded => write!(f, "data outside the part of the file that was read"),
            ErrorKind::MissingEnd => write!(f, "missing end record"),
            ErrorKind::UnexpectedRecord => write!(f, "record type not allowed here"),
            ErrorKind::BadSizeRecord => write!(f, "invalid size record"),
            ErrorKind::NotAQueueFile => write!(f, "not a valid queue file"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.record_type {
            Some(ty) => write!(
                f,
                "record {} ({}) at byte {}: {}",
                RecordTypeDisplay(ty),
                crate::rec_type::name(ty),
                self.offset,
                self.kind
            ),
            None => write!(f, "at byte {}: {}", self.offset, self.kind),
        }
    }
}

impl std::error::Error for Error {}

/// Shows a type byte as `'R'`, or as `0x07` when it is not printable.
struct RecordTypeDisplay(u8);

impl fmt::Display for RecordTypeDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_ascii_graphic() {
            write!(f, "'{}'", self.0 as char)
        } else {
            write!(f, "0x{:02x}", self.0)
        }
    }
}
