//! The message's primary header block, read from the content segment
//! without reading the body.
//!
//! In a queue file each physical header line is its own text record (`N`,
//! with `L` chunks before it when the line was longer than
//! `line_length_limit`; postfix `src/cleanup/cleanup_out.c`). This module
//! joins the chunks into lines and the folded lines into headers, and stops
//! at the first line that is not a header, as `postcat -h` does.

use crate::error::{Error, ErrorKind, Result};
use crate::logical::{LogicalReader, ReadMode};
use crate::rec_type::{REC_TYPE_CONT, REC_TYPE_DTXT, REC_TYPE_NORM, REC_TYPE_XTRA};
use crate::record::FileView;
use crate::text::header_name_len;

/// One header: its name and its value (folded lines joined with `\n`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header<'h> {
    /// The name, without the colon and blanks before it.
    pub name: &'h [u8],
    /// Everything after the colon, continuation lines included.
    pub value: &'h [u8],
}

#[derive(Clone, Copy, Debug)]
struct Span {
    start: usize,
    name_len: usize,
    colon: usize,
    end: usize,
}

/// A reusable buffer holding one message's header block.
#[derive(Clone, Debug, Default)]
pub struct Headers {
    buf: Vec<u8>,
    spans: Vec<Span>,
}

impl Headers {
    /// An empty header block.
    pub fn new() -> Headers {
        Headers::default()
    }

    /// Reads the header block of the content that starts at
    /// `content_offset` (the offset just after `M`).
    pub fn read(&mut self, view: FileView<'_>, content_offset: u64) -> Result<()> {
        self.buf.clear();
        self.spans.clear();
        let mut reader = LogicalReader::new(view, ReadMode::Logical);
        reader.seek(content_offset);
        let mut line_start = 0;
        loop {
            let Some(rec) = reader.next_record()? else {
                return Err(Error::new(ErrorKind::MissingEnd, view.file_len(), None));
            };
            match rec.ty {
                REC_TYPE_CONT | REC_TYPE_NORM => self.buf.extend_from_slice(rec.payload),
                REC_TYPE_XTRA => {
                    self.buf.truncate(line_start);
                    return Ok(());
                }
                REC_TYPE_DTXT => continue,
                _ => {
                    return Err(Error::new(
                        ErrorKind::UnexpectedRecord,
                        rec.offset,
                        Some(rec.ty),
                    ))
                }
            }
            if rec.ty == REC_TYPE_CONT {
                continue;
            }
            // A whole line is in buf[line_start..].
            let line = &self.buf[line_start..];
            let name_len = header_name_len(line);
            if name_len > 0 {
                let colon = line_start + memchr::memchr(b':', line).unwrap_or(name_len);
                self.spans.push(Span {
                    start: line_start,
                    name_len,
                    colon,
                    end: self.buf.len(),
                });
            } else if matches!(line.first(), Some(b' ' | b'\t')) && !self.spans.is_empty() {
                // A continuation line: keep it with its header.
                self.buf.insert(line_start, b'\n');
                if let Some(last) = self.spans.last_mut() {
                    last.end = self.buf.len();
                }
            } else {
                self.buf.truncate(line_start);
                return Ok(());
            }
            line_start = self.buf.len();
        }
    }

    /// The headers in file order.
    pub fn iter(&self) -> impl Iterator<Item = Header<'_>> {
        self.spans.iter().map(move |s| Header {
            name: &self.buf[s.start..s.start + s.name_len],
            value: &self.buf[s.colon + 1..s.end],
        })
    }

    /// The first header whose name equals `name`, ignoring ASCII case.
    pub fn get(&self, name: &[u8]) -> Option<&[u8]> {
        self.iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value)
    }

    /// Number of headers.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// True when there are no headers.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::Envelope;
    use crate::write::QueueFileBuilder;

    #[test]
    fn joins_chunks_and_folded_lines_and_stops_at_the_body() {
        let long = [b'a'; 3000];
        let mut x_long = b"X-Long: ".to_vec();
        x_long.extend_from_slice(&long);
        let bytes = QueueFileBuilder::new(b"s@example.org", 1)
            .recipient(b"r@example.org")
            .line(b"Subject: one")
            .line(b"\ttwo")
            .line(&x_long)
            .line(b"From me")
            .line(b"Body: not a header")
            .build();
        let env = Envelope::decode(FileView::whole(&bytes)).unwrap();
        let mut headers = Headers::new();
        headers
            .read(FileView::whole(&bytes), env.content_offset)
            .unwrap();
        assert_eq!(headers.len(), 2);
        assert_eq!(headers.get(b"subject"), Some(&b" one\n\ttwo"[..]));
        assert_eq!(headers.get(b"X-LONG").map(|v| v.len()), Some(3001));
        assert_eq!(headers.get(b"Body"), None);
    }
}
