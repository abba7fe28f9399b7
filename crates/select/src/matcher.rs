//! Compiling values into matchers, and building tests from the values a user
//! wrote: this is where the case rules, globs, regexes and networks are
//! decided once, so evaluation only matches bytes.

use std::collections::HashSet;
use std::sync::Arc;

use regex::bytes::{Regex, RegexBuilder};

use crate::ast::{Attribute, Kind, Op, Pattern, Quantifier, Test, TestKind};
use crate::error::ValueError;
use crate::value::{
    glob_domain_start, glob_to_regex, is_glob, parse_duration, parse_plain_number, parse_size, Net,
};

/// How text values compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Case {
    /// Byte for byte (queue names, IDs, SASL user names, header values…).
    Exact,
    /// Ignoring case (domains, host names): ASCII case for exact values,
    /// Unicode case for globs and regexes.
    Fold,
    /// An address: the local part exact, as Postfix treats it, the domain
    /// part (after the last `@`) ignoring case.
    Address,
}

/// A compiled single value.
#[derive(Clone, Debug)]
pub(crate) enum Matcher {
    Bytes(Box<[u8]>),
    Fold(Box<[u8]>),
    Address { local: Box<[u8]>, domain: Box<[u8]> },
    Regex(Regex),
    Net(Net),
}

impl Matcher {
    #[inline]
    pub(crate) fn is_match(&self, v: &[u8]) -> bool {
        match self {
            Matcher::Bytes(b) => **b == *v,
            Matcher::Fold(b) => b.eq_ignore_ascii_case(v),
            Matcher::Address { local, domain } => match v.iter().rposition(|&c| c == b'@') {
                Some(at) => **local == v[..at] && domain.eq_ignore_ascii_case(&v[at + 1..]),
                None => false,
            },
            Matcher::Regex(re) => re.is_match(v),
            Matcher::Net(n) => crate::value::ip_from_bytes(v).is_some_and(|ip| n.contains(ip)),
        }
    }
}

/// The compiled values of a text test: one, or the list of an `in` test.
#[derive(Clone, Debug)]
pub(crate) enum TextMatcher {
    One(Matcher),
    /// Shared so that the evaluation plan can hold a copy of an ID set of a
    /// million entries without duplicating it.
    Set(Arc<SetMatcher>),
}

#[derive(Debug, Default)]
pub(crate) struct SetMatcher {
    /// Case-sensitive exact values, found with one hash lookup.
    exact: HashSet<Box<[u8]>>,
    /// Everything else, tried in turn.
    others: Vec<Matcher>,
}

impl TextMatcher {
    #[inline]
    pub(crate) fn is_match(&self, v: &[u8]) -> bool {
        match self {
            TextMatcher::One(m) => m.is_match(v),
            TextMatcher::Set(s) => s.exact.contains(v) || s.others.iter().any(|m| m.is_match(v)),
        }
    }
}

/// A value as written in an expression or given to a flag, before the
/// attribute it is compared with decides what it means.
#[derive(Clone, Debug)]
pub(crate) struct RawValue {
    /// The text, unquoted (for `/…/`, what is between the slashes).
    pub(crate) text: String,
    /// The flags after a `/…/` regex; `None` when not written as a regex.
    pub(crate) regex_flags: Option<String>,
    /// Where the text starts in the input, for error columns.
    pub(crate) text_at: usize,
    /// Where the regex flags start in the input.
    pub(crate) flags_at: usize,
    /// Taken literally, never as a glob (IDs read from a file).
    pub(crate) literal: bool,
}

impl RawValue {
    /// A value given whole, as a flag's argument, starting at byte `base`
    /// of the flag's text: `/…/flags` is a regex, anything else plain text.
    pub(crate) fn from_flag(s: &str, base: usize) -> RawValue {
        if let Some(body) = s.strip_prefix('/') {
            if let Some(end) = body.rfind('/') {
                let flags = &body[end + 1..];
                if flags.bytes().all(|b| b.is_ascii_alphabetic()) {
                    return RawValue {
                        text: body[..end].to_owned(),
                        regex_flags: Some(flags.to_owned()),
                        text_at: base + 1,
                        flags_at: base + end + 2,
                        literal: false,
                    };
                }
            }
        }
        RawValue {
            text: s.to_owned(),
            regex_flags: None,
            text_at: base,
            flags_at: base,
            literal: false,
        }
    }

    fn err(&self, e: ValueError) -> ValueError {
        ValueError::new(self.text_at + e.at, e.message)
    }
}

/// Builds a comparison test. The caller has checked that the operator suits
/// the attribute ([`check_op`]); errors are located in the input.
pub(crate) fn compare(
    quant: Quantifier,
    attr: Attribute,
    op: Op,
    values: &[RawValue],
) -> Result<Test, ValueError> {
    if attr.is_number() {
        let Some(raw) = values.first() else {
            return Err(ValueError::new(0, "expected a value"));
        };
        if raw.regex_flags.is_some() {
            return Err(ValueError::new(
                raw.text_at.saturating_sub(1),
                format!(
                    "{} is a number; it cannot be matched with a regex",
                    attr.name()
                ),
            ));
        }
        let value = match attr.kind() {
            Kind::Duration => parse_duration(&raw.text),
            Kind::Size => parse_size(&raw.text),
            _ => parse_plain_number(&raw.text),
        }
        .map_err(|e| raw.err(e))?;
        return Ok(Test(TestKind::Number { attr, op, value }));
    }
    let mut patterns = Vec::with_capacity(values.len());
    for raw in values {
        patterns.push(pattern_for(&attr, op, raw)?);
    }
    let matcher = if op == Op::In {
        let mut set = SetMatcher::default();
        for (p, raw) in patterns.iter().zip(values) {
            match (p, attr.kind()) {
                (Pattern::Exact(s), Kind::Text(Case::Exact)) => {
                    set.exact.insert(s.as_bytes().into());
                }
                _ => set.others.push(compile(&attr, p).map_err(|e| raw.err(e))?),
            }
        }
        TextMatcher::Set(Arc::new(set))
    } else {
        match (patterns.first(), values.first()) {
            (Some(p), Some(raw)) => TextMatcher::One(compile(&attr, p).map_err(|e| raw.err(e))?),
            _ => return Err(ValueError::new(0, "expected a value")),
        }
    };
    Ok(Test(TestKind::Text {
        quant,
        attr,
        op,
        patterns,
        matcher,
    }))
}

/// Checks that an operator suits an attribute; the error message says which
/// operators do.
pub(crate) fn check_op(attr: &Attribute, op: Op) -> Result<(), String> {
    let name = attr.name();
    if attr.is_number() {
        if matches!(op, Op::Match | Op::NotMatch | Op::In) {
            return Err(format!(
                "'{op}' does not apply to {name}, a number (use =, !=, <, <=, > or >=)"
            ));
        }
    } else if op.is_ordering() {
        return Err(format!(
            "'{op}' compares numbers; {name} is text (use =, !=, ~, !~ or in)"
        ));
    }
    Ok(())
}

/// Decides what a written value means for an attribute and operator.
/// Errors are located in the input.
fn pattern_for(attr: &Attribute, op: Op, raw: &RawValue) -> Result<Pattern, ValueError> {
    if let Some(flags) = &raw.regex_flags {
        return regex_pattern(raw, flags);
    }
    if matches!(op, Op::Match | Op::NotMatch) {
        return regex_pattern(raw, "");
    }
    let mut text = raw.text.as_str();
    if raw.literal {
        return Ok(Pattern::Exact(text.to_owned()));
    }
    if attr.kind() == Kind::Client {
        if let Some(net) = Net::parse(text).map_err(|e| raw.err(e))? {
            return Ok(Pattern::Net(net));
        }
        if !is_client_text(text) {
            // `192.0.2.300`, `203.0.113` or a host name would compare as
            // text and match nothing; when purging mail, say so instead.
            return Err(raw.err(ValueError::new(
                0,
                format!(
                    "'{text}' is not an IP address or CIDR block \
                     (e.g. 192.0.2.1, 192.0.2.0/24, 2001:db8::/32; a glob such as \
                     192.0.2.* matches the text)"
                ),
            )));
        }
    }
    if attr.kind() == Kind::Text(Case::Address) {
        // `<>` is the null sender, and `<addr>` is how logs show addresses.
        if let Some(inner) = text.strip_prefix('<').and_then(|t| t.strip_suffix('>')) {
            text = inner;
        }
    }
    if attr.is_domain() {
        // `@example.com` is a natural way to write a domain.
        text = text.strip_prefix('@').unwrap_or(text);
    }
    if is_glob(text) {
        Ok(Pattern::Glob(text.to_owned()))
    } else {
        Ok(Pattern::Exact(text.to_owned()))
    }
}

/// Whether a `client` value that is not an address may still be compared as
/// text: a glob, the empty string (no client: mail submitted locally has no
/// `client_address`, see Postfix's pickup(8)), or `unknown`, which smtpd
/// records when it cannot tell the client's address (`CLIENT_ADDR_UNKNOWN`
/// in Postfix's src/smtpd/smtpd.h).
fn is_client_text(text: &str) -> bool {
    text.is_empty() || text.eq_ignore_ascii_case("unknown") || is_glob(text)
}

/// A regex pattern in canonical form: every `/` escaped, flags validated
/// and sorted. Errors are located in the input.
fn regex_pattern(raw: &RawValue, flags: &str) -> Result<Pattern, ValueError> {
    let mut sorted: Vec<char> = Vec::new();
    for (i, c) in flags.char_indices() {
        if !matches!(c, 'i' | 'm' | 's' | 'x') {
            return Err(ValueError::new(
                raw.flags_at + i,
                format!("unknown regex flag '{c}' (use i, m, s or x)"),
            ));
        }
        if !sorted.contains(&c) {
            sorted.push(c);
        }
    }
    sorted.sort_unstable();
    let mut src = String::with_capacity(raw.text.len());
    let mut chars = raw.text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                src.push('\\');
                if let Some(n) = chars.next() {
                    src.push(n);
                }
            }
            '/' => src.push_str("\\/"),
            c => src.push(c),
        }
    }
    Ok(Pattern::Regex {
        src,
        flags: sorted.into_iter().collect(),
    })
}

/// Compiles one pattern under the attribute's case rule. Errors are located
/// in the pattern's text.
fn compile(attr: &Attribute, p: &Pattern) -> Result<Matcher, ValueError> {
    let case = match attr.kind() {
        Kind::Text(c) => c,
        // Client text is an address such as 2001:DB8::1 or "unknown".
        _ => Case::Fold,
    };
    match p {
        Pattern::Exact(s) => Ok(match case {
            Case::Exact => Matcher::Bytes(s.as_bytes().into()),
            Case::Fold => Matcher::Fold(s.as_bytes().into()),
            Case::Address => match s.rfind('@') {
                Some(at) => Matcher::Address {
                    local: s.as_bytes()[..at].into(),
                    domain: s.as_bytes()[at + 1..].into(),
                },
                None => Matcher::Bytes(s.as_bytes().into()),
            },
        }),
        Pattern::Glob(g) => {
            let fold_from = match case {
                Case::Exact => None,
                Case::Fold => Some(0),
                Case::Address => glob_domain_start(g),
            };
            build_regex(&glob_to_regex(g, fold_from), 0, "").map(Matcher::Regex)
        }
        Pattern::Regex { src, flags } => {
            let mut prefix = String::new();
            if !flags.is_empty() {
                prefix = format!("(?{flags})");
            }
            if case == Case::Fold {
                prefix.push_str("(?i)");
            }
            let full = format!("{prefix}{src}");
            build_regex(&full, prefix.chars().count(), src).map(Matcher::Regex)
        }
        Pattern::Net(n) => Ok(Matcher::Net(*n)),
    }
}

/// Compiles a regex, turning its error into a short message located at the
/// offending byte of `src` (the user's part of `full`, after a prefix of
/// `prefix_chars` characters).
fn build_regex(full: &str, prefix_chars: usize, src: &str) -> Result<Regex, ValueError> {
    RegexBuilder::new(full).build().map_err(|e| match e {
        regex::Error::Syntax(text) => {
            let message = text
                .lines()
                .find_map(|l| l.strip_prefix("error: "))
                .unwrap_or("invalid regex")
                .to_owned();
            // The error text shows the pattern and a caret line under the
            // spot; for a one-line pattern its column is the position.
            let caret = text
                .lines()
                .find(|l| l.contains('^') && l.chars().all(|c| c == ' ' || c == '^'))
                .and_then(|l| l.find('^'))
                .and_then(|col| col.checked_sub(4 + prefix_chars));
            let at = match caret {
                Some(chars) if !src.contains('\n') => {
                    src.char_indices().nth(chars).map_or(src.len(), |(i, _)| i)
                }
                _ => 0,
            };
            ValueError::new(at, format!("invalid regex: {message}"))
        }
        regex::Error::CompiledTooBig(_) => ValueError::new(0, "regex too big"),
        _ => ValueError::new(0, "invalid regex"),
    })
}
