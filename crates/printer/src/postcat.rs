//! Queue files printed exactly as Postfix's `postcat` prints them.
//!
//! This is the state machine of postfix `src/postcat/postcat.c` (3.7)
//! driven by [`queue_file::LogicalReader`]: the same envelope/header/body
//! states, the same seeks past content that is not printed, and the same
//! quirks (offsets printed before pointer jumps, `prev_type` updated only
//! for printed records). Differences, all deliberate and documented in the
//! man page: output is always complete (postcat loses what it had not
//! flushed at exit), and a read error ends only the file it is in.
//!
//! The printer streams: memory is bounded by the largest record, not by
//! the number of records. A message of millions of blank lines (8 MB, and
//! anyone can send it) is millions of records; building the whole output
//! first took gigabytes (issue 10, item 3).

use std::io::{self, Write};

use queue_file::rec_type::*;
use queue_file::text::{atol, c_str, is_header, split_nameval};
use queue_file::{FileView, LogicalReader, ReadMode, Record};

use crate::time::asctime_local;

/// Output is handed to the writer in pieces of about this size.
const FLUSH_AT: usize = 64 * 1024;

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
#[non_exhaustive]
pub enum PostcatError {
    /// A record could not be read (the error carries its offset).
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

impl std::error::Error for PostcatError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PostcatError::Read(e) => Some(e),
            PostcatError::Seek(_) => None,
            PostcatError::Write(e) => Some(e),
        }
    }
}

/// Prints one file as postcat would, writing to `out` as it goes; warnings
/// go to `warn` (without the program name). `path` is shown in the markers.
/// What was printed before an error is written before the error returns.
///
/// ```
/// use printer::postcat::{postcat, PostcatFlags};
///
/// let file = queue_file::QueueFileBuilder::new(b"alice@example.org", 0)
///     .recipient(b"bob@example.net")
///     .line(b"Subject: hello")
///     .line(b"")
///     .line(b"Hi Bob")
///     .build();
/// let body_only = PostcatFlags { body: true, ..PostcatFlags::default() };
/// let mut out = Vec::new();
/// postcat(&mut out, b"F00", &file, body_only.with_defaults(), &mut |_| {})?;
/// // The body starts at the blank line that ends the headers.
/// assert_eq!(out, b"\nHi Bob\n");
/// # Ok::<(), printer::postcat::PostcatError>(())
/// ```
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
    let mut p = Printer::new(path, &shown_path, flags, warn);
    let printed = p.print_records(&mut sink, bytes);
    if let Err(PostcatError::Write(e)) = printed {
        return Err(PostcatError::Write(e));
    }
    sink.write_all(&p.out).map_err(PostcatError::Write)?;
    printed
}

/// postcat's three states (`postcat.c`: `PC_STATE_ENV`, `_HEADER`, `_BODY`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Envelope,
    Header,
    Body,
}

/// What the main loop does with a record once its control part is done.
enum Step {
    /// Print it (when the current part is printed at all).
    Print,
    /// Go on with the next record; this one is done.
    Next,
    /// Stop reading the file.
    Stop,
}

/// The printing state for one file: postcat's local variables, and `out`,
/// which holds what is not yet written: at most [`FLUSH_AT`] bytes plus
/// the output of one record.
struct Printer<'o, F> {
    out: Vec<u8>,
    path: &'o [u8],
    /// `path` as warnings show it.
    shown_path: &'o str,
    flags: PostcatFlags,
    warn: F,
    state: State,
    do_print: bool,
    /// From the size record; -1 until it is read.
    data_offset: i64,
    data_size: i64,
    /// The type of the last printed record.
    prev_type: u8,
}

impl<'o, F: FnMut(String)> Printer<'o, F> {
    fn new(path: &'o [u8], shown_path: &'o str, flags: PostcatFlags, warn: F) -> Self {
        Printer {
            out: Vec::new(),
            path,
            shown_path,
            flags,
            warn,
            state: State::Envelope,
            do_print: flags.envelope,
            data_offset: -1,
            data_size: -1,
            prev_type: 0,
        }
    }

    /// `-h` or `-b`: some message text is wanted.
    fn text_wanted(&self) -> bool {
        self.flags.header || self.flags.body
    }

    fn warn(&mut self, message: String) {
        (self.warn)(message)
    }

    /// postcat's loop over the records of one file (`postcat.c`
    /// `postcat()`), printing into `self.out` and handing it to `sink`
    /// record by record.
    fn print_records(&mut self, sink: &mut dyn Write, bytes: &[u8]) -> Result<(), PostcatError> {
        if self.flags.envelope {
            self.out.extend_from_slice(b"*** ENVELOPE RECORDS ");
            self.out.extend_from_slice(self.path);
            self.out.extend_from_slice(b" ***\n");
        }
        let mode = if self.flags.verbose {
            ReadMode::Raw
        } else {
            ReadMode::Logical
        };
        let mut reader = LogicalReader::new(FileView::whole(bytes), mode);
        loop {
            self.flush_some(sink)?;
            let offset = reader.position();
            let Some(rec) = reader.next_record().map_err(PostcatError::Read)? else {
                break;
            };
            match self.control(&mut reader, offset, &rec)? {
                Step::Stop => break,
                Step::Next => {}
                Step::Print => {
                    if self.do_print {
                        self.print_record(offset, &rec);
                    }
                }
            }
        }
        Ok(())
    }

    /// The part of the loop that moves between states, seeks and warns,
    /// before anything is printed.
    fn control<'b>(
        &mut self,
        reader: &mut LogicalReader<'b>,
        offset: u64,
        rec: &Record<'b>,
    ) -> Result<Step, PostcatError> {
        Ok(match rec.ty {
            REC_TYPE_NORM | REC_TYPE_CONT => self.text(reader, rec),
            REC_TYPE_MESG => self.message_start(reader, offset),
            REC_TYPE_XTRA => self.extracted_start(offset),
            REC_TYPE_END => self.message_end(offset),
            REC_TYPE_PTR => {
                // Only raw reads (-v) return pointer records.
                if self.do_print {
                    self.record_line(offset, rec);
                }
                if !self.flags.raw {
                    reader.follow_pointer(rec).map_err(PostcatError::Read)?;
                }
                Step::Next
            }
            REC_TYPE_SIZE => self.size(reader, offset, rec)?,
            _ => Step::Print,
        })
    }

    /// A text line: in the header state, the first line that is neither a
    /// header nor a continuation (nor follows an unterminated piece)
    /// starts the body.
    fn text(&mut self, reader: &mut LogicalReader<'_>, rec: &Record<'_>) -> Step {
        let text = c_str(rec.payload);
        if self.state == State::Header
            && self.text_wanted()
            && self.prev_type != REC_TYPE_CONT
            && !(is_header(text) || matches!(text.first(), Some(b' ' | b'\t')))
        {
            self.state = State::Body;
            self.do_print = self.flags.body;
            if !self.do_print && !self.flags.envelope {
                return Step::Stop;
            }
            if !self.do_print {
                self.skip_to_extracted(reader);
            }
        }
        Step::Print
    }

    /// `M`: the envelope ends, the message content starts.
    fn message_start(&mut self, reader: &mut LogicalReader<'_>, offset: u64) -> Step {
        if self.state != State::Envelope {
            let message = format!("{}: out-of-order message content marker", self.shown_path);
            self.warn(message);
        }
        if self.flags.envelope {
            self.marker(offset, REC_TYPE_MESG, "MESSAGE CONTENTS");
        }
        if !self.text_wanted() {
            self.skip_to_extracted(reader);
        }
        self.state = State::Header;
        self.do_print = self.flags.header;
        Step::Next
    }

    /// `X`: the content ends, the extracted envelope records start.
    fn extracted_start(&mut self, offset: u64) -> Step {
        if self.state == State::Envelope {
            let message = format!("{}: out-of-order extracted segment marker", self.shown_path);
            self.warn(message);
        }
        if self.do_print && self.prev_type == REC_TYPE_CONT {
            self.out.push(b'\n');
        }
        if self.flags.envelope {
            self.marker(offset, REC_TYPE_XTRA, "HEADER EXTRACTED");
        }
        self.state = State::Envelope;
        self.do_print = self.flags.envelope;
        if self.do_print {
            Step::Next
        } else {
            Step::Stop
        }
    }

    /// `E`: the end of the message; with `-r` reading goes on.
    fn message_end(&mut self, offset: u64) -> Step {
        if self.state != State::Envelope {
            let message = format!("{}: out-of-order message end marker", self.shown_path);
            self.warn(message);
        }
        if self.flags.envelope {
            self.marker(offset, REC_TYPE_END, "MESSAGE FILE END");
        }
        if self.flags.raw {
            Step::Next
        } else {
            Step::Stop
        }
    }

    /// `C`: the size record, which tells where the content starts and how
    /// long it is. Without `-e`, postcat seeks straight to the content.
    fn size(
        &mut self,
        reader: &mut LogicalReader<'_>,
        offset: u64,
        rec: &Record<'_>,
    ) -> Result<Step, PostcatError> {
        if self.do_print {
            self.record_line(offset, rec);
        }
        if self.data_size >= 0 || self.data_offset >= 0 {
            self.warn("file contains multiple size records".to_string());
            return Ok(Step::Next);
        }
        let scanned = scan_two_longs(rec.payload, &mut self.data_size, &mut self.data_offset);
        if scanned != 2 || self.data_offset <= 0 || self.data_size <= 0 {
            let text = c_str(rec.payload);
            let shown = String::from_utf8_lossy(&text[..text.len().min(100)]);
            self.warn(format!("invalid size record: {shown}"));
        }
        if !self.flags.envelope {
            if self.data_offset < 0 {
                return Err(PostcatError::Seek(self.data_offset));
            }
            reader.seek(self.data_offset as u64);
            self.state = State::Header;
            self.do_print = self.flags.header;
        }
        Ok(Step::Next)
    }

    /// Seeks past the message content, when the size record said where it
    /// ends.
    fn skip_to_extracted(&self, reader: &mut LogicalReader<'_>) {
        if self.data_offset >= 0 && self.data_size >= 0 {
            reader.seek(self.data_offset.saturating_add(self.data_size) as u64);
        }
    }

    /// Prints a record of a part that is printed; remembers its type as
    /// `prev_type` (0 after an unterminated piece that ended its line).
    fn print_record(&mut self, offset: u64, rec: &Record<'_>) {
        let (ty, flags) = (rec.ty, self.flags);
        self.prefixes(offset, ty);
        let mut printed_type = ty;
        match ty {
            REC_TYPE_TIME | REC_TYPE_WARN => {
                self.out.extend_from_slice(name(ty).as_bytes());
                self.out.extend_from_slice(b": ");
                self.out
                    .extend_from_slice(asctime_local(atol(rec.payload)).as_bytes());
            }
            REC_TYPE_CONT => {
                if self.state == State::Envelope {
                    self.out.extend_from_slice(b"content_filter: ");
                } else if flags.verbose {
                    self.out.extend_from_slice(b"unterminated_text: ");
                }
                self.out.extend_from_slice(rec.payload);
                if self.state == State::Envelope || flags.verbose || flags.offsets {
                    printed_type = 0;
                    self.out.push(b'\n');
                }
            }
            REC_TYPE_NORM => {
                if flags.verbose {
                    self.out.extend_from_slice(b"regular_text: ");
                }
                self.out.extend_from_slice(rec.payload);
                self.out.push(b'\n');
            }
            REC_TYPE_DTXT => {
                self.out.extend_from_slice(b"padding: ");
                self.out.extend_from_slice(rec.payload);
                self.out.push(b'\n');
            }
            REC_TYPE_ATTR => self.attribute(rec.payload),
            _ => self.named_value(ty, c_str(rec.payload)),
        }
        self.prev_type = printed_type;
    }

    /// An `A` record's text: `create_time` as a time, others as
    /// `named_attribute: name=value`, a malformed one only as a warning.
    fn attribute(&mut self, payload: &[u8]) {
        match split_nameval(payload) {
            Err(e) => {
                let text = c_str(payload);
                let shown = String::from_utf8_lossy(&text[..text.len().min(100)]);
                let message = format!(
                    "{}: malformed attribute: {}: {shown}",
                    self.shown_path,
                    e.message()
                );
                self.warn(message);
            }
            Ok((attr_name, value)) if attr_name == b"create_time" => {
                self.out.extend_from_slice(b"create_time: ");
                self.out
                    .extend_from_slice(asctime_local(atol(value)).as_bytes());
            }
            Ok((attr_name, value)) => {
                self.out.extend_from_slice(b"named_attribute: ");
                self.out.extend_from_slice(attr_name);
                self.out.push(b'=');
                self.out.extend_from_slice(value);
                self.out.push(b'\n');
            }
        }
    }

    /// Hands the buffered output to `sink` once there is enough of it.
    fn flush_some(&mut self, sink: &mut dyn Write) -> Result<(), PostcatError> {
        if self.out.len() >= FLUSH_AT {
            sink.write_all(&self.out).map_err(PostcatError::Write)?;
            self.out.clear();
        }
        Ok(())
    }

    /// `-o` and `-d`: the offset and the decimal type before a line.
    fn prefixes(&mut self, offset: u64, ty: u8) {
        if self.flags.offsets {
            self.out
                .extend_from_slice(format!("{offset:9} ").as_bytes());
        }
        if self.flags.decimal_types {
            self.out.extend_from_slice(format!("{ty:3} ").as_bytes());
        }
    }

    /// A `*** TEXT path ***` line.
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::path::{Path, PathBuf};

    const SAMPLE: &[u8] =
        include_bytes!("../../../testdata/postfix-samples/538D798E0FA.milter-edited-ptr-chains");

    fn samples() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/postfix-samples")
    }

    /// The flag sets real postcat's golden outputs were taken with, named
    /// as in the golden files: (tag, flags). `-o-b` is `postcat -o -b`.
    fn golden_flag_sets() -> Vec<(&'static str, PostcatFlags)> {
        let tags = [
            "default", "-e", "-h", "-b", "-bh", "-o", "-o-b", "-o-h", "-d", "-v", "-v-o", "-r",
            "-v-r",
        ];
        let flags = |tag: &str| {
            let on = |letter: char| tag != "default" && tag.contains(letter);
            PostcatFlags {
                envelope: on('e'),
                header: on('h'),
                body: on('b'),
                offsets: on('o'),
                decimal_types: on('d'),
                verbose: on('v'),
                raw: on('r'),
            }
            .with_defaults()
        };
        tags.into_iter().map(|tag| (tag, flags(tag))).collect()
    }

    /// Prints `bytes` as file `name`: (output, warnings, error).
    fn print(
        name: &str,
        bytes: &[u8],
        flags: PostcatFlags,
    ) -> (String, Vec<String>, Option<String>) {
        let mut out = Vec::new();
        let mut warnings = Vec::new();
        let result = postcat(&mut out, name.as_bytes(), bytes, flags, &mut |w| {
            warnings.push(w)
        });
        let error = result.err().map(|e| e.to_string());
        (String::from_utf8_lossy(&out).into_owned(), warnings, error)
    }

    /// Every sample, with every flag set real postcat was run with, prints
    /// what real postcat printed, byte for byte. The one documented
    /// difference: postcat loses the newline it owes an unterminated last
    /// line when it exits without `-e` (postfix-queue-format.md §4.3 quirk
    /// 11); the printer keeps it.
    #[test]
    fn samples_print_as_real_postcat_printed_them() {
        // The goldens were taken in UTC; every test here wants UTC.
        std::env::set_var("TZ", "UTC");
        let mut compared = 0;
        for entry in std::fs::read_dir(samples()).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if name.ends_with(".defer-log") || name.ends_with(".out") || name.ends_with(".md") {
                continue;
            }
            let Ok(bytes) = std::fs::read(samples().join(&name)) else {
                continue; // the golden directory
            };
            for (tag, flags) in golden_flag_sets() {
                let golden = samples().join(format!("golden/{name}.postcat{tag}.out"));
                let Ok(want) = std::fs::read(&golden) else {
                    continue;
                };
                let mut want = String::from_utf8_lossy(&want).into_owned();
                if name.starts_with("synthetic") && tag.starts_with("-b") {
                    want.push('\n');
                }
                let (got, _, error) = print(&name, &bytes, flags);
                assert_eq!(got, want, "{name} {tag}");
                // postcat stopped with "fatal: record read error" exactly
                // where the printer returns an error.
                let stderr = samples().join(format!("golden/{name}.postcat{tag}.err"));
                let stderr = std::fs::read_to_string(stderr).unwrap_or_default();
                assert_eq!(
                    error.is_some(),
                    stderr.contains("fatal:"),
                    "{name} {tag}: {error:?}"
                );
                compared += 1;
            }
        }
        assert!(compared >= 70, "only {compared} golden outputs compared");
    }

    #[test]
    fn a_file_that_is_no_queue_file_is_a_warning_and_prints_nothing() {
        let (out, warnings, error) = print("x", b"Hello", PostcatFlags::default().with_defaults());
        assert_eq!(out, "");
        assert_eq!(warnings, ["x: input is not a valid queue file"]);
        assert_eq!(error, None);
    }

    #[test]
    fn a_truncated_file_prints_what_it_read_then_names_the_record() {
        let sample = std::fs::read(samples().join("A45E798E3F5.smtp-sasl-dsn-longheader")).unwrap();
        // Cut inside the sender record's payload.
        let sender_at = sample.windows(2).position(|w| w == b"S\x12").unwrap();
        let cut = &sample[..sender_at + 5];
        let (out, _, error) = print("f", cut, PostcatFlags::default().with_defaults());
        assert_eq!(
            error.as_deref(),
            Some(&*format!(
                "record 'S' (sender) at byte {sender_at}: unexpected end of file in record data (length 18)"
            ))
        );
        // The records before the bad one were printed, and written out.
        assert!(out.starts_with("*** ENVELOPE RECORDS f ***\n"), "{out}");
        assert!(
            out.contains("named_attribute: sasl_username=alice@example.org\n"),
            "{out}"
        );
        assert!(!out.contains("sender:"), "{out}");
    }

    /// A writer that fails as a closed pipe does.
    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_write_error_is_reported_as_one() {
        let flags = PostcatFlags::default().with_defaults();
        let result = postcat(&mut ClosedPipe, b"f", SAMPLE, flags, &mut |_| {});
        match result {
            Err(PostcatError::Write(e)) => assert_eq!(e.kind(), io::ErrorKind::BrokenPipe),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_write_error_keeps_its_cause() {
        let flags = PostcatFlags::default().with_defaults();
        let err = postcat(&mut ClosedPipe, b"f", SAMPLE, flags, &mut |_| {}).unwrap_err();
        let source = std::error::Error::source(&err).expect("the io::Error");
        assert_eq!(
            source.to_string(),
            io::Error::from(io::ErrorKind::BrokenPipe).to_string()
        );
        assert!(std::error::Error::source(&PostcatError::Seek(-1)).is_none());
    }

    /// Files Postfix would never write, as a damaged or hand-made file can be: postcat's
    /// warnings (postcat.c), one per problem, in file order, and printing goes on.
    #[test]
    fn damaged_files_get_postcat_warnings() {
        use queue_file::write::RecordWriter;
        let envelope = PostcatFlags {
            envelope: true,
            ..PostcatFlags::default()
        }
        .with_defaults();

        let mut w = RecordWriter::new();
        w.record(b'C', b"             10              80               1");
        w.record(b'C', b"             10              80               1");
        w.record(b'X', b"");
        w.record(b'M', b"");
        w.record(b'M', b"");
        w.record(b'E', b"");
        // With -h too: -e alone seeks past the content to where the size record says.
        let envelope_header = PostcatFlags {
            header: true,
            ..envelope
        };
        let (out, warnings, error) = print("damaged", w.as_bytes(), envelope_header);
        assert!(error.is_none(), "{error:?}");
        assert_eq!(
            warnings,
            [
                "file contains multiple size records",
                "damaged: out-of-order extracted segment marker",
                "damaged: out-of-order message content marker",
                "damaged: out-of-order message end marker",
            ]
        );
        assert!(out.contains("*** MESSAGE FILE END damaged ***"), "{out}");

        let mut w = RecordWriter::new();
        w.record(b'C', b"not a size");
        w.record(b'E', b"");
        let (_, warnings, _) = print("bad-size", w.as_bytes(), envelope);
        assert_eq!(warnings, ["invalid size record: not a size"]);

        // A size record with the size alone still counts as the one size record.
        let mut w = RecordWriter::new();
        w.record(b'C', b"             10");
        w.record(b'C', b"             10              80");
        w.record(b'E', b"");
        let (_, warnings, _) = print("half-size", w.as_bytes(), envelope);
        assert_eq!(
            warnings,
            [
                "invalid size record:              10",
                "file contains multiple size records"
            ]
        );
    }

    /// The size record's checks: a size or offset of zero is invalid, and without `-e` a
    /// negative offset is a seek error while offset 0 is merely read from.
    #[test]
    fn size_record_values_are_checked() {
        use queue_file::write::RecordWriter;
        let envelope = PostcatFlags {
            envelope: true,
            ..PostcatFlags::default()
        }
        .with_defaults();
        for (payload, warning) in [
            (
                "              0              80",
                "invalid size record:               0              80",
            ),
            (
                "             10               0",
                "invalid size record:              10               0",
            ),
        ] {
            let mut w = RecordWriter::new();
            w.record(b'C', payload.as_bytes());
            w.record(b'E', b"");
            let (_, warnings, error) = print("f", w.as_bytes(), envelope);
            assert_eq!(warnings, [warning]);
            assert!(error.is_none(), "{error:?}");
        }
        let header = PostcatFlags {
            header: true,
            ..PostcatFlags::default()
        }
        .with_defaults();
        let mut w = RecordWriter::new();
        w.record(b'C', b"not a size");
        let (_, _, error) = print("f", w.as_bytes(), header);
        assert_eq!(
            error.as_deref(),
            Some("seek error: bad offset -1 from the size record")
        );
        let mut w = RecordWriter::new();
        w.record(b'C', b"             10               0");
        w.record(b'E', b"");
        let (_, _, error) = print("f", w.as_bytes(), header);
        assert!(error.is_none(), "{error:?}");
    }

    /// Without `-h`/`-b`, the content is skipped by the size record's numbers, as postcat
    /// does (`vstream_fseek`): a stray record inside it is never read.
    #[test]
    fn without_text_flags_the_content_is_skipped() {
        use queue_file::write::RecordWriter;
        let mut w = RecordWriter::new();
        let size_at = w.record(b'C', &[b' '; 31]);
        w.record(b'M', b"");
        let content = w.position();
        w.record(b'N', b"Subject: x");
        w.record(b'C', b"             99              99");
        let extracted = w.position();
        w.record(b'X', b"");
        w.record(b'E', b"");
        let numbers = format!("{:15} {:15}", extracted - content, content);
        w.overwrite(size_at + 2, numbers.as_bytes());
        let envelope = PostcatFlags {
            envelope: true,
            ..PostcatFlags::default()
        }
        .with_defaults();
        let (out, warnings, error) = print("f", w.as_bytes(), envelope);
        assert!(
            warnings.is_empty() && error.is_none(),
            "{warnings:?} {error:?}"
        );
        assert!(out.contains("*** MESSAGE FILE END f ***"), "{out}");

        // A size record that gave the size but no offset says nowhere to skip to: the
        // content is read through instead.
        let mut w = RecordWriter::new();
        w.record(b'C', b"             10");
        w.record(b'M', b"");
        w.record(b'N', b"Subject: x");
        w.record(b'X', b"");
        w.record(b'E', b"");
        let (out, warnings, error) = print("f", w.as_bytes(), envelope);
        assert_eq!(warnings, ["invalid size record:              10"]);
        assert!(error.is_none(), "{error:?}");
        assert!(out.contains("*** HEADER EXTRACTED f ***"), "{out}");
        assert!(out.contains("*** MESSAGE FILE END f ***"), "{out}");
    }

    /// A padding record is printed whole, NUL bytes included: Debian's postcat 3.7 printed
    /// this file (`postcat -v`) as below.
    #[test]
    fn padding_is_printed_whole() {
        use queue_file::write::RecordWriter;
        let mut w = RecordWriter::new();
        w.record(b'C', b"             10              80");
        w.record(b'w', b"ab\0cd");
        w.record(b'E', b"");
        let verbose = PostcatFlags {
            verbose: true,
            ..PostcatFlags::default()
        }
        .with_defaults();
        let (out, _, error) = print("/tmp/dtxt.qf", w.as_bytes(), verbose);
        assert!(error.is_none(), "{error:?}");
        assert_eq!(
            out,
            "*** ENVELOPE RECORDS /tmp/dtxt.qf ***\n\
             message_size:              10              80\n\
             padding: ab\0cd\n\
             *** MESSAGE FILE END /tmp/dtxt.qf ***\n"
        );
    }

    /// Signed numbers in the size record, as `sscanf("%ld")` reads them.
    #[test]
    fn size_record_numbers_may_carry_a_sign() {
        use queue_file::write::RecordWriter;
        let mut w = RecordWriter::new();
        w.record(b'C', b"+10 +12");
        w.record(b'E', b"");
        let envelope = PostcatFlags {
            envelope: true,
            ..PostcatFlags::default()
        }
        .with_defaults();
        let (_, warnings, _) = print("f", w.as_bytes(), envelope);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    /// Output is handed over as it is made, not all at the end: `show` of a message of many
    /// megabytes streams.
    #[test]
    fn output_streams() {
        struct Chunks(Vec<usize>);
        impl Write for Chunks {
            fn write(&mut self, b: &[u8]) -> io::Result<usize> {
                self.0.push(b.len());
                Ok(b.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut builder = queue_file::QueueFileBuilder::new(b"alice@example.org", 0)
            .recipient(b"bob@example.net")
            .line(b"Subject: big")
            .line(b"");
        let line = [b'x'; 1000];
        for _ in 0..1000 {
            builder = builder.line(&line);
        }
        let file = builder.build();
        let mut sink = Chunks(Vec::new());
        postcat(
            &mut sink,
            b"f",
            &file,
            PostcatFlags::default().with_defaults(),
            &mut |_| {},
        )
        .unwrap();
        let total: usize = sink.0.iter().sum();
        assert!(total > 1_000_000, "{total}");
        assert!(sink.0.len() > 10, "written in {} pieces", sink.0.len());
        assert!(sink.0.iter().all(|&n| n < 200 * 1024), "{:?}", sink.0);
    }

    /// `-e -h`: the envelope, the headers, then (past the body) the extracted records, as
    /// `-e` alone shows them.
    #[test]
    fn envelope_and_headers_still_show_the_extracted_records() {
        let flags = |header| {
            PostcatFlags {
                envelope: true,
                header,
                ..PostcatFlags::default()
            }
            .with_defaults()
        };
        let (e, _, _) = print("f", SAMPLE, flags(false));
        let (eh, warnings, error) = print("f", SAMPLE, flags(true));
        assert!(
            warnings.is_empty() && error.is_none(),
            "{warnings:?} {error:?}"
        );
        let extracted = &e[e
            .find("*** HEADER EXTRACTED")
            .expect("-e shows the extracted part")..];
        assert!(
            extracted.contains("*** MESSAGE FILE END f ***"),
            "{extracted}"
        );
        assert!(eh.ends_with(extracted), "-e -h:\n{eh}\n-e:\n{e}");
        assert!(eh.contains("Subject: "), "{eh}");
    }

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
        }
    }
}
