//! The one safe way to open what the `postfix` user controls: queue files
//! and the defer, bounce and trace logs.
//!
//! qsurgeon runs as root; the queue subdirectories belong to `postfix`, so
//! anything in them may have been planted by a compromised daemon. Every
//! such file is opened here, and only here:
//!
//! - relative to a directory descriptor (`openat`), and for paths of more
//!   than one component with `openat2(RESOLVE_NO_SYMLINKS |
//!   RESOLVE_BENEATH)` where the kernel has it, so no symlink on the way is
//!   followed (the fallback walks the directories one `openat(O_DIRECTORY |
//!   O_NOFOLLOW)` at a time, to the same effect);
//! - with `O_NOFOLLOW` (a symlink to `/etc/shadow` or `/dev/zero` is not a
//!   queue file, as `mail_open_ok()` says with its `lstat`, postfix
//!   `src/global/mail_open_ok.c`), `O_NONBLOCK` (opening a planted FIFO
//!   must not wait for a writer), `O_NOCTTY` and `O_CLOEXEC`;
//! - checked with `fstat` on the descriptor (no `lstat`-then-open race):
//!   regular files only;
//! - read with a bound: queue files up to a limit the caller passes
//!   (derived from `message_size_limit`, see [`queue_file_limit`]), logs
//!   up to [`LOG_FILE_LIMIT`]. Buffers grow with `try_reserve` as the bytes
//!   arrive; `st_size` is only a hint, never trusted for an allocation on
//!   its own.
//!
//! The returned [`FileInfo`] (device, inode, mode, …) identifies the file
//! that was read, so a later step (a backup) can check it still acts on
//! the same file.

use std::fmt;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use rustix::fs::{FileType, Mode, OFlags, ResolveFlags};

use crate::layout::{QueueLayout, POSTCAT_SEARCH_ORDER};

/// Postfix's default `message_size_limit` (`src/global/mail_params.h`,
/// `DEF_MESSAGE_LIMIT`).
pub const POSTFIX_DEFAULT_MESSAGE_SIZE_LIMIT: u64 = 10_240_000;

/// Room for the envelope on top of the content: recipients, their
/// original addresses and DSN fields take about 100-200 bytes each, so
/// 64 MiB holds several hundred thousand recipients (an alias or list
/// expansion; SMTP clients are held to `smtpd_recipient_limit`, 1000).
pub const ENVELOPE_ROOM: u64 = 64 << 20;

/// How many times `message_size_limit` a queue file may take: the content
/// is stored as records (a few bytes per line on top of the line itself),
/// and a generous factor keeps legitimate mail well inside the limit.
pub const MESSAGE_SIZE_FACTOR: u64 = 4;

/// The largest queue file read when `message_size_limit` is 0 (no limit
/// in Postfix) or unknown: 1 GiB. A bound is needed anyway: a planted
/// sparse file of any apparent size must not be read into memory.
pub const HARD_QUEUE_FILE_LIMIT: u64 = 1 << 30;

/// The queue file limit for Postfix's default settings:
/// `queue_file_limit(POSTFIX_DEFAULT_MESSAGE_SIZE_LIMIT)`, about 108 MB.
pub const DEFAULT_QUEUE_FILE_LIMIT: u64 =
    MESSAGE_SIZE_FACTOR * POSTFIX_DEFAULT_MESSAGE_SIZE_LIMIT + ENVELOPE_ROOM;

/// The largest defer, bounce or trace log read: 16 MiB. Postfix's readers
/// (`src/global/bounce_log.c`) read these logs a line at a time, each line
/// bounded by `line_length_limit`; a log holds one entry of 6-8 lines
/// (about 300-600 bytes) per recipient of the last attempt (qmgr removes
/// the defer log when it moves the message into `active`,
/// `src/qmgr/qmgr_active.c`), so 16 MiB is a message with tens of
/// thousands of deferred recipients. Anything larger is not a log Postfix
/// wrote for one message.
pub const LOG_FILE_LIMIT: u64 = 16 << 20;

/// The queue file limit for a `message_size_limit` value: that many bytes
/// times [`MESSAGE_SIZE_FACTOR`] plus [`ENVELOPE_ROOM`]; 0 (no limit) gives
/// [`HARD_QUEUE_FILE_LIMIT`].
pub fn queue_file_limit(message_size_limit: u64) -> u64 {
    if message_size_limit == 0 {
        return HARD_QUEUE_FILE_LIMIT;
    }
    message_size_limit
        .saturating_mul(MESSAGE_SIZE_FACTOR)
        .saturating_add(ENVELOPE_ROOM)
}

/// The limit to apply for a caller's value: 0 means [`HARD_QUEUE_FILE_LIMIT`].
pub fn effective_limit(limit: u64) -> u64 {
    if limit == 0 {
        HARD_QUEUE_FILE_LIMIT
    } else {
        limit
    }
}

/// File facts from `fstat` on the descriptor that was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileInfo {
    /// Size in bytes.
    pub size: u64,
    /// `st_mode` (permission bits carry meaning: 0700 complete, 0010
    /// forced to expire).
    pub mode: u32,
    /// Modification time, epoch seconds (the next retry time for deferred
    /// mail).
    pub mtime: i64,
    /// Inode number (short queue IDs encode it).
    pub inode: u64,
    /// Device number.
    pub device: u64,
}

impl FileInfo {
    // The `st_*` field types differ between platforms.
    #[allow(clippy::unnecessary_cast)]
    fn from_stat(stat: &rustix::fs::Stat) -> FileInfo {
        FileInfo {
            size: stat.st_size as u64,
            mode: stat.st_mode as u32,
            mtime: stat.st_mtime as i64,
            inode: stat.st_ino as u64,
            device: stat.st_dev as u64,
        }
    }
}

/// What a non-regular file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileKind {
    /// A symbolic link.
    Symlink,
    /// A named pipe.
    Fifo,
    /// A directory.
    Directory,
    /// A character device.
    CharDevice,
    /// A block device.
    BlockDevice,
    /// A socket, or a device with no driver (`open` said `ENXIO`).
    Socket,
    /// Anything else.
    Unknown,
}

impl FileKind {
    /// The kind of a file of `st_mode` `mode`; `None` for a regular file.
    pub fn of_mode(mode: u32) -> Option<FileKind> {
        match FileType::from_raw_mode(mode as _) {
            FileType::RegularFile => None,
            FileType::Directory => Some(FileKind::Directory),
            FileType::Symlink => Some(FileKind::Symlink),
            FileType::Fifo => Some(FileKind::Fifo),
            FileType::CharacterDevice => Some(FileKind::CharDevice),
            FileType::BlockDevice => Some(FileKind::BlockDevice),
            FileType::Socket => Some(FileKind::Socket),
            _ => Some(FileKind::Unknown),
        }
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FileKind::Symlink => "a symbolic link",
            FileKind::Fifo => "a FIFO",
            FileKind::Directory => "a directory",
            FileKind::CharDevice => "a character device",
            FileKind::BlockDevice => "a block device",
            FileKind::Socket => "a socket",
            FileKind::Unknown => "not a regular file",
        })
    }
}

/// Why a file was not opened or read.
#[derive(Debug)]
#[non_exhaustive]
pub enum OpenErrorKind {
    /// It is not there (normal on a live queue: Postfix moved or removed it).
    NotFound,
    /// It is not a regular file; it was not read.
    NotRegular(FileKind),
    /// It is larger than the limit; it was not read (or not to the end).
    TooLarge {
        /// Its size (`st_size`, or the bytes read when it grew past the
        /// limit while being read).
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Memory for its bytes could not be had.
    OutOfMemory {
        /// The bytes asked for.
        bytes: u64,
    },
    /// Another I/O error.
    Io(io::Error),
}

impl OpenErrorKind {
    /// True for [`OpenErrorKind::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, OpenErrorKind::NotFound)
    }
}

impl fmt::Display for OpenErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenErrorKind::NotFound => f.write_str("no such file"),
            OpenErrorKind::NotRegular(FileKind::Unknown) => {
                f.write_str("not a regular file; not read")
            }
            OpenErrorKind::NotRegular(kind) => write!(f, "{kind}, not a regular file; not read"),
            OpenErrorKind::TooLarge { size, limit } => {
                write!(
                    f,
                    "{size} bytes, larger than the {limit}-byte limit; not read"
                )
            }
            OpenErrorKind::OutOfMemory { bytes } => {
                write!(f, "cannot allocate {bytes} bytes to read it")
            }
            OpenErrorKind::Io(e) => write!(f, "{e}"),
        }
    }
}

impl From<io::Error> for OpenErrorKind {
    fn from(e: io::Error) -> Self {
        OpenErrorKind::Io(e)
    }
}

impl From<rustix::io::Errno> for OpenErrorKind {
    fn from(e: rustix::io::Errno) -> Self {
        OpenErrorKind::Io(e.into())
    }
}

/// A file that could not be opened or read safely, with its path.
#[derive(Debug)]
pub struct OpenError {
    /// The file.
    pub path: PathBuf,
    /// What went wrong.
    pub kind: OpenErrorKind,
}

impl OpenError {
    /// True when the file is not there.
    pub fn is_not_found(&self) -> bool {
        self.kind.is_not_found()
    }
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.kind)
    }
}

impl std::error::Error for OpenError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            OpenErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}

/// Flags for every file the postfix user controls.
const FILE_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::NOFOLLOW)
    .union(OFlags::NONBLOCK)
    .union(OFlags::NOCTTY)
    .union(OFlags::CLOEXEC);

/// Cleared once `O_NOATIME` is refused (`EPERM`: it needs the file's owner
/// or `CAP_FOWNER`, which root has). Reading a queue file would otherwise
/// write its inode: Postfix sets a deferred file's atime to its next retry
/// time with its mtime (`qmgr_active.c`, `utime()`), so under `relatime`
/// every scan would update the atime of every such file again.
static NOATIME: AtomicBool = AtomicBool::new(true);

/// Cleared once `openat2` fails as unsupported (kernels before 5.6, or a
/// seccomp filter), so the fallback costs one failed call per process.
static HAVE_OPENAT2: AtomicBool = AtomicBool::new(true);

/// Opens `relative` under the directory `dir` without following any
/// symlink, and checks with `fstat` that it is a regular file. `relative`
/// may have several components (`defer/A/A45E798E3F5`); a single name
/// (the scan's case) costs one `openat`.
pub fn open_regular_at(
    dir: BorrowedFd<'_>,
    relative: &Path,
) -> Result<(File, FileInfo), OpenErrorKind> {
    let fd = open_no_follow(dir, relative).map_err(|e| match e {
        rustix::io::Errno::NOENT | rustix::io::Errno::NOTDIR => OpenErrorKind::NotFound,
        // O_NOFOLLOW on a symlink, or RESOLVE_NO_SYMLINKS on the way.
        rustix::io::Errno::LOOP => OpenErrorKind::NotRegular(FileKind::Symlink),
        // A socket, or a device without a driver.
        rustix::io::Errno::NXIO => OpenErrorKind::NotRegular(FileKind::Socket),
        e => OpenErrorKind::Io(e.into()),
    })?;
    let stat = rustix::fs::fstat(&fd)?;
    #[allow(clippy::unnecessary_cast)]
    if let Some(kind) = FileKind::of_mode(stat.st_mode as u32) {
        return Err(OpenErrorKind::NotRegular(kind));
    }
    Ok((File::from(fd), FileInfo::from_stat(&stat)))
}

fn open_no_follow(dir: BorrowedFd<'_>, relative: &Path) -> rustix::io::Result<OwnedFd> {
    if !NOATIME.load(Ordering::Relaxed) {
        return open_with(dir, relative, FILE_FLAGS);
    }
    match open_with(dir, relative, FILE_FLAGS | OFlags::NOATIME) {
        Err(rustix::io::Errno::PERM) => {
            // Not ours to leave the atime alone (not root): open as any reader.
            let again = open_with(dir, relative, FILE_FLAGS);
            if again.is_ok() {
                NOATIME.store(false, Ordering::Relaxed);
            }
            again
        }
        other => other,
    }
}

fn open_with(dir: BorrowedFd<'_>, relative: &Path, flags: OFlags) -> rustix::io::Result<OwnedFd> {
    let single = relative.components().nth(1).is_none();
    if !single && HAVE_OPENAT2.load(Ordering::Relaxed) {
        let resolve =
            ResolveFlags::NO_SYMLINKS | ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS;
        match rustix::fs::openat2(dir, relative, flags, Mode::empty(), resolve) {
            // O_NOATIME's EPERM: for the caller to retry without it first.
            Err(rustix::io::Errno::PERM) if flags.contains(OFlags::NOATIME) => {
                return Err(rustix::io::Errno::PERM);
            }
            Err(rustix::io::Errno::NOSYS | rustix::io::Errno::PERM) => {
                HAVE_OPENAT2.store(false, Ordering::Relaxed);
            }
            // EXDEV: a path escaping `dir` (`..`); an error, not a fallback.
            other => return other,
        }
    }
    if single {
        return rustix::fs::openat(dir, relative, flags, Mode::empty());
    }
    open_walking(dir, relative, flags)
}

/// `openat2(RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH)` done by hand: each
/// directory on the way opened with `O_DIRECTORY | O_NOFOLLOW` from the one
/// before, the last component with `flags` ([`FILE_FLAGS`]). A symlink anywhere is
/// `ELOOP`; `..`, `/` or `.` is `EXDEV`, as `RESOLVE_BENEATH` says.
fn open_walking(
    dir: BorrowedFd<'_>,
    relative: &Path,
    flags: OFlags,
) -> rustix::io::Result<OwnedFd> {
    use std::path::Component;
    let dir_flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let mut names = Vec::new();
    for component in relative.components() {
        match component {
            Component::Normal(name) => names.push(name),
            _ => return Err(rustix::io::Errno::XDEV),
        }
    }
    let Some((last, dirs)) = names.split_last() else {
        return Err(rustix::io::Errno::NOENT);
    };
    let mut current: Option<OwnedFd> = None;
    for name in dirs {
        let at = current.as_ref().map_or(dir, |fd| fd.as_fd());
        let next = rustix::fs::openat(at, *name, dir_flags, Mode::empty()).map_err(|e| {
            // O_DIRECTORY | O_NOFOLLOW on a symlink says ENOTDIR: look.
            let link = e == rustix::io::Errno::NOTDIR
                && rustix::fs::statat(at, *name, rustix::fs::AtFlags::SYMLINK_NOFOLLOW)
                    .is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Symlink);
            if link {
                rustix::io::Errno::LOOP
            } else {
                e
            }
        })?;
        current = Some(next);
    }
    let at = current.as_ref().map_or(dir, |fd| fd.as_fd());
    rustix::fs::openat(at, *last, flags, Mode::empty())
}

/// Opens a directory the scan reads (the queue directory, a queue, a hash
/// subdirectory) by absolute path. The queue directory itself is chosen by
/// root (`queue_directory`), so its path is followed as given.
pub fn open_dir(path: &Path) -> Result<OwnedFd, OpenError> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    rustix::fs::open(path, flags, Mode::empty()).map_err(|e| OpenError {
        path: path.to_path_buf(),
        kind: match e {
            rustix::io::Errno::NOENT => OpenErrorKind::NotFound,
            e => OpenErrorKind::Io(e.into()),
        },
    })
}

/// Appends up to `len` bytes at `offset` of `file` to `buf` (fewer at
/// EOF), growing `buf` with `try_reserve`.
pub(crate) fn read_exact_or_eof(
    file: &File,
    offset: u64,
    len: u64,
    buf: &mut Vec<u8>,
) -> Result<(), OpenErrorKind> {
    let start = buf.len();
    let want = usize::try_from(len).map_err(|_| OpenErrorKind::OutOfMemory { bytes: len })?;
    buf.try_reserve(want)
        .map_err(|_| OpenErrorKind::OutOfMemory { bytes: len })?;
    buf.resize(start + want, 0);
    let mut filled = 0;
    while filled < want {
        match file.read_at(&mut buf[start + filled..], offset + filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                buf.truncate(start);
                return Err(e.into());
            }
        }
    }
    buf.truncate(start + filled);
    Ok(())
}

/// Appends the bytes of `file` from `offset` to its end to `buf`, at most
/// `limit` bytes in all (`buf` included): more is
/// [`OpenErrorKind::TooLarge`]. `size_hint` (from `fstat`) sizes the first
/// read; the buffer grows in steps while reading, never past `limit + 1`.
/// When the first read returns less than it asked for and reaches the
/// hinted size, that is the end of a regular file: no extra `read` to see
/// 0.
pub fn read_bounded(
    file: &File,
    offset: u64,
    size_hint: u64,
    limit: u64,
    buf: &mut Vec<u8>,
) -> Result<(), OpenErrorKind> {
    let too_large = |size: u64| OpenErrorKind::TooLarge { size, limit };
    if size_hint > limit {
        return Err(too_large(size_hint));
    }
    let mut pos = offset;
    loop {
        let had = buf.len() as u64;
        if had > limit {
            return Err(too_large(had));
        }
        // Ask for what the hint says is left plus one byte (to see the
        // end), at least 8 KiB or what is there already (so a wrong hint
        // costs doublings, not quadratic copies), never more than one byte
        // past the limit; reserved exactly, so the buffer stays within it.
        let hinted_left = size_hint.saturating_sub(pos);
        let step = hinted_left
            .saturating_add(1)
            .max(8192)
            .max(had)
            .min(limit + 1 - had);
        let start = buf.len();
        let step_usize = step as usize;
        buf.try_reserve_exact(step_usize)
            .map_err(|_| OpenErrorKind::OutOfMemory { bytes: step })?;
        buf.resize(start + step_usize, 0);
        let got = loop {
            match file.read_at(&mut buf[start..], pos) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    buf.truncate(start);
                    return Err(e.into());
                }
            }
        };
        buf.truncate(start + got);
        pos += got as u64;
        if got == 0 || (got < step_usize && pos >= size_hint) {
            return if buf.len() as u64 > limit {
                Err(too_large(buf.len() as u64))
            } else {
                Ok(())
            };
        }
    }
}

/// Opens `id` in `queue` under `queue_dir` (the open queue directory),
/// regular files only.
pub fn open_queue_file_at(
    queue_dir: BorrowedFd<'_>,
    layout: &QueueLayout,
    queue: &str,
    id: &str,
) -> Result<(File, FileInfo), OpenError> {
    let relative = layout.relative_path(queue, id);
    open_regular_at(queue_dir, &relative).map_err(|kind| OpenError {
        path: layout.queue_dir.join(&relative),
        kind,
    })
}

/// Reads the whole queue file `id` of `queue`, refusing one larger than
/// `limit` bytes (0: [`HARD_QUEUE_FILE_LIMIT`]; see [`queue_file_limit`]).
/// Returns its bytes and the `fstat` facts of the descriptor they came
/// from.
pub fn read_queue_file(
    layout: &QueueLayout,
    queue: &str,
    id: &str,
    limit: u64,
) -> Result<(Vec<u8>, FileInfo), OpenError> {
    let dir = open_dir(&layout.queue_dir)?;
    let (file, info) = open_queue_file_at(dir.as_fd(), layout, queue, id)?;
    let mut bytes = Vec::new();
    read_bounded(&file, 0, info.size, effective_limit(limit), &mut bytes).map_err(|kind| {
        OpenError {
            path: layout.path(queue, id),
            kind,
        }
    })?;
    Ok((bytes, info))
}

/// The kinds of per-message log Postfix keeps (`src/global/mail_queue.h`).
pub const LOG_KINDS: &[&str] = &["defer", "bounce", "trace"];

/// Opens the `kind` log (`defer`, `bounce`, `trace`) of `id`, regular
/// files only, for a caller that copies it from the descriptor (check
/// [`FileInfo::size`] against [`LOG_FILE_LIMIT`], or use [`read_bounded`]).
pub fn open_log(layout: &QueueLayout, kind: &str, id: &str) -> Result<(File, FileInfo), OpenError> {
    let dir = open_dir(&layout.queue_dir)?;
    open_queue_file_at(dir.as_fd(), layout, kind, id)
}

/// Reads the `kind` log of `id` into `buf` (cleared first), at most
/// [`LOG_FILE_LIMIT`] bytes. A missing log is
/// [`OpenErrorKind::NotFound`] (see [`OpenError::is_not_found`]).
pub fn read_log(
    layout: &QueueLayout,
    kind: &str,
    id: &str,
    buf: &mut Vec<u8>,
) -> Result<FileInfo, OpenError> {
    let dir = open_dir(&layout.queue_dir)?;
    read_log_at(dir.as_fd(), layout, kind, id, buf)
}

/// [`read_log`] relative to the open queue directory.
pub fn read_log_at(
    queue_dir: BorrowedFd<'_>,
    layout: &QueueLayout,
    kind: &str,
    id: &str,
    buf: &mut Vec<u8>,
) -> Result<FileInfo, OpenError> {
    buf.clear();
    let (file, info) = open_queue_file_at(queue_dir, layout, kind, id)?;
    read_bounded(&file, 0, info.size, LOG_FILE_LIMIT, buf).map_err(|kind_err| OpenError {
        path: layout.path(kind, id),
        kind: kind_err,
    })?;
    Ok(info)
}

/// A queue file found by [`find_queue_file`], open.
#[derive(Debug)]
pub struct Found {
    /// The queue it is in.
    pub queue: &'static str,
    /// Its path relative to the queue directory.
    pub relative: PathBuf,
    /// The open file.
    pub file: File,
    /// `fstat` facts of `file`.
    pub info: FileInfo,
}

impl Found {
    /// Reads the whole file from its descriptor, refusing one larger than
    /// `limit` bytes (0: [`HARD_QUEUE_FILE_LIMIT`]; see
    /// [`queue_file_limit`]). `layout` names the file in an error.
    pub fn read(&self, layout: &QueueLayout, limit: u64) -> Result<Vec<u8>, OpenError> {
        let mut bytes = Vec::new();
        read_bounded(
            &self.file,
            0,
            self.info.size,
            effective_limit(limit),
            &mut bytes,
        )
        .map_err(|kind| OpenError {
            path: layout.queue_dir.join(&self.relative),
            kind,
        })?;
        Ok(bytes)
    }
}

/// Finds and opens `id` as `postcat -q` looks for it: each queue of
/// [`POSTCAT_SEARCH_ORDER`] at its hashed path, in two passes so a
/// message that moves between queues meanwhile is still found. A
/// non-regular file under the name is skipped (it is not a message).
pub fn find_queue_file(layout: &QueueLayout, id: &str) -> Result<Option<Found>, OpenError> {
    find(layout, id, false)
}

/// [`find_queue_file`] for a person who asked for this one ID (`show -q`,
/// triage's message view): when no regular file has the name but
/// something else does (a planted symlink, FIFO or directory), that is the
/// error, naming it, rather than "not in the queue".
pub fn find_queue_file_or_refusal(
    layout: &QueueLayout,
    id: &str,
) -> Result<Option<Found>, OpenError> {
    find(layout, id, true)
}

fn find(layout: &QueueLayout, id: &str, report_refused: bool) -> Result<Option<Found>, OpenError> {
    let dir = open_dir(&layout.queue_dir)?;
    let mut refused = None;
    for _pass in 0..2 {
        for &queue in POSTCAT_SEARCH_ORDER {
            let relative = layout.relative_path(queue, id);
            match open_regular_at(dir.as_fd(), &relative) {
                Ok((file, info)) => {
                    return Ok(Some(Found {
                        queue,
                        relative,
                        file,
                        info,
                    }))
                }
                Err(OpenErrorKind::NotFound) => {}
                Err(kind @ OpenErrorKind::NotRegular(_)) => {
                    if report_refused && refused.is_none() {
                        refused = Some(OpenError {
                            path: layout.queue_dir.join(relative),
                            kind,
                        });
                    }
                }
                Err(kind) => {
                    return Err(OpenError {
                        path: layout.queue_dir.join(relative),
                        kind,
                    })
                }
            }
        }
    }
    match refused {
        Some(e) => Err(e),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(name: &str, bytes: &[u8]) -> (PathBuf, File) {
        let path = std::env::temp_dir().join(format!("qs-open-{name}-{}", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        let file = File::open(&path).unwrap();
        (path, file)
    }

    /// A deferred file as Postfix leaves it: atime = mtime = the next retry
    /// (`qmgr_active.c`). Reading it as any reader does moves its atime
    /// under `relatime`; the scan's open must not (it writes nothing to the
    /// queue, not even an inode). Runs as root, as the scan does.
    #[test]
    fn reading_a_queue_file_leaves_its_atime_alone() {
        use std::os::unix::fs::MetadataExt;
        let retry = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
        let times = std::fs::FileTimes::new()
            .set_accessed(retry)
            .set_modified(retry);
        let (control, file) = temp_file("atime-control", b"queue file");
        file.set_times(times).unwrap();
        let before = std::fs::metadata(&control).unwrap().atime();
        std::fs::read(&control).unwrap();
        if std::fs::metadata(&control).unwrap().atime() == before {
            eprintln!("atime not updated by reads here (noatime mount?): nothing to show");
            return;
        }
        let (path, file) = temp_file("atime", b"queue file");
        file.set_times(times).unwrap();
        let before = std::fs::metadata(&path).unwrap().atime();
        let dir = open_dir(path.parent().unwrap()).unwrap();
        let (file, info) =
            open_regular_at(dir.as_fd(), path.file_name().unwrap().as_ref()).unwrap();
        let mut buf = Vec::new();
        read_bounded(&file, 0, info.size, 1000, &mut buf).unwrap();
        assert_eq!(buf, b"queue file");
        assert_eq!(std::fs::metadata(&path).unwrap().atime(), before);
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::remove_file(&control);
    }

    #[test]
    fn reads_stop_at_the_limit_whatever_the_hint_says() {
        let bytes: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
        let (path, file) = temp_file("bounded", &bytes);
        // Exactly at the limit: read whole, with a right or a wrong hint.
        for hint in [100_000, 0, 10] {
            let mut buf = Vec::new();
            read_bounded(&file, 0, hint, 100_000, &mut buf).unwrap();
            assert_eq!(buf, bytes, "hint {hint}");
        }
        // One byte over: refused, even when the hint hides it; the buffer
        // never grows past limit + 1.
        for hint in [100_000, 0] {
            let mut buf = Vec::new();
            let err = read_bounded(&file, 0, hint, 99_999, &mut buf).unwrap_err();
            assert!(
                matches!(err, OpenErrorKind::TooLarge { limit: 99_999, .. }),
                "{err}"
            );
            assert!(buf.capacity() <= 100_000 + 8192, "{}", buf.capacity());
        }
        // A hint beyond the limit is refused before any read.
        let mut buf = Vec::new();
        let err = read_bounded(&file, 0, 200 << 30, 1 << 20, &mut buf).unwrap_err();
        assert_eq!(
            err.to_string(),
            "214748364800 bytes, larger than the 1048576-byte limit; not read"
        );
        assert_eq!(buf.capacity(), 0);
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn the_fallback_walk_follows_no_symlink_on_the_way() {
        let root = std::env::temp_dir().join(format!("qs-open-walk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("q/defer/A")).unwrap();
        std::fs::create_dir_all(root.join("elsewhere")).unwrap();
        std::fs::write(root.join("q/defer/A/A1"), b"log\n").unwrap();
        std::fs::write(root.join("elsewhere/B1"), b"secret\n").unwrap();
        std::os::unix::fs::symlink(root.join("elsewhere"), root.join("q/defer/B")).unwrap();
        let dir = open_dir(&root.join("q")).unwrap();
        let dir = dir.as_fd();
        let fd = open_walking(dir, Path::new("defer/A/A1"), FILE_FLAGS).unwrap();
        let mut bytes = Vec::new();
        read_bounded(&File::from(fd), 0, 0, 100, &mut bytes).unwrap();
        assert_eq!(bytes, b"log\n");
        for (path, want) in [
            ("defer/B/B1", rustix::io::Errno::LOOP),
            ("defer/../../elsewhere/B1", rustix::io::Errno::XDEV),
            ("defer/C/C1", rustix::io::Errno::NOENT),
        ] {
            assert_eq!(
                open_walking(dir, Path::new(path), FILE_FLAGS).unwrap_err(),
                want,
                "{path}"
            );
        }
        // Through open_regular_at (openat2 where the kernel has it): the
        // same answer either way.
        assert!(matches!(
            open_regular_at(dir, Path::new("defer/B/B1")).unwrap_err(),
            OpenErrorKind::NotRegular(FileKind::Symlink)
        ));
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn limits_derive_from_message_size_limit() {
        assert_eq!(queue_file_limit(0), HARD_QUEUE_FILE_LIMIT);
        assert_eq!(
            queue_file_limit(POSTFIX_DEFAULT_MESSAGE_SIZE_LIMIT),
            DEFAULT_QUEUE_FILE_LIMIT
        );
        assert_eq!(queue_file_limit(u64::MAX), u64::MAX);
        assert_eq!(effective_limit(0), HARD_QUEUE_FILE_LIMIT);
        assert_eq!(effective_limit(5), 5);
    }
}
