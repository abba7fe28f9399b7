//! `qsurgeon check`: a monitoring plugin in the Nagios/Icinga convention
//! (the monitoring-plugins guidelines): exit 0 OK, 1 WARNING, 2 CRITICAL,
//! 3 UNKNOWN, and one line on standard output, `QSURGEON STATE - text |
//! perfdata`.
//!
//! Thresholds: the number of messages, the oldest message's age, and the
//! most messages any one SASL user, envelope sender or client address has
//! among those that arrived within `--window` (a stolen login's burst, which
//! queue-size checks see only once the queue is full), not counting the
//! hold queue: held mail is contained, and the alert clears once it is held. The culprit is named
//! in the status line, escaped: one line, no control character, no `|`
//! (which would start the perfdata).
//!
//! Anything that keeps the check from seeing the whole queue is UNKNOWN: a
//! bad flag (`main.rs` makes clap's errors exit 3 for this command), an
//! unreadable queue, a file that could not be read; a CRITICAL threshold
//! still wins, so an alert is not hidden behind a broken file.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;

use anyhow::Result;
use query::{Dimension, Fold, KeyList, MessageView, Tally};
use queue_scan::{ReadPlan, ScanError, ScanProgress};

use crate::cli::{CheckArgs, Opts, SelectArgs};
use crate::config::single_target;
use crate::exit::{ExitStatus, PluginState};
use crate::selection;
use crate::ui::fmt::human_age;
use crate::ui::sanitize::for_terminal;

/// The dimensions whose share within the window is checked, with the word
/// the status line uses and the perfdata label.
const BURST: [(Dimension, &str, &str); 3] = [
    (Dimension::SaslUser, "SASL user", "sasl_user_max"),
    (Dimension::Sender, "sender", "sender_max"),
    (Dimension::Client, "client", "client_max"),
];

/// How many characters of a culprit's name the status line shows.
const NAME_CHARS: usize = 64;

/// One worker's (or the merged) counts.
struct CheckFold {
    /// Messages that arrived after this (epoch seconds) are in the window.
    since: i64,
    total: Tally,
    recent: u64,
    /// Messages in the window per key of each `BURST` dimension.
    per_key: [HashMap<Vec<u8>, u64>; BURST.len()],
    keys: KeyList,
    errors: u64,
    first_error: Option<String>,
}

impl Fold for CheckFold {
    fn message(&mut self, view: &MessageView<'_, '_>) {
        let msg = view.msg;
        let arrival = msg.arrival_time();
        self.total.add(
            msg.message_size(),
            u64::from(view.recipient_count()),
            arrival,
        );
        // Held mail is contained (by hand or by `qsurgeon hold`): it still
        // fills the queue, but is no burst to alert on.
        if arrival <= self.since || msg.queue == "hold" {
            return;
        }
        self.recent += 1;
        for (table, (dim, _, _)) in self.per_key.iter_mut().zip(BURST) {
            dim.keys(view, &mut self.keys);
            let key = self.keys.iter().next().unwrap_or_default();
            // No login, the null sender, a local submission: nobody to name.
            if key.is_empty() {
                continue;
            }
            match table.get_mut(key) {
                Some(n) => *n += 1,
                None => {
                    table.insert(key.to_vec(), 1);
                }
            }
        }
    }

    fn error(&mut self, error: ScanError) {
        self.errors += 1;
        self.first_error.get_or_insert_with(|| error.to_string());
    }

    fn merge(mut self, other: Self) -> Self {
        self.total.merge(&other.total);
        self.recent += other.recent;
        for (mine, theirs) in self.per_key.iter_mut().zip(other.per_key) {
            for (key, n) in theirs {
                *mine.entry(key).or_default() += n;
            }
        }
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        self
    }
}

/// A warning and a critical threshold: exceeded when the value is greater.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Thresholds {
    warn: Option<u64>,
    crit: Option<u64>,
}

impl Thresholds {
    /// The state of `value`, and the threshold it exceeds.
    fn state(self, value: u64) -> (PluginState, Option<u64>) {
        match (self.crit, self.warn) {
            (Some(c), _) if value > c => (PluginState::Critical, Some(c)),
            (_, Some(w)) if value > w => (PluginState::Warning, Some(w)),
            _ => (PluginState::Ok, None),
        }
    }

    /// `;warn;crit` for perfdata (empty fields for no threshold).
    fn perf(self) -> String {
        let f = |t: Option<u64>| t.map(|t| t.to_string()).unwrap_or_default();
        format!(";{};{}", f(self.warn), f(self.crit))
    }
}

/// The options, parsed.
struct Limits {
    window: i64,
    total: Thresholds,
    age: Thresholds,
    burst: [Thresholds; BURST.len()],
}

fn duration(text: &Option<String>, flag: &str) -> Result<Option<u64>> {
    text.as_deref()
        .map(|t| Ok(select::parse_duration(t, flag)?.max(0) as u64))
        .transpose()
}

impl Limits {
    fn new(args: &CheckArgs) -> Result<Limits> {
        let window = select::parse_duration(&args.window, "window")?;
        anyhow::ensure!(window > 0, "--window must be longer than 0s");
        Ok(Limits {
            window,
            total: Thresholds {
                warn: args.warn_total,
                crit: args.crit_total,
            },
            age: Thresholds {
                warn: duration(&args.warn_age, "warn-age")?,
                crit: duration(&args.crit_age, "crit-age")?,
            },
            burst: [
                Thresholds {
                    warn: args.warn_per_user,
                    crit: args.crit_per_user,
                },
                Thresholds {
                    warn: args.warn_per_sender,
                    crit: args.crit_per_sender,
                },
                Thresholds {
                    warn: args.warn_per_client,
                    crit: args.crit_per_client,
                },
            ],
        })
    }
}

/// A name from the queue as the status line shows it: one line of
/// printable text, without `|`, at most `NAME_CHARS` characters.
fn one_line(bytes: &[u8]) -> String {
    one_line_max(bytes, NAME_CHARS)
}

/// [`one_line`] with room for `max` characters.
fn one_line_max(bytes: &[u8], max: usize) -> String {
    let escaped = String::from_utf8_lossy(&for_terminal(bytes)).into_owned();
    let escaped = escaped
        .replace('\n', "\\n")
        .replace('\t', "\\t")
        .replace('|', "\\x7c");
    if escaped.chars().count() > max {
        escaped.chars().take(max - 1).collect::<String>() + "…"
    } else {
        escaped
    }
}

/// The key with the most messages in `table` (ties: the smallest key, so the
/// line is the same from run to run).
fn largest(table: &HashMap<Vec<u8>, u64>) -> Option<(&[u8], u64)> {
    table
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(k, n)| (k.as_slice(), *n))
}

/// A duration from the options as the status line says it, exactly, in
/// its largest whole unit (`15m`, `36h`), as `--window` takes it.
fn exact_duration(secs: i64) -> String {
    let units = [(604_800, 'w'), (86_400, 'd'), (3600, 'h'), (60, 'm')];
    units
        .iter()
        .find(|(u, _)| secs > 0 && secs % u == 0)
        .map_or_else(|| format!("{secs}s"), |(u, c)| format!("{}{c}", secs / u))
}

/// The status line (with perfdata) and the state of a finished scan.
fn verdict(fold: &CheckFold, limits: &Limits, now: i64) -> (PluginState, String) {
    let mut state = PluginState::Ok;
    // (state, text) of every exceeded threshold.
    let mut problems: Vec<(PluginState, String)> = Vec::new();
    let total = fold.total.messages;
    let oldest = if total == 0 {
        0
    } else {
        (now - fold.total.oldest).max(0) as u64
    };
    let window = exact_duration(limits.window);
    if let (s, Some(t)) = limits.total.state(total) {
        problems.push((s, format!("{total} messages in the queue (> {t})")));
    }
    if let (s, Some(t)) = limits.age.state(oldest) {
        problems.push((
            s,
            format!(
                "oldest message {} old (> {})",
                human_age(oldest as i64),
                exact_duration(t as i64)
            ),
        ));
    }
    let mut tops = Vec::new();
    for (i, (_, word, _)) in BURST.iter().enumerate() {
        let top = largest(&fold.per_key[i]);
        let n = top.map_or(0, |(_, n)| n);
        if let (Some((key, _)), (s, Some(t))) = (top, limits.burst[i].state(n)) {
            problems.push((
                s,
                format!(
                    "{word} {} has {n} messages from the last {window} (> {t})",
                    one_line(key)
                ),
            ));
        }
        tops.push(top);
    }
    if fold.errors > 0 {
        let first = fold.first_error.as_deref().unwrap_or_default();
        problems.push((
            PluginState::Unknown,
            format!(
                "{} queue files could not be read (first: {})",
                fold.errors,
                one_line_max(first.as_bytes(), 200)
            ),
        ));
    }
    problems.sort_by_key(|p| std::cmp::Reverse(p.0));
    for (s, _) in &problems {
        state = state.worst(*s);
    }
    let mut line = format!("QSURGEON {} - ", state.word());
    for (_, text) in &problems {
        let _ = write!(line, "{text}; ");
    }
    let _ = write!(line, "{total} messages");
    if total > 0 {
        let _ = write!(line, ", oldest {}", human_age(oldest as i64));
    }
    let _ = write!(line, ", {} from the last {window}", fold.recent);
    if problems.is_empty() {
        let most: Vec<String> = BURST
            .iter()
            .zip(&tops)
            .filter_map(|((_, word, _), top)| {
                top.map(|(key, n)| format!("{word} {} ({n})", one_line(key)))
            })
            .collect();
        if !most.is_empty() {
            let _ = write!(line, ", most: {}", most.join(", "));
        }
    }
    // Perfdata: 'label'=value[UOM];[warn];[crit];[min];[max].
    let _ = write!(
        line,
        " | queue={total}{};0 oldest={oldest}s{};0 recent={};;;0",
        limits.total.perf(),
        limits.age.perf(),
        fold.recent
    );
    for (i, (_, _, label)) in BURST.iter().enumerate() {
        let n = tops[i].map_or(0, |(_, n)| n);
        let _ = write!(line, " {label}={n}{};0", limits.burst[i].perf());
    }
    let _ = write!(
        line,
        " bytes={}B;;;0 unreadable={};;;0",
        fold.total.bytes, fold.errors
    );
    (state, line)
}

/// Runs the check; an error is the caller's UNKNOWN.
fn check(opts: &Opts, args: &CheckArgs) -> Result<(PluginState, String)> {
    let limits = Limits::new(args)?;
    let target = single_target(opts)?;
    crate::commands::fallback::ensure_readable(&target, &SelectArgs::default())?;
    let query = selection::query(&target, &SelectArgs::default(), ReadPlan::default(), true)?;
    let now = query.ctx.now;
    let fold = query.run(&target.instance.layout, &ScanProgress::default(), || {
        CheckFold {
            since: now - limits.window,
            total: Tally::default(),
            recent: 0,
            per_key: Default::default(),
            keys: KeyList::new(),
            errors: 0,
            first_error: None,
        }
    });
    Ok(verdict(&fold, &limits, now))
}

/// Runs `check`: prints the status line and returns the plugin state; any
/// error is UNKNOWN, with the error as the status line.
pub fn run(opts: &Opts, args: &CheckArgs) -> ExitStatus {
    let (state, line) = check(opts, args)
        .unwrap_or_else(|err| (PluginState::Unknown, unknown_line(&format!("{err:#}"))));
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
    ExitStatus::Plugin(state)
}

/// The status line of an error (one line: an error may span several, as a
/// parse error with its caret does).
pub fn unknown_line(error: &str) -> String {
    let first = error.lines().next().unwrap_or_default();
    format!("QSURGEON UNKNOWN - {}", one_line_max(first.as_bytes(), 400))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fold(since: i64) -> CheckFold {
        CheckFold {
            since,
            total: Tally::default(),
            recent: 0,
            per_key: Default::default(),
            keys: KeyList::new(),
            errors: 0,
            first_error: None,
        }
    }

    fn limits() -> Limits {
        Limits {
            window: 900,
            total: Thresholds {
                warn: Some(10),
                crit: Some(20),
            },
            age: Thresholds {
                warn: Some(3600),
                crit: None,
            },
            burst: [
                Thresholds {
                    warn: Some(2),
                    crit: Some(4),
                },
                Thresholds::default(),
                Thresholds::default(),
            ],
        }
    }

    #[test]
    fn thresholds_are_exceeded_only_above_the_value() {
        let t = Thresholds {
            warn: Some(10),
            crit: Some(20),
        };
        assert_eq!(t.state(10), (PluginState::Ok, None));
        assert_eq!(t.state(11), (PluginState::Warning, Some(10)));
        assert_eq!(t.state(21), (PluginState::Critical, Some(20)));
        assert_eq!(Thresholds::default().state(u64::MAX).0, PluginState::Ok);
        assert_eq!(t.perf(), ";10;20");
        assert_eq!(Thresholds::default().perf(), ";;");
    }

    #[test]
    fn a_burst_names_its_culprit_escaped_on_one_line() {
        let now = 10_000;
        let mut f = fold(now - 900);
        for _ in 0..5 {
            f.total.add(100, 1, now - 60);
            f.recent += 1;
        }
        f.per_key[0].insert(b"mal|lo\"ry\n\x1b[31m".to_vec(), 5);
        f.per_key[0].insert(b"alice".to_vec(), 1);
        let (state, line) = verdict(&f, &limits(), now);
        assert_eq!(state, PluginState::Critical);
        assert_eq!(line.lines().count(), 1, "{line}");
        assert!(!line.contains('\x1b'));
        assert!(
            line.starts_with(
                "QSURGEON CRITICAL - SASL user mal\\x7clo\"ry\\n\\x1b[31m has 5 messages from the last 15m (> 4); 5 messages"
            ),
            "{line}"
        );
        let (_, perf) = line.split_once(" | ").unwrap();
        assert!(!perf.contains('|'));
        assert_eq!(
            perf,
            "queue=5;10;20;0 oldest=60s;3600;;0 recent=5;;;0 sasl_user_max=5;2;4;0 sender_max=0;;;0 client_max=0;;;0 bytes=500B;;;0 unreadable=0;;;0"
        );
    }

    #[test]
    fn ok_names_the_busiest_and_errors_are_unknown_unless_critical() {
        let now = 10_000;
        let mut f = fold(now - 900);
        f.total.add(100, 1, now - 7200);
        f.per_key[2].insert(b"192.0.2.1".to_vec(), 1);
        let (state, line) = verdict(&f, &limits(), now);
        assert_eq!(state, PluginState::Warning, "{line}");
        assert!(
            line.starts_with(
                "QSURGEON WARNING - oldest message 2h old (> 1h); 1 messages, oldest 2h"
            ),
            "{line}"
        );
        let mut f = fold(now - 900);
        f.total.add(100, 1, now - 60);
        f.per_key[2].insert(b"192.0.2.1".to_vec(), 1);
        let (state, line) = verdict(&f, &limits(), now);
        assert_eq!(state, PluginState::Ok);
        assert!(line.contains(", most: client 192.0.2.1 (1) | "), "{line}");
        f.errors = 2;
        f.first_error = Some("deferred/A/X: truncated".into());
        assert_eq!(verdict(&f, &limits(), now).0, PluginState::Unknown);
        for _ in 0..30 {
            f.total.add(1, 1, now);
        }
        assert_eq!(verdict(&f, &limits(), now).0, PluginState::Critical);
    }

    #[test]
    fn errors_become_one_unknown_line() {
        let line = unknown_line("--window: a duration needs a unit at column 1\n  15\n  ^");
        assert_eq!(
            line,
            "QSURGEON UNKNOWN - --window: a duration needs a unit at column 1"
        );
        let args = CheckArgs {
            warn_total: None,
            crit_total: None,
            warn_age: Some("2".into()),
            crit_age: None,
            window: "15m".into(),
            warn_per_user: None,
            crit_per_user: None,
            warn_per_sender: None,
            crit_per_sender: None,
            warn_per_client: None,
            crit_per_client: None,
        };
        let err = Limits::new(&args).err().unwrap().to_string();
        assert!(
            err.starts_with("--warn-age: a duration needs a unit"),
            "{err}"
        );
        let ok = Limits::new(&CheckArgs {
            warn_age: Some("1d12h".into()),
            ..args
        })
        .unwrap();
        assert_eq!((ok.window, ok.age.warn), (900, Some(129_600)));
        assert_eq!(
            [900, 3600, 129_600, 90, 0, 1_209_600].map(exact_duration),
            ["15m", "1h", "36h", "90s", "0s", "2w"]
        );
    }
}
