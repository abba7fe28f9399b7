//! Totals per key: for each [`Dimension`] asked for, the messages, bytes,
//! recipients, oldest and newest arrival of every key ([`Tables`]), and the
//! top rows of a table by messages, recipients or bytes ([`Rank`]).
//! `summary`'s tables and the act preview's "top senders, top SASL users"
//! are both this.

use std::collections::HashMap;

use crate::dimension::{Dimension, KeyList};
use crate::view::MessageView;

/// Totals for one group of messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Messages.
    pub messages: u64,
    /// Bytes (message sizes as showq reports them).
    pub bytes: u64,
    /// Envelope recipients, each message's `nrcpt` summed (to do, done and
    /// canceled: [`MessageView::recipient_count`]).
    pub recipients: u64,
    /// Earliest arrival time (epoch seconds; meaningless with no message).
    pub oldest: i64,
    /// Latest arrival time.
    pub newest: i64,
}

impl Tally {
    /// Counts one message of `bytes` and `recipients` that arrived at
    /// `arrival`.
    pub fn add(&mut self, bytes: u64, recipients: u64, arrival: i64) {
        if self.messages == 0 {
            self.oldest = arrival;
            self.newest = arrival;
        }
        self.messages += 1;
        self.bytes += bytes;
        self.recipients += recipients;
        self.oldest = self.oldest.min(arrival);
        self.newest = self.newest.max(arrival);
    }

    /// Adds the messages `other` counted.
    pub fn merge(&mut self, other: &Tally) {
        if other.messages == 0 {
            return;
        }
        if self.messages == 0 {
            *self = *other;
            return;
        }
        self.messages += other.messages;
        self.bytes += other.bytes;
        self.recipients += other.recipients;
        self.oldest = self.oldest.min(other.oldest);
        self.newest = self.newest.max(other.newest);
    }
}

/// What a table's rows are ranked by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Rank {
    /// Most messages first (then bytes).
    #[default]
    Messages,
    /// Most envelope recipients first (then messages, then bytes): a login
    /// that sends few messages to many recipients each (a spam burst) ranks
    /// above one with more single-recipient mail.
    Recipients,
    /// Most bytes first (then messages).
    Bytes,
}

impl Rank {
    /// The name, as `summary --rank-by` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Rank::Messages => "messages",
            Rank::Recipients => "recipients",
            Rank::Bytes => "bytes",
        }
    }

    /// Orders two rows: the higher-ranked first, then by key.
    pub fn compare(self, a: (&[u8], &Tally), b: (&[u8], &Tally)) -> std::cmp::Ordering {
        let (x, y) = (a.1, b.1);
        let first = match self {
            Rank::Messages => y.messages.cmp(&x.messages).then(y.bytes.cmp(&x.bytes)),
            Rank::Recipients => y
                .recipients
                .cmp(&x.recipients)
                .then(y.messages.cmp(&x.messages))
                .then(y.bytes.cmp(&x.bytes)),
            Rank::Bytes => y.bytes.cmp(&x.bytes).then(y.messages.cmp(&x.messages)),
        };
        first.then(a.0.cmp(b.0))
    }
}

/// One table per dimension: every key's [`Tally`]. A message counts once
/// per key (once per recipient domain, not once per recipient).
#[derive(Clone, Debug, Default)]
pub struct Tables {
    dims: Vec<Dimension>,
    /// `tables[i]` is the table of `dims[i]` (a message visits every one).
    tables: Vec<HashMap<Vec<u8>, Tally>>,
    keys: KeyList,
}

impl Tables {
    /// Empty tables for `dims`.
    pub fn new(dims: &[Dimension]) -> Tables {
        let mut unique = Vec::with_capacity(dims.len());
        for &d in dims {
            if !unique.contains(&d) {
                unique.push(d);
            }
        }
        Tables {
            tables: unique.iter().map(|_| HashMap::new()).collect(),
            dims: unique,
            keys: KeyList::new(),
        }
    }

    /// Counts a message in every table. Allocates only for a key not seen
    /// before.
    pub fn add(&mut self, view: &MessageView<'_, '_>) {
        let (bytes, arrival) = (view.msg.message_size(), view.msg.arrival_time());
        let recipients = u64::from(view.recipient_count());
        for (&dim, table) in self.dims.iter().zip(&mut self.tables) {
            dim.keys(view, &mut self.keys);
            for key in self.keys.iter() {
                // Look up by slice first: a new key is the rare case.
                match table.get_mut(key) {
                    Some(tally) => tally.add(bytes, recipients, arrival),
                    None => table
                        .entry(key.to_vec())
                        .or_default()
                        .add(bytes, recipients, arrival),
                }
            }
        }
    }

    /// Adds what `other` counted (another worker's tables).
    pub fn merge(&mut self, other: Tables) {
        for (dim, table) in other.dims.into_iter().zip(other.tables) {
            let i = match self.dims.iter().position(|&d| d == dim) {
                Some(i) => i,
                None => {
                    self.dims.push(dim);
                    self.tables.push(HashMap::new());
                    self.tables.len() - 1
                }
            };
            let mine = &mut self.tables[i];
            for (key, tally) in table {
                mine.entry(key).or_default().merge(&tally);
            }
        }
    }

    /// Adds what `other` counted, keeping at most `cap` keys per table: a
    /// key first seen when its table is full is left out (its messages
    /// still count in the tables of the other dimensions). For tallies
    /// published while a scan runs, whose memory must stay bounded
    /// whatever the queue holds.
    pub fn merge_capped(&mut self, other: Tables, cap: usize) {
        for (dim, table) in other.dims.into_iter().zip(other.tables) {
            let Some(i) = self.dims.iter().position(|&d| d == dim) else {
                continue;
            };
            let mine = &mut self.tables[i];
            for (key, tally) in table {
                if let Some(t) = mine.get_mut(&key) {
                    t.merge(&tally);
                } else if mine.len() < cap {
                    mine.insert(key, tally);
                }
            }
        }
    }

    /// True when no message was counted.
    pub fn is_empty(&self) -> bool {
        self.tables.iter().all(HashMap::is_empty)
    }

    /// The table of `dim` (empty when `dim` was not asked for).
    pub fn table(&self, dim: Dimension) -> impl Iterator<Item = (&[u8], &Tally)> + '_ {
        self.get(dim)
            .into_iter()
            .flatten()
            .map(|(k, t)| (k.as_slice(), t))
    }

    /// The number of distinct keys of `dim`.
    pub fn distinct(&self, dim: Dimension) -> usize {
        self.get(dim).map_or(0, HashMap::len)
    }

    fn get(&self, dim: Dimension) -> Option<&HashMap<Vec<u8>, Tally>> {
        let i = self.dims.iter().position(|&d| d == dim)?;
        self.tables.get(i)
    }

    /// The first `n` rows of `dim`: most messages first, then most bytes,
    /// then by key.
    pub fn top(&self, dim: Dimension, n: usize) -> Vec<(&[u8], &Tally)> {
        self.top_by(dim, n, Rank::Messages)
    }

    /// The first `n` rows of `dim` as `rank` orders them.
    pub fn top_by(&self, dim: Dimension, n: usize, rank: Rank) -> Vec<(&[u8], &Tally)> {
        let mut rows: Vec<_> = self.table(dim).collect();
        rows.sort_by(|a, b| rank.compare(*a, *b));
        rows.truncate(n);
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tallies_merge_like_one_count() {
        let mut a = Tally::default();
        a.add(10, 1, 100);
        a.add(5, 40, 50);
        let mut b = Tally::default();
        b.add(1, 2, 300);
        let mut all = Tally::default();
        all.merge(&a);
        all.merge(&Tally::default());
        all.merge(&b);
        assert_eq!(
            all,
            Tally {
                messages: 3,
                bytes: 16,
                recipients: 43,
                oldest: 50,
                newest: 300
            }
        );
    }

    #[test]
    fn ranks_order_rows() {
        let tally = |messages, bytes, recipients| Tally {
            messages,
            bytes,
            recipients,
            oldest: 0,
            newest: 0,
        };
        // A burst (2 messages of 40 recipients), a chatty user (10 single
        // recipient messages), a big sender (1 large message).
        let burst = tally(2, 200, 80);
        let chatty = tally(10, 1000, 10);
        let big = tally(1, 5_000_000, 1);
        let mut rows: Vec<(&[u8], &Tally)> =
            vec![(b"big", &big), (b"burst", &burst), (b"chatty", &chatty)];
        let keys = |rows: &[(&[u8], &Tally)]| -> Vec<String> {
            rows.iter()
                .map(|r| String::from_utf8_lossy(r.0).into_owned())
                .collect()
        };
        rows.sort_by(|a, b| Rank::Messages.compare(*a, *b));
        assert_eq!(keys(&rows), ["chatty", "burst", "big"]);
        rows.sort_by(|a, b| Rank::Recipients.compare(*a, *b));
        assert_eq!(keys(&rows), ["burst", "chatty", "big"]);
        rows.sort_by(|a, b| Rank::Bytes.compare(*a, *b));
        assert_eq!(keys(&rows), ["big", "chatty", "burst"]);
        // Ties fall to the next count, then to the key.
        let same = tally(2, 200, 80);
        let mut tied: Vec<(&[u8], &Tally)> = vec![(b"b", &same), (b"a", &burst)];
        tied.sort_by(|a, b| Rank::Recipients.compare(*a, *b));
        assert_eq!(keys(&tied), ["a", "b"]);
    }

    #[test]
    fn capped_merges_keep_known_keys_and_drop_new_ones_past_the_cap() {
        let mut all = Tables::new(&[Dimension::SaslUser]);
        let one = |key: &[u8], n: u64| {
            let mut t = Tables::new(&[Dimension::SaslUser]);
            let mut tally = Tally::default();
            for _ in 0..n {
                tally.add(10, 2, 100);
            }
            t.tables[0].insert(key.to_vec(), tally);
            t
        };
        all.merge_capped(one(b"a", 1), 2);
        all.merge_capped(one(b"b", 1), 2);
        all.merge_capped(one(b"c", 5), 2);
        all.merge_capped(one(b"a", 3), 2);
        assert_eq!(all.distinct(Dimension::SaslUser), 2);
        let rows: Vec<(&[u8], u64, u64)> = all
            .top(Dimension::SaslUser, 10)
            .into_iter()
            .map(|(k, t)| (k, t.messages, t.recipients))
            .collect();
        assert_eq!(rows, [(&b"a"[..], 4, 8), (&b"b"[..], 1, 2)]);
        assert!(!all.is_empty() && Tables::new(&[Dimension::Queue]).is_empty());
    }
}
