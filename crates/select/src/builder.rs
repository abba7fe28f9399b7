//! Command-line flags as tests: [`flag_test`] turns one flag into a test,
//! and [`Builder`] ANDs flags and a `--where` expression into a
//! [`Selection`].

use crate::ast::{
    lookup, valid_name, Attribute, Expr, Flag, Named, Op, Quantifier, Scope, Test, TestKind,
};
use crate::error::ParseError;
use crate::matcher::{check_op, compare, RawValue};
use crate::parser::parse_expr;
use crate::Selection;

/// Turns one command-line flag and its value into a test.
///
/// `name` is the flag with or without its dashes, in either spelling
/// (`--sasl-user`, `sasl_user`). The flags:
///
/// | flag | test |
/// | --- | --- |
/// | `--queue Q[,Q…]` | `queue = Q` / `queue in (Q, …)` |
/// | `--id ID` | `id = ID` |
/// | `--sender`, `--sender-domain`, `--recipient`, `--recipient-domain`, `--sasl-user`, `--sasl-method`, `--client`, `--client-name`, `--helo`, `--dsn-status` (and every other text field name) | `FIELD = VALUE` |
/// | `--reason RE` | `reason ~ RE` |
/// | `--header 'NAME~RE'` (or `NAME=V`, `NAME!~RE`, `NAME!=V`) | `header.NAME ~ RE` |
/// | `--older-than D` / `--newer-than D` | `age > D` / `age < D` |
/// | `--larger-than S` / `--smaller-than S` | `size > S` / `size < S` |
/// | `--min-recipients N` | `recipients >= N` |
/// | `--forced-expired`, `--null-sender`, `--nonexistent-local-sender` | the flag test |
/// | `--where EXPR` | the expression |
///
/// A value given to a flag is not lexed: it is taken whole (no quoting),
/// and `/…/` or `/…/i` makes it a regex.
///
/// ```
/// let t = select::flag_test("--older-than", Some("2d"))?;
/// assert_eq!(t.to_string(), "age > 2d");
/// let t = select::flag_test("queue", Some("deferred,hold"))?;
/// assert_eq!(t.to_string(), "queue in (deferred, hold)");
/// # Ok::<(), select::ParseError>(())
/// ```
pub fn flag_test(name: &str, value: Option<&str>) -> Result<Expr, ParseError> {
    let flag = name
        .trim_start_matches('-')
        .to_ascii_lowercase()
        .replace('-', "_");
    let err = |v: &str, at: usize, m: String| ParseError::new(v, at, m).in_flag(name);
    fn need<'v>(v: Option<&'v str>, name: &str) -> Result<&'v str, ParseError> {
        v.ok_or_else(|| ParseError::new("", 0, "this flag needs a value").in_flag(name))
    }
    let number = |attr: Attribute, op: Op, v: Option<&str>| -> Result<Expr, ParseError> {
        let v = need(v, name)?;
        comparison(Quantifier::Any, attr, op, &[RawValue::from_flag(v, 0)])
            .map_err(|e| err(v, e.0, e.1))
    };
    match flag.as_str() {
        "where" => {
            let v = need(value, name)?;
            parse_expr(v).map_err(|e| e.in_flag(name))
        }
        "older_than" => number(Attribute::Age, Op::Gt, value),
        "newer_than" => number(Attribute::Age, Op::Lt, value),
        "larger_than" => number(Attribute::Size, Op::Gt, value),
        "smaller_than" => number(Attribute::Size, Op::Lt, value),
        // At least N: a spam burst is "40 recipients or more", and `>=`
        // reads as the flag's name does.
        "min_recipients" => number(Attribute::Recipients, Op::Ge, value),
        "queue" | "queues" => {
            let v = need(value, name)?;
            let mut raws = Vec::new();
            let mut at = 0;
            for part in v.split(',') {
                let lead = part.len() - part.trim_start().len();
                if !part.trim().is_empty() {
                    raws.push(RawValue::from_flag(part.trim(), at + lead));
                }
                at += part.len() + 1;
            }
            if raws.is_empty() {
                return Err(err(v, 0, "expected one or more queue names".into()));
            }
            let op = if raws.len() == 1 { Op::Eq } else { Op::In };
            comparison(Quantifier::Any, Attribute::Queue, op, &raws).map_err(|e| err(v, e.0, e.1))
        }
        "header" => {
            let v = need(value, name)?;
            header_flag(v).map_err(|(at, m)| err(v, at, m))
        }
        "reason" => {
            let v = need(value, name)?;
            comparison(
                Quantifier::Any,
                Attribute::Reason,
                Op::Match,
                &[RawValue::from_flag(v, 0)],
            )
            .map_err(|e| err(v, e.0, e.1))
        }
        _ => match lookup(&flag) {
            Some(Named::Flag(f)) => match value {
                None => Ok(Expr::Test(Test(TestKind::Flag(f)))),
                Some(v) => Err(err(v, 0, "this flag takes no value".into())),
            },
            Some(Named::Attr(attr)) if !attr.is_number() => {
                let v = need(value, name)?;
                comparison(Quantifier::Any, attr, Op::Eq, &[RawValue::from_flag(v, 0)])
                    .map_err(|e| err(v, e.0, e.1))
            }
            _ => Err(ParseError::new(name, 0, "unknown selection flag")),
        },
    }
}

/// Builds a comparison from flag values; errors as (offset, message).
fn comparison(
    quant: Quantifier,
    attr: Attribute,
    op: Op,
    raws: &[RawValue],
) -> Result<Expr, (usize, String)> {
    check_op(&attr, op).map_err(|m| (0, m))?;
    compare(quant, attr, op, raws)
        .map(Expr::Test)
        .map_err(|e| (e.at, e.message))
}

/// `--header 'NAME~RE'`, `NAME!~RE`, `NAME=V`, `NAME!=V`.
fn header_flag(spec: &str) -> Result<Expr, (usize, String)> {
    let Some(op_at) = spec.find(['~', '=', '!']) else {
        return Err((
            0,
            "expected NAME~REGEX or NAME=VALUE, e.g. 'Subject~invoice'".into(),
        ));
    };
    let name = spec[..op_at].trim();
    if !valid_name(name) {
        return Err((0, format!("'{name}' is not a header name")));
    }
    let rest = &spec[op_at..];
    let (op, len) = if rest.starts_with("!~") {
        (Op::NotMatch, 2)
    } else if rest.starts_with("!=") {
        (Op::Ne, 2)
    } else if rest.starts_with('~') {
        (Op::Match, 1)
    } else if rest.starts_with('=') {
        (Op::Eq, 1)
    } else {
        return Err((
            op_at,
            "expected '~', '=', '!~' or '!=' after the header name".into(),
        ));
    };
    let value_at = op_at + len;
    let value = spec[value_at..].trim_start();
    let value_at = spec.len() - value.len();
    let attr = Attribute::Header(name.to_ascii_lowercase());
    comparison(
        Quantifier::Any,
        attr,
        op,
        &[RawValue::from_flag(value, value_at)],
    )
}

/// Collects flags (each a test, all ANDed) and `--where` expressions into a
/// [`Selection`].
///
/// ```
/// use select::{Context, Selection};
/// let sel = Selection::builder()
///     .sasl_user("bob")?
///     .older_than("2d")?
///     .where_expr("not forced_expired")?
///     .build();
/// assert_eq!(sel.to_string(), "sasl_user = bob and age > 2d and not forced_expired");
/// # Ok::<(), select::ParseError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Builder {
    /// Each test, and whether it came from a recipient flag (which the
    /// recipient quantifier and scope then apply to).
    tests: Vec<(Expr, bool)>,
    quant: Quantifier,
    scope: Scope,
}

macro_rules! text_flags {
    ($($(#[$doc:meta])* $method:ident => $flag:literal,)*) => {$(
        $(#[$doc])*
        pub fn $method(self, value: &str) -> Result<Self, ParseError> {
            self.flag($flag, Some(value))
        }
    )*};
}

impl Builder {
    /// Adds the test of one flag (see [`flag_test`]).
    pub fn flag(mut self, name: &str, value: Option<&str>) -> Result<Self, ParseError> {
        let e = flag_test(name, value)?;
        let is_recipient = matches!(
            &e,
            Expr::Test(Test(TestKind::Text {
                attr: Attribute::Recipient(_) | Attribute::RecipientDomain(_),
                ..
            }))
        );
        self.tests.push((e, is_recipient));
        Ok(self)
    }

    text_flags! {
        /// `--queue Q[,Q…]`: in one of the queues.
        queues => "queue",
        /// `--id ID`: the queue ID.
        id => "id",
        /// `--sender ADDR`: the envelope sender (`<>` or `""` for the null sender).
        sender => "sender",
        /// `--sender-domain DOMAIN`.
        sender_domain => "sender-domain",
        /// `--recipient ADDR`: a to-do recipient (see [`all_recipients`](Self::all_recipients), [`recipient_scope`](Self::recipient_scope)).
        recipient => "recipient",
        /// `--recipient-domain DOMAIN`.
        recipient_domain => "recipient-domain",
        /// `--sasl-user NAME` (exact; `/^bob$/i` for any case).
        sasl_user => "sasl-user",
        /// `--sasl-method MECH`.
        sasl_method => "sasl-method",
        /// `--client ADDR|CIDR` (or a glob or `/regex/` on the address text).
        client => "client",
        /// `--client-name HOST`.
        client_name => "client-name",
        /// `--helo NAME`.
        helo => "helo",
        /// `--older-than DURATION` (`s m h d w`; a unit is required).
        older_than => "older-than",
        /// `--newer-than DURATION`.
        newer_than => "newer-than",
        /// `--larger-than SIZE` (`B K M G`, 1024-based; a unit is required).
        larger_than => "larger-than",
        /// `--smaller-than SIZE`.
        smaller_than => "smaller-than",
        /// `--min-recipients N`: at least N envelope recipients, to do,
        /// done and canceled (Postfix's `nrcpt`).
        min_recipients => "min-recipients",
        /// `--reason REGEX`: a delay reason in the defer log.
        reason => "reason",
        /// `--dsn-status STATUS` (`4.7.1`, `4.7.*`, `5.*`).
        dsn_status => "dsn-status",
        /// `--header 'NAME~REGEX'` (or `NAME=VALUE`, `NAME!~REGEX`, `NAME!=VALUE`).
        header => "header",
    }

    /// `--id` read from a file: the ID is one of these (taken literally,
    /// never as globs). An empty set selects nothing.
    pub fn ids<I, S>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let raws: Vec<RawValue> = ids
            .into_iter()
            .map(|s| RawValue {
                literal: true,
                ..RawValue::from_flag(s.as_ref(), 0)
            })
            .collect();
        // Literal values under exact case cannot fail to compile.
        if let Ok(t) = compare(Quantifier::Any, Attribute::Id, Op::In, &raws) {
            self.tests.push((Expr::Test(t), false));
        }
        self
    }

    /// `--forced-expired`.
    pub fn forced_expired(mut self) -> Self {
        self.tests
            .push((Expr::Test(Test(TestKind::Flag(Flag::ForcedExpired))), false));
        self
    }

    /// `--null-sender`.
    pub fn null_sender(mut self) -> Self {
        self.tests
            .push((Expr::Test(Test(TestKind::Flag(Flag::NullSender))), false));
        self
    }

    /// `--nonexistent-local-sender`.
    pub fn nonexistent_local_sender(mut self) -> Self {
        self.tests.push((
            Expr::Test(Test(TestKind::Flag(Flag::NonexistentLocalSender))),
            false,
        ));
        self
    }

    /// Makes the recipient flags require that *every* recipient in scope
    /// matches (and that there is one), rather than any.
    pub fn all_recipients(mut self) -> Self {
        self.quant = Quantifier::All;
        self
    }

    /// Which recipients the recipient flags look at (default: to-do).
    pub fn recipient_scope(mut self, scope: Scope) -> Self {
        self.scope = scope;
        self
    }

    /// `--where EXPR`.
    pub fn where_expr(mut self, expr: &str) -> Result<Self, ParseError> {
        self.tests.push((parse_expr(expr)?, false));
        Ok(self)
    }

    /// Adds an expression built elsewhere.
    pub fn expr(mut self, expr: Expr) -> Self {
        self.tests.push((expr, false));
        self
    }

    /// The selection of every test added, ANDed in the order added; with
    /// none, every message.
    pub fn build(self) -> Selection {
        let (quant, scope) = (self.quant, self.scope);
        let mut items: Vec<Expr> = self
            .tests
            .into_iter()
            .map(|(mut e, is_recipient)| {
                if is_recipient {
                    if let Expr::Test(Test(TestKind::Text { quant: q, attr, .. })) = &mut e {
                        *q = quant;
                        *attr = match attr {
                            Attribute::RecipientDomain(_) => Attribute::RecipientDomain(scope),
                            _ => Attribute::Recipient(scope),
                        };
                    }
                }
                e
            })
            .collect();
        match items.len() {
            0 => Selection::everything(),
            1 => Selection::new(items.remove(0)),
            _ => Selection::new(Expr::And(items)),
        }
    }
}
