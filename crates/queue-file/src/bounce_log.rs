//! Reader for the per-message defer, bounce and trace logfiles
//! (`defer/<h>/<id>`, `bounce/<id>`, `trace/<id>`), as Postfix reads them.
//!
//! This mirrors `bounce_log_read()` in postfix `src/global/bounce_log.c`
//! (v3.7.11; unchanged through 3.11), which is what showq uses to list
//! "why was this deferred" reasons. The writer is
//! `src/bounce/bounce_append_service.c`; see postfix-queue-format.md §5.5.
//!
//! Reader rules copied here:
//!
//! - The file is read line by line, the newline removed. A last line
//!   without a newline still counts.
//! - An empty line (or one that starts with NUL: Postfix sees a C string)
//!   ends the current entry. An entry is only reported when such a line
//!   ends it: a pending entry at end of file is dropped, as in Postfix.
//! - Every other line goes through `printable(line, '?')` first, and
//!   everything after a NUL in it is ignored.
//! - A line starting with an ASCII letter or digit is `name=value`
//!   (`split_nameval`). Unknown names and lines `split_nameval` refuses
//!   are warnings and are otherwise ignored. Later values override earlier
//!   ones.
//! - A line starting with `<` is the old-style `<address>: text` line; it
//!   needs the `>: ` separator. Anything else is "malformed".
//! - Missing fields get Postfix's placeholders; an empty `recipient=` or
//!   `original_recipient=` (or `<>: ...`) reads as `(MAILER-DAEMON)`.
//!
//! [`BounceLog`] keeps one copy of the file's text (sanitised in place) and
//! small spans into it, so parsing a logfile allocates nothing once the
//! buffers have grown.

use crate::quote::printable_in_place;
use crate::text::{atol, split_nameval};

/// Which logfile is being read. Only the defaults for missing `status=`
/// and `action=` depend on it (`bounce_log_open`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogKind {
    /// `defer/`: missing status is `4.0.0`, missing action `delayed`.
    Defer,
    /// `bounce/`: missing status is `5.0.0`, missing action `failed`.
    Bounce,
    /// `trace/`: same defaults as [`LogKind::Bounce`].
    Trace,
}

impl LogKind {
    /// The queue directory name (`defer`, `bounce`, `trace`).
    pub fn queue_name(self) -> &'static str {
        match self {
            LogKind::Defer => "defer",
            LogKind::Bounce => "bounce",
            LogKind::Trace => "trace",
        }
    }

    fn compat_status(self) -> &'static [u8] {
        match self {
            LogKind::Defer => b"4.0.0",
            LogKind::Bounce | LogKind::Trace => b"5.0.0",
        }
    }

    fn compat_action(self) -> &'static [u8] {
        match self {
            LogKind::Defer => b"delayed",
            LogKind::Bounce | LogKind::Trace => b"failed",
        }
    }
}

/// Placeholder for an entry without a recipient.
pub const NO_RECIPIENT: &[u8] = b"(recipient address unavailable)";
/// What an empty `recipient=`/`original_recipient=` value reads as.
pub const NULL_RECIPIENT: &[u8] = b"(MAILER-DAEMON)";
/// Placeholder for an entry without a reason.
pub const NO_REASON: &[u8] = b"(description unavailable)";

/// What Postfix would have warned about while reading a logfile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogWarningKind {
    /// A `name=value` line that `split_nameval` refused.
    MalformedNameValue,
    /// A `name=value` line with a name `bounce_log_read` does not know.
    UnknownName,
    /// A line that starts with neither an alphanumeric nor `<`, or a `<`
    /// line without `>: `.
    MalformedLine,
}

/// A warning, with its 1-based line number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogWarning {
    /// 1-based line number in the logfile.
    pub line: u32,
    /// What was wrong.
    pub kind: LogWarningKind,
}

/// A field's text: a span of the sanitised copy, or a fixed placeholder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Text {
    Span(u32, u32),
    Fixed(&'static [u8]),
}

impl Text {
    const EMPTY: Text = Text::Fixed(b"");

    fn get(self, buf: &[u8]) -> &[u8] {
        match self {
            Text::Span(start, end) => &buf[start as usize..end as usize],
            Text::Fixed(text) => text,
        }
    }

    fn is_empty(self) -> bool {
        match self {
            Text::Span(start, end) => start == end,
            Text::Fixed(text) => text.is_empty(),
        }
    }
}

/// One entry as stored: spans into [`BounceLog`]'s text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct RawEntry {
    recipient: Text,
    original_recipient: Text,
    offset: i64,
    dsn_orig_rcpt: Text,
    notify_flags: i32,
    status: Text,
    action: Text,
    diag_type: Text,
    diag_text: Text,
    mta_type: Text,
    mta_mname: Text,
    reason: Text,
}

impl RawEntry {
    const EMPTY: RawEntry = RawEntry {
        recipient: Text::EMPTY,
        original_recipient: Text::EMPTY,
        offset: 0,
        dsn_orig_rcpt: Text::EMPTY,
        notify_flags: 0,
        status: Text::EMPTY,
        action: Text::EMPTY,
        diag_type: Text::EMPTY,
        diag_text: Text::EMPTY,
        mta_type: Text::EMPTY,
        mta_mname: Text::EMPTY,
        reason: Text::EMPTY,
    };
}

/// One logfile entry, as `bounce_log_read` returns it (placeholders filled
/// in). Every text has been through `printable(…, '?')`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogEntry<'a> {
    /// The recipient in quoted ("printable quoted") form, as the bounce
    /// daemon wrote it; never empty.
    pub recipient: &'a [u8],
    /// `original_recipient=`, or empty when absent.
    pub original_recipient: &'a [u8],
    /// `offset=`: the queue-file offset of the recipient record; 0 when
    /// absent or not positive.
    pub offset: i64,
    /// `dsn_orig_rcpt=` (DSN ORCPT `type;address`), or empty.
    pub dsn_orig_rcpt: &'a [u8],
    /// `notify_flags=` (DSN NOTIFY bits); 0 when absent or invalid.
    pub notify_flags: i32,
    /// `status=`, e.g. `4.4.1`; defaults by [`LogKind`].
    pub status: &'a [u8],
    /// `action=`, e.g. `delayed`; defaults by [`LogKind`].
    pub action: &'a [u8],
    /// `diag_type=`, or empty.
    pub diag_type: &'a [u8],
    /// `diag_text=`, or empty.
    pub diag_text: &'a [u8],
    /// `mta_type=`, or empty.
    pub mta_type: &'a [u8],
    /// `mta_mname=`, or empty.
    pub mta_mname: &'a [u8],
    /// `reason=` (or the old-style line's text); never empty.
    pub reason: &'a [u8],
}

/// A reusable logfile parser: call [`parse_into`](Self::parse_into) per
/// file, then read [`entries`](Self::entries).
///
/// ```
/// use queue_file::bounce_log::{BounceLog, LogKind};
///
/// let log = b"\n<u@remote.example>: connect refused\nrecipient=u@remote.example\n\
///             status=4.4.1\nreason=connect refused\n\n";
/// let mut parser = BounceLog::new();
/// parser.parse_into(log, LogKind::Defer, true);
/// let entry = parser.entries().next().unwrap();
/// assert_eq!(entry.recipient, b"u@remote.example");
/// assert_eq!(entry.action, b"delayed");
/// assert_eq!(entry.reason, b"connect refused");
/// ```
#[derive(Clone, Debug, Default)]
pub struct BounceLog {
    text: Vec<u8>,
    entries: Vec<RawEntry>,
    warnings: Vec<LogWarning>,
}

impl BounceLog {
    /// An empty parser.
    pub fn new() -> BounceLog {
        BounceLog::default()
    }

    /// Parses the logfile `bytes` of the given kind, replacing what was
    /// parsed before. `smtputf8` is Postfix's `smtputf8_enable`, which
    /// decides what `printable()` keeps. Never fails: bad lines are skipped
    /// with a [`warning`](Self::warnings), as Postfix does.
    pub fn parse_into(&mut self, bytes: &[u8], kind: LogKind, smtputf8: bool) {
        self.text.clear();
        self.entries.clear();
        self.warnings.clear();
        // Spans are u32; a logfile over 4 GiB is cut short rather than
        // mis-indexed (Postfix's logfiles are a few hundred bytes).
        let bytes = &bytes[..bytes.len().min(u32::MAX as usize)];
        self.text.extend_from_slice(bytes);

        let mut entry = RawEntry::EMPTY;
        let mut in_entry = false;
        let mut line_start = 0usize;
        let mut line_no = 0u32;
        while line_start < self.text.len() {
            line_no = line_no.saturating_add(1);
            let line_end = memchr::memchr(b'\n', &self.text[line_start..])
                .map_or(self.text.len(), |nl| line_start + nl);
            let next = line_end + 1;
            // Postfix sees the line as a C string: it ends at a NUL.
            let end = memchr::memchr(0, &self.text[line_start..line_end])
                .map_or(line_end, |nul| line_start + nul);
            if end == line_start {
                // Blank line: ends an entry, or separates nothing.
                if in_entry {
                    self.entries.push(finish(entry, kind));
                    entry = RawEntry::EMPTY;
                    in_entry = false;
                }
                line_start = next;
                continue;
            }
            printable_in_place(&mut self.text[line_start..end], b'?', smtputf8);
            in_entry = true;
            if let Some(warning) = parse_line(&self.text, line_start, end, &mut entry) {
                self.warnings.push(LogWarning {
                    line: line_no,
                    kind: warning,
                });
            }
            line_start = next;
        }
        // A pending entry at end of file is dropped: bounce_log_read()
        // returns "no more entries" on EOF whatever state it is in.
    }

    /// The entries, in file order.
    pub fn entries(&self) -> impl ExactSizeIterator<Item = LogEntry<'_>> + '_ {
        self.entries.iter().map(move |raw| self.entry_view(raw))
    }

    /// Entry `index`, in file order.
    pub fn entry(&self, index: usize) -> Option<LogEntry<'_>> {
        self.entries.get(index).map(|raw| self.entry_view(raw))
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the logfile held no complete entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// What Postfix would have warned about, in file order.
    pub fn warnings(&self) -> &[LogWarning] {
        &self.warnings
    }

    fn entry_view<'a>(&'a self, raw: &RawEntry) -> LogEntry<'a> {
        let t = &self.text;
        LogEntry {
            recipient: raw.recipient.get(t),
            original_recipient: raw.original_recipient.get(t),
            offset: raw.offset,
            dsn_orig_rcpt: raw.dsn_orig_rcpt.get(t),
            notify_flags: raw.notify_flags,
            status: raw.status.get(t),
            action: raw.action.get(t),
            diag_type: raw.diag_type.get(t),
            diag_text: raw.diag_text.get(t),
            mta_type: raw.mta_type.get(t),
            mta_mname: raw.mta_mname.get(t),
            reason: raw.reason.get(t),
        }
    }
}

/// Fills in the placeholders, as the end of `bounce_log_read` does.
fn finish(mut entry: RawEntry, kind: LogKind) -> RawEntry {
    if entry.recipient.is_empty() {
        entry.recipient = Text::Fixed(NO_RECIPIENT);
    }
    if entry.status.is_empty() {
        entry.status = Text::Fixed(kind.compat_status());
    }
    if entry.action.is_empty() {
        entry.action = Text::Fixed(kind.compat_action());
    }
    if entry.reason.is_empty() {
        entry.reason = Text::Fixed(NO_REASON);
    }
    entry
}

/// The span of `sub` (a sub-slice of `text` starting at `base + from`).
fn span(from: usize, to: usize) -> Text {
    // `parse_into` keeps text.len() <= u32::MAX.
    Text::Span(from as u32, to as u32)
}

/// Parses one sanitised, non-blank line `text[start..end]` into `entry`.
fn parse_line(
    text: &[u8],
    start: usize,
    end: usize,
    entry: &mut RawEntry,
) -> Option<LogWarningKind> {
    let line = &text[start..end];
    let first = line[0];
    if first.is_ascii_alphanumeric() {
        let (name, value) = match split_nameval(line) {
            Ok(pair) => pair,
            Err(_) => return Some(LogWarningKind::MalformedNameValue),
        };
        // `value` borrows from `line`; turn it back into a span.
        let value_start = start + (value.as_ptr() as usize - line.as_ptr() as usize);
        let value_text = span(value_start, value_start + value.len());
        let or_null = |value: &[u8]| {
            if value.is_empty() {
                Text::Fixed(NULL_RECIPIENT)
            } else {
                value_text
            }
        };
        match name {
            b"recipient" => entry.recipient = or_null(value),
            b"original_recipient" => entry.original_recipient = or_null(value),
            b"dsn_orig_rcpt" => entry.dsn_orig_rcpt = value_text,
            b"notify_flags" => {
                // atoi(): C int, then DSN_NOTIFY_OK().
                let notify = atol(value) as i32;
                if notify > 0 && dsn_notify_ok(notify) {
                    entry.notify_flags = notify;
                }
            }
            b"offset" => {
                let offset = atol(value);
                if offset > 0 {
                    entry.offset = offset;
                }
            }
            b"status" => entry.status = value_text,
            b"action" => entry.action = value_text,
            b"diag_type" => entry.diag_type = value_text,
            b"diag_text" => entry.diag_text = value_text,
            b"mta_type" => entry.mta_type = value_text,
            b"mta_mname" => entry.mta_mname = value_text,
            b"reason" => entry.reason = value_text,
            _ => return Some(LogWarningKind::UnknownName),
        }
        return None;
    }
    // Old style: "<address>: text".
    if first != b'<' {
        return Some(LogWarningKind::MalformedLine);
    }
    let Some(sep) = find_angle_colon(&line[1..]) else {
        return Some(LogWarningKind::MalformedLine);
    };
    let addr_start = start + 1;
    let addr_end = addr_start + sep;
    entry.recipient = if sep == 0 {
        Text::Fixed(NULL_RECIPIENT)
    } else {
        span(addr_start, addr_end)
    };
    // The text starts after ">:", white space skipped (ISSPACE).
    let mut text_start = addr_end + 2;
    while text_start < end && crate::text::is_c_space(text[text_start]) {
        text_start += 1;
    }
    entry.reason = span(text_start, end);
    None
}

/// The first `>: ` in `hay`, found from its `>`
/// (a memmem searcher is built per call, more than this line costs).
fn find_angle_colon(hay: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = memchr::memchr(b'>', &hay[from..]) {
        let at = from + i;
        if hay[at..].starts_with(b">: ") {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// `DSN_NOTIFY_OK()` (postfix `src/global/dsn_mask.h`): NEVER alone, or a
/// subset of SUCCESS|FAILURE|DELAY.
fn dsn_notify_ok(v: i32) -> bool {
    const NEVER: i32 = 1;
    const ANY: i32 = 2 | 4 | 8;
    v == NEVER || v == (v & ANY)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8], kind: LogKind) -> BounceLog {
        let mut log = BounceLog::new();
        log.parse_into(bytes, kind, true);
        log
    }

    const OBSERVED: &[u8] = b"\n\
<user1@remote.example>: connect to 127.0.0.1[127.0.0.1]:9: Connection refused\n\
recipient=user1@remote.example\n\
offset=825\n\
dsn_orig_rcpt=rfc822;orig1@remote.example\n\
notify_flags=6\n\
status=4.4.1\n\
action=delayed\n\
reason=connect to 127.0.0.1[127.0.0.1]:9: Connection refused\n\
\n\
\n\
<\"odd user\"@remote.example>: connect to 127.0.0.1[127.0.0.1]:9: Connection refused\n\
recipient=\"odd user\"@remote.example\n\
offset=805\n\
status=4.4.1\n\
action=delayed\n\
diag_type=smtp\n\
diag_text=421 go away\n\
mta_type=dns\n\
mta_mname=mx.remote.example\n\
reason=connect to 127.0.0.1[127.0.0.1]:9: Connection refused\n\
\n";

    #[test]
    fn reads_the_observed_format() {
        let log = parse(OBSERVED, LogKind::Defer);
        assert!(log.warnings().is_empty(), "{:?}", log.warnings());
        assert_eq!(log.len(), 2);
        let first = log.entry(0).unwrap();
        assert_eq!(first.recipient, b"user1@remote.example");
        assert_eq!(first.original_recipient, b"");
        assert_eq!(first.offset, 825);
        assert_eq!(first.dsn_orig_rcpt, b"rfc822;orig1@remote.example");
        assert_eq!(first.notify_flags, 6);
        assert_eq!(first.status, b"4.4.1");
        assert_eq!(first.action, b"delayed");
        assert_eq!(
            first.reason,
            b"connect to 127.0.0.1[127.0.0.1]:9: Connection refused"
        );
        let second = log.entry(1).unwrap();
        assert_eq!(second.recipient, b"\"odd user\"@remote.example");
        assert_eq!(second.diag_type, b"smtp");
        assert_eq!(second.diag_text, b"421 go away");
        assert_eq!(second.mta_type, b"dns");
        assert_eq!(second.mta_mname, b"mx.remote.example");
        assert_eq!(second.dsn_orig_rcpt, b"");
        assert_eq!(second.notify_flags, 0);
    }

    #[test]
    fn defaults_depend_on_the_log_kind() {
        for (kind, status, action) in [
            (LogKind::Defer, &b"4.0.0"[..], &b"delayed"[..]),
            (LogKind::Bounce, b"5.0.0", b"failed"),
            (LogKind::Trace, b"5.0.0", b"failed"),
        ] {
            let log = parse(b"offset=12\n\n", kind);
            let e = log.entry(0).unwrap();
            assert_eq!(e.recipient, NO_RECIPIENT);
            assert_eq!(e.status, status);
            assert_eq!(e.action, action);
            assert_eq!(e.reason, NO_REASON);
            assert_eq!(e.offset, 12);
        }
    }

    #[test]
    fn empty_addresses_read_as_mailer_daemon() {
        let log = parse(
            b"recipient=\noriginal_recipient=  \nreason=x\n\n<>: y\n\n",
            LogKind::Defer,
        );
        let e = log.entry(0).unwrap();
        assert_eq!(e.recipient, NULL_RECIPIENT);
        assert_eq!(e.original_recipient, NULL_RECIPIENT);
        let old = log.entry(1).unwrap();
        assert_eq!(old.recipient, NULL_RECIPIENT);
        assert_eq!(old.reason, b"y");
    }

    #[test]
    fn an_empty_status_value_gets_the_default() {
        let log = parse(b"recipient=a\nstatus=\nreason=\n\n", LogKind::Bounce);
        let e = log.entry(0).unwrap();
        assert_eq!(e.status, b"5.0.0");
        assert_eq!(e.reason, NO_REASON);
    }

    #[test]
    fn later_lines_override_earlier_ones() {
        let log = parse(
            b"<old@x>:   old text \nrecipient=new@x\n\n<a@x>: first\n<b@x>: second\n\n",
            LogKind::Defer,
        );
        let e = log.entry(0).unwrap();
        assert_eq!(e.recipient, b"new@x");
        assert_eq!(e.reason, b"old text ");
        let e = log.entry(1).unwrap();
        assert_eq!(e.recipient, b"b@x");
        assert_eq!(e.reason, b"second");
    }

    #[test]
    fn old_style_uses_the_first_separator() {
        let log = parse(b"<a>: b>: c\n\n", LogKind::Defer);
        let e = log.entry(0).unwrap();
        assert_eq!(e.recipient, b"a");
        assert_eq!(e.reason, b"b>: c");
    }

    #[test]
    fn a_pending_entry_at_eof_is_dropped() {
        let log = parse(
            b"recipient=a\nreason=x\n\nrecipient=b\nreason=y\n",
            LogKind::Defer,
        );
        assert_eq!(log.len(), 1);
        let log = parse(b"recipient=a\nreason=x", LogKind::Defer);
        assert_eq!(log.len(), 0);
        // An unterminated last line is a line: here, a blank one cannot be.
        let log = parse(b"recipient=a\n\n\n\n", LogKind::Defer);
        assert_eq!(log.len(), 1);
    }

    #[test]
    fn malformed_and_unknown_lines_warn_but_keep_the_entry() {
        let log = parse(
            b"recipient=a\nbogus=1\nnovalue\n>junk\n<no separator>\n-x=1\n\n",
            LogKind::Defer,
        );
        assert_eq!(log.len(), 1);
        let kinds: Vec<_> = log.warnings().iter().map(|w| (w.line, w.kind)).collect();
        assert_eq!(
            kinds,
            vec![
                (2, LogWarningKind::UnknownName),
                (3, LogWarningKind::MalformedNameValue),
                (4, LogWarningKind::MalformedLine),
                (5, LogWarningKind::MalformedLine),
                (6, LogWarningKind::MalformedLine),
            ]
        );
        // A line of warnings alone still makes an entry, with placeholders.
        let log = parse(b"junk\n\n", LogKind::Defer);
        assert_eq!(log.entry(0).unwrap().recipient, NO_RECIPIENT);
    }

    #[test]
    fn lines_are_made_printable_and_cut_at_nul() {
        let log = parse(
            b"recipient=a\tb@x\nreason=caf\xc3\xa9 \x01\xff\x00 ignored\n\n",
            LogKind::Defer,
        );
        let e = log.entry(0).unwrap();
        assert_eq!(e.recipient, b"a?b@x");
        assert_eq!(e.reason, b"caf\xc3\xa9 ??");
        let mut ascii = BounceLog::new();
        ascii.parse_into(b"recipient=caf\xc3\xa9\n\n", LogKind::Defer, false);
        assert_eq!(ascii.entry(0).unwrap().recipient, b"caf??");
        // A line that starts with NUL is blank to Postfix.
        let log = parse(b"recipient=a\n\x00junk\nrecipient=b\n\n", LogKind::Defer);
        assert_eq!(log.len(), 2);
    }

    #[test]
    fn notify_flags_and_offset_are_validated() {
        for (value, want) in [
            (&b"1"[..], 1),
            (b"14", 14),
            (b"3", 0),
            (b"16", 0),
            (b"-4", 0),
            (b"4294967298", 2),
        ] {
            let mut line = b"notify_flags=".to_vec();
            line.extend_from_slice(value);
            line.extend_from_slice(b"\n\n");
            assert_eq!(
                parse(&line, LogKind::Defer).entry(0).unwrap().notify_flags,
                want
            );
        }
        let log = parse(b"offset=-5\n\noffset=7x\n\n", LogKind::Defer);
        assert_eq!(log.entry(0).unwrap().offset, 0);
        assert_eq!(log.entry(1).unwrap().offset, 7);
    }

    #[test]
    fn reuse_does_not_leak_old_entries() {
        let mut log = BounceLog::new();
        log.parse_into(OBSERVED, LogKind::Defer, true);
        log.parse_into(b"recipient=z\n\n", LogKind::Defer, true);
        assert_eq!(log.len(), 1);
        assert_eq!(log.entries().next().unwrap().recipient, b"z");
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    /// Lines that look like logfile lines more often than random bytes do.
    fn log_bytes() -> impl Strategy<Value = Vec<u8>> {
        let line = prop_oneof![
            prop::sample::select(vec![
                &b"recipient="[..],
                b"original_recipient=",
                b"offset=",
                b"notify_flags=",
                b"status=",
                b"reason=",
                b"<",
                b">: ",
                b"",
            ])
            .prop_map(<[u8]>::to_vec),
            prop::collection::vec(any::<u8>(), 0..20),
        ];
        prop::collection::vec((line, prop::bool::weighted(0.7)), 0..30).prop_map(|parts| {
            let mut out = Vec::new();
            for (part, newline) in parts {
                out.extend_from_slice(&part);
                if newline {
                    out.push(b'\n');
                }
            }
            out
        })
    }

    proptest! {
        /// Any bytes: no panic, and every entry has Postfix's non-empty
        /// fields and printable text.
        #[test]
        fn parser_never_panics(bytes in log_bytes(), utf8: bool) {
            let mut log = BounceLog::new();
            log.parse_into(&bytes, LogKind::Defer, utf8);
            for entry in log.entries() {
                prop_assert!(!entry.recipient.is_empty());
                prop_assert!(!entry.reason.is_empty());
                prop_assert!(!entry.status.is_empty());
                prop_assert!(crate::quote::is_printable(entry.recipient, utf8));
                prop_assert!(crate::quote::is_printable(entry.reason, utf8));
            }
            prop_assert!(log.len() <= bytes.len());
        }
    }
}
