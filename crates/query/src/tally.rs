//! Totals per key: for each [`Dimension`] asked for, the messages, bytes,
//! oldest and newest arrival of every key ([`Tables`]), and the top rows of
//! a table. `summary`'s tables and the act preview's "top senders, top SASL
//! users" are both this.

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
    /// Earliest arrival time (epoch seconds; meaningless with no message).
    pub oldest: i64,
    /// Latest arrival time.
    pub newest: i64,
}

impl Tally {
    /// Counts one message of `bytes` that arrived at `arrival`.
    pub fn add(&mut self, bytes: u64, arrival: i64) {
        if self.messages == 0 {
            self.oldest = arrival;
            self.newest = arrival;
        }
        self.messages += 1;
        self.bytes += bytes;
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
        self.oldest = self.oldest.min(other.oldest);
        self.newest = self.newest.max(other.newest);
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
        for (&dim, table) in self.dims.iter().zip(&mut self.tables) {
            dim.keys(view, &mut self.keys);
            for key in self.keys.iter() {
                // Look up by slice first: a new key is the rare case.
                match table.get_mut(key) {
                    Some(tally) => tally.add(bytes, arrival),
                    None => table.entry(key.to_vec()).or_default().add(bytes, arrival),
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
        let mut rows: Vec<_> = self.table(dim).collect();
        rows.sort_by(|a, b| {
            b.1.messages
                .cmp(&a.1.messages)
                .then(b.1.bytes.cmp(&a.1.bytes))
                .then(a.0.cmp(b.0))
        });
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
        a.add(10, 100);
        a.add(5, 50);
        let mut b = Tally::default();
        b.add(1, 300);
        let mut all = Tally::default();
        all.merge(&a);
        all.merge(&Tally::default());
        all.merge(&b);
        assert_eq!(
            all,
            Tally {
                messages: 3,
                bytes: 16,
                oldest: 50,
                newest: 300
            }
        );
    }
}
