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

    /// How many bytes the interner holds on the heap: the map's table at
    /// its capacity (an entry and a control byte a slot; hashbrown keeps
    /// its load at 7/8 at most, so capacity counts the slots in use), the
    /// list at its capacity, and each string twice (the list's box and the
    /// map's key) as the allocator hands it out: glibc's malloc rounds a
    /// request plus its 8-byte header up to 16 bytes, 32 at least.
    pub fn bytes(&self) -> usize {
        let chunk = |len: usize| {
            if len == 0 {
                0
            } else {
                (len + 8).div_ceil(16).max(2) * 16
            }
        };
        let slots = (self.index.capacity() * 8 / 7).next_power_of_two();
        let entry = std::mem::size_of::<(Box<[u8]>, u32)>() + 1;
        slots * entry
            + self.values.capacity() * std::mem::size_of::<Box<[u8]>>()
            + self
                .values
                .iter()
                .map(|v| 2 * chunk(v.len()))
                .sum::<usize>()
    }

    /// Gives back the spare capacity of the map and the list.
    pub fn shrink_to_fit(&mut self) {
        self.index.shrink_to_fit();
        self.values.shrink_to_fit();
    }

    /// Moves `other`'s strings into this one; the new number of each of
    /// `other`'s numbers.
    pub fn absorb(&mut self, other: &Interner) -> Vec<u32> {
        other.values().map(|v| self.intern(v)).collect()
    }
}
