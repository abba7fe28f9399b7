//! `watch`: a standing rule. Every `--every` it lists the queues, reads only the files it has
//! not evaluated yet (a listing diff), and holds or deletes the new matches through the
//! `act` crate with the verbs' safety: the re-check before each batch, `--max` per round,
//! `--backup`, one outcome line per queue ID, one journal run per round that acted.
//!
//! The listing diff: the set of files already evaluated is kept as inode -> queue ID (a
//! short ID is built from the inode and reused with it, so the pair, not the ID alone,
//! names one message; Postfix's src/global/mail_queue.c, mail_queue_enter()). A message
//! that qmgr moves between queues keeps its inode and name (a rename), so it is not read
//! again. Entries no longer listed are dropped after each round: memory follows the queue,
//! not the length of the watch. A file still being written (Postfix sets its owner execute
//! bit when the file is complete: src/global/mail_stream.c, mail_stream_finish_file) is not
//! marked seen and is read again next round. Each message is judged once, when first seen:
//! an age condition is not evaluated again as it grows older.
//!
//! It stops after `--for`, on Ctrl-C or on SIGTERM; the batch in flight is finished (the
//! executor stops between batches), then the summary is printed.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ::act::backup::Backup;
use ::act::journal::Refusal;
use ::act::plan::PlanBuilder;
use ::act::{Executor, Journal, Plan, RunInfo, SelectionRecord, Sink, Verb};
use anyhow::{bail, Context, Result};
use query::Query;
use queue_scan::{QueueLayout, ReadPlan};
use rayon::prelude::*;

use crate::cli::WatchArgs;
use crate::config::Target;
use crate::exit::ExitStatus;
use crate::ui::sanitize::for_terminal_str;
use crate::{selection, ui};

/// A file as the listing diff knows it: its inode and its queue ID.
type FileKey = (u64, Box<str>);

/// How often the wait between rounds looks at the stop flag.
const TICK: Duration = Duration::from_millis(100);

/// Why the watch ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stop {
    /// `--for` elapsed.
    Elapsed,
    /// SIGTERM (systemd's stop, `timeout`): a normal end.
    Terminated,
    /// Ctrl-C (SIGINT).
    Interrupted,
    /// A round selected more than `--max`.
    Refused,
    /// A round could not run (the journal or the backup directory refused).
    Failed,
}

/// What the watch did, for the closing summary.
#[derive(Debug, Default)]
struct Totals {
    rounds: u64,
    acting_rounds: u64,
    selected: u64,
    done: u64,
    gone: u64,
    reused: u64,
    failed: u64,
    not_backed_up: u64,
    unconfirmed: u64,
    not_started: u64,
    errors: u64,
    /// The first round's listing and reading (every file is new to it).
    first_scan: Duration,
    /// The slowest listing and reading of the later rounds (only new files read).
    later_scan: Duration,
    /// Files read in all.
    files_read: u64,
}

impl Totals {
    fn add(&mut self, outcome: &::act::Outcome) {
        self.acting_rounds += 1;
        self.selected += outcome.selected;
        self.done += outcome.done;
        self.gone += outcome.gone;
        self.reused += outcome.reused;
        self.failed += outcome.failed;
        self.not_backed_up += outcome.not_backed_up;
        self.unconfirmed += outcome.unconfirmed;
        self.not_started += outcome.not_started;
        if !outcome.clean() {
            self.errors += 1;
        }
    }

    fn summary(&self, verb: Verb, elapsed: Duration, stop: Stop, dry_run: bool) -> String {
        let past = match verb {
            Verb::Hold => "held",
            Verb::Delete => "deleted",
            _ => verb.name(),
        };
        let why = match stop {
            Stop::Elapsed => "--for elapsed",
            Stop::Terminated => "SIGTERM",
            Stop::Interrupted => "interrupted",
            Stop::Refused => "refused by --max",
            Stop::Failed => "error",
        };
        let mut text = format!(
            "watch: {} rounds in {}s, {} acted; {} selected, {} {past}",
            self.rounds,
            elapsed.as_secs(),
            self.acting_rounds,
            self.selected,
            self.done,
        );
        for (n, what) in [
            (self.gone, "already gone"),
            (self.reused, "skipped (ID reused)"),
            (self.failed, "failed"),
            (self.not_backed_up, "not backed up"),
            (self.unconfirmed, "unconfirmed"),
            (self.not_started, "not started"),
        ] {
            if n > 0 {
                text.push_str(&format!(", {n} {what}"));
            }
        }
        if dry_run {
            text.push_str(" (dry run: nothing changed)");
        }
        text.push_str(&format!("; stopped: {why}"));
        text
    }
}

/// Runs `watch` on one instance.
pub fn run(target: &Target, args: &WatchArgs) -> Result<ExitStatus> {
    let verb = if args.delete {
        Verb::Delete
    } else {
        Verb::Hold
    };
    if args.select.nonexistent_local_sender {
        // Its verdicts are looked up once for the senders in the queue at the start; a
        // sender first seen later would have none.
        bail!("watch cannot use --nonexistent-local-sender: its verdicts are resolved once, for the senders queued at the start; use `qsurgeon {} --nonexistent-local-sender` instead", verb.name());
    }
    let mut query = selection::query_in(
        target,
        &args.select,
        verb.default_queues(),
        ReadPlan::default(),
        args.quiet,
    )?;
    let layout = &target.instance.layout;
    let postfix = target
        .postfix
        .as_ref()
        .context("watch acts through postsuper, which needs the instance's configuration")?;
    let mut executor = Executor::new(postfix, layout.clone());
    executor.batch_size = args.batch_size;
    executor.check(verb)?;
    let record = SelectionRecord {
        flags: super::act::typed_flags(&args.select, args.all),
        expression: query.selection.to_string(),
    };
    let info = RunInfo {
        verb,
        queue_dir: layout.queue_dir().to_path_buf(),
        config_dir: postfix.config_dir().map(Path::to_path_buf),
        command_line: std::env::args().collect(),
    };
    // A dry run journals nothing, as the verbs' (it changes nothing).
    let journal_path = (!args.no_journal && !args.dry_run).then_some(args.journal.as_path());
    // Opened now so that a journal that is refused stops the watch before it starts, and
    // the refusals below are journaled.
    let open_journal = || -> Result<Option<Journal>> {
        match journal_path {
            Some(path) => {
                super::act::make_journal_dir(path)?;
                Ok(Some(Journal::open(path, &info)?))
            }
            None => Ok(None),
        }
    };
    let refuse = |refusal: Refusal, plan: Option<&Plan>| -> Result<()> {
        if let Some(mut j) = open_journal()? {
            j.refused(refusal, plan, &record)?;
        }
        Ok(())
    };
    drop(open_journal()?);
    if args.select.is_empty() && !args.all {
        refuse(Refusal::NoSelection, None)?;
        bail!("watch needs a selection (e.g. --sasl-user NAME); use --all to act on every new message");
    }
    let on_terminal = {
        use std::io::IsTerminal;
        std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
    };
    if !args.yes && !args.dry_run && !on_terminal {
        refuse(Refusal::NotATerminal, None)?;
        bail!("not on a terminal: add --yes to start the watch without asking");
    }
    if let Some(dir) = &args.backup {
        let mut backup = Backup::open(dir, layout)?;
        backup.set_queue_file_limit(target.instance.queue_file_limit);
        executor.backup = Some(backup);
    }

    // Ctrl-C sets `stop`; SIGTERM sets `stop` and `term` (a normal end under systemd).
    let stop = ui::report::stop_flag();
    let term = Arc::new(AtomicBool::new(false));
    for flag in [&stop, &term] {
        signal_hook::flag::register(signal_hook::consts::SIGTERM, Arc::clone(flag))
            .context("install the SIGTERM handler")?;
    }
    executor.stop = Arc::clone(&stop);

    let started = Instant::now();
    let mut deadline = started + args.duration;
    if !args.quiet {
        if let Some(name) = &target.label {
            eprintln!("qsurgeon: instance {name}:");
        }
        eprintln!(
            "qsurgeon: watching {} for {}, a round every {}: {} new matches of {}",
            query.queues.join(", "),
            human(args.duration),
            human(args.every),
            verb.name(),
            for_terminal_str(&record.expression),
        );
    }
    let mut seen = Seen::default();
    let mut totals = Totals::default();
    let mut confirmed = args.yes || args.dry_run;
    let stopped = loop {
        let round_start = Instant::now();
        let now = epoch_now();
        query.ctx.now = now;
        totals.rounds += 1;
        let plan = seen.round(layout, &query).finish(verb);
        let scan = round_start.elapsed();
        if totals.rounds == 1 {
            totals.first_scan = scan;
        } else {
            totals.later_scan = totals.later_scan.max(scan);
        }
        totals.files_read += seen.read as u64;
        for u in &plan.unreadable {
            let line = format!("qsurgeon: error: {}: {}", u.path.display(), u.error);
            eprintln!("{}", for_terminal_str(&line));
        }
        // Before the question, as the verbs: a round over --max is not asked about.
        if let Some(max) = args.max.filter(|max| plan.len() as u64 > *max) {
            eprintln!(
                "qsurgeon: refused: round {}: {} new messages selected, more than --max {max}; nothing done in this round, the watch stops",
                totals.rounds,
                plan.len()
            );
            if let Err(e) = refuse(Refusal::OverMax { max }, Some(&plan)) {
                eprintln!("qsurgeon: error: {}", for_terminal_str(&format!("{e:#}")));
                totals.errors += 1;
            }
            break Stop::Refused;
        }
        if !confirmed {
            // Once, at the start: what the first round holds and the rule, then one question.
            if plan.is_empty() {
                eprintln!("qsurgeon: nothing matches now");
            } else {
                eprint!("{}", ui::preview::render(&plan, now));
            }
            let question = format!(
                "{} these {} messages and every new match for {}?",
                capitalized(verb.name()),
                plan.len(),
                human(args.duration)
            );
            if !ask(&question) {
                refuse(Refusal::NotConfirmed, Some(&plan))?;
                eprintln!("qsurgeon: not confirmed; nothing done");
                return Ok(ExitStatus::Error);
            }
            confirmed = true;
            // --for counts from the answer, not from the question.
            deadline = Instant::now() + args.duration;
        }
        if !plan.is_empty() {
            let what = if args.dry_run { "would " } else { "" };
            if args.dry_run || !args.quiet {
                eprintln!(
                    "qsurgeon: round {}: {what}{} {} new messages",
                    totals.rounds,
                    verb.name(),
                    plan.len()
                );
            }
            if args.dry_run {
                ui::preview::print_dry_run(&plan, postfix.config_dir());
                totals.selected += plan.len() as u64;
            } else {
                // A journal that cannot be opened any more (a full disk) ends the watch, with
                // its summary: nothing is done unjournaled.
                let round = open_journal().and_then(|journal| {
                    act_round(target, &mut executor, journal, &plan, &record, args)
                });
                match round {
                    Ok((outcome, unsettled)) => {
                        totals.add(&outcome);
                        // Not settled: read and judged again next round, if still there.
                        seen.forget(&unsettled);
                        if outcome.interrupted {
                            break if term.load(Ordering::SeqCst) {
                                Stop::Terminated
                            } else {
                                Stop::Interrupted
                            };
                        }
                    }
                    Err(e) => {
                        eprintln!("qsurgeon: error: {}", for_terminal_str(&format!("{e:#}")));
                        totals.errors += 1;
                        break Stop::Failed;
                    }
                }
            }
        }
        if let Some(stop) = wait(round_start + args.every, deadline, &stop, &term) {
            break stop;
        }
    };
    if !args.quiet {
        eprintln!(
            "qsurgeon: watch: {} files read and evaluated; listing and reading took {} ms in the first round, at most {} ms in the later ones",
            totals.files_read,
            totals.first_scan.as_millis(),
            totals.later_scan.as_millis()
        );
    }
    eprintln!(
        "qsurgeon: {}",
        totals.summary(verb, started.elapsed(), stopped, args.dry_run)
    );
    Ok(match stopped {
        Stop::Interrupted => ExitStatus::Interrupted,
        Stop::Refused => ExitStatus::Refused,
        Stop::Failed => ExitStatus::Error,
        _ if totals.errors > 0 => ExitStatus::Error,
        _ => ExitStatus::Success,
    })
}

/// The IDs a run settled: done, or nothing left to do (gone, already expired, the ID now
/// another message's). The others (failed, not acted on, not backed up, unconfirmed, not
/// started) are looked at again next round.
#[derive(Default)]
struct Settled(std::collections::HashSet<Box<str>>);

impl Sink for Settled {
    fn event(&mut self, event: &::act::Event<'_>) -> Result<(), ::act::Error> {
        use ::act::Event;
        match event {
            Event::Done { id, .. }
            | Event::AlreadyGone { id, .. }
            | Event::AlreadyExpired { id, .. }
            | Event::Reused { id, .. } => {
                self.0.insert((*id).into());
            }
            _ => {}
        }
        Ok(())
    }
}

/// One round's run: journal `start`, the executor with the journal, syslog and terminal
/// sinks (the journal's `end` comes with the executor's last event). Returns the outcome
/// and the IDs of the plan that were not settled.
fn act_round(
    target: &Target,
    executor: &mut Executor,
    mut journal: Option<Journal>,
    plan: &Plan,
    record: &SelectionRecord,
    args: &WatchArgs,
) -> Result<(::act::Outcome, Vec<FileKey>)> {
    if let Some(j) = &mut journal {
        j.start(plan, record)?;
    }
    let mut terminal = ui::report::Terminal {
        label: target.label.as_deref(),
        quiet: args.quiet,
        out: std::io::stdout().lock(),
    };
    let mut syslog = ::act::Syslog::default();
    let mut settled = Settled::default();
    let mut sinks: Vec<&mut dyn Sink> = vec![&mut syslog, &mut terminal, &mut settled];
    if let Some(j) = &mut journal {
        sinks.insert(0, j);
    }
    let outcome = executor.run(plan, &mut ::act::Tee(sinks));
    let unsettled = plan
        .messages
        .iter()
        .filter(|m| !settled.0.contains(&m.id))
        .map(|m| (m.inode, m.id.clone()))
        .collect();
    if !args.quiet || !outcome.clean() {
        eprintln!("qsurgeon: {}", outcome.summary());
    }
    if let Some(error) = &outcome.error {
        eprintln!("qsurgeon: error: {}", for_terminal_str(error));
    }
    Ok((outcome, unsettled))
}

/// Waits until `next` (the next round) unless `deadline` comes first or a signal arrives:
/// `Some(why)` when the watch is over.
fn wait(next: Instant, deadline: Instant, stop: &AtomicBool, term: &AtomicBool) -> Option<Stop> {
    loop {
        if stop.load(Ordering::SeqCst) {
            return Some(if term.load(Ordering::SeqCst) {
                Stop::Terminated
            } else {
                Stop::Interrupted
            });
        }
        let now = Instant::now();
        if now >= deadline {
            return Some(Stop::Elapsed);
        }
        if now >= next {
            return None;
        }
        std::thread::sleep(TICK.min(next - now).min(deadline - now));
    }
}

fn epoch_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// `2h`, `90m`, `45s`: a duration as it would be typed (the largest unit that divides it).
fn human(duration: Duration) -> String {
    let secs = duration.as_secs();
    match secs {
        s if s >= 86_400 && s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s >= 3600 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s >= 60 && s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

fn ask(question: &str) -> bool {
    dialoguer::Confirm::new()
        .with_prompt(question)
        .default(false)
        .interact()
        .unwrap_or(false)
}

/// The files already evaluated: inode -> (queue ID, the round that last listed it).
#[derive(Debug, Default)]
struct Seen {
    files: HashMap<u64, (Box<str>, u64)>,
    round: u64,
    /// Files read and evaluated in the last round (the new ones; not those still being
    /// written, which are read again next round).
    read: usize,
    /// The inodes of the files forgotten once to be retried ([`Seen::forget`]).
    retried: std::collections::HashSet<u64>,
}

/// A file listed in this round that was not evaluated before.
struct New {
    queue: &'static str,
    id: Box<str>,
}

impl Seen {
    /// One round: lists `query.queues`, reads the files not seen before, adds the ones the
    /// selection accepts to the plan; forgets the files no longer listed.
    fn round(&mut self, layout: &QueueLayout, query: &Query) -> PlanBuilder {
        self.round += 1;
        let round = self.round;
        let mut new = Vec::new();
        let files = &mut self.files;
        queue_scan::list_queues(layout, &query.queues, |queue, name, inode| {
            match files.get_mut(&inode) {
                Some((id, last)) if **id == *name => *last = round,
                _ => new.push(New {
                    queue,
                    id: name.into(),
                }),
            }
        });
        // The new files are read in parallel (rayon's pool, the scan's threads): on a cold
        // cache the first round of a large queue waits on the disk, which needs many reads
        // in flight. Each worker folds its matches into its own plan share.
        let now = query.ctx.now;
        let read_one = |(mut builder, mut read): (PlanBuilder, Vec<FileKey>),
                        New { queue, id }: New| {
            let inode = queue_scan::read_one_with_limit(
                layout,
                queue,
                &id,
                query.read,
                query.file_size_limit,
                |result| match result {
                    Ok(msg) => {
                        if query.selection.matches(&query.view(msg), &query.ctx) {
                            builder.add(msg);
                        }
                        Some(msg.info.inode)
                    }
                    Err(error) => {
                        builder.error(&error);
                        // Unreadable: reported once, not every round.
                        use std::os::unix::fs::MetadataExt;
                        std::fs::symlink_metadata(layout.path(queue, &id))
                            .ok()
                            .map(|m| m.ino())
                    }
                },
            );
            // `None`: gone, or still being written: not seen, looked at again next round.
            if let Some(Some(inode)) = inode {
                read.push((inode, id));
            }
            (builder, read)
        };
        let (builder, read) = new
            .into_par_iter()
            // Shares of at least a few hundred files: each share is a plan builder to merge.
            .with_min_len(512)
            .fold(|| (PlanBuilder::new(now), Vec::new()), read_one)
            .reduce(
                || (PlanBuilder::new(now), Vec::new()),
                |(mut a, mut read_a), (b, read_b)| {
                    a.merge(b);
                    read_a.extend(read_b);
                    (a, read_a)
                },
            );
        self.read = read.len();
        self.files
            .extend(read.into_iter().map(|(inode, id)| (inode, (id, round))));
        self.files.retain(|_, (_, last)| *last == round);
        let files = &self.files;
        self.retried.retain(|inode| files.contains_key(inode));
        builder
    }

    /// Forgets `ids`: the next round reads them again (a message not acted on).
    /// Once per file: a message postsuper keeps refusing (a `--hold` of mail already held,
    /// named with `--queue hold`) is not retried, and journaled, every round.
    fn forget(&mut self, unsettled: &[FileKey]) {
        for (inode, id) in unsettled {
            let same = self.files.get(inode).is_some_and(|(seen, _)| seen == id);
            if same && self.retried.insert(*inode) {
                self.files.remove(inode);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use query::SelectionSpec;

    /// The demo queue (real Postfix files): every message read in the first round, none in
    /// the second; a new file is read in the next round, and a file gone is forgotten.
    #[test]
    fn durations_are_shown_as_typed() {
        let h = |s| human(Duration::from_secs(s));
        assert_eq!(
            [h(10), h(60), h(5400), h(7200), h(86_400), h(90)],
            ["10s", "1m", "90m", "2h", "1d", "90s"]
        );
    }

    #[test]
    fn each_round_reads_only_the_files_not_seen_before() {
        let demo = crate::demo::Demo::create().unwrap();
        let layout = demo.instance().unwrap().layout;
        let all = SelectionSpec::default();
        let query = Query::new(&all, Verb::Hold.default_queues(), ReadPlan::default()).unwrap();
        let mut seen = Seen::default();
        let first = seen.round(&layout, &query).finish(Verb::Hold);
        assert!(first.len() > 2, "the demo queue has messages to hold");
        assert_eq!(seen.read, first.len());
        assert_eq!(seen.files.len(), first.len());

        let second = seen.round(&layout, &query).finish(Verb::Hold);
        assert_eq!(
            (second.len(), seen.read),
            (0, 0),
            "nothing new: nothing read"
        );

        // A new file: a copy of a deferred message under another ID, in its hash directory.
        let old = first
            .messages
            .iter()
            .find(|m| m.queue == "deferred")
            .unwrap();
        let new_id = "F1234567890";
        let dest = layout.path("deferred", new_id);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(layout.path("deferred", &old.id), &dest).unwrap();
        let third = seen.round(&layout, &query).finish(Verb::Hold);
        assert_eq!(seen.read, 1);
        let ids: Vec<&str> = third.messages.iter().map(|m| &*m.id).collect();
        assert_eq!(ids, [new_id]);

        // Forgotten (not acted on): read again in the next round.
        let once = &first.messages[0];
        seen.forget(&[(once.inode, once.id.clone())]);
        let again = seen.round(&layout, &query).finish(Verb::Hold);
        assert_eq!((again.len(), seen.read), (1, 1));
        assert_eq!(again.messages[0].id, once.id);
        // Only once: a second failure leaves it seen.
        seen.forget(&[(once.inode, once.id.clone())]);
        seen.round(&layout, &query);
        assert_eq!(seen.read, 0);

        // Gone: forgotten at the end of the round that no longer lists it.
        std::fs::remove_file(&dest).unwrap();
        seen.round(&layout, &query);
        assert_eq!(seen.files.len(), first.len());
        assert_eq!(seen.read, 0);
    }
}
