//! The parse error: what went wrong, in which input, and where.
//!
//! One type serves both `--where` expressions and flag values, so the CLI
//! prints every user mistake the same way: the message, the input, and a
//! caret under the offending spot.

use std::fmt;

/// A mistake in an expression or a flag value.
///
/// `Display` prints the message, the input and a caret under the offending
/// column:
///
/// ```text
/// error: expected a value after '=' at column 25
///   age > 2d and sasl_user =
///                           ^
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    input: String,
    offset: usize,
    message: String,
    flag: Option<String>,
}

impl ParseError {
    /// An error at byte `offset` of `input`.
    pub(crate) fn new(input: &str, offset: usize, message: impl Into<String>) -> Self {
        // Clamp to a char boundary inside the input so Display never slices
        // through a character, whatever offset a caller computed.
        let mut offset = offset.min(input.len());
        while !input.is_char_boundary(offset) {
            offset -= 1;
        }
        ParseError {
            input: input.to_owned(),
            offset,
            message: message.into(),
            flag: None,
        }
    }

    /// Marks the error as coming from the value of a command-line flag
    /// (e.g. `--older-than`), which Display then names.
    pub(crate) fn in_flag(mut self, flag: &str) -> Self {
        self.flag = Some(format!("--{}", flag.trim_start_matches('-')));
        self
    }

    /// The expression or flag value the error is about.
    pub fn input(&self) -> &str {
        &self.input
    }

    /// The 0-based byte offset of the offending spot in [`input`](Self::input);
    /// equal to the input's length when something is missing at the end.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The 1-based byte column of the offending spot (`offset() + 1`).
    pub fn column(&self) -> usize {
        self.offset + 1
    }

    /// What went wrong, without position or input.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The flag whose value was wrong (`--sender`…), if the error came from a
    /// flag rather than from a `--where` expression.
    pub fn flag(&self) -> Option<&str> {
        self.flag.as_deref()
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let line_start = self.input[..self.offset].rfind('\n').map_or(0, |i| i + 1);
        let line_end = self.input[self.offset..]
            .find('\n')
            .map_or(self.input.len(), |i| i + self.offset);
        let multi_line = self.input.contains('\n');
        if let Some(flag) = &self.flag {
            write!(f, "{flag}: ")?;
        }
        write!(f, "{}", self.message)?;
        if multi_line {
            let line_no = self.input[..self.offset].matches('\n').count() + 1;
            let col = self.offset - line_start + 1;
            writeln!(f, " at line {line_no}, column {col}")?;
        } else {
            writeln!(f, " at column {}", self.column())?;
        }
        let line = &self.input[line_start..line_end];
        writeln!(f, "  {line}")?;
        // The caret line copies tabs from the input so the caret stays under
        // the spot in a terminal; every other character becomes one space.
        let pad: String = self.input[line_start..self.offset]
            .chars()
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        write!(f, "  {pad}^")
    }
}

impl std::error::Error for ParseError {}

/// An error located inside one value, before the caller knows where that
/// value sits in the whole input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ValueError {
    /// Byte offset inside the value's text.
    pub(crate) at: usize,
    pub(crate) message: String,
}

impl ValueError {
    pub(crate) fn new(at: usize, message: impl Into<String>) -> Self {
        ValueError {
            at,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_puts_caret_under_offset() {
        let e = ParseError::new("age > 2d and sasl_user =", 24, "expected a value after '='");
        assert_eq!(
            e.to_string(),
            "expected a value after '=' at column 25\n  age > 2d and sasl_user =\n                          ^"
        );
    }

    #[test]
    fn display_names_the_flag() {
        let e = ParseError::new("2x", 1, "unknown unit 'x'").in_flag("older-than");
        assert_eq!(
            e.to_string(),
            "--older-than: unknown unit 'x' at column 2\n  2x\n   ^"
        );
    }

    #[test]
    fn multi_line_input_shows_only_the_offending_line() {
        let e = ParseError::new("a = b and\n\tc ~", 14, "expected a value after '~'");
        assert_eq!(
            e.to_string(),
            "expected a value after '~' at line 2, column 5\n  \tc ~\n  \t   ^"
        );
    }

    #[test]
    fn offset_is_clamped_to_a_char_boundary() {
        let e = ParseError::new("é", 1, "x");
        assert_eq!(e.offset(), 0);
    }
}
