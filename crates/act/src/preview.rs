//! What the preview shows before acting: counts by queue, the top senders and SASL users,
//! and a few sample messages.
//!
//! Kept small and apart on purpose: the counting is per plan entry after de-duplication
//! (a message met twice by the scan counts once), through compact interned keys, so that
//! it can later be switched to the query crate's shared dimensions without touching the
//! plan or the executor.

use std::collections::{BTreeMap, HashMap};

use queue_scan::Message;

/// How many sample messages a preview keeps.
pub const SAMPLES: usize = 5;
/// How many rows of each top list a preview keeps.
pub const TOP: usize = 3;

/// The counts and samples of a plan.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Preview {
    /// Messages per queue (the queue the scan found them in).
    pub by_queue: BTreeMap<&'static str, u64>,
    /// The most frequent envelope senders (empty: the null sender).
    pub senders: Top,
    /// The most frequent SASL login names (empty: none).
    pub sasl_users: Top,
    /// A few of the messages, in plan order.
    pub samples: Vec<Sample>,
}

/// The most frequent keys of one kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Top {
    /// Up to [`TOP`] keys with their counts, most frequent first (ties by key).
    pub rows: Vec<(Vec<u8>, u64)>,
    /// How many distinct keys there are in all.
    pub distinct: usize,
}

/// One sample message, as raw facts (the caller formats and escapes them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    /// The queue the scan found it in.
    pub queue: &'static str,
    /// Its queue ID.
    pub id: String,
    /// Arrival time, epoch seconds (as showq reports it).
    pub arrival: i64,
    /// Message size (as showq reports it).
    pub size: u64,
    /// Envelope sender (empty: the null sender).
    pub sender: Vec<u8>,
    /// The first recipient still to be delivered to.
    pub first_recipient: Option<Vec<u8>>,
    /// How many recipients are still to be delivered to.
    pub recipients: usize,
}

impl Sample {
    pub(crate) fn of(msg: &Message<'_>) -> Sample {
        let env = msg.envelope;
        Sample {
            queue: msg.queue,
            id: msg.id.to_string(),
            arrival: msg.arrival_time(),
            size: msg.message_size(),
            sender: env.sender.unwrap_or_default().to_vec(),
            first_recipient: env.todo_recipients().next().map(|r| r.address.to_vec()),
            recipients: env.todo_recipients().count(),
        }
    }
}

/// The preview keys of one message: indexes into a [`Keys`] table.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MessageKeys {
    sender: u32,
    sasl: u32,
}

/// Byte strings stored once per builder (no allocation for a key already seen).
#[derive(Default, Debug)]
pub(crate) struct Keys(query::Interner);

impl Keys {
    fn intern(&mut self, bytes: &[u8]) -> u32 {
        self.0.intern(bytes)
    }

    /// The keys of `msg`.
    pub(crate) fn of(&mut self, msg: &Message<'_>) -> MessageKeys {
        let env = msg.envelope;
        MessageKeys {
            sender: self.intern(env.sender.unwrap_or_default()),
            sasl: self.intern(env.sasl_username().unwrap_or_default()),
        }
    }

    /// Moves `other`'s keys into this table; returns the new number of each old one.
    pub(crate) fn absorb(&mut self, other: Keys) -> Vec<u32> {
        self.0.absorb(&other.0)
    }

    pub(crate) fn renumber(keys: MessageKeys, map: &[u32]) -> MessageKeys {
        MessageKeys {
            sender: map[keys.sender as usize],
            sasl: map[keys.sasl as usize],
        }
    }
}

/// Counts the preview of the plan entries `entries` (already de-duplicated).
pub(crate) fn count(
    keys: &Keys,
    entries: impl Iterator<Item = (&'static str, MessageKeys)>,
    samples: Vec<Sample>,
) -> Preview {
    let mut by_queue = BTreeMap::new();
    let mut senders: HashMap<u32, u64> = HashMap::new();
    let mut sasl: HashMap<u32, u64> = HashMap::new();
    for (queue, k) in entries {
        *by_queue.entry(queue).or_default() += 1;
        *senders.entry(k.sender).or_default() += 1;
        *sasl.entry(k.sasl).or_default() += 1;
    }
    let top = |map: HashMap<u32, u64>| {
        let mut rows: Vec<(&[u8], u64)> = map.iter().map(|(k, n)| (keys.0.get(*k), *n)).collect();
        rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        Top {
            distinct: rows.len(),
            rows: rows
                .into_iter()
                .take(TOP)
                .map(|(k, n)| (k.to_vec(), n))
                .collect(),
        }
    };
    Preview {
        by_queue,
        senders: top(senders),
        sasl_users: top(sasl),
        samples,
    }
}
