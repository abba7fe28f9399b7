//! A selection over what `postqueue -j` reports, for a user who cannot read
//! the queue files: [`PostqueueView`] is `select::Fields` over a postqueue
//! record, and [`first_unsupported`] names the first test of a selection
//! that postqueue's fields cannot answer (SASL user, client, headers, DSN
//! status, done recipients…), so that it is refused rather than matching
//! nothing.

use postfix::postqueue::Record;
use select::{Attribute, Expr, Field, Fields, Flag, RecipientState, Scope};

/// What postqueue -j lets a selection test, for a refusal message.
pub const AVAILABLE: &str = "queue, id, sender, sender_domain, recipient, recipient_domain, reason, age, size, arrival, forced_expired, null_sender";

/// The first test of `expr` that postqueue's fields cannot answer, named
/// as in `--where` (the flags compile to the same fields).
pub fn first_unsupported(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Or(v) | Expr::And(v) => v.iter().find_map(first_unsupported),
        Expr::Not(e) => first_unsupported(e),
        Expr::Test(test) => {
            if let Some(flag) = test.flag() {
                return match flag {
                    Flag::ForcedExpired | Flag::NullSender => None,
                    Flag::NonexistentLocalSender => {
                        Some(format!("{} (the sender check)", flag.name()))
                    }
                };
            }
            let attr = test.attribute()?;
            let supported = matches!(
                attr,
                Attribute::Queue
                    | Attribute::Id
                    | Attribute::Sender
                    | Attribute::SenderDomain
                    | Attribute::Recipient(Scope::Todo)
                    | Attribute::RecipientDomain(Scope::Todo)
                    | Attribute::Reason
                    | Attribute::Age
                    | Attribute::Size
                    | Attribute::Arrival
            );
            (!supported).then(|| format!("a test on {}", attr.name()))
        }
    }
}

/// A postqueue record as the selection sees it. Only the fields postqueue
/// reports have values; [`first_unsupported`] keeps selections from
/// asking for others.
pub struct PostqueueView<'r>(pub &'r Record);

impl Fields for PostqueueView<'_> {
    fn any_text(&self, field: Field<'_>, visit: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        let msg = &self.0.msg;
        match field {
            Field::Queue => visit(msg.queue_name.as_bytes()),
            Field::Id => visit(msg.queue_id.as_bytes()),
            // The selection knows the null sender as the empty address.
            Field::Sender => visit(self.0.sender()),
            Field::Recipient(RecipientState::Todo) => {
                msg.recipients.iter().any(|r| visit(&r.address))
            }
            Field::Reason => msg
                .recipients
                .iter()
                .filter_map(|r| r.reason.as_ref())
                .any(|r| visit(&r.text)),
            _ => false,
        }
    }

    fn number(&self, field: Field<'_>) -> Option<i64> {
        match field {
            Field::Size => Some(self.0.msg.message_size),
            Field::Arrival => Some(self.0.msg.arrival_time),
            _ => None,
        }
    }

    fn flag(&self, field: Field<'_>) -> bool {
        matches!(field, Field::ForcedExpired) && self.0.msg.forced_expire
    }
}
