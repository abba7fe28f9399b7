//! Record framing: type byte, length, payload, with Postfix's length limits.
//!
//! A queue file is a sequence of records: one type byte, a length of 1 to 4
//! bytes (7 bits each, low group first, high bit = "more follows"), then the
//! payload. See postfix `src/global/record.c` (`rec_put`, `rec_get_raw`).
//! This layer knows nothing about what a type means.

use crate::error::{Error, ErrorKind, Result};

/// The most length bytes a record may use. Postfix's hardened reader
/// (3.12, backported to 3.7.22 and later) rejects a fifth byte; older
/// readers accepted it, but no Postfix writer ever produced one.
pub const MAX_LENGTH_BYTES: usize = 4;

/// The largest payload a record can announce (2^28 - 1 bytes).
pub const MAX_PAYLOAD_LEN: u64 = (1 << (7 * MAX_LENGTH_BYTES)) - 1;

/// One record, borrowed from the file's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// The type byte (see [`crate::rec_type`]).
    pub ty: u8,
    /// The payload, without terminator; may hold any bytes.
    pub payload: &'a [u8],
    /// File offset of the type byte.
    pub offset: u64,
    /// File offset just past the payload: where the next record starts.
    pub end: u64,
}

/// The bytes of a queue file that a reader may use: the whole file, or a
/// head and a tail of it (the envelope and the extracted segment, without
/// the message content in between).
#[derive(Clone, Copy, Debug)]
pub struct FileView<'a> {
    head: &'a [u8],
    tail_start: u64,
    tail: &'a [u8],
    file_len: u64,
}

impl<'a> FileView<'a> {
    /// A view of the whole file.
    pub fn whole(bytes: &'a [u8]) -> FileView<'a> {
        FileView {
            head: bytes,
            tail_start: bytes.len() as u64,
            tail: &[],
            file_len: bytes.len() as u64,
        }
    }

    /// A view of `head` (the file's first bytes) and `tail` (its bytes from
    /// `tail_start` on) of a file of `file_len` bytes. Reading anything in
    /// between fails with [`ErrorKind::NotLoaded`].
    pub fn partial(head: &'a [u8], tail_start: u64, tail: &'a [u8], file_len: u64) -> FileView<'a> {
        FileView {
            head,
            tail_start,
            tail,
            file_len,
        }
    }

    /// The file's length in bytes.
    pub fn file_len(&self) -> u64 {
        self.file_len
    }

    /// True when the view holds every byte of the file.
    pub fn is_whole(&self) -> bool {
        self.head.len() as u64 == self.file_len
            || (self.tail_start <= self.head.len() as u64
                && self.tail_start + self.tail.len() as u64 == self.file_len)
    }

    /// The contiguous bytes available from `offset`, and whether they run to
    /// the end of the file. `None` when `offset` is not loaded.
    fn window(&self, offset: u64) -> Option<(&'a [u8], bool)> {
        let head_len = self.head.len() as u64;
        let tail_end = self.tail_start + self.tail.len() as u64;
        if offset >= self.file_len {
            return Some((&[], true));
        }
        if offset < head_len && !(offset >= self.tail_start && tail_end > head_len) {
            return Some((&self.head[offset as usize..], head_len == self.file_len));
        }
        if offset >= self.tail_start && offset < tail_end {
            let from = (offset - self.tail_start) as usize;
            return Some((&self.tail[from..], tail_end == self.file_len));
        }
        None
    }

    /// Reads the record that starts at `offset`; `Ok(None)` at end of file.
    pub fn record_at(&self, offset: u64) -> Result<Option<Record<'a>>> {
        let (bytes, to_eof) =
            self.window(offset)
                .ok_or(Error::new(ErrorKind::NotLoaded, offset, None))?;
        parse_record(bytes, offset, to_eof)
    }
}

/// Decodes a record length; returns the length and how many bytes it used.
/// `Ok(None)` means the bytes ran out before the length ended.
fn parse_length(bytes: &[u8]) -> std::result::Result<Option<(u64, usize)>, ErrorKind> {
    let mut len = 0u64;
    for i in 0..MAX_LENGTH_BYTES {
        let Some(&byte) = bytes.get(i) else {
            return Ok(None);
        };
        len |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(Some((len, i + 1)));
        }
    }
    Err(ErrorKind::TooManyLengthBytes)
}

/// Parses one record at the start of `bytes`, which sit at file `offset`.
/// When `to_eof` is false, running out of bytes means "not loaded" rather
/// than a truncated file.
fn parse_record(bytes: &[u8], offset: u64, to_eof: bool) -> Result<Option<Record<'_>>> {
    let Some(&ty) = bytes.first() else {
        return if to_eof {
            Ok(None)
        } else {
            Err(Error::new(ErrorKind::NotLoaded, offset, None))
        };
    };
    let short = |kind| {
        let kind = if to_eof { kind } else { ErrorKind::NotLoaded };
        Error::new(kind, offset, Some(ty))
    };
    let (len, len_bytes) = match parse_length(&bytes[1..]) {
        Ok(Some(parsed)) => parsed,
        Ok(None) => return Err(short(ErrorKind::TruncatedLength)),
        Err(kind) => return Err(Error::new(kind, offset, Some(ty))),
    };
    let start = 1 + len_bytes;
    let available = (bytes.len() - start) as u64;
    if len > available {
        return Err(short(ErrorKind::TruncatedPayload { len }));
    }
    let end = start + len as usize;
    Ok(Some(Record {
        ty,
        payload: &bytes[start..end],
        offset,
        end: offset + end as u64,
    }))
}

/// Iterates over records in physical order, as `postcat -v -r` reads them:
/// pointers are not followed and nothing is skipped. After an error the
/// iterator is exhausted.
#[derive(Clone, Debug)]
pub struct Records<'a> {
    view: FileView<'a>,
    pos: u64,
    done: bool,
}

impl<'a> Records<'a> {
    /// Records of `bytes` from its first byte.
    pub fn new(bytes: &'a [u8]) -> Records<'a> {
        Records {
            view: FileView::whole(bytes),
            pos: 0,
            done: false,
        }
    }

    /// The next record, `Ok(None)` at the end, or the first error.
    pub fn next_record(&mut self) -> Result<Option<Record<'a>>> {
        if self.done {
            return Ok(None);
        }
        match self.view.record_at(self.pos) {
            Ok(Some(rec)) => {
                self.pos = rec.end;
                Ok(Some(rec))
            }
            other => {
                self.done = true;
                other
            }
        }
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
}

/// Appends the length bytes of a `len`-byte payload to `out`, as `rec_put`
/// writes them.
pub fn put_length(out: &mut Vec<u8>, mut len: u64) {
    loop {
        let mut byte = (len & 0x7f) as u8;
        len >>= 7;
        if len != 0 {
            byte |= 0x80;
        }
        out.push(byte);
        if len == 0 {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_bytes_match_the_spec_examples() {
        let cases: &[(u64, &[u8])] = &[
            (0, &[0x00]),
            (17, &[0x11]),
            (95, &[0x5f]),
            (2048, &[0x80, 0x10]),
            (912, &[0x90, 0x07]),
        ];
        for &(len, bytes) in cases {
            let mut out = Vec::new();
            put_length(&mut out, len);
            assert_eq!(out, bytes, "length {len}");
            assert_eq!(parse_length(bytes), Ok(Some((len, bytes.len()))));
        }
    }

    #[test]
    fn a_fifth_length_byte_is_rejected() {
        let bytes = [b'N', 0x80, 0x80, 0x80, 0x80, 0x01];
        let err = Records::new(&bytes).next().unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TooManyLengthBytes);
        assert_eq!(err.record_type(), Some(b'N'));
    }

    #[test]
    fn truncation_is_reported_with_offset_and_type() {
        let bytes = b"S\x03ab";
        let err = Records::new(bytes).next().unwrap().unwrap_err();
        assert_eq!(
            err,
            Error::new(ErrorKind::TruncatedPayload { len: 3 }, 0, Some(b'S'))
        );
        let mut records = Records::new(b"M\x00X");
        assert_eq!(records.next().unwrap().unwrap().ty, b'M');
        assert_eq!(
            records.next().unwrap().unwrap_err().kind(),
            ErrorKind::TruncatedLength
        );
        assert!(records.next().is_none(), "iteration stops after an error");
    }

    #[test]
    fn partial_views_report_unloaded_bytes() {
        let file = b"S\x02abM\x00X\x00E\x00";
        let view = FileView::partial(&file[..3], 6, &file[6..], file.len() as u64);
        assert_eq!(view.record_at(0).unwrap_err().kind(), ErrorKind::NotLoaded);
        let view = FileView::partial(&file[..4], 6, &file[6..], file.len() as u64);
        assert_eq!(view.record_at(0).unwrap().unwrap().payload, b"ab");
        assert_eq!(view.record_at(4).unwrap_err().kind(), ErrorKind::NotLoaded);
        assert_eq!(view.record_at(6).unwrap().unwrap().ty, b'X');
        assert_eq!(view.record_at(10).unwrap(), None);
    }
}
