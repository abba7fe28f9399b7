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

mod app;
mod draw;
mod filter;
mod flags;
mod screen;
mod view;

use std::collections::HashSet;
use std::io::Write;

use anyhow::{Context, Result};
use dialoguer::{FuzzySelect, Input, Select};
use query::snapshot::{Snapshot, Step};
use query::Dimension;
use queue_scan::{ReadPlan, ScanProgress};

use crate::cli::TriageArgs;
use crate::commands::act::Verb;
use crate::config::Target;
use crate::exit::ExitStatus;
use crate::selection;
use crate::ui::fmt::{human_age, human_size};
use crate::ui::progress;
use crate::ui::sanitize::for_terminal_str;

use flags::{command_line, parse_age, path_flags};
use view::{dimension_label, look_at_messages, render_overview, shorten, shown_key};

/// The narrowing menu's dimensions, in menu order.
const DIMS: [Dimension; 9] = [
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

/// One scan into memory; the files it could not read are named.
fn scan(target: &Target, args: &TriageArgs) -> Result<Snapshot> {
    let output_needs = ReadPlan {
        headers: false,
        defer_log: true,
    };
    let query = selection::query(target, &args.select, output_needs, false)?;
    let progress = ScanProgress::default();
    let (snapshot, stats, elapsed) = progress::with_progress(&progress, || {
        Snapshot::scan(&query, &target.instance.layout, &progress)
    });
    for error in &snapshot.errors {
        eprintln!("qsurgeon: error: {}", for_terminal_str(&error.to_string()));
    }
    if snapshot.error_count > snapshot.errors.len() as u64 {
        eprintln!(
            "qsurgeon: … and {} more files that could not be read",
            snapshot.error_count - snapshot.errors.len() as u64
        );
    }
    eprintln!(
        "{}",
        progress::stats_line(&stats, snapshot.len() as u64, elapsed)
    );
    Ok(snapshot)
}

/// Runs `triage`: full screen on a terminal that can take it, else the
/// prompts.
pub fn run(target: &Target, args: &TriageArgs) -> Result<ExitStatus> {
    if screen::available() {
        screen::run(target, args)?;
        return Ok(ExitStatus::Success);
    }
    run_prompts(target, args)
}

/// The prompt flow (dialoguer): for terminals the full screen cannot use
/// (`TERM=dumb`, or stdout not a terminal).
fn run_prompts(target: &Target, args: &TriageArgs) -> Result<ExitStatus> {
    use std::io::IsTerminal;
    anyhow::ensure!(
        std::io::stdin().is_terminal() && std::io::stderr().is_terminal(),
        "triage is interactive: run it on a terminal (use summary and list in scripts)"
    );
    let mut snap = scan(target, args)?;
    eprintln!(
        "qsurgeon: triage's snapshot holds {} messages in {}{}",
        snap.len(),
        human_size(snap.memory() as u64),
        app::ProcessMemory::read(0).map_or_else(String::new, |p| format!(
            " (the process: {} resident, peak {})",
            human_size(p.rss),
            human_size(p.peak)
        ))
    );
    let mut path: Vec<Step> = Vec::new();
    let theme = dialoguer::theme::SimpleTheme;
    loop {
        let set = snap.members(&path);
        let command = command_line(&args.select, &path_flags(&path));
        eprint!("{}", render_overview(&snap, &set, &command));
        let mut items: Vec<String> = DIMS
            .iter()
            .map(|dim| format!("Narrow by {}", dimension_label(*dim)))
            .collect();
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
            c if c < DIMS.len() => {
                if let Some(step) = narrow(&snap, &set, DIMS[c], &theme)? {
                    path.push(step);
                }
            }
            c if c == DIMS.len() => {
                let answer: String = Input::with_theme(&theme)
                    .with_prompt("Older than (e.g. 30m, 2h, 3d)")
                    .interact_text()
                    .context("read the age")?;
                match parse_age(&answer) {
                    Some(secs) => path.push(Step::OlderThan(secs)),
                    None => eprintln!("not an age: {answer:?} (use s, m, h, d or w)"),
                }
            }
            c if c == DIMS.len() + 1 => look_at_messages(target, &snap, &set, &theme)?,
            c if c == DIMS.len() + 2 => {
                if act_on_group(target, args, &snap, &set, &path, &theme)? {
                    eprintln!("rescanning…");
                    snap = scan(target, args)?;
                }
            }
            c if c == DIMS.len() + 3 => {
                path.pop();
            }
            _ => break,
        }
    }
    // The command line carries queue data (a SASL login, a sender):
    // escaped on a terminal like everything else.
    let line = command_line(&args.select, &path_flags(&path));
    let mut stdout = std::io::stdout().lock();
    if stdout.is_terminal() {
        writeln!(stdout, "{}", for_terminal_str(&line))?;
    } else {
        writeln!(stdout, "{line}")?;
    }
    Ok(ExitStatus::Success)
}

/// Lets the user pick one key of `dim` in the group (fuzzy search over the
/// rows); the step that narrows to it.
fn narrow(
    snap: &Snapshot,
    set: &[u32],
    dim: Dimension,
    theme: &dyn dialoguer::theme::Theme,
) -> Result<Option<Step>> {
    let rows = snap.tally(set, dim);
    if rows.is_empty() {
        eprintln!("no {} in this group", dimension_label(dim));
        return Ok(None);
    }
    let labels: Vec<String> = rows
        .iter()
        .map(|row| {
            format!(
                "{:<40} {:>7} msgs {:>7}  oldest {}",
                shorten(&shown_key(dim, snap.key(row.key)), 60),
                row.messages,
                human_size(row.bytes),
                human_age(snap.now - row.oldest)
            )
        })
        .collect();
    let picked = FuzzySelect::with_theme(theme)
        .with_prompt(format!(
            "Which of {} {}? (type to search)",
            rows.len(),
            dimension_label(dim)
        ))
        .items(&labels)
        .default(0)
        .interact_opt()
        .context("read the choice")?;
    Ok(picked.map(|i| Step::Key(dim, snap.key(rows[i].key).into())))
}

/// Asks which verb, then acts on exactly the messages shown (still matching
/// the session's own flags) through the library executor: no flags are
/// rebuilt and lexed again. True when something was run (and the queue
/// should be scanned again).
fn act_on_group(
    target: &Target,
    args: &TriageArgs,
    snap: &Snapshot,
    set: &[u32],
    path: &[Step],
    theme: &dyn dialoguer::theme::Theme,
) -> Result<bool> {
    if set.is_empty() {
        eprintln!("nothing to act on");
        return Ok(false);
    }
    let verbs = ["hold", "release", "requeue", "delete", "expire", "nothing"];
    let v = Select::with_theme(theme)
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
        _ => return Ok(false),
    };
    let ids: HashSet<Box<str>> = set
        .iter()
        .map(|&i| String::from_utf8_lossy(snap.id(i)).into())
        .collect();
    if let Err(e) = act_on_ids(target, args, verb, &ids, path, None) {
        eprintln!("qsurgeon: error: {e:#}");
    }
    Ok(true)
}

/// Runs `verb` on exactly these queue IDs (still matching the session's own
/// flags) through the library executor, with the verbs' preview,
/// confirmation, per-ID outcome and journal: no flags are rebuilt and lexed
/// again.
fn act_on_ids(
    target: &Target,
    args: &TriageArgs,
    verb: Verb,
    ids: &HashSet<Box<str>>,
    path: &[Step],
    backup: Option<std::path::PathBuf>,
) -> Result<()> {
    if target.postfix.is_none() {
        anyhow::bail!("acting needs the instance's configuration: start triage with -c CONFIG_DIR");
    }
    let query = selection::query_in(
        target,
        &args.select,
        verb.default_queues(),
        ReadPlan::default(),
        true,
    )?;
    let base = &query.selection;
    let settings = crate::commands::act::Settings {
        yes: false,
        dry_run: false,
        max: None,
        batch_size: 5000,
        rate: None,
        quiet: false,
        journal: Some(args.journal.clone()),
        record: act::SelectionRecord {
            flags: vec![format!(
                "triage: {}",
                command_line(&args.select, &path_flags(path))
            )],
            expression: format!("{base} (and {} queue IDs shown by triage)", ids.len()),
        },
        no_selection: false,
        backup,
    };
    crate::commands::act::run_selection(target, verb, &settings, &query, Some(ids))?;
    Ok(())
}
