//! Escaping untrusted text before it reaches a terminal.
//!
//! Senders, recipients and headers in a queue file are written by
//! strangers. On a terminal, control characters, bidi overrides,
//! zero-width characters and invalid UTF-8 could rewrite the screen or
//! hide text, so they are shown as escapes. Pipes and JSON get the exact
//! bytes. (fd's `src/sanitize.rs` does the same for file names.)

use std::borrow::Cow;

/// True for characters that change how the surrounding text is shown:
/// C1 controls, bidi embeddings/overrides/isolates and marks, zero-width
/// characters and the BOM.
fn is_invisible_or_bidi(c: char) -> bool {
    matches!(c,
        '\u{80}'..='\u{9f}'
        | '\u{061c}'
        | '\u{200b}'..='\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}'
        | '\u{feff}')
}

/// Escapes `bytes` for a terminal, keeping newlines (and tabs) so line
/// structure stays; borrows when nothing needs escaping.
pub fn for_terminal(bytes: &[u8]) -> Cow<'_, [u8]> {
    let clean = |c: char| c == '\n' || c == '\t' || (!c.is_control() && !is_invisible_or_bidi(c));
    if let Ok(text) = std::str::from_utf8(bytes) {
        if text.chars().all(clean) {
            return Cow::Borrowed(bytes);
        }
    }
    let mut out = Vec::with_capacity(bytes.len() + 16);
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if clean(c) {
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            } else if (c as u32) < 0x80 {
                out.extend_from_slice(format!("\\x{:02x}", c as u32).as_bytes());
            } else {
                out.extend_from_slice(format!("\\u{{{:04x}}}", c as u32).as_bytes());
            }
        }
        for b in chunk.invalid() {
            out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
        }
    }
    Cow::Owned(out)
}

/// [`for_terminal`] for text that is already a `str`.
pub fn for_terminal_str(text: &str) -> Cow<'_, str> {
    match for_terminal(text.as_bytes()) {
        Cow::Borrowed(_) => Cow::Borrowed(text),
        Cow::Owned(bytes) => Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_bytes_are_escaped_and_plain_text_borrowed() {
        assert!(matches!(
            for_terminal(b"plain jos\xc3\xa9\n"),
            Cow::Borrowed(_)
        ));
        assert_eq!(&*for_terminal(b"a\x1b[31mb"), b"a\\x1b[31mb");
        assert_eq!(&*for_terminal("x\u{202e}y".as_bytes()), b"x\\u{202e}y");
        assert_eq!(&*for_terminal(b"bad\xff\xfe"), b"bad\\xff\\xfe");
        assert_eq!(
            &*for_terminal("zero\u{200b}width".as_bytes()),
            b"zero\\u{200b}width"
        );
    }
}
