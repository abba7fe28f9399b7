//! The queue in memory, for an interactive session: one scan keeps compact
//! per-message facts (interned keys, about 60–100 bytes a message), so that
//! every drill-down after it is answered without scanning again, even on a
//! million-message queue.
//!
//! [`Snapshot::scan`] folds the scan per worker ([`Partial`]) and merges the
//! workers' shares, renumbering their interned keys; [`Snapshot::members`]
//! answers "which messages are on this path of narrowing steps", and
//! [`Snapshot::tally`] "how many per key of this dimension".
//!
//! [`Live`]: while the scan runs, each worker publishes its counts every
//! [`LIVE_BATCH`] messages into shared tallies (bounded: [`LIVE_MAX_KEYS`]
//! keys per dimension), so that a dashboard fills as the gauge moves.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use queue_scan::{QueueLayout, ScanError, ScanProgress};

use crate::{Dimension, Fold, Interner, KeyList, MessageView, Query, Rank, Tables, Tally};

/// The single-valued dimensions, in `Facts::keys` order.
const SINGLE: [Dimension; 6] = [
    Dimension::Queue,
    Dimension::SaslUser,
    Dimension::Sender,
    Dimension::SenderDomain,
    Dimension::Client,
    Dimension::ClientNet,
];

/// The many-valued dimensions (a message has several keys).
const MULTI: [Dimension; 3] = [
    Dimension::RecipientDomain,
    Dimension::Reason,
    Dimension::DsnStatus,
];

/// What a snapshot remembers of one message.
#[derive(Clone, Copy, Debug)]
pub struct Facts {
    /// Start of the queue ID in `Snapshot::ids`.
    id: u32,
    /// Its length (a queue file name: at most NAME_MAX, 255 bytes).
    id_len: u8,
    /// Arrival time (epoch seconds).
    pub arrival: i64,
    /// Message size, as showq reports it.
    pub size: u64,
    /// Envelope recipients, to do, done and canceled: Postfix's `nrcpt`
    /// (see [`MessageView::recipient_count`]).
    pub recipients: u32,
    keys: [u32; SINGLE.len()],
    /// Range in `Snapshot::multi` of (dimension index in MULTI, key).
    multi_start: u32,
    multi_len: u16,
}

/// One narrowing step. Keys are kept as bytes, not interned numbers: a
/// snapshot (and its numbering) is replaced after every action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Messages with this key in this dimension.
    Key(Dimension, Box<[u8]>),
    /// Messages older than this many seconds.
    OlderThan(i64),
}

/// One row of [`Snapshot::tally`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    /// The key's number in this snapshot ([`Snapshot::key`] gives its bytes).
    pub key: u32,
    /// Messages with the key.
    pub messages: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Their envelope recipients (each message's `nrcpt`, summed).
    pub recipients: u64,
    /// The oldest one's arrival time.
    pub oldest: i64,
    /// The newest one's arrival time.
    pub newest: i64,
}

/// The whole queue as one scan saw it.
#[derive(Default)]
pub struct Snapshot {
    strings: Interner,
    /// The queue IDs, one after the other (`Facts::id` and `id_len` say
    /// where): an ID is unique to its message, so interning it would cost
    /// two allocations and a map entry a message for nothing.
    ids: Vec<u8>,
    facts: Vec<Facts>,
    multi: Vec<(u8, u32)>,
    /// "Now" of the scan, for ages.
    pub now: i64,
    /// The files the scan could not read, with why (at most
    /// [`MAX_ERRORS`] kept; `error_count` counts them all).
    pub errors: Vec<ScanError>,
    /// How many files could not be read.
    pub error_count: u64,
}

/// How many scan errors a snapshot keeps.
pub const MAX_ERRORS: usize = 1000;

/// Messages a worker counts before publishing them to [`Live`] (a lock
/// taken every few thousand messages, not per message).
pub const LIVE_BATCH: u32 = 2048;

/// Keys kept per dimension in [`Live`]: past them, a new key's messages
/// count in the totals but get no row until the scan ends and the
/// snapshot is complete.
pub const LIVE_MAX_KEYS: usize = 20_000;

/// What a scan under way has counted so far, for a dashboard shown while it
/// runs. Cleared when the scan's messages are all counted, before the
/// workers' shares are merged (so that it does not add to the merge's
/// peak): the snapshot then answers.
pub struct Live {
    dims: Vec<Dimension>,
    state: Mutex<LiveState>,
}

/// [`Live`]'s counts.
pub struct LiveState {
    /// Per key, for the dimensions [`Live::new`] was given.
    pub tables: Tables,
    /// Every message counted so far.
    pub total: Tally,
    /// True once the scan is over (the counts are then cleared).
    pub done: bool,
}

impl Live {
    /// Shared counts for a scan, per key of `dims`.
    pub fn new(dims: &[Dimension]) -> Arc<Live> {
        Arc::new(Live {
            dims: dims.to_vec(),
            state: Mutex::new(LiveState {
                tables: Tables::new(dims),
                total: Tally::default(),
                done: false,
            }),
        })
    }

    /// Calls `f` on the counts so far (under the lock: copy out what to
    /// show, and return).
    pub fn read<R>(&self, f: impl FnOnce(&LiveState) -> R) -> R {
        match self.state.lock() {
            Ok(state) => f(&state),
            Err(poisoned) => f(&poisoned.into_inner()),
        }
    }

    fn publish(&self, pending: &mut Pending) {
        let tables = std::mem::replace(&mut pending.tables, Tables::new(&self.dims));
        let mut state = match self.state.lock() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        };
        if !state.done {
            state.tables.merge_capped(tables, LIVE_MAX_KEYS);
            state.total.merge(&pending.total);
        }
        pending.total = Tally::default();
        pending.count = 0;
    }

    fn finish(&self) {
        let mut state = match self.state.lock() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        };
        state.done = true;
        state.tables = Tables::new(&[]);
    }
}

/// A worker's counts not yet published.
struct Pending {
    live: Arc<Live>,
    tables: Tables,
    total: Tally,
    count: u32,
}

impl Snapshot {
    /// Scans the queues of `query` on `layout` and keeps every selected
    /// message's facts.
    pub fn scan(query: &Query, layout: &QueueLayout, progress: &ScanProgress) -> Snapshot {
        Snapshot::scan_live(query, layout, progress, None)
    }

    /// [`Snapshot::scan`], publishing the counts so far to `live` as the
    /// scan goes.
    pub fn scan_live(
        query: &Query,
        layout: &QueueLayout,
        progress: &ScanProgress,
        live: Option<&Arc<Live>>,
    ) -> Snapshot {
        let folded = query.run(layout, progress, || Partial {
            pending: live.map(|live| Pending {
                live: Arc::clone(live),
                tables: Tables::new(&live.dims),
                total: Tally::default(),
                count: 0,
            }),
            ..Partial::default()
        });
        if let Some(live) = live {
            live.finish();
        }
        let mut parts = vec![folded.snapshot];
        parts.extend(folded.others);
        merge(parts, query.ctx.now)
    }

    /// Messages in the snapshot.
    pub fn len(&self) -> usize {
        self.facts.len()
    }

    /// True when the scan selected nothing.
    pub fn is_empty(&self) -> bool {
        self.facts.is_empty()
    }

    /// The facts of message `i` (an index from [`Snapshot::members`]).
    pub fn facts(&self, i: u32) -> &Facts {
        &self.facts[i as usize]
    }

    /// The queue ID of message `i`.
    pub fn id(&self, i: u32) -> &[u8] {
        let f = &self.facts[i as usize];
        let start = f.id as usize;
        self.ids
            .get(start..start + usize::from(f.id_len))
            .unwrap_or_default()
    }

    /// The bytes of key number `key`.
    pub fn key(&self, key: u32) -> &[u8] {
        self.strings.get(key)
    }

    /// The key of message `i` in a single-valued dimension (queue, SASL
    /// user, sender, sender domain, client, client network).
    pub fn single_key(&self, i: u32, dim: Dimension) -> Option<&[u8]> {
        let slot = SINGLE.iter().position(|d| *d == dim)?;
        Some(self.strings.get(self.facts[i as usize].keys[slot]))
    }

    fn keys_of<'s>(&'s self, f: &'s Facts, dim: Dimension) -> impl Iterator<Item = u32> + 's {
        let single = SINGLE.iter().position(|d| *d == dim).map(|i| f.keys[i]);
        let multi_dim = MULTI.iter().position(|d| *d == dim).map(|i| i as u8);
        let range = f.multi_start as usize..f.multi_start as usize + f.multi_len as usize;
        single.into_iter().chain(
            self.multi[range]
                .iter()
                .filter(move |(d, _)| Some(*d) == multi_dim)
                .map(|(_, k)| *k),
        )
    }

    /// How many bytes the snapshot holds on the heap: the capacity (not
    /// the length) of every vector, and the interner's map, lists and
    /// strings with the allocator's per-allocation overhead
    /// ([`Interner::bytes`]). What the process holds beyond it (the
    /// program, the allocator's free lists, the screen) is the process's,
    /// not the snapshot's: triage shows both.
    pub fn memory(&self) -> usize {
        self.facts.capacity() * std::mem::size_of::<Facts>()
            + self.multi.capacity() * std::mem::size_of::<(u8, u32)>()
            + self.ids.capacity()
            + self.strings.bytes()
            + self.errors.capacity() * std::mem::size_of::<ScanError>()
    }

    /// The distinct keys of `dim` over the whole snapshot, as bytes (for a
    /// look-up per key rather than per message, e.g. the senders' local
    /// check).
    pub fn distinct_keys(&self, dim: Dimension) -> Vec<&[u8]> {
        let mut seen = std::collections::HashSet::new();
        for f in &self.facts {
            seen.extend(self.keys_of(f, dim));
        }
        let mut keys: Vec<u32> = seen.into_iter().collect();
        keys.sort_unstable();
        keys.into_iter().map(|k| self.strings.get(k)).collect()
    }

    /// The messages on `path` (every step holds), by index.
    pub fn members(&self, path: &[Step]) -> Vec<u32> {
        // Each key's number in this snapshot; a key it does not have selects
        // nothing.
        let resolved: Vec<Option<u32>> = path
            .iter()
            .map(|step| match step {
                Step::Key(_, key) => self.strings.find(key),
                Step::OlderThan(_) => None,
            })
            .collect();
        (0..self.facts.len() as u32)
            .filter(|&i| {
                let f = &self.facts[i as usize];
                path.iter().zip(&resolved).all(|(step, number)| match step {
                    Step::Key(dim, _) => {
                        number.is_some_and(|n| self.keys_of(f, *dim).any(|k| k == n))
                    }
                    Step::OlderThan(secs) => self.now - f.arrival > *secs,
                })
            })
            .collect()
    }

    /// Messages, bytes, recipients and oldest arrival per key of `dim` over
    /// the messages in `set`; most messages first, then most bytes, then key
    /// number.
    pub fn tally(&self, set: &[u32], dim: Dimension) -> Vec<Row> {
        self.tally_ranked(set, dim, Rank::Messages)
    }

    /// [`Snapshot::tally`], the rows in `rank` order (as `summary
    /// --rank-by` orders them; ties by key number).
    pub fn tally_ranked(&self, set: &[u32], dim: Dimension, rank: Rank) -> Vec<Row> {
        let mut map: HashMap<u32, Row> = HashMap::new();
        for &i in set {
            let f = &self.facts[i as usize];
            for key in self.keys_of(f, dim) {
                let e = map.entry(key).or_insert(Row {
                    key,
                    messages: 0,
                    bytes: 0,
                    recipients: 0,
                    oldest: i64::MAX,
                    newest: i64::MIN,
                });
                e.messages += 1;
                e.bytes += f.size;
                e.recipients += u64::from(f.recipients);
                e.oldest = e.oldest.min(f.arrival);
                e.newest = e.newest.max(f.arrival);
            }
        }
        let mut rows: Vec<Row> = map.into_values().collect();
        rows.sort_by(|a, b| {
            match rank {
                Rank::Messages => b.messages.cmp(&a.messages).then(b.bytes.cmp(&a.bytes)),
                Rank::Recipients => b
                    .recipients
                    .cmp(&a.recipients)
                    .then(b.messages.cmp(&a.messages))
                    .then(b.bytes.cmp(&a.bytes)),
                Rank::Bytes => b.bytes.cmp(&a.bytes).then(b.messages.cmp(&a.messages)),
            }
            .then(a.key.cmp(&b.key))
        });
        rows
    }
}

/// A worker's share of the scan, with its own interners; the shares are
/// merged, and their keys renumbered, once the scan is over.
#[derive(Default)]
struct Partial {
    snapshot: Snapshot,
    /// Shares of other workers, folded in (see [`merge`]).
    others: Vec<Snapshot>,
    keys: KeyList,
    /// Counts for [`Live`], when the scan publishes them.
    pending: Option<Pending>,
}

impl Partial {
    fn add(&mut self, view: &MessageView<'_, '_>) {
        let msg = view.msg;
        let s = &mut self.snapshot;
        let mut keys = [0; SINGLE.len()];
        for (slot, dim) in keys.iter_mut().zip(SINGLE) {
            dim.keys(view, &mut self.keys);
            // A single-valued dimension has exactly one key.
            *slot = s
                .strings
                .intern(self.keys.iter().next().unwrap_or_default());
        }
        let multi_start = s.multi.len() as u32;
        for (index, dim) in MULTI.iter().enumerate() {
            dim.keys(view, &mut self.keys);
            for key in self.keys.iter() {
                s.multi.push((index as u8, s.strings.intern(key)));
            }
        }
        let (id, id_len) = push_id(&mut s.ids, msg.id.as_bytes());
        s.facts.push(Facts {
            id,
            id_len,
            arrival: msg.arrival_time(),
            size: msg.message_size(),
            recipients: view.recipient_count(),
            keys,
            multi_start,
            multi_len: (s.multi.len() - multi_start as usize).min(u16::MAX as usize) as u16,
        });
    }
}

impl Fold for Partial {
    fn message(&mut self, view: &MessageView<'_, '_>) {
        self.add(view);
        if let Some(p) = &mut self.pending {
            p.tables.add(view);
            p.total.add(
                view.msg.message_size(),
                u64::from(view.recipient_count()),
                view.msg.arrival_time(),
            );
            p.count += 1;
            if p.count >= LIVE_BATCH {
                let live = Arc::clone(&p.live);
                live.publish(p);
            }
        }
    }

    fn error(&mut self, error: ScanError) {
        let s = &mut self.snapshot;
        s.error_count += 1;
        if s.errors.len() < MAX_ERRORS {
            s.errors.push(error);
        }
    }

    fn merge(mut self, mut other: Self) -> Self {
        // What the other share has not published yet goes now: the live
        // counts then miss only what is still in a running worker.
        if let Some(p) = &mut other.pending {
            let live = Arc::clone(&p.live);
            live.publish(p);
        }
        self.others.push(other.snapshot);
        self.others.extend(other.others);
        self
    }
}

/// Appends a queue ID to the arena: where it starts and its length. A
/// file name is at most 255 bytes (NAME_MAX) and a million IDs take some
/// 20 MB, far from the 4 GB a `u32` offset reaches; past either, the ID is
/// kept empty rather than wrong (and `show` then finds no such message).
fn push_id(ids: &mut Vec<u8>, id: &[u8]) -> (u32, u8) {
    match (u32::try_from(ids.len() + id.len()), u8::try_from(id.len())) {
        (Ok(_), Ok(len)) => {
            let start = ids.len() as u32;
            ids.extend_from_slice(id);
            (start, len)
        }
        _ => (0, 0),
    }
}

/// Merges the workers' snapshots, re-numbering their interned keys. The
/// largest share is the base, kept where it is (its keys keep their
/// numbers); its vectors grow once to the total (a large block is
/// remapped, not copied), and each other share is dropped as soon as it is
/// copied, so the peak is about the merged snapshot plus the other shares,
/// not twice the queue.
fn merge(mut parts: Vec<Snapshot>, now: i64) -> Snapshot {
    parts.sort_by_key(|p| std::cmp::Reverse(p.facts.len()));
    let mut parts = parts.into_iter();
    let mut all = parts.next().unwrap_or_default();
    all.now = now;
    let parts: Vec<Snapshot> = parts.collect();
    all.facts
        .reserve_exact(parts.iter().map(|p| p.facts.len()).sum());
    all.multi
        .reserve_exact(parts.iter().map(|p| p.multi.len()).sum());
    all.ids
        .reserve_exact(parts.iter().map(|p| p.ids.len()).sum());
    for p in parts {
        let strings: Vec<u32> = p.strings.values().map(|v| all.strings.intern(v)).collect();
        for f in p.facts {
            let (id, id_len) = {
                let start = f.id as usize;
                let bytes = p
                    .ids
                    .get(start..start + usize::from(f.id_len))
                    .unwrap_or_default();
                push_id(&mut all.ids, bytes)
            };
            let start = all.multi.len() as u32;
            let range = f.multi_start as usize..f.multi_start as usize + f.multi_len as usize;
            all.multi.extend(
                p.multi[range]
                    .iter()
                    .map(|(d, k)| (*d, strings[*k as usize])),
            );
            all.facts.push(Facts {
                id,
                id_len,
                keys: f.keys.map(|k| strings[k as usize]),
                multi_start: start,
                ..f
            });
        }
        all.error_count += p.error_count;
        let room = MAX_ERRORS.saturating_sub(all.errors.len());
        all.errors.extend(p.errors.into_iter().take(room));
    }
    all.facts.shrink_to_fit();
    all.multi.shrink_to_fit();
    all.ids.shrink_to_fit();
    all.strings.shrink_to_fit();
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_renumbers_keys() {
        let mut a = Partial::default();
        let k = a.snapshot.strings.intern(b"mallory");
        let (id, id_len) = push_id(&mut a.snapshot.ids, b"ABC");
        a.snapshot.facts.push(Facts {
            id,
            id_len,
            arrival: 1,
            size: 2,
            recipients: 3,
            keys: [k; 6],
            multi_start: 0,
            multi_len: 0,
        });
        let mut b = Partial::default();
        b.snapshot.strings.intern(b"other");
        let k = b.snapshot.strings.intern(b"mallory");
        push_id(&mut b.snapshot.ids, b"XYZ0");
        let (id, id_len) = push_id(&mut b.snapshot.ids, b"DEF");
        b.snapshot.facts.push(Facts {
            id,
            id_len,
            arrival: 1,
            size: 2,
            recipients: 3,
            keys: [k; 6],
            multi_start: 0,
            multi_len: 0,
        });
        let all = merge(vec![a.snapshot, b.snapshot], 10);
        assert_eq!(all.facts.len(), 2);
        assert_eq!(all.facts[0].keys[1], all.facts[1].keys[1]);
        assert_eq!(all.strings.get(all.facts[1].keys[1]), b"mallory");
        assert_eq!(all.id(0), b"ABC");
        assert_eq!(all.id(1), b"DEF");
    }

    /// The counts a scan publishes, once every share has published, are the
    /// snapshot's own; once the scan is over they are cleared.
    #[test]
    fn live_counts_add_up_to_the_snapshot() {
        let layout = QueueLayout::with_defaults(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/demo-queue"),
        );
        let query = Query::for_spec(
            &crate::SelectionSpec::default(),
            queue_scan::ReadPlan {
                headers: false,
                defer_log: true,
            },
        )
        .unwrap();
        let dims = [
            Dimension::Queue,
            Dimension::SaslUser,
            Dimension::RecipientDomain,
        ];
        let live = Live::new(&dims);
        let progress = ScanProgress::default();
        let mut folded = query.run(&layout, &progress, || Partial {
            pending: Some(Pending {
                live: Arc::clone(&live),
                tables: Tables::new(&dims),
                total: Tally::default(),
                count: 0,
            }),
            ..Partial::default()
        });
        // The last share publishes what it holds (scan_live clears instead).
        if let Some(p) = &mut folded.pending {
            live.publish(p);
        }
        let mut parts = vec![folded.snapshot];
        parts.extend(folded.others);
        let snap = merge(parts, query.ctx.now);
        assert_eq!(snap.len(), 29);
        let all: Vec<u32> = (0..snap.len() as u32).collect();
        live.read(|state| {
            assert_eq!(state.total.messages, 29);
            let recipients: u64 = all
                .iter()
                .map(|&i| u64::from(snap.facts(i).recipients))
                .sum();
            assert_eq!(state.total.recipients, recipients);
            for dim in dims {
                let mut from_live: Vec<(Vec<u8>, u64, u64)> = state
                    .tables
                    .table(dim)
                    .map(|(k, t)| (k.to_vec(), t.messages, t.recipients))
                    .collect();
                from_live.sort();
                let mut from_snap: Vec<(Vec<u8>, u64, u64)> = snap
                    .tally(&all, dim)
                    .iter()
                    .map(|r| (snap.key(r.key).to_vec(), r.messages, r.recipients))
                    .collect();
                from_snap.sort();
                assert_eq!(from_live, from_snap, "{dim:?}");
            }
        });
        live.finish();
        live.read(|state| assert!(state.done && state.tables.is_empty()));
        // And scan_live leaves it so.
        let again = Live::new(&dims);
        let snap = Snapshot::scan_live(&query, &layout, &progress, Some(&again));
        assert_eq!(snap.len(), 29);
        again.read(|state| assert!(state.done && state.tables.is_empty()));
    }
}
