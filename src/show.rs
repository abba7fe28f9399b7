//! `qsurgeon show`: print queue files exactly as Postfix's `postcat` does.
//!
//! This is the state machine of postfix `src/postcat/postcat.c` (3.7)
//! driven by [`queue_file::LogicalReader`]: the same envelope/header/body
//! states, the same seeks past content that is not printed, and the same
//! quirks (offsets printed before pointer jumps, `prev_type` updated only
//! for printed records). Differences, all deliberate and documented in the
//! man page: output is always complete (postcat loses what it had not
//! flushed at exit), and a read error ends only the file it is in.

use queue_file::rec_type::*;
use queue_file::text::{atol, c_str, is_header, split_nameval};
use queue_file::{FileView, LogicalReader, ReadMode, Record};

use crate::timefmt::asctime_local;

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
}

impl std::fmt::Display for PostcatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PostcatError::Read(e) => write!(f, "{e}"),
            PostcatError::Seek(off) => {
                write!(f, "seek error: bad offset {off} from the size record")
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Envelope,
    Header,
    Body,
}

/// The printing state for one file.
struct Printer<'o> {
    out: &'o mut Vec<u8>,
    path: &'o [u8],
    flags: PostcatFlags,
}

impl Printer<'_> {
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

/// Prints one file as postcat would, appending to `out`; warnings go to
/// `warn` (without the program name). `path` is shown in the markers.
pub fn postcat(
    out: &mut Vec<u8>,
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
    let mut p = Printer { out, path, flags };
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

/// Every record of a file in logical order, decoded, as one JSON object:
/// `{"path", "file_size", "records": [...], "error"?}`. Payloads are
/// lossless (`{"text"}` or `{"bytes"}`); `A`, `T`, `W` and `C` records also
/// carry their decoded values.
pub fn to_json(path: &[u8], bytes: &[u8]) -> (serde_json::Value, Option<queue_file::Error>) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
            let _ = to_json(b"f", &bytes);
        }
    }
}
