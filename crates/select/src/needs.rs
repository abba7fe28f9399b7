//! What a selection needs to read: so the scanner reads each queue file only
//! as far as the selection requires, and evaluates cheap tests first.

use std::fmt;
use std::ops::{BitOr, BitOrAssign};

/// A set of data sources, cheapest first. The queue name and the queue ID
/// come from the file's location and need no source at all.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Data(u8);

impl Data {
    /// Nothing beyond the file's location (queue name and ID).
    pub const NONE: Data = Data(0);
    /// The file's metadata (`stat`): the forced-expiry mark.
    pub const STAT: Data = Data(1);
    /// The envelope segment: size record, arrival time, sender, attributes
    /// (SASL, client, HELO…), envelope recipients.
    pub const ENVELOPE: Data = Data(1 << 1);
    /// Every recipient, including those in the extracted segment after the
    /// message content (mail submitted with `sendmail -t`): a scanner that
    /// stops at the content must skip over it to the extracted segment.
    pub const RECIPIENTS: Data = Data(1 << 2);
    /// The message's defer log (`defer/` or `bounce/` logfile): delay
    /// reasons and DSN statuses.
    pub const DEFER_LOG: Data = Data(1 << 3);
    /// The message headers named in [`Needs::headers`].
    pub const HEADERS: Data = Data(1 << 4);
    /// The binary's check of whether the sender is a nonexistent local user.
    pub const LOCAL_SENDER_CHECK: Data = Data(1 << 5);
    /// Everything.
    pub const ALL: Data = Data((1 << 6) - 1);

    const NAMES: [(Data, &'static str); 6] = [
        (Data::STAT, "stat"),
        (Data::ENVELOPE, "envelope"),
        (Data::RECIPIENTS, "recipients"),
        (Data::DEFER_LOG, "defer_log"),
        (Data::HEADERS, "headers"),
        (Data::LOCAL_SENDER_CHECK, "local_sender_check"),
    ];

    /// Whether every source in `other` is in `self`.
    pub fn contains(self, other: Data) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether no source is needed.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The cost rank of the most expensive source (0 for none), used to
    /// order tests cheapest first.
    pub(crate) fn rank(self) -> u8 {
        (8 - self.0.leading_zeros()) as u8
    }
}

impl BitOr for Data {
    type Output = Data;
    fn bitor(self, rhs: Data) -> Data {
        Data(self.0 | rhs.0)
    }
}

impl BitOrAssign for Data {
    fn bitor_assign(&mut self, rhs: Data) {
        self.0 |= rhs.0;
    }
}

impl fmt::Debug for Data {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return write!(f, "Data(NONE)");
        }
        let names: Vec<&str> = Data::NAMES
            .iter()
            .filter(|(d, _)| self.contains(*d))
            .map(|(_, n)| *n)
            .collect();
        write!(f, "Data({})", names.join(" | "))
    }
}

/// Everything a compiled selection needs from a message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    /// The data sources to read.
    pub data: Data,
    /// The lowercase names of the headers tested, sorted, without
    /// duplicates; non-empty exactly when `data` has [`Data::HEADERS`].
    pub headers: Vec<String>,
}

impl Needs {
    /// Whether every source in `d` is needed.
    pub fn contains(&self, d: Data) -> bool {
        self.data.contains(d)
    }

    /// Whether the selection tests the header with this name (compared
    /// case-insensitively, as header names are). A scanner keeps only these.
    pub fn wants_header(&self, name: &[u8]) -> bool {
        self.headers
            .iter()
            .any(|h| h.as_bytes().eq_ignore_ascii_case(name))
    }

    pub(crate) fn add(&mut self, other: &Needs) {
        self.data |= other.data;
        for h in &other.headers {
            if let Err(i) = self.headers.binary_search(h) {
                self.headers.insert(i, h.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_follow_cost() {
        assert_eq!(Data::NONE.rank(), 0);
        assert!(Data::STAT.rank() < Data::ENVELOPE.rank());
        assert!(Data::ENVELOPE.rank() < Data::RECIPIENTS.rank());
        assert!(Data::RECIPIENTS.rank() < Data::DEFER_LOG.rank());
        assert!(Data::DEFER_LOG.rank() < Data::HEADERS.rank());
        assert!(Data::HEADERS.rank() < Data::LOCAL_SENDER_CHECK.rank());
        assert_eq!(
            (Data::ENVELOPE | Data::DEFER_LOG).rank(),
            Data::DEFER_LOG.rank()
        );
    }

    #[test]
    fn debug_names_sources() {
        assert_eq!(
            format!("{:?}", Data::ENVELOPE | Data::HEADERS),
            "Data(envelope | headers)"
        );
        assert_eq!(format!("{:?}", Data::NONE), "Data(NONE)");
    }

    #[test]
    fn header_names_merge_sorted() {
        let mut a = Needs {
            data: Data::HEADERS,
            headers: vec!["subject".into()],
        };
        a.add(&Needs {
            data: Data::HEADERS,
            headers: vec!["from".into(), "subject".into()],
        });
        assert_eq!(a.headers, ["from", "subject"]);
        assert!(a.wants_header(b"Subject"));
        assert!(!a.wants_header(b"To"));
    }
}
