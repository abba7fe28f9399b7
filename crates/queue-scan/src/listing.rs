//! Listing the queue directories once, in showq's order, and catching what
//! Postfix moved while they were listed.
//!
//! showq (`src/showq/showq.c`) walks maildrop, active, incoming, deferred
//! and hold one after another; within a queue, `mail_scan_dir_next()`
//! (`src/global/mail_scan_dir.c`, `src/util/scan_dir.c`) takes names in
//! `readdir()` order and enters a one-character name (a hash subdirectory)
//! the moment it meets it. The listing here keeps that order: names in the
//! order the kernel returns them, subdirectories in the order they were
//! found, so that `list` prints what `postqueue -p` prints, line for line,
//! on an unchanged queue. Files are then *read* in inode order (cheaper on
//! a cold cache) and put back in this order when printed.
//!
//! Subdirectories of a hashed queue are listed in parallel. Each directory
//! is listed once; its mtime is taken before it is read. After the last
//! queue, a directory whose mtime moved (or is too recent to trust, see
//! [`RECENT`]) is listed again, and names it did not have and that no other
//! queue listed are added: a message that qmgr renamed from a queue not
//! listed yet into one listed already (deferred -> active) is found, at the
//! cost of one `fstat` per directory when nothing moved.

use std::collections::{HashMap, HashSet};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use rayon::prelude::*;
use rustix::fs::{AtFlags, FileType, Mode, OFlags};

use crate::layout::{hash_prefix_matches, is_valid_queue_id, QueueLayout};
use crate::open::{FileKind, OpenErrorKind};
use crate::scan::{ScanError, ScanErrorKind, ScanProgress};

/// How close to the start of the listing a directory's mtime may be and
/// still be trusted as "unchanged". File timestamps come from the kernel's
/// coarse clock (one tick, a few ms; whole seconds on some filesystems), so
/// a rename in the same tick as an earlier change leaves the mtime as it
/// was: such a directory is listed again.
const RECENT: i64 = 2;

/// Bytes of directory entries read per `getdents64` call.
const GETDENTS_BUFFER: usize = 256 * 1024;

/// The names found in one directory, packed in one buffer, in the order
/// the directory returned them.
pub(crate) struct DirListing {
    pub(crate) queue: &'static str,
    pub(crate) dir: PathBuf,
    /// The directory, open: files are opened relative to it (`openat`),
    /// which spares the kernel a full path walk per file.
    pub(crate) dir_fd: OwnedFd,
    /// Its mtime (seconds, nanoseconds), taken before it was read.
    mtime: (i64, i64),
    /// The hash subdirectories on the way to it (`hash_dirs` of
    /// [`crate::layout::hash_prefix_matches`]).
    hash_dirs: Vec<u8>,
    /// The one-character subdirectories found in it.
    subdirs: Vec<u8>,
    names: String,
    ends: Vec<u32>,
    /// Each name's inode number (`d_ino`), for reading in inode order.
    pub(crate) inodes: Vec<u64>,
    /// The position of its first name in the scan's order.
    pub(crate) first: u64,
}

impl DirListing {
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    pub(crate) fn name(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.names[start..self.ends[i] as usize]
    }

    fn names(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).map(move |i| self.name(i))
    }

    /// The indexes of its names in inode order.
    pub(crate) fn inode_order(&self) -> Vec<u32> {
        let mut order: Vec<u32> = (0..self.len() as u32).collect();
        order.sort_unstable_by_key(|&i| self.inodes[i as usize]);
        order
    }
}

/// Lists `queues` of `layout` as a scan lists them, reading no file: each
/// directory once, hash subdirectories where met, only the names that are
/// queue IDs where `mail_queue_path()` puts them. Calls `f` with the queue,
/// the queue ID and its inode (`d_ino`) of every file, in showq's order.
/// A queue that cannot be listed lists nothing (a missing one, as showq).
pub fn list_queues(
    layout: &QueueLayout,
    queues: &[&'static str],
    mut f: impl FnMut(&'static str, &str, u64),
) {
    let progress = ScanProgress::default();
    let mut listing = Listing::default();
    for &queue in queues {
        listing.add_queue(layout, queue, &progress);
    }
    for d in &listing.dirs {
        for i in 0..d.len() {
            f(d.queue, d.name(i), d.inodes[i]);
        }
    }
}

/// Every directory of the scanned queues, in showq's order, and what
/// could not be listed.
#[derive(Default)]
pub(crate) struct Listing {
    pub(crate) dirs: Vec<DirListing>,
    pub(crate) errors: Vec<ScanError>,
}

impl Listing {
    /// Lists `queue` (see the module documentation) and appends it. The
    /// queue itself is reached by path: the queue directory belongs to root
    /// (`postfix-files`), so the postfix user cannot plant a symlink there.
    pub(crate) fn add_queue(
        &mut self,
        layout: &QueueLayout,
        queue: &'static str,
        progress: &ScanProgress,
    ) {
        let dir = layout.queue_dir.join(queue);
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        match rustix::fs::open(&dir, flags, Mode::empty()) {
            Ok(fd) => {
                let listed = list_tree(layout, queue, dir, fd, Vec::new(), progress);
                self.append(listed);
            }
            Err(rustix::io::Errno::NOENT) => {}
            Err(e) => self.errors.push(ScanError {
                path: dir,
                kind: ScanErrorKind::Io(e.into()),
            }),
        }
    }

    fn append(&mut self, mut other: Listing) {
        self.dirs.append(&mut other.dirs);
        self.errors.append(&mut other.errors);
    }

    /// Lists again the directories changed since they were listed (or
    /// changed too recently to tell, see [`RECENT`]) and appends, as new
    /// directory listings, the names found there that no listing has.
    /// `started` is the wall-clock second the listing began. Errors and
    /// other counts were reported by the first listing; `progress.listed`
    /// counts the names added.
    pub(crate) fn add_moved(
        &mut self,
        layout: &QueueLayout,
        started: i64,
        progress: &ScanProgress,
    ) {
        let scratch = ScanProgress::default();
        let mut added = Listing::default();
        for i in 0..self.dirs.len() {
            let d = &self.dirs[i];
            let Ok(stat) = rustix::fs::fstat(&d.dir_fd) else {
                continue;
            };
            let mtime = mtime_of(&stat);
            if mtime == d.mtime && mtime.0 < started - RECENT {
                continue;
            }
            #[cfg(test)]
            crate::scan::tests::relisted(&d.dir);
            // Read it again from its start, through a new descriptor (a
            // duplicate would share the old one's position, at its end).
            let Ok(fd) = rustix::fs::openat(
                &d.dir_fd,
                ".",
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            ) else {
                continue;
            };
            let again = list_one(
                layout,
                d.queue,
                d.dir.clone(),
                fd,
                d.hash_dirs.clone(),
                &scratch,
            );
            let known: HashSet<&str> = d.names().collect();
            let mut fresh = again.listing;
            let new_subdirs: Vec<u8> = fresh
                .subdirs
                .iter()
                .copied()
                .filter(|s| !d.subdirs.contains(s))
                .collect();
            fresh.retain(|name| !known.contains(name));
            added.dirs.push(fresh);
            // A hash directory made since (Postfix makes them on demand):
            // everything in it is new.
            for s in new_subdirs {
                let name = [s];
                let name = std::str::from_utf8(&name).unwrap_or("_");
                if let Ok(sub_fd) = open_subdir(&d.dir_fd, name) {
                    let mut hash_dirs = d.hash_dirs.clone();
                    hash_dirs.push(s);
                    let sub = list_tree(
                        layout,
                        d.queue,
                        d.dir.join(name),
                        sub_fd,
                        hash_dirs,
                        &scratch,
                    );
                    added.dirs.extend(sub.dirs);
                }
            }
        }
        // A name another queue's listing has was moved there and back, or
        // is found where it went when read (`Worker::locate`): not added
        // twice. Nor is a name two re-listed directories both found.
        let by_dir: HashMap<&Path, usize> = self
            .dirs
            .iter()
            .enumerate()
            .map(|(i, d)| (d.dir.as_path(), i))
            .collect();
        let mut listed_in: HashMap<usize, HashSet<&str>> = HashMap::new();
        let mut taken: HashSet<String> = HashSet::new();
        let mut path = PathBuf::new();
        let queues: Vec<&'static str> = {
            let mut q: Vec<&'static str> = self.dirs.iter().map(|d| d.queue).collect();
            q.dedup();
            q
        };
        for fresh in &mut added.dirs {
            let queue = fresh.queue;
            fresh.retain(|name| {
                for &other in &queues {
                    if other == queue {
                        continue;
                    }
                    layout.push_path(&mut path, other, name);
                    let Some(&j) = path.parent().and_then(|p| by_dir.get(p)) else {
                        continue;
                    };
                    let names = listed_in
                        .entry(j)
                        .or_insert_with(|| self.dirs[j].names().collect());
                    if names.contains(name) {
                        return false;
                    }
                }
                taken.insert(name.to_string())
            });
        }
        added.dirs.retain(|d| d.len() > 0);
        progress.listed.fetch_add(
            added.dirs.iter().map(|d| d.len() as u64).sum(),
            Ordering::Relaxed,
        );
        self.dirs.append(&mut added.dirs);
    }

    /// Numbers the names in order (see [`DirListing::first`]).
    pub(crate) fn number(&mut self) {
        let mut next = 0;
        for d in &mut self.dirs {
            d.first = next;
            next += d.len() as u64;
        }
    }
}

impl DirListing {
    /// Keeps the names for which `keep` says true.
    fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        let mut names = String::new();
        let mut ends = Vec::new();
        let mut inodes = Vec::new();
        for i in 0..self.len() {
            let name = self.name(i);
            if keep(name) {
                names.push_str(name);
                ends.push(names.len() as u32);
                inodes.push(self.inodes[i]);
            }
        }
        self.names = names;
        self.ends = ends;
        self.inodes = inodes;
    }
}

/// One directory's listing and the errors met reading it.
struct One {
    listing: DirListing,
    errors: Vec<ScanError>,
}

/// Lists the open directory `fd` at `dir` and, in parallel, the hash
/// subdirectories in it, in the order they were found (showq enters each
/// when it meets it). Subdirectories are opened relative to `fd` with
/// `O_NOFOLLOW`: the postfix user owns these directories, and a hash
/// directory swapped for a symlink is not entered.
fn list_tree(
    layout: &QueueLayout,
    queue: &'static str,
    dir: PathBuf,
    fd: OwnedFd,
    hash_dirs: Vec<u8>,
    progress: &ScanProgress,
) -> Listing {
    let One { listing, errors } = list_one(layout, queue, dir, fd, hash_dirs, progress);
    let subs: Vec<Listing> = listing
        .subdirs
        .par_iter()
        .map(|&s| {
            let name = [s];
            let name = std::str::from_utf8(&name).unwrap_or("_");
            let path = listing.dir.join(name);
            match open_subdir(&listing.dir_fd, name) {
                Ok(sub_fd) => {
                    let mut deeper = listing.hash_dirs.clone();
                    deeper.push(s);
                    list_tree(layout, queue, path, sub_fd, deeper, progress)
                }
                // Gone since listed.
                Err(rustix::io::Errno::NOENT) => Listing::default(),
                // Swapped for a symlink (ELOOP/ENOTDIR) since listed.
                Err(e) => Listing {
                    dirs: Vec::new(),
                    errors: vec![ScanError {
                        path,
                        kind: match e {
                            rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR => {
                                ScanErrorKind::Open(OpenErrorKind::NotRegular(FileKind::Symlink))
                            }
                            e => ScanErrorKind::Io(e.into()),
                        },
                    }],
                },
            }
        })
        .collect();
    let mut all = Listing {
        dirs: vec![listing],
        errors,
    };
    for sub in subs {
        all.append(sub);
    }
    all
}

fn open_subdir(fd: &OwnedFd, name: &str) -> rustix::io::Result<OwnedFd> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    rustix::fs::openat(fd, name, flags, Mode::empty())
}

/// Reads the names of one directory (not its subdirectories) by Postfix's
/// rules (see [`crate::scan`]): one-character names are hash
/// subdirectories, other names must be queue IDs at the hash depth
/// `mail_queue_path()` would build for them (`src/global/mail_queue.c`).
fn list_one(
    layout: &QueueLayout,
    queue: &'static str,
    dir: PathBuf,
    fd: OwnedFd,
    hash_dirs: Vec<u8>,
    progress: &ScanProgress,
) -> One {
    let mtime = rustix::fs::fstat(&fd)
        .map(|st| mtime_of(&st))
        .unwrap_or((i64::MAX, 0));
    let mut errors = Vec::new();
    let mut listing = DirListing {
        queue,
        dir,
        dir_fd: fd,
        mtime,
        hash_dirs,
        subdirs: Vec::new(),
        names: String::new(),
        ends: Vec::new(),
        inodes: Vec::new(),
        first: 0,
    };
    let expected_depth = if layout.is_hashed(queue) {
        layout.hash_queue_depth
    } else {
        0
    };
    // One getdents64 call per GETDENTS_BUFFER bytes of entries (rustix's
    // `Dir` grows its buffer to about 24 KiB): a 60,000-name hash directory
    // of a million-message queue is read in a dozen calls. The listing owns
    // a fresh descriptor of the directory, so reading moves no one else's
    // offset.
    let mut buf = Vec::with_capacity(GETDENTS_BUFFER);
    let mut entries = rustix::fs::RawDir::new(&listing.dir_fd, buf.spare_capacity_mut());
    while let Some(entry) = entries.next() {
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
            match hash_entry(&listing.dir_fd, name, entry.file_type()) {
                Some(FileType::Directory) => listing.subdirs.push(name.as_bytes()[0]),
                Some(FileType::Symlink) => errors.push(ScanError {
                    path: listing.dir.join(name),
                    kind: ScanErrorKind::Open(OpenErrorKind::NotRegular(FileKind::Symlink)),
                }),
                _ => {}
            }
            continue;
        }
        if !is_valid_queue_id(name) {
            // `<usec>.<pid>`: mail_queue_enter() is still creating it.
            if name.contains('.') && name.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                progress.in_progress.fetch_add(1, Ordering::Relaxed);
            }
            continue;
        }
        if listing.hash_dirs.len() != expected_depth
            || !hash_prefix_matches(name, &listing.hash_dirs)
        {
            progress.misplaced.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        listing.names.push_str(name);
        listing.ends.push(listing.names.len() as u32);
        listing.inodes.push(entry.ino());
    }
    progress
        .listed
        .fetch_add(listing.len() as u64, Ordering::Relaxed);
    One { listing, errors }
}

/// The type of a one-character name in a queue directory: a directory is
/// a hash subdirectory to list; a symlink is an error (showq's
/// scan_dir_push() would follow it with opendir(); it is not entered, and
/// said, since nothing Postfix makes is a symlink there). Anything else
/// with a one-character name is not Postfix's and is passed over, as showq
/// does.
fn hash_entry(fd: &OwnedFd, name: &str, file_type: FileType) -> Option<FileType> {
    match file_type {
        // No d_type from this filesystem: ask, without following a symlink.
        FileType::Unknown => rustix::fs::statat(fd, name, AtFlags::SYMLINK_NOFOLLOW)
            .ok()
            .map(|st| FileType::from_raw_mode(st.st_mode)),
        file_type => Some(file_type),
    }
}

/// A directory's mtime as (seconds, nanoseconds).
#[allow(clippy::unnecessary_cast)] // the field types differ between targets
fn mtime_of(st: &rustix::fs::Stat) -> (i64, i64) {
    (st.st_mtime as i64, st.st_mtime_nsec as i64)
}
