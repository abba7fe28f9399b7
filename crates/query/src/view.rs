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

use queue_file::{LogEntry, RecipientState};
use queue_scan::Message;
use select::{Field, Fields};

use postfix::LocalSenderCheck;

/// A message as the selection sees it.
///
/// Build it with a struct literal or [`MessageView::new`].
pub struct MessageView<'m, 'a> {
    /// The scanned message.
    pub msg: &'m Message<'a>,
    /// The nonexistent-local-sender verdicts, resolved before the scan when
    /// the selection asks for them.
    pub local: Option<&'m LocalSenderCheck>,
}

impl<'m, 'a> MessageView<'m, 'a> {
    /// The view of `msg`, with the nonexistent-local-sender verdicts when
    /// the selection needs them.
    pub fn new(msg: &'m Message<'a>, local: Option<&'m LocalSenderCheck>) -> Self {
        MessageView { msg, local }
    }

    /// The envelope recipients, to do, done and canceled: Postfix's `nrcpt`.
    ///
    /// We follow qmgr: the `nrcpt=` it logs (`opened()` in
    /// src/qmgr/qmgr_message.c) is the size record's recipient count, which
    /// cleanup counts as it writes each recipient (src/cleanup/
    /// cleanup_out_recipient.c), and which qmgr checks by counting down once
    /// per `R`, `D` and `/` record it reads (`rcpt_unread--`), so a file
    /// whose count disagrees is logged as corrupt. For files without a size
    /// record qmgr counts those three record types itself (the "old style
    /// scan" there); counting the records, wherever they sit (envelope or
    /// extracted segment: `sendmail -t`), is that count for every file and
    /// does not trust a damaged size record. showq prints only the to-do
    /// ones (src/showq/showq.c lists `R` records only, and each address
    /// once): [`todo_recipient_count`](Self::todo_recipient_count) counts the
    /// `R` records, duplicates included, so neither count is answered from
    /// `postqueue -j` (`query::postqueue` refuses them).
    pub fn recipient_count(&self) -> u32 {
        u32::try_from(self.msg.envelope.recipients.len()).unwrap_or(u32::MAX)
    }

    /// The recipients still to be delivered (`R` records), as showq lists
    /// them.
    pub fn todo_recipient_count(&self) -> u32 {
        let todo = self.msg.envelope.todo_recipients().count();
        u32::try_from(todo).unwrap_or(u32::MAX)
    }

    /// Calls `visit` on each defer log entry, as Postfix reads the log,
    /// until it returns true; false without a defer log (not read, or the
    /// message has none).
    pub fn any_log_entry(&self, visit: &mut dyn FnMut(&LogEntry<'_>) -> bool) -> bool {
        // Parsed once per message by the scan (`Message::defer_entries`).
        self.msg
            .defer_entries
            .is_some_and(|log| log.entries().any(|e| visit(&e)))
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
            Field::Recipients => Some(i64::from(self.recipient_count())),
            Field::TodoRecipients => Some(i64::from(self.todo_recipient_count())),
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
