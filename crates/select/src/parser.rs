//! The recursive-descent parser for `--where` expressions.
//!
//! Precedence, loosest first: `or`, `and`, `not`; parentheses group. Errors
//! carry the byte offset of the offending spot; see the crate docs for the
//! grammar.

use crate::ast::{
    lookup, suggest, valid_name, Attribute, Expr, Named, Op, Quantifier, Test, TestKind,
};
use crate::error::ParseError;
use crate::lexer::{Lexer, Spanned, Tok};
use crate::matcher::{check_op, compare};

/// How deep parentheses and `not`s may nest: far beyond any real selection,
/// and well within the stack.
const MAX_DEPTH: usize = 100;

/// Parses a `--where` expression.
///
/// ```
/// let e = select::parse_expr("age > 2d and (sasl_user = bob or client ~ /^203\\.0\\.113\\./)")?;
/// assert_eq!(e.to_string(), "age > 2d and (sasl_user = bob or client ~ /^203\\.0\\.113\\./)");
/// # Ok::<(), select::ParseError>(())
/// ```
pub fn parse_expr(src: &str) -> Result<Expr, ParseError> {
    let mut p = Parser {
        lx: Lexer::new(src),
        depth: 0,
    };
    if p.lx.peek().tok == Tok::End {
        return Err(p.err(p.lx.pos, "empty expression"));
    }
    let e = p.or(None)?;
    let t = p.lx.peek();
    if t.tok != Tok::End {
        return Err(p.unexpected(t));
    }
    Ok(e)
}

struct Parser<'a> {
    lx: Lexer<'a>,
    depth: usize,
}

fn is_word(t: Tok<'_>, kw: &str) -> bool {
    matches!(t, Tok::Word(w) if w.eq_ignore_ascii_case(kw))
}

impl<'a> Parser<'a> {
    fn err(&self, at: usize, msg: impl Into<String>) -> ParseError {
        ParseError::new(self.lx.src, at, msg)
    }

    /// The error for a token where the expression should have ended.
    fn unexpected(&self, t: Spanned<'a>) -> ParseError {
        // Quote the whole run of text there, not just its first token: it is
        // most often the second word of an unquoted value.
        let rest = &self.lx.src[t.start..];
        let run = rest
            .find(|c: char| c.is_whitespace() || c == ')')
            .unwrap_or(rest.len());
        let text = &rest[..run.max(t.end - t.start)];
        match t.tok {
            Tok::RParen => self.err(t.start, "unmatched ')'"),
            _ => self.err(
                t.start,
                format!(
                    "unexpected '{text}' after a complete test (join tests with 'and' or 'or'; \
                     quote values that contain spaces)"
                ),
            ),
        }
    }

    fn enter(&mut self, at: usize) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err(at, "expression nested too deeply"));
        }
        Ok(())
    }

    /// `or_expr := and_expr ('or' and_expr)*`
    fn or(&mut self, after: Option<&str>) -> Result<Expr, ParseError> {
        let mut items = vec![self.and(after)?];
        while is_word(self.lx.peek().tok, "or") {
            self.lx.next();
            items.push(self.and(Some("or"))?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::Or(items)
        })
    }

    /// `and_expr := unary ('and' unary)*`
    fn and(&mut self, after: Option<&str>) -> Result<Expr, ParseError> {
        let mut items = vec![self.unary(after)?];
        while is_word(self.lx.peek().tok, "and") {
            self.lx.next();
            items.push(self.unary(Some("and"))?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::And(items)
        })
    }

    /// `unary := 'not' unary | primary`
    fn unary(&mut self, after: Option<&str>) -> Result<Expr, ParseError> {
        let t = self.lx.peek();
        if is_word(t.tok, "not") {
            self.lx.next();
            self.enter(t.start)?;
            let e = self.unary(Some("not"))?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(e)));
        }
        self.primary(after)
    }

    /// `primary := '(' or_expr ')' | test`
    fn primary(&mut self, after: Option<&str>) -> Result<Expr, ParseError> {
        let t = self.lx.next();
        let expected = |p: &Self| match after {
            Some(a) => p.err(t.start, format!("expected a test after '{a}'")),
            None => p.err(t.start, "expected a test"),
        };
        match t.tok {
            Tok::LParen => {
                self.enter(t.start)?;
                let e = self.or(Some("("))?;
                self.depth -= 1;
                let close = self.lx.peek();
                match close.tok {
                    Tok::RParen => {
                        self.lx.next();
                        Ok(e)
                    }
                    Tok::End => Err(self.err(
                        close.start,
                        format!("missing ')' to close the '(' at column {}", t.start + 1),
                    )),
                    _ => Err(self.unexpected(close)),
                }
            }
            Tok::Word(w) if ["and", "or"].iter().any(|k| w.eq_ignore_ascii_case(k)) => {
                Err(expected(self))
            }
            Tok::Word(w) => self.test(t.start, w).map(Expr::Test),
            Tok::End | Tok::RParen => Err(expected(self)),
            Tok::Op(op) => Err(self.err(t.start, format!("expected a field name before '{op}'"))),
            Tok::Comma | Tok::Bad(_) => Err(self.err(
                t.start,
                format!(
                    "expected a field name, 'not' or '(' but found '{}'",
                    &self.lx.src[t.start..t.end]
                ),
            )),
        }
    }

    /// `test := flag | [quantifier] field op value | [quantifier] field 'in' '(' value… ')'`
    fn test(&mut self, start: usize, word: &'a str) -> Result<Test, ParseError> {
        let (quant, quant_at, field_at, field) = if ["all", "any"]
            .iter()
            .any(|k| word.eq_ignore_ascii_case(k))
        {
            let q = if word.eq_ignore_ascii_case("all") {
                Quantifier::All
            } else {
                Quantifier::Any
            };
            let t = self.lx.next();
            match t.tok {
                Tok::Word(f) => (q, Some(start), t.start, f),
                _ => return Err(self.err(t.start, format!("expected a field name after '{word}'"))),
            }
        } else {
            (Quantifier::Any, None, start, word)
        };
        let named = lookup(field).ok_or_else(|| {
            let hint = match suggest(field) {
                Some(s) => format!("; did you mean '{s}'?"),
                None => String::new(),
            };
            self.err(field_at, format!("unknown field '{field}'{hint}"))
        })?;
        let attr = match named {
            Named::Flag(flag) => {
                if let Some(at) = quant_at {
                    return Err(self.err(at, format!("'{word}' does not apply to a yes/no test")));
                }
                let t = self.lx.peek();
                if matches!(t.tok, Tok::Op(_)) || is_word(t.tok, "in") {
                    return Err(self.err(
                        t.start,
                        format!(
                            "{} is a yes/no test and takes no operator (write 'not {}' for the \
                             opposite)",
                            flag.name(),
                            flag.name()
                        ),
                    ));
                }
                return Ok(Test(TestKind::Flag(flag)));
            }
            Named::HeaderPrefix => {
                let t = self.lx.peek();
                match t.tok {
                    Tok::Word(name) if valid_name(name) && !is_word(t.tok, "in") => {
                        self.lx.next();
                        Attribute::Header(name.to_ascii_lowercase())
                    }
                    _ => {
                        return Err(self.err(
                            t.start,
                            "expected a header name after 'header' (e.g. header.subject ~ x)",
                        ))
                    }
                }
            }
            Named::Attr(a) => a,
        };
        if let (Quantifier::All, Some(at)) = (quant, quant_at) {
            if !attr.is_many_valued() {
                return Err(self.err(
                    at,
                    format!(
                        "'all' applies to fields with many values (recipients, reason, \
                         dsn_status, header.*), not to {}",
                        attr.name()
                    ),
                ));
            }
        }
        let t = self.lx.next();
        let op = match t.tok {
            Tok::Op(op) => op,
            w if is_word(w, "in") => Op::In,
            _ => {
                return Err(self.err(
                    t.start,
                    format!(
                        "expected an operator after '{field}' (=, !=, ~, !~, <, <=, >, >= or in)"
                    ),
                ))
            }
        };
        check_op(&attr, op).map_err(|m| self.err(t.start, m))?;
        let values = if op == Op::In {
            self.list(t.end)?
        } else {
            vec![self.lx.value(false, op.as_str())?]
        };
        compare(quant, attr, op, &values).map_err(|e| self.err(e.at, e.message))
    }

    /// `list := '(' value ([','] value)* ')'`
    fn list(&mut self, after_in: usize) -> Result<Vec<crate::matcher::RawValue>, ParseError> {
        let open = self.lx.peek();
        if open.tok != Tok::LParen {
            return Err(self.err(open.start.max(after_in), "expected '(' after 'in'"));
        }
        self.lx.next();
        let mut values = vec![self.lx.value(true, "(")?];
        loop {
            let t = self.lx.peek();
            match t.tok {
                Tok::RParen => {
                    self.lx.next();
                    return Ok(values);
                }
                Tok::End => {
                    return Err(self.err(
                        t.start,
                        format!("missing ')' to close the list at column {}", open.start + 1),
                    ))
                }
                Tok::Comma => {
                    self.lx.next();
                    values.push(self.lx.value(true, ",")?);
                }
                _ => values.push(self.lx.value(true, ",")?),
            }
        }
    }
}
