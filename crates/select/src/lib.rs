//! The selection language of qsurgeon: which queued messages to list or
//! purge.
//!
//! A selection is built from command-line flags ([`Builder`], [`flag_test`])
//! and `--where` expressions ([`parse_expr`]), all ANDed together, and
//! evaluated on messages through the [`Fields`] trait, which the binary
//! implements over a decoded queue file. The crate knows nothing about queue
//! files.
//!
//! ```
//! use select::{Context, Field, Fields, RecipientState, Selection};
//!
//! // A message, as the binary would present it.
//! struct Msg { sender: &'static str, sasl: &'static str, arrival: i64 }
//! impl Fields for Msg {
//!     fn any_text(&self, f: Field<'_>, visit: &mut dyn FnMut(&[u8]) -> bool) -> bool {
//!         match f {
//!             Field::Sender => visit(self.sender.as_bytes()),
//!             Field::SaslUser => visit(self.sasl.as_bytes()),
//!             Field::Recipient(RecipientState::Todo) => {
//!                 ["a@example.org", "b@example.net"].iter().any(|r| visit(r.as_bytes()))
//!             }
//!             _ => false,
//!         }
//!     }
//!     fn number(&self, f: Field<'_>) -> Option<i64> {
//!         match f { Field::Arrival => Some(self.arrival), _ => None }
//!     }
//!     fn flag(&self, _: Field<'_>) -> bool { false }
//! }
//!
//! // "Delete all mail sent by the stolen SASL login bob that is older than 2 days."
//! let sel = Selection::builder()
//!     .sasl_user("bob")?
//!     .older_than("2d")?
//!     .where_expr("recipient_domain = example.org or sender = <>")?
//!     .build();
//! let now = Context::at(1_000_000);
//! let msg = Msg { sender: "bob@example.com", sasl: "bob", arrival: 1_000_000 - 3 * 86_400 };
//! assert!(sel.matches(&msg, &now));
//! assert!(!sel.needs().contains(select::Data::DEFER_LOG));
//! println!("{}", sel.explain(&msg, &now));
//! # Ok::<(), select::ParseError>(())
//! ```
//!
//! # Expressions
//!
//! ```text
//! expr     := or
//! or       := and ( "or" and )*
//! and      := unary ( "and" unary )*
//! unary    := "not" unary | primary
//! primary  := "(" expr ")" | test
//! test     := flag
//!           | [ "any" | "all" ] field op value
//!           | [ "any" | "all" ] field "in" "(" value ( [","] value )* ")"
//! flag     := "forced_expired" | "null_sender" | "nonexistent_local_sender"
//! op       := "=" | "!=" | "~" | "!~" | "<" | "<=" | ">" | ">="
//! value    := bare | '"' chars '"' | "'" chars "'" | "/" regex "/" [imsx]*
//! ```
//!
//! `not` binds tighter than `and`, which binds tighter than `or`. Keywords
//! and field names are case-insensitive. A *bare* value runs to the next
//! whitespace or parenthesis (`bob@example.com`, `192.0.2.0/24`, `4.7.*`,
//! `<>`, `2d`); quote values that hold spaces or parentheses. In quotes, `\`
//! escapes the quote and itself and is kept before any other character (so
//! `"\d+"` is the regex `\d+`). In `/…/`, `\/` is a slash.
//!
//! ## Fields
//!
//! | field (aliases) | type | case |
//! | --- | --- | --- |
//! | `queue` (`queue_name`) | text | exact |
//! | `id` (`queue_id`) | text | exact |
//! | `sender` (`envelope_sender`) | address | local part exact, domain folded |
//! | `sender_domain` | text | folded |
//! | `recipient` (`rcpt`), `recipient_domain` (`rcpt_domain`) | many addresses / domains | as above |
//! | `sasl_user` (`sasl_username`, `sasl_login`) | text | exact |
//! | `sasl_method` (`sasl_mechanism`) | text | folded |
//! | `client` (`client_address`, `client_addr`, `client_ip`) | IP address | folded as text |
//! | `client_name` (`client_hostname`), `helo` (`helo_name`, `ehlo`) | text | folded |
//! | `reason` (`delay_reason`, `defer_reason`) | many texts (defer log) | exact |
//! | `dsn_status` (`dsn`, `status`) | many texts (defer log) | exact |
//! | `header.NAME` (also `header NAME`) | many texts: each header `NAME` | exact |
//! | `attr.NAME` | text: the queue-file attribute `NAME` | exact |
//! | `age` | duration: now − arrival | |
//! | `size` (`message_size`) | size in bytes | |
//! | `arrival` (`arrival_time`) | epoch seconds | |
//! | `recipients` (`nrcpt`, `recipient_count`, `rcpt_count`) | number: envelope recipients, to do, done and canceled | |
//! | `todo_recipients` | number: recipients still to be delivered | |
//! | `forced_expired` (`expired`), `null_sender`, `nonexistent_local_sender` | yes/no | |
//!
//! Names may be written with `-` for `_`, as the flags are (`sasl-user`).
//! "Folded" compares ignoring case (ASCII case for exact values, Unicode
//! case for globs and regexes). SASL user names are exact, like the local
//! part of addresses; write `sasl_user = /^bob$/i` to ignore case.
//!
//! ## Operators and values
//!
//! - `=` compares with a value that is **exact** by default, a **glob** when it
//!   holds a `*` (any run) or `?` (one character), and a **regex** (searched
//!   anywhere) when written `/…/` or `/…/i`. In a glob, `\` quotes the next
//!   character (`a\*b` matches just `a*b`); elsewhere it is literal. Addresses may be written `<bob@example.com>`; the null sender is
//!   `<>` or `""`. A domain may be written `@example.com`. On `client`, an IP
//!   address or a CIDR network (`192.0.2.0/24`, `2001:db8::/32`) matches by
//!   address; a glob (`203.0.113.*`), a regex, `""` (no client: local
//!   submission) and `unknown` match the address text; anything else
//!   (`192.0.2.300`, `203.0.113`, a host name) is an error, as it would
//!   match nothing.
//! - `~` searches for a regex, bare (`reason ~ timed.out`) or slashed
//!   (`client ~ /^203\.0\.113\./`). Regex flags: `i m s x`.
//! - `in (a, b, …)` is `=` against any of the values; commas are optional.
//! - `<`, `<=`, `>`, `>=` (and `=`, `!=`) compare numbers: `age` takes a
//!   duration (`30s`, `15m`, `2h`, `2d`, `1w`, `1d12h`), `size` a size
//!   (`512B`, `10K`, `1M`, `2G`, 1024-based; `10KiB`, `10kb` too), `arrival`
//!   epoch seconds, `recipients` and `todo_recipients` plain counts
//!   (`recipients > 100`). Durations and sizes need their unit: `age > 5` is an
//!   error (it once meant 5 seconds, so `--older-than 5` selected a whole
//!   queue); only `0` may go without one.
//! - `!=` and `!~` negate the whole test: `recipient != x` means no to-do
//!   recipient is `x`.
//!
//! A single-valued text field the message lacks (an unauthenticated message
//! has no `sasl_user`) is tested as the empty string, so `sasl_user = ""`
//! selects unauthenticated mail and `sasl_user ~ /./` authenticated mail.
//!
//! ## Many values: recipients, defer log, headers
//!
//! A test on a many-valued field holds when **any** value matches. Prefix
//! `all` to require that **there is at least one value and every value
//! matches** (so a message with no to-do recipients never matches
//! `all recipient = …`):
//!
//! ```text
//! recipient = bob@example.com                 some to-do recipient is bob
//! all recipient_domain = example.com          every to-do recipient is at example.com
//! done_recipient = bob@example.com            a done (delivered or bounced) recipient is bob
//! todo_or_done_recipient = bob@example.com    any recipient, to-do or done
//! all reason ~ /connection timed out/         every defer-log entry timed out
//! header.subject ~ /invoice/i                 some Subject: header matches
//! ```
//!
//! # What a selection needs, and evaluation order
//!
//! [`Selection::needs`] tells which data the selection reads ([`Data`]:
//! envelope, all recipients, defer log, headers and their names…), so a
//! scanner reads each file only as far as needed; [`Selection::decide`]
//! answers from partial data when it can. Evaluation orders the operands of
//! every `and` and `or` cheapest first (by the data they need, then regex
//! over exact), so envelope tests run before defer-log or header tests. The
//! order cannot change the result: tests have no side effects.
//!
//! # Errors
//!
//! [`ParseError`] carries the byte column and prints the input with a caret:
//!
//! ```text
//! error: expected a value after '=' at column 25
//!   age > 2d and sasl_user =
//!                           ^
//! ```

#![deny(missing_docs)]

mod ast;
mod builder;
mod error;
mod eval;
mod explain;
mod fields;
mod lexer;
mod matcher;
mod needs;
mod parser;
mod value;

use std::fmt;

pub use ast::{Attribute, Expr, Flag, Op, Quantifier, Scope, Test};
pub use builder::{flag_test, Builder};
pub use error::ParseError;
pub use explain::{Seen, Trace, TraceNode};
pub use fields::{Context, Field, Fields, RecipientState};
pub use needs::{Data, Needs};
pub use parser::parse_expr;

use eval::Plan;

/// Parses a duration as `--older-than` and `age >` read it (`30s`, `15m`,
/// `2h`, `2d`, `1w`, sums such as `1d12h`; a unit is required except for
/// `0`) into seconds, for other flags that take one (`check --window`).
/// `flag` is named in the error.
pub fn parse_duration(text: &str, flag: &str) -> Result<i64, ParseError> {
    value::parse_duration(text).map_err(|e| ParseError::new(text, e.at, e.message).in_flag(flag))
}

/// A compiled selection: an expression ready to be evaluated on many
/// messages.
///
/// `Display` prints the expression as written (canonical form), which
/// [`parse_expr`] reads back to the same expression.
#[derive(Clone, Debug)]
pub struct Selection {
    /// `None` for the empty selection.
    expr: Option<Expr>,
    plan: Plan,
    needs: Needs,
}

impl Selection {
    /// Starts a selection from command-line flags.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// The selection of every message (no conditions).
    pub fn everything() -> Selection {
        Selection {
            expr: None,
            plan: Plan::True,
            needs: Needs::default(),
        }
    }

    /// Compiles an expression.
    pub fn new(expr: Expr) -> Selection {
        Selection {
            plan: Plan::new(&expr),
            needs: expr.needs(),
            expr: Some(expr),
        }
    }

    /// Parses and compiles a `--where` expression.
    pub fn parse(src: &str) -> Result<Selection, ParseError> {
        parse_expr(src).map(Selection::new)
    }

    /// The expression, or `None` for the selection of every message.
    pub fn expr(&self) -> Option<&Expr> {
        self.expr.as_ref()
    }

    /// The data the selection reads.
    pub fn needs(&self) -> &Needs {
        &self.needs
    }

    /// Whether the message is selected. Does not allocate.
    pub fn matches<F: Fields + ?Sized>(&self, msg: &F, ctx: &Context) -> bool {
        self.plan.eval(msg, ctx)
    }

    /// Decides from partial data: evaluates as [`matches`](Self::matches)
    /// does, but treats the tests that need data outside `available` as
    /// unknown. Returns `None` when the answer depends on them.
    ///
    /// A scanner reads the envelope, asks `decide(msg, ctx, Data::ENVELOPE)`,
    /// and reads the defer log or headers only for the messages it returns
    /// `None` for.
    pub fn decide<F: Fields + ?Sized>(
        &self,
        msg: &F,
        ctx: &Context,
        available: Data,
    ) -> Option<bool> {
        self.plan.decide(msg, ctx, available)
    }

    /// Evaluates the selection on one message and says why it matched or
    /// not, test by test, in written order. Every test is evaluated (no
    /// short-circuit), so the trace shows them all; the verdict is the same
    /// as [`matches`](Self::matches).
    pub fn explain<F: Fields + ?Sized>(&self, msg: &F, ctx: &Context) -> Trace {
        match &self.expr {
            Some(e) => explain::trace(e, msg, ctx),
            None => Trace {
                matched: true,
                node: TraceNode::Everything,
            },
        }
    }

    /// The expression in the order evaluation runs it (flattened, cheapest
    /// operands first); `None` for the selection of every message. For
    /// `--debug` output and tests.
    pub fn evaluation_order(&self) -> Option<Expr> {
        self.plan.to_expr()
    }
}

impl fmt::Display for Selection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.expr {
            Some(e) => write!(f, "{e}"),
            None => Ok(()),
        }
    }
}
