//! The selectable view of a scanned message: `select::Fields` over a
//! `queue_scan::Message` (envelope facts, file facts and the defer log).
//!
//! This adapter is where scan-level facts (queue, mtime, mode) meet
//! envelope facts, as ripgrep's `Haystack` joins a directory entry with
//! policy. Delay reasons and DSN status are read from the defer log with
//! [`queue_file::BounceLog`], the reader that mirrors Postfix's
//! `bounce_log_read()` (src/global/bounce_log.c) and that showq's output
//! uses too: what `--reason` matches is exactly what `summary`, `triage`
//! and `list` print.

use std::cell::RefCell;

use queue_file::{BounceLog, LogEntry, LogKind, RecipientState};
use queue_scan::Message;
use select::{Field, Fields};

use postfix::LocalSenderCheck;

/// `smtputf8_enable`'s default (Postfix >= 3.0 at compatibility level 1
/// and up): the `printable()` rules the defer log's text is read under.
/// Postfix's own writers (src/bounce/bounce_append_service.c) only store
/// text that is already printable under the writer's setting, so the rule
/// matters only for logs written by something else.
const SMTPUTF8: bool = true;

/// A message as the selection sees it.
///
/// Build it with a struct literal or [`MessageView::new`]; reading the
/// defer log needs no state from the caller (see [`MessageView::any_log_entry`]).
pub struct MessageView<'m, 'a> {
    /// The scanned message.
    pub msg: &'m Message<'a>,
    /// The nonexistent-local-sender verdicts, resolved before the scan when
    /// the selection asks for them.
    pub local: Option<&'m LocalSenderCheck>,
}

/// The last defer log parsed on this thread, kept with its raw bytes so a
/// second question about the same message (the selection's `reason`, then
/// the summary's reason keys, then its DSN status keys) parses it once.
#[derive(Default)]
struct ParsedLog {
    raw: Vec<u8>,
    valid: bool,
    log: BounceLog,
}

thread_local! {
    static PARSED: RefCell<ParsedLog> = RefCell::new(ParsedLog::default());
}

/// Calls `f` with `bytes` parsed as a defer log. The parser and its
/// buffers are per thread and reused, so this allocates nothing once warm;
/// a nested call (from inside `f`) parses into a fresh parser instead of
/// failing.
fn with_defer_log<R>(bytes: &[u8], f: &mut dyn FnMut(&BounceLog) -> R) -> R {
    let reused = PARSED.try_with(|cell| {
        let mut parsed = cell.try_borrow_mut().ok()?;
        // Compared by content, not address: the scan reuses its buffers,
        // so another message's log may sit at the same address.
        if !parsed.valid || parsed.raw != bytes {
            parsed.raw.clear();
            parsed.raw.extend_from_slice(bytes);
            parsed.log.parse_into(bytes, LogKind::Defer, SMTPUTF8);
            parsed.valid = true;
        }
        Some(f(&parsed.log))
    });
    if let Ok(Some(result)) = reused {
        return result;
    }
    let mut log = BounceLog::new();
    log.parse_into(bytes, LogKind::Defer, SMTPUTF8);
    f(&log)
}

impl<'m, 'a> MessageView<'m, 'a> {
    /// The view of `msg`, with the nonexistent-local-sender verdicts when
    /// the selection needs them.
    pub fn new(msg: &'m Message<'a>, local: Option<&'m LocalSenderCheck>) -> Self {
        MessageView { msg, local }
    }

    /// Calls `visit` on each defer log entry, as Postfix reads the log,
    /// until it returns true; false without a defer log (not read, or the
    /// message has none).
    pub fn any_log_entry(&self, visit: &mut dyn FnMut(&LogEntry<'_>) -> bool) -> bool {
        let Some(bytes) = self.msg.defer_log else {
            return false;
        };
        with_defer_log(bytes, &mut |log| log.entries().any(|e| visit(&e)))
    }

    /// Calls `visit` on each delay reason (one per defer log entry) until
    /// it returns true.
    pub fn any_reason(&self, visit: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        self.any_log_entry(&mut |e| visit(e.reason))
    }

    /// Calls `visit` on each DSN status (`4.7.1`; one per defer log entry)
    /// until it returns true.
    pub fn any_dsn_status(&self, visit: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        self.any_log_entry(&mut |e| visit(e.status))
    }
}

impl Fields for MessageView<'_, '_> {
    fn any_text(&self, field: Field<'_>, visit: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        let env = self.msg.envelope;
        let one = |value: Option<&[u8]>, visit: &mut dyn FnMut(&[u8]) -> bool| {
            value.is_some_and(&mut *visit)
        };
        match field {
            Field::Queue => visit(self.msg.queue.as_bytes()),
            Field::Id => visit(self.msg.id.as_bytes()),
            Field::Sender => one(env.sender, visit),
            Field::Recipient(state) => {
                let wanted = match state {
                    select::RecipientState::Todo => RecipientState::Todo,
                    select::RecipientState::Done => RecipientState::Done,
                };
                env.recipients
                    .iter()
                    .filter(|r| r.state == wanted)
                    .any(|r| visit(r.address))
            }
            Field::SaslUser => one(env.sasl_username(), visit),
            Field::SaslMethod => one(env.attribute(b"sasl_method"), visit),
            Field::Client => one(env.client_address(), visit),
            Field::ClientName => one(env.client_name(), visit),
            Field::Helo => one(env.helo_name(), visit),
            Field::Reason => self.any_reason(visit),
            Field::DsnStatus => self.any_dsn_status(visit),
            Field::Header(name) => self.msg.headers.is_some_and(|h| {
                h.iter()
                    .filter(|h| h.name.eq_ignore_ascii_case(name.as_bytes()))
                    .any(|h| visit(trim_start(h.value)))
            }),
            Field::Attr(name) => one(env.attribute(name.as_bytes()), visit),
            _ => false,
        }
    }

    fn number(&self, field: Field<'_>) -> Option<i64> {
        match field {
            Field::Size => Some(self.msg.message_size() as i64),
            Field::Arrival => Some(self.msg.arrival_time()),
            _ => None,
        }
    }

    fn flag(&self, field: Field<'_>) -> bool {
        match field {
            Field::ForcedExpired => self.msg.forced_expire(),
            Field::NonexistentLocalSender => match (self.local, self.msg.envelope.sender) {
                (Some(check), Some(sender)) => check.is_nonexistent(sender),
                _ => false,
            },
            _ => false,
        }
    }
}

/// A header value without the blanks after the colon.
fn trim_start(value: &[u8]) -> &[u8] {
    let blanks = value
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t'))
        .count();
    &value[blanks..]
}
