//! Postfix's small text predicates, byte for byte: C-string views, `atol`,
//! `split_nameval` and `is_header`.
//!
//! Postfix handles payloads as NUL-terminated C strings in most places, so
//! these helpers stop at the first NUL exactly where Postfix does.

/// The payload up to its first NUL byte, as a C string sees it.
pub fn c_str(payload: &[u8]) -> &[u8] {
    match memchr::memchr(0, payload) {
        Some(nul) => &payload[..nul],
        None => payload,
    }
}

/// C's `isspace` in the C locale.
pub fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// C's `atol`: leading white space, an optional sign, then digits; stops at
/// the first other byte (and at NUL). Saturates on overflow as glibc's
/// `strtol` does.
pub fn atol(text: &[u8]) -> i64 {
    let text = c_str(text);
    let mut rest = &text[text.iter().take_while(|b| is_c_space(**b)).count()..];
    let negative = match rest.first() {
        Some(b'-') => {
            rest = &rest[1..];
            true
        }
        Some(b'+') => {
            rest = &rest[1..];
            false
        }
        _ => false,
    };
    let mut value: i64 = 0;
    for &b in rest.iter().take_while(|b| b.is_ascii_digit()) {
        let digit = i64::from(b - b'0');
        value = match value.checked_mul(10).and_then(|v| {
            if negative {
                v.checked_sub(digit)
            } else {
                v.checked_add(digit)
            }
        }) {
            Some(v) => v,
            None => return if negative { i64::MIN } else { i64::MAX },
        };
    }
    value
}

/// Why `split_nameval` refused an attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameValueError {
    /// Empty name or a leading `=`.
    MissingName,
    /// No `=` after the name.
    MissingEquals,
}

impl NameValueError {
    /// Postfix's wording, as `postcat` prints it in its warning.
    pub fn message(self) -> &'static str {
        match self {
            NameValueError::MissingName => "missing attribute name",
            NameValueError::MissingEquals => "missing '=' after attribute name",
        }
    }
}

/// Splits `name=value` as postfix `src/util/split_nameval.c` does: white
/// space around the name, before `=` and around the value is dropped. Works
/// on the C-string part of `payload` (up to the first NUL).
pub fn split_nameval(payload: &[u8]) -> Result<(&[u8], &[u8]), NameValueError> {
    let text = c_str(payload);
    let skip_space =
        |from: usize| from + text[from..].iter().take_while(|b| is_c_space(**b)).count();
    let name_start = skip_space(0);
    if name_start == text.len() || text[name_start] == b'=' {
        return Err(NameValueError::MissingName);
    }
    let name_end = name_start
        + text[name_start..]
            .iter()
            .take_while(|b| !is_c_space(**b) && **b != b'=')
            .count();
    let equals = skip_space(name_end);
    if text.get(equals) != Some(&b'=') {
        return Err(NameValueError::MissingEquals);
    }
    let value_start = skip_space(equals + 1);
    let mut value_end = text.len();
    while value_end > value_start && is_c_space(text[value_end - 1]) {
        value_end -= 1;
    }
    Ok((&text[name_start..name_end], &text[value_start..value_end]))
}

/// Postfix's `is_header()` (`src/global/is_header.c`): one or more printable
/// ASCII bytes other than space, tab and `:`, optional blanks, then `:`.
/// Returns the length of the header name, or 0 when `line` is not a header.
pub fn header_name_len(line: &[u8]) -> usize {
    let mut name_len = 0;
    let mut after_name_blanks = false;
    for &c in line {
        match c {
            b':' => return name_len,
            b' ' | b'\t' => {
                if name_len == 0 {
                    return 0;
                }
                after_name_blanks = true;
            }
            0 => return 0,
            c if !c.is_ascii() || c.is_ascii_control() => return 0,
            _ => {
                if after_name_blanks {
                    return 0;
                }
                name_len += 1;
            }
        }
    }
    0
}

/// True when `line` is a header line by Postfix's `is_header()`.
pub fn is_header(line: &[u8]) -> bool {
    header_name_len(line) > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! atol_cases {
        ($($name:ident: $input:expr => $want:expr,)*) => {$(
            #[test]
            fn $name() { assert_eq!(atol($input), $want); }
        )*};
    }
    atol_cases! {
        atol_plain: b"1795359329 666208" => 1795359329,
        atol_leading_space: b"   -1" => -1,
        atol_plus: b"+42x" => 42,
        atol_empty: b"" => 0,
        atol_garbage: b"x12" => 0,
        atol_overflow: b"99999999999999999999999" => i64::MAX,
        atol_underflow: b"-99999999999999999999999" => i64::MIN,
        atol_stops_at_nul: b"12\x0034" => 12,
    }

    macro_rules! nameval_cases {
        ($($name:ident: $input:expr => $want:expr,)*) => {$(
            #[test]
            fn $name() { assert_eq!(split_nameval($input), $want); }
        )*};
    }
    nameval_cases! {
        nameval_plain: b"sasl_username=alice" => Ok((&b"sasl_username"[..], &b"alice"[..])),
        nameval_blanks: b"  name  =  value with space  " => Ok((&b"name"[..], &b"value with space"[..])),
        nameval_empty_value: b"name=" => Ok((&b"name"[..], &b""[..])),
        nameval_leading_equals: b"=value" => Err(NameValueError::MissingName),
        nameval_empty: b"   " => Err(NameValueError::MissingName),
        nameval_no_equals: b"name value" => Err(NameValueError::MissingEquals),
        nameval_nul_cuts: b"a=b\x00c" => Ok((&b"a"[..], &b"b"[..])),
    }

    macro_rules! header_cases {
        ($($name:ident: $input:expr => $want:expr,)*) => {$(
            #[test]
            fn $name() { assert_eq!(is_header($input), $want); }
        )*};
    }
    header_cases! {
        header_plain: b"Subject: hi" => true,
        header_no_space: b"Subject:x" => true,
        header_space_before_colon: b"Subject :x" => true,
        header_mbox_from: b"From foo" => false,
        header_empty: b"" => false,
        header_leading_blank: b" Subject: x" => false,
        header_two_words: b"Sub ject: x" => false,
        header_eight_bit: b"Subj\xc3\xa9ct: x" => false,
        header_colon_first: b": x" => false,
        header_control: b"Sub\x01ject: x" => false,
    }
}
