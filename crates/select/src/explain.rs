//! Traces: why a selection matched a message or not, test by test, for
//! `qsurgeon list --explain ID`.

use std::fmt;

use crate::ast::{Attribute, Expr, Kind, TestKind};
use crate::eval::Observed;
use crate::fields::{Context, Fields};
use crate::value::{format_duration, format_size};

/// How many values a trace keeps per test; a message with ten thousand
/// recipients should not print them all.
const MAX_SEEN: usize = 20;

/// How many items of an `in` list a trace prints.
const MAX_LIST_ITEMS: usize = 8;

/// The result of one node of a selection on one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    /// Whether the node held.
    pub matched: bool,
    /// The node and its parts.
    pub node: TraceNode,
}

/// A node of a [`Trace`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TraceNode {
    /// The empty selection, which every message matches.
    Everything,
    /// Every operand had to hold.
    And(Vec<Trace>),
    /// One operand had to hold.
    Or(Vec<Trace>),
    /// The operand had to fail.
    Not(Box<Trace>),
    /// A single test.
    Test {
        /// The test's text form.
        text: String,
        /// The values it looked at, in order, each with whether it matched.
        /// A test stops at the value that decides it, as evaluation does.
        seen: Vec<Seen>,
        /// How many more values were looked at than `seen` keeps.
        more: usize,
    },
}

/// One value a test looked at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    /// The value, printed: a quoted string, a number with its unit, `yes` or
    /// `no` for a flag, or `(absent)`.
    pub value: String,
    /// Whether the value matched (before `!=`/`!~` negate the test).
    pub matched: bool,
}

/// Traces an expression in its written order, evaluating every operand (no
/// short-circuit) so the trace shows every test.
pub(crate) fn trace<F: Fields + ?Sized>(e: &Expr, f: &F, ctx: &Context) -> Trace {
    match e {
        Expr::And(v) => {
            let parts: Vec<Trace> = v.iter().map(|e| trace(e, f, ctx)).collect();
            Trace {
                matched: parts.iter().all(|t| t.matched),
                node: TraceNode::And(parts),
            }
        }
        Expr::Or(v) => {
            let parts: Vec<Trace> = v.iter().map(|e| trace(e, f, ctx)).collect();
            Trace {
                matched: parts.iter().any(|t| t.matched),
                node: TraceNode::Or(parts),
            }
        }
        Expr::Not(inner) => {
            let t = trace(inner, f, ctx);
            Trace {
                matched: !t.matched,
                node: TraceNode::Not(Box::new(t)),
            }
        }
        Expr::Test(test) => {
            let attr = test.attribute();
            let mut seen = Vec::new();
            let mut more = 0;
            let matched = test.eval_with(f, ctx, &mut |o, m| {
                if seen.len() < MAX_SEEN {
                    seen.push(Seen {
                        value: show(o, attr),
                        matched: m,
                    });
                } else {
                    more += 1;
                }
            });
            let text = match &test.0 {
                TestKind::Text { .. } => test.text_shortened(MAX_LIST_ITEMS),
                _ => test.to_string(),
            };
            Trace {
                matched,
                node: TraceNode::Test { text, seen, more },
            }
        }
    }
}

fn show(o: Observed<'_>, attr: Option<&Attribute>) -> String {
    match o {
        Observed::Text(v) => format!("{:?}", String::from_utf8_lossy(v)),
        Observed::Flag(b) => if b { "yes" } else { "no" }.to_owned(),
        Observed::Absent => "(absent)".to_owned(),
        Observed::Number(n) => match attr.map(Attribute::kind) {
            Some(Kind::Duration) => format!("{} ({n}s)", format_duration(n)),
            Some(Kind::Size) if n >= 1024 => format!("{} ({n} bytes)", format_size(n)),
            Some(Kind::Size) => format!("{n} bytes"),
            _ => n.to_string(),
        },
    }
}

impl Trace {
    fn write(&self, f: &mut fmt::Formatter<'_>, depth: usize) -> fmt::Result {
        let verdict = if self.matched { "yes" } else { "no " };
        let indent = "  ".repeat(depth);
        match &self.node {
            TraceNode::Everything => {
                writeln!(f, "{verdict}  {indent}(no conditions: every message)")
            }
            TraceNode::And(parts) | TraceNode::Or(parts) => {
                let word = if matches!(self.node, TraceNode::And(_)) {
                    "and"
                } else {
                    "or"
                };
                writeln!(f, "{verdict}  {indent}{word}")?;
                parts.iter().try_for_each(|p| p.write(f, depth + 1))
            }
            TraceNode::Not(inner) => {
                writeln!(f, "{verdict}  {indent}not")?;
                inner.write(f, depth + 1)
            }
            TraceNode::Test { text, seen, more } => {
                write!(f, "{verdict}  {indent}{text}")?;
                if seen.is_empty() {
                    f.write_str("  (no values)")?;
                }
                for (i, s) in seen.iter().enumerate() {
                    let sep = if i == 0 { "  saw " } else { ", " };
                    let m = if s.matched { "match" } else { "no match" };
                    write!(f, "{sep}{} ({m})", s.value)?;
                }
                if *more > 0 {
                    write!(f, ", … {more} more")?;
                }
                writeln!(f)
            }
        }
    }
}

/// One line per node, indented by depth: `yes`/`no`, then the node, then for
/// a test the values it saw.
///
/// ```text
/// yes  and
/// yes    age > 2d  saw 3d (259200s) (match)
/// yes    or
/// yes      sasl_user = bob  saw "bob" (match)
/// no       client ~ /^203\.0\.113\./  saw "198.51.100.7" (no match)
/// ```
impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, 0)
    }
}
