//! The interface between the selection and a message: the [`Fields`] trait
//! that the binary implements over a decoded queue file, the [`Field`]s it
//! is asked for, and the evaluation [`Context`].

/// Which recipients a recipient field yields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RecipientState {
    /// Recipients still to be delivered (Postfix `R` records not yet marked
    /// done), wherever they are stored: envelope or extracted segment.
    Todo,
    /// Recipients already delivered or bounced (records marked done).
    Done,
}

/// A fact about a message that a selection asks its [`Fields`] for.
///
/// The selection derives some facts itself rather than asking: the sender
/// and recipient *domains* (from the addresses), the null sender (an empty
/// sender) and the age (from [`Field::Arrival`] and [`Context::now`]).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field<'a> {
    /// Text: the queue the message is in (`deferred`, `hold`, `active`…).
    Queue,
    /// Text: the queue ID.
    Id,
    /// Text: the envelope sender; empty for the null sender.
    Sender,
    /// Text, many values: the envelope recipients in that state.
    Recipient(RecipientState),
    /// Text: the SASL login name (attribute `sasl_username`).
    SaslUser,
    /// Text: the SASL mechanism (attribute `sasl_method`).
    SaslMethod,
    /// Text: the client IP address as Postfix wrote it (`client_address`).
    Client,
    /// Text: the client host name (`client_name`).
    ClientName,
    /// Text: the HELO/EHLO name (`helo_name`).
    Helo,
    /// Text, many values: the reason of each entry in the message's defer log.
    Reason,
    /// Text, many values: the DSN status (`4.7.1`…) of each defer log entry.
    DsnStatus,
    /// Text, many values: the value of each header of this name. The name is
    /// lowercase; header names compare case-insensitively.
    Header(&'a str),
    /// Text: the named attribute (`log_client_name`, `rewrite_context`…) as
    /// written in the queue file's attribute records.
    Attr(&'a str),
    /// Number: the message size in bytes, as in the queue file's size record.
    Size,
    /// Number: the arrival time, in seconds since the Unix epoch.
    Arrival,
    /// Number: how many envelope recipients the message has, to do, done
    /// and canceled (`R`, `D` and `/` records, in the envelope and the
    /// extracted segment): Postfix's `nrcpt`.
    Recipients,
    /// Number: how many recipients are still to be delivered (`R` records).
    TodoRecipients,
    /// Flag: the message was marked for forced expiry (`postsuper -e`).
    ForcedExpired,
    /// Flag: the sender is an address in a local domain that has no such
    /// local user; computed by the binary.
    NonexistentLocalSender,
}

/// The message facts a [`Selection`](crate::Selection) is evaluated over.
///
/// The binary implements it for its decoded message. Every method is given a
/// [`Field`]; a field the message does not have is simply absent (no values,
/// `None`, `false`). Evaluation calls these methods without allocating, and
/// implementations should not allocate either: a selection runs on up to a
/// million messages.
pub trait Fields {
    /// Calls `visit` on each value of a text field, in order, until `visit`
    /// returns `true`; returns whether one did.
    ///
    /// Single-valued fields (sender, SASL user…) have at most one value;
    /// recipients, headers and defer-log entries may have many. Values are
    /// the raw bytes of the queue file and need not be UTF-8. Stopping early
    /// is how both "any value matches" (`visit` returns whether it matched)
    /// and "all values match" (`visit` returns whether it did *not*) are
    /// evaluated with one pass.
    fn any_text(&self, field: Field<'_>, visit: &mut dyn FnMut(&[u8]) -> bool) -> bool;

    /// The value of a number field ([`Field::Size`], [`Field::Arrival`],
    /// [`Field::Recipients`], [`Field::TodoRecipients`]), or
    /// `None` if the message lacks it.
    fn number(&self, field: Field<'_>) -> Option<i64>;

    /// The value of a flag field ([`Field::ForcedExpired`],
    /// [`Field::NonexistentLocalSender`]).
    fn flag(&self, field: Field<'_>) -> bool;
}

impl<T: Fields + ?Sized> Fields for &T {
    fn any_text(&self, field: Field<'_>, visit: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        (**self).any_text(field, visit)
    }
    fn number(&self, field: Field<'_>) -> Option<i64> {
        (**self).number(field)
    }
    fn flag(&self, field: Field<'_>) -> bool {
        (**self).flag(field)
    }
}

/// What evaluation needs besides the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Context {
    /// The current time in seconds since the Unix epoch; ages are
    /// `now - arrival`. Take it once per run so every message is judged
    /// against the same instant.
    pub now: i64,
}

impl Context {
    /// A context whose `now` is the given epoch second.
    pub fn at(now: i64) -> Self {
        Context { now }
    }

    /// A context whose `now` is the system clock.
    pub fn now() -> Self {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        Context { now }
    }
}
