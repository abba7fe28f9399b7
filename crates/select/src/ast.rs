//! The syntax tree of a selection: expressions, tests, the attributes they
//! test, and their canonical text form (which parses back to the same tree).

use std::borrow::Cow;
use std::fmt;

use crate::fields::{Field, RecipientState};
use crate::matcher::{Case, TextMatcher};
use crate::needs::{Data, Needs};
use crate::value::{format_duration, format_size, is_glob, Net};

/// A selection expression.
///
/// `And` and `Or` hold two or more operands, as parsed; a parenthesized
/// group nested in an operator of the same kind stays a nested node (and is
/// printed with its parentheses), so `parse(display(e)) == e`.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// True when any operand is.
    Or(Vec<Expr>),
    /// True when every operand is.
    And(Vec<Expr>),
    /// True when the operand is false.
    Not(Box<Expr>),
    /// A single test.
    Test(Test),
}

impl Expr {
    /// What the expression needs to read to be evaluated.
    pub fn needs(&self) -> Needs {
        let mut n = Needs::default();
        self.add_needs(&mut n);
        n
    }

    fn add_needs(&self, n: &mut Needs) {
        match self {
            Expr::Or(v) | Expr::And(v) => v.iter().for_each(|e| e.add_needs(n)),
            Expr::Not(e) => e.add_needs(n),
            Expr::Test(t) => n.add(&t.needs()),
        }
    }

    /// Precedence for printing: higher binds tighter.
    fn precedence(&self) -> u8 {
        match self {
            Expr::Or(_) => 1,
            Expr::And(_) => 2,
            Expr::Not(_) | Expr::Test(_) => 3,
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // An operand is parenthesized when it binds no tighter than its
        // parent: that keeps explicit groups such as `(a and b) and c`.
        let operand = |f: &mut fmt::Formatter<'_>, parent: u8, e: &Expr| {
            if e.precedence() <= parent {
                write!(f, "({e})")
            } else {
                write!(f, "{e}")
            }
        };
        match self {
            Expr::Or(v) | Expr::And(v) => {
                let word = if matches!(self, Expr::Or(_)) {
                    " or "
                } else {
                    " and "
                };
                for (i, e) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str(word)?;
                    }
                    operand(f, self.precedence(), e)?;
                }
                Ok(())
            }
            Expr::Not(e) => {
                f.write_str("not ")?;
                operand(f, 2, e)
            }
            Expr::Test(t) => write!(f, "{t}"),
        }
    }
}

/// Which values of a many-valued field must match.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Quantifier {
    /// At least one value matches (the default).
    #[default]
    Any,
    /// There is at least one value, and every value matches.
    All,
}

/// Which recipients a recipient test looks at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Recipients still to be delivered (the default).
    #[default]
    Todo,
    /// Recipients already delivered or bounced.
    Done,
    /// Both.
    TodoOrDone,
}

impl Scope {
    fn prefix(self) -> &'static str {
        match self {
            Scope::Todo => "",
            Scope::Done => "done_",
            Scope::TodoOrDone => "todo_or_done_",
        }
    }
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// `=`: exact (or glob, or `/regex/`) match; numeric equality.
    Eq,
    /// `!=`: the negation of the whole `=` test.
    Ne,
    /// `~`: regular-expression search.
    Match,
    /// `!~`: the negation of the whole `~` test.
    NotMatch,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `in (a, b, …)`: `=` against any value of the list.
    In,
}

impl Op {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Match => "~",
            Op::NotMatch => "!~",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::In => "in",
        }
    }

    /// Whether the operator negates the test built from its positive form.
    pub(crate) fn negated(self) -> bool {
        matches!(self, Op::Ne | Op::NotMatch)
    }

    pub(crate) fn is_ordering(self) -> bool {
        matches!(self, Op::Lt | Op::Le | Op::Gt | Op::Ge)
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A message attribute a comparison tests.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Attribute {
    /// `queue`: the queue name.
    Queue,
    /// `id`: the queue ID.
    Id,
    /// `sender`: the envelope sender (`<>` or `""` for the null sender).
    Sender,
    /// `sender_domain`: the part of the sender after its last `@`.
    SenderDomain,
    /// `recipient`, `done_recipient`, `todo_or_done_recipient`.
    Recipient(Scope),
    /// `recipient_domain` and its `done_` / `todo_or_done_` forms.
    RecipientDomain(Scope),
    /// `sasl_user`: the SASL login name.
    SaslUser,
    /// `sasl_method`: the SASL mechanism.
    SaslMethod,
    /// `client`: the client IP address.
    Client,
    /// `client_name`: the client host name.
    ClientName,
    /// `helo`: the HELO/EHLO name.
    Helo,
    /// `reason`: each delay reason in the defer log.
    Reason,
    /// `dsn_status`: each DSN status in the defer log.
    DsnStatus,
    /// `header.NAME`: each value of the headers with that (lowercase) name.
    Header(String),
    /// `attr.NAME`: the named queue-file attribute.
    Attr(String),
    /// `age`: now minus the arrival time, in seconds.
    Age,
    /// `size`: the message size in bytes.
    Size,
    /// `arrival`: the arrival time in seconds since the epoch.
    Arrival,
    /// `recipients`: how many envelope recipients, to do, done and canceled
    /// (Postfix's `nrcpt`).
    Recipients,
    /// `todo_recipients`: how many recipients are still to be delivered.
    TodoRecipients,
}

/// How an attribute's values are compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Text(Case),
    /// Text that may also be matched against an IP address or network.
    Client,
    Duration,
    Size,
    Plain,
}

impl Attribute {
    /// The canonical name, as printed.
    pub fn name(&self) -> Cow<'_, str> {
        match self {
            Attribute::Queue => "queue".into(),
            Attribute::Id => "id".into(),
            Attribute::Sender => "sender".into(),
            Attribute::SenderDomain => "sender_domain".into(),
            Attribute::Recipient(s) => format!("{}recipient", s.prefix()).into(),
            Attribute::RecipientDomain(s) => format!("{}recipient_domain", s.prefix()).into(),
            Attribute::SaslUser => "sasl_user".into(),
            Attribute::SaslMethod => "sasl_method".into(),
            Attribute::Client => "client".into(),
            Attribute::ClientName => "client_name".into(),
            Attribute::Helo => "helo".into(),
            Attribute::Reason => "reason".into(),
            Attribute::DsnStatus => "dsn_status".into(),
            Attribute::Header(n) => format!("header.{n}").into(),
            Attribute::Attr(n) => format!("attr.{n}").into(),
            Attribute::Age => "age".into(),
            Attribute::Size => "size".into(),
            Attribute::Arrival => "arrival".into(),
            Attribute::Recipients => "recipients".into(),
            Attribute::TodoRecipients => "todo_recipients".into(),
        }
    }

    pub(crate) fn kind(&self) -> Kind {
        match self {
            Attribute::Sender | Attribute::Recipient(_) => Kind::Text(Case::Address),
            Attribute::SenderDomain
            | Attribute::RecipientDomain(_)
            | Attribute::ClientName
            | Attribute::Helo
            | Attribute::SaslMethod => Kind::Text(Case::Fold),
            Attribute::Queue
            | Attribute::Id
            | Attribute::SaslUser
            | Attribute::Reason
            | Attribute::DsnStatus
            | Attribute::Header(_)
            | Attribute::Attr(_) => Kind::Text(Case::Exact),
            Attribute::Client => Kind::Client,
            Attribute::Age => Kind::Duration,
            Attribute::Size => Kind::Size,
            Attribute::Arrival | Attribute::Recipients | Attribute::TodoRecipients => Kind::Plain,
        }
    }

    /// Whether the attribute is a number (compared with `<`, `>`…).
    pub fn is_number(&self) -> bool {
        matches!(self.kind(), Kind::Duration | Kind::Size | Kind::Plain)
    }

    /// Whether a message may have several values (so `all` makes sense).
    pub fn is_many_valued(&self) -> bool {
        matches!(
            self,
            Attribute::Recipient(_)
                | Attribute::RecipientDomain(_)
                | Attribute::Reason
                | Attribute::DsnStatus
                | Attribute::Header(_)
        )
    }

    /// Whether the test looks at the part of an address after its last `@`.
    pub(crate) fn is_domain(&self) -> bool {
        matches!(
            self,
            Attribute::SenderDomain | Attribute::RecipientDomain(_)
        )
    }

    /// The fields to ask the message for, in order.
    pub(crate) fn sources(&self) -> ([Field<'_>; 2], usize) {
        let one = |f| ([f, f], 1);
        let rcpt = |s: &Scope| match s {
            Scope::Todo => one(Field::Recipient(RecipientState::Todo)),
            Scope::Done => one(Field::Recipient(RecipientState::Done)),
            Scope::TodoOrDone => (
                [
                    Field::Recipient(RecipientState::Todo),
                    Field::Recipient(RecipientState::Done),
                ],
                2,
            ),
        };
        match self {
            Attribute::Queue => one(Field::Queue),
            Attribute::Id => one(Field::Id),
            Attribute::Sender | Attribute::SenderDomain => one(Field::Sender),
            Attribute::Recipient(s) | Attribute::RecipientDomain(s) => rcpt(s),
            Attribute::SaslUser => one(Field::SaslUser),
            Attribute::SaslMethod => one(Field::SaslMethod),
            Attribute::Client => one(Field::Client),
            Attribute::ClientName => one(Field::ClientName),
            Attribute::Helo => one(Field::Helo),
            Attribute::Reason => one(Field::Reason),
            Attribute::DsnStatus => one(Field::DsnStatus),
            Attribute::Header(n) => one(Field::Header(n)),
            Attribute::Attr(n) => one(Field::Attr(n)),
            Attribute::Age | Attribute::Arrival => one(Field::Arrival),
            Attribute::Size => one(Field::Size),
            Attribute::Recipients => one(Field::Recipients),
            Attribute::TodoRecipients => one(Field::TodoRecipients),
        }
    }

    pub(crate) fn data(&self) -> Data {
        match self {
            Attribute::Queue | Attribute::Id => Data::NONE,
            // The counts too: `sendmail -t` mail has its recipients in the
            // extracted segment, after the content.
            Attribute::Recipient(_)
            | Attribute::RecipientDomain(_)
            | Attribute::Recipients
            | Attribute::TodoRecipients => Data::ENVELOPE | Data::RECIPIENTS,
            Attribute::Reason | Attribute::DsnStatus => Data::DEFER_LOG,
            Attribute::Header(_) => Data::HEADERS,
            _ => Data::ENVELOPE,
        }
    }
}

/// A yes/no fact tested on its own (`forced_expired`, `not null_sender`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Flag {
    /// `forced_expired`: marked for forced expiry (`postsuper -e`).
    ForcedExpired,
    /// `null_sender`: the sender is empty (bounces and other notifications).
    NullSender,
    /// `nonexistent_local_sender`: the binary found the sender to be a local
    /// address without such a user.
    NonexistentLocalSender,
}

impl Flag {
    /// The canonical name, as printed.
    pub fn name(self) -> &'static str {
        match self {
            Flag::ForcedExpired => "forced_expired",
            Flag::NullSender => "null_sender",
            Flag::NonexistentLocalSender => "nonexistent_local_sender",
        }
    }

    pub(crate) fn data(self) -> Data {
        match self {
            Flag::ForcedExpired => Data::STAT,
            Flag::NullSender => Data::ENVELOPE,
            Flag::NonexistentLocalSender => Data::ENVELOPE | Data::LOCAL_SENDER_CHECK,
        }
    }
}

/// A value a text test compares against, as the user wrote it (after
/// unquoting).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Pattern {
    /// Compared for equality (case rules per attribute).
    Exact(String),
    /// A glob (`*`, `?`, `\` quoting), matched against the whole value.
    Glob(String),
    /// A regular expression, searched for anywhere in the value. `src` has
    /// every `/` escaped so the `/…/` form prints back unchanged; `flags` is
    /// sorted.
    Regex { src: String, flags: String },
    /// An IP address or network (the `client` attribute).
    Net(Net),
}

impl Pattern {
    /// Prints the pattern so it lexes back to itself. `in_list` also quotes
    /// commas, which separate list items.
    pub(crate) fn write(
        &self,
        f: &mut fmt::Formatter<'_>,
        attr: &Attribute,
        in_list: bool,
    ) -> fmt::Result {
        let address = matches!(attr.kind(), Kind::Text(Case::Address));
        match self {
            Pattern::Exact(s) if s.is_empty() && address => f.write_str("<>"),
            Pattern::Exact(s) | Pattern::Glob(s) => {
                // Undo what parsing strips, so the text reads back the same:
                // one pair of angle brackets around an address, one `@`
                // before a domain.
                let mut text = Cow::Borrowed(s.as_str());
                if address && s.len() >= 2 && s.starts_with('<') && s.ends_with('>') {
                    text = format!("<{s}>").into();
                }
                if attr.is_domain() && s.starts_with('@') {
                    text = format!("@{s}").into();
                }
                if matches!(self, Pattern::Exact(_)) && is_glob(&text) {
                    // A literal value with glob characters (an ID read from
                    // a file) prints as a glob that matches only itself.
                    let mut quoted = String::with_capacity(text.len() + 4);
                    for c in text.chars() {
                        if matches!(c, '*' | '?' | '\\') {
                            quoted.push('\\');
                        }
                        quoted.push(c);
                    }
                    text = quoted.into();
                }
                write_text(f, &text, in_list)
            }
            Pattern::Regex { src, flags } => write!(f, "/{src}/{flags}"),
            Pattern::Net(n) => write!(f, "{n}"),
        }
    }

    /// Relative cost of matching, to order otherwise equal tests.
    fn weight(&self) -> u32 {
        match self {
            Pattern::Exact(_) | Pattern::Net(_) => 1,
            Pattern::Glob(_) => 2,
            Pattern::Regex { .. } => 4,
        }
    }
}

/// Writes a text value bare when it would lex back as the same text, and
/// double-quoted otherwise.
fn write_text(f: &mut fmt::Formatter<'_>, s: &str, in_list: bool) -> fmt::Result {
    let bare = !s.is_empty()
        && !s.starts_with(['"', '\'', '/'])
        && !s.chars().any(|c| {
            c.is_whitespace() || c.is_control() || c == '(' || c == ')' || (in_list && c == ',')
        });
    if bare {
        return f.write_str(s);
    }
    f.write_str("\"")?;
    for c in s.chars() {
        if c == '"' || c == '\\' {
            f.write_str("\\")?;
        }
        write!(f, "{c}")?;
    }
    f.write_str("\"")
}

/// A single test: a flag, or an attribute compared with a value.
///
/// Tests compare equal when they print the same; the compiled matcher they
/// carry follows from the rest and takes no part in equality.
#[derive(Clone, Debug)]
pub struct Test(pub(crate) TestKind);

#[derive(Clone, Debug)]
pub(crate) enum TestKind {
    Flag(Flag),
    Text {
        quant: Quantifier,
        attr: Attribute,
        op: Op,
        patterns: Vec<Pattern>,
        matcher: TextMatcher,
    },
    Number {
        attr: Attribute,
        op: Op,
        value: i64,
    },
}

impl PartialEq for Test {
    fn eq(&self, other: &Test) -> bool {
        match (&self.0, &other.0) {
            (TestKind::Flag(a), TestKind::Flag(b)) => a == b,
            (
                TestKind::Text {
                    quant: q1,
                    attr: a1,
                    op: o1,
                    patterns: p1,
                    ..
                },
                TestKind::Text {
                    quant: q2,
                    attr: a2,
                    op: o2,
                    patterns: p2,
                    ..
                },
            ) => q1 == q2 && a1 == a2 && o1 == o2 && p1 == p2,
            (
                TestKind::Number {
                    attr: a1,
                    op: o1,
                    value: v1,
                },
                TestKind::Number {
                    attr: a2,
                    op: o2,
                    value: v2,
                },
            ) => a1 == a2 && o1 == o2 && v1 == v2,
            _ => false,
        }
    }
}

impl Test {
    /// The attribute compared, or `None` for a flag test.
    pub fn attribute(&self) -> Option<&Attribute> {
        match &self.0 {
            TestKind::Flag(_) => None,
            TestKind::Text { attr, .. } | TestKind::Number { attr, .. } => Some(attr),
        }
    }

    /// The flag tested, or `None` for a comparison.
    pub fn flag(&self) -> Option<Flag> {
        match &self.0 {
            TestKind::Flag(f) => Some(*f),
            _ => None,
        }
    }

    /// The operator, or `None` for a flag test.
    pub fn op(&self) -> Option<Op> {
        match &self.0 {
            TestKind::Flag(_) => None,
            TestKind::Text { op, .. } | TestKind::Number { op, .. } => Some(*op),
        }
    }

    /// The quantifier over many values (`Any` for single-valued ones).
    pub fn quantifier(&self) -> Quantifier {
        match &self.0 {
            TestKind::Text { quant, .. } => *quant,
            _ => Quantifier::Any,
        }
    }

    /// What the test needs to read.
    pub fn needs(&self) -> Needs {
        match &self.0 {
            TestKind::Flag(f) => Needs {
                data: f.data(),
                headers: Vec::new(),
            },
            TestKind::Text { attr, .. } | TestKind::Number { attr, .. } => Needs {
                data: attr.data(),
                headers: match attr {
                    Attribute::Header(n) => vec![n.clone()],
                    _ => Vec::new(),
                },
            },
        }
    }

    /// Ordering key: data cost first, then matching cost.
    pub(crate) fn cost(&self) -> (u8, u32) {
        let rank = self.needs().data.rank();
        let weight = match &self.0 {
            TestKind::Flag(_) | TestKind::Number { .. } => 1,
            TestKind::Text { patterns, .. } => {
                // A big ID set is one hash lookup, not one test per ID.
                patterns.iter().map(Pattern::weight).max().unwrap_or(1)
            }
        };
        (rank, weight)
    }

    /// The text form, with an `in` list cut after `max_items` values (for
    /// traces of tests built from an ID file of a million lines).
    pub(crate) fn text_shortened(&self, max_items: usize) -> String {
        match &self.0 {
            TestKind::Text { patterns, .. } if patterns.len() > max_items => {
                let full = Shortened(self, max_items).to_string();
                format!("{full}, … {} more)", patterns.len() - max_items)
            }
            _ => self.to_string(),
        }
    }
}

/// Prints a test's `in` list up to a number of items, without the closing
/// parenthesis.
struct Shortened<'a>(&'a Test, usize);

impl fmt::Display for Shortened<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let TestKind::Text {
            quant,
            attr,
            patterns,
            ..
        } = &self.0 .0
        {
            write_head(f, *quant, attr)?;
            f.write_str(" in (")?;
            for (i, p) in patterns.iter().take(self.1).enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                p.write(f, attr, true)?;
            }
        }
        Ok(())
    }
}

fn write_head(f: &mut fmt::Formatter<'_>, quant: Quantifier, attr: &Attribute) -> fmt::Result {
    if quant == Quantifier::All {
        f.write_str("all ")?;
    }
    f.write_str(&attr.name())
}

impl fmt::Display for Test {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            TestKind::Flag(flag) => f.write_str(flag.name()),
            TestKind::Text {
                quant,
                attr,
                op: Op::In,
                patterns,
                ..
            } => {
                write_head(f, *quant, attr)?;
                f.write_str(" in (")?;
                for (i, p) in patterns.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    p.write(f, attr, true)?;
                }
                f.write_str(")")
            }
            TestKind::Text {
                quant,
                attr,
                op,
                patterns,
                ..
            } => {
                write_head(f, *quant, attr)?;
                write!(f, " {op} ")?;
                match patterns.first() {
                    Some(p) => p.write(f, attr, false),
                    None => f.write_str("\"\""),
                }
            }
            TestKind::Number { attr, op, value } => {
                let v = match attr.kind() {
                    Kind::Duration => format_duration(*value),
                    Kind::Size => format_size(*value),
                    _ => value.to_string(),
                };
                write!(f, "{} {op} {v}", attr.name())
            }
        }
    }
}

/// What a field name in an expression or a flag stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Named {
    Attr(Attribute),
    Flag(Flag),
    /// `header` alone, with the header name as the next word.
    HeaderPrefix,
}

/// Every field name accepted, canonical names first (they are also the
/// candidates for "did you mean" suggestions).
const NAMES: &[(&str, Named)] = &[
    ("queue", Named::Attr(Attribute::Queue)),
    ("id", Named::Attr(Attribute::Id)),
    ("sender", Named::Attr(Attribute::Sender)),
    ("sender_domain", Named::Attr(Attribute::SenderDomain)),
    ("recipient", Named::Attr(Attribute::Recipient(Scope::Todo))),
    (
        "recipient_domain",
        Named::Attr(Attribute::RecipientDomain(Scope::Todo)),
    ),
    ("sasl_user", Named::Attr(Attribute::SaslUser)),
    ("sasl_method", Named::Attr(Attribute::SaslMethod)),
    ("client", Named::Attr(Attribute::Client)),
    ("client_name", Named::Attr(Attribute::ClientName)),
    ("helo", Named::Attr(Attribute::Helo)),
    ("reason", Named::Attr(Attribute::Reason)),
    ("dsn_status", Named::Attr(Attribute::DsnStatus)),
    ("age", Named::Attr(Attribute::Age)),
    ("size", Named::Attr(Attribute::Size)),
    ("arrival", Named::Attr(Attribute::Arrival)),
    ("recipients", Named::Attr(Attribute::Recipients)),
    ("todo_recipients", Named::Attr(Attribute::TodoRecipients)),
    ("forced_expired", Named::Flag(Flag::ForcedExpired)),
    ("null_sender", Named::Flag(Flag::NullSender)),
    (
        "nonexistent_local_sender",
        Named::Flag(Flag::NonexistentLocalSender),
    ),
    ("header", Named::HeaderPrefix),
    // Aliases: Postfix attribute names and other spellings.
    ("queue_name", Named::Attr(Attribute::Queue)),
    ("queue_id", Named::Attr(Attribute::Id)),
    ("envelope_sender", Named::Attr(Attribute::Sender)),
    ("rcpt", Named::Attr(Attribute::Recipient(Scope::Todo))),
    (
        "rcpt_domain",
        Named::Attr(Attribute::RecipientDomain(Scope::Todo)),
    ),
    ("sasl_username", Named::Attr(Attribute::SaslUser)),
    ("sasl_login", Named::Attr(Attribute::SaslUser)),
    ("sasl_mechanism", Named::Attr(Attribute::SaslMethod)),
    ("client_address", Named::Attr(Attribute::Client)),
    ("client_addr", Named::Attr(Attribute::Client)),
    ("client_ip", Named::Attr(Attribute::Client)),
    ("client_hostname", Named::Attr(Attribute::ClientName)),
    ("helo_name", Named::Attr(Attribute::Helo)),
    ("ehlo", Named::Attr(Attribute::Helo)),
    ("delay_reason", Named::Attr(Attribute::Reason)),
    ("defer_reason", Named::Attr(Attribute::Reason)),
    ("dsn", Named::Attr(Attribute::DsnStatus)),
    ("status", Named::Attr(Attribute::DsnStatus)),
    ("message_size", Named::Attr(Attribute::Size)),
    ("arrival_time", Named::Attr(Attribute::Arrival)),
    ("nrcpt", Named::Attr(Attribute::Recipients)),
    ("recipient_count", Named::Attr(Attribute::Recipients)),
    ("rcpt_count", Named::Attr(Attribute::Recipients)),
    ("expired", Named::Flag(Flag::ForcedExpired)),
];

/// The canonical field names, for help texts and suggestions.
pub(crate) fn canonical_names() -> impl Iterator<Item = &'static str> {
    NAMES
        .iter()
        .take_while(|(n, _)| *n != "queue_name")
        .map(|(n, _)| *n)
}

/// Looks up a field name. Names are case-insensitive and `-` may stand for
/// `_` (the flag spellings: `sasl-user`). `header.NAME` and `attr.NAME` carry
/// a name: header names are lowercased, attribute names kept as written.
/// Recipient fields take a `done_` or `todo_or_done_` (or `todo_`) prefix.
pub(crate) fn lookup(word: &str) -> Option<Named> {
    if let Some((prefix, rest)) = word.split_once('.') {
        return match prefix.to_ascii_lowercase().as_str() {
            "header" | "hdr" if valid_name(rest) => {
                Some(Named::Attr(Attribute::Header(rest.to_ascii_lowercase())))
            }
            "attr" | "attribute" if valid_name(rest) => {
                Some(Named::Attr(Attribute::Attr(rest.to_owned())))
            }
            _ => None,
        };
    }
    let norm = word.to_ascii_lowercase().replace('-', "_");
    // A whole name first: `todo_recipients` is a count of its own, not the
    // `todo_` scope on `recipients`.
    if let Some((_, named @ Named::Attr(Attribute::TodoRecipients))) =
        NAMES.iter().find(|(n, _)| *n == norm)
    {
        return Some(named.clone());
    }
    let (scope, base) = if let Some(b) = norm.strip_prefix("todo_or_done_") {
        (Scope::TodoOrDone, b)
    } else if let Some(b) = norm.strip_prefix("done_") {
        (Scope::Done, b)
    } else if let Some(b) = norm.strip_prefix("todo_") {
        (Scope::Todo, b)
    } else {
        (Scope::Todo, norm.as_str())
    };
    let named = NAMES
        .iter()
        .find(|(n, _)| *n == base)
        .map(|(_, v)| v.clone())?;
    match named {
        Named::Attr(Attribute::Recipient(_)) => Some(Named::Attr(Attribute::Recipient(scope))),
        Named::Attr(Attribute::RecipientDomain(_)) => {
            Some(Named::Attr(Attribute::RecipientDomain(scope)))
        }
        // A scope prefix on anything but a recipient field is not a name.
        _ if base.len() != norm.len() => None,
        other => Some(other),
    }
}

/// Whether a header or attribute name is usable: non-empty, and only the
/// characters an unquoted word may hold.
pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// The canonical name closest to a misspelt one, if it is close enough to be
/// a likely typo.
pub(crate) fn suggest(word: &str) -> Option<&'static str> {
    let w = word.to_ascii_lowercase().replace('-', "_");
    canonical_names()
        .chain([
            "done_recipient",
            "todo_or_done_recipient",
            "done_recipient_domain",
        ])
        .map(|n| (edit_distance(&w, n), n))
        .filter(|&(d, n)| d <= 2.max(n.len() / 4))
        .min_by_key(|&(d, _)| d)
        .map(|(_, n)| n)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_names_and_aliases() {
        assert_eq!(lookup("sasl_user"), Some(Named::Attr(Attribute::SaslUser)));
        assert_eq!(
            lookup("SASL-Username"),
            Some(Named::Attr(Attribute::SaslUser))
        );
        assert_eq!(
            lookup("done_recipient"),
            Some(Named::Attr(Attribute::Recipient(Scope::Done)))
        );
        assert_eq!(
            lookup("todo-or-done-rcpt-domain"),
            Some(Named::Attr(Attribute::RecipientDomain(Scope::TodoOrDone)))
        );
        assert_eq!(lookup("done_sender"), None);
        assert_eq!(
            lookup("header.Subject"),
            Some(Named::Attr(Attribute::Header("subject".into())))
        );
        assert_eq!(
            lookup("attr.log_client_name"),
            Some(Named::Attr(Attribute::Attr("log_client_name".into())))
        );
        assert_eq!(lookup("attr."), None);
        assert_eq!(lookup("foo.bar"), None);
        assert_eq!(lookup("header"), Some(Named::HeaderPrefix));
    }

    #[test]
    fn suggestions() {
        assert_eq!(suggest("sasl_usr"), Some("sasl_user"));
        assert_eq!(suggest("recipent"), Some("recipient"));
        assert_eq!(suggest("zzzzzz"), None);
    }
}
