//! Reading records in logical order, the way Postfix's `rec_get` does.
//!
//! Milter edits patch queue files in place: a changed record is overwritten
//! by a `p` pointer to a heap after the `E` record, which points back when
//! done (postfix `src/cleanup/cleanup_milter.c`). A reader must therefore
//! follow `p` records, skip `w` padding and stop at the first `E` it meets;
//! a physical scan of an edited file reads garbage. This mirrors
//! `rec_get_raw` with `REC_FLAG_DEFAULT` and `rec_goto` in
//! `src/global/record.c`.

use crate::error::{Error, ErrorKind, Result};
use crate::rec_type::{REC_TYPE_DTXT, REC_TYPE_END, REC_TYPE_PTR};
use crate::record::{FileView, Record};
use crate::text::c_str;

/// `rec_goto`'s limit on backward jumps within one file.
const REVERSE_JUMP_LIMIT: u32 = 10_000;

/// How a [`LogicalReader`] treats the bookkeeping records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadMode {
    /// `rec_get`: follow `p`, skip `w`, stop after `E`.
    Logical,
    /// `rec_get_raw` with no flags: return every record as it lies.
    Raw,
}

/// A reader over a queue file's records in logical order.
#[derive(Clone, Debug)]
pub struct LogicalReader<'a> {
    view: FileView<'a>,
    pos: u64,
    mode: ReadMode,
    ended: bool,
    last_jump_target: u64,
    reverse_jumps: u32,
    records_read: u64,
}

impl<'a> LogicalReader<'a> {
    /// A reader at the start of the file.
    pub fn new(view: FileView<'a>, mode: ReadMode) -> LogicalReader<'a> {
        LogicalReader {
            view,
            pos: 0,
            mode,
            ended: false,
            last_jump_target: 0,
            reverse_jumps: 0,
            records_read: 0,
        }
    }

    /// The view this reader reads from.
    pub fn view(&self) -> FileView<'a> {
        self.view
    }

    /// The current file position: where the next read starts.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Moves to `offset`, as `vstream_fseek` does; a later `E` stops
    /// reading again.
    pub fn seek(&mut self, offset: u64) {
        self.pos = offset;
        self.ended = false;
    }

    /// The next record: `Ok(None)` at end of file or after `E`.
    ///
    /// In [`ReadMode::Logical`], `p` and `w` records are consumed silently;
    /// the position before the call (see [`position`](Self::position)) is
    /// what `postcat -o` prints.
    pub fn next_record(&mut self) -> Result<Option<Record<'a>>> {
        loop {
            if self.ended {
                return Ok(None);
            }
            self.records_read += 1;
            // Each record takes at least 2 bytes and a sound file reads each
            // one once, so more reads than bytes can only be a pointer loop.
            // Postfix itself only gives up after 10,000 backward jumps.
            if self.records_read > self.view.file_len() + 1 {
                return Err(Error::new(
                    ErrorKind::PointerLoop,
                    self.pos,
                    Some(REC_TYPE_PTR),
                ));
            }
            let Some(rec) = self.view.record_at(self.pos)? else {
                self.ended = true;
                return Ok(None);
            };
            self.pos = rec.end;
            if self.mode == ReadMode::Raw {
                return Ok(Some(rec));
            }
            match rec.ty {
                REC_TYPE_PTR => self.follow_pointer(&rec)?,
                REC_TYPE_DTXT => {}
                REC_TYPE_END => {
                    self.ended = true;
                    return Ok(Some(rec));
                }
                _ => return Ok(Some(rec)),
            }
        }
    }

    /// Follows a pointer record as `rec_goto` does: offset 0 is a dummy.
    /// [`ReadMode::Logical`] does this itself; raw readers (`postcat -v`)
    /// call it for the pointers they choose to follow.
    pub fn follow_pointer(&mut self, rec: &Record<'a>) -> Result<()> {
        let target = parse_pointer(rec.payload).ok_or(Error::new(
            ErrorKind::MalformedPointer,
            rec.offset,
            Some(rec.ty),
        ))?;
        if target == 0 {
            return Ok(());
        }
        if target <= self.last_jump_target {
            self.reverse_jumps += 1;
            if self.reverse_jumps > REVERSE_JUMP_LIMIT {
                return Err(Error::new(
                    ErrorKind::TooManyReverseJumps,
                    rec.offset,
                    Some(rec.ty),
                ));
            }
        }
        self.last_jump_target = target;
        self.pos = target;
        Ok(())
    }
}

/// Parses a pointer payload as `rec_goto` does: leading white space, then
/// only decimal digits up to the first NUL; empty means 0 (dummy).
pub fn parse_pointer(payload: &[u8]) -> Option<u64> {
    let text = c_str(payload);
    let digits = &text[text
        .iter()
        .take_while(|b| crate::text::is_c_space(**b))
        .count()..];
    let mut value: u64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
        if value > i64::MAX as u64 {
            return None;
        }
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write::RecordWriter;

    fn types(bytes: &[u8]) -> Result<Vec<u8>> {
        let mut reader = LogicalReader::new(FileView::whole(bytes), ReadMode::Logical);
        let mut out = Vec::new();
        while let Some(rec) = reader.next_record()? {
            out.push(rec.ty);
        }
        Ok(out)
    }

    #[test]
    fn pointers_are_followed_padding_skipped_and_reading_stops_at_end() {
        let mut w = RecordWriter::new();
        w.record(b'S', b"a@b");
        let ptr_at = w.pointer(0);
        w.record(b'R', b"garbage-after-overwrite");
        w.record(b'E', b"");
        let heap = w.position();
        w.record(b'w', b"    0");
        w.record(b'R', b"x@y");
        let back = w.pointer(0);
        w.patch_pointer(ptr_at, heap);
        w.patch_pointer(back, heap - 2); // the E record
        let bytes = w.into_bytes();
        assert_eq!(types(&bytes).unwrap(), b"SRE");
    }

    #[test]
    fn pointer_values_follow_rec_goto() {
        assert_eq!(parse_pointer(b"              0"), Some(0));
        assert_eq!(parse_pointer(b"   1340"), Some(1340));
        assert_eq!(parse_pointer(b""), Some(0));
        assert_eq!(parse_pointer(b"12\x00junk"), Some(12));
        assert_eq!(parse_pointer(b"12 "), None);
        assert_eq!(parse_pointer(b"-1"), None);
        assert_eq!(parse_pointer(b"99999999999999999999"), None);
    }

    #[test]
    fn a_pointer_loop_is_an_error_not_a_hang() {
        let mut w = RecordWriter::new();
        w.record(b'S', b"");
        let at = w.pointer(0);
        w.patch_pointer(at, 2);
        let bytes = w.into_bytes();
        let err = types(&bytes).unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::PointerLoop | ErrorKind::TooManyReverseJumps
        ));
    }
}
