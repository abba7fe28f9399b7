//! What showq reports for one queue file: the data behind `postqueue -j`
//! and `postqueue -p` (mailq).
//!
//! This mirrors `showq_report()` and `showq_reasons()` in postfix
//! `src/showq/showq.c` (v3.7.11, with the 3.11 additions available through
//! [`ShowqCompat::Postfix311`]); postfix-queue-format.md §7.1 describes it.
//! In short, for each message:
//!
//! 1. Nothing is reported for a file without an `S` record.
//! 2. The header: queue name and ID, arrival time (the first non-zero `T`,
//!    else the file's mtime), size (`C` field 1 when the record is only
//!    digits and spaces, else the file size), forced expiry (mode bit
//!    0o010), and the sender (empty becomes `MAILER-DAEMON`, then
//!    `quote_822_local`, then `printable`).
//! 3. Right after `S`: every defer-log entry (3.11: then every bounce-log
//!    entry) is a recipient, with its reason, in log order. Their addresses
//!    go into a duplicate filter (at most `duplicate_filter_limit` of them).
//! 4. Then every `R` record in logical order (extracted segment included),
//!    quoted and made printable, unless the filter holds it. Done (`D`) and
//!    cancelled (`/`) recipients are not listed.
//!
//! Two entry points build the same [`ShowqMessage`]:
//!
//! - [`Showq::report_envelope`] works from an already decoded [`Envelope`].
//!   It agrees with showq on every file Postfix writes. On hand-damaged
//!   files it can differ: a zero first `T` followed by another `T`; a `C`
//!   record that `SizeRecord::parse` accepts but that holds bytes other than
//!   digits and spaces (a tab, a sign), or an empty `C` (showq: size 0); a
//!   second `S`; `R` before `S`; and (3.11 only) an `O` whose `R` follows a
//!   `D`.
//! - [`Showq::report_file`] re-reads the records the way showq's loop does
//!   and is exact in those cases too, including files that
//!   [`Envelope::decode`] rejects: showq lists what it read before a bad
//!   record. Use it when decoding fails, or always when exactness matters
//!   more than one extra pass over the envelope records.
//!
//! [`Showq::report_file`] and the `postqueue` formatters of the binary were
//! checked against the real showq/postqueue of Postfix 3.7.11 on a few
//! thousand generated files (odd addresses, 8-bit and control bytes, mixed
//! old/new-style defer logs, damaged `C`/`T` records, every queue and
//! mode), with identical output.
//!
//! Where 3.7.11 itself has undefined behaviour (its missing `return` after
//! "duplicate sender" and "missing sender", fixed in 3.7.22), the fixed
//! behaviour is copied: stop at a second `S`; report nothing when `R` comes
//! before `S`.

use std::collections::HashSet;

use crate::bounce_log::{BounceLog, LogKind};
use crate::envelope::{Envelope, RecipientState};
use crate::error::Result;
use crate::logical::{LogicalReader, ReadMode};
use crate::quote::{printable, quote_822_local};
use crate::rec_type::{
    REC_TYPE_FROM, REC_TYPE_MESG, REC_TYPE_ORCP, REC_TYPE_RCPT, REC_TYPE_SIZE, REC_TYPE_TIME,
};
use crate::record::FileView;
use crate::text::{atol, c_str};

/// `MAIL_QUEUE_STAT_EXPIRE` (postfix `src/global/mail_queue.h`): the
/// group-execute bit that `postsuper -e`/`-f` set.
pub const MODE_FORCED_EXPIRE: u32 = 0o010;

/// Which showq to copy where versions differ.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ShowqCompat {
    /// Postfix 3.1 to 3.10 (Debian 12 ships 3.7.11): only the defer log is
    /// read; a `C` record counts in every queue.
    #[default]
    Postfix37,
    /// Postfix 3.11+: the bounce log is read after the defer log; `C`
    /// records in `maildrop` are ignored (sendmail may write a preliminary
    /// one); `O` before `S` also ends the file.
    Postfix311,
}

/// The configuration showq's answers depend on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShowqOptions {
    /// `smtputf8_enable` (default `yes`): what `printable()` keeps.
    pub smtputf8: bool,
    /// `empty_address_recipient` (default `MAILER-DAEMON`): shown for the
    /// null sender and for empty recipients.
    pub empty_address: Vec<u8>,
    /// `duplicate_filter_limit` (default 1000; 0 = no limit): how many
    /// logfile addresses are remembered to hide their `R` records.
    pub dup_filter_limit: usize,
    /// Which showq version to copy.
    pub compat: ShowqCompat,
}

impl Default for ShowqOptions {
    fn default() -> Self {
        ShowqOptions {
            smtputf8: true,
            empty_address: b"MAILER-DAEMON".to_vec(),
            dup_filter_limit: 1000,
            compat: ShowqCompat::Postfix37,
        }
    }
}

/// What the caller knows about the file besides its bytes.
#[derive(Clone, Copy, Debug)]
pub struct ShowqInput<'a> {
    /// The queue it was found in: `maildrop`, `active`, `incoming`,
    /// `deferred` or `hold`.
    pub queue_name: &'a str,
    /// The file name (the queue ID).
    pub queue_id: &'a str,
    /// `st_size`: the size shown when there is no usable `C` record.
    pub file_size: i64,
    /// `st_mode`: bit 0o010 means "forced to expire".
    pub mode: u32,
    /// `st_mtime`: the time shown when there is no usable `T` record.
    pub mtime: i64,
    /// The bytes of `defer/<h>/<id>`, when it exists.
    pub defer_log: Option<&'a [u8]>,
    /// The defer log already parsed by the caller (a scan does), with
    /// `BounceLog::parse_into(defer_log, LogKind::Defer, smtputf8)` and
    /// the options' `smtputf8`: used instead of parsing `defer_log` again.
    pub defer_parsed: Option<&'a BounceLog>,
    /// The bytes of `bounce/<id>`, when it exists (read only with
    /// [`ShowqCompat::Postfix311`]).
    pub bounce_log: Option<&'a [u8]>,
}

/// Which logfile a reason came from (3.11's `log_class`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReasonKind {
    /// The defer log: a `delay_reason` in `postqueue -j`.
    Defer,
    /// The bounce log (3.11+): a `bounce_reason`.
    Bounce,
}

/// A logfile reason for a recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason {
    /// Which logfile it came from.
    pub kind: ReasonKind,
    /// The `reason=` text (printable; never empty: Postfix substitutes
    /// `(description unavailable)`).
    pub text: Vec<u8>,
    /// The `status=` DSN code, e.g. `4.4.1` (not shown by postqueue).
    pub status: Vec<u8>,
}

/// One recipient line of a showq report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShowqRecipient {
    /// The address, quoted and printable (`"odd user"@remote.example`).
    pub address: Vec<u8>,
    /// 3.11's `orig_address`: for queue-file recipients the `O` record
    /// (quoted, printable) or else the address itself; for logfile
    /// recipients the `original_recipient=` value, usually empty.
    pub orig_address: Vec<u8>,
    /// The reason, for recipients listed from a logfile; `None` for
    /// recipients listed from the queue file.
    pub reason: Option<Reason>,
}

/// Everything showq sends for one message. Text fields hold what showq
/// sends: quoted where Postfix quotes and always `printable`, but not
/// necessarily valid UTF-8 (see [`crate::quote::printable`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShowqMessage {
    /// The queue name.
    pub queue_name: String,
    /// The queue ID.
    pub queue_id: String,
    /// Epoch seconds: the first non-zero `T` record, else the file's mtime.
    pub arrival_time: i64,
    /// `C` field 1, or the file size.
    pub message_size: i64,
    /// The forced-expire mode bit.
    pub forced_expire: bool,
    /// The sender, quoted and printable; `MAILER-DAEMON` for `<>`.
    pub sender: Vec<u8>,
    /// Logfile recipients first, then queue-file recipients.
    pub recipients: Vec<ShowqRecipient>,
}

/// A reusable showq: options plus the buffers one message needs.
#[derive(Clone, Debug, Default)]
pub struct Showq {
    options: ShowqOptions,
    defer: BounceLog,
    bounce: BounceLog,
    scratch: Vec<u8>,
    /// Recipients of earlier reports, kept for their buffers.
    spare: Vec<ShowqRecipient>,
}

/// Where a message's size comes from, as showq tracks it.
#[derive(Clone, Copy)]
struct SizeState {
    size: i64,
    ok: bool,
}

impl Showq {
    /// A showq with these options.
    pub fn new(options: ShowqOptions) -> Showq {
        Showq {
            options,
            ..Showq::default()
        }
    }

    /// The options in use.
    pub fn options(&self) -> &ShowqOptions {
        &self.options
    }

    /// The report for a decoded envelope; `None` when the file has no `S`
    /// record (showq reports nothing then). See the module documentation
    /// for where this differs from showq on damaged files.
    pub fn report_envelope(
        &mut self,
        env: &Envelope<'_>,
        input: &ShowqInput<'_>,
    ) -> Option<ShowqMessage> {
        let mut msg = ShowqMessage::default();
        self.report_envelope_into(env, input, &mut msg)
            .then_some(msg)
    }

    /// [`report_envelope`](Self::report_envelope) into `msg`, reusing its
    /// buffers (a scan formats a million reports without allocating);
    /// false when showq reports nothing (`msg` is then unspecified).
    pub fn report_envelope_into(
        &mut self,
        env: &Envelope<'_>,
        input: &ShowqInput<'_>,
        msg: &mut ShowqMessage,
    ) -> bool {
        let Some(sender) = env.sender else {
            return false;
        };
        let arrival = env.arrival_time.map_or(0, |(sec, _)| sec);
        let size = match env.size {
            Some(size) if size.content_size >= 0 && !self.ignores_size(input) => size.content_size,
            _ => input.file_size,
        };
        let Showq {
            options,
            defer,
            bounce,
            scratch,
            spare,
        } = self;
        spare.append(&mut msg.recipients);
        header(options, input, arrival, size, sender, scratch, msg);
        let (defer, bounce) = parse_logs(options, defer, bounce, input);
        let filter = DupFilter::new(options.dup_filter_limit, defer, bounce);
        list_logs(defer, bounce, spare, msg);
        for rcpt in env
            .recipients
            .iter()
            .filter(|r| r.state == RecipientState::Todo)
        {
            let mut listed = recycled(spare);
            let orig = rcpt.original.map(|o| {
                quoted_printable(options, o, scratch, &mut listed.orig_address);
            });
            list_queue_recipient(
                options,
                rcpt.address,
                orig.is_some(),
                &filter,
                scratch,
                listed,
                spare,
                msg,
            );
        }
        true
    }

    /// The report for a queue file, read record by record as showq reads
    /// it (following pointers, skipping the content with the `C` size).
    /// `Ok(None)` when showq reports nothing. Read errors end the message
    /// as they end showq's loop; only a partial `view` that lacks needed
    /// bytes is an error ([`crate::Error::is_not_loaded`]): read the whole
    /// file and call again.
    pub fn report_file(
        &mut self,
        view: FileView<'_>,
        input: &ShowqInput<'_>,
    ) -> Result<Option<ShowqMessage>> {
        let mut msg = ShowqMessage::default();
        Ok(self.report_file_into(view, input, &mut msg)?.then_some(msg))
    }

    /// [`report_file`](Self::report_file) into `msg`, reusing its buffers;
    /// `Ok(false)` when showq reports nothing (`msg` is then unspecified).
    pub fn report_file_into(
        &mut self,
        view: FileView<'_>,
        input: &ShowqInput<'_>,
        msg: &mut ShowqMessage,
    ) -> Result<bool> {
        let compat311 = self.options.compat == ShowqCompat::Postfix311;
        let ignores_size = self.ignores_size(input);
        let Showq {
            options,
            defer,
            bounce,
            scratch,
            spare,
        } = self;
        spare.append(&mut msg.recipients);
        // showq reads the logfiles when it meets `S`; their bytes are
        // already here, so parse them first.
        let (defer, bounce) = parse_logs(options, defer, bounce, input);
        let filter = DupFilter::new(options.dup_filter_limit, defer, bounce);
        let mut reader = LogicalReader::new(view, ReadMode::Logical);
        let mut arrival: i64 = 0;
        let mut size = SizeState {
            size: input.file_size,
            ok: false,
        };
        let mut have_sender = false;
        // The `O` waiting for its `R`, quoted into a recycled recipient.
        let mut pending: Option<ShowqRecipient> = None;
        loop {
            let rec = match reader.next_record() {
                Ok(Some(rec)) => rec,
                Ok(None) => break,
                Err(e) if e.is_not_loaded() => return Err(e),
                // rec_get() failed: showq ends the file here.
                Err(_) => break,
            };
            let text = c_str(rec.payload);
            match rec.ty {
                // Only the first non-zero T counts.
                REC_TYPE_TIME if arrival == 0 => arrival = atol(text),
                // Until one is well-formed (older postsuper -r left stale ones).
                REC_TYPE_SIZE if !size.ok && !ignores_size => {
                    size = showq_size(text, input.file_size);
                }
                REC_TYPE_FROM => {
                    if have_sender {
                        // "duplicate sender address -- skipping remainder".
                        break;
                    }
                    header(options, input, arrival, size.size, text, scratch, msg);
                    list_logs(defer, bounce, spare, msg);
                    have_sender = true;
                }
                REC_TYPE_ORCP => {
                    if have_sender {
                        // Kept until the next R, even across D records
                        // (3.11's have_orcpt); 3.7 ignores O records.
                        let mut listed = pending.take().unwrap_or_else(|| recycled(spare));
                        quoted_printable(options, text, scratch, &mut listed.orig_address);
                        pending = Some(listed);
                    } else if compat311 {
                        // "missing sender address -- skipping remainder".
                        return Ok(false);
                    }
                }
                REC_TYPE_RCPT => {
                    if !have_sender {
                        // "missing sender address -- skipping remainder".
                        return Ok(false);
                    }
                    let (listed, has_orig) = match pending.take() {
                        Some(listed) => (listed, true),
                        None => (recycled(spare), false),
                    };
                    list_queue_recipient(
                        options, text, has_orig, &filter, scratch, listed, spare, msg,
                    );
                }
                // Without a usable C, showq reads through the content.
                REC_TYPE_MESG if size.ok => {
                    // vstream_fseek(qfile, msg_size, SEEK_CUR): normally X.
                    let to = reader.position().saturating_add(size.size as u64);
                    reader.seek(to);
                }
                _ => {}
            }
        }
        if let Some(listed) = pending {
            spare.push(listed);
        }
        Ok(have_sender)
    }

    /// 3.11 ignores `C` in maildrop files (sendmail's preliminary record).
    fn ignores_size(&self, input: &ShowqInput<'_>) -> bool {
        self.options.compat == ShowqCompat::Postfix311 && input.queue_name == "maildrop"
    }
}

/// showq's size-record test: only digits and spaces, and `atol() >= 0`;
/// otherwise ("malformed size record") the file size.
fn showq_size(text: &[u8], file_size: i64) -> SizeState {
    if text.iter().all(|b| b.is_ascii_digit() || *b == b' ') {
        let size = atol(text);
        if size >= 0 {
            return SizeState { size, ok: true };
        }
    }
    SizeState {
        size: file_size,
        ok: false,
    }
}

/// The message header showq sends when it meets `S`, into `msg` (its
/// recipients already moved to the spare pool).
fn header(
    options: &ShowqOptions,
    input: &ShowqInput<'_>,
    arrival: i64,
    size: i64,
    sender: &[u8],
    scratch: &mut Vec<u8>,
    msg: &mut ShowqMessage,
) {
    let sender = c_str(sender);
    let sender = if sender.is_empty() {
        &options.empty_address[..]
    } else {
        sender
    };
    // postqueue's attr_scan(ATTR_FLAG_PRINTABLE) sanitises these too.
    printable_string(options, input.queue_name, &mut msg.queue_name);
    printable_string(options, input.queue_id, &mut msg.queue_id);
    msg.arrival_time = if arrival > 0 { arrival } else { input.mtime };
    msg.message_size = size;
    msg.forced_expire = input.mode & MODE_FORCED_EXPIRE != 0;
    quoted_printable(options, sender, scratch, &mut msg.sender);
    msg.recipients.clear();
}

/// `printable()` of a string that is valid UTF-8 stays valid UTF-8; into
/// `out` (cleared first).
fn printable_string(options: &ShowqOptions, text: &str, out: &mut String) {
    out.clear();
    if text.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
        // Printable ASCII (every queue name and ID): printable() keeps it.
        out.push_str(text);
        return;
    }
    let mut bytes = Vec::with_capacity(text.len());
    printable(text.as_bytes(), b'?', options.smtputf8, &mut bytes);
    match String::from_utf8(bytes) {
        Ok(s) => *out = s,
        Err(e) => *out = String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// `quote_822_local()` then `printable(…, '?')`, into `out` (cleared
/// first; `scratch` holds the intermediate quoted form).
fn quoted_printable(
    options: &ShowqOptions,
    address: &[u8],
    scratch: &mut Vec<u8>,
    out: &mut Vec<u8>,
) {
    scratch.clear();
    quote_822_local(address, scratch);
    out.clear();
    printable(scratch, b'?', options.smtputf8, out);
}

/// A recipient from the spare pool (or new), its fields cleared.
fn recycled(spare: &mut Vec<ShowqRecipient>) -> ShowqRecipient {
    let mut r = spare.pop().unwrap_or_default();
    r.address.clear();
    r.orig_address.clear();
    if let Some(reason) = &mut r.reason {
        reason.text.clear();
        reason.status.clear();
    }
    r
}

/// showq's duplicate filter: the addresses of the logfile entries, at most
/// `limit` distinct ones (0: no limit), in log order. Logs hold a few
/// entries, so a short filter is a scan of them; a long one is hashed.
struct DupFilter<'a> {
    /// Each log's entries, the first `counts[i]` of `logs[i]` in the filter.
    logs: [(&'a BounceLog, usize); 2],
    set: Option<HashSet<&'a [u8]>>,
}

/// Above this many entries the filter is a hash set.
const DUP_FILTER_SCAN: usize = 32;

impl<'a> DupFilter<'a> {
    fn new(limit: usize, defer: &'a BounceLog, bounce: &'a BounceLog) -> DupFilter<'a> {
        let total = defer.entries().len() + bounce.entries().len();
        if total > DUP_FILTER_SCAN {
            let mut set = HashSet::new();
            for entry in defer.entries().chain(bounce.entries()) {
                if limit == 0 || set.len() < limit {
                    set.insert(entry.recipient);
                }
            }
            return DupFilter {
                logs: [(defer, 0), (bounce, 0)],
                set: Some(set),
            };
        }
        // Which entries the set would have taken: while it held fewer than
        // `limit` distinct addresses, every entry (a repeat adds nothing).
        let mut distinct = 0;
        let mut counts = [0usize; 2];
        'logs: for (n, log) in [defer, bounce].into_iter().enumerate() {
            for (i, entry) in log.entries().enumerate() {
                if limit != 0 && distinct >= limit {
                    break 'logs;
                }
                let seen = defer
                    .entries()
                    .take(if n == 0 { i } else { counts[0] })
                    .chain(bounce.entries().take(if n == 1 { i } else { 0 }))
                    .any(|e| e.recipient == entry.recipient);
                if !seen {
                    distinct += 1;
                }
                counts[n] = i + 1;
            }
        }
        DupFilter {
            logs: [(defer, counts[0]), (bounce, counts[1])],
            set: None,
        }
    }

    fn contains(&self, address: &[u8]) -> bool {
        match &self.set {
            Some(set) => set.contains(address),
            None => self
                .logs
                .iter()
                .any(|(log, n)| log.entries().take(*n).any(|e| e.recipient == address)),
        }
    }
}

/// Parses the logfiles showq would open: the defer log (unless the
/// caller parsed it already), and for 3.11 the bounce log. A missing log
/// parses as empty.
fn parse_logs<'a>(
    options: &ShowqOptions,
    defer: &'a mut BounceLog,
    bounce: &'a mut BounceLog,
    input: &ShowqInput<'a>,
) -> (&'a BounceLog, &'a BounceLog) {
    let bounce_bytes = match options.compat {
        ShowqCompat::Postfix37 => None,
        ShowqCompat::Postfix311 => input.bounce_log,
    };
    bounce.parse_into(
        bounce_bytes.unwrap_or_default(),
        LogKind::Bounce,
        options.smtputf8,
    );
    if let Some(parsed) = input.defer_parsed {
        return (parsed, bounce);
    }
    defer.parse_into(
        input.defer_log.unwrap_or_default(),
        LogKind::Defer,
        options.smtputf8,
    );
    (defer, bounce)
}

/// `showq_reasons()` for the parsed logs: every entry becomes a recipient
/// with its reason (its address is in the duplicate filter).
fn list_logs(
    defer: &BounceLog,
    bounce: &BounceLog,
    spare: &mut Vec<ShowqRecipient>,
    msg: &mut ShowqMessage,
) {
    for (log, kind) in [(defer, ReasonKind::Defer), (bounce, ReasonKind::Bounce)] {
        for entry in log.entries() {
            let mut listed = recycled(spare);
            listed.address.extend_from_slice(entry.recipient);
            listed
                .orig_address
                .extend_from_slice(entry.original_recipient);
            let mut reason = listed.reason.take().unwrap_or(Reason {
                kind,
                text: Vec::new(),
                status: Vec::new(),
            });
            reason.kind = kind;
            reason.text.extend_from_slice(entry.reason);
            reason.status.extend_from_slice(entry.status);
            listed.reason = Some(reason);
            msg.recipients.push(listed);
        }
    }
}

/// An `R` record: empty becomes `MAILER-DAEMON`, then quoted and printable
/// into `listed` (whose `orig_address` holds the quoted `O` when
/// `has_orig`); listed unless a logfile already listed it.
#[allow(clippy::too_many_arguments)]
fn list_queue_recipient(
    options: &ShowqOptions,
    address: &[u8],
    has_orig: bool,
    filter: &DupFilter<'_>,
    scratch: &mut Vec<u8>,
    mut listed: ShowqRecipient,
    spare: &mut Vec<ShowqRecipient>,
    msg: &mut ShowqMessage,
) {
    let address = c_str(address);
    let address = if address.is_empty() {
        &options.empty_address[..]
    } else {
        address
    };
    quoted_printable(options, address, scratch, &mut listed.address);
    if filter.contains(&listed.address) {
        spare.push(listed);
        return;
    }
    if !has_orig {
        listed.orig_address.extend_from_slice(&listed.address);
    }
    if let Some(reason) = listed.reason.take() {
        // Queue-file recipients have no reason; keep its buffers for later.
        let mut keep = recycled(spare);
        keep.reason = Some(reason);
        spare.push(keep);
    }
    msg.recipients.push(listed);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write::{BuilderRecipient, QueueFileBuilder, RecordWriter};

    fn input<'a>(defer_log: Option<&'a [u8]>) -> ShowqInput<'a> {
        ShowqInput {
            queue_name: "deferred",
            queue_id: "ABC123",
            file_size: 4242,
            mode: 0o700,
            mtime: 1_700_000_999,
            defer_log,
            defer_parsed: None,
            bounce_log: None,
        }
    }

    /// Both entry points, which must agree on files Postfix could write.
    fn both(bytes: &[u8], input: &ShowqInput<'_>, options: ShowqOptions) -> Option<ShowqMessage> {
        let mut showq = Showq::new(options);
        let exact = showq.report_file(FileView::whole(bytes), input).unwrap();
        let env = Envelope::decode(FileView::whole(bytes)).unwrap();
        let fast = showq.report_envelope(&env, input);
        assert_eq!(exact, fast);
        exact
    }

    fn rcpt(address: &[u8], done: bool) -> BuilderRecipient {
        BuilderRecipient {
            address: address.to_vec(),
            original: None,
            notify_flags: 0,
            dsn_orig_rcpt: None,
            done,
        }
    }

    fn addresses(msg: &ShowqMessage) -> Vec<(String, Option<String>)> {
        msg.recipients
            .iter()
            .map(|r| {
                (
                    String::from_utf8_lossy(&r.address).into_owned(),
                    r.reason
                        .as_ref()
                        .map(|x| String::from_utf8_lossy(&x.text).into_owned()),
                )
            })
            .collect()
    }

    /// Every queue file of Postfix's samples and of the demo queue, with
    /// its defer log where it has one.
    fn real_files() -> Vec<(String, Vec<u8>, Option<Vec<u8>>)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata");
        let read = |path: std::path::PathBuf| std::fs::read(path).ok();
        let mut files = Vec::new();
        for entry in std::fs::read_dir(root.join("postfix-samples")).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let Some((id, kind)) = name.split_once('.') else {
                continue;
            };
            if path.is_file() && !matches!(kind, "defer-log" | "md" | "out") {
                let log = read(root.join(format!("postfix-samples/{id}.defer-log")));
                files.push((id.to_string(), read(path).unwrap(), log));
            }
        }
        let demo = root.join("demo-queue");
        let mut stack: Vec<_> = ["active", "deferred", "hold"].map(|q| demo.join(q)).into();
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                let id = path.file_name().unwrap().to_string_lossy().into_owned();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let log = read(demo.join(format!("defer/{}/{id}", &id[..1])));
                    files.push((id, read(path).unwrap(), log));
                }
            }
        }
        files.sort();
        files
    }

    #[test]
    fn a_reused_report_equals_a_fresh_one_in_any_order() {
        let files = real_files();
        assert!(files.len() >= 10, "only {} sample files", files.len());
        assert!(files.iter().filter(|f| f.2.is_some()).count() >= 3);
        for options in [
            ShowqOptions::default(),
            ShowqOptions {
                compat: ShowqCompat::Postfix311,
                dup_filter_limit: 1,
                ..ShowqOptions::default()
            },
        ] {
            let mut fresh = Showq::new(options.clone());
            let mut reused = Showq::new(options.clone());
            let mut msg = ShowqMessage::default();
            // Forward, then backward: each report follows a different one.
            for (id, bytes, log) in files.iter().chain(files.iter().rev()) {
                let input = ShowqInput {
                    queue_id: id,
                    defer_log: log.as_deref(),
                    defer_parsed: None,
                    ..input(None)
                };
                let view = FileView::whole(bytes);
                let want = fresh.report_file(view, &input).unwrap();
                let got = reused.report_file_into(view, &input, &mut msg).unwrap();
                assert_eq!(want, got.then(|| msg.clone()), "{id}");
                // The scan's parse of the defer log stands in for showq's.
                let mut parsed = BounceLog::default();
                parsed.parse_into(
                    log.as_deref().unwrap_or_default(),
                    LogKind::Defer,
                    options.smtputf8,
                );
                let preparsed = ShowqInput {
                    defer_parsed: Some(&parsed),
                    ..input
                };
                let got = reused.report_file_into(view, &preparsed, &mut msg).unwrap();
                assert_eq!(want, got.then(|| msg.clone()), "{id} (parsed log)");
                if let Ok(env) = Envelope::decode(view) {
                    let want = fresh.report_envelope(&env, &input);
                    let got = reused.report_envelope_into(&env, &preparsed, &mut msg);
                    assert_eq!(want, got.then(|| msg.clone()), "{id}");
                }
            }
        }
    }

    #[test]
    fn logfile_recipients_come_first_and_hide_their_r_records() {
        let bytes = QueueFileBuilder::new(b"", 1_700_000_000)
            .recipient_full(rcpt(b"a@x", false))
            .recipient_full(rcpt(b"odd user@x", false))
            .recipient_full(rcpt(b"done@x", true))
            .recipient_full(rcpt(b"b@x", false))
            .recipient_full(rcpt(b"b@x", false))
            .line(b"Subject: s")
            .build();
        let log = b"\nrecipient=\"odd user\"@x\nreason=later\n\n\nrecipient=gone@x\nreason=why\n\n";
        let msg = both(&bytes, &input(Some(log)), ShowqOptions::default()).unwrap();
        assert_eq!(msg.sender, b"MAILER-DAEMON");
        assert_eq!(msg.arrival_time, 1_700_000_000);
        assert!(!msg.forced_expire);
        let want = [
            ("\"odd user\"@x", Some("later")),
            ("gone@x", Some("why")),
            ("a@x", None),
            ("b@x", None),
            ("b@x", None),
        ];
        let want: Vec<_> = want
            .iter()
            .map(|(a, r)| (a.to_string(), r.map(str::to_string)))
            .collect();
        assert_eq!(addresses(&msg), want);
        assert_eq!(msg.recipients[2].orig_address, b"a@x");
        assert_eq!(msg.recipients[0].reason.as_ref().unwrap().status, b"4.0.0");
    }

    #[test]
    fn the_duplicate_filter_has_a_limit() {
        let bytes = QueueFileBuilder::new(b"s@x", 1)
            .recipient(b"a@x")
            .recipient(b"b@x")
            .build();
        let log = b"recipient=a@x\n\nrecipient=b@x\n\n";
        let limited = ShowqOptions {
            dup_filter_limit: 1,
            ..ShowqOptions::default()
        };
        let msg = both(&bytes, &input(Some(log)), limited).unwrap();
        let got: Vec<_> = addresses(&msg).into_iter().map(|(a, _)| a).collect();
        assert_eq!(got, ["a@x", "b@x", "b@x"]);
        let unlimited = ShowqOptions {
            dup_filter_limit: 0,
            ..ShowqOptions::default()
        };
        let msg = both(&bytes, &input(Some(log)), unlimited).unwrap();
        assert_eq!(msg.recipients.len(), 2);
    }

    #[test]
    fn forced_expire_mtime_and_file_size_fallbacks() {
        // A maildrop-like file: T 0, no C.
        let mut w = RecordWriter::new();
        w.record(b'T', b"0 0");
        w.record(b'S', b"s@x");
        w.record(b'M', b"");
        w.record(b'N', b"body");
        w.record(b'X', b"");
        w.record(b'R', b"r@x");
        w.record(b'E', b"");
        let bytes = w.into_bytes();
        let mut inp = input(None);
        inp.mode = 0o710;
        inp.queue_name = "maildrop";
        let msg = both(&bytes, &inp, ShowqOptions::default()).unwrap();
        assert!(msg.forced_expire);
        assert_eq!(msg.arrival_time, inp.mtime);
        assert_eq!(msg.message_size, 4242);
        assert_eq!(addresses(&msg), [("r@x".to_string(), None)]);
    }

    #[test]
    fn no_sender_no_report() {
        let mut w = RecordWriter::new();
        w.record(b'T', b"1 0");
        w.record(b'E', b"");
        let bytes = w.into_bytes();
        assert_eq!(both(&bytes, &input(None), ShowqOptions::default()), None);
    }

    #[test]
    fn smtputf8_off_masks_eight_bit() {
        let bytes = QueueFileBuilder::new("jos\u{e9}@x".as_bytes(), 1)
            .recipient(b"r@x")
            .build();
        let off = ShowqOptions {
            smtputf8: false,
            ..ShowqOptions::default()
        };
        assert_eq!(both(&bytes, &input(None), off).unwrap().sender, b"jos??@x");
        let on = both(&bytes, &input(None), ShowqOptions::default()).unwrap();
        assert_eq!(on.sender, "jos\u{e9}@x".as_bytes());
    }

    #[test]
    fn exact_path_follows_showq_on_damaged_files() {
        // T 0 then T 5: showq takes the first non-zero one.
        let mut w = RecordWriter::new();
        w.record(b'C', b"12\t0");
        w.record(b'T', b"0");
        w.record(b'T', b"5");
        w.record(b'S', b"s@x");
        w.record(b'R', b"r1@x");
        w.record(b'S', b"second@x");
        w.record(b'R', b"r2@x");
        w.record(b'E', b"");
        let bytes = w.into_bytes();
        let mut showq = Showq::default();
        let msg = showq
            .report_file(FileView::whole(&bytes), &input(None))
            .unwrap()
            .unwrap();
        assert_eq!(msg.arrival_time, 5);
        // A tab makes the C record malformed: the file size is used.
        assert_eq!(msg.message_size, 4242);
        assert_eq!(addresses(&msg), [("r1@x".to_string(), None)]);

        // R before S: nothing at all.
        let mut w = RecordWriter::new();
        w.record(b'R', b"r@x");
        w.record(b'S', b"s@x");
        w.record(b'E', b"");
        let bytes = w.into_bytes();
        assert_eq!(
            showq
                .report_file(FileView::whole(&bytes), &input(None))
                .unwrap(),
            None
        );

        // A truncated file is listed up to the damage.
        let full = QueueFileBuilder::new(b"s@x", 7)
            .recipient(b"a@x")
            .recipient(b"b@x")
            .build();
        let cut = &full[..full.len() - 3];
        assert!(Envelope::decode(FileView::whole(cut)).is_err());
        let msg = showq
            .report_file(FileView::whole(cut), &input(None))
            .unwrap()
            .unwrap();
        assert_eq!(msg.recipients.len(), 2);
    }

    #[test]
    fn an_empty_size_record_is_size_zero() {
        let mut w = RecordWriter::new();
        w.record(b'C', b"");
        w.record(b'T', b"9");
        w.record(b'S', b"s@x");
        w.record(b'M', b"");
        w.record(b'N', b"x");
        w.record(b'X', b"");
        w.record(b'R', b"r@x");
        w.record(b'E', b"");
        let bytes = w.into_bytes();
        let msg = Showq::default()
            .report_file(FileView::whole(&bytes), &input(None))
            .unwrap()
            .unwrap();
        assert_eq!(msg.message_size, 0);
        assert_eq!(msg.recipients.len(), 1);
    }

    #[test]
    fn postfix_311_reads_the_bounce_log_and_orig_addresses() {
        let bytes = QueueFileBuilder::new(b"s@x", 1)
            .recipient_full(BuilderRecipient {
                original: Some(b"alias user@x".to_vec()),
                ..rcpt(b"r@x", false)
            })
            .build();
        let mut inp = input(Some(b"recipient=d@x\nreason=later\n\n"));
        inp.bounce_log = Some(b"recipient=b@x\noriginal_recipient=o@x\nreason=no such user\n\n");
        let opts = ShowqOptions {
            compat: ShowqCompat::Postfix311,
            ..ShowqOptions::default()
        };
        let msg = both(&bytes, &inp, opts).unwrap();
        let kinds: Vec<_> = msg
            .recipients
            .iter()
            .map(|r| r.reason.as_ref().map(|x| x.kind))
            .collect();
        assert_eq!(
            kinds,
            [Some(ReasonKind::Defer), Some(ReasonKind::Bounce), None]
        );
        assert_eq!(msg.recipients[0].orig_address, b"");
        assert_eq!(msg.recipients[1].orig_address, b"o@x");
        assert_eq!(msg.recipients[1].reason.as_ref().unwrap().status, b"5.0.0");
        assert_eq!(msg.recipients[2].orig_address, b"\"alias user\"@x");
        // 3.7 ignores the bounce log.
        let msg = both(&bytes, &inp, ShowqOptions::default()).unwrap();
        assert_eq!(msg.recipients.len(), 2);
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any file and log bytes: no panic on either path.
        #[test]
        fn reports_never_panic(
            file in prop::collection::vec(any::<u8>(), 0..300),
            log in prop::collection::vec(any::<u8>(), 0..100),
            mode: u32,
            compat311: bool,
        ) {
            let input = ShowqInput {
                queue_name: "maildrop",
                queue_id: "X",
                file_size: file.len() as i64,
                mode,
                mtime: 0,
                defer_log: Some(&log),
                defer_parsed: None,
                bounce_log: Some(&log),
            };
            let mut showq = Showq::new(ShowqOptions {
                compat: if compat311 { ShowqCompat::Postfix311 } else { ShowqCompat::Postfix37 },
                ..ShowqOptions::default()
            });
            prop_assert!(showq.report_file(FileView::whole(&file), &input).is_ok());
            if let Ok(env) = Envelope::decode(FileView::whole(&file)) {
                let _ = showq.report_envelope(&env, &input);
            }
        }
    }
}
