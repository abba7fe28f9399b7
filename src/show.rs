//! `qsurgeon show`: print queue files exactly as Postfix's `postcat` does.
//!
//! This is the state machine of postfix `src/postcat/postcat.c` (3.7)
//! driven by [`queue_file::LogicalReader`]: the same envelope/header/body
//! states, the same seeks past content that is not printed, and the same
//! quirks (offsets printed before pointer jumps, `prev_type` updated only
//! for printed records). Differences, all deliberate and documented in the
//! man page: output is always complete (postcat loses what it had not
//! flushed at exit), and a read error ends only the file it is in.
//!
//! Both printers stream: memory is bounded by the largest record, not by
//! the number of records. A message of millions of blank lines (8 MB, and
//! anyone can send it) is millions of records; building the whole output,
//! or a JSON tree of it, first took gigabytes (issue 10, item 3).

use std::io::{self, Read, Write};
use std::path::Path;

use anyhow::Context;
use queue_file::rec_type::*;
use queue_file::text::{atol, c_str, is_header, split_nameval};
use queue_file::{FileView, LogicalReader, ReadMode, Record};

use crate::sanitize::Terminal;
use crate::timefmt::asctime_local;

/// Output is handed to the writer in pieces of about this size.
const FLUSH_AT: usize = 64 * 1024;

/// The largest file `show` reads: queue files are limited by
/// `message_size_limit` (10 MB by default), so anything this big is not a
/// message Postfix wrote, and reading it whole would only exhaust memory.
pub const MAX_FILE_SIZE: u64 = 1 << 30;

/// Which parts to print, and how (postcat's flags).
#[derive(Clone, Copy, Debug, Default)]
pub struct PostcatFlags {
    /// `-e`: envelope records.
    pub envelope: bool,
    /// `-h`: primary header lines.
    pub header: bool,
    /// `-b`: body lines.
    pub body: bool,
    /// `-o`: file offset before each line.
    pub offsets: bool,
    /// `-d`: record type in decimal before each line.
    pub decimal_types: bool,
    /// `-v`: raw records, labelled text, `p` and `w` shown.
    pub verbose: bool,
    /// `-r`: with `-v`, do not follow pointers and go on after `E`.
    pub raw: bool,
}

impl PostcatFlags {
    /// Applies postcat's default: none of `-b -e -h` means all three.
    pub fn with_defaults(mut self) -> PostcatFlags {
        if !(self.envelope || self.header || self.body) {
            self.envelope = true;
            self.header = true;
            self.body = true;
        }
        self
    }
}

/// Why printing a file stopped early (postcat's fatal errors).
#[derive(Debug)]
pub enum PostcatError {
    /// A record could not be read.
    Read(queue_file::Error),
    /// A seek to a negative offset taken from a bad size record.
    Seek(i64),
    /// The output could not be written (a closed pipe, a full disk).
    Write(io::Error),
}

impl std::fmt::Display for PostcatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PostcatError::Read(e) => write!(f, "{e}"),
            PostcatError::Seek(off) => {
                write!(f, "seek error: bad offset {off} from the size record")
            }
            PostcatError::Write(e) => write!(f, "write error: {e}"),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Envelope,
    Header,
    Body,
}

/// The printing state for one file. `out` holds what is not yet written:
/// at most [`FLUSH_AT`] bytes plus the output of one record.
struct Printer<'o> {
    out: Vec<u8>,
    path: &'o [u8],
    flags: PostcatFlags,
}

impl Printer<'_> {
    /// Hands the buffered output to `sink` once there is enough of it.
    fn flush_some(&mut self, sink: &mut dyn Write) -> Result<(), PostcatError> {
        if self.out.len() >= FLUSH_AT {
            sink.write_all(&self.out).map_err(PostcatError::Write)?;
            self.out.clear();
        }
        Ok(())
    }

    fn prefixes(&mut self, offset: u64, ty: u8) {
        if self.flags.offsets {
            self.out
                .extend_from_slice(format!("{offset:9} ").as_bytes());
        }
        if self.flags.decimal_types {
            self.out.extend_from_slice(format!("{ty:3} ").as_bytes());
        }
    }

    fn marker(&mut self, offset: u64, ty: u8, text: &str) {
        self.prefixes(offset, ty);
        self.out.extend_from_slice(b"*** ");
        self.out.extend_from_slice(text.as_bytes());
        self.out.push(b' ');
        self.out.extend_from_slice(self.path);
        self.out.extend_from_slice(b" ***\n");
    }

    fn record_line(&mut self, offset: u64, rec: &Record<'_>) {
        self.prefixes(offset, rec.ty);
        self.named_value(rec.ty, c_str(rec.payload));
    }

    fn named_value(&mut self, ty: u8, value: &[u8]) {
        self.out.extend_from_slice(name(ty).as_bytes());
        self.out.extend_from_slice(b": ");
        self.out.extend_from_slice(value);
        self.out.push(b'\n');
    }
}

/// Parses two leading integers as `sscanf("%ld %ld")` does; returns how
/// many were converted (fields left unconverted keep their value).
fn scan_two_longs(payload: &[u8], first: &mut i64, second: &mut i64) -> usize {
    fn scan_long(text: &[u8]) -> Option<(i64, usize)> {
        let start = text
            .iter()
            .take_while(|b| queue_file::text::is_c_space(**b))
            .count();
        let mut end = start;
        if matches!(text.get(end), Some(b'+' | b'-')) {
            end += 1;
        }
        let digits = text[end..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        (digits > 0).then(|| (atol(&text[start..]), end + digits))
    }
    let text = c_str(payload);
    let Some((a, used)) = scan_long(text) else {
        return 0;
    };
    *first = a;
    let Some((b, _)) = scan_long(&text[used..]) else {
        return 1;
    };
    *second = b;
    2
}

/// Prints one file as postcat would, writing to `out` as it goes; warnings
/// go to `warn` (without the program name). `path` is shown in the markers.
/// What was printed before an error is written before the error returns.
pub fn postcat<W: Write + ?Sized>(
    out: &mut W,
    path: &[u8],
    bytes: &[u8],
    flags: PostcatFlags,
    warn: &mut dyn FnMut(String),
) -> Result<(), PostcatError> {
    let shown_path = String::from_utf8_lossy(path).into_owned();
    if let Some(first) = bytes.first() {
        if !REC_TYPE_ENVELOPE.contains(first) {
            warn(format!("{shown_path}: input is not a valid queue file"));
            return Ok(());
        }
    }
    // `&mut W` is `Write` and sized, so it can be handed on as `dyn Write`.
    let mut sink = out;
    let mut p = Printer {
        out: Vec::new(),
        path,
        flags,
    };
    let printed = print_records(&mut p, &mut sink, &shown_path, bytes, warn);
    if let Err(PostcatError::Write(e)) = printed {
        return Err(PostcatError::Write(e));
    }
    sink.write_all(&p.out).map_err(PostcatError::Write)?;
    printed
}

/// postcat's loop over the records of one file (`postcat.c`
/// `postcat()`), printing into `p` and handing its output to `sink`
/// record by record.
fn print_records(
    p: &mut Printer<'_>,
    sink: &mut dyn Write,
    shown_path: &str,
    bytes: &[u8],
    warn: &mut dyn FnMut(String),
) -> Result<(), PostcatError> {
    let (path, flags) = (p.path, p.flags);
    let (env, text_wanted) = (flags.envelope, flags.header || flags.body);
    if env {
        p.out.extend_from_slice(b"*** ENVELOPE RECORDS ");
        p.out.extend_from_slice(path);
        p.out.extend_from_slice(b" ***\n");
    }
    let mode = if flags.verbose {
        ReadMode::Raw
    } else {
        ReadMode::Logical
    };
    let mut reader = LogicalReader::new(FileView::whole(bytes), mode);
    let mut state = State::Envelope;
    let mut do_print = env;
    let (mut data_offset, mut data_size) = (-1i64, -1i64);
    let mut prev_type = 0u8;
    let skip_to_extracted = |reader: &mut LogicalReader<'_>, data_offset: i64, data_size: i64| {
        if data_offset >= 0 && data_size >= 0 {
            reader.seek(data_offset.saturating_add(data_size) as u64);
        }
    };

    loop {
        p.flush_some(sink)?;
        let offset = reader.position();
        let Some(rec) = reader.next_record().map_err(PostcatError::Read)? else {
            break;
        };
        let ty = rec.ty;
        match ty {
            REC_TYPE_NORM | REC_TYPE_CONT => {
                let text = c_str(rec.payload);
                if state == State::Header
                    && text_wanted
                    && prev_type != REC_TYPE_CONT
                    && !(is_header(text) || matches!(text.first(), Some(b' ' | b'\t')))
                {
                    state = State::Body;
                    do_print = flags.body;
                    if !do_print && !env {
                        break;
                    }
                    if !do_print {
                        skip_to_extracted(&mut reader, data_offset, data_size);
                    }
                }
            }
            REC_TYPE_MESG => {
                if state != State::Envelope {
                    warn(format!("{shown_path}: out-of-order message content marker"));
                }
                if env {
                    p.marker(offset, ty, "MESSAGE CONTENTS");
                }
                if !text_wanted {
                    skip_to_extracted(&mut reader, data_offset, data_size);
                }
                state = State::Header;
                do_print = flags.header;
                continue;
            }
            REC_TYPE_XTRA => {
                if state == State::Envelope {
                    warn(format!(
                        "{shown_path}: out-of-order extracted segment marker"
                    ));
                }
                if do_print && prev_type == REC_TYPE_CONT {
                    p.out.push(b'\n');
                }
                if env {
                    p.marker(offset, ty, "HEADER EXTRACTED");
                }
                state = State::Envelope;
                do_print = env;
                if !do_print {
                    break;
                }
                continue;
            }
            REC_TYPE_END => {
                if state != State::Envelope {
                    warn(format!("{shown_path}: out-of-order message end marker"));
                }
                if env {
                    p.marker(offset, ty, "MESSAGE FILE END");
                }
                if flags.raw {
                    continue;
                }
                break;
            }
            REC_TYPE_PTR => {
                // Only raw reads (-v) return pointer records.
                if do_print {
                    p.record_line(offset, &rec);
                }
                if !flags.raw {
                    reader.follow_pointer(&rec).map_err(PostcatError::Read)?;
                }
                continue;
            }
            REC_TYPE_SIZE => {
                if do_print {
                    p.record_line(offset, &rec);
                }
                if data_size >= 0 || data_offset >= 0 {
                    warn("file contains multiple size records".to_string());
                } else {
                    let scanned = scan_two_longs(rec.payload, &mut data_size, &mut data_offset);
                    if scanned != 2 || data_offset <= 0 || data_size <= 0 {
                        let text = c_str(rec.payload);
                        let shown = String::from_utf8_lossy(&text[..text.len().min(100)]);
                        warn(format!("invalid size record: {shown}"));
                    }
                    if !env {
                        if data_offset < 0 {
                            return Err(PostcatError::Seek(data_offset));
                        }
                        reader.seek(data_offset as u64);
                        state = State::Header;
                        do_print = flags.header;
                    }
                }
                continue;
            }
            _ => {}
        }

        if !do_print {
            continue;
        }
        p.prefixes(offset, ty);
        let mut printed_type = ty;
        match ty {
            REC_TYPE_TIME | REC_TYPE_WARN => {
                p.out.extend_from_slice(name(ty).as_bytes());
                p.out.extend_from_slice(b": ");
                p.out
                    .extend_from_slice(asctime_local(atol(rec.payload)).as_bytes());
            }
            REC_TYPE_CONT => {
                if state == State::Envelope {
                    p.out.extend_from_slice(b"content_filter: ");
                } else if flags.verbose {
                    p.out.extend_from_slice(b"unterminated_text: ");
                }
                p.out.extend_from_slice(rec.payload);
                if state == State::Envelope || flags.verbose || flags.offsets {
                    printed_type = 0;
                    p.out.push(b'\n');
                }
            }
            REC_TYPE_NORM => {
                if flags.verbose {
                    p.out.extend_from_slice(b"regular_text: ");
                }
                p.out.extend_from_slice(rec.payload);
                p.out.push(b'\n');
            }
            REC_TYPE_DTXT => {
                p.out.extend_from_slice(b"padding: ");
                p.out.extend_from_slice(rec.payload);
                p.out.push(b'\n');
            }
            REC_TYPE_ATTR => match split_nameval(rec.payload) {
                Err(e) => {
                    let text = c_str(rec.payload);
                    let shown = String::from_utf8_lossy(&text[..text.len().min(100)]);
                    warn(format!(
                        "{shown_path}: malformed attribute: {}: {shown}",
                        e.message()
                    ));
                }
                Ok((attr_name, value)) if attr_name == b"create_time" => {
                    p.out.extend_from_slice(b"create_time: ");
                    p.out
                        .extend_from_slice(asctime_local(atol(value)).as_bytes());
                }
                Ok((attr_name, value)) => {
                    p.out.extend_from_slice(b"named_attribute: ");
                    p.out.extend_from_slice(attr_name);
                    p.out.push(b'=');
                    p.out.extend_from_slice(value);
                    p.out.push(b'\n');
                }
            },
            _ => p.named_value(ty, c_str(rec.payload)),
        }
        prev_type = printed_type;
    }
    Ok(())
}

/// Every record of a file in logical order, decoded, as one JSON object on
/// one line: `{"error"?, "file_size", "path", "records": [...]}` (keys
/// sorted, as serde_json writes a map). Payloads are lossless (`{"text"}`
/// or `{"bytes"}`); `A`, `T`, `W` and `C` records also carry their decoded
/// values. Returns the read error that ended the records, if any.
///
/// The document is written record by record, so memory is bounded by the
/// largest record. `"error"` comes first, so a first pass over the
/// records (no output, no allocation) finds it; the reader is
/// deterministic, so the second pass stops at the same record.
pub fn write_json<W: Write + ?Sized>(
    out: &mut W,
    path: &[u8],
    bytes: &[u8],
) -> io::Result<Option<queue_file::Error>> {
    use act::json::data;
    use serde_json::json;

    let mut reader = LogicalReader::new(FileView::whole(bytes), ReadMode::Logical);
    let error = loop {
        match reader.next_record() {
            Ok(Some(_)) => {}
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    // The head is the document without records, cut before its closing
    // `]}`: "records" sorts last, so what follows is exactly the records.
    let mut head = json!({
        "path": data(path),
        "file_size": bytes.len(),
        "records": [],
    });
    if let Some(e) = &error {
        head["error"] = json!({
            "offset": e.offset(),
            "record_type": e.record_type().map(|t| (t as char).to_string()),
            "message": e.to_string(),
        });
    }
    let head = serde_json::to_string(&head)?;
    let head = head.strip_suffix("]}").unwrap_or(&head);
    out.write_all(head.as_bytes())?;

    let mut reader = LogicalReader::new(FileView::whole(bytes), ReadMode::Logical);
    let mut segment = "envelope";
    let mut first = true;
    // Stops at the error the first pass found.
    while let Ok(Some(rec)) = reader.next_record() {
        // M ends the envelope segment; X starts the extracted one.
        let starts_content = rec.ty == REC_TYPE_MESG && segment == "envelope";
        if rec.ty == REC_TYPE_XTRA && segment == "content" {
            segment = "extracted";
        }
        if !first {
            out.write_all(b",")?;
        }
        first = false;
        write_record(out, &rec, segment)?;
        if starts_content {
            segment = "content";
        }
    }
    out.write_all(b"]}\n")?;
    Ok(error)
}

/// Writes one record of [`write_json`], in segment `segment`: the object
/// serde_json would write for it (keys sorted), written directly, since a
/// map per record costs more than the rest of the work together.
fn write_record<W: Write + ?Sized>(out: &mut W, rec: &Record<'_>, segment: &str) -> io::Result<()> {
    use act::json::data;
    use serde_json::json;

    // The decoded value of an A, C, T or W record: (key, value).
    let decoded = match rec.ty {
        REC_TYPE_ATTR => split_nameval(rec.payload)
            .ok()
            .map(|(n, v)| ("attribute", json!({ "name": data(n), "value": data(v) }))),
        REC_TYPE_TIME => {
            let (sec, usec) = queue_file::envelope::parse_time(rec.payload);
            Some(("time", json!({ "sec": sec, "usec": usec })))
        }
        REC_TYPE_WARN => Some(("time", json!({ "sec": atol(rec.payload) }))),
        REC_TYPE_SIZE => queue_file::SizeRecord::parse(rec.payload).map(|s| {
            let size = json!({
                "content_size": s.content_size,
                "data_offset": s.data_offset,
                "recipient_count": s.recipient_count,
                "qmgr_options": s.qmgr_options,
                "content_length": s.content_length,
                "sendopts": s.sendopts,
                "field_count": s.field_count,
            });
            ("size", size)
        }),
        _ => None,
    };
    let label = if rec.ty == REC_TYPE_CONT && segment == "content" {
        "unterminated_text"
    } else {
        name(rec.ty)
    };
    out.write_all(b"{")?;
    if let Some(("attribute", value)) = &decoded {
        out.write_all(b"\"attribute\":")?;
        serde_json::to_writer(&mut *out, value)?;
        out.write_all(b",")?;
    }
    // `data` as act::json::data makes it: {"text": …} or {"bytes": …}.
    match std::str::from_utf8(rec.payload) {
        Ok(text) => {
            out.write_all(b"\"data\":{\"text\":")?;
            serde_json::to_writer(&mut *out, text)?;
        }
        Err(_) => {
            out.write_all(b"\"data\":{\"bytes\":")?;
            serde_json::to_writer(&mut *out, &act::json::base64(rec.payload))?;
        }
    }
    out.write_all(b"},\"name\":")?;
    serde_json::to_writer(&mut *out, label)?;
    write!(out, ",\"offset\":{},\"segment\":", rec.offset)?;
    serde_json::to_writer(&mut *out, segment)?;
    if let Some((key @ ("size" | "time"), value)) = &decoded {
        write!(out, ",\"{key}\":")?;
        serde_json::to_writer(&mut *out, value)?;
    }
    out.write_all(b",\"type\":")?;
    let mut ty = [0; 4];
    serde_json::to_writer(&mut *out, (rec.ty as char).encode_utf8(&mut ty))?;
    out.write_all(b"}")
}

/// A writer for `show`'s standard output: buffers, and on a terminal
/// escapes what it writes ([`Terminal::text`] or, for JSON,
/// [`Terminal::json`]) piece by piece. Pieces end where no UTF-8
/// character can span the cut, so the escaped output is byte for byte
/// what escaping the whole output at once gives.
pub struct Shown<W: Write> {
    inner: W,
    term: Terminal,
    json: bool,
    buf: Vec<u8>,
    flush_at: usize,
}

impl<W: Write> Shown<W> {
    /// Output to `inner`, shown as `term` says; `json` picks the escaping.
    pub fn new(inner: W, term: Terminal, json: bool) -> Shown<W> {
        Shown {
            inner,
            term,
            json,
            buf: Vec::new(),
            flush_at: FLUSH_AT,
        }
    }

    /// Writes `buf[..upto]` (escaped when the policy says so) and keeps
    /// the rest.
    fn write_out(&mut self, upto: usize) -> io::Result<()> {
        let part = &self.buf[..upto];
        let shown = if self.json {
            self.term.json(part)
        } else {
            self.term.text(part)
        };
        self.inner.write_all(&shown)?;
        self.buf.drain(..upto);
        Ok(())
    }
}

/// Where `bytes` can be cut so that no UTF-8 character spans the cut:
/// before a lead byte in the last three bytes (its character may go on in
/// the next piece), else at the end. Continuation bytes (`10xxxxxx`) are
/// never a character's start, and a character is at most four bytes.
fn utf8_safe_cut(bytes: &[u8]) -> usize {
    let tail = bytes.len().saturating_sub(3);
    match bytes[tail..].iter().rposition(|b| b & 0xc0 != 0x80) {
        Some(i) if bytes[tail + i] >= 0xc0 => tail + i,
        _ => bytes.len(),
    }
}

impl<W: Write> Write for Shown<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= self.flush_at {
            self.write_out(utf8_safe_cut(&self.buf))?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.write_out(self.buf.len())?;
        self.inner.flush()
    }
}

/// Reads the file `show FILE` names (or, with `nofollow`, a queue file
/// found by ID, which is never a symbolic link) as Postfix's own readers
/// would find it safe to: opened without blocking, so a FIFO planted in
/// its place cannot hang the run; regular files only; and at most
/// [`MAX_FILE_SIZE`] bytes, read into a buffer that grows with what is
/// read (a sparse file's `st_size` is no size to allocate).
pub fn read_regular_file(path: &Path, nofollow: bool) -> anyhow::Result<Vec<u8>> {
    use rustix::fs::{FileType, Mode, OFlags};

    let shown = path.display();
    let mut flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
    if nofollow {
        flags |= OFlags::NOFOLLOW;
    }
    let fd = rustix::fs::open(path, flags, Mode::empty())
        .map_err(io::Error::from)
        .with_context(|| format!("open {shown}"))?;
    let stat = rustix::fs::fstat(&fd)
        .map_err(io::Error::from)
        .with_context(|| format!("stat {shown}"))?;
    let file_type = FileType::from_raw_mode(stat.st_mode);
    anyhow::ensure!(
        file_type == FileType::RegularFile,
        "{shown}: not a regular file ({}): show reads queue files only",
        describe_file_type(file_type)
    );
    let size = u64::try_from(stat.st_size).unwrap_or(0);
    anyhow::ensure!(
        size <= MAX_FILE_SIZE,
        "{shown}: {size} bytes, over show's limit of {MAX_FILE_SIZE} bytes (1 GiB): not a queue file Postfix wrote"
    );
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(size as usize)
        .with_context(|| format!("read {shown}: cannot allocate {size} bytes"))?;
    // The file may grow while it is read: the limit holds for what is
    // read, not only for what fstat said.
    std::fs::File::from(fd)
        .take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("read {shown}"))?;
    anyhow::ensure!(
        bytes.len() as u64 <= MAX_FILE_SIZE,
        "{shown}: grew over show's limit of {MAX_FILE_SIZE} bytes (1 GiB) while read"
    );
    Ok(bytes)
}

/// A file type as `ls -l` users know it.
fn describe_file_type(file_type: rustix::fs::FileType) -> &'static str {
    use rustix::fs::FileType;
    match file_type {
        FileType::Directory => "a directory",
        FileType::Fifo => "a FIFO",
        FileType::Socket => "a socket",
        FileType::CharacterDevice => "a character device",
        FileType::BlockDevice => "a block device",
        FileType::Symlink => "a symbolic link",
        _ => "not a regular file",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use queue_file::{FileView, LogicalReader, ReadMode};

    /// The non-streaming `show --json` this module had before it streamed,
    /// kept as the reference the streamed output must equal byte for byte:
    /// `{"path", "file_size", "records": [...], "error"?}`. Payloads are
    /// lossless (`{"text"}` or `{"bytes"}`); `A`, `T`, `W` and `C` records also
    /// carry their decoded values.
    fn to_json(path: &[u8], bytes: &[u8]) -> (serde_json::Value, Option<queue_file::Error>) {
        use act::json::data;
        use serde_json::{json, Map, Value};

        let mut records = Vec::new();
        let mut reader = LogicalReader::new(FileView::whole(bytes), ReadMode::Logical);
        let mut segment = "envelope";
        let mut error = None;
        loop {
            let rec = match reader.next_record() {
                Ok(Some(rec)) => rec,
                Ok(None) => break,
                Err(e) => {
                    error = Some(e);
                    break;
                }
            };
            // M ends the envelope segment; X starts the extracted one.
            let starts_content = rec.ty == REC_TYPE_MESG && segment == "envelope";
            if rec.ty == REC_TYPE_XTRA && segment == "content" {
                segment = "extracted";
            }
            let mut obj = Map::new();
            obj.insert("offset".into(), json!(rec.offset));
            obj.insert("type".into(), json!((rec.ty as char).to_string()));
            let label = if rec.ty == REC_TYPE_CONT && segment == "content" {
                "unterminated_text"
            } else {
                name(rec.ty)
            };
            obj.insert("name".into(), json!(label));
            obj.insert("segment".into(), json!(segment));
            obj.insert("data".into(), data(rec.payload));
            match rec.ty {
                REC_TYPE_ATTR => {
                    if let Ok((n, v)) = split_nameval(rec.payload) {
                        obj.insert(
                            "attribute".into(),
                            json!({ "name": data(n), "value": data(v) }),
                        );
                    }
                }
                REC_TYPE_TIME => {
                    let (sec, usec) = queue_file::envelope::parse_time(rec.payload);
                    obj.insert("time".into(), json!({ "sec": sec, "usec": usec }));
                }
                REC_TYPE_WARN => {
                    obj.insert("time".into(), json!({ "sec": atol(rec.payload) }));
                }
                REC_TYPE_SIZE => {
                    if let Some(s) = queue_file::SizeRecord::parse(rec.payload) {
                        obj.insert(
                            "size".into(),
                            json!({
                                "content_size": s.content_size,
                                "data_offset": s.data_offset,
                                "recipient_count": s.recipient_count,
                                "qmgr_options": s.qmgr_options,
                                "content_length": s.content_length,
                                "sendopts": s.sendopts,
                                "field_count": s.field_count,
                            }),
                        );
                    }
                }
                _ => {}
            }
            records.push(Value::Object(obj));
            if starts_content {
                segment = "content";
            }
        }
        let mut doc = json!({
            "path": data(path),
            "file_size": bytes.len(),
            "records": records,
        });
        if let Some(e) = &error {
            doc["error"] = json!({
                "offset": e.offset(),
                "record_type": e.record_type().map(|t| (t as char).to_string()),
                "message": e.to_string(),
            });
        }
        (doc, error)
    }

    const SAMPLE: &[u8] =
        include_bytes!("../testdata/postfix-samples/538D798E0FA.milter-edited-ptr-chains");

    fn all_flag_sets() -> Vec<PostcatFlags> {
        let mut sets = Vec::new();
        for bits in 0u8..128 {
            let bit = |n: u8| bits & (1u8 << n) != 0;
            sets.push(
                PostcatFlags {
                    envelope: bit(0),
                    header: bit(1),
                    body: bit(2),
                    offsets: bit(3),
                    decimal_types: bit(4),
                    verbose: bit(5),
                    raw: bit(6),
                }
                .with_defaults(),
            );
        }
        sets
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        /// postcat's state machine never panics, whatever the bytes and flags.
        #[test]
        fn printing_any_bytes_never_panics(
            flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
            cut in any::<prop::sample::Index>(),
            random in prop::collection::vec(any::<u8>(), 0..200),
        ) {
            let mut bytes = SAMPLE.to_vec();
            for (at, value) in flips {
                let i = at.index(bytes.len());
                bytes[i] = value;
            }
            let cut_bytes = &bytes[..cut.index(bytes.len())];
            for flags in all_flag_sets() {
                for input in [&bytes[..], cut_bytes, &random[..]] {
                    let mut out = Vec::new();
                    let _ = postcat(&mut out, b"f", input, flags, &mut |_| {});
                }
            }
            for input in [&bytes[..], cut_bytes, &random[..]] {
                let (doc, error) = to_json(b"f", input);
                let mut want = serde_json::to_vec(&doc).unwrap();
                want.push(b'\n');
                let mut got = Vec::new();
                let streamed_error = write_json(&mut got, b"f", input).unwrap();
                prop_assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&want));
                prop_assert_eq!(
                    streamed_error.map(|e| e.to_string()),
                    error.map(|e| e.to_string())
                );
            }
        }

        /// Escaping in pieces gives what escaping the whole output gives,
        /// wherever the writes and the flushes fall.
        #[test]
        fn shown_in_pieces_is_shown_whole(
            parts in prop::collection::vec(
                prop_oneof![
                    prop::collection::vec(any::<u8>(), 0..6),
                    "[a\u{e9}\u{202e}\u{200b}\u{9b}\u{1F600}\n\x1b\x7f]{0,4}"
                        .prop_map(String::into_bytes),
                ],
                0..40,
            ),
            flush_at in 1usize..16,
            json in any::<bool>(),
        ) {
            let whole: Vec<u8> = parts.concat();
            let term = Terminal { escape: true, color: false };
            let want = if json { term.json(&whole) } else { term.text(&whole) };
            let mut shown = Shown::new(Vec::new(), term, json);
            shown.flush_at = flush_at;
            for part in &parts {
                shown.write_all(part).unwrap();
            }
            shown.flush().unwrap();
            prop_assert_eq!(shown.inner, want.into_owned());
        }
    }

    /// The golden document of a Milter-edited sample, streamed.
    #[test]
    fn streamed_json_of_the_golden_sample_is_the_golden_file() {
        let mut got = Vec::new();
        let error = write_json(&mut got, b"538D798E0FA.milter-edited-ptr-chains", SAMPLE).unwrap();
        assert!(error.is_none());
        let golden = include_bytes!("../testdata/golden/538D798E0FA.show.json");
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(golden)
        );
    }
}
