//! `qsurgeon triage`: an interactive session for the night the queue
//! swells. One scan, then every drill-down is answered from memory: the
//! scan keeps compact per-message facts (interned keys, about 60–100 bytes
//! a message), so a million-message queue is explored without rescanning.
//!
//! The user narrows step by step (SASL user, then their recipient domains,
//! then older than an hour…); the path is always shown as the equivalent
//! `qsurgeon list` command line, which is also printed on exit, so the same
//! cleanup can be scripted. Acting on the group goes through the same verb
//! flow as `qsurgeon delete` (preview, confirmation, postsuper), after which
//! the queue is scanned again.

use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};
use dialoguer::{FuzzySelect, Input, Select};
use query::{Dimension, Fold, KeyList, MessageView};
use queue_scan::{ReadPlan, ScanError, ScanProgress};

use crate::act::Verb;
use crate::cli::{SelectArgs, TriageArgs};
use crate::fmt::{human_age, human_size};
use crate::sanitize::for_terminal_str;
use crate::selection::Target;
use crate::{progress, selection};

/// Byte strings stored once, referred to by index.
#[derive(Default)]
struct Interner {
    index: HashMap<Box<[u8]>, u32>,
    values: Vec<Box<[u8]>>,
}

impl Interner {
    fn intern(&mut self, bytes: &[u8]) -> u32 {
        if let Some(&i) = self.index.get(bytes) {
            return i;
        }
        let i = self.values.len() as u32;
        self.values.push(bytes.into());
        self.index.insert(bytes.into(), i);
        i
    }

    fn get(&self, i: u32) -> &[u8] {
        &self.values[i as usize]
    }

    fn bytes(&self) -> usize {
        self.values.iter().map(|v| v.len() * 2 + 48).sum()
    }
}

/// The single-valued dimensions, in `Facts::keys` order.
const SINGLE: [Dimension; 6] = [
    Dimension::Queue,
    Dimension::SaslUser,
    Dimension::Sender,
    Dimension::SenderDomain,
    Dimension::Client,
    Dimension::ClientNet,
];

/// The many-valued dimensions (a message has several keys).
const MULTI: [Dimension; 3] = [
    Dimension::RecipientDomain,
    Dimension::Reason,
    Dimension::DsnStatus,
];

/// What triage remembers of one message.
#[derive(Clone, Copy)]
struct Facts {
    id: u32,
    arrival: i64,
    size: u64,
    keys: [u32; SINGLE.len()],
    /// Range in `Snapshot::multi` of (dimension index in MULTI, key).
    multi_start: u32,
    multi_len: u16,
}

/// The whole queue as triage knows it after one scan.
#[derive(Default)]
struct Snapshot {
    strings: Interner,
    ids: Interner,
    facts: Vec<Facts>,
    multi: Vec<(u8, u32)>,
    now: i64,
}

impl Snapshot {
    fn single_index(dim: Dimension) -> Option<usize> {
        SINGLE.iter().position(|d| *d == dim)
    }

    fn keys_of<'s>(&'s self, f: &'s Facts, dim: Dimension) -> impl Iterator<Item = u32> + 's {
        let single = Self::single_index(dim).map(|i| f.keys[i]);
        let multi_dim = MULTI.iter().position(|d| *d == dim).map(|i| i as u8);
        let range = f.multi_start as usize..f.multi_start as usize + f.multi_len as usize;
        single.into_iter().chain(
            self.multi[range]
                .iter()
                .filter(move |(d, _)| Some(*d) == multi_dim)
                .map(|(_, k)| *k),
        )
    }

    fn memory(&self) -> usize {
        self.facts.len() * std::mem::size_of::<Facts>()
            + self.multi.len() * std::mem::size_of::<(u8, u32)>()
            + self.strings.bytes()
            + self.ids.bytes()
    }
}

/// One narrowing step. Keys are kept as bytes, not interned numbers: the
/// snapshot (and its numbering) is replaced after every action.
#[derive(Clone, Debug)]
enum Step {
    /// Messages with this key in this dimension.
    Key(Dimension, Box<[u8]>),
    /// Messages older than this many seconds.
    OlderThan(i64),
}

/// A worker's share of the scan, with its own interners; the shares are
/// merged, and their keys renumbered, once the scan is over.
#[derive(Default)]
struct Partial {
    snapshot: Snapshot,
    /// Shares of other workers, folded in (see [`merge`]).
    others: Vec<Snapshot>,
    keys: KeyList,
}

impl Partial {
    fn add(&mut self, view: &MessageView<'_, '_>) {
        let msg = view.msg;
        let s = &mut self.snapshot;
        let mut keys = [0; SINGLE.len()];
        for (slot, dim) in keys.iter_mut().zip(SINGLE) {
            dim.keys(view, &mut self.keys);
            // A single-valued dimension has exactly one key.
            *slot = s
                .strings
                .intern(self.keys.iter().next().unwrap_or_default());
        }
        let multi_start = s.multi.len() as u32;
        for (index, dim) in MULTI.iter().enumerate() {
            dim.keys(view, &mut self.keys);
            for key in self.keys.iter() {
                s.multi.push((index as u8, s.strings.intern(key)));
            }
        }
        let id = s.ids.intern(msg.id.as_bytes());
        s.facts.push(Facts {
            id,
            arrival: msg.arrival_time(),
            size: msg.message_size(),
            keys,
            multi_start,
            multi_len: (s.multi.len() - multi_start as usize).min(u16::MAX as usize) as u16,
        });
    }
}

impl Fold for Partial {
    fn message(&mut self, view: &MessageView<'_, '_>) {
        self.add(view);
    }

    fn error(&mut self, error: ScanError) {
        eprintln!("qsurgeon: error: {}", for_terminal_str(&error.to_string()));
    }

    fn merge(mut self, other: Self) -> Self {
        self.others.push(other.snapshot);
        self.others.extend(other.others);
        self
    }
}

/// Merges the workers' snapshots, re-numbering their interned keys.
fn merge(parts: Vec<Snapshot>, now: i64) -> Snapshot {
    let mut all = Snapshot {
        now,
        ..Snapshot::default()
    };
    for p in parts {
        let strings: Vec<u32> = p
            .strings
            .values
            .iter()
            .map(|v| all.strings.intern(v))
            .collect();
        let ids: Vec<u32> = p.ids.values.iter().map(|v| all.ids.intern(v)).collect();
        for f in p.facts {
            let start = all.multi.len() as u32;
            let range = f.multi_start as usize..f.multi_start as usize + f.multi_len as usize;
            all.multi.extend(
                p.multi[range]
                    .iter()
                    .map(|(d, k)| (*d, strings[*k as usize])),
            );
            all.facts.push(Facts {
                id: ids[f.id as usize],
                keys: f.keys.map(|k| strings[k as usize]),
                multi_start: start,
                ..f
            });
        }
    }
    all
}

fn scan(target: &Target, args: &TriageArgs) -> Result<Snapshot> {
    let output_needs = ReadPlan {
        headers: false,
        defer_log: true,
    };
    let query = selection::query(target, &args.select, output_needs, false)?;
    let progress = ScanProgress::default();
    let (folded, stats, elapsed) = progress::with_progress(&progress, || {
        query.run(&target.instance.layout, &progress, Partial::default)
    });
    let mut parts = vec![folded.snapshot];
    parts.extend(folded.others);
    let snapshot = merge(parts, query.ctx.now);
    eprintln!(
        "{}",
        progress::stats_line(&stats, snapshot.facts.len() as u64, elapsed)
    );
    Ok(snapshot)
}

/// Shown keys: `(none)` for empty values, the null sender as `<>`.
fn shown_key(dim: Dimension, key: &[u8]) -> String {
    if key.is_empty() {
        return match dim {
            Dimension::Sender | Dimension::SenderDomain => "<> (null sender)".into(),
            _ => "(none)".into(),
        };
    }
    // Escape the bytes themselves, so invalid UTF-8 shows as \xNN rather
    // than as replacement characters.
    String::from_utf8_lossy(&crate::sanitize::for_terminal(key)).into_owned()
}

/// `text` cut to `width` characters, with an ellipsis when cut.
fn shorten(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    text.chars().take(width - 1).collect::<String>() + "…"
}

/// Counts, bytes, oldest per key of `dim` over the messages in `set`.
fn tally(snap: &Snapshot, set: &[u32], dim: Dimension) -> Vec<(u32, u64, u64, i64)> {
    let mut map: HashMap<u32, (u64, u64, i64)> = HashMap::new();
    for &i in set {
        let f = &snap.facts[i as usize];
        for key in snap.keys_of(f, dim) {
            let e = map.entry(key).or_insert((0, 0, i64::MAX));
            e.0 += 1;
            e.1 += f.size;
            e.2 = e.2.min(f.arrival);
        }
    }
    let mut rows: Vec<_> = map.into_iter().map(|(k, (n, b, o))| (k, n, b, o)).collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
    rows
}

/// The equivalent command-line flag for a step.
fn step_flag(step: &Step) -> String {
    let quote = |s: &str| {
        if s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "@._-+:/".contains(c))
            && !s.is_empty()
        {
            s.to_string()
        } else {
            format!("'{}'", s.replace('\'', r"'\''"))
        }
    };
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

/// A regex that matches the reasons a normalized reason stands for: the
/// masked parts (`*`) match anything, the rest literally.
fn reason_regex(normalized: &str) -> String {
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
fn age_spec(secs: i64) -> String {
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
fn parse_age(text: &str) -> Option<i64> {
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

/// The flags of the path, as `SelectArgs` (for the verbs) and as text.
fn path_args(base: &SelectArgs, path: &[Step]) -> (SelectArgs, Vec<String>) {
    let mut args = base.clone();
    let mut flags = Vec::new();
    for step in path {
        flags.push(step_flag(step));
        match step {
            Step::OlderThan(secs) => args.where_expr.push(format!("age > {}", age_spec(*secs))),
            Step::Key(dim, key) => {
                let value = String::from_utf8_lossy(key).into_owned();
                match dim {
                    Dimension::Sender | Dimension::SenderDomain if value.is_empty() => {
                        args.null_sender = true
                    }
                    Dimension::SaslUser if value.is_empty() => {
                        args.where_expr.push("sasl_user = \"\"".into())
                    }
                    Dimension::Client | Dimension::ClientNet if value.is_empty() => {
                        args.where_expr.push("client_name = \"\"".into())
                    }
                    Dimension::Queue => args.queue.push(value),
                    Dimension::SaslUser => args.sasl_user.push(exact_value(&value)),
                    Dimension::Sender => args.sender.push(exact_value(&value)),
                    Dimension::SenderDomain => args.sender_domain.push(exact_value(&value)),
                    Dimension::Client | Dimension::ClientNet => args.client.push(value),
                    Dimension::RecipientDomain => args.recipient_domain.push(exact_value(&value)),
                    Dimension::DsnStatus => args.dsn_status.push(exact_value(&value)),
                    Dimension::Reason => args.reason.push(reason_regex(&value)),
                }
            }
        }
    }
    (args, flags)
}

/// A flag value that selects exactly `value` and nothing else: as it is
/// when it holds only characters the selection language takes literally,
/// else an anchored regex with every metacharacter escaped. Queue data is
/// the sender's to choose: a literal sender `*@bigcorp.example` written as
/// is would be a glob and select everyone at bigcorp. Domains and DSN
/// codes shown by triage are already lower case, so case-sensitive
/// anchoring selects what was shown. (Client values are addresses or
/// networks, which `--client` validates, so they go as they are.)
fn exact_value(value: &str) -> String {
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

fn regex_escape(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if "\\.+*?()|[]{}^$/".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The messages of `snap` on `path`.
fn members(snap: &Snapshot, path: &[Step]) -> Vec<u32> {
    // Each key's number in this snapshot; a key it does not have selects
    // nothing.
    let resolved: Vec<Option<u32>> = path
        .iter()
        .map(|step| match step {
            Step::Key(_, key) => snap.strings.index.get(key).copied(),
            Step::OlderThan(_) => None,
        })
        .collect();
    (0..snap.facts.len() as u32)
        .filter(|&i| {
            let f = &snap.facts[i as usize];
            path.iter().zip(&resolved).all(|(step, number)| match step {
                Step::Key(dim, _) => number.is_some_and(|n| snap.keys_of(f, *dim).any(|k| k == n)),
                Step::OlderThan(secs) => snap.now - f.arrival > *secs,
            })
        })
        .collect()
}

fn dimension_label(dim: Dimension) -> &'static str {
    match dim {
        Dimension::Queue => "queues",
        Dimension::SaslUser => "SASL users",
        Dimension::Sender => "senders",
        Dimension::SenderDomain => "sender domains",
        Dimension::Client => "clients",
        Dimension::ClientNet => "client networks",
        Dimension::RecipientDomain => "recipient domains",
        Dimension::Reason => "delay reasons",
        Dimension::DsnStatus => "DSN status",
    }
}

/// The overview of the current group, on stderr.
fn render_overview(snap: &Snapshot, set: &[u32], command: &str) -> String {
    let mut text = String::new();
    let bytes: u64 = set.iter().map(|&i| snap.facts[i as usize].size).sum();
    let oldest = set.iter().map(|&i| snap.facts[i as usize].arrival).min();
    let newest = set.iter().map(|&i| snap.facts[i as usize].arrival).max();
    text.push_str(&format!("\n== {}\n", for_terminal_str(command)));
    text.push_str(&format!(
        "{} messages, {} bytes",
        set.len(),
        human_size(bytes)
    ));
    if let (Some(o), Some(n)) = (oldest, newest) {
        text.push_str(&format!(
            ", oldest {} ago, newest {} ago",
            human_age(snap.now - o),
            human_age(snap.now - n)
        ));
    }
    text.push('\n');
    for dim in [
        Dimension::Queue,
        Dimension::SaslUser,
        Dimension::Sender,
        Dimension::ClientNet,
        Dimension::RecipientDomain,
        Dimension::Reason,
    ] {
        let rows = tally(snap, set, dim);
        let shown: Vec<String> = rows
            .iter()
            .take(3)
            .map(|(k, n, _, _)| {
                format!(
                    "{} ({n})",
                    shorten(&shown_key(dim, snap.strings.get(*k)), 48)
                )
            })
            .collect();
        let more = if rows.len() > 3 {
            format!(", {} more", rows.len() - 3)
        } else {
            String::new()
        };
        text.push_str(&format!(
            "  {:<17} {}{more}\n",
            format!("{}:", dimension_label(dim)),
            shown.join(", ")
        ));
    }
    text
}

/// Shows one message's envelope and headers as `show -eh` would.
fn show_message(target: &Target, snap: &Snapshot, index: u32) {
    let f = &snap.facts[index as usize];
    let id = String::from_utf8_lossy(snap.ids.get(f.id)).into_owned();
    let layout = &target.instance.layout;
    // As `show -q` reads it: found, opened and read through one descriptor
    // (queue_scan::open), never a planted symlink or FIFO, bounded by the
    // instance's queue-file limit.
    let found = match queue_scan::open::find_queue_file_or_refusal(layout, &id) {
        Ok(Some(found)) => found,
        Ok(None) => {
            eprintln!("{id}: no longer in the queue");
            return;
        }
        Err(e) => {
            eprintln!("{id}: {}", crate::sanitize::for_stderr(&e.to_string()));
            return;
        }
    };
    let bytes = match found.read(layout, target.instance.queue_file_limit) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("{id}: {}", crate::sanitize::for_stderr(&e.to_string()));
            return;
        }
    };
    let relative = found.relative;
    let mut out = Vec::new();
    let flags = printer::postcat::PostcatFlags {
        envelope: true,
        header: true,
        ..Default::default()
    };
    let path = relative.to_string_lossy().into_owned();
    let _ = printer::postcat::postcat(&mut out, path.as_bytes(), &bytes, flags, &mut |w| {
        eprintln!("warning: {w}")
    });
    // Escape the bytes (invalid UTF-8 as \xNN), then cut to a screenful.
    let escaped = crate::sanitize::for_terminal(&out);
    let text = String::from_utf8_lossy(&escaped);
    let lines: Vec<&str> = text.lines().collect();
    for line in lines.iter().take(80) {
        eprintln!("{line}");
    }
    if lines.len() > 80 {
        eprintln!("… {} more lines (qsurgeon show -q {id})", lines.len() - 80);
    }
}

/// Runs `triage`.
pub fn run(target: &Target, args: &TriageArgs) -> Result<ExitCode> {
    use std::io::IsTerminal;
    anyhow::ensure!(
        std::io::stdin().is_terminal() && std::io::stderr().is_terminal(),
        "triage is interactive: run it on a terminal (use summary and list in scripts)"
    );
    let mut snap = scan(target, args)?;
    eprintln!(
        "qsurgeon: triage holds {} messages in about {} of memory",
        snap.facts.len(),
        human_size(snap.memory() as u64)
    );
    let mut path: Vec<Step> = Vec::new();
    let theme = dialoguer::theme::SimpleTheme;
    loop {
        let set = members(&snap, &path);
        let (_, flags) = path_args(&args.select, &path);
        let command = command_line(&args.select, &flags);
        eprint!("{}", render_overview(&snap, &set, &command));
        let mut items: Vec<String> = Vec::new();
        let dims = [
            Dimension::SaslUser,
            Dimension::Sender,
            Dimension::SenderDomain,
            Dimension::Client,
            Dimension::ClientNet,
            Dimension::RecipientDomain,
            Dimension::Reason,
            Dimension::DsnStatus,
            Dimension::Queue,
        ];
        for dim in dims {
            items.push(format!("Narrow by {}", dimension_label(dim)));
        }
        items.push("Narrow by age (older than…)".into());
        items.push("Look at messages".into());
        items.push("Act on these messages (hold, release, requeue, delete, expire)".into());
        items.push("Back one step".into());
        items.push("Quit".into());
        let choice = Select::with_theme(&theme)
            .with_prompt(format!("{} messages selected — what next?", set.len()))
            .items(&items)
            .default(0)
            .interact_opt()
            .context("read the menu choice")?;
        let Some(choice) = choice else { break };
        match choice {
            c if c < dims.len() => {
                let dim = dims[c];
                let rows = tally(&snap, &set, dim);
                if rows.is_empty() {
                    eprintln!("no {} in this group", dimension_label(dim));
                    continue;
                }
                let labels: Vec<String> = rows
                    .iter()
                    .map(|(k, n, b, o)| {
                        format!(
                            "{:<40} {n:>7} msgs {:>7}  oldest {}",
                            shorten(&shown_key(dim, snap.strings.get(*k)), 60),
                            human_size(*b),
                            human_age(snap.now - o)
                        )
                    })
                    .collect();
                let picked = FuzzySelect::with_theme(&theme)
                    .with_prompt(format!(
                        "Which of {} {}? (type to search)",
                        rows.len(),
                        dimension_label(dim)
                    ))
                    .items(&labels)
                    .default(0)
                    .interact_opt()
                    .context("read the choice")?;
                if let Some(i) = picked {
                    path.push(Step::Key(dim, snap.strings.get(rows[i].0).into()));
                }
            }
            c if c == dims.len() => {
                let answer: String = Input::with_theme(&theme)
                    .with_prompt("Older than (e.g. 30m, 2h, 3d)")
                    .interact_text()
                    .context("read the age")?;
                match parse_age(&answer) {
                    Some(secs) => path.push(Step::OlderThan(secs)),
                    None => eprintln!("not an age: {answer:?} (use s, m, h, d or w)"),
                }
            }
            c if c == dims.len() + 1 => look_at_messages(target, &snap, &set, &theme)?,
            c if c == dims.len() + 2 => {
                if set.is_empty() {
                    eprintln!("nothing to act on");
                    continue;
                }
                let verbs = ["hold", "release", "requeue", "delete", "expire", "nothing"];
                let v = Select::with_theme(&theme)
                    .with_prompt(format!("Do what with these {} messages?", set.len()))
                    .items(&verbs)
                    .default(verbs.len() - 1)
                    .interact_opt()
                    .context("read the verb")?;
                let verb = match v {
                    Some(0) => Verb::Hold,
                    Some(1) => Verb::Release,
                    Some(2) => Verb::Requeue,
                    Some(3) => Verb::Delete,
                    Some(4) => Verb::Expire,
                    _ => continue,
                };
                if target.postfix.is_none() {
                    eprintln!("acting needs the instance's configuration: start triage with -c CONFIG_DIR");
                    continue;
                }
                // Act on exactly the messages shown (still matching the session's own
                // flags), through the library executor: no flags are rebuilt and re-lexed.
                let ids: std::collections::HashSet<Box<str>> = set
                    .iter()
                    .map(|&i| {
                        String::from_utf8_lossy(snap.ids.get(snap.facts[i as usize].id)).into()
                    })
                    .collect();
                let (_, flags) = path_args(&args.select, &path);
                let base = selection::build(&args.select)?;
                let settings = crate::act::Settings {
                    yes: false,
                    dry_run: false,
                    max: None,
                    batch_size: 5000,
                    rate: None,
                    quiet: false,
                    journal: Some(args.journal.clone()),
                    record: act::SelectionRecord {
                        flags: vec![format!("triage: {}", command_line(&args.select, &flags))],
                        expression: format!("{base} (and {} queue IDs shown by triage)", ids.len()),
                    },
                    no_selection: false,
                    backup: None,
                };
                let queues = if args.select.queue.is_empty() {
                    verb.default_queues().to_vec()
                } else {
                    selection::queues(&args.select)?
                };
                match crate::act::run_selection(target, verb, &settings, &base, &queues, Some(&ids))
                {
                    Ok(_) => {}
                    Err(e) => eprintln!("qsurgeon: error: {e:#}"),
                }
                eprintln!("rescanning…");
                snap = scan(target, args)?;
            }
            c if c == dims.len() + 3 => {
                path.pop();
            }
            _ => break,
        }
    }
    let (_, flags) = path_args(&args.select, &path);
    // The command line carries queue data (a SASL login, a sender):
    // escaped on a terminal like everything else.
    let line = command_line(&args.select, &flags);
    let mut stdout = std::io::stdout().lock();
    if stdout.is_terminal() {
        writeln!(stdout, "{}", for_terminal_str(&line))?;
    } else {
        writeln!(stdout, "{line}")?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `qsurgeon list` with the session's starting flags and the path.
fn command_line(base: &SelectArgs, path_flags: &[String]) -> String {
    let mut parts = vec!["qsurgeon list".to_string()];
    for (name, value) in base.valued_flags() {
        parts.push(format!("{name} '{}'", value.replace('\'', r"'\''")));
    }
    parts.extend(path_flags.iter().cloned());
    parts.join(" ")
}

fn look_at_messages(
    target: &Target,
    snap: &Snapshot,
    set: &[u32],
    theme: &dyn dialoguer::theme::Theme,
) -> Result<()> {
    let mut sample: Vec<u32> = set.to_vec();
    sample.sort_by_key(|&i| snap.facts[i as usize].arrival);
    sample.truncate(50);
    if sample.is_empty() {
        eprintln!("no messages in this group");
        return Ok(());
    }
    loop {
        let labels: Vec<String> = sample
            .iter()
            .map(|&i| {
                let f = &snap.facts[i as usize];
                format!(
                    "{:<17} {:>7} {:>5} ago  from {}",
                    String::from_utf8_lossy(snap.ids.get(f.id)),
                    human_size(f.size),
                    human_age(snap.now - f.arrival),
                    shown_key(Dimension::Sender, snap.strings.get(f.keys[2]))
                )
            })
            .collect();
        let picked = Select::with_theme(theme)
            .with_prompt(format!(
                "Oldest {} of {} messages (Esc to go back)",
                sample.len(),
                set.len()
            ))
            .items(&labels)
            .default(0)
            .interact_opt()
            .context("read the message choice")?;
        match picked {
            Some(i) => show_message(target, snap, sample[i]),
            None => return Ok(()),
        }
    }
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

    #[test]
    fn reason_regexes_match_what_was_normalized() {
        let reason = b"connect to 203.0.113.5[203.0.113.5]:25: Connection refused";
        let normalized = String::from_utf8(query::dimension::normalize_reason(reason)).unwrap();
        let re = regex::Regex::new(&reason_regex(&normalized)).unwrap();
        assert!(re.is_match(std::str::from_utf8(reason).unwrap()));
        assert!(!re.is_match("connect to x: Connection timed out"));
    }

    #[test]
    fn merging_renumbers_keys() {
        let mut a = Partial::default();
        let k = a.snapshot.strings.intern(b"mallory");
        let id = a.snapshot.ids.intern(b"ABC");
        a.snapshot.facts.push(Facts {
            id,
            arrival: 1,
            size: 2,
            keys: [k; 6],
            multi_start: 0,
            multi_len: 0,
        });
        let mut b = Partial::default();
        b.snapshot.strings.intern(b"other");
        let k = b.snapshot.strings.intern(b"mallory");
        let id = b.snapshot.ids.intern(b"DEF");
        b.snapshot.facts.push(Facts {
            id,
            arrival: 1,
            size: 2,
            keys: [k; 6],
            multi_start: 0,
            multi_len: 0,
        });
        let all = merge(vec![a.snapshot, b.snapshot], 10);
        assert_eq!(all.facts.len(), 2);
        assert_eq!(all.facts[0].keys[1], all.facts[1].keys[1]);
        assert_eq!(all.strings.get(all.facts[1].keys[1]), b"mallory");
        assert_eq!(all.ids.get(all.facts[1].id), b"DEF");
    }
}
