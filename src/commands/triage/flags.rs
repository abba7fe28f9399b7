//! Triage's path as command-line flags: each narrowing step becomes the
//! `qsurgeon list` flag that selects exactly what triage showed, so the
//! cleanup can be scripted (and so that queue data, which strangers write,
//! cannot widen it: see [`exact_value`]).

use query::snapshot::Step;
use query::Dimension;

use crate::cli::SelectArgs;

/// The equivalent command-line flag for a step.
pub(super) fn step_flag(step: &Step) -> String {
    let quote = shell_quote;
    match step {
        Step::OlderThan(secs) => format!("--older-than {}", age_spec(*secs)),
        Step::Key(dim, key) => {
            let value = String::from_utf8_lossy(key).into_owned();
            match dim {
                Dimension::Sender if value.is_empty() => "--null-sender".into(),
                Dimension::SaslUser if value.is_empty() => "--where 'sasl_user = \"\"'".into(),
                Dimension::Client | Dimension::ClientNet if value.is_empty() => {
                    "--where 'client_name = \"\"'".into()
                }
                Dimension::Queue => format!("--queue {}", quote(&value)),
                Dimension::SaslUser => format!("--sasl-user {}", quote(&exact_value(&value))),
                Dimension::Sender => format!("--sender {}", quote(&exact_value(&value))),
                Dimension::SenderDomain if value.is_empty() => "--null-sender".into(),
                Dimension::SenderDomain => {
                    format!("--sender-domain {}", quote(&exact_value(&value)))
                }
                Dimension::Client | Dimension::ClientNet => format!("--client {}", quote(&value)),
                Dimension::RecipientDomain => {
                    format!("--recipient-domain {}", quote(&exact_value(&value)))
                }
                Dimension::DsnStatus => format!("--dsn-status {}", quote(&exact_value(&value))),
                Dimension::Reason => format!("--reason {}", quote(&reason_regex(&value))),
            }
        }
    }
}

/// `s` as one shell word, the same in sh, bash, zsh and fish (an operator pastes the path into
/// whichever they use): as it is when every character is plain, else in single quotes, with
/// `'` as `'\''`. fish also reads `\\` and `\'` inside single quotes as escapes, so a
/// backslash followed by another, by a quote or by the end of the word goes as `"\\"`
/// between the quoted parts: the same backslash in every shell (a value `x\` quoted as
/// `'x\'` would leave fish's quote open, and `\';id;'` would run `id`).
pub(super) fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "@._-+:/".contains(c))
    {
        return s.to_string();
    }
    let mut out = String::from("'");
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => out.push_str(r"'\''"),
            '\\' if matches!(chars.peek(), None | Some('\\' | '\'')) => out.push_str(r#"'"\\"'"#),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A regex that matches the reasons a normalized reason stands for: the
/// masked parts (`*`) match anything, the rest literally.
pub(super) fn reason_regex(normalized: &str) -> String {
    let parts: Vec<String> = normalized
        .split('*')
        .map(|p| {
            let mut escaped = String::new();
            for c in p.chars() {
                if "\\.+*?()|[]{}^$".contains(c) {
                    escaped.push('\\');
                }
                escaped.push(c);
            }
            escaped
        })
        .collect();
    format!("^{}$", parts.join(".*"))
}

/// An age as a `--older-than` value.
pub(super) fn age_spec(secs: i64) -> String {
    match secs {
        s if s % 604_800 == 0 && s > 0 => format!("{}w", s / 604_800),
        s if s % 86_400 == 0 && s > 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 && s > 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 && s > 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// Parses `90s`, `90m`, `2h`, `3d`, `1w`; a number without a unit is
/// refused (except `0`), as `--older-than` refuses it.
pub(super) fn parse_age(text: &str) -> Option<i64> {
    let text = text.trim();
    let (digits, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: i64 = digits.parse().ok()?;
    let mult = match unit {
        "" if n == 0 => 1,
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return None,
    };
    n.checked_mul(mult)
}

/// A flag value that selects exactly `value` and nothing else: as it is
/// when it holds only characters the selection language takes literally,
/// else an anchored regex with every metacharacter escaped. Queue data is
/// the sender's to choose: a literal sender `*@bigcorp.example` written as
/// is would be a glob and select everyone at bigcorp. Domains and DSN
/// codes shown by triage are already lower case, so case-sensitive
/// anchoring selects what was shown. (Client values are addresses or
/// networks, which `--client` validates, so they go as they are.)
pub(super) fn exact_value(value: &str) -> String {
    let literal = !value.is_empty()
        && !value.starts_with('<')
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@._-+=:".contains(c));
    if literal {
        value.to_string()
    } else {
        format!("/^{}$/", regex_escape(value))
    }
}

pub(super) fn regex_escape(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if "\\.+*?()|[]{}^$/".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `qsurgeon list` with the session's starting flags and the path.
pub(super) fn command_line(base: &SelectArgs, path_flags: &[String]) -> String {
    let mut parts = vec!["qsurgeon list".to_string()];
    for (name, value) in base.valued_flags() {
        parts.push(format!("{name} '{}'", value.replace('\'', r"'\''")));
    }
    parts.extend(path_flags.iter().cloned());
    parts.join(" ")
}

/// The flags of the whole path.
pub(super) fn path_flags(path: &[Step]) -> Vec<String> {
    path.iter().map(step_flag).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_round_trip() {
        for (text, secs) in [
            ("90m", 5400),
            ("2h", 7200),
            ("3d", 259_200),
            ("1w", 604_800),
            ("45s", 45),
            ("0", 0),
        ] {
            assert_eq!(parse_age(text), Some(secs));
        }
        assert_eq!(age_spec(5400), "90m");
        assert_eq!(age_spec(86_400), "1d");
        assert_eq!(parse_age("2 days"), None);
        assert_eq!(parse_age("45"), None);
    }

    /// A message with just a sender (its domain is the sender domain) and a
    /// SASL login.
    struct Only<'a>(&'a [u8]);

    impl select::Fields for Only<'_> {
        fn any_text(&self, field: select::Field<'_>, visit: &mut dyn FnMut(&[u8]) -> bool) -> bool {
            match field {
                select::Field::Sender | select::Field::SaslUser => visit(self.0),
                _ => false,
            }
        }
        fn number(&self, _: select::Field<'_>) -> Option<i64> {
            None
        }
        fn flag(&self, _: select::Field<'_>) -> bool {
            false
        }
    }

    /// The value triage prints (and acts with) selects what it showed and
    /// nothing else, whatever the sender put in it.
    #[test]
    fn printed_values_select_exactly_what_was_shown() {
        let ctx = select::Context::at(0);
        for (flag, shown, others) in [
            (
                "--sender",
                "*@bigcorp.example",
                &["ceo@bigcorp.example", "x*@bigcorp.example"][..],
            ),
            ("--sender", "a?b@x.example", &["axb@x.example"]),
            ("--sender", "/x/", &["x", "a/x/b"]),
            ("--sender", "a\\*b@x", &["a\\xb@x", "a*b@x"]),
            ("--sasl-user", "m*", &["mallory", "m"]),
            ("--sasl-user", "bob smith", &["bob"]),
            ("--sender-domain", "*.example", &["bigcorp.example"]),
            (
                "--sender",
                "plain@x.example",
                &["plain@x.exampl", "Xplain@x.example"],
            ),
        ] {
            let value = exact_value(shown);
            let test = select::flag_test(flag, Some(&value))
                .unwrap_or_else(|e| panic!("{flag} {value}: {e}"));
            let sel = select::Selection::new(test);
            let message = match flag {
                "--sender-domain" => format!("u@{shown}"),
                _ => shown.to_string(),
            };
            assert!(
                sel.matches(&Only(message.as_bytes()), &ctx),
                "{flag} {value} selects {shown:?}"
            );
            for other in others {
                let message = match flag {
                    "--sender-domain" => format!("u@{other}"),
                    _ => other.to_string(),
                };
                assert!(
                    !sel.matches(&Only(message.as_bytes()), &ctx),
                    "{flag} {value} must not select {other:?}"
                );
            }
        }
    }

    /// The path's flags are for copying into a shell: whatever a stranger put in a value, each
    /// shell an operator may paste into (sh, dash, bash, zsh, fish) reads the flag and exactly
    /// the value qsurgeon must get, and runs nothing. fish reads `\\` and `\'` inside single
    /// quotes as escapes, so a POSIX-only quoting of `x\` or `\';id;'` runs `id` there.
    #[test]
    fn path_flags_are_the_same_words_in_every_shell() {
        let shells: Vec<&str> = ["sh", "dash", "bash", "zsh", "fish"]
            .into_iter()
            .filter(|s| std::path::Path::new("/usr/bin").join(s).exists())
            .collect();
        assert!(shells.contains(&"sh"), "no /usr/bin/sh");
        let marker = std::env::temp_dir().join(format!("qs-pwned-{}", std::process::id()));
        let touch = format!("touch {}", marker.display());
        let hostile = [
            "a'b".to_string(),
            format!("\\';{touch};'"),
            format!("\\';{touch};#"),
            format!("\\'\\';{touch};#"),
            "x\\".to_string(),
            "a\\\\b".to_string(),
            format!("$({touch})"),
            format!("`{touch}`"),
            format!("a;{touch}|cat&"),
            "line\nbreak".to_string(),
            "~root *.x {a,b} !x \"q\" %s $HOME".to_string(),
        ];
        for value in &hostile {
            for (dim, flag, want) in [
                (Dimension::Sender, "--sender", exact_value(value)),
                (Dimension::SaslUser, "--sasl-user", exact_value(value)),
                (Dimension::Client, "--client", value.clone()),
                (Dimension::Reason, "--reason", reason_regex(value)),
            ] {
                let text = step_flag(&Step::Key(dim, value.as_bytes().into()));
                for shell in &shells {
                    let out = std::process::Command::new(shell)
                        .arg("-c")
                        .arg(format!("/usr/bin/printf '%s\\0' {text}"))
                        .output()
                        .unwrap();
                    let words: Vec<String> = out
                        .stdout
                        .split(|&b| b == 0)
                        .filter(|w| !w.is_empty())
                        .map(|w| String::from_utf8_lossy(w).into_owned())
                        .collect();
                    assert_eq!(
                        words,
                        [flag.to_string(), want.clone()],
                        "{shell} read {text} as {words:?} ({})",
                        String::from_utf8_lossy(&out.stderr)
                    );
                    assert!(!marker.exists(), "{shell} ran a command from {text}");
                }
            }
        }
    }

    #[test]
    fn reason_regexes_match_what_was_normalized() {
        let reason = b"connect to 203.0.113.5[203.0.113.5]:25: Connection refused";
        let normalized = String::from_utf8(query::dimension::normalize_reason(reason)).unwrap();
        let re = regex::Regex::new(&reason_regex(&normalized)).unwrap();
        assert!(re.is_match(std::str::from_utf8(reason).unwrap()));
        assert!(!re.is_match("connect to x: Connection timed out"));
    }
}
