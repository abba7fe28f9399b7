//! The parallel scan: find every queue file, decode what the caller needs,
//! hand each message to a per-thread visitor.
//!
//! Postfix's own rules decide what is a message (postfix-queue-format.md
//! §5–6, `src/global/mail_scan_dir.c`, `src/global/mail_open_ok.c`):
//! one-character names are hash subdirectories; other names must be valid
//! queue IDs (names with a `.` are files still being created); a file is
//! complete only when its owner bits are `rwx`; a file at a hash depth the
//! current settings would not produce is invisible to Postfix and skipped
//! here too. A file that vanishes between listing and opening is normal on
//! a live queue: it is looked for in the other scanned queues (qmgr renames
//! files between queues under the same ID), and counted, never an error,
//! only when it is in none of them. The queues are listed twice (see
//! `list_again`). So a message that Postfix moves while the scan runs is
//! seen, and may be seen twice (showq may list it twice too): consumers
//! that must count each message once key on device, inode and ID.
//!
//! Every file is opened through [`crate::open`]: relative to the listed
//! directory's descriptor, never through a symlink, without blocking on a
//! FIFO, regular files only, and read within [`ScanOptions::file_size_limit`]
//! (defer logs within [`crate::open::LOG_FILE_LIMIT`]). What it refuses is
//! reported to the visitor by path and the scan goes on; the directories
//! are listed from their descriptors too, hash subdirectories entered with
//! `O_NOFOLLOW`.
//!
//! Results come back per worker job: [`scan_reduce`] folds each job's
//! files into a visitor and reduces the visitors into one; [`scan`] leaves
//! the merging to the visitors' `Drop`.
//!
//! Each rayon worker owns its buffers (file bytes, defer log, envelope,
//! headers) and reuses them from file to file. The content between the
//! envelope and the extracted segment is not read unless headers are asked
//! for, and even then the body is not.

use std::fmt;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use queue_file::{BounceLog, Envelope, FileView, Headers, LogKind, SizeRecord};
use rayon::prelude::*;
use rustix::fs::{AtFlags, FileType, Mode, OFlags};

use crate::layout::{is_valid_queue_id, QueueLayout};
pub use crate::open::FileInfo;
use crate::open::{
    effective_limit, open_regular_at, read_bounded, read_exact_or_eof, OpenErrorKind,
    LOG_FILE_LIMIT,
};

/// How much of a file the first read takes: most queue files of real mail
/// are smaller, so one read gets the whole file.
const FIRST_READ: usize = 16 * 1024;

/// How far past the start of the content to read for the headers before
/// falling back to the whole file.
const HEADER_READ: u64 = 32 * 1024;

/// What to read for each message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadPlan {
    /// Read the primary header block.
    pub headers: bool,
    /// Read the defer logfile (delay reasons, DSN status).
    pub defer_log: bool,
}

/// What to scan and how.
#[derive(Clone, Debug)]
pub struct ScanOptions {
    /// Queues to scan, in order (see [`crate::layout::MESSAGE_QUEUES`]).
    pub queues: Vec<&'static str>,
    /// What to read per message.
    pub read: ReadPlan,
    /// The largest queue file read, in bytes: a larger one is reported as
    /// an error ("larger than the N-byte limit") and the scan goes on.
    /// Derive it from `message_size_limit` with
    /// [`crate::open::queue_file_limit`]; 0 means
    /// [`crate::open::HARD_QUEUE_FILE_LIMIT`].
    pub file_size_limit: u64,
}

impl ScanOptions {
    /// The given queues and plan, with [`crate::open::DEFAULT_QUEUE_FILE_LIMIT`].
    pub fn new(queues: Vec<&'static str>, read: ReadPlan) -> ScanOptions {
        ScanOptions {
            queues,
            read,
            file_size_limit: crate::open::DEFAULT_QUEUE_FILE_LIMIT,
        }
    }
}

/// One decoded message, lent to a [`Visitor`].
#[derive(Clone, Copy, Debug)]
pub struct Message<'a> {
    /// The queue it is in.
    pub queue: &'static str,
    /// Its queue ID (the file name).
    pub id: &'a str,
    /// Its path.
    pub path: &'a Path,
    /// `fstat` facts.
    pub info: FileInfo,
    /// The decoded envelope and extracted segment.
    pub envelope: &'a Envelope<'a>,
    /// The header block, when [`ReadPlan::headers`] asked for it.
    pub headers: Option<&'a Headers>,
    /// The defer logfile's bytes, when asked for and present.
    pub defer_log: Option<&'a [u8]>,
    /// The same log read as Postfix reads it (`bounce_log.c`): its
    /// entries, parsed once here for every consumer (selection, tables).
    pub defer_entries: Option<&'a BounceLog>,
    /// The bytes that were read (the whole file, or head and tail).
    pub view: FileView<'a>,
}

impl Message<'_> {
    /// Forced to expire (`postsuper -e`): the group-execute bit.
    pub fn forced_expire(&self) -> bool {
        self.info.mode & 0o010 != 0
    }

    /// Arrival time as showq reports it: the first `T` record's seconds
    /// when positive, else the file's mtime.
    pub fn arrival_time(&self) -> i64 {
        match self.envelope.arrival_time {
            Some((sec, _)) if sec > 0 => sec,
            _ => self.info.mtime,
        }
    }

    /// Message size as showq (3.7) reports it: the `C` record's first
    /// field when its payload is only digits and spaces, else the file size.
    /// (A 3.11+ sendmail's preliminary maildrop `C` holds `-1` fields, so it
    /// falls back to the file size too.)
    pub fn message_size(&self) -> u64 {
        if let Some(size) = self.envelope.size {
            if size.content_size >= 0 && self.envelope_size_is_plain() {
                return size.content_size as u64;
            }
        }
        self.info.size
    }

    fn envelope_size_is_plain(&self) -> bool {
        match self.view.record_at(self.envelope.size_offset) {
            Ok(Some(rec)) => rec.payload.iter().all(|b| b.is_ascii_digit() || *b == b' '),
            _ => false,
        }
    }
}

/// A file that could not be read or decoded.
#[derive(Debug)]
pub struct ScanError {
    /// The file.
    pub path: PathBuf,
    /// What went wrong.
    pub kind: ScanErrorKind,
}

/// What went wrong with a file.
#[derive(Debug)]
#[non_exhaustive]
pub enum ScanErrorKind {
    /// Reading failed.
    Io(io::Error),
    /// The bytes are not a sound queue file.
    Decode(queue_file::Error),
    /// The file was refused by the safe open ([`crate::open`]): not a
    /// regular file (a symlink, FIFO, device, directory), or larger than
    /// the limit. For a defer log the message itself is still visited,
    /// without its log.
    Open(OpenErrorKind),
}

impl fmt::Display for ScanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ScanErrorKind::Io(e) => write!(f, "{}: {e}", self.path.display()),
            ScanErrorKind::Decode(e) => write!(f, "{}: {e}", self.path.display()),
            ScanErrorKind::Open(e) => write!(f, "{}: {e}", self.path.display()),
        }
    }
}

impl std::error::Error for ScanError {}

/// Receives the scan's results on the worker threads. One visitor is made
/// per worker job; it can buffer output and flush it when dropped.
pub trait Visitor {
    /// A complete, decoded message.
    fn message(&mut self, message: &Message<'_>);
    /// A file that could not be read or decoded; the scan goes on.
    fn error(&mut self, error: ScanError);
}

/// Counters, updated while the scan runs (a progress display may read
/// them from another thread).
#[derive(Debug, Default)]
pub struct ScanProgress {
    /// Queue files found by listing the directories.
    pub listed: AtomicU64,
    /// Files looked at so far (any outcome).
    pub done: AtomicU64,
    /// Messages decoded and given to the visitor.
    pub scanned: AtomicU64,
    /// Files still being written (owner bits not rwx, or temporary names).
    pub in_progress: AtomicU64,
    /// Files gone between listing and opening.
    pub vanished: AtomicU64,
    /// Files that could not be read or decoded.
    pub unreadable: AtomicU64,
    /// Files at a hash depth Postfix would not look at.
    pub misplaced: AtomicU64,
    /// Set to stop the scan early (Ctrl-C); the files under way finish.
    pub stop: AtomicBool,
}

/// A plain copy of the counters at the end of a scan.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScanStats {
    /// Messages decoded.
    pub scanned: u64,
    /// Files still being written.
    pub in_progress: u64,
    /// Files that vanished.
    pub vanished: u64,
    /// Files that could not be read or decoded.
    pub unreadable: u64,
    /// Files at a hash depth Postfix would not look at.
    pub misplaced: u64,
}

impl ScanProgress {
    /// The counters now.
    pub fn stats(&self) -> ScanStats {
        ScanStats {
            scanned: self.scanned.load(Ordering::Relaxed),
            in_progress: self.in_progress.load(Ordering::Relaxed),
            vanished: self.vanished.load(Ordering::Relaxed),
            unreadable: self.unreadable.load(Ordering::Relaxed),
            misplaced: self.misplaced.load(Ordering::Relaxed),
        }
    }
}

/// The names found in one directory, packed in one buffer.
struct DirListing {
    queue: &'static str,
    dir: PathBuf,
    /// The directory, open: files are opened relative to it (`openat`),
    /// which spares the kernel a full path walk per file.
    dir_fd: Option<std::os::fd::OwnedFd>,
    names: String,
    ends: Vec<u32>,
}

impl DirListing {
    fn name(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.names[start..self.ends[i] as usize]
    }

    fn names(&self) -> impl IndexedParallelIterator<Item = &str> + '_ {
        (0..self.ends.len())
            .into_par_iter()
            .map(move |i| self.name(i))
    }
}

/// Lists the queue `queue` into `listings` (see [`list_dir`]). The queue
/// itself is reached by path: the queue directory belongs to root
/// (`postfix-files`), so the postfix user cannot plant a symlink there.
fn list_queue(
    layout: &QueueLayout,
    queue: &'static str,
    progress: &ScanProgress,
    listings: &mut Vec<DirListing>,
    errors: &mut Vec<ScanError>,
) {
    let dir = layout.queue_dir.join(queue);
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    match rustix::fs::open(&dir, flags, Mode::empty()) {
        Ok(fd) => list_dir(layout, queue, dir, fd, &[], progress, listings, errors),
        Err(rustix::io::Errno::NOENT) => {}
        Err(e) => errors.push(ScanError {
            path: dir,
            kind: ScanErrorKind::Io(e.into()),
        }),
    }
}

/// Lists the open directory `fd` at `dir` (a queue or one of its hash
/// subdirectories) into `listings`, entering one-character subdirectories
/// as showq does. Everything is read from and opened relative to the
/// descriptors, subdirectories with `O_NOFOLLOW`: the postfix user owns
/// these directories, and a hash directory swapped for a symlink is not
/// entered.
#[allow(clippy::too_many_arguments)]
fn list_dir(
    layout: &QueueLayout,
    queue: &'static str,
    dir: PathBuf,
    fd: OwnedFd,
    hash_dirs: &[u8],
    progress: &ScanProgress,
    listings: &mut Vec<DirListing>,
    errors: &mut Vec<ScanError>,
) {
    let mut entries = match rustix::fs::Dir::read_from(&fd) {
        Ok(entries) => entries,
        Err(e) => {
            errors.push(ScanError {
                path: dir,
                kind: ScanErrorKind::Io(e.into()),
            });
            return;
        }
    };
    let mut listing = DirListing {
        queue,
        dir,
        dir_fd: None,
        names: String::new(),
        ends: Vec::new(),
    };
    let mut subdirs: Vec<u8> = Vec::new();
    // Files Postfix will look at sit exactly under the hash directories
    // mail_queue_path() would build for them (src/global/mail_queue.c).
    let expected_depth = if layout.is_hashed(queue) {
        layout.hash_queue_depth
    } else {
        0
    };
    while let Some(entry) = entries.read() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                errors.push(ScanError {
                    path: listing.dir.clone(),
                    kind: ScanErrorKind::Io(e.into()),
                });
                break;
            }
        };
        let Ok(name) = entry.file_name().to_str() else {
            continue;
        };
        if name == "." || name == ".." {
            continue;
        }
        if name.len() == 1 {
            hash_entry(
                &fd,
                name,
                entry.file_type(),
                &listing.dir,
                &mut subdirs,
                errors,
            );
            continue;
        }
        if !is_valid_queue_id(name) {
            // `<usec>.<pid>`: mail_queue_enter() is still creating it.
            if name.contains('.') && name.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                progress.in_progress.fetch_add(1, Ordering::Relaxed);
            }
            continue;
        }
        if hash_dirs.len() != expected_depth || !crate::layout::hash_prefix_matches(name, hash_dirs)
        {
            progress.misplaced.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        listing.names.push_str(name);
        listing.ends.push(listing.names.len() as u32);
    }
    drop(entries);
    progress
        .listed
        .fetch_add(listing.ends.len() as u64, Ordering::Relaxed);
    subdirs.sort_unstable();
    let mut deeper = hash_dirs.to_vec();
    let dir_flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    for name in subdirs {
        // Each listed hash subdirectory, entered without following a symlink.
        let name_str = [name];
        let name_str = std::str::from_utf8(&name_str).unwrap_or("_");
        let sub = listing.dir.join(name_str);
        match rustix::fs::openat(&fd, name_str, dir_flags, Mode::empty()) {
            Ok(sub_fd) => {
                deeper.push(name);
                list_dir(
                    layout, queue, sub, sub_fd, &deeper, progress, listings, errors,
                );
                deeper.pop();
            }
            // Gone, or swapped for a symlink (ELOOP/ENOTDIR) since listed.
            Err(rustix::io::Errno::NOENT) => {}
            Err(e) => errors.push(ScanError {
                path: sub,
                kind: match e {
                    rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR => ScanErrorKind::Open(
                        OpenErrorKind::NotRegular(crate::open::FileKind::Symlink),
                    ),
                    e => ScanErrorKind::Io(e.into()),
                },
            }),
        }
    }
    if !listing.ends.is_empty() {
        listing.dir_fd = Some(fd);
        listings.push(listing);
    }
}

/// A one-character name in a queue directory (`dir`, open as `fd`): a hash
/// subdirectory to list, noted in `subdirs`; or, when it is a symlink, an
/// error. showq's scan_dir_push() (src/util/scan_dir.c) would follow the
/// link with opendir(); it is not entered, and said, since nothing Postfix
/// makes is a symlink there. Anything else with a one-character name is
/// not Postfix's and is passed over, as showq does.
fn hash_entry(
    fd: &OwnedFd,
    name: &str,
    file_type: FileType,
    dir: &Path,
    subdirs: &mut Vec<u8>,
    errors: &mut Vec<ScanError>,
) {
    let file_type = match file_type {
        // No d_type from this filesystem: ask, without following a symlink.
        FileType::Unknown => rustix::fs::statat(fd, name, AtFlags::SYMLINK_NOFOLLOW)
            .map_or(FileType::Unknown, |st| FileType::from_raw_mode(st.st_mode)),
        file_type => file_type,
    };
    match file_type {
        FileType::Directory => subdirs.push(name.as_bytes()[0]),
        FileType::Symlink => errors.push(ScanError {
            path: dir.join(name),
            kind: ScanErrorKind::Open(OpenErrorKind::NotRegular(crate::open::FileKind::Symlink)),
        }),
        _ => {}
    }
}

/// Lists the queues a second time and adds the names the first listing did
/// not have. A message renamed from a queue not listed yet into one already
/// listed (deferred -> active when qmgr picks it up, active -> deferred after
/// a delivery attempt) was in neither listing; the second finds it where it
/// went, unless it moved back the same way again in that moment. (showq,
/// which lists once, misses such messages.) Errors and other counts were
/// reported by the first listing.
fn list_again(
    layout: &QueueLayout,
    options: &ScanOptions,
    progress: &ScanProgress,
    listings: &mut Vec<DirListing>,
) {
    let scratch = ScanProgress::default();
    let mut again = Vec::new();
    for &queue in &options.queues {
        list_queue(layout, queue, &scratch, &mut again, &mut Vec::new());
    }
    let mut seen: Vec<&str> = listings
        .iter()
        .flat_map(|l| (0..l.ends.len()).map(move |i| l.name(i)))
        .collect();
    seen.sort_unstable();
    let mut added = Vec::new();
    for listing in again {
        let mut names = String::new();
        let mut ends = Vec::new();
        for name in (0..listing.ends.len()).map(|i| listing.name(i)) {
            if seen.binary_search(&name).is_err() {
                names.push_str(name);
                ends.push(names.len() as u32);
            }
        }
        if !ends.is_empty() {
            added.push(DirListing {
                names,
                ends,
                ..listing
            });
        }
    }
    progress.listed.fetch_add(
        added.iter().map(|l| l.ends.len() as u64).sum(),
        Ordering::Relaxed,
    );
    listings.extend(added);
}

/// Where the files of one directory are and what to read of them.
#[derive(Clone, Copy)]
struct Job<'j> {
    layout: &'j QueueLayout,
    read: ReadPlan,
    /// The largest queue file read.
    limit: u64,
    queue: &'static str,
    dir: &'j Path,
    /// The queue directory, open: logs, and files looked for in other
    /// queues, are opened relative to it.
    queue_fd: BorrowedFd<'j>,
    /// The listed directory, open; `None` to open by the layout's path.
    dir_fd: Option<BorrowedFd<'j>>,
    /// Every queue of the scan, where a file gone from `queue` is looked for.
    queues: &'j [&'static str],
}

/// Per-worker reusable state.
struct Worker {
    path: PathBuf,
    relative: PathBuf,
    log_path: PathBuf,
    buf: Vec<u8>,
    log: Vec<u8>,
    /// `log` parsed; its buffers are reused from message to message.
    entries: BounceLog,
    spare: Envelope<'static>,
    headers: Headers,
}

enum Skip {
    InProgress,
    Vanished,
}

/// What `read_file` got: the open file (for a later whole read from the
/// same descriptor), its facts, and where its bytes sit in the buffer.
type Read = (File, FileInfo, ViewParts);

impl Worker {
    fn new() -> Worker {
        Worker {
            path: PathBuf::new(),
            relative: PathBuf::new(),
            log_path: PathBuf::new(),
            buf: Vec::with_capacity(FIRST_READ * 2),
            log: Vec::new(),
            entries: BounceLog::new(),
            spare: Envelope::default(),
            headers: Headers::new(),
        }
    }

    /// Reads, decodes and visits one file.
    fn process<V: Visitor>(
        &mut self,
        job: &Job<'_>,
        id: &str,
        visitor: &mut V,
        progress: &ScanProgress,
    ) {
        let Job {
            layout,
            read,
            limit,
            queue_fd,
            ..
        } = *job;
        let (read_result, queue) = self.locate(job, id);
        let (file, info, view_parts) = match read_result {
            Ok(Ok(read)) => read,
            Ok(Err(skip)) => {
                let counter = match skip {
                    Skip::InProgress => &progress.in_progress,
                    Skip::Vanished => &progress.vanished,
                };
                counter.fetch_add(1, Ordering::Relaxed);
                return;
            }
            Err(kind) => {
                self.open_error(kind, visitor, progress);
                return;
            }
        };
        let defer_log = if read.defer_log {
            self.read_log(layout, queue_fd, "defer", id, visitor)
        } else {
            false
        };
        if defer_log {
            // Delay reasons are shown as smtputf8_enable = yes (Postfix's
            // default) prints them; Postfix's own writers store only text
            // that is printable already.
            self.entries.parse_into(&self.log, LogKind::Defer, true);
        }

        let view = view_parts.view(&self.buf, info.size);
        let mut envelope = std::mem::take(&mut self.spare).recycle();
        let mut decoded = envelope.decode_from(view);
        let mut headers_read = Ok(());
        if decoded.is_ok() && read.headers {
            headers_read = self.headers.read(view, envelope.content_offset);
        }
        let needs_whole = matches!(&decoded, Err(e) if e.is_not_loaded())
            || matches!(&headers_read, Err(e) if e.is_not_loaded());
        if needs_whole {
            // The envelope or headers reach into what was not read: read
            // the whole file, from the same descriptor, and decode again.
            self.spare = envelope.recycle();
            self.buf.clear();
            if let Err(kind) = read_bounded(&file, 0, info.size, limit, &mut self.buf) {
                self.open_error(kind, visitor, progress);
                return;
            }
            envelope = std::mem::take(&mut self.spare).recycle();
            let view = FileView::whole(&self.buf);
            decoded = envelope.decode_from(view);
            if decoded.is_ok() && read.headers {
                headers_read = self.headers.read(view, envelope.content_offset);
            }
        }
        drop(file);
        let view = if needs_whole {
            FileView::whole(&self.buf)
        } else {
            view_parts.view(&self.buf, info.size)
        };
        match decoded.and(headers_read) {
            Ok(()) => {
                progress.scanned.fetch_add(1, Ordering::Relaxed);
                visitor.message(&Message {
                    queue,
                    id,
                    path: &self.path,
                    info,
                    envelope: &envelope,
                    headers: read.headers.then_some(&self.headers),
                    defer_log: defer_log.then_some(&self.log[..]),
                    defer_entries: defer_log.then_some(&self.entries),
                    view,
                });
            }
            Err(e) => {
                progress.unreadable.fetch_add(1, Ordering::Relaxed);
                visitor.error(ScanError {
                    path: self.path.clone(),
                    kind: ScanErrorKind::Decode(e),
                });
            }
        }
        self.spare = envelope.recycle();
    }

    /// Reads the file where it was listed, or, when it is gone from there,
    /// where Postfix moved it: qmgr or postsuper may have renamed it into
    /// another queue (deferred -> active -> deferred on every retry), a move
    /// that would otherwise hide a live message from this scan. Two passes
    /// over the queues, as postsuper makes, catch one that moved on again
    /// while we looked. Returns the outcome and the queue it was read in.
    fn locate(
        &mut self,
        job: &Job<'_>,
        id: &str,
    ) -> (Result<Result<Read, Skip>, OpenErrorKind>, &'static str) {
        let Job {
            layout,
            read,
            limit,
            mut queue,
            dir,
            queue_fd,
            dir_fd,
            queues,
        } = *job;
        self.path.clear();
        self.path.push(dir);
        self.path.push(id);
        let mut read_result = match dir_fd {
            Some(fd) => self.read_file(read, limit, fd, Path::new(id)),
            None => {
                layout.push_relative_path(&mut self.relative, queue, id);
                let relative = std::mem::take(&mut self.relative);
                let result = self.read_file(read, limit, queue_fd, &relative);
                self.relative = relative;
                result
            }
        };
        'find: for _ in 0..2 {
            for &other in queues {
                if !matches!(read_result, Ok(Err(Skip::Vanished))) {
                    break 'find;
                }
                layout.push_path(&mut self.path, other, id);
                layout.push_relative_path(&mut self.relative, other, id);
                let relative = std::mem::take(&mut self.relative);
                read_result = self.read_file(read, limit, queue_fd, &relative);
                self.relative = relative;
                queue = other;
            }
        }
        (read_result, queue)
    }

    /// A file that could not be opened or read: counted and named.
    fn open_error<V: Visitor>(
        &self,
        kind: OpenErrorKind,
        visitor: &mut V,
        progress: &ScanProgress,
    ) {
        progress.unreadable.fetch_add(1, Ordering::Relaxed);
        visitor.error(ScanError {
            path: self.path.clone(),
            kind: match kind {
                OpenErrorKind::Io(e) => ScanErrorKind::Io(e),
                kind => ScanErrorKind::Open(kind),
            },
        });
    }

    /// Opens `relative` under `dir` through the safe open, checks it and
    /// reads the parts that the plan needs. The outer error is a file that
    /// could not be read (not a regular file, too large, I/O); the inner one
    /// a file that is skipped.
    fn read_file(
        &mut self,
        read: ReadPlan,
        limit: u64,
        dir: BorrowedFd<'_>,
        relative: &Path,
    ) -> Result<Result<Read, Skip>, OpenErrorKind> {
        let (file, info) = match open_regular_at(dir, relative) {
            Ok(opened) => opened,
            Err(OpenErrorKind::NotFound) => return Ok(Err(Skip::Vanished)),
            Err(e) => return Err(e),
        };
        // mail_open_ok(): complete files have owner bits rwx.
        if info.mode & 0o700 != 0o700 {
            return Ok(Err(Skip::InProgress));
        }
        let size = info.size;
        // Checked before any read: a planted sparse file of any apparent
        // size costs one fstat.
        if size > limit {
            return Err(OpenErrorKind::TooLarge { size, limit });
        }
        self.buf.clear();
        read_exact_or_eof(&file, 0, size.min(FIRST_READ as u64), &mut self.buf)?;
        if (self.buf.len() as u64) < size.min(FIRST_READ as u64) {
            // The file shrank under us: it was removed or rewritten.
            return Ok(Err(Skip::Vanished));
        }
        if self.buf.len() as u64 >= size {
            return Ok(Ok((file, info, ViewParts::Whole)));
        }
        // A large file: use the size record to read the envelope, then the
        // extracted segment from X to the end, skipping the content.
        let Some((data_offset, x_offset)) = size_record_offsets(&self.buf) else {
            let had = self.buf.len() as u64;
            read_exact_or_eof(&file, had, size - had, &mut self.buf)?;
            return Ok(Ok((file, info, ViewParts::Whole)));
        };
        let mut head_end = data_offset;
        if read.headers {
            head_end = data_offset.saturating_add(HEADER_READ);
        }
        let head_end = head_end.max(self.buf.len() as u64).min(size);
        if head_end >= x_offset {
            let had = self.buf.len() as u64;
            read_exact_or_eof(&file, had, size - had, &mut self.buf)?;
            return Ok(Ok((file, info, ViewParts::Whole)));
        }
        let had = self.buf.len() as u64;
        read_exact_or_eof(&file, had, head_end - had, &mut self.buf)?;
        let head_len = self.buf.len();
        read_exact_or_eof(
            &file,
            x_offset,
            size.saturating_sub(x_offset),
            &mut self.buf,
        )?;
        Ok(Ok((
            file,
            info,
            ViewParts::Split {
                head_len,
                tail_start: x_offset,
            },
        )))
    }

    /// Reads the `kind` logfile of `id` into `self.log` through the safe
    /// open; false when there is none. A log that is not a regular file or
    /// is larger than [`LOG_FILE_LIMIT`] is reported to the visitor (by its
    /// path) and not read.
    fn read_log<V: Visitor>(
        &mut self,
        layout: &QueueLayout,
        queue_fd: BorrowedFd<'_>,
        kind: &str,
        id: &str,
        visitor: &mut V,
    ) -> bool {
        self.log.clear();
        layout.push_relative_path(&mut self.log_path, kind, id);
        let result = open_regular_at(queue_fd, &self.log_path).and_then(|(file, info)| {
            read_bounded(&file, 0, info.size, LOG_FILE_LIMIT, &mut self.log)
        });
        match result {
            Ok(()) => true,
            Err(OpenErrorKind::NotFound) => false,
            Err(e) => {
                self.log.clear();
                visitor.error(ScanError {
                    path: layout.queue_dir.join(&self.log_path),
                    kind: match e {
                        OpenErrorKind::Io(e) => ScanErrorKind::Io(e),
                        e => ScanErrorKind::Open(e),
                    },
                });
                false
            }
        }
    }
}

/// Where the bytes of `Worker::buf` sit in the file.
#[derive(Clone, Copy)]
enum ViewParts {
    Whole,
    Split { head_len: usize, tail_start: u64 },
}

impl ViewParts {
    fn view<'b>(&self, buf: &'b [u8], file_len: u64) -> FileView<'b> {
        match *self {
            ViewParts::Whole => FileView::whole(buf),
            ViewParts::Split {
                head_len,
                tail_start,
            } => FileView::partial(&buf[..head_len], tail_start, &buf[head_len..], file_len),
        }
    }
}

/// The content's start and the `X` record's offset, from a `C` record at
/// the start of `head`.
fn size_record_offsets(head: &[u8]) -> Option<(u64, u64)> {
    let rec = FileView::whole(head).record_at(0).ok()??;
    if rec.ty != queue_file::rec_type::REC_TYPE_SIZE {
        return None;
    }
    let size = SizeRecord::parse(rec.payload)?;
    Some((size.data_offset as u64, size.extracted_offset()?))
}

/// Scans the queues of `layout` named in `options`, calling a visitor made
/// by `make_visitor` for every message, in parallel. Directory listing
/// errors are reported to a visitor too. Visitors are made per worker job
/// and dropped when the scan ends; to combine their results without a
/// `Drop` and a lock, use [`scan_reduce`].
pub fn scan<V, F>(
    layout: &QueueLayout,
    options: &ScanOptions,
    progress: &ScanProgress,
    make_visitor: F,
) where
    F: Fn() -> V + Sync,
    V: Visitor + Send,
{
    scan_reduce(layout, options, progress, make_visitor, |a, b| {
        drop(b);
        a
    });
}

/// Scans the queues of `layout` named in `options` in parallel and returns
/// the visitors' results combined: each worker job folds its share of the
/// files into a visitor made by `make_visitor`, and `reduce` merges two
/// visitors into one until one is left (rayon's `fold` + `reduce`). With
/// no file to scan, the result is a fresh visitor. Directory listing
/// errors go to a visitor too.
///
/// ```no_run
/// use queue_scan::{scan_reduce, Message, QueueLayout, ReadPlan, ScanError, ScanOptions,
///                  ScanProgress, Visitor, MESSAGE_QUEUES};
/// #[derive(Default)]
/// struct Count(u64);
/// impl Visitor for Count {
///     fn message(&mut self, _: &Message<'_>) { self.0 += 1 }
///     fn error(&mut self, _: ScanError) {}
/// }
/// let layout = QueueLayout::with_defaults("/var/spool/postfix");
/// let options = ScanOptions::new(MESSAGE_QUEUES.to_vec(), ReadPlan::default());
/// let total = scan_reduce(&layout, &options, &ScanProgress::default(), Count::default,
///                         |a, b| Count(a.0 + b.0));
/// println!("{} messages", total.0);
/// ```
pub fn scan_reduce<V, F, R>(
    layout: &QueueLayout,
    options: &ScanOptions,
    progress: &ScanProgress,
    make_visitor: F,
    reduce: R,
) -> V
where
    F: Fn() -> V + Sync,
    R: Fn(V, V) -> V + Sync,
    V: Visitor + Send,
{
    let mut listings = Vec::new();
    let mut errors = Vec::new();
    let queue_fd = match crate::open::open_dir(&layout.queue_dir) {
        Ok(fd) => fd,
        Err(e) => {
            let mut visitor = make_visitor();
            progress.unreadable.fetch_add(1, Ordering::Relaxed);
            visitor.error(ScanError {
                path: e.path,
                kind: match e.kind {
                    OpenErrorKind::Io(e) => ScanErrorKind::Io(e),
                    OpenErrorKind::NotFound => ScanErrorKind::Io(io::ErrorKind::NotFound.into()),
                    kind => ScanErrorKind::Open(kind),
                },
            });
            return visitor;
        }
    };
    for &queue in &options.queues {
        list_queue(layout, queue, progress, &mut listings, &mut errors);
        #[cfg(test)]
        tests::hook(queue);
    }
    #[cfg(test)]
    tests::hook("listed");
    if options.queues.len() > 1 {
        list_again(layout, options, progress, &mut listings);
    }
    #[cfg(test)]
    tests::hook("listed again");
    let mut first = make_visitor();
    for e in errors {
        progress.unreadable.fetch_add(1, Ordering::Relaxed);
        first.error(e);
    }
    let read = options.read;
    let limit = effective_limit(options.file_size_limit);
    let queue_fd = queue_fd.as_fd();
    let folded = listings
        .par_iter()
        .flat_map(|listing| listing.names().map(move |id| (listing, id)))
        .fold(
            || (Worker::new(), make_visitor()),
            |(mut worker, mut visitor), (listing, id)| {
                if !progress.stop.load(Ordering::Relaxed) {
                    let job = Job {
                        layout,
                        read,
                        limit,
                        queue: listing.queue,
                        dir: &listing.dir,
                        queue_fd,
                        dir_fd: listing.dir_fd.as_ref().map(|fd: &OwnedFd| fd.as_fd()),
                        queues: &options.queues,
                    };
                    worker.process(&job, id, &mut visitor, progress);
                    progress.done.fetch_add(1, Ordering::Relaxed);
                }
                (worker, visitor)
            },
        )
        .map(|(_, visitor)| visitor)
        .reduce_with(&reduce);
    match folded {
        Some(rest) => reduce(first, rest),
        None => first,
    }
}

/// Reads and decodes one message by queue and ID (for `--explain` and the
/// re-check before acting) through the safe open ([`crate::open`]), and
/// calls `f` with it. `None` when the file is gone or still being written.
/// A defer log refused by the safe open is left out of the message
/// (`defer_log` is `None`), not reported. Files larger than
/// [`crate::open::DEFAULT_QUEUE_FILE_LIMIT`] are an error;
/// [`read_one_with_limit`] takes another limit.
pub fn read_one<R>(
    layout: &QueueLayout,
    queue: &'static str,
    id: &str,
    read: ReadPlan,
    f: impl FnOnce(Result<&Message<'_>, ScanError>) -> R,
) -> Option<R> {
    read_one_with_limit(
        layout,
        queue,
        id,
        read,
        crate::open::DEFAULT_QUEUE_FILE_LIMIT,
        f,
    )
}

/// [`read_one`] with a queue file size limit (0: the hard limit).
pub fn read_one_with_limit<R>(
    layout: &QueueLayout,
    queue: &'static str,
    id: &str,
    read: ReadPlan,
    limit: u64,
    f: impl FnOnce(Result<&Message<'_>, ScanError>) -> R,
) -> Option<R> {
    // The message wins over an error about its defer log (reported before
    // it): the caller gets the message, without the log.
    struct One<F, R> {
        f: Option<F>,
        error: Option<ScanError>,
        result: Option<R>,
    }
    impl<F: FnOnce(Result<&Message<'_>, ScanError>) -> R, R> Visitor for One<F, R> {
        fn message(&mut self, message: &Message<'_>) {
            if let Some(f) = self.f.take() {
                self.result = Some(f(Ok(message)));
            }
        }
        fn error(&mut self, error: ScanError) {
            self.error.get_or_insert(error);
        }
    }
    impl<F: FnOnce(Result<&Message<'_>, ScanError>) -> R, R> One<F, R> {
        fn finish(mut self) -> Option<R> {
            if let (Some(f), Some(error)) = (self.f.take(), self.error.take()) {
                self.result = Some(f(Err(error)));
            }
            self.result
        }
    }
    let mut visitor = One {
        f: Some(f),
        error: None,
        result: None,
    };
    let queue_fd = match crate::open::open_dir(&layout.queue_dir) {
        Ok(fd) => fd,
        Err(e) => {
            visitor.error(ScanError {
                path: e.path,
                kind: ScanErrorKind::Open(e.kind),
            });
            return visitor.finish();
        }
    };
    let path = layout.path(queue, id);
    let dir = path.parent().unwrap_or(&layout.queue_dir);
    let job = Job {
        layout,
        read,
        limit: effective_limit(limit),
        queue,
        dir,
        queue_fd: queue_fd.as_fd(),
        dir_fd: None,
        queues: &[],
    };
    Worker::new().process(&job, id, &mut visitor, &ScanProgress::default());
    visitor.finish()
}

#[cfg(test)]
mod tests {
    //! Moves during the scan, made deterministic by a hook the scan calls
    //! on its own thread after listing each queue ("maildrop", …), after
    //! the first listing ("listed") and after the second ("listed again").

    use super::*;
    use std::cell::RefCell;
    use std::os::unix::fs::PermissionsExt;

    type Hook = Box<dyn FnMut(&str)>;

    thread_local! {
        static HOOK: RefCell<Option<Hook>> = RefCell::new(None);
    }

    pub(super) fn hook(stage: &str) {
        HOOK.with(|h| {
            if let Some(f) = h.borrow_mut().as_mut() {
                f(stage)
            }
        });
    }

    #[derive(Default)]
    struct Seen {
        messages: Vec<(&'static str, String)>,
        errors: Vec<String>,
    }

    impl Visitor for Seen {
        fn message(&mut self, m: &Message<'_>) {
            self.messages.push((m.queue, m.id.to_string()));
        }
        fn error(&mut self, e: ScanError) {
            self.errors.push(e.to_string());
        }
    }

    fn queue_with(name: &str, files: &[(&str, &str)]) -> (PathBuf, QueueLayout) {
        let dir = std::env::temp_dir().join(format!("qs-move-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let layout = QueueLayout::with_defaults(&dir);
        for q in [
            "maildrop", "incoming", "active", "deferred", "hold", "defer",
        ] {
            std::fs::create_dir_all(dir.join(q)).unwrap();
        }
        let bytes = queue_file::QueueFileBuilder::new(b"s@example.com", 1_700_000_000)
            .recipient(b"r@example.org")
            .line(b"Subject: moved")
            .build();
        for (queue, id) in files {
            let path = layout.path(queue, id);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &bytes).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        (dir, layout)
    }

    fn scan_with_hook(layout: &QueueLayout, hook: impl FnMut(&str) + 'static) -> (Seen, ScanStats) {
        HOOK.with(|h| *h.borrow_mut() = Some(Box::new(hook)));
        let options = ScanOptions::new(
            vec!["incoming", "active", "deferred", "hold"],
            ReadPlan::default(),
        );
        let progress = ScanProgress::default();
        let seen = scan_reduce(layout, &options, &progress, Seen::default, |mut a, b| {
            a.messages.extend(b.messages);
            a.errors.extend(b.errors);
            a
        });
        HOOK.with(|h| *h.borrow_mut() = None);
        (seen, progress.stats())
    }

    /// qmgr renames deferred/A/ID to active/ID after both listings saw it
    /// in deferred: opening it there fails, and it is found in active.
    #[test]
    fn a_file_moved_after_listing_is_found_where_it_went() {
        let id = "A45E798E3F5";
        let (dir, layout) = queue_with("after", &[("deferred", id), ("hold", "B45E798E3F6")]);
        let (from, to) = (layout.path("deferred", id), layout.path("active", id));
        let (seen, stats) = scan_with_hook(&layout, move |stage| {
            if stage == "listed again" {
                std::fs::rename(&from, &to).unwrap();
            }
        });
        let mut messages = seen.messages;
        messages.sort();
        assert_eq!(
            messages,
            vec![
                ("active", id.to_string()),
                ("hold", "B45E798E3F6".to_string())
            ]
        );
        assert!(seen.errors.is_empty(), "{:?}", seen.errors);
        assert_eq!(stats.vanished, 0);
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// A message moved from deferred (not listed yet) into active (listed
    /// already) is in neither first listing: the second listing finds it.
    #[test]
    fn a_file_moved_into_a_listed_queue_is_found_by_the_second_listing() {
        let id = "C45E798E3F7";
        let (dir, layout) = queue_with("before", &[("deferred", id)]);
        let (from, to) = (layout.path("deferred", id), layout.path("active", id));
        let (seen, stats) = scan_with_hook(&layout, move |stage| {
            if stage == "active" {
                std::fs::rename(&from, &to).unwrap();
            }
        });
        assert_eq!(seen.messages, vec![("active", id.to_string())]);
        assert_eq!(stats.scanned, 1);
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// A file removed after listing (delivered) is counted as vanished,
    /// not an error.
    #[test]
    fn a_file_removed_after_listing_vanishes_quietly() {
        let id = "D45E798E3F8";
        let (dir, layout) = queue_with("gone", &[("hold", id)]);
        let path = layout.path("hold", id);
        let (seen, stats) = scan_with_hook(&layout, move |stage| {
            if stage == "listed again" {
                std::fs::remove_file(&path).unwrap();
            }
        });
        assert!(seen.messages.is_empty());
        assert!(seen.errors.is_empty(), "{:?}", seen.errors);
        assert_eq!(stats.vanished, 1);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
