//! Escaping untrusted text before it reaches a terminal.
//!
//! Senders, recipients and headers in a queue file are written by
//! strangers. On a terminal, control characters, bidi overrides,
//! zero-width characters and invalid UTF-8 could rewrite the screen or
//! hide text, so they are shown as escapes. Pipes get the exact bytes.
//! JSON on a terminal is escaped the JSON way (`\u202e`), so it is still
//! the same JSON value. (fd's `src/sanitize.rs` does the same for file
//! names.)
//!
//! [`Terminal`] bundles the policy for one output stream: escape or not,
//! colour or not (only on a terminal, never with `NO_COLOR`).

use std::borrow::Cow;
use std::io::IsTerminal;

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

/// [`for_terminal`] for JSON text: characters that would be escaped are
/// written as JSON `\uXXXX` escapes instead, so the output is the same
/// JSON value, just safe to look at. serde_json already escapes C0
/// controls; this adds DEL, C1 controls, bidi and zero-width characters.
/// Invalid UTF-8 (possible only in postqueue-compatible members, which
/// copy Postfix's bytes) has no JSON escape and is shown as `\xNN`, as
/// [`for_terminal`] does.
pub fn json_for_terminal(json: &[u8]) -> Cow<'_, [u8]> {
    let clean = |c: char| c == '\n' || c == '\t' || (!c.is_control() && !is_invisible_or_bidi(c));
    if let Ok(text) = std::str::from_utf8(json) {
        if text.chars().all(clean) {
            return Cow::Borrowed(json);
        }
    }
    let mut out = Vec::with_capacity(json.len() + 16);
    for chunk in json.utf8_chunks() {
        for c in chunk.valid().chars() {
            if clean(c) {
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            } else {
                // Every such character is in the BMP: one \u escape.
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes());
            }
        }
        for b in chunk.invalid() {
            out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
        }
    }
    Cow::Owned(out)
}

/// True when the environment asks for no colour: `NO_COLOR` set to
/// anything but the empty string (<https://no-color.org>), or a dumb
/// terminal.
fn color_refused() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
        || std::env::var_os("TERM").is_some_and(|t| t == "dumb")
}

/// How human-facing text is written to one stream: escaped and perhaps
/// coloured on a terminal, exact bytes elsewhere.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Terminal {
    /// The stream is a terminal: escape untrusted text.
    pub escape: bool,
    /// Colour is wanted: a terminal, and no `NO_COLOR`.
    pub color: bool,
}

impl Terminal {
    /// The policy for a stream that is (or is not) a terminal.
    pub fn new(is_terminal: bool) -> Terminal {
        Terminal {
            escape: is_terminal,
            color: is_terminal && !color_refused(),
        }
    }

    /// The policy for standard output.
    pub fn stdout() -> Terminal {
        Terminal::new(std::io::stdout().is_terminal())
    }

    /// Text (mailq, CSV, tables, postcat output) as this stream shows it.
    pub fn text<'a>(&self, bytes: &'a [u8]) -> Cow<'a, [u8]> {
        if self.escape {
            for_terminal(bytes)
        } else {
            Cow::Borrowed(bytes)
        }
    }

    /// JSON as this stream shows it: the same value either way.
    pub fn json<'a>(&self, bytes: &'a [u8]) -> Cow<'a, [u8]> {
        if self.escape {
            json_for_terminal(bytes)
        } else {
            Cow::Borrowed(bytes)
        }
    }

    /// A heading, bold when colour is on. `text` must be trusted (our own
    /// words) or escaped already.
    pub fn heading(&self, text: &str) -> String {
        if self.color {
            format!("\x1b[1m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// The text of a diagnostic for standard error, always escaped: messages
/// quote file names, addresses and postsuper's words, and stderr is read
/// by people (terminals, cron mail, logs), never parsed as data.
pub fn for_stderr(text: &str) -> Cow<'_, str> {
    for_terminal_str(text)
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

    /// Every character a hostile sender could use to rewrite or hide text on a terminal:
    /// C0 controls (CR among them: it returns the cursor to overwrite the line), DEL, C1
    /// controls (U+009B is an 8-bit CSI), the Arabic letter mark, zero-width characters and
    /// directional marks, bidi embeddings and overrides, invisible operators, bidi isolates,
    /// and the BOM.
    fn hostile_chars() -> Vec<char> {
        let mut chars: Vec<char> = ('\u{0}'..='\u{1f}')
            .filter(|c| *c != '\n' && *c != '\t')
            .collect();
        chars.push('\u{7f}');
        chars.extend('\u{80}'..='\u{9f}');
        chars.push('\u{061c}');
        chars.extend('\u{200b}'..='\u{200f}');
        chars.extend('\u{202a}'..='\u{202e}');
        chars.extend('\u{2060}'..='\u{2064}');
        chars.extend('\u{2066}'..='\u{2069}');
        chars.push('\u{feff}');
        chars
    }

    #[test]
    fn every_hostile_character_is_escaped_alone_and_between_text() {
        let all = hostile_chars();
        assert!(all.contains(&'\r') && all.contains(&'\u{2066}') && all.contains(&'\u{2069}'));
        for c in all {
            let want = if (c as u32) < 0x80 {
                format!("a\\x{:02x}b", c as u32)
            } else {
                format!("a\\u{{{:04x}}}b", c as u32)
            };
            let text = format!("a{c}b");
            assert_eq!(
                String::from_utf8_lossy(&for_terminal(text.as_bytes())),
                want,
                "U+{:04X}",
                c as u32
            );
            assert_eq!(for_terminal_str(&text), want, "U+{:04X}", c as u32);
            assert_eq!(for_stderr(&text), want, "U+{:04X}", c as u32);

            // JSON on a terminal: the same value, with the character as a JSON escape.
            let value = serde_json::json!({ "s": text });
            let json = serde_json::to_vec(&value).unwrap();
            let shown = json_for_terminal(&json);
            let shown_text = std::str::from_utf8(&shown).unwrap();
            assert!(
                !shown_text.contains(c),
                "U+{:04X} in {shown_text:?}",
                c as u32
            );
            let back: serde_json::Value = serde_json::from_slice(&shown).unwrap();
            assert_eq!(back, value, "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn escape_sequences_and_invalid_utf8_are_shown_not_run() {
        let cases: &[(&[u8], &str)] = &[
            // CSI colour, cursor movement and erase-line, as 7-bit and 8-bit introducers.
            (b"\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
            (b"ok\x1b[2K\x1b[1Gforged", "ok\\x1b[2K\\x1b[1Gforged"),
            ("x\u{9b}2Jy".as_bytes(), "x\\u{009b}2Jy"),
            // OSC window title, ended by BEL and by ST; an OSC 8 hyperlink.
            (b"\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"),
            (b"\x1b]0;pwned\x1b\\", "\\x1b]0;pwned\\x1b\\"),
            (
                b"\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\",
                "\\x1b]8;;http://evil\\x1b\\click\\x1b]8;;\\x1b\\",
            ),
            // A CR that would overwrite "rm -rf" with "ls".
            (b"rm -rf /\rls     ", "rm -rf /\\x0dls     "),
            (b"a\r\nb", "a\\x0d\nb"),
            // Invalid UTF-8: a lone continuation byte, an overlong '/', a UTF-16 surrogate, a
            // truncated sequence at the end, bytes that never occur.
            (b"a\x80b", "a\\x80b"),
            (b"a\xc0\xafb", "a\\xc0\\xafb"),
            (b"a\xed\xa0\x80b", "a\\xed\\xa0\\x80b"),
            (b"ab\xe2\x80", "ab\\xe2\\x80"),
            (b"\xfe\xff", "\\xfe\\xff"),
        ];
        for (input, want) in cases {
            assert_eq!(
                String::from_utf8_lossy(&for_terminal(input)),
                *want,
                "{input:?}"
            );
        }
        // Printable text around them, tabs and newlines stay as they are.
        assert!(matches!(
            for_terminal("tab\there\nnew line, é, \u{05d0}, \u{4e2d}".as_bytes()),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn json_on_a_terminal_is_the_same_value_escaped() {
        let value =
            serde_json::json!({"s": "a\u{1b}[31mb\u{202e}c\u{200b}d\u{9b}e\u{7f}", "t": "plain é"});
        let json = serde_json::to_vec(&value).unwrap();
        let shown = json_for_terminal(&json);
        let text = std::str::from_utf8(&shown).unwrap();
        assert!(
            !text.contains('\u{202e}') && !text.contains('\u{200b}') && !text.contains('\u{9b}')
        );
        assert!(!text.contains('\u{1b}') && !text.contains('\u{7f}'));
        assert!(text.contains("\\u202e") && text.contains("plain é"));
        let back: serde_json::Value = serde_json::from_slice(&shown).unwrap();
        assert_eq!(back, value);
        assert!(matches!(
            json_for_terminal(b"{\"a\": \"b\"}"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn pretty_json_keeps_its_newlines_and_is_escaped_only_on_a_terminal() {
        // `--json` output is pretty-printed: its newlines are structure, and an escaped
        // newline outside a string would no longer be JSON.
        let value = serde_json::json!({"s": "a\u{202e}b", "list": ["x\u{7f}", "y"]});
        let json = serde_json::to_vec_pretty(&value).unwrap();
        let tty = Terminal {
            escape: true,
            color: false,
        };
        let shown = tty.json(&json);
        let text = std::str::from_utf8(&shown).unwrap();
        assert_eq!(
            text.lines().count(),
            json.split(|&b| b == b'\n').count(),
            "{text}"
        );
        assert!(
            text.contains("\\u202e") && !text.contains('\u{202e}'),
            "{text}"
        );
        assert!(
            text.contains("\\u007f") && !text.contains('\u{7f}'),
            "{text}"
        );
        let back: serde_json::Value = serde_json::from_slice(&shown).unwrap();
        assert_eq!(back, value);
        // A pipe gets the exact bytes.
        assert_eq!(&*Terminal::new(false).json(&json), &json[..]);
        let plain = serde_json::to_vec_pretty(&serde_json::json!({"a": ["b"]})).unwrap();
        assert!(matches!(tty.json(&plain), Cow::Borrowed(_)));
    }

    /// `NO_COLOR` (any value but empty) and `TERM=dumb` turn colour off on a terminal. The
    /// only test in this binary that sets these variables, and nothing else here reads them.
    #[test]
    fn no_color_and_dumb_terminals_get_no_colour() {
        let saved = (std::env::var_os("NO_COLOR"), std::env::var_os("TERM"));
        let cases: &[(Option<&str>, Option<&str>, bool)] = &[
            (None, Some("xterm-256color"), true),
            (None, None, true),
            (Some(""), Some("xterm"), true),
            (Some("1"), Some("xterm"), false),
            (Some("0"), Some("xterm"), false),
            (None, Some("dumb"), false),
            (Some(""), Some("dumb"), false),
        ];
        for &(no_color, term, want) in cases {
            match no_color {
                Some(v) => std::env::set_var("NO_COLOR", v),
                None => std::env::remove_var("NO_COLOR"),
            }
            match term {
                Some(v) => std::env::set_var("TERM", v),
                None => std::env::remove_var("TERM"),
            }
            let t = Terminal::new(true);
            assert_eq!(t.color, want, "NO_COLOR={no_color:?} TERM={term:?}");
            assert!(t.escape);
            assert!(!Terminal::new(false).color, "never colour into a pipe");
        }
        for (name, value) in [("NO_COLOR", saved.0), ("TERM", saved.1)] {
            match value {
                Some(v) => std::env::set_var(name, v),
                None => std::env::remove_var(name),
            }
        }
    }

    #[test]
    fn pipes_get_exact_bytes_and_no_colour() {
        let pipe = Terminal::new(false);
        assert_eq!(&*pipe.text(b"a\x1b[31m\xff"), b"a\x1b[31m\xff");
        assert_eq!(pipe.heading("By queue"), "By queue");
        assert!(!pipe.color);
        let tty = Terminal {
            escape: true,
            color: false,
        };
        assert_eq!(&*tty.text(b"a\x1b[31m"), b"a\\x1b[31m");
        let colour = Terminal {
            escape: true,
            color: true,
        };
        assert_eq!(colour.heading("By queue"), "\x1b[1mBy queue\x1b[0m");
    }
}
