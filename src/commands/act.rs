//! The verbs that change the queue (hold, release, requeue, delete, expire, flush) as a
//! command: build the plan through the `act` crate, show the preview, ask, run the executor
//! with a Ctrl-C handler, print one line per queue ID, and pick the exit status.
//!
//! The policy lives in the crate (re-check, batches, backup, what postsuper reported, the
//! journal's safety checks); the order of the safety rails lives here: an empty selection
//! is refused unless `--all`; off a terminal nothing happens without `--yes`; nothing
//! selected is exit 1; `--max` refuses large selections (exit 3); `--dry-run` changes
//! nothing; every refusal is journaled.

use std::collections::HashSet;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use ::act::backup::Backup;
use ::act::journal::Refusal;
use ::act::{Executor, Journal, Plan, RunInfo, SelectionRecord, Sink};
use anyhow::{bail, Context, Result};
use query::Query;
use queue_scan::{ReadPlan, ScanProgress};

use crate::cli::{ActArgs, SelectArgs};
use crate::config::Target;
use crate::exit::ExitStatus;
use crate::ui::progress;
use crate::ui::sanitize::for_terminal_str;
use crate::{selection, ui};
pub use ::act::Verb;

/// How one run goes: the flags of `ActArgs`, or what triage asks for.
pub struct Settings {
    /// Act without asking.
    pub yes: bool,
    /// Print what would be run.
    pub dry_run: bool,
    /// Refuse more than this many messages.
    pub max: Option<u64>,
    /// Queue IDs per postsuper process.
    pub batch_size: usize,
    /// Messages per second (release, requeue, flush).
    pub rate: Option<f64>,
    /// Only errors and the summary.
    pub quiet: bool,
    /// The journal; `None` with `--no-journal`.
    pub journal: Option<PathBuf>,
    /// The selection as typed, for the journal.
    pub record: SelectionRecord,
    /// No selection flag and no `--all`: refused.
    pub no_selection: bool,
    /// `delete --backup DIR`.
    pub backup: Option<PathBuf>,
}

/// Runs one verb from the command line.
pub fn run(
    target: &Target,
    verb: Verb,
    args: &ActArgs,
    backup: Option<&PathBuf>,
) -> Result<ExitStatus> {
    let query = selection::query_in(
        target,
        &args.select,
        verb.default_queues(),
        ReadPlan::default(),
        args.quiet,
    )?;
    let settings = Settings {
        yes: args.yes,
        dry_run: args.dry_run,
        max: args.max,
        batch_size: args.batch_size,
        rate: args.rate,
        quiet: args.quiet,
        journal: (!args.no_journal).then(|| args.journal.clone()),
        record: SelectionRecord {
            flags: typed_flags(&args.select, args.all),
            expression: query.selection.to_string(),
        },
        no_selection: args.select.is_empty() && !args.all,
        backup: backup.cloned(),
    };
    run_selection(target, verb, &settings, &query, None)
}

/// Selects (only among `ids` when given: triage acts on what it showed), previews, asks
/// and acts.
pub fn run_selection(
    target: &Target,
    verb: Verb,
    settings: &Settings,
    query: &Query,
    ids: Option<&HashSet<Box<str>>>,
) -> Result<ExitStatus> {
    let layout = &target.instance.layout;
    let postfix = target
        .postfix
        .as_ref()
        .context("acting needs the instance's configuration")?;
    let mut executor = Executor::new(postfix, layout.clone());
    executor.batch_size = settings.batch_size;
    executor.rate = settings.rate;
    executor.check(verb)?;
    // The journal is checked before anything else happens, so that a refusal is journaled.
    let info = RunInfo {
        verb,
        queue_dir: layout.queue_dir().to_path_buf(),
        config_dir: postfix.config_dir().map(Path::to_path_buf),
        command_line: std::env::args().collect(),
    };
    let mut journal = match &settings.journal {
        Some(path) if !settings.dry_run => {
            make_journal_dir(path)?;
            Some(Journal::open(path, &info)?)
        }
        _ => None,
    };
    let mut refuse = |refusal: Refusal, plan: Option<&Plan>| -> Result<()> {
        match &mut journal {
            Some(j) => j
                .refused(refusal, plan, &settings.record)
                .map_err(Into::into),
            None => Ok(()),
        }
    };
    if settings.no_selection {
        refuse(Refusal::NoSelection, None)?;
        bail!("{} needs a selection (e.g. --sasl-user NAME); use --all to act on every message in the scanned queues", verb.name());
    }
    let on_terminal = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if !settings.yes && !settings.dry_run && !on_terminal {
        refuse(Refusal::NotATerminal, None)?;
        bail!("not on a terminal: add --yes to {} without asking (or --dry-run to see what would happen)", verb.name());
    }

    let (plan, now) = scan_plan(target, verb, settings, query, ids)?;
    if plan.is_empty() {
        refuse(Refusal::NothingSelected, Some(&plan))?;
        if !settings.quiet {
            eprintln!("qsurgeon: nothing selected; nothing done");
        }
        return Ok(ExitStatus::NoMatch);
    }
    if let Some(max) = settings.max.filter(|max| plan.len() as u64 > *max) {
        refuse(Refusal::OverMax { max }, Some(&plan))?;
        eprintln!(
            "qsurgeon: refused: {} messages selected, more than --max {max}; nothing done",
            plan.len()
        );
        return Ok(ExitStatus::Refused);
    }
    if !settings.quiet || !settings.yes {
        if let Some(name) = &target.label {
            eprintln!("qsurgeon: instance {name}:");
        }
        eprint!("{}", ui::preview::render(&plan, now));
    }
    if settings.dry_run {
        ui::preview::print_dry_run(&plan, postfix.config_dir());
        return Ok(ExitStatus::Success);
    }
    if !settings.yes {
        let confirmed = ui::preview::confirm(verb, plan.len());
        if !confirmed {
            refuse(Refusal::NotConfirmed, Some(&plan))?;
            eprintln!("qsurgeon: not confirmed; nothing done");
            return Ok(ExitStatus::Error);
        }
    }

    execute(target, executor, journal, &plan, settings)
}

/// Every selection flag as typed, the flags without a value included (so that
/// `--nonexistent-local-sender` is not journaled as an empty selection).
pub(crate) fn typed_flags(select: &SelectArgs, all: bool) -> Vec<String> {
    let mut flags: Vec<String> = select
        .valued_flags()
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    if let Some(path) = &select.ids_from {
        flags.push(format!("--ids-from {}", path.display()));
    }
    let bools = [
        (select.forced_expired, "--forced-expired"),
        (select.null_sender, "--null-sender"),
        (
            select.nonexistent_local_sender,
            "--nonexistent-local-sender",
        ),
        (select.all_recipients, "--all-recipients"),
        (select.include_done, "--include-done"),
        (all, "--all"),
    ];
    flags.extend(
        bools
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, name)| name.to_string()),
    );
    flags
}

/// The scan, through the library's plan builder, with progress and the closing stats line.
fn scan_plan(
    target: &Target,
    verb: Verb,
    settings: &Settings,
    query: &Query,
    ids: Option<&HashSet<Box<str>>>,
) -> Result<(Plan, i64)> {
    let layout = &target.instance.layout;
    let options = query.scan_options();
    let now = query.ctx.now;
    let filter = |msg: &queue_scan::Message<'_>| {
        ids.map_or(true, |ids| ids.contains(msg.id))
            && query.selection.matches(&query.view(msg), &query.ctx)
    };
    let scan_progress = ScanProgress::default();
    let (builder, stats, elapsed) = progress::with_progress(&scan_progress, || {
        ::act::plan::scan(layout, &options, &scan_progress, now, filter)
    });
    let plan = builder.finish(verb);
    for id in query.absent_ids(layout) {
        eprintln!("qsurgeon: {}: not in the queue", for_terminal_str(id));
    }
    for u in &plan.unreadable {
        let line = format!("qsurgeon: error: {}: {}", u.path.display(), u.error);
        eprintln!("{}", for_terminal_str(&line));
    }
    if !settings.quiet {
        eprintln!(
            "{}",
            progress::stats_line(&stats, plan.len() as u64, elapsed)
        );
    }
    if stats.unreadable > 0 && !settings.dry_run {
        eprintln!(
            "qsurgeon: warning: {} files could not be read; they are not part of the selection",
            stats.unreadable
        );
    }
    Ok((plan, now))
}

/// Creates the journal's directory (mode 0700) when it is missing and its own parent exists,
/// as for the default `/var/log/qsurgeon/journal` on a machine where qsurgeon was not
/// installed by its package (whose postinst makes the directory). Only that one level:
/// a mistyped path deeper down stays an error. The journal's own checks then apply.
pub(crate) fn make_journal_dir(journal: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    let Some(dir) = journal.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return Ok(());
    };
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()), // Journal::open names it
        Err(e) => {
            Err(e).with_context(|| format!("create the journal's directory {}", dir.display()))
        }
    }
}

/// The run itself: journal start, backup directory, executor with the terminal, journal and
/// syslog sinks, summary and exit status.
fn execute(
    target: &Target,
    mut executor: Executor,
    mut journal: Option<Journal>,
    plan: &Plan,
    settings: &Settings,
) -> Result<ExitStatus> {
    if let Some(j) = &mut journal {
        j.start(plan, &settings.record)?;
    }
    if let Some(dir) = &settings.backup {
        match Backup::open(dir, &target.instance.layout) {
            Ok(mut b) => {
                b.set_queue_file_limit(target.instance.queue_file_limit);
                executor.backup = Some(b);
            }
            Err(e) => {
                if let Some(j) = &mut journal {
                    j.end_with_error(&format!("{e:#}"))?;
                }
                return Err(e.into());
            }
        }
    }
    executor.stop = ui::report::stop_flag();
    let mut terminal = ui::report::Terminal {
        label: target.label.as_deref(),
        quiet: settings.quiet,
        out: std::io::stdout().lock(),
    };
    let mut syslog = ::act::Syslog::default();
    let mut sinks: Vec<&mut dyn Sink> = vec![&mut syslog, &mut terminal];
    if let Some(j) = &mut journal {
        sinks.insert(0, j);
    }
    let outcome = executor.run(plan, &mut ::act::Tee(sinks));
    eprintln!("qsurgeon: {}", outcome.summary());
    if let Some(error) = &outcome.error {
        eprintln!("qsurgeon: error: {}", for_terminal_str(error));
    }
    Ok(if outcome.interrupted {
        ExitStatus::Interrupted
    } else if outcome.clean() {
        ExitStatus::Success
    } else {
        ExitStatus::Error
    })
}

#[cfg(test)]
mod tests {
    use super::make_journal_dir;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_journal_directory_is_made_root_only_one_level_deep() {
        let tmp = tempfile::tempdir().unwrap();
        let journal = tmp.path().join("qsurgeon").join("journal");
        make_journal_dir(&journal).unwrap();
        let mode = std::fs::metadata(tmp.path().join("qsurgeon"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o7777, 0o700);
        // Again: the existing directory is left as it is.
        make_journal_dir(&journal).unwrap();
        // Two levels missing: nothing is made (the journal then names the missing directory).
        let deep = tmp.path().join("a").join("b").join("journal");
        make_journal_dir(&deep).unwrap();
        assert!(!tmp.path().join("a").exists());
    }
}
