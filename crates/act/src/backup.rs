//! Backups of deleted messages (`delete --backup DIR`) and putting them back
//! into the queue (`restore DIR`).
//!
//! API: [`Backup::open`] then [`Backup::save_batch`] per postsuper batch;
//! [`RestorePlan::load`] (decides, changes nothing) then
//! [`RestorePlan::execute`] (re-injects, or only reports on a dry run), so
//! that the command can ask in between.
//!
//! # The backup directory
//!
//! ```text
//! DIR/manifest.jsonl     one JSON line per saved message, appended once per batch
//! DIR/<queue>/<name>     the queue file, byte for byte (queue: deferred, hold, active, …)
//! DIR/defer/<name>       its defer log, if it had one; likewise bounce/ and trace/
//! DIR/restored.jsonl     written by `restore`: one JSON line per message re-injected
//! ```
//!
//! `<name>` is the queue ID. If a *different* message with the same ID was
//! saved into the directory before (short queue IDs are reused), it is
//! `<ID>.2`, `<ID>.3`, …; saving the same bytes again reuses the name. No
//! file is ever overwritten, and there are no hash subdirectories. The
//! directory is created with mode 0700 and the files with 0600: they hold
//! other people's mail.
//!
//! # What is trusted
//!
//! qsurgeon runs as root; the queue belongs to the postfix user (less
//! trusted: a compromised Postfix daemon must not become root through us),
//! and a backup directory may have been prepared by anyone.
//!
//! - **The backup directory** must be the invoking user's (root's, when run
//!   as root), not group- or world-writable, and not a symlink; so must each
//!   subdirectory already in it, and `manifest.jsonl`/`restored.jsonl` must
//!   be regular files. Otherwise [`Backup::open`] (and [`RestorePlan::load`])
//!   refuse, naming the problem, before anything is deleted. A new directory
//!   is made with `mkdir` 0700. Everything below it is reached with
//!   `openat`/`mkdirat` from the directory's descriptor with `O_NOFOLLOW`;
//!   new files are created `O_CREAT|O_EXCL|O_NOFOLLOW` 0600. (Components
//!   *above* the directory are resolved normally: the directory named is the
//!   one checked.)
//! - **Queue files** are copied only if they are the file the scan selected:
//!   opened through `queue_scan::open` (the one safe open of what the
//!   postfix user controls: `openat` from the queue directory's descriptor
//!   with `O_NOFOLLOW|O_NONBLOCK|O_CLOEXEC`, no symlink followed on the way),
//!   `fstat`ed, a regular file with the scanned device and inode, read from
//!   that descriptor up to a limit ([`DEFAULT_QUEUE_FILE_LIMIT`], or
//!   [`Backup::set_queue_file_limit`]). Anything else (a symlink or another
//!   file swapped in, a FIFO, a file over the limit) is not saved, and the
//!   caller keeps the message.
//! - **Logs** (`defer`, `bounce`, `trace`) are opened the same way and read
//!   up to [`LOG_LIMIT`]. A log that is not a regular file (a symlink to
//!   `/etc/shadow` or `/dev/zero`, a FIFO) or is over the limit is **not
//!   copied, and the message is still saved and deleted**: the refusal is in
//!   the manifest (`logs_refused`) and in [`SavedMessage::refused_logs`].
//!   Why: a log holds only delivery-delay or bounce reasons (restore never
//!   uses it; postsuper deletes it with the message), while the queue file
//!   holds the mail. Keeping the message instead would let the postfix user
//!   make any message undeletable by planting a symlink next to it.
//!
//! A manifest line (`sender` and addresses are JSON strings, or
//! `{"bytes": base64}` when they are not UTF-8; a file that cannot be
//! decoded is still saved, with `decode_error` instead of the envelope;
//! `logs_refused` only when a log was not copied):
//!
//! ```json
//! {"format":2,"queue":"deferred","id":"4F2A81C0D3E","file":"deferred/4F2A81C0D3E",
//!  "logs":{"defer":"defer/4F2A81C0D3E"},"size":1834,"sha256":"9f86d0…",
//!  "mode":448,"saved_at":1795359400,
//!  "arrival_time":1795359329,"sender":"alice@example.org",
//!  "recipients":[{"address":"bob@example.net","state":"todo"}],
//!  "logs_refused":{"bounce":"is a symbolic link"}}
//! ```
//!
//! Manifests are read line by line: a line that is not UTF-8, not JSON or
//! not a manifest entry is named (`manifest.jsonl line N`) and skipped, the
//! rest is restored. A last line without its newline (a batch cut short by a
//! crash or a full disk; its messages were reported as not saved, so not
//! deleted) is skipped when reading and cut off by [`Backup::open`] before
//! the next append, so the new line starts on a line of its own.
//!
//! **A message counts as saved when its manifest line is on disk.** Each
//! batch writes and fsyncs every copy, fsyncs the directories once, then
//! appends all its manifest lines in one write and fsyncs the manifest.
//! [`Backup::save_batch`] reports success for an ID only after that, so the
//! caller deletes nothing whose copy could still be lost. Copies run on a
//! few threads (the fsyncs overlap); no process is started.
//!
//! # Restore: through `postdrop`, the way `sendmail` submits mail
//!
//! Before anything is injected, each saved file is verified against its
//! manifest line: size, SHA-256 (format 2), and the sender and to-do
//! recipients that will be injected (any format). A copy that differs is
//! named and not restored. `execute` reads each file again and injects it
//! only if its SHA-256 is still the one `load` verified.
//!
//! `restore` re-injects each saved message by running Postfix's
//! `postdrop -c CONFIG_DIR` (from `command_directory`, through
//! [`postfix::postdrop`]) and writing it the
//! record stream that `sendmail` writes (postfix `src/sendmail/sendmail.c`,
//! `enqueue`; accepted record types in `src/postdrop/postdrop.c`): the
//! envelope, then the content records `N`/`L` copied from the queue file in
//! logical order, `X`, `E`. postdrop creates the file in `maildrop`; pickup
//! and cleanup then queue it under a new queue ID, like any local
//! submission. qsurgeon itself writes nothing into the queue directory.
//!
//! Why not `sendmail -f SENDER -- RCPT…` with the content as text: sendmail
//! parses `-f` and each recipient as RFC 822 text (so every address would
//! need quoting and re-parsing, and a comma splits a recipient), drops a
//! leading `From ` line, strips CRs by heuristics, and can pass DSN options
//! only per message (`-N`, `-R`, `-V`). Through postdrop the sender and
//! recipients go in as Postfix's internal form, exactly as they were in the
//! queue file (the null sender, quoted local parts and UTF-8 addresses need
//! no quoting), the content records go in unchanged (only split where the
//! target's `line_length_limit` requires), and postdrop accepts the DSN
//! attributes per recipient. It is still one process per message: postdrop
//! takes exactly one message per run. That is fine for a restore.
//!
//! What a round trip keeps: the sender; the **to-do** recipients (done and
//! Milter-cancelled ones are left out, so nothing is delivered twice); per
//! recipient DSN `NOTIFY` and `ORCPT` (`notify_flags`, `dsn_orig_rcpt`); DSN
//! `ENVID` and `RET`; `BODY=` encoding; `rewrite_context`; VERP delimiters;
//! the sender full name; the headers and body. Postfix then treats it as
//! local mail from root: pickup adds a `Received: by … (Postfix, from
//! userid 0)` header, cleanup runs rewriting, `header_checks`, `body_checks`
//! and `non_smtpd_milters` again, and detects SMTPUTF8 itself
//! (`smtputf8_autodetect_classes` includes `sendmail`; so a message whose
//! only non-ASCII text is in its headers now goes out with `SMTPUTF8` to
//! servers that offer it, observed with Postfix 3.7.11).
//!
//! What it loses: the queue ID (a new one), the arrival time and
//! `create_time` (the expiry clock restarts), the queue it was in (held mail
//! is not held again, unless a `header_checks` HOLD rule fires again), `O`
//! original recipients (cleanup records the recipient itself; a DSN ORCPT
//! stays), the client and SASL attributes (`sasl_username`, `client_*`,
//! `log_*`), `trace_flags`, content filter and redirect records, the
//! delayed-mail warning time, the forced-expiry bit, and the defer/bounce
//! logs (kept in the backup for reading only).
//!
//! Two guards against sending a message twice: a message whose queue ID is
//! still in the queue with the same arrival time (it was saved but never
//! deleted) is skipped, and every re-injected message is recorded in
//! `restored.jsonl` (fsynced before the next one), so running `restore`
//! again skips what it already did. When one message was saved several
//! times (same ID and arrival time), only its last copy is restored.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::fs::{self, File, Metadata};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, FileExt, MetadataExt};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use postfix::postdrop::{postdrop_stream, run_postdrop, StreamError};
use postfix::Postfix;
use queue_file::quote::quote_822_local;
use queue_file::{Envelope, FileView, RecipientState};
use queue_scan::open::{self as safe_open, FileKind, OpenErrorKind};
use queue_scan::{is_valid_queue_id, QueueLayout};
use rustix::fs::{AtFlags, Mode, OFlags};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use printer::json::string_or_bytes;

/// The manifest's name in the backup directory.
pub const MANIFEST: &str = "manifest.jsonl";
/// What `restore` has re-injected, in the backup directory.
pub const RESTORED: &str = "restored.jsonl";
/// The version of the manifest line format (2: with `sha256`).
const FORMAT: u64 = 2;
/// The logfile kinds a message can have (postfix-queue-format.md §5.1).
pub const LOG_KINDS: [&str; 3] = ["defer", "bounce", "trace"];
/// Every subdirectory a saved file can be in; a name is given to one
/// message only if no file of that name exists in any of them.
const SUBDIRS: [&str; 9] = [
    "maildrop", "incoming", "active", "deferred", "hold", "corrupt", "defer", "bounce", "trace",
];
/// Copies run on at most this many threads (they mostly wait for fsync).
const MAX_WORKERS: usize = 8;
/// The largest queue file copied unless [`Backup::set_queue_file_limit`] says
/// otherwise: well above Postfix's default `message_size_limit` (10 MB) plus
/// a large envelope, and small enough that eight workers cannot exhaust memory.
pub const DEFAULT_QUEUE_FILE_LIMIT: u64 = 512 << 20;
/// The largest defer/bounce/trace log copied. Postfix's own readers of these
/// logs (`bounce_log_read`, postfix `src/global/bounce_log.c`) read them a
/// record at a time; a log beyond this is not a log Postfix wrote.
pub const LOG_LIMIT: u64 = queue_scan::open::LOG_FILE_LIMIT;
/// The longest manifest or `restored.jsonl` line read (a message with very
/// many recipients has a long line; a line beyond this is not ours).
const LINE_LIMIT: usize = 256 << 20;

// ---- errors ---------------------------------------------------------------

/// What went wrong saving or restoring, with the path it concerns.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A backup directory (or a file in it) qsurgeon refuses to use: owned by
    /// someone else, group- or world-writable, a symbolic link, not a
    /// directory or not a regular file.
    Unsafe {
        /// The directory or file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// The backup directory is inside the queue directory.
    InsideQueue {
        /// The backup directory as resolved.
        path: PathBuf,
        /// The queue directory.
        queue_dir: PathBuf,
    },
    /// An existing non-empty directory without a manifest.
    NotABackup {
        /// The directory.
        path: PathBuf,
    },
    /// A system call failed.
    Io {
        /// What was being done (`open`, `read`, `create`, `fsync`, …).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// The queue file is not the one the scan selected (another device or
    /// inode, a symbolic link, not a regular file): not saved.
    Changed {
        /// The queue file.
        path: PathBuf,
        /// What differs.
        detail: String,
    },
    /// A file larger than the limit for its kind.
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit in bytes.
        limit: u64,
    },
    /// An item that cannot be saved as given (bad queue ID, queue name).
    Invalid {
        /// The queue ID as given.
        id: String,
        /// What is wrong.
        detail: String,
    },
    /// The message was copied, but its batch could not be made durable or
    /// recorded (an fsync or the manifest append failed).
    NotSaved {
        /// The queue ID.
        id: String,
        /// Why the batch failed (the same for every message of the batch).
        reason: String,
    },
    /// A line of a manifest or of `restored.jsonl` that cannot be used.
    BadLine {
        /// The file.
        path: PathBuf,
        /// The line number (from 1).
        line: usize,
        /// What is wrong with it.
        detail: String,
    },
    /// A saved file that is not what its manifest line says.
    Verify {
        /// The saved file.
        path: PathBuf,
        /// What differs.
        detail: String,
    },
    /// A saved file that cannot be re-injected.
    Stream {
        /// The saved file.
        path: PathBuf,
        /// Why.
        source: StreamError,
    },
    /// postconf or postdrop failed.
    Postfix(postfix::Error),
}

impl Error {
    fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Error {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }
    fn unsafe_(path: impl Into<PathBuf>, problem: impl Into<String>) -> Error {
        Error::Unsafe {
            path: path.into(),
            problem: problem.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Unsafe { path, problem } => {
                write!(f, "refusing {}: {problem}", path.display())
            }
            Error::InsideQueue { path, queue_dir } => write!(
                f,
                "backup directory {} is inside the queue directory {}: qsurgeon never writes there",
                path.display(),
                queue_dir.display()
            ),
            Error::NotABackup { path } => write!(
                f,
                "{} is not empty and has no {MANIFEST}: not a qsurgeon backup directory",
                path.display()
            ),
            Error::Io {
                action,
                path,
                source,
            } => write!(f, "{action} {}: {source}", path.display()),
            Error::Changed { path, detail } => {
                write!(f, "{}: {detail}: not saved", path.display())
            }
            Error::TooLarge { path, limit } => write!(
                f,
                "{}: larger than {limit} bytes, the limit for this kind of file",
                path.display()
            ),
            Error::Invalid { id, detail } => write!(f, "{id:?}: {detail}"),
            Error::NotSaved { id, reason } => write!(f, "{id}: not saved: {reason}"),
            Error::BadLine { path, line, detail } => {
                write!(f, "{} line {line}: {detail}", path.display())
            }
            Error::Verify { path, detail } => {
                write!(
                    f,
                    "{}: {detail}: changed since it was saved",
                    path.display()
                )
            }
            Error::Stream { path, source } => write!(f, "{}: {source}", path.display()),
            Error::Postfix(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            Error::Stream { source, .. } => Some(source),
            Error::Postfix(e) => Some(e),
            _ => None,
        }
    }
}

impl From<postfix::Error> for Error {
    fn from(e: postfix::Error) -> Error {
        Error::Postfix(e)
    }
}

// ---- opening files safely ---------------------------------------------------
//
// Everything below a backup directory is reached from the directory's
// descriptor (openat/mkdirat, O_NOFOLLOW). Everything the postfix user
// controls (queue files, logs) is opened and read through
// `queue_scan::open`, the one implementation of that (O_NOFOLLOW,
// O_NONBLOCK, fstat, bounded reads); the backup directory's own files are
// opened and read with its `open_regular_at` and `read_bounded` too.

const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

/// What an `openat` with `O_NOFOLLOW` error means for a person.
fn open_problem(e: &io::Error) -> Option<&'static str> {
    match e.raw_os_error() {
        Some(code) if code == rustix::io::Errno::LOOP.raw_os_error() => Some("is a symbolic link"),
        Some(code) if code == rustix::io::Errno::NOTDIR.raw_os_error() => {
            Some("is not a directory")
        }
        Some(code) if code == rustix::io::Errno::NXIO.raw_os_error() => Some("is a FIFO or socket"),
        _ => None,
    }
}

fn openat(dir: BorrowedFd<'_>, name: &str, flags: OFlags, mode: u32) -> io::Result<OwnedFd> {
    rustix::fs::openat(dir, name, flags, Mode::from_raw_mode(mode)).map_err(io::Error::from)
}

/// The user qsurgeon runs as: directories it writes into must be theirs.
fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// An existing directory qsurgeon may write into: owned by the user it runs
/// as (root), not writable by group or others.
fn check_dir(meta: &Metadata, path: &Path) -> Result<(), Error> {
    if !meta.is_dir() {
        return Err(Error::unsafe_(path, "not a directory"));
    }
    let me = euid();
    if meta.uid() != me {
        return Err(Error::unsafe_(
            path,
            format!(
                "owned by uid {}, not by uid {me} (the user running qsurgeon)",
                meta.uid()
            ),
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(Error::unsafe_(
            path,
            format!(
                "writable by {} (mode {:o})",
                if meta.mode() & 0o002 != 0 {
                    "everyone"
                } else {
                    "its group"
                },
                meta.mode() & 0o7777
            ),
        ));
    }
    Ok(())
}

/// Opens the backup directory `path` (creating it, mode 0700, when `create`
/// and it does not exist) and checks it: not a symlink, a directory, owned by
/// the invoking user, not group- or world-writable.
fn open_backup_dir(path: &Path, create: bool) -> Result<OwnedFd, Error> {
    if create {
        match fs::symlink_metadata(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(path)
                .map_err(|e| Error::io("create", path, e))?,
            _ => {}
        }
    }
    let fd = rustix::fs::openat(rustix::fs::CWD, path, DIR_FLAGS, Mode::empty())
        .map_err(io::Error::from)
        .map_err(|e| {
            // O_DIRECTORY|O_NOFOLLOW on a symlink says ENOTDIR: say which.
            let link = fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
            match open_problem(&e) {
                Some(_) if link => Error::unsafe_(path, "is a symbolic link"),
                Some(problem) => Error::unsafe_(path, problem),
                None => Error::io("open", path, e),
            }
        })?;
    let meta = metadata(&fd).map_err(|e| Error::io("stat", path, e))?;
    check_dir(&meta, path)?;
    Ok(fd)
}

/// `fstat` on a descriptor.
fn metadata(fd: &OwnedFd) -> io::Result<Metadata> {
    File::from(fd.try_clone()?).metadata()
}

/// `DIR/name` as a checked subdirectory, created (0700) if needed.
fn subdir_at(dir: BorrowedFd<'_>, dir_path: &Path, name: &str) -> Result<OwnedFd, Error> {
    let path = dir_path.join(name);
    match rustix::fs::mkdirat(dir, name, Mode::from_raw_mode(0o700)) {
        Ok(()) | Err(rustix::io::Errno::EXIST) => {}
        Err(e) => return Err(Error::io("create", path, e.into())),
    }
    let fd = openat(dir, name, DIR_FLAGS, 0).map_err(|e| dir_open_error(dir, name, &path, e))?;
    let meta = metadata(&fd).map_err(|e| Error::io("stat", &path, e))?;
    check_dir(&meta, &path)?;
    Ok(fd)
}

/// The error for a directory `name` in `dir` that `openat(O_DIRECTORY |
/// O_NOFOLLOW)` refused: Linux says ENOTDIR for a symlink too, so look.
fn dir_open_error(dir: BorrowedFd<'_>, name: &str, path: &Path, e: io::Error) -> Error {
    let link = rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW).is_ok_and(|st| {
        rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Symlink
    });
    match open_problem(&e) {
        Some(_) if link => Error::unsafe_(path, "is a symbolic link"),
        Some(problem) => Error::unsafe_(path, problem),
        None => Error::io("open", path, e),
    }
}

/// What is already in a backup directory must be ours too, before anything
/// is written or deleted: each subdirectory a checked directory (not a
/// symlink, ours, not group- or world-writable), the restore record a
/// regular file.
fn check_contents(fd: BorrowedFd<'_>, dir: &Path) -> Result<(), Error> {
    for name in SUBDIRS {
        match rustix::fs::statat(fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(_) => drop(subdir_at(fd, dir, name)?),
            Err(rustix::io::Errno::NOENT) => {}
            Err(e) => return Err(Error::io("stat", dir.join(name), e.into())),
        }
    }
    match open_regular(fd, RESTORED) {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(problem)) => Err(Error::unsafe_(dir.join(RESTORED), problem)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("open", dir.join(RESTORED), e)),
    }
}

/// Opens `name` in `dir` for reading without following a symlink or
/// blocking on a FIFO (`queue_scan::open::open_regular_at`); only a regular
/// file is returned, anything else is `Ok(Err(problem))`.
fn open_regular(
    dir: BorrowedFd<'_>,
    name: &str,
) -> io::Result<Result<(File, safe_open::FileInfo), String>> {
    match safe_open::open_regular_at(dir, Path::new(name)) {
        Ok(opened) => Ok(Ok(opened)),
        Err(OpenErrorKind::NotFound) => Err(io::ErrorKind::NotFound.into()),
        Err(OpenErrorKind::NotRegular(kind)) => Ok(Err(not_regular(kind))),
        Err(OpenErrorKind::Io(e)) => Err(e),
        Err(other) => Err(io::Error::other(other.to_string())),
    }
}

/// The problem with a file that is not a regular file, for a person and
/// for the manifest (`logs_refused`).
fn not_regular(kind: FileKind) -> String {
    match kind {
        FileKind::Symlink => "is a symbolic link".into(),
        kind => format!("is not a regular file ({kind})"),
    }
}

/// Reads all of `file` (of `fstat` size `size_hint`) with
/// `queue_scan::open::read_bounded`: `None` when it has more than `limit`
/// bytes.
fn read_all_bounded(file: &File, size_hint: u64, limit: u64) -> io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    match safe_open::read_bounded(file, 0, size_hint, limit, &mut bytes) {
        Ok(()) => Ok(Some(bytes)),
        Err(OpenErrorKind::TooLarge { .. }) => Ok(None),
        Err(OpenErrorKind::Io(e)) => Err(e),
        Err(other) => Err(io::Error::new(
            io::ErrorKind::OutOfMemory,
            other.to_string(),
        )),
    }
}

/// An error of `queue_scan::open` as the `io::Error` an `Error::Io` holds.
fn open_error_io(kind: OpenErrorKind) -> io::Error {
    match kind {
        OpenErrorKind::NotFound => io::ErrorKind::NotFound.into(),
        OpenErrorKind::Io(e) => e,
        other => io::Error::other(other.to_string()),
    }
}

/// Lowercase hex.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Cuts a torn last line (no final newline: a write cut short by a crash or
/// a full disk) off an append-only JSON-lines file, so that the next append
/// starts on a line of its own. Returns how many bytes were cut.
fn truncate_torn_tail(file: &File, path: &Path) -> Result<u64, Error> {
    let len = file
        .metadata()
        .map_err(|e| Error::io("stat", path, e))?
        .len();
    let mut end = len;
    let mut chunk = vec![0u8; 64 << 10];
    while end > 0 {
        let start = end.saturating_sub(chunk.len() as u64);
        let buf = &mut chunk[..(end - start) as usize];
        file.read_exact_at(buf, start)
            .map_err(|e| Error::io("read", path, e))?;
        if let Some(i) = buf.iter().rposition(|b| *b == b'\n') {
            let keep = start + i as u64 + 1;
            if keep == len {
                return Ok(0);
            }
            end = keep;
            break;
        }
        end = start;
    }
    file.set_len(end)
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io("truncate the torn last line of", path, e))?;
    Ok(len - end)
}

/// Opens (or creates, 0600) an append-only JSON-lines file in the backup
/// directory: never through a symlink, only a regular file, its torn tail
/// cut. Returns the file and how many bytes were cut.
fn open_append(dir: BorrowedFd<'_>, dir_path: &Path, name: &str) -> Result<(File, u64), Error> {
    let path = dir_path.join(name);
    // Read too: a torn tail is found by reading back from the end.
    let flags = OFlags::RDWR
        | OFlags::APPEND
        | OFlags::CREATE
        | OFlags::NOFOLLOW
        | OFlags::NONBLOCK
        | OFlags::CLOEXEC;
    let fd = openat(dir, name, flags, 0o600).map_err(|e| match open_problem(&e) {
        Some(problem) => Error::unsafe_(&path, problem),
        None => Error::io("open", &path, e),
    })?;
    let file = File::from(fd);
    let meta = file.metadata().map_err(|e| Error::io("stat", &path, e))?;
    if !meta.is_file() {
        let kind = safe_open::FileKind::of_mode(meta.mode()).unwrap_or(FileKind::Unknown);
        return Err(Error::unsafe_(&path, not_regular(kind)));
    }
    if meta.nlink() != 1 {
        return Err(Error::unsafe_(&path, "has more than one link"));
    }
    let cut = truncate_torn_tail(&file, &path)?;
    Ok((file, cut))
}

/// One line of a JSON-lines file, as read.
enum Line {
    /// A complete line (newline removed), valid UTF-8.
    Text(String),
    /// A problem with the line, for a person.
    Bad(String),
    /// The last line had no newline: a write cut short.
    Torn,
}

/// Reads a JSON-lines file line by line (bounded), calling `each(number,
/// line)`: a line that is not UTF-8 or too long is reported, not fatal.
fn read_lines(file: File, path: &Path, mut each: impl FnMut(usize, Line)) -> Result<(), Error> {
    let mut reader = BufReader::new(file);
    let mut buf = Vec::new();
    let mut number = 0;
    loop {
        buf.clear();
        let n = (&mut reader)
            .take(LINE_LIMIT as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(|e| Error::io("read", path, e))?;
        if n == 0 {
            return Ok(());
        }
        number += 1;
        if buf.last() != Some(&b'\n') {
            if buf.len() <= LINE_LIMIT {
                each(number, Line::Torn);
                return Ok(());
            }
            // Skip the rest of an overlong line.
            loop {
                buf.clear();
                let n = (&mut reader)
                    .take(1 << 20)
                    .read_until(b'\n', &mut buf)
                    .map_err(|e| Error::io("read", path, e))?;
                if n == 0 || buf.last() == Some(&b'\n') {
                    break;
                }
            }
            each(number, Line::Bad(format!("longer than {LINE_LIMIT} bytes")));
            continue;
        }
        buf.pop();
        match std::str::from_utf8(&buf) {
            Ok(text) => each(number, Line::Text(text.to_string())),
            Err(e) => each(number, Line::Bad(format!("not UTF-8 ({e})"))),
        }
    }
}

// ---- backup -----------------------------------------------------------------

/// A backup directory opened for saving messages.
#[derive(Debug)]
pub struct Backup {
    dir: PathBuf,
    fd: OwnedFd,
    manifest: File,
    layout: QueueLayout,
    queue_file_limit: u64,
    torn_tail: u64,
}

/// One message to save, as the scan selected it.
#[derive(Clone, Debug)]
pub struct BackupItem<'a> {
    /// The queue it is in (`deferred`, `hold`, …): its file is
    /// `layout.path(queue, id)`.
    pub queue: &'a str,
    /// Its queue ID.
    pub id: &'a str,
    /// The device of the queue file the scan read (`st_dev`).
    pub dev: u64,
    /// Its inode (`st_ino`): only this file is copied.
    pub ino: u64,
}

/// What [`Backup::save_batch`] did with one message that is safely saved.
#[derive(Clone, Debug, Default)]
pub struct SavedMessage {
    /// Logs not copied, as `"defer: …/defer/A/ID is a symbolic link"`. The
    /// message is still saved: a log holds only delay or bounce reasons (see
    /// the module documentation); the manifest records each refusal.
    pub refused_logs: Vec<String>,
}

/// One message copied and fsynced, waiting for its manifest line.
struct Saved {
    line: Vec<u8>,
    dirs: Vec<&'static str>,
    refused_logs: Vec<String>,
}

impl Backup {
    /// Creates (mode 0700) or opens the backup directory `dir` and its
    /// manifest. Refuses, before anything is deleted: a directory inside the
    /// queue directory (qsurgeon never writes there); an existing directory
    /// that is a symlink, not owned by the invoking user (root), or group-
    /// or world-writable; a manifest that is a symlink or not a regular file;
    /// an existing non-empty directory without a manifest (a typo must not
    /// scatter mail into `/etc`). A torn last manifest line is cut.
    pub fn open(dir: &Path, layout: &QueueLayout) -> Result<Backup, Error> {
        let resolved = resolve(dir).map_err(|e| Error::io("resolve", dir, e))?;
        let queue_dir = layout.queue_dir();
        let queue = resolve(queue_dir).map_err(|e| Error::io("resolve", queue_dir, e))?;
        if resolved.starts_with(&queue) {
            return Err(Error::InsideQueue {
                path: dir.to_path_buf(),
                queue_dir: queue,
            });
        }
        // `dir` itself, not `resolved`: a symlink given as the directory is refused.
        let fd = open_backup_dir(dir, true)?;
        let manifest_path = dir.join(MANIFEST);
        match rustix::fs::statat(&fd, MANIFEST, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(_) => {}
            Err(rustix::io::Errno::NOENT) => {
                let mut entries = rustix::fs::Dir::read_from(&fd)
                    .map_err(|e| Error::io("read directory", dir, e.into()))?;
                let mut empty = true;
                for entry in entries.by_ref() {
                    let entry = entry.map_err(|e| Error::io("read directory", dir, e.into()))?;
                    let name = entry.file_name().to_bytes();
                    if name != b"." && name != b".." {
                        empty = false;
                        break;
                    }
                }
                if !empty {
                    return Err(Error::NotABackup {
                        path: dir.to_path_buf(),
                    });
                }
            }
            Err(e) => return Err(Error::io("stat", manifest_path, e.into())),
        }
        check_contents(fd.as_fd(), dir)?;
        let (manifest, torn_tail) = open_append(fd.as_fd(), dir, MANIFEST)?;
        // The manifest's own directory entry must survive a crash too.
        manifest
            .sync_all()
            .and_then(|()| File::from(fd.try_clone()?).sync_all())
            .map_err(|e| Error::io("fsync", &manifest_path, e))?;
        Ok(Backup {
            dir: dir.to_path_buf(),
            fd,
            manifest,
            layout: layout.clone(),
            queue_file_limit: DEFAULT_QUEUE_FILE_LIMIT,
            torn_tail,
        })
    }

    /// Queue files larger than `limit` bytes are not saved (so not deleted).
    /// Callers derive it from `message_size_limit`.
    pub fn set_queue_file_limit(&mut self, limit: u64) {
        self.queue_file_limit = limit;
    }

    /// How many bytes of a torn last manifest line [`Backup::open`] cut (0:
    /// none). A torn line is a batch that did not finish: none of its
    /// messages was deleted.
    pub fn torn_tail(&self) -> u64 {
        self.torn_tail
    }

    /// Copies the queue file and the logs of each message, before postsuper
    /// deletes them. Returns `(id, result)` for every item, in order: only an
    /// `Ok` message is safely saved (copies and manifest line fsynced); the
    /// caller must not delete the others. A queue file that is not the one
    /// the scan saw (device and inode), not a regular file, or larger than
    /// the limit is not saved. Plain file copies on a few threads, no
    /// process per message; directories and the manifest are fsynced once
    /// per batch.
    pub fn save_batch(
        &mut self,
        items: &[BackupItem],
    ) -> Vec<(String, Result<SavedMessage, Error>)> {
        let next = AtomicUsize::new(0);
        let workers = items.len().clamp(1, MAX_WORKERS);
        let this = &*self;
        let mut done: Vec<(usize, Result<Saved, Error>)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    scope.spawn(|| {
                        let mut out = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(item) = items.get(i) else { break };
                            out.push((i, this.save_one(item)));
                        }
                        out
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect()
        });
        done.sort_by_key(|(i, _)| *i);
        // A worker that panicked reported nothing for its items: they are
        // not saved (never silently missing, or the caller would delete them).
        if done.len() != items.len() {
            let have: HashSet<usize> = done.iter().map(|(i, _)| *i).collect();
            for (i, item) in items.iter().enumerate().filter(|(i, _)| !have.contains(i)) {
                done.push((
                    i,
                    Err(Error::Invalid {
                        id: item.id.to_string(),
                        detail: "the backup worker failed".into(),
                    }),
                ));
            }
            done.sort_by_key(|(i, _)| *i);
        }

        // New directory entries (files, and subdirectories in `self.dir`)
        // are durable only once their directories are fsynced.
        let mut dirs = BTreeSet::new();
        for saved in done.iter().filter_map(|(_, r)| r.as_ref().ok()) {
            dirs.extend(saved.dirs.iter().copied());
        }
        let mut batch_error: Option<Error> = None;
        if !dirs.is_empty() {
            for dir in dirs {
                let synced = openat(self.fd.as_fd(), dir, DIR_FLAGS, 0)
                    .and_then(|fd| File::from(fd).sync_all());
                if let Err(e) = synced {
                    batch_error = Some(Error::io("fsync", self.dir.join(dir), e));
                    break;
                }
            }
            if batch_error.is_none() {
                if let Err(e) = self.fd.try_clone().and_then(|fd| File::from(fd).sync_all()) {
                    batch_error = Some(Error::io("fsync", &self.dir, e));
                }
            }
        }
        if batch_error.is_none() {
            let lines: Vec<u8> = done
                .iter()
                .filter_map(|(_, r)| r.as_ref().ok())
                .flat_map(|s| s.line.iter().copied())
                .collect();
            if !lines.is_empty() {
                if let Err(e) = self
                    .manifest
                    .write_all(&lines)
                    .and_then(|()| self.manifest.sync_data())
                {
                    batch_error = Some(Error::io("append to", self.dir.join(MANIFEST), e));
                }
            }
        }
        let batch_error = batch_error.map(|e| e.to_string());
        done.into_iter()
            .map(|(i, result)| {
                let id = items[i].id.to_string();
                let result = match (result, &batch_error) {
                    (Ok(saved), None) => Ok(SavedMessage {
                        refused_logs: saved.refused_logs,
                    }),
                    (Ok(_), Some(e)) => Err(Error::NotSaved {
                        id: id.clone(),
                        reason: e.clone(),
                    }),
                    (Err(e), _) => Err(e),
                };
                (id, result)
            })
            .collect()
    }

    /// Copies one message's files (each fsynced) and returns its manifest
    /// line; the manifest itself is written by the caller.
    fn save_one(&self, item: &BackupItem) -> Result<Saved, Error> {
        let id = item.id;
        let invalid = |detail: String| Error::Invalid {
            id: id.to_string(),
            detail,
        };
        if !is_valid_queue_id(id) {
            return Err(invalid("not a valid queue ID".into()));
        }
        let Some(queue) = SUBDIRS[..6].iter().copied().find(|q| *q == item.queue) else {
            return Err(invalid(format!("not a queue name: {:?}", item.queue)));
        };
        let source = self.layout.path(queue, id);
        let queue_dir = safe_open::open_dir(self.layout.queue_dir())
            .map_err(|e| Error::io("open", self.layout.queue_dir(), open_error_io(e.kind)))?;
        let (bytes, mode) = self.read_queue_file(queue_dir.as_fd(), item, &source)?;

        // The logs: opened the same way; one that is not a regular file
        // (a symlink to /etc/shadow, /dev/zero, a FIFO) or too large is
        // not copied and the refusal is recorded.
        let mut logs = Vec::new();
        let mut refused = serde_json::Map::new();
        let mut refused_logs = Vec::new();
        for kind in LOG_KINDS {
            let path = self.layout.path(kind, id);
            let mut log = Vec::new();
            let problem =
                match safe_open::read_log_at(queue_dir.as_fd(), &self.layout, kind, id, &mut log) {
                    Ok(_) => {
                        logs.push((kind, log));
                        continue;
                    }
                    // Removed meanwhile (or never written): nothing to keep.
                    Err(e) if e.is_not_found() => continue,
                    Err(e) => match e.kind {
                        OpenErrorKind::NotRegular(kind) => not_regular(kind),
                        OpenErrorKind::TooLarge { .. } => format!("larger than {LOG_LIMIT} bytes"),
                        OpenErrorKind::Io(e) => format!("read: {e}"),
                        other => other.to_string(),
                    },
                };
            refused_logs.push(format!("{kind}: {} {problem}: not copied", path.display()));
            refused.insert(kind.to_string(), json!(problem));
        }

        let queue_fd = subdir_at(self.fd.as_fd(), &self.dir, queue)?;
        let name = self.store_message(queue_fd.as_fd(), queue, id, &bytes)?;
        let mut dirs = vec![queue];
        let mut log_files = serde_json::Map::new();
        for (kind, log) in &logs {
            let dir = subdir_at(self.fd.as_fd(), &self.dir, kind)?;
            match write_new(dir.as_fd(), &name, log) {
                Ok(()) => {}
                // The same message saved before: its earlier log stays.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => {
                    return Err(Error::io("copy to", self.dir.join(kind).join(&name), e));
                }
            }
            log_files.insert(kind.to_string(), json!(format!("{kind}/{name}")));
            dirs.push(kind);
        }

        let mut entry = json!({
            "format": FORMAT,
            "queue": queue,
            "id": id,
            "file": format!("{queue}/{name}"),
            "logs": log_files,
            "size": bytes.len(),
            "sha256": hex(&Sha256::digest(&bytes)),
            "mode": mode & 0o7777,
            "saved_at": now(),
        });
        if !refused.is_empty() {
            entry["logs_refused"] = Value::Object(refused);
        }
        describe_envelope(&bytes, &mut entry);
        let mut line = serde_json::to_vec(&entry).unwrap_or_default();
        line.push(b'\n');
        Ok(Saved {
            line,
            dirs,
            refused_logs,
        })
    }

    /// The queue file the scan selected, read through one descriptor opened
    /// from its queue directory: a regular file with the scanned device and
    /// inode, at most the limit. Returns its bytes and mode.
    fn read_queue_file(
        &self,
        queue_dir: BorrowedFd<'_>,
        item: &BackupItem,
        source: &Path,
    ) -> Result<(Vec<u8>, u32), Error> {
        let changed = |detail: String| Error::Changed {
            path: source.to_path_buf(),
            detail,
        };
        let (file, info) =
            match safe_open::open_queue_file_at(queue_dir, &self.layout, item.queue, item.id) {
                Ok(opened) => opened,
                Err(e) => {
                    return Err(match e.kind {
                        OpenErrorKind::NotRegular(kind) => changed(not_regular(kind)),
                        kind => Error::io("open", source, open_error_io(kind)),
                    })
                }
            };
        if (info.device, info.inode) != (item.dev, item.ino) {
            return Err(changed(format!(
                "device/inode {}/{}, the scan selected {}/{}: another file",
                info.device, info.inode, item.dev, item.ino
            )));
        }
        match read_all_bounded(&file, info.size, self.queue_file_limit) {
            Ok(Some(bytes)) => Ok((bytes, info.mode)),
            Ok(None) => Err(Error::TooLarge {
                path: source.to_path_buf(),
                limit: self.queue_file_limit,
            }),
            Err(e) => Err(Error::io("read", source, e)),
        }
    }

    /// Writes `bytes` as `<queue>/<name>` and returns the name: the ID, or
    /// `ID.2`, `ID.3`, … when a different message already has the ID. A
    /// copy with the same bytes is reused as it is.
    fn store_message(
        &self,
        queue_fd: BorrowedFd<'_>,
        queue: &str,
        id: &str,
        bytes: &[u8],
    ) -> Result<String, Error> {
        for n in 1u32.. {
            let name = if n == 1 {
                id.to_string()
            } else {
                format!("{id}.{n}")
            };
            let path = self.dir.join(queue).join(&name);
            match open_regular(queue_fd, &name) {
                Ok(Ok((file, info))) => {
                    let limit = bytes.len() as u64;
                    match read_all_bounded(&file, info.size, limit) {
                        Ok(Some(existing)) if existing == bytes => return Ok(name),
                        Ok(_) => continue,
                        Err(e) => return Err(Error::io("read", path, e)),
                    }
                }
                Ok(Err(_)) => continue,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io("open", path, e)),
            }
            let taken_elsewhere = SUBDIRS.iter().filter(|d| **d != queue).any(|d| {
                rustix::fs::statat(&self.fd, format!("{d}/{name}"), AtFlags::SYMLINK_NOFOLLOW)
                    .is_ok()
            });
            if taken_elsewhere {
                continue;
            }
            match write_new(queue_fd, &name, bytes) {
                Ok(()) => return Ok(name),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Error::io("copy to", path, e)),
            }
        }
        Err(Error::Invalid {
            id: id.to_string(),
            detail: "no free name left".into(),
        })
    }
}

/// Adds `arrival_time`, `sender` and `recipients` (or `decode_error`) to a
/// manifest entry. People and scripts read them; restore checks the saved
/// file's to-do recipients against them.
fn describe_envelope(bytes: &[u8], entry: &mut Value) {
    match Envelope::decode(FileView::whole(bytes)) {
        Ok(envelope) => {
            let recipients: Vec<Value> = envelope
                .recipients
                .iter()
                .map(|r| {
                    let state = match r.state {
                        RecipientState::Todo => "todo",
                        RecipientState::Done => "done",
                        RecipientState::Canceled => "canceled",
                    };
                    json!({ "address": string_or_bytes(r.address), "state": state })
                })
                .collect();
            entry["arrival_time"] = json!(envelope.arrival_time.map(|(sec, _)| sec));
            entry["sender"] = envelope.sender.map(string_or_bytes).unwrap_or(Value::Null);
            entry["recipients"] = Value::Array(recipients);
        }
        Err(e) => entry["decode_error"] = json!(e.to_string()),
    }
}

/// Creates `name` in `dir` (it must not exist; never through a symlink),
/// mode 0600, writes `bytes` and fsyncs it. A failed write removes the
/// partial file, so it cannot pass for a copy.
fn write_new(dir: BorrowedFd<'_>, name: &str, bytes: &[u8]) -> io::Result<()> {
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let mut file = File::from(openat(dir, name, flags, 0o600)?);
    let written = file.write_all(bytes).and_then(|()| file.sync_all());
    if written.is_err() {
        let _ = rustix::fs::unlinkat(dir, name, AtFlags::empty());
    }
    written
}

/// Seconds since the epoch.
fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The absolute, symlink-free form of `path`, which need not exist yet: the
/// longest existing prefix is canonicalized and the rest applied to it
/// (`..` included), so "inside the queue directory" cannot be dodged by a
/// symlink or a `..`.
fn resolve(path: &Path) -> io::Result<PathBuf> {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()?.join(path)
    };
    let components: Vec<Component> = absolute.components().collect();
    for split in (0..=components.len()).rev() {
        let prefix: PathBuf = components[..split].iter().collect();
        let mut resolved = match prefix.canonicalize() {
            Ok(p) => p,
            Err(e) if e.kind() == io::ErrorKind::NotFound && split > 0 => continue,
            Err(e) => return Err(e),
        };
        for component in &components[split..] {
            match component {
                Component::ParentDir => {
                    resolved.pop();
                }
                Component::Normal(name) => resolved.push(name),
                _ => {}
            }
        }
        return Ok(resolved);
    }
    Err(io::Error::new(
        io::ErrorKind::NotFound,
        "no existing prefix",
    ))
}

// ---- restore ------------------------------------------------------------

/// What `restore` needs to know about the Postfix instance.
#[derive(Clone, Debug)]
struct Target {
    postfix: Postfix,
    /// `line_length_limit`: postdrop refuses longer records.
    line_limit: usize,
    /// Where to look for messages that are still queued.
    layout: QueueLayout,
}

impl Target {
    fn from_postfix(postfix: &Postfix) -> Result<Target, Error> {
        let values = postfix.postconf(&[
            "queue_directory",
            "hash_queue_names",
            "hash_queue_depth",
            "line_length_limit",
        ])?;
        let number = |i: usize, param: &str| {
            values[i]
                .trim()
                .parse::<usize>()
                .map_err(|_| postfix::Error::Config {
                    param: param.into(),
                    detail: format!("not a number: {:?}", values[i]),
                })
        };
        let depth = number(2, "hash_queue_depth")?;
        let line_limit = number(3, "line_length_limit")?;
        Ok(Target {
            postfix: postfix.clone(),
            line_limit,
            layout: QueueLayout::new(PathBuf::from(&values[0]), &values[1], depth),
        })
    }
}

/// One saved message that `restore` will re-inject.
#[derive(Clone, Debug)]
pub struct PlannedMessage {
    /// The manifest's `file`, relative to the backup directory.
    pub file: String,
    /// The queue ID it had.
    pub id: String,
    /// Its sender (internal form; empty = null sender).
    pub sender: Vec<u8>,
    /// Its to-do recipients (internal form).
    pub recipients: Vec<Vec<u8>>,
    /// How many done or cancelled recipients are left out.
    pub left_out: usize,
    arrival: Option<(i64, i64)>,
    /// The SHA-256 of the bytes that were checked: `execute` re-reads the
    /// file and injects it only if it is still the same.
    sha256: [u8; 32],
}

/// What `restore` will do, before it does it (so the caller can ask).
#[derive(Debug)]
pub struct RestorePlan {
    dir: PathBuf,
    fd: OwnedFd,
    target: Target,
    /// The messages to re-inject, in manifest order.
    pub messages: Vec<PlannedMessage>,
    /// `(file, why)` of saved messages that will not be re-injected.
    pub skipped: Vec<(String, String)>,
    /// `(file, error)` of saved messages (or manifest lines) that cannot be
    /// read, decoded or verified.
    pub failed: Vec<(String, String)>,
}

/// What `restore` did.
#[derive(Debug, Default)]
pub struct RestoreReport {
    /// `(old ID, maildrop ID)` of every message handed to postdrop (the
    /// maildrop ID is empty on a dry run). pickup gives each a new queue ID.
    pub restored: Vec<(String, String)>,
    /// `(file, why)` of saved messages not re-injected.
    pub skipped: Vec<(String, String)>,
    /// `(file, error)` of saved messages that failed.
    pub failed: Vec<(String, String)>,
}

/// What `restore` reports as it goes.
#[derive(Clone, Debug)]
pub enum RestoreEvent {
    /// A message was re-injected (or would be, on a dry run): a line for stdout.
    Message(String),
    /// A saved message is not re-injected, and why.
    Skipped(String),
    /// A saved message could not be re-injected.
    Failed(String),
    /// A warning from postdrop (each distinct text once).
    Warning(String),
}

/// One line of `restored.jsonl`.
struct RestoredRecord {
    file: String,
    id: String,
    arrival: Option<(i64, i64)>,
}

/// What restore uses of a manifest line.
struct ManifestEntry {
    id: String,
    file: String,
    size: Option<u64>,
    sha256: Option<[u8; 32]>,
    /// The sender and to-do recipients as the manifest wrote them (JSON
    /// strings or `{"bytes": …}`), when it has them.
    sender: Option<Value>,
    todo: Option<Vec<Value>>,
}

impl RestorePlan {
    /// Reads the manifest line by line (a bad or torn line is named and
    /// skipped), reads and verifies every saved file (size, SHA-256, sender
    /// and to-do recipients against its manifest line) and decides what to
    /// re-inject: to-do recipients only; not what `restored.jsonl` lists,
    /// not what is still in the queue, and for a message saved several
    /// times only its last copy. The backup directory is checked as
    /// [`Backup::open`] checks it; its files are opened from its descriptor.
    pub fn load(dir: &Path, postfix: &Postfix) -> Result<RestorePlan, Error> {
        RestorePlan::load_with(dir, Target::from_postfix(postfix)?)
    }

    fn load_with(dir: &Path, target: Target) -> Result<RestorePlan, Error> {
        let fd = open_backup_dir(dir, false)?;
        check_contents(fd.as_fd(), dir)?;
        let manifest_path = dir.join(MANIFEST);
        let manifest = match open_regular(fd.as_fd(), MANIFEST) {
            Ok(Ok((file, _))) => file,
            Ok(Err(problem)) => return Err(Error::unsafe_(&manifest_path, problem)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(Error::NotABackup {
                    path: dir.to_path_buf(),
                })
            }
            Err(e) => return Err(Error::io("open", &manifest_path, e)),
        };
        let done = read_restored(fd.as_fd(), dir)?;
        let done_files: HashSet<String> = done.iter().map(|r| r.file.clone()).collect();
        let done_keys: HashSet<(String, Option<(i64, i64)>)> = done
            .iter()
            .filter(|r| r.arrival.is_some())
            .map(|r| (r.id.clone(), r.arrival))
            .collect();

        let mut plan = RestorePlan {
            dir: dir.to_path_buf(),
            fd,
            target,
            messages: Vec::new(),
            skipped: Vec::new(),
            failed: Vec::new(),
        };
        let mut seen_files = HashSet::new();
        let mut entries = Vec::new();
        read_lines(manifest, &manifest_path, |n, line| {
            let at = format!("{MANIFEST} line {n}");
            match line {
                Line::Text(text) if text.trim().is_empty() => {}
                Line::Text(text) => match parse_manifest_line(&text) {
                    Ok(entry) => entries.push(entry),
                    Err(e) => plan.failed.push((at, e)),
                },
                Line::Bad(e) => plan.failed.push((at, e)),
                // A batch cut short: save_batch reported its messages as
                // not saved, so they were not deleted.
                Line::Torn => plan.skipped.push((
                    at,
                    "torn (no newline): a batch that did not finish; its messages were kept in the queue".into(),
                )),
            }
        })?;
        for entry in entries {
            // The same copy listed twice (saved again with the same bytes).
            if !seen_files.insert(entry.file.clone()) {
                continue;
            }
            if done_files.contains(&entry.file) {
                plan.skipped.push((entry.file, "already restored".into()));
                continue;
            }
            let file = entry.file.clone();
            match plan.check(&entry) {
                Ok(Some(message)) if done_keys.contains(&(message.id.clone(), message.arrival)) => {
                    plan.skipped
                        .push((file, "already restored (an earlier copy)".into()));
                }
                Ok(Some(message)) => plan.messages.push(message),
                Ok(None) => {}
                Err(e) => plan.failed.push((file, e.to_string())),
            }
        }
        plan.keep_last_copies();
        Ok(plan)
    }

    /// Reads a saved file (`QUEUE/NAME`) from the backup directory's
    /// descriptor, never through a symlink, bounded.
    fn read_saved(&self, file: &str) -> Result<Vec<u8>, Error> {
        let path = self.dir.join(file);
        let (queue, name) = file.split_once('/').unwrap_or(("", file));
        let dir =
            openat(self.fd.as_fd(), queue, DIR_FLAGS, 0).map_err(|e| match open_problem(&e) {
                Some(problem) => Error::unsafe_(self.dir.join(queue), problem),
                None => Error::io("open", self.dir.join(queue), e),
            })?;
        let (f, info) = match open_regular(dir.as_fd(), name) {
            Ok(Ok(opened)) => opened,
            Ok(Err(problem)) => return Err(Error::unsafe_(&path, problem)),
            Err(e) => return Err(Error::io("open", &path, e)),
        };
        match read_all_bounded(&f, info.size, DEFAULT_QUEUE_FILE_LIMIT) {
            Ok(Some(bytes)) => Ok(bytes),
            Ok(None) => Err(Error::TooLarge {
                path,
                limit: DEFAULT_QUEUE_FILE_LIMIT,
            }),
            Err(e) => Err(Error::io("read", path, e)),
        }
    }

    /// Reads, verifies and decodes one saved file; `None` when it is skipped.
    fn check(&mut self, entry: &ManifestEntry) -> Result<Option<PlannedMessage>, Error> {
        let path = self.dir.join(&entry.file);
        let bytes = self.read_saved(&entry.file)?;
        let verify = |detail: String| Error::Verify {
            path: path.clone(),
            detail,
        };
        if let Some(size) = entry.size.filter(|s| *s != bytes.len() as u64) {
            return Err(verify(format!(
                "{} bytes, the manifest says {size}",
                bytes.len()
            )));
        }
        let sha256: [u8; 32] = Sha256::digest(&bytes).into();
        if let Some(want) = entry.sha256.filter(|want| *want != sha256) {
            return Err(verify(format!(
                "SHA-256 {}, the manifest says {}",
                hex(&sha256),
                hex(&want)
            )));
        }
        let envelope = Envelope::decode(FileView::whole(&bytes)).map_err(|e| Error::Stream {
            path: path.clone(),
            source: StreamError::Decode(e),
        })?;
        let sender = envelope.sender.ok_or_else(|| Error::Stream {
            path: path.clone(),
            source: StreamError::NoSender,
        })?;
        let recipients: Vec<Vec<u8>> = envelope
            .todo_recipients()
            .map(|r| r.address.to_vec())
            .collect();
        // What will be injected must be what was saved, hash or not (a
        // format-1 manifest has no hash): the sender and to-do recipients.
        if let Some(want) = &entry.sender {
            if string_or_bytes(sender) != *want {
                return Err(verify(format!(
                    "sender {}, the manifest says {want}",
                    string_or_bytes(sender)
                )));
            }
        }
        if let Some(want) = &entry.todo {
            let have: Vec<Value> = recipients.iter().map(|r| string_or_bytes(r)).collect();
            if have != *want {
                return Err(verify(format!(
                    "to-do recipients {}, the manifest says {}",
                    Value::Array(have),
                    Value::Array(want.clone())
                )));
            }
        }
        let left_out = envelope.recipients.len() - recipients.len();
        if recipients.is_empty() {
            self.skipped
                .push((entry.file.clone(), "no recipient left to deliver".into()));
            return Ok(None);
        }
        if let Some(queued) = self.still_queued(&entry.id, envelope.arrival_time) {
            self.skipped.push((
                entry.file.clone(),
                format!("still in the queue as {queued} (never deleted?)"),
            ));
            return Ok(None);
        }
        Ok(Some(PlannedMessage {
            file: entry.file.clone(),
            id: entry.id.clone(),
            sender: sender.to_vec(),
            recipients,
            left_out,
            arrival: envelope.arrival_time,
            sha256,
        }))
    }

    /// The queue file of the same message (same ID, same arrival time) if
    /// it is still in the queue. Read as the backup reads queue files: from
    /// the queue directory's descriptor, no symlinks, no FIFOs, bounded.
    fn still_queued(&self, id: &str, arrival: Option<(i64, i64)>) -> Option<String> {
        let found = safe_open::find_queue_file(&self.target.layout, id).ok()??;
        let relative = found.relative;
        let bytes =
            read_all_bounded(&found.file, found.info.size, DEFAULT_QUEUE_FILE_LIMIT).ok()??;
        let envelope = Envelope::decode(FileView::whole(&bytes)).ok()?;
        (arrival.is_some() && envelope.arrival_time == arrival)
            .then(|| relative.display().to_string())
    }

    /// Of several copies of one message (same ID and arrival time), keeps
    /// only the last saved one: an earlier copy may list recipients that
    /// were delivered before the later one was taken.
    fn keep_last_copies(&mut self) {
        let mut last: HashMap<(String, Option<(i64, i64)>), usize> = HashMap::new();
        for (i, m) in self.messages.iter().enumerate() {
            if m.arrival.is_some() {
                last.insert((m.id.clone(), m.arrival), i);
            }
        }
        let files: Vec<String> = self.messages.iter().map(|m| m.file.clone()).collect();
        let mut kept = Vec::with_capacity(self.messages.len());
        for (i, m) in std::mem::take(&mut self.messages).into_iter().enumerate() {
            match last.get(&(m.id.clone(), m.arrival)) {
                Some(&j) if j != i => self
                    .skipped
                    .push((m.file, format!("superseded by the later copy {}", files[j]))),
                _ => kept.push(m),
            }
        }
        self.messages = kept;
    }

    /// How many messages will be re-injected.
    pub fn len(&self) -> usize {
        self.messages.len()
    }

    /// True when there is nothing to re-inject.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// Re-injects every planned message through postdrop (or, with
    /// `dry_run`, only says what it would do), one postdrop process per
    /// message, recording each in `restored.jsonl` before the next. Each
    /// saved file is read again and injected only if its SHA-256 is still
    /// the one [`RestorePlan::load`] verified.
    pub fn execute(
        self,
        dry_run: bool,
        on_event: &mut dyn FnMut(RestoreEvent),
    ) -> Result<RestoreReport, Error> {
        let mut report = RestoreReport {
            skipped: self.skipped.clone(),
            failed: self.failed.clone(),
            ..RestoreReport::default()
        };
        for (file, why) in &report.skipped {
            on_event(RestoreEvent::Skipped(format!("{file}: skipped: {why}")));
        }
        for (file, error) in &report.failed {
            on_event(RestoreEvent::Failed(format!("{file}: {error}")));
        }
        let mut warned = HashSet::new();
        let mut log = None;
        for message in &self.messages {
            let summary = describe(message);
            let path = self.dir.join(&message.file);
            let stream = self.read_saved(&message.file).and_then(|bytes| {
                let sha256: [u8; 32] = Sha256::digest(&bytes).into();
                if sha256 != message.sha256 {
                    return Err(Error::Verify {
                        path: path.clone(),
                        detail: "changed since restore read it".into(),
                    });
                }
                postdrop_stream(&bytes, self.target.line_limit).map_err(|source| Error::Stream {
                    path: path.clone(),
                    source,
                })
            });
            let stream = match stream {
                Ok(stream) => stream,
                Err(e) => {
                    let error = e.to_string();
                    on_event(RestoreEvent::Failed(format!("{}: {error}", message.file)));
                    report.failed.push((message.file.clone(), error));
                    continue;
                }
            };
            if dry_run {
                on_event(RestoreEvent::Message(format!(
                    "{}: would restore: {summary}",
                    message.id
                )));
                report.restored.push((message.id.clone(), String::new()));
                continue;
            }
            let outcome = run_postdrop(&self.target.postfix, &stream)
                .map_err(Error::from)
                .and_then(|(new_id, warnings)| {
                    let log = match &mut log {
                        Some(log) => log,
                        None => log.insert(open_append(self.fd.as_fd(), &self.dir, RESTORED)?.0),
                    };
                    record_restored(log, &self.dir, message, &new_id)?;
                    Ok((new_id, warnings))
                });
            match outcome {
                Ok((new_id, warnings)) => {
                    for warning in warnings {
                        if warned.insert(warning.clone()) {
                            on_event(RestoreEvent::Warning(warning));
                        }
                    }
                    on_event(RestoreEvent::Message(format!(
                        "{}: restored as maildrop/{new_id}: {summary}",
                        message.id
                    )));
                    report.restored.push((message.id.clone(), new_id));
                }
                Err(e) => {
                    let error = e.to_string();
                    on_event(RestoreEvent::Failed(format!("{}: {error}", message.file)));
                    report.failed.push((message.file.clone(), error));
                }
            }
        }
        Ok(report)
    }
}

/// `from=<…> to=<…>,<…>` as postqueue quotes addresses, plus what is left out.
fn describe(message: &PlannedMessage) -> String {
    let quoted = |address: &[u8]| {
        let mut out = Vec::new();
        // quote_822_local would make the null sender `""`.
        if !address.is_empty() {
            quote_822_local(address, &mut out);
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    let to: Vec<String> = message
        .recipients
        .iter()
        .map(|r| format!("<{}>", quoted(r)))
        .collect();
    let mut text = format!("from=<{}> to={}", quoted(&message.sender), to.join(","));
    if message.left_out > 0 {
        text.push_str(&format!(
            " ({} done recipient{} left out)",
            message.left_out,
            if message.left_out == 1 { "" } else { "s" }
        ));
    }
    text
}

/// What restore uses of a manifest line; `file` must stay inside the
/// backup directory (`QUEUE/NAME`).
fn parse_manifest_line(line: &str) -> Result<ManifestEntry, String> {
    let value: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let field = |name: &str| {
        value
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("no {name:?} string"))
    };
    let id = field("id")?.to_string();
    let file = field("file")?.to_string();
    let relative = Path::new(&file);
    if !relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
        || relative.components().count() != 2
    {
        return Err(format!(
            "file {file:?} is not QUEUE/NAME inside the backup directory"
        ));
    }
    let sha256 = match value.get("sha256") {
        None => None,
        Some(v) => Some(
            v.as_str()
                .and_then(parse_sha256)
                .ok_or_else(|| format!("sha256 {v} is not 64 hex digits"))?,
        ),
    };
    let todo = value.get("recipients").and_then(Value::as_array).map(|rs| {
        rs.iter()
            .filter(|r| r.get("state").and_then(Value::as_str) == Some("todo"))
            .filter_map(|r| r.get("address").cloned())
            .collect()
    });
    Ok(ManifestEntry {
        id,
        file,
        size: value.get("size").and_then(Value::as_u64),
        sha256,
        sender: value.get("sender").filter(|s| !s.is_null()).cloned(),
        todo,
    })
}

fn parse_sha256(text: &str) -> Option<[u8; 32]> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks(2).enumerate() {
        let digit = |b: u8| (b as char).to_digit(16);
        out[i] = (digit(pair[0])? * 16 + digit(pair[1])?) as u8;
    }
    Some(out)
}

/// The lines of `restored.jsonl` (none when it does not exist yet). A torn
/// last line (a crash mid-write) names nothing; any other bad line is an
/// error: guessing could send mail twice.
fn read_restored(dir: BorrowedFd<'_>, dir_path: &Path) -> Result<Vec<RestoredRecord>, Error> {
    let path = dir_path.join(RESTORED);
    let file = match open_regular(dir, RESTORED) {
        Ok(Ok((file, _))) => file,
        Ok(Err(problem)) => return Err(Error::unsafe_(&path, problem)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("open", &path, e)),
    };
    let mut records = Vec::new();
    let mut first_error = None;
    read_lines(file, &path, |n, line| {
        let bad = |detail: String| Error::BadLine {
            path: path.clone(),
            line: n,
            detail,
        };
        let text = match line {
            Line::Text(text) if text.trim().is_empty() => return,
            Line::Text(text) => text,
            Line::Torn => return,
            Line::Bad(e) => {
                first_error.get_or_insert(bad(e));
                return;
            }
        };
        let value: Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                first_error.get_or_insert(bad(e.to_string()));
                return;
            }
        };
        let file = value.get("file").and_then(Value::as_str);
        let id = value.get("id").and_then(Value::as_str);
        let (Some(file), Some(id)) = (file, id) else {
            first_error.get_or_insert(bad("no \"file\" or \"id\"".into()));
            return;
        };
        let arrival = value
            .get("arrival_time")
            .and_then(Value::as_array)
            .and_then(|a| Some((a.first()?.as_i64()?, a.get(1)?.as_i64()?)));
        records.push(RestoredRecord {
            file: file.to_string(),
            id: id.to_string(),
            arrival,
        });
    })?;
    match first_error {
        Some(e) => Err(e),
        None => Ok(records),
    }
}

/// Appends and fsyncs one line of `restored.jsonl`.
fn record_restored(
    log: &mut File,
    dir: &Path,
    message: &PlannedMessage,
    new_id: &str,
) -> Result<(), Error> {
    let mut line = serde_json::to_vec(&json!({
        "file": message.file,
        "id": message.id,
        "arrival_time": message.arrival.map(|(s, u)| [s, u]),
        "maildrop_id": new_id,
        "restored_at": now(),
    }))
    .unwrap_or_default();
    line.push(b'\n');
    log.write_all(&line)
        .and_then(|()| log.sync_data())
        .map_err(|e| {
            Error::io(
                "handed to Postfix, but not recorded in",
                dir.join(RESTORED),
                io::Error::new(e.kind(), format!("{}: maildrop/{new_id}: {e}", message.id)),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    use queue_file::write::BuilderRecipient;
    use queue_file::QueueFileBuilder;

    /// A queue directory (default layout: `deferred/A/<id>`, `defer/A/<id>`,
    /// `hold/<id>`) in a temporary directory.
    struct Queue {
        _tmp: tempfile::TempDir,
        root: PathBuf,
        queue_dir: PathBuf,
        layout: QueueLayout,
    }

    impl Queue {
        fn new() -> Queue {
            let tmp = tempfile::tempdir().unwrap();
            let root = tmp.path().to_path_buf();
            let queue_dir = root.join("spool");
            fs::create_dir_all(&queue_dir).unwrap();
            Queue {
                _tmp: tmp,
                layout: QueueLayout::with_defaults(&queue_dir),
                root,
                queue_dir,
            }
        }

        fn put(&self, rel: &str, bytes: &[u8]) -> PathBuf {
            let path = self.queue_dir.join(rel);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, bytes).unwrap();
            path
        }

        /// The item the scan would hand over for `queue`/`id`: the file's
        /// device and inode as they are now.
        fn item<'a>(&self, queue: &'a str, id: &'a str) -> BackupItem<'a> {
            let meta = fs::symlink_metadata(self.layout.path(queue, id)).unwrap();
            BackupItem {
                queue,
                id,
                dev: meta.dev(),
                ino: meta.ino(),
            }
        }

        fn open(&self, dir: &Path) -> Result<Backup, Error> {
            Backup::open(dir, &self.layout)
        }

        /// A restore target that runs nothing (unit tests do not inject).
        fn target(&self) -> Target {
            Target {
                postfix: Postfix::with_directories(
                    PathBuf::from("/nonexistent/postconf"),
                    PathBuf::from("/nonexistent"),
                    None,
                ),
                line_limit: 2048,
                layout: self.layout.clone(),
            }
        }
    }

    fn message(sender: &[u8], rcpt: &[u8], arrival: i64) -> Vec<u8> {
        QueueFileBuilder::new(sender, arrival)
            .recipient(rcpt)
            .line(b"Subject: test")
            .line(b"")
            .line(b"body")
            .build()
    }

    fn manifest(dir: &Path) -> Vec<Value> {
        fs::read_to_string(dir.join(MANIFEST))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    /// Every name below `dir`, sorted (to show nothing was created).
    fn tree(dir: &Path) -> Vec<String> {
        let mut names = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in fs::read_dir(&d).unwrap() {
                let e = e.unwrap();
                names.push(e.path().strip_prefix(dir).unwrap().display().to_string());
                if e.file_type().unwrap().is_dir() {
                    stack.push(e.path());
                }
            }
        }
        names.sort();
        names
    }

    fn is_root() -> bool {
        euid() == 0
    }

    /// A root-only file standing in for `/etc/shadow`.
    fn secret(root: &Path) -> (PathBuf, Vec<u8>) {
        let path = root.join("shadow");
        let bytes = b"root:$6$secret:19000:0:99999:7:::\n".to_vec();
        fs::write(&path, &bytes).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        (path, bytes)
    }

    #[test]
    fn save_batch_copies_queue_files_and_logs_byte_for_byte() {
        let q = Queue::new();
        let one = message(b"alice@example.org", b"bob@example.net", 1_795_359_329);
        let two = message(b"", b"postmaster@example.net", 1_795_359_330);
        let log = b"<bob@example.net>: connect to 127.0.0.1[127.0.0.1]:1: Connection refused\n";
        let one_path = q.put("deferred/A/A45E798E3F5", &one);
        let log_path = q.put("defer/A/A45E798E3F5", log);
        q.put("hold/B12345", &two);
        let backup_dir = q.root.join("backup");
        let mut backup = q.open(&backup_dir).unwrap();
        let before = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let items = [
            q.item("deferred", "A45E798E3F5"),
            q.item("hold", "B12345"),
            // Gone since the scan.
            BackupItem {
                queue: "deferred",
                id: "C0FFEE123",
                dev: 1,
                ino: 1,
            },
        ];
        let results = backup.save_batch(&items);
        let after = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let ids: Vec<&str> = results.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["A45E798E3F5", "B12345", "C0FFEE123"]);
        assert!(results[0].1.is_ok(), "{:?}", results[0].1);
        assert!(results[1].1.is_ok(), "{:?}", results[1].1);
        let err = results[2].1.as_ref().unwrap_err().to_string();
        assert!(err.contains("deferred/C/C0FFEE123"), "{err}");

        assert_eq!(
            fs::read(backup_dir.join("deferred/A45E798E3F5")).unwrap(),
            one
        );
        assert_eq!(fs::read(backup_dir.join("defer/A45E798E3F5")).unwrap(), log);
        assert_eq!(fs::read(backup_dir.join("hold/B12345")).unwrap(), two);
        assert!(!backup_dir.join("bounce").exists());
        assert!(!backup_dir.join("deferred/C0FFEE123").exists());
        assert_eq!(mode(&backup_dir), 0o700);
        assert_eq!(mode(&backup_dir.join("deferred")), 0o700);
        assert_eq!(mode(&backup_dir.join("deferred/A45E798E3F5")), 0o600);
        assert_eq!(mode(&backup_dir.join(MANIFEST)), 0o600);

        let lines = manifest(&backup_dir);
        assert_eq!(lines.len(), 2, "only what was saved: {lines:?}");
        assert_eq!(lines[0]["format"], 2);
        assert_eq!(lines[0]["queue"], "deferred");
        assert_eq!(lines[0]["id"], "A45E798E3F5");
        assert_eq!(lines[0]["file"], "deferred/A45E798E3F5");
        assert_eq!(lines[0]["logs"], json!({"defer": "defer/A45E798E3F5"}));
        assert_eq!(lines[0]["size"], one.len());
        assert_eq!(lines[0]["sha256"], hex(&Sha256::digest(&one)));
        assert_eq!(lines[0]["sender"], "alice@example.org");
        assert_eq!(lines[0]["arrival_time"], 1_795_359_329);
        assert_eq!(
            lines[0]["recipients"],
            json!([{"address": "bob@example.net", "state": "todo"}])
        );
        assert!(lines[0].get("logs_refused").is_none());
        let saved_at = lines[0]["saved_at"].as_i64().unwrap();
        assert!((before..=after).contains(&saved_at), "{saved_at}");
        assert_eq!(lines[1]["file"], "hold/B12345");
        assert_eq!(lines[1]["sender"], "", "the null sender");
        // The sources are untouched.
        assert_eq!(fs::read(&one_path).unwrap(), one);
        assert_eq!(fs::read(&log_path).unwrap(), log);
    }

    #[test]
    fn a_reused_id_gets_a_new_name_and_the_same_bytes_reuse_theirs() {
        let q = Queue::new();
        let first = message(b"a@example.org", b"x@example.net", 1_795_359_329);
        let second = message(b"b@example.org", b"y@example.net", 1_795_999_999);
        let backup_dir = q.root.join("backup");
        let save = |bytes: &[u8]| {
            q.put("deferred/A/A45E798E3F5", bytes);
            q.put("defer/A/A45E798E3F5", b"log\n");
            let mut backup = q.open(&backup_dir).unwrap();
            let results = backup.save_batch(&[q.item("deferred", "A45E798E3F5")]);
            results.into_iter().for_each(|(_, r)| {
                r.unwrap();
            });
        };
        save(&first);
        save(&first);
        save(&second);
        let files: Vec<Value> = manifest(&backup_dir)
            .into_iter()
            .map(|l| l["file"].clone())
            .collect();
        assert_eq!(
            files,
            [
                "deferred/A45E798E3F5",
                "deferred/A45E798E3F5",
                "deferred/A45E798E3F5.2"
            ]
        );
        assert_eq!(
            fs::read(backup_dir.join("deferred/A45E798E3F5")).unwrap(),
            first
        );
        assert_eq!(
            fs::read(backup_dir.join("deferred/A45E798E3F5.2")).unwrap(),
            second
        );
        assert!(backup_dir.join("defer/A45E798E3F5.2").exists());
    }

    /// No file in a backup is ever overwritten: the same message saved again
    /// with a newer defer log keeps the log saved first.
    #[test]
    fn saving_a_message_again_overwrites_nothing() {
        let q = Queue::new();
        let bytes = message(b"a@example.org", b"x@example.net", 1_795_359_329);
        let backup_dir = q.root.join("backup");
        q.put("deferred/A/A45E798E3F5", &bytes);
        let mut backup = q.open(&backup_dir).unwrap();
        for log in [&b"first try\n"[..], b"first try\nsecond try\n"] {
            q.put("defer/A/A45E798E3F5", log);
            for (_, r) in backup.save_batch(&[q.item("deferred", "A45E798E3F5")]) {
                r.unwrap();
            }
        }
        assert_eq!(
            fs::read(backup_dir.join("defer/A45E798E3F5")).unwrap(),
            b"first try\n"
        );
        assert_eq!(manifest(&backup_dir).len(), 2);
    }

    /// A message saved from `deferred` and later another one under the same
    /// (reused) ID from `hold`: the second gets its own name, so that its
    /// defer log is its own and not the first one's (`defer/` is shared by
    /// every queue).
    #[test]
    fn a_reused_id_in_another_queue_gets_its_own_name_and_log() {
        let q = Queue::new();
        let first = message(b"a@example.org", b"x@example.net", 1_795_359_329);
        let second = message(b"b@example.org", b"y@example.net", 1_795_999_999);
        let backup_dir = q.root.join("backup");
        q.put("deferred/A/A45E798E3F5", &first);
        q.put("defer/A/A45E798E3F5", b"first log\n");
        let mut backup = q.open(&backup_dir).unwrap();
        for (_, r) in backup.save_batch(&[q.item("deferred", "A45E798E3F5")]) {
            r.unwrap();
        }
        fs::remove_file(q.queue_dir.join("deferred/A/A45E798E3F5")).unwrap();
        q.put("hold/A45E798E3F5", &second);
        q.put("defer/A/A45E798E3F5", b"second log\n");
        for (_, r) in backup.save_batch(&[q.item("hold", "A45E798E3F5")]) {
            r.unwrap();
        }
        let lines = manifest(&backup_dir);
        assert_eq!(lines[1]["file"], "hold/A45E798E3F5.2");
        assert_eq!(lines[1]["logs"]["defer"], "defer/A45E798E3F5.2");
        assert_eq!(
            fs::read(backup_dir.join("defer/A45E798E3F5.2")).unwrap(),
            b"second log\n"
        );
        assert_eq!(
            fs::read(backup_dir.join("defer/A45E798E3F5")).unwrap(),
            b"first log\n"
        );
    }

    #[test]
    fn a_backup_dir_inside_the_queue_dir_is_refused() {
        let q = Queue::new();
        fs::create_dir_all(q.root.join("elsewhere")).unwrap();
        std::os::unix::fs::symlink(&q.queue_dir, q.root.join("link")).unwrap();
        for dir in [
            q.queue_dir.clone(),
            q.queue_dir.join("backup"),
            q.queue_dir.join("deferred/new/deeper"),
            q.root.join("elsewhere/../spool/backup"),
            // `..` after a name that does not exist yet.
            q.root.join("missing/../spool/backup"),
            q.root.join("link/backup"),
        ] {
            let err = q.open(&dir).unwrap_err();
            assert!(
                err.to_string().contains("inside the queue directory"),
                "{}: {err}",
                dir.display()
            );
        }
        // Nothing was created in the queue directory.
        assert_eq!(fs::read_dir(&q.queue_dir).unwrap().count(), 0);
        // Beside it is fine.
        q.open(&q.root.join("spool-backup")).unwrap();
    }

    #[test]
    fn a_non_empty_directory_without_a_manifest_is_refused() {
        let q = Queue::new();
        let dir = q.root.join("etc");
        fs::create_dir_all(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        fs::write(dir.join("passwd"), "root:x:0:0\n").unwrap();
        let err = q.open(&dir).unwrap_err();
        assert!(
            err.to_string().contains("not a qsurgeon backup directory"),
            "{err}"
        );
        assert_eq!(tree(&dir), ["passwd"]);
        // An existing empty directory, or an earlier backup, is fine.
        let empty = q.root.join("empty");
        fs::create_dir_all(&empty).unwrap();
        fs::set_permissions(&empty, fs::Permissions::from_mode(0o700)).unwrap();
        q.open(&empty).unwrap();
        q.open(&empty).unwrap();
    }

    #[test]
    fn bad_ids_and_queue_names_are_refused_per_item() {
        let q = Queue::new();
        q.put("deferred/A/A1", &message(b"a@b", b"c@d", 1));
        let mut backup = q.open(&q.root.join("b")).unwrap();
        let good = q.item("deferred", "A1");
        let item = |queue, id| BackupItem { queue, id, ..good };
        let results = backup.save_batch(&[
            item("deferred", "../../x"),
            item("../etc", "A1"),
            item("defer", "A1"),
            item("deferred", "A1"),
        ]);
        let ok: Vec<bool> = results.iter().map(|(_, r)| r.is_ok()).collect();
        assert_eq!(ok, [false, false, false, true]);
    }

    // ---- a hostile backup directory ----------------------------------------

    /// Backup::open and RestorePlan::load_with refuse `dir`, naming `what`;
    /// nothing in `dir` changed.
    fn assert_refused(q: &Queue, dir: &Path, what: &str) {
        let before = tree(dir);
        let err = q.open(dir).unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(err, Error::Unsafe { .. }) && text.contains(what),
            "{}: {text}",
            dir.display()
        );
        let err = RestorePlan::load_with(dir, q.target()).unwrap_err();
        assert!(
            err.to_string().contains(what),
            "restore {}: {err}",
            dir.display()
        );
        assert_eq!(tree(dir), before, "nothing created in {}", dir.display());
    }

    #[test]
    fn a_backup_dir_owned_by_another_user_is_refused() {
        if !is_root() {
            eprintln!("skipped: needs root to chown");
            return;
        }
        let q = Queue::new();
        let (shadow, secret_bytes) = secret(&q.root);
        let dir = q.root.join("nobody");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
        // What the attacker planted: the manifest onto a root-only file, the
        // defer log directory onto a directory of theirs.
        let theirs = q.root.join("cron.d");
        fs::create_dir(&theirs).unwrap();
        std::os::unix::fs::symlink(&shadow, dir.join(MANIFEST)).unwrap();
        std::os::unix::fs::symlink(&theirs, dir.join("defer")).unwrap();
        std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).unwrap();
        assert_refused(&q, &dir, "owned by uid 65534");
        assert_eq!(fs::read(&shadow).unwrap(), secret_bytes);
        assert!(tree(&theirs).is_empty());
    }

    #[test]
    fn a_group_or_world_writable_or_symlinked_backup_dir_is_refused() {
        let q = Queue::new();
        for (mode, what) in [
            (0o770, "its group"),
            (0o707, "everyone"),
            (0o1777, "everyone"),
        ] {
            let dir = q.root.join(format!("dir{mode:o}"));
            fs::create_dir(&dir).unwrap();
            fs::set_permissions(&dir, fs::Permissions::from_mode(mode)).unwrap();
            assert_refused(&q, &dir, what);
        }
        let real = q.root.join("real");
        fs::create_dir(&real).unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o700)).unwrap();
        let link = q.root.join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert_refused(&q, &link, "is a symbolic link");
        assert!(tree(&real).is_empty());
    }

    #[test]
    fn planted_symlinks_in_a_root_owned_backup_dir_are_refused() {
        let q = Queue::new();
        let (shadow, secret_bytes) = secret(&q.root);
        let theirs = q.root.join("cron.d");
        fs::create_dir(&theirs).unwrap();
        for (name, target) in [
            (MANIFEST, &shadow),
            (MANIFEST, &theirs),
            ("defer", &theirs),
            ("deferred", &theirs),
            (RESTORED, &shadow),
            (RESTORED, &theirs),
        ] {
            let dir = q.root.join("backup");
            let _ = fs::remove_dir_all(&dir);
            // An earlier, good backup...
            q.open(&dir).unwrap();
            // ...with a symlink planted in it.
            let _ = fs::remove_file(dir.join(name));
            std::os::unix::fs::symlink(target, dir.join(name)).unwrap();
            let err = q.open(&dir).unwrap_err();
            assert!(
                err.to_string().contains(name) && err.to_string().ends_with("is a symbolic link"),
                "{name} -> {}: {err}",
                target.display()
            );
            let err = RestorePlan::load_with(&dir, q.target()).unwrap_err();
            assert!(
                err.to_string().contains(name) && err.to_string().ends_with("is a symbolic link"),
                "restore, {name} -> {}: {err}",
                target.display()
            );
            assert_eq!(fs::read(&shadow).unwrap(), secret_bytes);
            assert!(tree(&theirs).is_empty(), "{name}: {:?}", tree(&theirs));
        }
        // A FIFO or a hard link as the manifest: not a file of ours either.
        for (what, problem) in [("fifo", "a FIFO"), ("hard link", "more than one link")] {
            let dir = q.root.join("backup");
            let _ = fs::remove_dir_all(&dir);
            q.open(&dir).unwrap();
            fs::remove_file(dir.join(MANIFEST)).unwrap();
            if what == "fifo" {
                rustix::fs::mknodat(
                    rustix::fs::CWD,
                    dir.join(MANIFEST),
                    rustix::fs::FileType::Fifo,
                    Mode::from_raw_mode(0o600),
                    0,
                )
                .unwrap();
            } else {
                fs::hard_link(&shadow, dir.join(MANIFEST)).unwrap();
            }
            let err = q.open(&dir).unwrap_err();
            assert!(err.to_string().contains(problem), "{what}: {err}");
            assert_eq!(fs::read(&shadow).unwrap(), secret_bytes);
        }
        fs::remove_file(q.root.join("backup").join(MANIFEST)).unwrap();
        q.open(&q.root.join("backup")).unwrap();
        // restore's own record, opened for appending: never through a symlink.
        std::os::unix::fs::symlink(&shadow, q.root.join("backup").join(RESTORED)).unwrap();
        let dir = q.root.join("backup");
        let fd = open_backup_dir(&dir, false).unwrap();
        let err = open_append(fd.as_fd(), &dir, RESTORED).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert_eq!(fs::read(&shadow).unwrap(), secret_bytes);
    }

    /// What is wrong is named: a file given as the backup directory or
    /// planted as a subdirectory is not a directory, a socket planted as the
    /// manifest is a socket, and a directory that does not exist is the
    /// system's "No such file" (with the system's error as its source), not
    /// a refusal.
    #[test]
    fn what_is_wrong_with_a_backup_dir_is_named() {
        let q = Queue::new();
        let file = q.root.join("file");
        fs::write(&file, b"x").unwrap();
        let err = q.open(&file).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("refusing {}: is not a directory", file.display())
        );
        // Below a file (a typo in the path): the system's words.
        let below = file.join("backup");
        let err = q.open(&below).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("resolve {}: Not a directory (os error 20)", below.display())
        );
        let missing = q.root.join("missing");
        let err = RestorePlan::load_with(&missing, q.target()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "open {}: No such file or directory (os error 2)",
                missing.display()
            )
        );
        let source = std::error::Error::source(&err).expect("the system's error");
        assert_eq!(
            source.downcast_ref::<io::Error>().map(io::Error::kind),
            Some(io::ErrorKind::NotFound)
        );

        let dir = q.root.join("backup");
        q.open(&dir).unwrap();
        fs::write(dir.join("deferred"), b"x").unwrap();
        let err = q.open(&dir).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "refusing {}: is not a directory",
                dir.join("deferred").display()
            )
        );
        fs::remove_file(dir.join("deferred")).unwrap();
        fs::remove_file(dir.join(MANIFEST)).unwrap();
        let _socket = std::os::unix::net::UnixListener::bind(dir.join(MANIFEST)).unwrap();
        let err = q.open(&dir).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "refusing {}: is a FIFO or socket",
                dir.join(MANIFEST).display()
            )
        );
    }

    /// Errors keep their cause: postconf that cannot run, a saved file that
    /// is not a queue file.
    #[test]
    fn restore_errors_keep_their_cause() {
        let q = Queue::new();
        let dir = saved_backup(&q);
        let err = RestorePlan::load(&dir, &q.target().postfix).unwrap_err();
        assert!(matches!(err, Error::Postfix(_)), "{err}");
        let source = std::error::Error::source(&err).expect("postfix's error");
        assert_eq!(source.to_string(), err.to_string());

        let mut plan = RestorePlan::load_with(&dir, q.target()).unwrap();
        fs::write(dir.join("deferred/A1"), b"not a queue file").unwrap();
        let entry = ManifestEntry {
            id: "A1".into(),
            file: "deferred/A1".into(),
            size: None,
            sha256: None,
            sender: None,
            todo: None,
        };
        let err = plan.check(&entry).unwrap_err();
        assert!(matches!(err, Error::Stream { .. }), "{err}");
        let source = std::error::Error::source(&err).expect("the decode error");
        assert!(err.to_string().ends_with(&source.to_string()), "{err}");
    }

    #[test]
    fn a_defer_subdirectory_planted_after_open_keeps_the_message() {
        // The backup directory was checked at open; a symlink that appears
        // later (only root could put it there) is still not followed.
        let q = Queue::new();
        q.put("deferred/A/A1", &message(b"a@b", b"c@d", 1));
        q.put("defer/A/A1", b"log\n");
        let dir = q.root.join("backup");
        let mut backup = q.open(&dir).unwrap();
        let theirs = q.root.join("cron.d");
        fs::create_dir(&theirs).unwrap();
        std::os::unix::fs::symlink(&theirs, dir.join("defer")).unwrap();
        let results = backup.save_batch(&[q.item("deferred", "A1")]);
        let err = results[0].1.as_ref().unwrap_err().to_string();
        assert!(
            err.contains("defer") && err.contains("symbolic link"),
            "{err}"
        );
        assert!(tree(&theirs).is_empty());
        assert!(manifest(&dir).is_empty(), "not saved, so not deleted");
    }

    // ---- what the postfix user controls ------------------------------------

    #[test]
    fn a_queue_file_swapped_after_the_scan_is_not_saved() {
        let q = Queue::new();
        let (shadow, _) = secret(&q.root);
        let original = message(b"a@example.org", b"b@example.net", 1);
        for swap in ["another file", "a symlink", "a FIFO"] {
            let path = q.put("deferred/A/A1", &original);
            let scanned = q.item("deferred", "A1");
            // Between the scan and the backup the postfix user swaps it.
            if swap != "another file" {
                fs::remove_file(&path).unwrap();
            }
            match swap {
                "another file" => {
                    // Created before the old one goes, so a new inode.
                    let other = q.queue_dir.join("other");
                    fs::write(&other, message(b"x@y", b"evil@z", 2)).unwrap();
                    fs::rename(&other, &path).unwrap();
                }
                "a symlink" => std::os::unix::fs::symlink(&shadow, &path).unwrap(),
                _ => rustix::fs::mknodat(
                    rustix::fs::CWD,
                    &path,
                    rustix::fs::FileType::Fifo,
                    Mode::from_raw_mode(0o600),
                    0,
                )
                .unwrap(),
            }
            let dir = q.root.join(format!("backup-{}", swap.replace(' ', "-")));
            let mut backup = q.open(&dir).unwrap();
            let results = backup.save_batch(&[scanned]);
            let err = results[0].1.as_ref().unwrap_err();
            assert!(matches!(err, Error::Changed { .. }), "{swap}: {err}");
            assert!(err.to_string().contains("deferred/A/A1"), "{swap}: {err}");
            assert!(manifest(&dir).is_empty(), "{swap}");
            assert_eq!(tree(&dir), [MANIFEST], "{swap}: nothing copied");
            fs::remove_file(&path).unwrap();
        }
    }

    #[test]
    fn hostile_logs_are_not_copied_and_the_message_is_saved() {
        let q = Queue::new();
        let (shadow, _) = secret(&q.root);
        let bytes = message(b"a@example.org", b"b@example.net", 1);
        q.put("deferred/A/A1", &bytes);
        q.put("deferred/B/B2", &bytes);
        q.put("deferred/C/C3", &bytes);
        q.put("deferred/D/D4", &bytes);
        fs::create_dir_all(q.queue_dir.join("defer/A")).unwrap();
        fs::create_dir_all(q.queue_dir.join("defer/B")).unwrap();
        fs::create_dir_all(q.queue_dir.join("defer/C")).unwrap();
        fs::create_dir_all(q.queue_dir.join("defer/D")).unwrap();
        std::os::unix::fs::symlink(&shadow, q.queue_dir.join("defer/A/A1")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", q.queue_dir.join("defer/B/B2")).unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            q.queue_dir.join("defer/C/C3"),
            rustix::fs::FileType::Fifo,
            Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        // A sparse log of 64 GB: read up to the cap, never sized from st_size.
        let sparse = File::create(q.queue_dir.join("defer/D/D4")).unwrap();
        sparse.set_len(64 << 30).unwrap();
        let dir = q.root.join("backup");
        let mut backup = q.open(&dir).unwrap();
        let items = [
            q.item("deferred", "A1"),
            q.item("deferred", "B2"),
            q.item("deferred", "C3"),
            q.item("deferred", "D4"),
        ];
        let results = backup.save_batch(&items);
        let refusals: Vec<String> = results
            .iter()
            .map(|(id, r)| {
                let saved = r.as_ref().unwrap_or_else(|e| panic!("{id}: {e}"));
                assert_eq!(saved.refused_logs.len(), 1, "{id}: {saved:?}");
                saved.refused_logs[0].clone()
            })
            .collect();
        assert!(
            refusals[0].contains("defer/A/A1 is a symbolic link"),
            "{refusals:?}"
        );
        assert!(
            refusals[1].contains("defer/B/B2 is a symbolic link"),
            "{refusals:?}"
        );
        assert!(refusals[2].contains("a FIFO"), "{refusals:?}");
        assert!(refusals[3].contains("larger than"), "{refusals:?}");
        let lines = manifest(&dir);
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0]["logs"], json!({}));
        assert_eq!(lines[0]["logs_refused"]["defer"], "is a symbolic link");
        assert_eq!(
            lines[2]["logs_refused"]["defer"],
            "is not a regular file (a FIFO)"
        );
        assert!(!dir.join("defer").exists(), "no log copied");
        for id in ["A1", "B2", "C3", "D4"] {
            assert_eq!(fs::read(dir.join("deferred").join(id)).unwrap(), bytes);
        }
    }

    #[test]
    fn a_queue_file_over_the_limit_is_not_saved() {
        let q = Queue::new();
        let path = q.put("hold/A1", &message(b"a@b", b"c@d", 1));
        // Sparse: 200 GB that take no room (the issue's planted hold file).
        File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(200 << 30)
            .unwrap();
        let dir = q.root.join("backup");
        let mut backup = q.open(&dir).unwrap();
        backup.set_queue_file_limit(1 << 20);
        let results = backup.save_batch(&[q.item("hold", "A1")]);
        let err = results[0].1.as_ref().unwrap_err();
        assert!(matches!(err, Error::TooLarge { .. }), "{err}");
        assert!(manifest(&dir).is_empty());
    }

    /// A tmpfs of `kib` KiB mounted on `path` (root only), unmounted when
    /// dropped; `None` (test skipped) when mounting is not possible, which
    /// QSURGEON_REQUIRE_POSTFIX=1 (the root test run) does not accept.
    struct SmallDisk(PathBuf);

    impl SmallDisk {
        fn mount(path: &Path, kib: u32) -> Option<SmallDisk> {
            fs::create_dir_all(path).unwrap();
            let out = std::process::Command::new("mount")
                .args(["-t", "tmpfs", "-o", &format!("size={kib}k,mode=0700")])
                .arg("tmpfs")
                .arg(path)
                .output();
            match out {
                Ok(out) if out.status.success() => Some(SmallDisk(path.to_path_buf())),
                other => {
                    assert!(
                        std::env::var("QSURGEON_REQUIRE_POSTFIX").as_deref() != Ok("1"),
                        "cannot mount a tmpfs: {other:?}"
                    );
                    eprintln!("skipped: cannot mount a tmpfs: {other:?}");
                    None
                }
            }
        }
    }

    impl Drop for SmallDisk {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(&self.0).status();
        }
    }

    /// The backup disk is full: a message whose defer log could not be
    /// copied is not saved (so not deleted), and nothing names the missing
    /// copy; a batch whose manifest line could not be written is not saved
    /// at all.
    #[test]
    fn on_a_full_backup_disk_nothing_is_reported_saved_that_is_not() {
        let q = Queue::new();
        let mount = q.root.join("disk");
        let Some(_disk) = SmallDisk::mount(&mount, 32) else {
            return;
        };
        let dir = mount.join("backup");
        // A queue file larger than the disk.
        let big = QueueFileBuilder::new(b"a@b", 1)
            .recipient(b"c@d")
            .line(&vec![b'x'; 40 << 10])
            .build();
        q.put("hold/C3", &big);
        let mut backup = q.open(&dir).unwrap();
        let results = backup.save_batch(&[q.item("hold", "C3")]);
        let err = results[0].1.as_ref().unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("copy to {}: ", dir.join("hold/C3").display()))
                && err.contains("No space left on device"),
            "{err}"
        );
        assert!(!dir.join("hold/C3").exists(), "no partial copy");
        drop(backup);
        // One page of queue file; a log of more than the disk.
        q.put("deferred/A/A1", &message(b"a@b", b"c@d", 1));
        q.put("defer/A/A1", &vec![b'x'; 48 << 10]);
        let mut backup = q.open(&dir).unwrap();
        let results = backup.save_batch(&[q.item("deferred", "A1")]);
        let err = results[0].1.as_ref().unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("copy to {}: ", dir.join("defer/A1").display()))
                && err.contains("No space left on device"),
            "{err}"
        );
        assert!(manifest(&dir).is_empty(), "not saved, so not deleted");
        assert!(!dir.join("defer/A1").exists(), "no partial copy");

        // One page left: the queue file's copy takes it, its manifest line
        // finds none.
        q.put("hold/B2", &message(b"a@b", b"c@d", 2));
        let free = rustix::fs::statvfs(&mount).unwrap();
        let filler = vec![0u8; (free.f_bavail * free.f_frsize - 4096) as usize];
        fs::write(mount.join("filler"), &filler).unwrap();
        assert_eq!(rustix::fs::statvfs(&mount).unwrap().f_bavail, 1);
        let results = backup.save_batch(&[q.item("hold", "B2")]);
        let err = results[0].1.as_ref().unwrap_err();
        assert!(matches!(err, Error::NotSaved { .. }), "{err}");
        assert!(
            err.to_string().contains(&format!(
                "not saved: append to {}: No space left on device",
                dir.join(MANIFEST).display()
            )),
            "{err}"
        );
        assert!(manifest(&dir).is_empty());
    }

    // ---- manifests and restore ---------------------------------------------

    /// A backup of `A1` (to bob@example.net) and `B2`; returns its directory.
    fn saved_backup(q: &Queue) -> PathBuf {
        q.put(
            "deferred/A/A1",
            &message(b"alice@example.org", b"bob@example.net", 1_795_359_329),
        );
        q.put(
            "hold/B2",
            &message(b"", b"carol@example.net", 1_795_359_330),
        );
        let dir = q.root.join("backup");
        let mut backup = q.open(&dir).unwrap();
        for (_, r) in backup.save_batch(&[q.item("deferred", "A1"), q.item("hold", "B2")]) {
            r.unwrap();
        }
        // Deleted from the queue, as postsuper would.
        fs::remove_file(q.queue_dir.join("deferred/A/A1")).unwrap();
        fs::remove_file(q.queue_dir.join("hold/B2")).unwrap();
        dir
    }

    /// Replaces every `from` by `to` (same length) in a saved file.
    fn edit(path: &Path, from: &[u8], to: &[u8]) {
        assert_eq!(from.len(), to.len());
        let mut bytes = fs::read(path).unwrap();
        let len = bytes.len();
        let mut found = 0;
        for at in 0..len.saturating_sub(from.len() - 1) {
            if bytes[at..at + from.len()] == *from {
                bytes[at..at + to.len()].copy_from_slice(to);
                found += 1;
            }
        }
        assert!(found > 0);
        fs::write(path, bytes).unwrap();
        assert_eq!(fs::metadata(path).unwrap().len() as usize, len);
    }

    #[test]
    fn restore_plans_what_was_saved() {
        let q = Queue::new();
        let dir = saved_backup(&q);
        let plan = RestorePlan::load_with(&dir, q.target()).unwrap();
        assert!(plan.failed.is_empty(), "{:?}", plan.failed);
        let planned: Vec<(&str, &[Vec<u8>])> = plan
            .messages
            .iter()
            .map(|m| (m.file.as_str(), m.recipients.as_slice()))
            .collect();
        assert_eq!(
            planned,
            [
                ("deferred/A1", &[b"bob@example.net".to_vec()][..]),
                ("hold/B2", &[b"carol@example.net".to_vec()][..])
            ]
        );
    }

    #[test]
    fn an_edited_saved_file_is_refused_by_name() {
        let q = Queue::new();
        let dir = saved_backup(&q);
        // Another recipient of the same length: the size still matches.
        edit(
            &dir.join("deferred/A1"),
            b"bob@example.net",
            b"eve@example.net",
        );
        let plan = RestorePlan::load_with(&dir, q.target()).unwrap();
        assert_eq!(plan.failed.len(), 1, "{plan:?}");
        assert_eq!(plan.failed[0].0, "deferred/A1");
        assert!(plan.failed[0].1.contains("SHA-256"), "{:?}", plan.failed);
        assert_eq!(plan.messages.len(), 1);
        assert_eq!(plan.messages[0].file, "hold/B2");

        // A manifest without hashes (format 1) still checks the recipients.
        let text = fs::read_to_string(dir.join(MANIFEST)).unwrap();
        let without: String = text
            .lines()
            .map(|l| {
                let mut v: Value = serde_json::from_str(l).unwrap();
                v.as_object_mut().unwrap().remove("sha256");
                v.to_string() + "\n"
            })
            .collect();
        fs::write(dir.join(MANIFEST), without).unwrap();
        let plan = RestorePlan::load_with(&dir, q.target()).unwrap();
        assert_eq!(plan.failed.len(), 1, "{plan:?}");
        assert!(
            plan.failed[0]
                .1
                .contains("to-do recipients [\"eve@example.net\"]"),
            "{:?}",
            plan.failed
        );
    }

    /// Without hashes (a format-1 manifest) the sender that would be
    /// injected is still checked against the manifest.
    #[test]
    fn an_edited_sender_is_refused_without_a_hash() {
        let q = Queue::new();
        let dir = saved_backup(&q);
        let text = fs::read_to_string(dir.join(MANIFEST)).unwrap();
        let without: String = text
            .lines()
            .map(|l| {
                let mut v: Value = serde_json::from_str(l).unwrap();
                v.as_object_mut().unwrap().remove("sha256");
                v.to_string() + "\n"
            })
            .collect();
        fs::write(dir.join(MANIFEST), without).unwrap();
        edit(
            &dir.join("deferred/A1"),
            b"alice@example.org",
            b"mallo@example.org",
        );
        let plan = RestorePlan::load_with(&dir, q.target()).unwrap();
        assert_eq!(plan.failed.len(), 1, "{plan:?}");
        assert!(
            plan.failed[0]
                .1
                .contains("sender \"mallo@example.org\", the manifest says \"alice@example.org\""),
            "{:?}",
            plan.failed
        );
        assert_eq!(plan.len(), 1);
    }

    #[test]
    fn bad_and_torn_manifest_lines_are_named_and_skipped() {
        let q = Queue::new();
        let dir = saved_backup(&q);
        let text = fs::read(dir.join(MANIFEST)).unwrap();
        let mut lines = text.split_inclusive(|b| *b == b'\n');
        let (first, second) = (lines.next().unwrap(), lines.next().unwrap());
        let mut bad = Vec::new();
        bad.extend_from_slice(first);
        // Torn UTF-8 (a multi-byte character cut), then not JSON.
        bad.extend_from_slice(b"{\"id\":\"C3\",\"sender\":\"j\xc3\"}\n");
        bad.extend_from_slice(b"{\"id\": \"D4\", \"fi\n");
        bad.extend_from_slice(second);
        // A torn tail: a batch cut short.
        bad.extend_from_slice(&second[..second.len() / 2]);
        fs::write(dir.join(MANIFEST), &bad).unwrap();
        let plan = RestorePlan::load_with(&dir, q.target()).unwrap();
        let failed: Vec<&str> = plan.failed.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(failed, ["manifest.jsonl line 2", "manifest.jsonl line 3"]);
        assert!(plan.failed[0].1.contains("not UTF-8"), "{:?}", plan.failed);
        assert!(plan.failed[1].1.contains("not JSON"), "{:?}", plan.failed);
        assert!(
            plan.skipped
                .iter()
                .any(|(f, why)| f == "manifest.jsonl line 5" && why.contains("torn")),
            "{:?}",
            plan.skipped
        );
        // The rest is restored.
        assert_eq!(plan.len(), 2);
    }

    /// A directory without a manifest is not a backup (restore of an empty
    /// directory, a typo); blank lines in a manifest are not errors.
    #[test]
    fn restore_needs_a_manifest_and_skips_blank_lines() {
        let q = Queue::new();
        let empty = q.root.join("empty");
        fs::create_dir(&empty).unwrap();
        fs::set_permissions(&empty, fs::Permissions::from_mode(0o700)).unwrap();
        let err = RestorePlan::load_with(&empty, q.target()).unwrap_err();
        assert!(matches!(err, Error::NotABackup { .. }), "{err}");

        let dir = saved_backup(&q);
        let text = fs::read(dir.join(MANIFEST)).unwrap();
        let mut blank = b"\n  \n".to_vec();
        blank.extend_from_slice(&text);
        fs::write(dir.join(MANIFEST), &blank).unwrap();
        // restore's own record, with a blank line in it.
        fs::write(dir.join(RESTORED), b"\n").unwrap();
        fs::set_permissions(dir.join(RESTORED), fs::Permissions::from_mode(0o600)).unwrap();
        let plan = RestorePlan::load_with(&dir, q.target()).unwrap();
        assert!(plan.failed.is_empty(), "{:?}", plan.failed);
        assert_eq!(plan.len(), 2);
    }

    /// A message restored once, then found in the queue again (postsuper
    /// had not deleted it after all) and saved again with its recipients
    /// changed: the later copy is the same message (ID and arrival time),
    /// already restored, and is not injected a second time.
    #[test]
    fn a_later_copy_of_a_restored_message_is_not_restored_again() {
        let q = Queue::new();
        let dir = saved_backup(&q);
        let plan = RestorePlan::load_with(&dir, q.target()).unwrap();
        let first = plan.messages[0].clone();
        assert_eq!(first.file, "deferred/A1");
        let (mut log, _) = open_append(plan.fd.as_fd(), &dir, RESTORED).unwrap();
        record_restored(&mut log, &dir, &first, "ABCDEF").unwrap();
        drop(plan);
        q.put(
            "deferred/A/A1",
            &QueueFileBuilder::new(b"alice@example.org", 1_795_359_329)
                .recipient(b"bob@example.net")
                .recipient(b"dave@example.net")
                .line(b"Subject: test")
                .build(),
        );
        let mut backup = q.open(&dir).unwrap();
        for (_, r) in backup.save_batch(&[q.item("deferred", "A1")]) {
            r.unwrap();
        }
        fs::remove_file(q.queue_dir.join("deferred/A/A1")).unwrap();
        let plan = RestorePlan::load_with(&dir, q.target()).unwrap();
        let files: Vec<&str> = plan.messages.iter().map(|m| m.file.as_str()).collect();
        assert_eq!(files, ["hold/B2"]);
        assert!(
            plan.skipped.contains(&(
                "deferred/A1.2".to_string(),
                "already restored (an earlier copy)".to_string()
            )),
            "{:?}",
            plan.skipped
        );
    }

    /// One message saved twice (postsuper did not delete it the first time;
    /// a recipient was delivered in between): only the later copy is
    /// restored, so the delivered recipient does not get it twice.
    #[test]
    fn of_two_copies_of_a_message_only_the_later_is_restored() {
        let q = Queue::new();
        let dir = q.root.join("backup");
        let mut backup = q.open(&dir).unwrap();
        let done = BuilderRecipient {
            address: b"bob@example.net".to_vec(),
            original: None,
            notify_flags: 0,
            dsn_orig_rcpt: None,
            done: true,
        };
        for later in [false, true] {
            let builder = QueueFileBuilder::new(b"alice@example.org", 1_795_359_329);
            let builder = if later {
                builder.recipient_full(done.clone())
            } else {
                builder.recipient(b"bob@example.net")
            };
            q.put(
                "deferred/A/A1",
                &builder
                    .recipient(b"carol@example.net")
                    .line(b"Subject: test")
                    .build(),
            );
            for (_, r) in backup.save_batch(&[q.item("deferred", "A1")]) {
                r.unwrap();
            }
        }
        fs::remove_file(q.queue_dir.join("deferred/A/A1")).unwrap();
        let plan = RestorePlan::load_with(&dir, q.target()).unwrap();
        assert_eq!(plan.len(), 1, "{:?}", plan.messages);
        assert_eq!(plan.messages[0].file, "deferred/A1.2");
        assert_eq!(plan.messages[0].recipients, [b"carol@example.net".to_vec()]);
        assert_eq!(
            plan.skipped,
            [(
                "deferred/A1".to_string(),
                "superseded by the later copy deferred/A1.2".to_string()
            )]
        );
    }

    /// What restore says it would do: the sender, the to-do recipients, and
    /// how many delivered recipients it leaves out.
    #[test]
    fn a_dry_run_names_the_recipients_left_out() {
        let q = Queue::new();
        let done = |address: &[u8]| BuilderRecipient {
            address: address.to_vec(),
            original: None,
            notify_flags: 0,
            dsn_orig_rcpt: None,
            done: true,
        };
        q.put(
            "deferred/A/A1",
            &QueueFileBuilder::new(b"alice@example.org", 1_795_359_329)
                .recipient_full(done(b"x@example.net"))
                .recipient(b"bob@example.net")
                .recipient_full(done(b"y@example.net"))
                .line(b"Subject: test")
                .build(),
        );
        // A bounce: the null sender, nothing delivered yet.
        q.put(
            "hold/B2",
            &message(b"", b"carol@example.net", 1_795_359_330),
        );
        let dir = q.root.join("backup");
        let mut backup = q.open(&dir).unwrap();
        for (_, r) in backup.save_batch(&[q.item("deferred", "A1"), q.item("hold", "B2")]) {
            r.unwrap();
        }
        fs::remove_file(q.queue_dir.join("deferred/A/A1")).unwrap();
        fs::remove_file(q.queue_dir.join("hold/B2")).unwrap();
        let plan = RestorePlan::load_with(&dir, q.target()).unwrap();
        let mut said = Vec::new();
        let report = plan
            .execute(true, &mut |e| {
                if let RestoreEvent::Message(text) = e {
                    said.push(text)
                }
            })
            .unwrap();
        assert_eq!(
            report.restored,
            [
                ("A1".to_string(), String::new()),
                ("B2".to_string(), String::new())
            ]
        );
        assert_eq!(
            said,
            [
                "A1: would restore: from=<alice@example.org> to=<bob@example.net> (2 done recipients left out)",
                "B2: would restore: from=<> to=<carol@example.net>"
            ]
        );
    }

    #[test]
    fn a_torn_tail_is_cut_before_the_next_append() {
        let q = Queue::new();
        let dir = saved_backup(&q);
        let mut text = fs::read(dir.join(MANIFEST)).unwrap();
        let good = text.len();
        text.extend_from_slice(b"{\"format\":2,\"queue\":\"deferred\",\"id\":\"X");
        fs::write(dir.join(MANIFEST), &text).unwrap();
        q.put("deferred/C/C3", &message(b"a@b", b"c@d", 3));
        let mut backup = q.open(&dir).unwrap();
        assert_eq!(backup.torn_tail(), (text.len() - good) as u64);
        for (_, r) in backup.save_batch(&[q.item("deferred", "C3")]) {
            r.unwrap();
        }
        // Every line parses: the new one starts on a line of its own.
        let ids: Vec<Value> = manifest(&dir)
            .into_iter()
            .map(|l| l["id"].clone())
            .collect();
        assert_eq!(ids, ["A1", "B2", "C3"]);
    }

    /// Many batches later the manifest is longer than one 64 KiB read from
    /// its end, and so is its torn last line: the whole torn line is cut.
    #[test]
    fn a_torn_tail_of_a_long_manifest_is_cut() {
        let q = Queue::new();
        let dir = saved_backup(&q);
        let lines = fs::read(dir.join(MANIFEST)).unwrap();
        let mut text = Vec::new();
        while text.len() < 200 << 10 {
            text.extend_from_slice(&lines);
        }
        let good = text.len();
        text.extend_from_slice(b"{\"format\":2,\"queue\":\"deferred\",\"id\":\"");
        text.extend(std::iter::repeat_n(b'X', 100 << 10));
        fs::write(dir.join(MANIFEST), &text).unwrap();
        q.put("deferred/C/C3", &message(b"a@b", b"c@d", 3));
        let mut backup = q.open(&dir).unwrap();
        assert_eq!(backup.torn_tail(), (text.len() - good) as u64);
        for (_, r) in backup.save_batch(&[q.item("deferred", "C3")]) {
            r.unwrap();
        }
        let ids: Vec<Value> = manifest(&dir)
            .into_iter()
            .map(|l| l["id"].clone())
            .collect();
        assert_eq!(ids.len(), good / lines.len() * 2 + 1);
        assert_eq!(ids.last().unwrap(), "C3");
    }

    /// A manifest line longer than a line may be (256 MiB: not one qsurgeon
    /// wrote) is named and skipped whole, and the lines after it are read.
    #[test]
    fn an_overlong_manifest_line_is_skipped_whole() {
        let q = Queue::new();
        let dir = saved_backup(&q);
        let lines = fs::read(dir.join(MANIFEST)).unwrap();
        // A hole (read as NULs) of the limit and 2 MiB more (more than one
        // read of the rest), its newline, then the two saved messages' lines.
        let file = File::create(dir.join(MANIFEST)).unwrap();
        file.set_len(LINE_LIMIT as u64 + (2 << 20)).unwrap();
        drop(file);
        let mut file = File::options()
            .append(true)
            .open(dir.join(MANIFEST))
            .unwrap();
        file.write_all(b"\n").unwrap();
        file.write_all(&lines).unwrap();
        drop(file);
        let plan = RestorePlan::load_with(&dir, q.target()).unwrap();
        assert_eq!(
            plan.failed,
            [(
                "manifest.jsonl line 1".to_string(),
                format!("longer than {LINE_LIMIT} bytes")
            )]
        );
        let files: Vec<&str> = plan.messages.iter().map(|m| m.file.as_str()).collect();
        assert_eq!(files, ["deferred/A1", "hold/B2"]);
        assert!(plan.skipped.is_empty(), "{:?}", plan.skipped);
    }

    /// The manifest stays open while postsuper runs (as root, until it drops
    /// to the postfix user): no process qsurgeon starts inherits it.
    #[test]
    fn processes_started_while_a_backup_is_open_do_not_inherit_the_manifest() {
        let q = Queue::new();
        let dir = q.root.join("backup");
        let _backup = q.open(&dir).unwrap();
        let out = std::process::Command::new("sh")
            .args(["-c", "ls -l /proc/$$/fd"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let listing = String::from_utf8_lossy(&out.stdout);
        assert!(listing.contains("0 -> /dev/null"), "{listing}");
        assert!(!listing.contains(MANIFEST), "{listing}");
    }

    #[test]
    fn manifest_files_must_stay_in_the_backup_directory() {
        let line = |file: &str| json!({"id": "A1", "file": file, "size": 3}).to_string();
        assert!(parse_manifest_line(&line("deferred/A1")).is_ok());
        for bad in [
            "../deferred/A1",
            "/etc/shadow",
            "deferred/../../x",
            "A1",
            "a/b/c",
        ] {
            assert!(parse_manifest_line(&line(bad)).is_err(), "{bad}");
        }
        let bad_hash = json!({"id": "A1", "file": "deferred/A1", "sha256": "xyz"}).to_string();
        assert!(parse_manifest_line(&bad_hash).is_err());
    }

    #[test]
    fn a_message_still_in_the_queue_is_recognised_by_id_and_arrival_time() {
        let q = Queue::new();
        q.put("deferred/A/A1", &message(b"a@b", b"c@d", 1_795_359_329));
        let dir = q.root.join("backup");
        q.open(&dir).unwrap();
        let plan = RestorePlan::load_with(&dir, q.target()).unwrap();
        assert_eq!(
            plan.still_queued("A1", Some((1_795_359_329, 0))).as_deref(),
            Some("deferred/A/A1")
        );
        // The same ID, reused by another message.
        assert_eq!(plan.still_queued("A1", Some((1_795_000_000, 0))), None);
        assert_eq!(plan.still_queued("B2", Some((1_795_359_329, 0))), None);
    }
}
