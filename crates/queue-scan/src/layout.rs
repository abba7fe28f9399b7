//! Where Postfix keeps queue files: queue names, hashed subdirectories and
//! queue ID syntax (postfix `src/global/mail_queue.c`, `src/util/dir_forest.c`).

use std::path::{Path, PathBuf};

/// Message queues, in the order `postcat -q` searches them
/// (`src/postcat/postcat.c`).
pub const POSTCAT_SEARCH_ORDER: &[&str] = &[
    "maildrop", "incoming", "active", "deferred", "hold", "saved",
];

/// Message queues that hold mail, in the order showq lists them
/// (`src/showq/showq.c`), plus `corrupt`, which only qsurgeon reads.
pub const MESSAGE_QUEUES: &[&str] = &[
    "maildrop", "active", "incoming", "deferred", "hold", "corrupt",
];

/// The queues every Postfix instance has (`postfix-files`): a queue
/// directory without any of them is not one.
pub const CORE_QUEUES: &[&str] = &["maildrop", "incoming", "active", "deferred", "hold"];

/// Why a directory is not a usable queue directory.
#[derive(Debug)]
#[non_exhaustive]
pub enum LayoutError {
    /// None of [`CORE_QUEUES`] is a directory in it.
    NotAQueueDirectory {
        /// The directory.
        path: PathBuf,
    },
    /// It could not be looked at.
    Io {
        /// The directory.
        path: PathBuf,
        /// The error.
        error: std::io::Error,
    },
}

impl std::fmt::Display for LayoutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LayoutError::NotAQueueDirectory { path } => write!(
                f,
                "{}: not a Postfix queue directory (none of {} is there)",
                path.display(),
                CORE_QUEUES.join(", ")
            ),
            LayoutError::Io { path, error } => write!(f, "{}: {error}", path.display()),
        }
    }
}

impl std::error::Error for LayoutError {}

/// The 52 digits of long queue IDs (`src/global/safe_ultostr.c`): digits,
/// then consonants.
const BASE52: &[u8] = b"0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";

/// Where the queue lives and how it is hashed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueLayout {
    /// `queue_directory`.
    pub queue_dir: PathBuf,
    /// `hash_queue_names`, lower-cased.
    pub hash_queue_names: Vec<String>,
    /// `hash_queue_depth` (at least 1).
    pub hash_queue_depth: usize,
}

impl QueueLayout {
    /// A layout with Postfix's default hashing (`deferred, defer`, depth 1).
    pub fn with_defaults(queue_dir: impl Into<PathBuf>) -> QueueLayout {
        QueueLayout {
            queue_dir: queue_dir.into(),
            hash_queue_names: vec!["deferred".into(), "defer".into()],
            hash_queue_depth: 1,
        }
    }

    /// A layout from the values of `hash_queue_names` (commas and blanks
    /// separate names) and `hash_queue_depth`.
    pub fn new(queue_dir: impl Into<PathBuf>, hash_queue_names: &str, depth: usize) -> QueueLayout {
        QueueLayout {
            queue_dir: queue_dir.into(),
            hash_queue_names: hash_queue_names
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|s| !s.is_empty())
                .map(|s| s.to_ascii_lowercase())
                .collect(),
            hash_queue_depth: depth.max(1),
        }
    }

    /// True when `queue` is hashed.
    pub fn is_hashed(&self, queue: &str) -> bool {
        self.hash_queue_names
            .iter()
            .any(|q| q.eq_ignore_ascii_case(queue))
    }

    /// The path of `id` in `queue`, relative to the queue directory, as
    /// `mail_queue_path()` builds it: `deferred/A/A45E798E3F5`.
    pub fn relative_path(&self, queue: &str, id: &str) -> PathBuf {
        let mut path = PathBuf::from(queue);
        if self.is_hashed(queue) {
            let key = hash_key(id);
            for level in 0..self.hash_queue_depth {
                let c = key.as_bytes().get(level).copied().unwrap_or(b'_');
                path.push((c as char).to_string());
            }
        }
        path.push(id);
        path
    }

    /// The absolute path of `id` in `queue`.
    pub fn path(&self, queue: &str, id: &str) -> PathBuf {
        self.queue_dir.join(self.relative_path(queue, id))
    }

    /// Pushes the absolute path of `id` in `queue` onto `path` (cleared
    /// first), reusing its allocation: the scanner does this for every
    /// defer log it reads.
    pub fn push_path(&self, path: &mut PathBuf, queue: &str, id: &str) {
        path.clear();
        path.push(&self.queue_dir);
        self.push_hashed(path, queue, id);
    }

    /// Like [`QueueLayout::push_path`], relative to the queue directory.
    pub fn push_relative_path(&self, path: &mut PathBuf, queue: &str, id: &str) {
        path.clear();
        self.push_hashed(path, queue, id);
    }

    fn push_hashed(&self, path: &mut PathBuf, queue: &str, id: &str) {
        path.push(queue);
        if self.is_hashed(queue) {
            let mut key = [0u8; 8];
            let key = hash_key_into(id, &mut key);
            for level in 0..self.hash_queue_depth {
                let c = key.get(level).copied().unwrap_or(b'_');
                path.push(std::str::from_utf8(&[c]).unwrap_or("_"));
            }
        }
        path.push(id);
    }

    /// Finds `id` as `postcat -q` does: each queue of
    /// [`POSTCAT_SEARCH_ORDER`] at its hashed path, in two passes so a
    /// message that moves between queues meanwhile is still found. Returns
    /// the queue and the path relative to the queue directory.
    pub fn find(&self, id: &str) -> std::io::Result<Option<(&'static str, PathBuf)>> {
        // Through the safe open (crate::open): no lstat-then-open race, no
        // symlink followed anywhere on the way.
        match crate::open::find_queue_file(self, id) {
            Ok(found) => Ok(found.map(|f| (f.queue, f.relative))),
            Err(e) => Err(std::io::Error::other(e)),
        }
    }

    /// Checks that the queue directory looks like one: at least one of the
    /// queues every Postfix instance has (maildrop, incoming, active,
    /// deferred, hold) is a directory there. A mistyped `--queue-dir` is
    /// then an error, not an empty queue.
    pub fn check(&self) -> Result<(), LayoutError> {
        let meta = match std::fs::metadata(&self.queue_dir) {
            Ok(meta) => meta,
            Err(error) => {
                return Err(LayoutError::Io {
                    path: self.queue_dir.clone(),
                    error,
                })
            }
        };
        let found = meta.is_dir()
            && CORE_QUEUES.iter().any(|q| {
                std::fs::symlink_metadata(self.queue_dir.join(q)).is_ok_and(|m| m.is_dir())
            });
        if found {
            Ok(())
        } else {
            Err(LayoutError::NotAQueueDirectory {
                path: self.queue_dir.clone(),
            })
        }
    }

    /// The queue directory.
    pub fn queue_dir(&self) -> &Path {
        &self.queue_dir
    }
}

/// `mail_queue_id_ok()`: 1 to 255 characters from `[A-Za-z0-9_]`.
pub fn is_valid_queue_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 255 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The index of the `z` that separates a long ID's time from its inode
/// number: the last `z`, when it sits at index 10 or later.
fn long_id_separator(id: &str) -> Option<usize> {
    id.rfind('z').filter(|&at| at >= 10)
}

/// True when `id` has the long (non-repeating) form.
pub fn is_long_queue_id(id: &str) -> bool {
    long_id_separator(id).is_some()
}

/// Decodes base-52 digits; `None` on a bad digit or overflow.
fn decode_base52(digits: &[u8]) -> Option<u64> {
    digits.iter().try_fold(0u64, |acc, &d| {
        let value = BASE52.iter().position(|&c| c == d)? as u64;
        acc.checked_mul(52)?.checked_add(value)
    })
}

/// The string whose first characters name the hash directories: the ID
/// itself for short IDs; for long IDs the microseconds as `%05X`.
pub fn hash_key(id: &str) -> String {
    match long_id_separator(id) {
        Some(z) => {
            let usec = decode_base52(&id.as_bytes()[z - 4..z]).unwrap_or(0);
            format!("{usec:05X}")
        }
        None => id.to_string(),
    }
}

/// The hash key of `id` without allocating: the ID itself for short IDs,
/// the `%05X` microseconds (in `buf`) for long ones.
pub(crate) fn hash_key_into<'k>(id: &'k str, buf: &'k mut [u8; 8]) -> &'k [u8] {
    match long_id_separator(id) {
        Some(z) => {
            // "%05X" by hand: at least five upper-case hex digits.
            let usec = decode_base52(&id.as_bytes()[z - 4..z]).unwrap_or(0);
            let digits = (64 - usec.leading_zeros()).div_ceil(4).max(5) as usize;
            let digits = digits.min(buf.len());
            for (i, slot) in buf[..digits].iter_mut().enumerate() {
                let nibble = (usec >> (4 * (digits - 1 - i))) & 0xF;
                *slot = b"0123456789ABCDEF"[nibble as usize];
            }
            &buf[..digits]
        }
        None => id.as_bytes(),
    }
}

/// True when `id` belongs in the hash directories `dirs` (one character
/// per level, outermost first), as `mail_queue_path()` would place it.
pub fn hash_prefix_matches(id: &str, dirs: &[u8]) -> bool {
    let mut buf = [0u8; 8];
    let key = hash_key_into(id, &mut buf);
    dirs.iter()
        .enumerate()
        .all(|(level, d)| key.get(level).copied().unwrap_or(b'_') == *d)
}

/// The arrival second encoded in a long queue ID.
pub fn long_id_seconds(id: &str) -> Option<u64> {
    let z = long_id_separator(id)?;
    decode_base52(&id.as_bytes()[..z - 4])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_mail_queue_path() {
        let layout = QueueLayout::with_defaults("/q");
        assert_eq!(
            layout.relative_path("deferred", "A45E798E3F5"),
            Path::new("deferred/A/A45E798E3F5")
        );
        assert_eq!(
            layout.relative_path("hold", "A45E798E3F5"),
            Path::new("hold/A45E798E3F5")
        );
        assert_eq!(
            layout.relative_path("deferred", "4jXXK158vnz1SY32"),
            Path::new("deferred/B/4jXXK158vnz1SY32")
        );
        let deep = QueueLayout::new("/q", "deferred, defer", 2);
        assert_eq!(
            deep.relative_path("defer", "A45E798E3F5"),
            Path::new("defer/A/4/A45E798E3F5")
        );
        assert_eq!(
            deep.relative_path("deferred", "4jXXFm13m3z1SVv1"),
            Path::new("deferred/2/4/4jXXFm13m3z1SVv1")
        );
    }

    #[test]
    fn pushed_paths_equal_built_paths() {
        let layout = QueueLayout::new("/q", "deferred, defer", 2);
        let mut path = PathBuf::from("/stale");
        for id in ["A45E798E3F5", "4jXXK158vnz1SY32", "4jXXFm13m3z1SVv1"] {
            for queue in ["deferred", "defer", "hold"] {
                layout.push_path(&mut path, queue, id);
                assert_eq!(path, layout.path(queue, id));
            }
        }
        assert!(hash_prefix_matches("A45E798E3F5", b"A4"));
        assert!(!hash_prefix_matches("A45E798E3F5", b"A5"));
        assert!(hash_prefix_matches("4jXXK158vnz1SY32", b"B1"));
        assert!(hash_prefix_matches("A45E798E3F5", b""));
    }

    #[test]
    fn long_ids_decode_as_the_spec_says() {
        assert_eq!(hash_key("4jXXK158vnz1SY32"), "B1875");
        assert_eq!(long_id_seconds("4jXXK158vnz1SY32"), Some(1795359541));
        assert!(!is_long_queue_id("A45E798E3F5"));
    }

    #[test]
    fn queue_id_syntax() {
        assert!(is_valid_queue_id("A45E798E3F5"));
        assert!(is_valid_queue_id("4jXXK158vnz1SY32"));
        assert!(!is_valid_queue_id("A45E798E3F5*"));
        assert!(!is_valid_queue_id(""));
        assert!(!is_valid_queue_id("../etc"));
        assert!(!is_valid_queue_id("123.456"));
    }
}
