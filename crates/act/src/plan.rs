//! The plan: which messages a run will act on, each with the device and inode the scan saw,
//! and the preview counts; and the re-check of one message just before acting on it.
//!
//! A plan is built by a fold: each scan worker feeds the messages its selection accepted to
//! its own [`PlanBuilder`], the builders are merged, and [`PlanBuilder::finish`] sorts and
//! de-duplicates. [`scan`] does this on `queue_scan::scan_reduce`; any other scan that lends
//! out [`queue_scan::Message`]s can feed [`PlanBuilder`]s the same way.

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use postfix::Op;
use queue_scan::{Message, QueueLayout, ScanError, ScanOptions, ScanProgress, Visitor};

use crate::preview::{self, Keys, MessageKeys, Preview, Sample, SAMPLES};
use crate::verb::Verb;

/// How many unreadable files a plan names; beyond that it only counts them (a hostile queue
/// can hold millions).
pub const UNREADABLE_NAMED: usize = 1000;

/// One selected message: enough to re-check it and report on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    /// The queue the scan found it in.
    pub queue: &'static str,
    /// Its queue ID.
    pub id: Box<str>,
    /// The device of the file the scan read.
    pub device: u64,
    /// The inode of the file the scan read (short queue IDs are reused; the inode tells a
    /// new message under an old ID from the one selected).
    pub inode: u64,
    /// Message size, as showq reports it.
    pub size: u64,
}

/// A file the scan could not read or decode: it is not part of the plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unreadable {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub error: String,
}

/// The messages a run will act on, sorted by queue and ID, each once.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The verb.
    pub verb: Verb,
    /// The messages.
    pub messages: Vec<Planned>,
    /// The preview counts.
    pub preview: Preview,
    /// Files the scan could not read (the first [`UNREADABLE_NAMED`]).
    pub unreadable: Vec<Unreadable>,
    /// Unreadable files beyond those named.
    pub unreadable_not_named: u64,
}

impl Plan {
    /// How many messages.
    pub fn len(&self) -> usize {
        self.messages.len()
    }

    /// True when nothing was selected.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// The sum of the message sizes.
    pub fn bytes(&self) -> u64 {
        self.messages.iter().map(|m| m.size).sum()
    }

    /// The IDs grouped by what would be run for them, in plan order: `Some(op)` for a
    /// postsuper operation, `None` for `postqueue -i` (`--dry-run` prints these).
    pub fn groups(&self) -> Vec<(Option<Op>, Vec<&str>)> {
        let mut groups: Vec<(Option<Op>, Vec<&str>)> = Vec::new();
        for m in &self.messages {
            let op = self.verb.op(m.queue);
            match groups.iter_mut().find(|(o, _)| *o == op) {
                Some((_, ids)) => ids.push(&m.id),
                None => groups.push((op, vec![&m.id])),
            }
        }
        groups
    }
}

/// One scan worker's share of a plan; merge the shares, then [`finish`](Self::finish).
#[derive(Debug)]
pub struct PlanBuilder {
    now: i64,
    entries: Vec<(Planned, MessageKeys)>,
    keys: Keys,
    samples: Vec<Sample>,
    unreadable: Vec<Unreadable>,
    unreadable_not_named: u64,
}

impl PlanBuilder {
    /// An empty share; `now` (epoch seconds) is the time ages are measured from.
    pub fn new(now: i64) -> PlanBuilder {
        PlanBuilder {
            now,
            entries: Vec::new(),
            keys: Keys::default(),
            samples: Vec::new(),
            unreadable: Vec::new(),
            unreadable_not_named: 0,
        }
    }

    /// The time ages are measured from.
    pub fn now(&self) -> i64 {
        self.now
    }

    /// Adds a message the selection accepted.
    pub fn add(&mut self, msg: &Message<'_>) {
        let keys = self.keys.of(msg);
        if self.samples.len() < SAMPLES {
            self.samples.push(Sample::of(msg));
        }
        self.entries.push((
            Planned {
                queue: msg.queue,
                id: msg.id.into(),
                device: msg.info.device,
                inode: msg.info.inode,
                size: msg.message_size(),
            },
            keys,
        ));
    }

    /// Records a file the scan could not read.
    pub fn error(&mut self, error: &ScanError) {
        if self.unreadable.len() < UNREADABLE_NAMED {
            let text = error.to_string();
            let prefix = format!("{}: ", error.path.display());
            self.unreadable.push(Unreadable {
                path: error.path.clone(),
                error: text.strip_prefix(&prefix).unwrap_or(&text).to_string(),
            });
        } else {
            self.unreadable_not_named += 1;
        }
    }

    /// Folds `other` into this share.
    pub fn merge(&mut self, other: PlanBuilder) {
        let map = self.keys.absorb(other.keys);
        self.entries.extend(
            other
                .entries
                .into_iter()
                .map(|(p, k)| (p, Keys::renumber(k, &map))),
        );
        self.samples.extend(other.samples);
        for u in other.unreadable {
            if self.unreadable.len() < UNREADABLE_NAMED {
                self.unreadable.push(u);
            } else {
                self.unreadable_not_named += 1;
            }
        }
        self.unreadable_not_named += other.unreadable_not_named;
    }

    /// Messages added so far (before de-duplication).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing was added.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The plan for `verb`: sorted by queue and ID; a file met twice (Postfix renamed it
    /// between two queues while they were listed: same device, inode and ID) is one message.
    pub fn finish(self, verb: Verb) -> Plan {
        let mut entries = self.entries;
        entries.sort_by(|a, b| (a.0.queue, &a.0.id).cmp(&(b.0.queue, &b.0.id)));
        let mut seen = HashSet::with_capacity(entries.len());
        entries.retain(|(p, _)| seen.insert((p.device, p.inode, p.id.clone())));
        let kept: HashSet<(&str, &str)> = entries.iter().map(|(p, _)| (p.queue, &*p.id)).collect();
        let mut samples: Vec<Sample> = self
            .samples
            .into_iter()
            .filter(|s| kept.contains(&(s.queue, s.id.as_str())))
            .collect();
        samples.sort_by(|a, b| (a.queue, &a.id).cmp(&(b.queue, &b.id)));
        samples.dedup_by(|a, b| a.queue == b.queue && a.id == b.id);
        samples.truncate(SAMPLES);
        let preview = preview::count(
            &self.keys,
            entries.iter().map(|(p, k)| (p.queue, *k)),
            samples,
        );
        let mut unreadable = self.unreadable;
        unreadable.sort_by(|a, b| a.path.cmp(&b.path));
        Plan {
            verb,
            messages: entries.into_iter().map(|(p, _)| p).collect(),
            preview,
            unreadable,
            unreadable_not_named: self.unreadable_not_named,
        }
    }
}

/// One scan worker's share of a plan: the messages `filter` accepts go to its own
/// [`PlanBuilder`]; [`scan`] merges the workers' builders with `queue_scan::scan_reduce`.
struct PlanVisitor<'f, F> {
    filter: &'f F,
    builder: PlanBuilder,
}

impl<F> Visitor for PlanVisitor<'_, F>
where
    F: Fn(&Message<'_>) -> bool + Sync,
{
    fn message(&mut self, msg: &Message<'_>) {
        if (self.filter)(msg) {
            self.builder.add(msg);
        }
    }

    fn error(&mut self, error: ScanError) {
        self.builder.error(&error);
    }
}

/// Scans `options.queues` of `layout` and collects the messages `filter` accepts (the
/// selection), ages measured from `now`: a fold of one [`PlanBuilder`] per scan worker,
/// merged pairwise by `queue_scan::scan_reduce`.
pub fn scan<F>(
    layout: &QueueLayout,
    options: &ScanOptions,
    progress: &ScanProgress,
    now: i64,
    filter: F,
) -> PlanBuilder
where
    F: Fn(&Message<'_>) -> bool + Sync,
{
    let filter = &filter;
    queue_scan::scan_reduce(
        layout,
        options,
        progress,
        || PlanVisitor {
            filter,
            builder: PlanBuilder::new(now),
        },
        |mut a, b| {
            a.builder.merge(b.builder);
            a
        },
    )
    .builder
}

/// Where a planned message is now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recheck {
    /// Still the file the scan saw (same device and inode), now in this queue (it may have
    /// moved: deferred -> active is the queue manager's everyday work).
    At(&'static str),
    /// No file by that ID in any message queue.
    Gone,
    /// A file by that ID exists but it is another one: the short ID was reused.
    Reused,
}

/// Looks the message up again just before acting on it, in every message queue, the
/// queue the scan found it in first.
pub fn recheck(layout: &QueueLayout, planned: &Planned) -> Recheck {
    match queue_scan::open::open_dir(&layout.queue_dir) {
        Ok(queue_fd) => Rechecker::new(queue_fd).recheck(layout, planned),
        // Out of descriptors, say: look by the whole path instead.
        Err(_) => recheck_by_path(layout, planned),
    }
}

/// [`recheck`] by absolute paths, when the queue directory cannot be held open.
fn recheck_by_path(layout: &QueueLayout, planned: &Planned) -> Recheck {
    locate(planned, |queue| {
        let meta = std::fs::symlink_metadata(layout.path(queue, &planned.id)).ok()?;
        Some((meta.dev(), meta.ino()))
    })
}

/// Where `planned` is, given the device and inode of the name of its ID in a queue
/// (`None`: no such name), the queue the scan saw it in first.
fn locate(planned: &Planned, mut stat: impl FnMut(&'static str) -> Option<(u64, u64)>) -> Recheck {
    let others = queue_scan::MESSAGE_QUEUES
        .iter()
        .copied()
        .filter(|q| *q != planned.queue);
    let candidates = std::iter::once(planned.queue).chain(others);
    let mut reused = false;
    // Two passes, as postsuper makes (`tries < 2` in postsuper.c): qmgr may rename the
    // file into a queue already looked at (deferred -> active -> deferred) meanwhile.
    for queue in candidates.clone().chain(candidates) {
        if let Some(found) = stat(queue) {
            if found == (planned.device, planned.inode) {
                return Recheck::At(queue);
            }
            reused = true;
        }
    }
    if reused {
        Recheck::Reused
    } else {
        Recheck::Gone
    }
}

/// [`recheck`] for a run: one `fstatat` relative to the open queue directory per ID
/// where the message stayed put, and no allocation per ID.
#[derive(Debug)]
pub struct Rechecker {
    queue_fd: std::os::fd::OwnedFd,
    relative: PathBuf,
}

impl Rechecker {
    /// A rechecker of the queue directory open as `queue_fd`.
    pub fn new(queue_fd: std::os::fd::OwnedFd) -> Rechecker {
        Rechecker {
            queue_fd,
            relative: PathBuf::new(),
        }
    }

    /// Where `planned` is now (see [`recheck`]).
    pub fn recheck(&mut self, layout: &QueueLayout, planned: &Planned) -> Recheck {
        let Rechecker { queue_fd, relative } = self;
        locate(planned, |queue| {
            layout.push_relative_path(relative, queue, &planned.id);
            let flags = rustix::fs::AtFlags::SYMLINK_NOFOLLOW;
            let st = rustix::fs::statat(&*queue_fd, &*relative, flags).ok()?;
            Some((st.st_dev, st.st_ino))
        })
    }
}
