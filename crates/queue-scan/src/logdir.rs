//! The directories of a scan's logfiles (`defer/`), opened once per scan.
//!
//! A summary or `list --json` of a deferred queue reads one defer log per
//! message: opened by its path relative to the queue directory
//! (`defer/A/A45E798E3F5`), each open walks three components with
//! `openat2(RESOLVE_NO_SYMLINKS)`. Opened instead relative to the hash
//! subdirectory, held open for the whole scan, it costs what a queue file
//! costs: one `openat` of a single name. Each subdirectory is opened the
//! first time a log in it is wanted, component by component with
//! `O_DIRECTORY | O_NOFOLLOW` (a planted symlink is refused, as the walk
//! refuses it), and only a successful open is kept: a subdirectory that
//! Postfix creates during the scan is found by the next log that needs it.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::OnceLock;

use rustix::fs::{Mode, OFlags};

use crate::layout::{hash_key_into, QueueLayout};

/// One logfile kind's directory and its hash subdirectories, for one scan.
pub(crate) struct LogDirs {
    kind: &'static str,
    /// Whether `kind` is hashed (depth 1: the only depth cached).
    hashed: bool,
    /// Hashing deeper than one level: every log opened by its path.
    uncached: bool,
    top: OnceLock<OwnedFd>,
    /// By the hash key's byte (queue IDs are ASCII).
    subdirs: Vec<OnceLock<OwnedFd>>,
}

impl LogDirs {
    /// Nothing opened yet: the directories of `kind` (e.g. `defer`).
    pub(crate) fn new(layout: &QueueLayout, kind: &'static str) -> LogDirs {
        let hashed = layout.is_hashed(kind);
        LogDirs {
            kind,
            hashed,
            uncached: hashed && layout.hash_queue_depth != 1,
            top: OnceLock::new(),
            subdirs: (0..128).map(|_| OnceLock::new()).collect(),
        }
    }

    /// The open directory that holds `id`'s log, when it can be opened
    /// safely and the layout allows; `None` means "open by the path".
    pub(crate) fn dir_of(&self, queue_fd: BorrowedFd<'_>, id: &str) -> Option<BorrowedFd<'_>> {
        if self.uncached {
            return None;
        }
        let top = cached(&self.top, || open_subdir(queue_fd, self.kind))?;
        if !self.hashed {
            return Some(top);
        }
        let mut buf = [0u8; 8];
        let key = *hash_key_into(id, &mut buf).first()?;
        // Only a plain name: never `.`, `/` or a non-ASCII byte.
        if !key.is_ascii_alphanumeric() {
            return None;
        }
        let name = [key];
        let name = std::str::from_utf8(&name).ok()?;
        cached(&self.subdirs[usize::from(key)], || open_subdir(top, name))
    }
}

/// The fd in `cell`, opened by `open` the first time it succeeds.
fn cached(
    cell: &OnceLock<OwnedFd>,
    open: impl FnOnce() -> Option<OwnedFd>,
) -> Option<BorrowedFd<'_>> {
    if let Some(fd) = cell.get() {
        return Some(fd.as_fd());
    }
    let fd = open()?;
    // Another thread may have opened it meanwhile: keep one, drop ours.
    let _ = cell.set(fd);
    cell.get().map(AsFd::as_fd)
}

/// `name` under `dir` as a directory, no symlink followed.
fn open_subdir(dir: BorrowedFd<'_>, name: &str) -> Option<OwnedFd> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    rustix::fs::openat(dir, name, flags, Mode::empty()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// A fresh directory, removed when dropped.
    struct Tmp(std::path::PathBuf);

    impl Tmp {
        fn new(name: &str) -> Tmp {
            let path =
                std::env::temp_dir().join(format!("qs-logdir-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&path);
            std::fs::create_dir(&path).unwrap();
            Tmp(path)
        }

        fn path(&self) -> &std::path::Path {
            &self.0
        }
    }

    impl Drop for Tmp {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn queue_dir(name: &str) -> (Tmp, OwnedFd) {
        let tmp = Tmp::new(name);
        let fd = crate::open::open_dir(tmp.path()).unwrap();
        (tmp, fd)
    }

    #[test]
    fn a_hash_subdirectory_is_opened_once_it_exists() {
        let (tmp, fd) = queue_dir("once");
        let layout = QueueLayout::with_defaults(tmp.path());
        let dirs = LogDirs::new(&layout, "defer");
        // No defer/ yet (Postfix creates it on demand): nothing cached.
        assert!(dirs.dir_of(fd.as_fd(), "A45E798E3F5").is_none());
        std::fs::create_dir_all(tmp.path().join("defer/A")).unwrap();
        std::fs::write(tmp.path().join("defer/A/A45E798E3F5"), b"log").unwrap();
        let dir = dirs.dir_of(fd.as_fd(), "A45E798E3F5").expect("defer/A");
        let (_, info) = crate::open::open_regular_at(dir, "A45E798E3F5".as_ref()).unwrap();
        assert_eq!(info.size, 3);
    }

    #[test]
    fn a_planted_symlink_is_not_followed() {
        let (tmp, fd) = queue_dir("link");
        let elsewhere = Tmp::new("elsewhere");
        std::fs::create_dir(elsewhere.path().join("A")).unwrap();
        std::fs::write(elsewhere.path().join("A/A45E798E3F5"), b"secret").unwrap();
        // defer itself a symlink, then defer/A a symlink.
        symlink(elsewhere.path(), tmp.path().join("defer")).unwrap();
        let layout = QueueLayout::with_defaults(tmp.path());
        assert!(LogDirs::new(&layout, "defer")
            .dir_of(fd.as_fd(), "A45E798E3F5")
            .is_none());
        std::fs::remove_file(tmp.path().join("defer")).unwrap();
        std::fs::create_dir(tmp.path().join("defer")).unwrap();
        symlink(elsewhere.path().join("A"), tmp.path().join("defer/A")).unwrap();
        assert!(LogDirs::new(&layout, "defer")
            .dir_of(fd.as_fd(), "A45E798E3F5")
            .is_none());
    }

    /// A FIFO or a file where `defer/` or `defer/A` should be: refused at once (`O_DIRECTORY`
    /// fails before a FIFO's open could wait for a writer), nothing cached, and the directory
    /// found once Postfix's own is in place.
    #[test]
    fn a_fifo_or_file_in_place_of_a_directory_is_refused_without_waiting() {
        let (tmp, fd) = queue_dir("fifo");
        let layout = QueueLayout::with_defaults(tmp.path());
        let mkfifo = |path: &std::path::Path| {
            rustix::fs::mknodat(
                rustix::fs::CWD,
                path,
                rustix::fs::FileType::Fifo,
                Mode::from_raw_mode(0o600),
                0,
            )
            .unwrap();
        };
        let (done, wait) = std::sync::mpsc::channel();
        let path = tmp.path().to_path_buf();
        let fd2 = fd.try_clone().unwrap();
        let dirs = LogDirs::new(&layout, "defer");
        std::thread::spawn(move || {
            let dirs = LogDirs::new(&QueueLayout::with_defaults(&path), "defer");
            mkfifo(&path.join("defer"));
            let top = dirs.dir_of(fd2.as_fd(), "A45E798E3F5").is_none();
            std::fs::remove_file(path.join("defer")).unwrap();
            std::fs::create_dir(path.join("defer")).unwrap();
            mkfifo(&path.join("defer/A"));
            let sub = dirs.dir_of(fd2.as_fd(), "A45E798E3F5").is_none();
            let _ = done.send((top, sub));
        });
        let (top, sub) = wait
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("a FIFO in place of a directory made the scan wait");
        assert!(top && sub, "a FIFO was taken for a directory");
        // A regular file in place of defer/A: refused too, then the real directory is found.
        std::fs::remove_file(tmp.path().join("defer/A")).unwrap();
        std::fs::write(tmp.path().join("defer/A"), b"").unwrap();
        assert!(dirs.dir_of(fd.as_fd(), "A45E798E3F5").is_none());
        std::fs::remove_file(tmp.path().join("defer/A")).unwrap();
        std::fs::create_dir(tmp.path().join("defer/A")).unwrap();
        assert!(dirs.dir_of(fd.as_fd(), "A45E798E3F5").is_some());
    }

    #[test]
    fn deeper_hashing_and_odd_ids_fall_back_to_the_path() {
        let (tmp, fd) = queue_dir("deep");
        std::fs::create_dir_all(tmp.path().join("defer/A/4")).unwrap();
        let deep = QueueLayout::new(tmp.path(), "deferred, defer", 2);
        assert!(LogDirs::new(&deep, "defer")
            .dir_of(fd.as_fd(), "A45E798E3F5")
            .is_none());
        let flat = QueueLayout::new(tmp.path(), "deferred", 1);
        let dirs = LogDirs::new(&flat, "defer");
        assert!(dirs.dir_of(fd.as_fd(), "A45E798E3F5").is_some());
        let hashed = LogDirs::new(&QueueLayout::with_defaults(tmp.path()), "defer");
        assert!(hashed.dir_of(fd.as_fd(), ".hidden").is_none());
    }
}
