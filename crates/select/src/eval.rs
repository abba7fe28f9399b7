//! Evaluating tests on a message, and the evaluation plan: the expression
//! with `and`/`or` operands ordered cheapest first, so that short-circuiting
//! skips expensive tests (defer log, headers) whenever a cheap one decides.

use crate::ast::{Attribute, Expr, Flag, Op, Quantifier, Test, TestKind};
use crate::fields::{Context, Field, Fields};
use crate::needs::Data;

/// What a test saw in the message, reported to a trace.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Observed<'a> {
    Text(&'a [u8]),
    Number(i64),
    Flag(bool),
    /// A single-valued text field the message lacks (tested as empty), or a
    /// number it lacks.
    Absent,
}

/// The part of an address after its last `@`; empty when there is none.
#[inline]
fn domain_of(v: &[u8]) -> &[u8] {
    match v.iter().rposition(|&c| c == b'@') {
        Some(at) => &v[at + 1..],
        None => &[],
    }
}

impl Test {
    /// The data sources the test reads, without allocating.
    pub(crate) fn data(&self) -> Data {
        match &self.0 {
            TestKind::Flag(f) => f.data(),
            TestKind::Text { attr, .. } | TestKind::Number { attr, .. } => attr.data(),
        }
    }

    /// Evaluates the test on a message.
    #[inline]
    pub(crate) fn eval<F: Fields + ?Sized>(&self, f: &F, ctx: &Context) -> bool {
        self.eval_with(f, ctx, &mut |_, _| {})
    }

    /// Evaluates the test, telling `seen` each value looked at and whether
    /// it matched (for traces; evaluation passes a no-op that compiles away).
    pub(crate) fn eval_with<F, R>(&self, f: &F, ctx: &Context, seen: &mut R) -> bool
    where
        F: Fields + ?Sized,
        R: FnMut(Observed<'_>, bool),
    {
        match &self.0 {
            TestKind::Flag(flag) => {
                let v = match flag {
                    Flag::ForcedExpired => f.flag(Field::ForcedExpired),
                    Flag::NonexistentLocalSender => f.flag(Field::NonexistentLocalSender),
                    Flag::NullSender => {
                        // A message without a sender record counts as having
                        // the null sender, like any absent single value.
                        let mut empty = true;
                        f.any_text(Field::Sender, &mut |v| {
                            empty = v.is_empty();
                            true
                        });
                        empty
                    }
                };
                seen(Observed::Flag(v), v);
                v
            }
            TestKind::Number { attr, op, value } => {
                let n = match attr {
                    Attribute::Age => f.number(Field::Arrival).map(|a| ctx.now.saturating_sub(a)),
                    Attribute::Size => f.number(Field::Size),
                    Attribute::Recipients => f.number(Field::Recipients),
                    Attribute::TodoRecipients => f.number(Field::TodoRecipients),
                    _ => f.number(Field::Arrival),
                };
                let hit = match n {
                    Some(n) => {
                        let hit = match op {
                            Op::Lt => n < *value,
                            Op::Le => n <= *value,
                            Op::Gt => n > *value,
                            Op::Ge => n >= *value,
                            _ => n == *value,
                        };
                        seen(Observed::Number(n), hit);
                        hit
                    }
                    None => {
                        seen(Observed::Absent, false);
                        false
                    }
                };
                hit != op.negated()
            }
            TestKind::Text {
                quant,
                attr,
                op,
                matcher,
                ..
            } => {
                let (sources, n) = attr.sources();
                let domain = attr.is_domain();
                let mut any_value = false;
                let hit = match quant {
                    Quantifier::Any => {
                        let mut hit = false;
                        let mut visit = |v: &[u8]| {
                            any_value = true;
                            let m = matcher.is_match(if domain { domain_of(v) } else { v });
                            seen(Observed::Text(v), m);
                            m
                        };
                        for s in &sources[..n] {
                            if f.any_text(*s, &mut visit) {
                                hit = true;
                                break;
                            }
                        }
                        if !any_value && !attr.is_many_valued() {
                            // An absent single value (no SASL login, say)
                            // is tested as empty: `sasl_user = ""` finds
                            // unauthenticated mail.
                            hit = matcher.is_match(b"");
                            seen(Observed::Absent, hit);
                        }
                        hit
                    }
                    Quantifier::All => {
                        let mut failed = false;
                        let mut visit = |v: &[u8]| {
                            any_value = true;
                            let m = matcher.is_match(if domain { domain_of(v) } else { v });
                            seen(Observed::Text(v), m);
                            !m
                        };
                        for s in &sources[..n] {
                            if f.any_text(*s, &mut visit) {
                                failed = true;
                                break;
                            }
                        }
                        // "All recipients match" must not hold for a message
                        // with none: vacuous truth would purge it.
                        any_value && !failed
                    }
                };
                hit != op.negated()
            }
        }
    }
}

/// The expression as evaluated: flattened and reordered by cost.
#[derive(Clone, Debug)]
pub(crate) enum Plan {
    /// The empty selection: every message.
    True,
    Test(Test),
    And(Box<[Plan]>),
    Or(Box<[Plan]>),
    Not(Box<Plan>),
}

impl Plan {
    pub(crate) fn new(e: &Expr) -> Plan {
        match e {
            Expr::Test(t) => Plan::Test(t.clone()),
            Expr::Not(inner) => match Plan::new(inner) {
                Plan::Not(p) => *p,
                p => Plan::Not(Box::new(p)),
            },
            Expr::And(v) | Expr::Or(v) => {
                let is_and = matches!(e, Expr::And(_));
                let mut items = Vec::with_capacity(v.len());
                for child in v {
                    // `a and (b and c)` is `a and b and c`: flattening lets
                    // the cheap tests of a group move ahead of dear ones.
                    match (Plan::new(child), is_and) {
                        (Plan::And(sub), true) | (Plan::Or(sub), false) => {
                            items.extend(sub.into_vec())
                        }
                        (p, _) => items.push(p),
                    }
                }
                // Tests have no side effects, so their order cannot change
                // the result; a stable sort keeps the written order among
                // equals.
                items.sort_by_key(Plan::cost);
                if is_and {
                    Plan::And(items.into())
                } else {
                    Plan::Or(items.into())
                }
            }
        }
    }

    /// The most expensive data source, then the summed matching weight.
    fn cost(&self) -> (u8, u32) {
        match self {
            Plan::True => (0, 0),
            Plan::Test(t) => t.cost(),
            Plan::Not(p) => p.cost(),
            Plan::And(v) | Plan::Or(v) => v
                .iter()
                .map(Plan::cost)
                .fold((0, 0), |(r, w), (r2, w2)| (r.max(r2), w + w2)),
        }
    }

    pub(crate) fn eval<F: Fields + ?Sized>(&self, f: &F, ctx: &Context) -> bool {
        match self {
            Plan::True => true,
            Plan::Test(t) => t.eval(f, ctx),
            Plan::And(v) => v.iter().all(|p| p.eval(f, ctx)),
            Plan::Or(v) => v.iter().any(|p| p.eval(f, ctx)),
            Plan::Not(p) => !p.eval(f, ctx),
        }
    }

    /// Three-valued evaluation with only the `have` data read: `None` when
    /// the answer depends on a test that needs more.
    pub(crate) fn decide<F: Fields + ?Sized>(
        &self,
        f: &F,
        ctx: &Context,
        have: Data,
    ) -> Option<bool> {
        match self {
            Plan::True => Some(true),
            Plan::Test(t) => have.contains(t.data()).then(|| t.eval(f, ctx)),
            Plan::Not(p) => p.decide(f, ctx, have).map(|b| !b),
            Plan::And(v) => {
                let mut known = true;
                for p in v.iter() {
                    match p.decide(f, ctx, have) {
                        Some(false) => return Some(false),
                        Some(true) => {}
                        None => known = false,
                    }
                }
                known.then_some(true)
            }
            Plan::Or(v) => {
                let mut known = true;
                for p in v.iter() {
                    match p.decide(f, ctx, have) {
                        Some(true) => return Some(true),
                        Some(false) => {}
                        None => known = false,
                    }
                }
                known.then_some(false)
            }
        }
    }

    /// The plan as an expression, in evaluation order.
    pub(crate) fn to_expr(&self) -> Option<Expr> {
        Some(match self {
            Plan::True => return None,
            Plan::Test(t) => Expr::Test(t.clone()),
            Plan::Not(p) => Expr::Not(Box::new(p.to_expr()?)),
            Plan::And(v) => Expr::And(v.iter().filter_map(Plan::to_expr).collect()),
            Plan::Or(v) => Expr::Or(v.iter().filter_map(Plan::to_expr).collect()),
        })
    }
}
