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
use std::sync::Mutex;

use queue_file::{BounceLog, Envelope, FileView, Headers, LogKind, SizeRecord};
use rayon::prelude::*;

use crate::layout::QueueLayout;
use crate::listing::{DirListing, Listing};
use crate::logdir::LogDirs;
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
    /// Its place in the scan's order, showq's (see [`scan_ordered`]): the
    /// queues in the order scanned, each directory as the kernel lists it.
    /// Unique within one scan; 0 from [`read_one`].
    pub position: u64,
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
    /// The defer log's directories, when held open (a whole scan).
    logs: Option<&'j LogDirs>,
}

thread_local! {
    /// Each scan thread's buffers (see [`Work::one`]).
    static WORKER: std::cell::RefCell<Worker> = std::cell::RefCell::new(Worker::new());
}

/// Per-thread reusable state.
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

/// The most a thread keeps of a buffer between files: a rare large message
/// does not stay in memory once per thread.
const KEEP: usize = 256 * 1024;

impl Worker {
    /// Lets go of a buffer a large file grew.
    fn trim(&mut self) {
        if self.buf.capacity() > KEEP {
            self.buf = Vec::with_capacity(FIRST_READ * 2);
        }
        if self.log.capacity() > KEEP {
            self.log = Vec::new();
        }
    }

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
        position: u64,
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
            self.read_log(layout, queue_fd, job.logs, id, visitor)
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
                    position,
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
            ..
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
        dirs: Option<&LogDirs>,
        id: &str,
        visitor: &mut V,
    ) -> bool {
        const KIND: &str = "defer";
        self.log.clear();
        let opened = match dirs.and_then(|d| d.dir_of(queue_fd, id)) {
            // One name under the open hash directory: one openat.
            Some(dir) => open_regular_at(dir, Path::new(id)),
            None => {
                layout.push_relative_path(&mut self.log_path, KIND, id);
                open_regular_at(queue_fd, &self.log_path)
            }
        };
        let result = opened.and_then(|(file, info)| {
            read_bounded(&file, 0, info.size, LOG_FILE_LIMIT, &mut self.log)
        });
        match result {
            Ok(()) => true,
            Err(OpenErrorKind::NotFound) => false,
            Err(e) => {
                self.log.clear();
                layout.push_relative_path(&mut self.log_path, KIND, id);
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
/// errors are reported to a visitor too. Visitors are made per CPU (see
/// [`scan_reduce`]) and dropped when the scan ends; to combine their results without a
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
/// the visitors' results combined: there is one visitor per CPU, made by
/// `make_visitor` when first needed, which the reading threads hand their
/// messages to in turn (so a visitor needs no lock of its own); at the end
/// `reduce` merges them into one. With no file to scan, the result is a
/// fresh visitor. Directory listing errors go to a visitor too. Files are
/// read in inode order within each directory, in no order across them.
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
    let (queue_fd, listing, mut first) = match prepare(layout, options, progress, &make_visitor) {
        Ok(prepared) => prepared,
        Err(visitor) => return visitor,
    };
    // Each directory's files in inode order: on a cold cache the disk then
    // reads them in the order they sit, not in hash order.
    let orders: Vec<Vec<u32>> = listing.dirs.par_iter().map(|d| d.inode_order()).collect();
    let work = Work {
        layout,
        options,
        limit: effective_limit(options.file_size_limit),
        queue_fd: queue_fd.as_fd(),
        progress,
        logs: LogDirs::new(layout, "defer"),
    };
    // One visitor per CPU, not one per rayon job: the jobs' partial results
    // waiting to be reduced would hold many copies of the visitors' tables
    // at once (`summary` of 1M messages with 32 threads peaked at 188 MB).
    // Threads wait on the disk, visitors only use the CPU: a thread reads its
    // file unlocked and takes its slot's lock only to hand the message over.
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let slots: Vec<Mutex<Option<V>>> = (0..cpus.min(rayon::current_num_threads()))
        .map(|_| Mutex::new(None))
        .collect();
    listing
        .dirs
        .par_iter()
        .zip(orders.par_iter())
        .flat_map(|(d, order)| order.par_iter().map(move |&i| (d, i as usize)))
        .for_each(|(d, i)| {
            let slot = rayon::current_thread_index().map_or(0, |t| t % slots.len());
            let mut visitor = Slot {
                slot: &slots[slot],
                make: &make_visitor,
            };
            work.one(d, i, &mut visitor);
        });
    for slot in slots {
        if let Some(visitor) = slot.into_inner().unwrap_or_else(|e| e.into_inner()) {
            first = reduce(first, visitor);
        }
    }
    first
}

/// A visitor shared by several threads, made when first needed (see
/// [`scan_reduce`]).
struct Slot<'s, V, F> {
    slot: &'s Mutex<Option<V>>,
    make: &'s F,
}

impl<V: Visitor, F: Fn() -> V> Visitor for Slot<'_, V, F> {
    fn message(&mut self, message: &Message<'_>) {
        let mut slot = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        slot.get_or_insert_with(self.make).message(message);
    }

    fn error(&mut self, error: ScanError) {
        let mut slot = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        slot.get_or_insert_with(self.make).error(error);
    }
}

/// How many threads should read queue files when the caller does not say:
/// two per CPU, at least 32. A scan on a cold cache waits on the disk, and
/// keeps it busy only with many reads in flight (on a 2-core machine, 100k
/// messages, cold: 8.2 s with 2 threads, 3.4 s with 16, 2.8 s with 32); on a
/// warm cache the extra threads cost a few percent of CPU time
/// (BENCHMARKS.md).
pub fn default_threads() -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    (2 * cpus).max(32)
}

/// Makes every later scan of this process read with `threads` threads
/// (rayon's global pool). Call it first thing: once a scan has run, the
/// pool exists and this does nothing.
pub fn set_threads(threads: usize) {
    // Fails only when the pool exists already: then the first setting stays.
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build_global();
}

/// How many messages [`scan_ordered`] reads before handing them over.
const WINDOW: usize = 4096;

/// Scans like [`scan_reduce`], but hands the results over in showq's order
/// (`src/showq/showq.c`: the queues in `options.queues`' order, each
/// directory in the order the kernel lists it, hash subdirectories where
/// they were met), a window of a few thousand messages at a time: the
/// window's files are read in parallel (in inode order), its visitors
/// merged with `reduce`, and the one visitor given to `window`, which puts
/// the window's messages back in order by [`Message::position`] and
/// writes them out. Memory stays bounded by the window, whatever the size
/// of the queue. Directory listing errors go to the first window.
pub fn scan_ordered<V, F, R, W>(
    layout: &QueueLayout,
    options: &ScanOptions,
    progress: &ScanProgress,
    make_visitor: F,
    reduce: R,
    mut window: W,
) where
    F: Fn() -> V + Sync,
    R: Fn(V, V) -> V + Sync,
    V: Visitor + Send,
    W: FnMut(V),
{
    let (queue_fd, listing, mut first) = match prepare(layout, options, progress, &make_visitor) {
        Ok(prepared) => prepared,
        Err(visitor) => return window(visitor),
    };
    let work = Work {
        layout,
        options,
        limit: effective_limit(options.file_size_limit),
        queue_fd: queue_fd.as_fd(),
        progress,
        logs: LogDirs::new(layout, "defer"),
    };
    let mut batch: Vec<(u64, u32, u32)> = Vec::with_capacity(WINDOW);
    let (mut d, mut i) = (0, 0);
    loop {
        batch.clear();
        while batch.len() < WINDOW && d < listing.dirs.len() {
            let dir = &listing.dirs[d];
            if i < dir.len() {
                batch.push((dir.inodes[i], d as u32, i as u32));
                i += 1;
            } else {
                (d, i) = (d + 1, 0);
            }
        }
        if batch.is_empty() || progress.stop.load(Ordering::Relaxed) {
            break;
        }
        batch.sort_unstable();
        let folded = batch
            .par_iter()
            .fold(&make_visitor, |mut visitor, &(_, d, i)| {
                work.one(&listing.dirs[d as usize], i as usize, &mut visitor);
                visitor
            })
            .reduce_with(&reduce);
        if let Some(rest) = folded {
            first = reduce(first, rest);
        }
        window(first);
        first = make_visitor();
    }
    window(first);
}

/// What every file of one scan shares.
struct Work<'w> {
    layout: &'w QueueLayout,
    options: &'w ScanOptions,
    limit: u64,
    queue_fd: BorrowedFd<'w>,
    progress: &'w ScanProgress,
    /// The defer log's directories, held open for the scan.
    logs: LogDirs,
}

impl Work<'_> {
    /// Reads the `i`th file of `d` into `visitor`, unless the scan was
    /// stopped, with this thread's [`Worker`]: its buffers live as long as
    /// the thread, from file to file and scan to scan.
    fn one<V: Visitor>(&self, d: &DirListing, i: usize, visitor: &mut V) {
        if self.progress.stop.load(Ordering::Relaxed) {
            return;
        }
        let job = Job {
            layout: self.layout,
            read: self.options.read,
            limit: self.limit,
            queue: d.queue,
            dir: &d.dir,
            queue_fd: self.queue_fd,
            dir_fd: Some(d.dir_fd.as_fd()),
            queues: &self.options.queues,
            logs: Some(&self.logs),
        };
        WORKER.with(|worker| match worker.try_borrow_mut() {
            Ok(mut worker) => {
                worker.process(&job, d.name(i), d.first + i as u64, visitor, self.progress);
                worker.trim();
            }
            // Only if a visitor started a scan of its own on this thread.
            Err(_) => {
                Worker::new().process(&job, d.name(i), d.first + i as u64, visitor, self.progress)
            }
        });
        self.progress.done.fetch_add(1, Ordering::Relaxed);
    }
}

/// Opens the queue directory and lists the queues (see [`crate::listing`]).
/// The visitor returned carries the listing errors; when the queue
/// directory cannot be opened, it is the error, and the scan is over.
fn prepare<V: Visitor, F: Fn() -> V>(
    layout: &QueueLayout,
    options: &ScanOptions,
    progress: &ScanProgress,
    make_visitor: &F,
) -> Result<(OwnedFd, Listing, V), V> {
    let mut visitor = make_visitor();
    let queue_fd = match crate::open::open_dir(&layout.queue_dir) {
        Ok(fd) => fd,
        Err(e) => {
            progress.unreadable.fetch_add(1, Ordering::Relaxed);
            visitor.error(ScanError {
                path: e.path,
                kind: match e.kind {
                    OpenErrorKind::Io(e) => ScanErrorKind::Io(e),
                    OpenErrorKind::NotFound => ScanErrorKind::Io(io::ErrorKind::NotFound.into()),
                    kind => ScanErrorKind::Open(kind),
                },
            });
            return Err(visitor);
        }
    };
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let mut listing = Listing::default();
    for &queue in &options.queues {
        listing.add_queue(layout, queue, progress);
        #[cfg(test)]
        tests::hook(queue);
    }
    #[cfg(test)]
    tests::hook("listed");
    // A move between queues needs two of them.
    if options.queues.len() > 1 {
        listing.add_moved(layout, started, progress);
    }
    #[cfg(test)]
    tests::hook("listed again");
    listing.number();
    for e in listing.errors.drain(..) {
        progress.unreadable.fetch_add(1, Ordering::Relaxed);
        visitor.error(e);
    }
    Ok((queue_fd, listing, visitor))
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
        logs: None,
    };
    Worker::new().process(&job, id, 0, &mut visitor, &ScanProgress::default());
    visitor.finish()
}

#[cfg(test)]
pub(crate) mod tests {
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

    thread_local! {
        static RELISTED: RefCell<Vec<PathBuf>> = const { RefCell::new(Vec::new()) };
    }

    /// Called for each directory listed again.
    pub(crate) fn relisted(dir: &Path) {
        RELISTED.with(|r| r.borrow_mut().push(dir.to_path_buf()));
    }

    fn take_relisted() -> Vec<PathBuf> {
        RELISTED.with(|r| std::mem::take(&mut *r.borrow_mut()))
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

    /// Every directory of the queue, with an mtime an hour old: nothing
    /// changed there since.
    fn age_dirs(root: &Path) {
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        for entry in walk(root) {
            std::fs::File::open(&entry)
                .unwrap()
                .set_modified(old)
                .unwrap();
        }
    }

    fn walk(root: &Path) -> Vec<PathBuf> {
        let mut dirs = vec![root.to_path_buf()];
        let mut i = 0;
        while i < dirs.len() {
            for e in std::fs::read_dir(&dirs[i]).unwrap() {
                let e = e.unwrap();
                if e.file_type().unwrap().is_dir() {
                    dirs.push(e.path());
                }
            }
            i += 1;
        }
        dirs
    }

    /// On a queue where nothing moved, each directory is listed once: the
    /// second look costs one fstat per directory, not a second listing.
    #[test]
    fn an_unchanged_queue_is_listed_once() {
        let (dir, layout) = queue_with(
            "once",
            &[
                ("deferred", "E45E798E3F9"),
                ("hold", "F45E798E3FA"),
                ("active", "A45E798E3FB"),
            ],
        );
        age_dirs(&dir);
        take_relisted();
        let (seen, _) = scan_with_hook(&layout, |_| {});
        assert_eq!(seen.messages.len(), 3);
        assert_eq!(take_relisted(), Vec::<PathBuf>::new());
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// A message moved into a queue listed already changes that
    /// directory's mtime: that directory, and only it, is listed again,
    /// and the message is found there once.
    #[test]
    fn a_move_into_a_listed_directory_is_found_by_listing_it_again() {
        let id = "B45E798E3FC";
        let (dir, layout) = queue_with("mtime", &[("deferred", id), ("hold", "C45E798E3FD")]);
        age_dirs(&dir);
        take_relisted();
        let (from, to) = (layout.path("deferred", id), layout.path("active", id));
        let (seen, stats) = scan_with_hook(&layout, move |stage| {
            if stage == "active" {
                std::fs::rename(&from, &to).unwrap();
            }
        });
        let mut messages = seen.messages;
        messages.sort();
        assert_eq!(
            messages,
            vec![
                ("active", id.to_string()),
                ("hold", "C45E798E3FD".to_string())
            ]
        );
        assert_eq!(stats.scanned, 2);
        // deferred/B changed too (the file left it): listed again, nothing new there.
        let relisted = take_relisted();
        assert!(
            relisted.contains(&layout.queue_dir.join("active")),
            "{relisted:?}"
        );
        assert!(
            !relisted.contains(&layout.queue_dir.join("hold")),
            "{relisted:?}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// scan_ordered hands messages over in the order the directories list
    /// them, queue after queue, whatever the order they were read in.
    #[test]
    fn ordered_scan_follows_the_directory_order() {
        let ids: Vec<String> = (0..300)
            .map(|i| format!("{:X}{:07X}", 0xA + i % 6, i * 7919))
            .collect();
        let files: Vec<(&str, &str)> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (if i % 3 == 0 { "hold" } else { "deferred" }, id.as_str()))
            .collect();
        let (dir, layout) = queue_with("ordered", &files);
        // The order showq would see: readdir order, depth first, queue by queue.
        fn showq_order(dir: &Path, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let e = e.unwrap();
                let name = e.file_name().into_string().unwrap();
                if name.len() == 1 {
                    showq_order(&e.path(), out);
                } else {
                    out.push(name);
                }
            }
        }
        let mut expected = Vec::new();
        for q in ["deferred", "hold"] {
            showq_order(&layout.queue_dir.join(q), &mut expected);
        }
        let options = ScanOptions::new(vec!["deferred", "hold"], ReadPlan::default());
        #[derive(Default)]
        struct Positions(Vec<(u64, String)>);
        impl Visitor for Positions {
            fn message(&mut self, m: &Message<'_>) {
                self.0.push((m.position, m.id.to_string()));
            }
            fn error(&mut self, e: ScanError) {
                panic!("{e}");
            }
        }
        let mut got = Vec::new();
        let mut windows = 0;
        scan_ordered(
            &layout,
            &options,
            &ScanProgress::default(),
            Positions::default,
            |mut a, b| {
                a.0.extend(b.0);
                a
            },
            |mut w| {
                windows += 1;
                w.0.sort();
                got.extend(w.0);
            },
        );
        let positions: Vec<u64> = got.iter().map(|(p, _)| *p).collect();
        assert_eq!(positions, (0..300).collect::<Vec<u64>>());
        let got: Vec<String> = got.into_iter().map(|(_, id)| id).collect();
        assert_eq!(got, expected);
        assert!(windows >= 2, "the last window is always handed over");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
