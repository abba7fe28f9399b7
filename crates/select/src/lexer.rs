//! Splitting an expression into tokens.
//!
//! Values are lexed differently from the rest: after an operator, anything up
//! to whitespace or a parenthesis is one value (`bob@example.com`,
//! `192.0.2.0/24`, `4.7.*`, `<>`), so the parser asks for a value explicitly
//! with [`Lexer::value`] and for everything else with [`Lexer::peek`].

use crate::ast::Op;
use crate::error::ParseError;
use crate::matcher::RawValue;

/// A token outside values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tok<'a> {
    LParen,
    RParen,
    Comma,
    Op(Op),
    /// A field name or keyword: a letter or `_`, then letters, digits, `_`,
    /// `-` and `.` (`header.X-Mailer`).
    Word(&'a str),
    End,
    /// A character that starts no token.
    Bad(char),
}

/// A token and where it starts and ends in the input.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Spanned<'a> {
    pub(crate) tok: Tok<'a>,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

pub(crate) struct Lexer<'a> {
    pub(crate) src: &'a str,
    pub(crate) pos: usize,
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Lexer { src, pos: 0 }
    }

    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    pub(crate) fn skip_ws(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
    }

    /// The next token, without consuming it.
    pub(crate) fn peek(&mut self) -> Spanned<'a> {
        self.skip_ws();
        let start = self.pos;
        let rest = self.rest();
        let mut chars = rest.chars();
        let Some(c) = chars.next() else {
            return Spanned {
                tok: Tok::End,
                start,
                end: start,
            };
        };
        let next = chars.next();
        let (tok, len) = match c {
            '(' => (Tok::LParen, 1),
            ')' => (Tok::RParen, 1),
            ',' => (Tok::Comma, 1),
            '=' => match next {
                Some('=') => (Tok::Op(Op::Eq), 2),
                // `=~` as in Perl and awk.
                Some('~') => (Tok::Op(Op::Match), 2),
                _ => (Tok::Op(Op::Eq), 1),
            },
            '!' => match next {
                Some('=') => (Tok::Op(Op::Ne), 2),
                Some('~') => (Tok::Op(Op::NotMatch), 2),
                _ => (Tok::Bad('!'), 1),
            },
            '~' => (Tok::Op(Op::Match), 1),
            '<' | '>' => {
                let (strict, or_eq) = if c == '<' {
                    (Op::Lt, Op::Le)
                } else {
                    (Op::Gt, Op::Ge)
                };
                if next == Some('=') {
                    (Tok::Op(or_eq), 2)
                } else {
                    (Tok::Op(strict), 1)
                }
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let len = rest
                    .bytes()
                    .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')))
                    .unwrap_or(rest.len());
                (Tok::Word(&rest[..len]), len)
            }
            c => (Tok::Bad(c), c.len_utf8()),
        };
        Spanned {
            tok,
            start,
            end: start + len,
        }
    }

    /// The next token, consumed.
    pub(crate) fn next(&mut self) -> Spanned<'a> {
        let t = self.peek();
        self.pos = t.end;
        t
    }

    /// Reads a value: `"quoted"`, `'quoted'`, `/regex/flags`, or a bare run
    /// of characters up to whitespace or a parenthesis (or a comma, in a
    /// list). `after` names what the value follows, for the error message.
    pub(crate) fn value(&mut self, in_list: bool, after: &str) -> Result<RawValue, ParseError> {
        self.skip_ws();
        let at = self.pos;
        let ends_bare =
            |c: char| c.is_whitespace() || c == '(' || c == ')' || (in_list && c == ',');
        let missing = || ParseError::new(self.src, at, format!("expected a value after '{after}'"));
        let value = match self.rest().chars().next() {
            None | Some(')') => return Err(missing()),
            Some(',') if in_list => return Err(missing()),
            Some('(') => {
                return Err(ParseError::new(
                    self.src,
                    at,
                    format!(
                        "expected a value after '{after}' (quote a value that starts with '(')"
                    ),
                ))
            }
            Some(q @ ('"' | '\'')) => self.quoted(q)?,
            Some('/') => self.regex()?,
            Some(_) => {
                let len = self.rest().find(ends_bare).unwrap_or(self.rest().len());
                let text = self.rest()[..len].to_owned();
                self.pos += len;
                RawValue {
                    text,
                    regex_flags: None,
                    text_at: at,
                    flags_at: at,
                    literal: false,
                }
            }
        };
        if let Some(c) = self.rest().chars().next() {
            if !ends_bare(c) {
                return Err(ParseError::new(
                    self.src,
                    self.pos,
                    format!("unexpected '{c}' right after the value"),
                ));
            }
        }
        Ok(value)
    }

    /// A quoted string; `\` quotes the quote character and itself, and is
    /// kept before anything else (so regexes such as `"a\.b"` survive).
    fn quoted(&mut self, quote: char) -> Result<RawValue, ParseError> {
        let open = self.pos;
        let mut text = String::new();
        let mut chars = self.src[open + 1..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, n)) if n == quote || n == '\\' => text.push(n),
                    Some((_, n)) => {
                        text.push('\\');
                        text.push(n);
                    }
                    None => break,
                },
                c if c == quote => {
                    self.pos = open + 1 + i + 1;
                    return Ok(RawValue {
                        text,
                        regex_flags: None,
                        text_at: open + 1,
                        flags_at: open + 1,
                        literal: false,
                    });
                }
                c => text.push(c),
            }
        }
        Err(ParseError::new(
            self.src,
            open,
            format!("unterminated string: missing closing {quote}"),
        ))
    }

    /// A `/regex/flags` literal; `\/` is a slash inside, and every other
    /// escape is left for the regex engine.
    fn regex(&mut self) -> Result<RawValue, ParseError> {
        let open = self.pos;
        let body = &self.src[open + 1..];
        let mut chars = body.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    chars.next();
                }
                '/' => {
                    let flags_at = open + 1 + i + 1;
                    let flags_len = self.src[flags_at..]
                        .bytes()
                        .position(|b| !b.is_ascii_alphabetic())
                        .unwrap_or(self.src.len() - flags_at);
                    self.pos = flags_at + flags_len;
                    return Ok(RawValue {
                        text: body[..i].to_owned(),
                        regex_flags: Some(self.src[flags_at..self.pos].to_owned()),
                        text_at: open + 1,
                        flags_at,
                        literal: false,
                    });
                }
                _ => {}
            }
        }
        Err(ParseError::new(
            self.src,
            open,
            "unterminated regex: missing closing /",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok<'_>> {
        let mut lx = Lexer::new(s);
        let mut out = Vec::new();
        loop {
            let t = lx.next();
            out.push(t.tok);
            if t.tok == Tok::End {
                return out;
            }
        }
    }

    #[test]
    fn operators_and_words() {
        use Tok::*;
        assert_eq!(
            toks("a=b!=c~d!~e<f<=g>h>=i==j=~k"),
            [
                Word("a"),
                Op(crate::ast::Op::Eq),
                Word("b"),
                Op(crate::ast::Op::Ne),
                Word("c"),
                Op(crate::ast::Op::Match),
                Word("d"),
                Op(crate::ast::Op::NotMatch),
                Word("e"),
                Op(crate::ast::Op::Lt),
                Word("f"),
                Op(crate::ast::Op::Le),
                Word("g"),
                Op(crate::ast::Op::Gt),
                Word("h"),
                Op(crate::ast::Op::Ge),
                Word("i"),
                Op(crate::ast::Op::Eq),
                Word("j"),
                Op(crate::ast::Op::Match),
                Word("k"),
                End
            ]
        );
        assert_eq!(
            toks(" ( header.X-Mailer ) ,"),
            [LParen, Word("header.X-Mailer"), RParen, Comma, End]
        );
        assert_eq!(toks("!x"), [Bad('!'), Word("x"), End]);
        assert_eq!(toks("é"), [Bad('é'), End]);
    }

    fn value(s: &str, in_list: bool) -> Result<(String, Option<String>, usize), usize> {
        let mut lx = Lexer::new(s);
        lx.value(in_list, "=")
            .map(|v| (v.text, v.regex_flags, lx.pos))
            .map_err(|e| e.offset())
    }

    #[test]
    fn values() {
        assert_eq!(
            value(" bob@example.com ", false),
            Ok(("bob@example.com".into(), None, 16))
        );
        assert_eq!(
            value("192.0.2.0/24)", false),
            Ok(("192.0.2.0/24".into(), None, 12))
        );
        assert_eq!(value("<>", false), Ok(("<>".into(), None, 2)));
        assert_eq!(value("a,b", false), Ok(("a,b".into(), None, 3)));
        assert_eq!(value("a,b", true), Ok(("a".into(), None, 1)));
        assert_eq!(
            value(r#""a \"b\" \\ \.""#, false),
            Ok((r#"a "b" \ \."#.into(), None, 15))
        );
        assert_eq!(value("'it'", false), Ok(("it".into(), None, 4)));
        assert_eq!(value("'it''", false), Err(4));
        assert_eq!(
            value(r"/a\/b/i x", false),
            Ok((r"a\/b".into(), Some("i".into()), 7))
        );
        assert_eq!(value("//", false), Ok(("".into(), Some("".into()), 2)));
        assert_eq!(value("", false), Err(0));
        assert_eq!(value("  )", false), Err(2));
        assert_eq!(value("(x)", false), Err(0));
        assert_eq!(value(" \"abc", false), Err(1));
        assert_eq!(value("/abc", false), Err(0));
        assert_eq!(value("\"a\"b", false), Err(3));
        assert_eq!(value("/a/i,", false), Err(4));
    }
}
