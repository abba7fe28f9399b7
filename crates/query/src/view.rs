//! The selectable view of a scanned message: `select::Fields` over a
//! `queue_scan::Message` (envelope facts, file facts and the defer log).
//!
//! This adapter is where scan-level facts (queue, mtime, mode) meet
//! envelope facts, as ripgrep's `Haystack` joins a directory entry with
//! policy.

use queue_file::RecipientState;
use queue_scan::Message;
use select::{Field, Fields};

use postfix::LocalSenderCheck;

/// A message as the selection sees it.
pub struct MessageView<'m, 'a> {
    /// The scanned message.
    pub msg: &'m Message<'a>,
    /// The nonexistent-local-sender verdicts, resolved before the scan when
    /// the selection asks for them.
    pub local: Option<&'m LocalSenderCheck>,
}

/// Calls `visit` on the value of each `name=` line of a defer log until it
/// returns true. Defer logs hold one `name=value` line per fact
/// (postfix-queue-format.md §5.5); each entry has one `reason=` and one
/// `status=` line.
pub fn log_values<'l>(log: &'l [u8], name: &[u8], visit: &mut dyn FnMut(&'l [u8]) -> bool) -> bool {
    log.split(|&b| b == b'\n').any(|line| {
        line.len() > name.len()
            && line.starts_with(name)
            && line[name.len()] == b'='
            && visit(&line[name.len() + 1..])
    })
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
            Field::Reason => self
                .msg
                .defer_log
                .is_some_and(|log| log_values(log, b"reason", visit)),
            Field::DsnStatus => self
                .msg
                .defer_log
                .is_some_and(|log| log_values(log, b"status", visit)),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defer_log_values_are_found_by_name() {
        let log = b"\n<a@x>: connect refused\nrecipient=a@x\nstatus=4.4.1\nreason=connect refused\n\n\nrecipient=b@x\nstatus=4.7.1\nreason=greylisted\n";
        let mut seen = Vec::new();
        log_values(log, b"status", &mut |v| {
            seen.push(v.to_vec());
            false
        });
        assert_eq!(seen, [b"4.4.1".to_vec(), b"4.7.1".to_vec()]);
        assert!(log_values(log, b"reason", &mut |v| v == b"greylisted"));
        assert!(!log_values(log, b"reasons", &mut |_| true));
    }
}
