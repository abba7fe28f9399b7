//! The verbs that change the queue (hold, release, requeue, delete, expire,
//! flush): select, show what will happen, ask, then act through Postfix's
//! own postsuper (or postqueue -i) in batches, and report what Postfix did
//! for every queue ID.
//!
//! Safety, in order: an empty selection is refused unless `--all`; `--max`
//! refuses large selections (exit 3); off a terminal nothing happens without
//! `--yes`; `--dry-run` changes nothing. Just before each batch every file
//! is looked up again: a message that moved to another queue (same inode)
//! is still acted on; one whose queue ID now names another file (short IDs
//! are reused; the inode differs) is skipped. Only IDs the scan selected
//! are ever sent. Ctrl-C finishes the batch in flight and starts no other.

use std::collections::{HashMap, HashSet};
use std::io::{IsTerminal, Write};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use queue_scan::{Message, QueueLayout, ReadPlan, ScanError, ScanOptions, ScanProgress, Visitor};
use select::Selection;
use serde_json::json;

use crate::cli::ActArgs;
use crate::selection::Target;
use crate::summary::{human_age, human_size};
use crate::{progress, selection};
use act::backup::{Backup, BackupItem};
use postfix::postsuper::{self, IdOutcome, Op};
use postfix::LocalSenderCheck;
use query::MessageView;

/// Exit status when `--max` refused the selection.
pub const EXIT_REFUSED: u8 = 3;
/// Exit status after Ctrl-C (128 + SIGINT).
pub const EXIT_INTERRUPTED: u8 = 130;

/// What the user asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    /// postsuper -h
    Hold,
    /// postsuper -H
    Release,
    /// postsuper -r
    Requeue,
    /// postsuper -d
    Delete,
    /// postsuper -e (and -f for held mail)
    Expire,
    /// postqueue -i
    Flush,
}

impl Verb {
    fn name(self) -> &'static str {
        match self {
            Verb::Hold => "hold",
            Verb::Release => "release",
            Verb::Requeue => "requeue",
            Verb::Delete => "delete",
            Verb::Expire => "expire",
            Verb::Flush => "flush",
        }
    }

    /// The postsuper operation for a message in `queue`.
    fn op(self, queue: &str) -> Option<Op> {
        match self {
            Verb::Hold => Some(Op::Hold),
            Verb::Release => Some(Op::Release),
            Verb::Requeue => Some(Op::Requeue),
            Verb::Delete => Some(Op::Delete),
            // postsuper -e skips hold; -f expires and releases held mail.
            Verb::Expire if queue == "hold" => Some(Op::ExpireRelease),
            Verb::Expire => Some(Op::Expire),
            Verb::Flush => None,
        }
    }

    /// The queues worth scanning: a held message cannot be held again, and
    /// only held messages can be released.
    fn default_queues(self) -> &'static [&'static str] {
        match self {
            Verb::Hold => &["incoming", "active", "deferred"],
            Verb::Release => &["hold"],
            Verb::Flush => &["incoming", "active", "deferred"],
            Verb::Delete | Verb::Requeue | Verb::Expire => selection::DEFAULT_QUEUES,
        }
    }
}

/// One selected message, compactly: enough to re-check and report.
#[derive(Clone, Debug)]
struct Selected {
    queue: &'static str,
    id: String,
    inode: u64,
    device: u64,
    size: u64,
}

/// What the preview shows: counts by queue, sender and SASL user, and a
/// few sample messages.
#[derive(Default)]
struct Preview {
    by_queue: HashMap<&'static str, u64>,
    by_sender: HashMap<Vec<u8>, u64>,
    by_sasl: HashMap<Vec<u8>, u64>,
    samples: Vec<String>,
}

struct Shared<'s> {
    selection: &'s Selection,
    local: Option<LocalSenderCheck>,
    ctx: select::Context,
    selected: Mutex<(Vec<Selected>, Preview)>,
    /// (device, inode, ID) of every selected file: the scan may meet a file
    /// twice when Postfix renames it between two queues while they are
    /// listed, and it is still one message.
    seen: Mutex<HashSet<(u64, u64, String)>>,
}

struct CollectVisitor<'s, 'a> {
    shared: &'a Shared<'s>,
    found: Vec<Selected>,
    preview: Preview,
}

impl Visitor for CollectVisitor<'_, '_> {
    fn message(&mut self, msg: &Message<'_>) {
        let view = MessageView {
            msg,
            local: self.shared.local.as_ref(),
        };
        if !self.shared.selection.matches(&view, &self.shared.ctx) {
            return;
        }
        let first_time = self
            .shared
            .seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((msg.info.device, msg.info.inode, msg.id.to_string()));
        if !first_time {
            return;
        }
        let env = msg.envelope;
        *self.preview.by_queue.entry(msg.queue).or_default() += 1;
        *self
            .preview
            .by_sender
            .entry(env.sender.unwrap_or_default().to_vec())
            .or_default() += 1;
        *self
            .preview
            .by_sasl
            .entry(env.sasl_username().unwrap_or_default().to_vec())
            .or_default() += 1;
        if self.preview.samples.len() < 5 {
            let first = env
                .todo_recipients()
                .next()
                .map(|r| String::from_utf8_lossy(r.address).into_owned());
            self.preview.samples.push(format!(
                "{}/{}  {} ago  {}  from <{}> to <{}>{}",
                msg.queue,
                msg.id,
                human_age(self.shared.ctx.now - msg.arrival_time()),
                human_size(msg.message_size()),
                String::from_utf8_lossy(env.sender.unwrap_or_default()),
                first.unwrap_or_default(),
                match env.todo_recipients().count() {
                    0 | 1 => String::new(),
                    n => format!(" and {} more", n - 1),
                }
            ));
        }
        self.found.push(Selected {
            queue: msg.queue,
            id: msg.id.to_string(),
            inode: msg.info.inode,
            device: msg.info.device,
            size: msg.message_size(),
        });
    }

    fn error(&mut self, error: ScanError) {
        eprintln!(
            "qsurgeon: error: {}",
            crate::sanitize::for_terminal_str(&error.to_string())
        );
    }
}

impl Drop for CollectVisitor<'_, '_> {
    fn drop(&mut self) {
        let mut guard = self
            .shared
            .selected
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let (all, preview) = &mut *guard;
        all.append(&mut self.found);
        for (k, v) in self.preview.by_queue.drain() {
            *preview.by_queue.entry(k).or_default() += v;
        }
        for (k, v) in self.preview.by_sender.drain() {
            *preview.by_sender.entry(k).or_default() += v;
        }
        for (k, v) in self.preview.by_sasl.drain() {
            *preview.by_sasl.entry(k).or_default() += v;
        }
        let room = 5usize.saturating_sub(preview.samples.len());
        preview
            .samples
            .extend(self.preview.samples.drain(..).take(room));
    }
}

/// Per-ID results of the whole run.
#[derive(Default, Debug)]
struct Tally {
    done: u64,
    gone: u64,
    skipped_reused: u64,
    failed: u64,
    not_backed_up: u64,
}

/// The audit trail: JSON lines appended to the journal file, and one
/// syslog line per run.
struct Journal {
    file: Option<std::fs::File>,
    run: serde_json::Value,
}

impl Journal {
    fn open(
        args: &ActArgs,
        verb: Verb,
        queue_dir: &std::path::Path,
        config_dir: Option<&std::path::Path>,
    ) -> Result<Journal> {
        let run = json!({
            "pid": std::process::id(),
            "user": std::env::var("SUDO_USER").or_else(|_| std::env::var("USER")).unwrap_or_default(),
            "uid": unsafe_free_uid(),
            "verb": verb.name(),
            "command_line": std::env::args().collect::<Vec<_>>(),
            "queue_dir": queue_dir.display().to_string(),
            "config_dir": config_dir.map(|d| d.display().to_string()),
        });
        if args.no_journal {
            return Ok(Journal { file: None, run });
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&args.journal)
            .with_context(|| {
                format!(
                    "open the journal {} (use --journal FILE or --no-journal)",
                    args.journal.display()
                )
            })?;
        Ok(Journal {
            file: Some(file),
            run,
        })
    }

    fn record(&mut self, event: &str, mut data: serde_json::Value) -> Result<()> {
        let Some(file) = &mut self.file else {
            return Ok(());
        };
        data["event"] = json!(event);
        data["time"] = json!(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        data["run"] = self.run.clone();
        let mut line = serde_json::to_vec(&data)?;
        line.push(b'\n');
        file.write_all(&line).context("write the journal")?;
        file.sync_data().context("sync the journal")
    }
}

/// The real uid, from /proc (no unsafe libc call needed).
fn unsafe_free_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// Sends one line to the local syslog socket, as postsuper's own lines go
/// there; silently nothing when there is no syslog.
fn syslog(message: &str) {
    let socket = match std::os::unix::net::UnixDatagram::unbound() {
        Ok(socket) => socket,
        Err(_) => return,
    };
    // facility mail (2), severity info (6).
    let line = format!(
        "<{}>qsurgeon[{}]: {}",
        2 * 8 + 6,
        std::process::id(),
        message
    );
    let _ = socket.send_to(line.as_bytes(), "/dev/log");
}

/// Where the message `id` is now, if it is still the file the scan saw:
/// `Ok(Some(queue))`; `Ok(None)` when it is gone; `Err(())` when the ID
/// now names a different file (a reused short ID).
fn recheck(
    layout: &QueueLayout,
    sel: &Selected,
    queues: &[&'static str],
) -> Result<Option<&'static str>, ()> {
    let mut candidates = vec![sel.queue];
    candidates.extend(queues.iter().copied().filter(|q| *q != sel.queue));
    let mut reused = false;
    // Two passes, as postsuper makes: qmgr may rename the file into a queue
    // already looked at (deferred -> active -> deferred) while we look.
    for queue in candidates.iter().chain(&candidates) {
        if let Ok(meta) = std::fs::symlink_metadata(layout.path(queue, &sel.id)) {
            if meta.ino() == sel.inode && meta.dev() == sel.device {
                return Ok(Some(*queue));
            }
            reused = true;
        }
    }
    if reused {
        Err(())
    } else {
        Ok(None)
    }
}

/// Runs one verb.
pub fn run(
    target: &Target,
    verb: Verb,
    args: &ActArgs,
    backup: Option<&PathBuf>,
) -> Result<ExitCode> {
    let layout = &target.instance.layout;
    let postfix = target
        .postfix
        .as_ref()
        .context("acting needs the instance's configuration")?;
    let config_dir = postfix.config_dir();
    if args.select.is_empty() && !args.all {
        bail!("{} needs a selection (e.g. --sasl-user NAME); use --all to act on every message in the scanned queues", verb.name());
    }
    if args.batch_size == 0 {
        bail!("--batch-size must be at least 1");
    }
    if let Some(rate) = args.rate {
        if !(rate > 0.0 && rate.is_finite()) {
            bail!("--rate must be a positive number of messages per second");
        }
    }
    let postsuper = postfix.postsuper();
    if verb == Verb::Expire
        && !postsuper
            .supports(Op::Expire)
            .map_err(|e| anyhow::anyhow!("{e}"))?
    {
        bail!("this Postfix has no postsuper -e/-f (they came with Postfix 3.5)");
    }
    let on_terminal = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if !args.yes && !args.dry_run && !on_terminal {
        bail!("not on a terminal: add --yes to {} without asking (or --dry-run to see what would happen)", verb.name());
    }
    let selection = selection::build(&args.select)?;
    let queues = if args.select.queue.is_empty() {
        verb.default_queues().to_vec()
    } else {
        selection::queues(&args.select)?
    };
    let options = ScanOptions {
        queues: queues.clone(),
        file_size_limit: queue_scan::DEFAULT_QUEUE_FILE_LIMIT,
        read: selection::read_plan(&selection, ReadPlan::default()),
    };
    let local = selection::local_sender_check(target, &queues, &selection, args.quiet)?;
    let shared = Shared {
        selection: &selection,
        local,
        ctx: select::Context::now(),
        selected: Mutex::new(Default::default()),
        seen: Mutex::new(HashSet::new()),
    };
    let progress = ScanProgress::default();
    let (stats, elapsed) =
        progress::scan_with_progress(layout, &options, &progress, || CollectVisitor {
            shared: &shared,
            found: Vec::new(),
            preview: Preview::default(),
        });
    let (mut selected, preview) = shared
        .selected
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    selected.sort_by(|a, b| (a.queue, &a.id).cmp(&(b.queue, &b.id)));
    let bytes: u64 = selected.iter().map(|s| s.size).sum();
    if !args.quiet {
        eprintln!(
            "{}",
            progress::stats_line(&stats, selected.len() as u64, elapsed)
        );
    }
    if stats.unreadable > 0 && !args.dry_run {
        eprintln!(
            "qsurgeon: warning: {} files could not be read; they are not part of the selection",
            stats.unreadable
        );
    }
    if selected.is_empty() {
        if !args.quiet {
            eprintln!("qsurgeon: nothing selected; nothing done");
        }
        return Ok(ExitCode::from(crate::list::EXIT_NO_MATCH));
    }
    if let Some(max) = args.max {
        if selected.len() as u64 > max {
            eprintln!(
                "qsurgeon: refused: {} messages selected, more than --max {max}; nothing done",
                selected.len()
            );
            return Ok(ExitCode::from(EXIT_REFUSED));
        }
    }
    if !args.quiet || !args.yes {
        if let Some(name) = &target.label {
            eprintln!("qsurgeon: instance {name}:");
        }
        eprint!("{}", render_preview(verb, &selected, bytes, &preview));
    }
    if args.dry_run {
        print_dry_run(verb, config_dir, &selected);
        return Ok(ExitCode::SUCCESS);
    }
    if !args.yes {
        let question = format!(
            "{} these {} messages?",
            capitalize(verb.name()),
            selected.len()
        );
        let confirmed = dialoguer::Confirm::new()
            .with_prompt(question)
            .default(false)
            .interact()
            .unwrap_or(false);
        if !confirmed {
            eprintln!("qsurgeon: not confirmed; nothing done");
            return Ok(ExitCode::from(crate::EXIT_ERROR));
        }
    }

    let mut journal = Journal::open(args, verb, layout.queue_dir(), config_dir)?;
    journal.record(
        "start",
        json!({"selected": selected.len(), "bytes": bytes, "selection": args.select.valued_flags().iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>(),
               "by_queue": preview.by_queue}),
    )?;
    let mut backup = match backup {
        Some(dir) => Some(Backup::open(dir, layout)?),
        None => None,
    };
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = Arc::clone(&stop);
        // A second Ctrl-C is handled by the default action only after the
        // handler is gone; the batch loop checks the flag between batches.
        let _ = ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst));
    }

    let started = Instant::now();
    let mut tally = Tally::default();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let all_queues: Vec<&'static str> = queue_scan::MESSAGE_QUEUES.to_vec();
    for batch in selected.chunks(args.batch_size) {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        // Re-check every file just before acting on it.
        // Each selected message with the queue it is in now.
        let mut by_op: Vec<(Op, Vec<(&Selected, &'static str)>)> = Vec::new();
        let mut flush_ids: Vec<&Selected> = Vec::new();
        let mut lines = Vec::new();
        for sel in batch {
            match recheck(layout, sel, &all_queues) {
                Ok(Some(queue)) => match verb.op(queue) {
                    Some(op) => match by_op.iter_mut().find(|(o, _)| *o == op) {
                        Some((_, ids)) => ids.push((sel, queue)),
                        None => by_op.push((op, vec![(sel, queue)])),
                    },
                    None => flush_ids.push(sel),
                },
                Ok(None) => {
                    tally.gone += 1;
                    lines.push(format!("{}\t{}\talready gone\n", sel.id, sel.queue));
                }
                Err(()) => {
                    tally.skipped_reused += 1;
                    lines.push(format!(
                        "{}\t{}\tskipped: the queue ID now names another message\n",
                        sel.id, sel.queue
                    ));
                }
            }
        }
        let mut batch_record = serde_json::Map::new();
        for (op, sels) in &mut by_op {
            if let Some(backup) = backup.as_mut() {
                // Back up from where the file is now (it may have moved
                // since the scan), and only the file the scan selected (its
                // device and inode); a message whose copy failed is kept.
                let items: Vec<BackupItem<'_>> = sels
                    .iter()
                    .map(|(s, queue)| BackupItem {
                        queue,
                        id: &s.id,
                        dev: s.device,
                        ino: s.inode,
                    })
                    .collect();
                let mut failed = HashSet::new();
                for (id, result) in backup.save_batch(&items) {
                    match result {
                        Ok(saved) => {
                            for refused in saved.refused_logs {
                                eprintln!("qsurgeon: warning: backup of {id}: {refused}");
                            }
                        }
                        Err(e) => {
                            eprintln!(
                                "qsurgeon: error: backup of {id} failed, not deleting it: {e:#}"
                            );
                            failed.insert(id);
                        }
                    }
                }
                tally.not_backed_up += failed.len() as u64;
                sels.retain(|(s, _)| !failed.contains(&s.id));
            }
            let ids: Vec<&str> = sels.iter().map(|(s, _)| s.id.as_str()).collect();
            // Where each message is now, for the per-ID report (a map: a
            // batch holds thousands of IDs).
            let queue_of: HashMap<&str, &str> =
                sels.iter().map(|(s, q)| (s.id.as_str(), *q)).collect();
            if ids.is_empty() {
                continue;
            }
            let rate = if matches!(verb, Verb::Release | Verb::Requeue) {
                args.rate
            } else {
                None
            };
            let report = postsuper.run_batch(*op, &ids, rate, &mut |_line| {});
            let report = match report {
                Ok(report) => report,
                Err(e) => {
                    journal.record("error", json!({"op": op.verb(), "error": e.to_string()}))?;
                    bail!("{e}");
                }
            };
            let mut done_ids = Vec::new();
            let mut other_ids = Vec::new();
            for (id, outcome) in &report.outcomes {
                let queue = queue_of.get(id.as_str()).copied().unwrap_or("?");
                match outcome {
                    IdOutcome::Done => {
                        tally.done += 1;
                        done_ids.push(id.clone());
                        lines.push(format!("{id}\t{queue}\t{}\n", op.verb()));
                    }
                    IdOutcome::NotActed => {
                        // postsuper says nothing for an ID it did not find:
                        // gone meanwhile, or still there and not acted on.
                        let still_there = queue_scan::MESSAGE_QUEUES
                            .iter()
                            .any(|q| layout.path(q, id).exists());
                        if still_there && *op != Op::Expire {
                            tally.failed += 1;
                            lines.push(format!(
                                "{id}\t{queue}\tnot {}: postsuper did not act on it\n",
                                op.verb()
                            ));
                        } else if still_there {
                            tally.gone += 1;
                            lines.push(format!("{id}\t{queue}\talready expired\n"));
                        } else {
                            tally.gone += 1;
                            lines.push(format!("{id}\t{queue}\talready gone\n"));
                        }
                        other_ids.push(id.clone());
                    }
                    IdOutcome::Warned(text) => {
                        tally.failed += 1;
                        lines.push(format!("{id}\t{queue}\tfailed: {text}\n"));
                        other_ids.push(id.clone());
                    }
                }
            }
            batch_record.insert(
                op.verb().to_string(),
                json!({"done": done_ids, "not_done": other_ids, "postsuper": report.summary}),
            );
        }
        if !flush_ids.is_empty() {
            let ids: Vec<&str> = flush_ids.iter().map(|s| s.id.as_str()).collect();
            let mut done_ids = Vec::new();
            for (id, result) in
                postsuper::flush(&postfix.postqueue(), config_dir, &ids, args.rate, &stop)
            {
                match result {
                    Ok(()) => {
                        tally.done += 1;
                        lines.push(format!("{id}\tflushed\n"));
                        done_ids.push(id);
                    }
                    Err(text) => {
                        tally.failed += 1;
                        lines.push(format!("{id}\tnot flushed: {text}\n"));
                    }
                }
            }
            batch_record.insert("flush".into(), json!({"done": done_ids}));
        }
        journal.record("batch", serde_json::Value::Object(batch_record))?;
        if !args.quiet {
            for line in &lines {
                if let Some(name) = &target.label {
                    out.write_all(format!("{name}\t").as_bytes())?;
                }
                out.write_all(crate::sanitize::for_terminal_str(line).as_bytes())?;
            }
            out.flush()?;
        }
    }
    let interrupted = stop.load(Ordering::SeqCst);
    let not_started = selected.len() as u64
        - (tally.done + tally.gone + tally.skipped_reused + tally.failed + tally.not_backed_up);
    let summary = format!(
        "{}: {} selected, {} done, {} already gone, {} skipped (ID reused), {} failed{}{} in {:.1}s",
        verb.name(),
        selected.len(),
        tally.done,
        tally.gone,
        tally.skipped_reused,
        tally.failed,
        if tally.not_backed_up > 0 { format!(", {} not backed up (kept)", tally.not_backed_up) } else { String::new() },
        if interrupted { format!(", interrupted: {not_started} not started") } else { String::new() },
        started.elapsed().as_secs_f64()
    );
    journal.record(
        "end",
        json!({"done": tally.done, "gone": tally.gone, "skipped_reused": tally.skipped_reused, "failed": tally.failed,
               "not_backed_up": tally.not_backed_up, "interrupted": interrupted, "not_started": not_started}),
    )?;
    syslog(&format!("{summary} (uid {:?})", unsafe_free_uid()));
    eprintln!("qsurgeon: {summary}");
    Ok(if interrupted {
        ExitCode::from(EXIT_INTERRUPTED)
    } else if tally.failed > 0 || tally.not_backed_up > 0 {
        ExitCode::from(crate::EXIT_ERROR)
    } else {
        ExitCode::SUCCESS
    })
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}

/// The preview shown before acting (on stderr).
fn render_preview(verb: Verb, selected: &[Selected], bytes: u64, preview: &Preview) -> String {
    let mut text = format!(
        "qsurgeon: {} {} messages ({} bytes):\n",
        verb.name(),
        selected.len(),
        human_size(bytes)
    );
    let top = |map: &HashMap<Vec<u8>, u64>, empty: &str| -> String {
        let mut rows: Vec<_> = map.iter().collect();
        rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let mut parts: Vec<String> = rows
            .iter()
            .take(3)
            .map(|(k, n)| {
                format!(
                    "{} ({n})",
                    if k.is_empty() {
                        empty.to_string()
                    } else {
                        String::from_utf8_lossy(k).into_owned()
                    }
                )
            })
            .collect();
        if rows.len() > 3 {
            parts.push(format!("{} more", rows.len() - 3));
        }
        parts.join(", ")
    };
    let mut queues: Vec<_> = preview.by_queue.iter().collect();
    queues.sort();
    text.push_str(&format!(
        "  queues:     {}\n",
        queues
            .iter()
            .map(|(q, n)| format!("{q} ({n})"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    text.push_str(&format!(
        "  SASL users: {}\n",
        top(&preview.by_sasl, "(none)")
    ));
    text.push_str(&format!(
        "  senders:    {}\n",
        top(&preview.by_sender, "<>")
    ));
    text.push_str("  for example:\n");
    for sample in &preview.samples {
        text.push_str(&format!("    {sample}\n"));
    }
    crate::sanitize::for_terminal_str(&text).into_owned()
}

/// `--dry-run`: the postsuper commands and the IDs each would get.
fn print_dry_run(verb: Verb, config_dir: Option<&std::path::Path>, selected: &[Selected]) {
    let mut groups: Vec<(Option<Op>, Vec<&str>)> = Vec::new();
    for sel in selected {
        let op = verb.op(sel.queue);
        match groups.iter_mut().find(|(o, _)| *o == op) {
            Some((_, ids)) => ids.push(&sel.id),
            None => groups.push((op, vec![&sel.id])),
        }
    }
    let config = config_dir
        .map(|d| format!(" -c {}", d.display()))
        .unwrap_or_default();
    for (op, ids) in groups {
        match op {
            Some(op) => println!(
                "# would run: postsuper{config} {} - {} <<< {} IDs:",
                op.flag(),
                op.queues().join(" "),
                ids.len()
            ),
            None => println!(
                "# would run: postqueue{config} -i ID, for {} IDs:",
                ids.len()
            ),
        }
        for id in ids {
            println!("{id}");
        }
    }
    eprintln!("qsurgeon: dry run: nothing changed");
}
