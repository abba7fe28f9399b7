//! Byte strings stored once and referred to by number: the keys of a
//! million messages (senders, SASL logins, domains) take the memory of the
//! distinct ones, and a key already seen costs no allocation.

use std::collections::HashMap;

/// Byte strings stored once, referred to by index (in the order first seen).
#[derive(Default, Debug)]
pub struct Interner {
    index: HashMap<Box<[u8]>, u32>,
    values: Vec<Box<[u8]>>,
}

impl Interner {
    /// The number of `bytes`, stored if new.
    pub fn intern(&mut self, bytes: &[u8]) -> u32 {
        if let Some(&i) = self.index.get(bytes) {
            return i;
        }
        let i = self.values.len() as u32;
        self.values.push(bytes.into());
        self.index.insert(bytes.into(), i);
        i
    }

    /// The number of `bytes`, if stored.
    pub fn find(&self, bytes: &[u8]) -> Option<u32> {
        self.index.get(bytes).copied()
    }

    /// The bytes of number `i` (a number this interner gave).
    pub fn get(&self, i: u32) -> &[u8] {
        &self.values[i as usize]
    }

    /// Every stored string, by number.
    pub fn values(&self) -> impl Iterator<Item = &[u8]> {
        self.values.iter().map(|v| &**v)
    }

    /// How many strings are stored.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// About how many bytes the strings take (each is stored twice, in the
    /// list and as the map's key, plus the boxes' and the map's overhead).
    pub fn bytes(&self) -> usize {
        self.values.iter().map(|v| v.len() * 2 + 48).sum()
    }

    /// Moves `other`'s strings into this one; the new number of each of
    /// `other`'s numbers.
    pub fn absorb(&mut self, other: &Interner) -> Vec<u32> {
        other.values().map(|v| self.intern(v)).collect()
    }
}
