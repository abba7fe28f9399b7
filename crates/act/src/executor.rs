//! Running a plan: batch by batch, each message re-checked just before its batch, backed up
//! first when asked, then one postsuper process per operation (or `postqueue -i` per ID for
//! flush), and a typed [`Event`] to the [`Sink`] for everything that happened to every ID.
//!
//! Promises:
//! - Only IDs of the plan are ever sent, and only while they still name the file the scan
//!   selected (same device and inode, [`crate::recheck`]); a reused short ID is skipped.
//! - With a backup, a message whose copy failed is kept (not sent to postsuper).
//! - When postsuper dies mid-batch (its maillog unwritable, killed, …), the IDs it had
//!   already reported are still reported one by one ([`postfix::PostsuperError::partial_report`]),
//!   the batch is reported aborted with them, and no further batch starts.
//! - The stop flag (Ctrl-C) stops feeding IDs to the batch in flight and starts no other.
//! - [`Event::End`] is sent at the end of every run, whatever happened.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use postfix::postsuper::{self, IdOutcome, Op};
use postfix::{Postfix, Postsuper, PostsuperError};
use queue_scan::QueueLayout;

use crate::backup::{Backup, BackupItem};
use crate::plan::{recheck, Plan, Planned, Recheck, Rechecker};
use crate::verb::Verb;
use crate::Error;

/// What was run for an ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// A postsuper operation.
    Postsuper(Op),
    /// `postqueue -i`.
    Flush,
}

impl Action {
    /// The action as a word (`delete`, `expire and release`, `flush`).
    pub fn word(self) -> &'static str {
        match self {
            Action::Postsuper(op) => op.verb(),
            Action::Flush => "flush",
        }
    }
}

/// Something that happened during a run.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A batch starts: `ids` plan entries, numbered from 1.
    BatchStart {
        /// The batch's number.
        batch: usize,
        /// How many plan entries it holds.
        ids: usize,
    },
    /// The action was done (postsuper printed its success line; postqueue exited 0).
    Done {
        /// The queue ID.
        id: &'a str,
        /// The queue it was in just before.
        queue: &'static str,
        /// What was done.
        action: Action,
    },
    /// The message was gone before it could be acted on (delivered, deleted meanwhile).
    AlreadyGone {
        /// The queue ID.
        id: &'a str,
        /// The queue the scan (or the re-check) found it in.
        queue: &'static str,
    },
    /// Expire: postsuper did not act because the message was already forced to expire.
    AlreadyExpired {
        /// The queue ID.
        id: &'a str,
        /// The queue it is in.
        queue: &'static str,
    },
    /// Skipped: the queue ID now names another file (a reused short ID).
    Reused {
        /// The queue ID.
        id: &'a str,
        /// The queue the scan found it in.
        queue: &'static str,
    },
    /// postsuper printed nothing for this ID although its file is still there: not done.
    NotActed {
        /// The queue ID.
        id: &'a str,
        /// The queue it was in.
        queue: &'static str,
        /// What was tried.
        action: Action,
    },
    /// The action was not done; `text` says why (postsuper's warning, postqueue's words).
    Failed {
        /// The queue ID.
        id: &'a str,
        /// The queue it was in.
        queue: &'static str,
        /// What was tried.
        action: Action,
        /// Why it failed.
        text: String,
    },
    /// The backup copy failed: the message was kept, not acted on.
    BackupFailed {
        /// The queue ID.
        id: &'a str,
        /// The queue it is in.
        queue: &'static str,
        /// Why the copy failed.
        error: String,
    },
    /// The message was saved, but one of its logs was not copied (a symlink, a FIFO, too
    /// large): the backup records why. The message is still acted on: a log holds only delay
    /// or bounce reasons, which restore does not use.
    BackupLogRefused {
        /// The queue ID.
        id: &'a str,
        /// The queue it is in.
        queue: &'static str,
        /// Which log and why.
        detail: String,
    },
    /// One postsuper process ended normally; its summary lines (`Deleted: 3 messages`).
    OpFinished {
        /// The operation.
        action: Action,
        /// The summary lines, label and count.
        summary: &'a [(String, u64)],
    },
    /// postsuper died or could not run: `partial` are the IDs it had reported done before
    /// (each also sent as [`Event::Done`]), `unconfirmed` the rest of the IDs sent to it,
    /// whose fate it did not report. No further batch starts.
    BatchAborted {
        /// The operation.
        action: Action,
        /// What went wrong.
        error: String,
        /// IDs postsuper reported done before it died.
        partial: Vec<String>,
        /// IDs sent to it that it did not report on.
        unconfirmed: Vec<String>,
    },
    /// The batch is over.
    BatchEnd {
        /// The batch's number.
        batch: usize,
    },
    /// The run is over (sent in every case).
    End(&'a Outcome),
}

/// Receives a run's events in order (the terminal, the journal, syslog).
pub trait Sink {
    /// One event. An error stops the run after the batch in flight (the audit trail must
    /// not silently miss a batch).
    fn event(&mut self, event: &Event<'_>) -> Result<(), Error>;
}

/// Several sinks, in order; every sink gets every event, the first error is returned.
pub struct Tee<'a>(pub Vec<&'a mut dyn Sink>);

impl Sink for Tee<'_> {
    fn event(&mut self, event: &Event<'_>) -> Result<(), Error> {
        let mut result = Ok(());
        for sink in &mut self.0 {
            let r = sink.event(event);
            if result.is_ok() {
                result = r;
            }
        }
        result
    }
}

/// A whole run, counted per plan entry.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    /// The verb's name.
    pub verb: &'static str,
    /// Plan entries.
    pub selected: u64,
    /// Done.
    pub done: u64,
    /// Already gone (or already expired).
    pub gone: u64,
    /// Skipped: ID reused.
    pub reused: u64,
    /// Not done (postsuper did not act or warned, postqueue failed).
    pub failed: u64,
    /// Kept because the backup copy failed.
    pub not_backed_up: u64,
    /// Sent to a postsuper that died without reporting on them.
    pub unconfirmed: u64,
    /// Never sent (Ctrl-C, or a previous batch was aborted).
    pub not_started: u64,
    /// The stop flag was set.
    pub interrupted: bool,
    /// Why the run stopped early, if it did (postsuper died, the journal failed).
    pub error: Option<String>,
    /// How long it took.
    pub elapsed: Duration,
}

impl Outcome {
    /// One line for the terminal and syslog:
    /// `delete: 10 selected, 9 done, 1 already gone, 0 skipped (ID reused), 0 failed in 0.1s`.
    pub fn summary(&self) -> String {
        let mut text = format!(
            "{}: {} selected, {} done, {} already gone, {} skipped (ID reused), {} failed",
            self.verb, self.selected, self.done, self.gone, self.reused, self.failed
        );
        if self.not_backed_up > 0 {
            text.push_str(&format!(", {} not backed up (kept)", self.not_backed_up));
        }
        if self.unconfirmed > 0 {
            text.push_str(&format!(
                ", {} not confirmed (postsuper died)",
                self.unconfirmed
            ));
        }
        if self.interrupted || self.not_started > 0 {
            let why = if self.interrupted {
                "interrupted"
            } else {
                "stopped"
            };
            text.push_str(&format!(", {why}: {} not started", self.not_started));
        }
        text.push_str(&format!(" in {:.1}s", self.elapsed.as_secs_f64()));
        text
    }

    /// Everything selected was done, already gone or skipped as reused.
    pub fn clean(&self) -> bool {
        self.failed == 0
            && self.not_backed_up == 0
            && self.unconfirmed == 0
            && self.not_started == 0
            && self.error.is_none()
            && !self.interrupted
    }
}

/// Runs plans against one Postfix instance.
pub struct Executor {
    /// The postsuper runner.
    pub postsuper: Postsuper,
    /// The `postqueue` program (flush).
    pub postqueue: PathBuf,
    /// `-c DIR` for postqueue; `None` for the default instance.
    pub config_dir: Option<PathBuf>,
    /// Where the queue files are (for the re-check and the backup).
    pub layout: QueueLayout,
    /// Copy each message here before deleting it.
    pub backup: Option<Backup>,
    /// Set from another thread (a Ctrl-C handler) to stop after the IDs in flight.
    pub stop: Arc<AtomicBool>,
    /// Plan entries per batch (at least 1).
    pub batch_size: usize,
    /// At most this many IDs per second, for the verbs that are paced ([`Verb::paced`]).
    pub rate: Option<f64>,
}

impl Executor {
    /// The instance's own programs, batches of 5000, no backup, no rate.
    pub fn new(postfix: &Postfix, layout: QueueLayout) -> Executor {
        Executor {
            postsuper: postfix.postsuper(),
            postqueue: postfix.postqueue(),
            config_dir: postfix.config_dir().map(PathBuf::from),
            layout,
            backup: None,
            stop: Arc::new(AtomicBool::new(false)),
            batch_size: 5000,
            rate: None,
        }
    }

    /// Checks the settings and that this Postfix can do `verb` (`-e`/`-f` need 3.5),
    /// before anything is selected or changed.
    pub fn check(&self, verb: Verb) -> Result<(), Error> {
        if self.batch_size == 0 {
            return Err(Error::Setting {
                name: "--batch-size",
                detail: "must be at least 1".into(),
            });
        }
        if let Some(rate) = self.rate {
            if !(rate > 0.0 && rate.is_finite()) {
                return Err(Error::Setting {
                    name: "--rate",
                    detail: "must be a positive number of messages per second".into(),
                });
            }
        }
        if verb == Verb::Expire && !self.postsuper.supports(Op::Expire)? {
            return Err(Error::Setting {
                name: "expire",
                detail: "this Postfix has no postsuper -e/-f (they came with Postfix 3.5)".into(),
            });
        }
        Ok(())
    }

    /// Runs `plan`, telling `sink` everything; the outcome is also sent as [`Event::End`].
    pub fn run(&mut self, plan: &Plan, sink: &mut dyn Sink) -> Outcome {
        let started = Instant::now();
        let mut run = Run {
            outcome: Outcome {
                verb: plan.verb.name(),
                selected: plan.len() as u64,
                ..Outcome::default()
            },
            sink_error: None,
            sink,
        };
        let batch_size = self.batch_size.max(1);
        let mut handled = 0usize;
        for (i, batch) in plan.messages.chunks(batch_size).enumerate() {
            if self.stop.load(Ordering::SeqCst) || run.stopping() {
                break;
            }
            run.emit(&Event::BatchStart {
                batch: i + 1,
                ids: batch.len(),
            });
            let aborted = self.batch(plan.verb, batch, &mut run);
            handled += batch.len();
            run.emit(&Event::BatchEnd { batch: i + 1 });
            if aborted {
                break;
            }
        }
        let o = &mut run.outcome;
        o.interrupted = self.stop.load(Ordering::SeqCst);
        // Entries of batches never started, plus IDs a stopped batch did not send.
        let accounted = o.done + o.gone + o.reused + o.failed + o.not_backed_up + o.unconfirmed;
        o.not_started = o.selected.saturating_sub(accounted);
        debug_assert!(handled <= plan.len());
        if o.error.is_none() {
            o.error = run.sink_error.as_ref().map(ToString::to_string);
        }
        o.elapsed = started.elapsed();
        let outcome = run.outcome.clone();
        // The end goes out even when a sink failed before: it may still reach the others.
        let _ = run.sink.event(&Event::End(&outcome));
        outcome
    }

    /// One batch; true when postsuper died (the run stops).
    fn batch(&mut self, verb: Verb, batch: &[Planned], run: &mut Run<'_>) -> bool {
        // Re-check every file just before acting on it, and group by operation.
        let mut by_op: Vec<(Op, Vec<(&Planned, &'static str)>)> = Vec::new();
        let mut flush: Vec<(&Planned, &'static str)> = Vec::new();
        // The queue directory opened once a batch (by path, should that fail).
        let mut rechecker = queue_scan::open::open_dir(&self.layout.queue_dir)
            .ok()
            .map(Rechecker::new);
        for planned in batch {
            let now = match rechecker.as_mut() {
                Some(r) => r.recheck(&self.layout, planned),
                None => recheck(&self.layout, planned),
            };
            match now {
                Recheck::At(queue) => match verb.op(queue) {
                    Some(op) => match by_op.iter_mut().find(|(o, _)| *o == op) {
                        Some((_, group)) => group.push((planned, queue)),
                        None => by_op.push((op, vec![(planned, queue)])),
                    },
                    None => flush.push((planned, queue)),
                },
                Recheck::Gone => {
                    run.outcome.gone += 1;
                    run.emit(&Event::AlreadyGone {
                        id: &planned.id,
                        queue: planned.queue,
                    });
                }
                Recheck::Reused => {
                    run.outcome.reused += 1;
                    run.emit(&Event::Reused {
                        id: &planned.id,
                        queue: planned.queue,
                    });
                }
            }
        }
        let rate = if verb.paced() { self.rate } else { None };
        for (op, mut group) in by_op {
            if let Some(backup) = self.backup.as_mut() {
                group = back_up(backup, group, run);
            }
            if group.is_empty() {
                continue;
            }
            if self.postsuper_batch(op, &group, rate, run) {
                return true;
            }
        }
        if !flush.is_empty() {
            let ids: Vec<&str> = flush.iter().map(|(p, _)| &*p.id).collect();
            let queue_of: HashMap<&str, &'static str> =
                flush.iter().map(|(p, q)| (&*p.id, *q)).collect();
            let results = postsuper::flush(
                &self.postqueue,
                self.config_dir.as_deref(),
                &ids,
                rate,
                &self.stop,
            );
            for (id, result) in &results {
                let queue = queue_of.get(id.as_str()).copied().unwrap_or("?");
                match result {
                    Ok(()) => {
                        run.outcome.done += 1;
                        run.emit(&Event::Done {
                            id,
                            queue,
                            action: Action::Flush,
                        });
                    }
                    Err(text) => {
                        run.outcome.failed += 1;
                        run.emit(&Event::Failed {
                            id,
                            queue,
                            action: Action::Flush,
                            text: text.clone(),
                        });
                    }
                }
            }
        }
        false
    }

    /// One postsuper process for `group`; true when it died.
    fn postsuper_batch(
        &self,
        op: Op,
        group: &[(&Planned, &'static str)],
        rate: Option<f64>,
        run: &mut Run<'_>,
    ) -> bool {
        let action = Action::Postsuper(op);
        let ids: Vec<&str> = group.iter().map(|(p, _)| &*p.id).collect();
        // Where each message is now, for the per-ID report (a map: a batch holds thousands).
        let queue_of: HashMap<&str, &'static str> =
            group.iter().map(|(p, q)| (&*p.id, *q)).collect();
        let queue = |id: &str| queue_of.get(id).copied().unwrap_or("?");
        let result =
            self.postsuper
                .run_batch_until(op, &ids, rate, Some(&self.stop), &mut |_line| {});
        let report = match result {
            Ok(report) => report,
            Err(error) => {
                self.died(action, &ids, &error, &queue, run);
                return true;
            }
        };
        for (id, outcome) in &report.outcomes {
            let queue = queue(id);
            match outcome {
                IdOutcome::Done => {
                    run.outcome.done += 1;
                    run.emit(&Event::Done { id, queue, action });
                }
                IdOutcome::NotActed => {
                    // postsuper says nothing for an ID it did not find: gone meanwhile, or
                    // still there and not acted on (-e on an already expired message).
                    let still_there = queue_scan::MESSAGE_QUEUES
                        .iter()
                        .any(|q| self.layout.path(q, id).exists());
                    if still_there && op == Op::Expire {
                        run.outcome.gone += 1;
                        run.emit(&Event::AlreadyExpired { id, queue });
                    } else if still_there {
                        run.outcome.failed += 1;
                        run.emit(&Event::NotActed { id, queue, action });
                    } else {
                        run.outcome.gone += 1;
                        run.emit(&Event::AlreadyGone { id, queue });
                    }
                }
                IdOutcome::Warned(text) => {
                    run.outcome.failed += 1;
                    run.emit(&Event::Failed {
                        id,
                        queue,
                        action,
                        text: text.clone(),
                    });
                }
            }
        }
        run.emit(&Event::OpFinished {
            action,
            summary: &report.summary,
        });
        false
    }

    /// postsuper died: what it reported before still counts, per ID.
    fn died(
        &self,
        action: Action,
        ids: &[&str],
        error: &PostsuperError,
        queue: &dyn Fn(&str) -> &'static str,
        run: &mut Run<'_>,
    ) {
        let mut partial = Vec::new();
        let mut reported = HashSet::new();
        if let Some(report) = error.partial_report() {
            for (id, outcome) in &report.outcomes {
                match outcome {
                    IdOutcome::Done => {
                        run.outcome.done += 1;
                        run.emit(&Event::Done {
                            id,
                            queue: queue(id),
                            action,
                        });
                        partial.push(id.clone());
                        reported.insert(id.as_str());
                    }
                    IdOutcome::Warned(text) => {
                        run.outcome.failed += 1;
                        run.emit(&Event::Failed {
                            id,
                            queue: queue(id),
                            action,
                            text: text.clone(),
                        });
                        reported.insert(id.as_str());
                    }
                    IdOutcome::NotActed => {}
                }
            }
        }
        // Invalid IDs or a failed start mean nothing ran; otherwise every ID it did not
        // report on may or may not have been handled.
        let unconfirmed: Vec<String> = match error {
            PostsuperError::Spawn { .. } | PostsuperError::InvalidId { .. } => Vec::new(),
            _ => ids
                .iter()
                .filter(|id| !reported.contains(**id))
                .map(|id| id.to_string())
                .collect(),
        };
        run.outcome.unconfirmed += unconfirmed.len() as u64;
        run.outcome.error = Some(error.to_string());
        run.emit(&Event::BatchAborted {
            action,
            error: error.to_string(),
            partial,
            unconfirmed,
        });
    }
}

/// Copies each message from where it is now (it may have moved since the scan); a message
/// whose copy failed is kept and reported. Returns the messages that were saved.
fn back_up<'p>(
    backup: &mut Backup,
    group: Vec<(&'p Planned, &'static str)>,
    run: &mut Run<'_>,
) -> Vec<(&'p Planned, &'static str)> {
    let items: Vec<BackupItem<'_>> = group
        .iter()
        .map(|(p, queue)| BackupItem {
            queue,
            id: &p.id,
            dev: p.device,
            ino: p.inode,
        })
        .collect();
    let mut failed = HashMap::new();
    let mut refused = Vec::new();
    for (id, result) in backup.save_batch(&items) {
        match result {
            Ok(saved) => refused.extend(saved.refused_logs.into_iter().map(|d| (id.clone(), d))),
            Err(e) => {
                failed.insert(id, format!("{e:#}"));
            }
        }
    }
    for (id, detail) in refused {
        if let Some((p, queue)) = group.iter().find(|(p, _)| *p.id == *id) {
            run.emit(&Event::BackupLogRefused {
                id: &p.id,
                queue,
                detail,
            });
        }
    }
    let mut kept = Vec::with_capacity(group.len());
    for (p, queue) in group {
        match failed.remove(&*p.id) {
            Some(error) => {
                run.outcome.not_backed_up += 1;
                run.emit(&Event::BackupFailed {
                    id: &p.id,
                    queue,
                    error,
                });
            }
            None => kept.push((p, queue)),
        }
    }
    kept
}

/// A run in progress: the tally and the sink.
struct Run<'s> {
    outcome: Outcome,
    sink_error: Option<Error>,
    sink: &'s mut dyn Sink,
}

impl Run<'_> {
    fn emit(&mut self, event: &Event<'_>) {
        if let Err(e) = self.sink.event(event) {
            if self.sink_error.is_none() {
                self.sink_error = Some(Error::Sink(Box::new(e)));
            }
        }
    }

    /// A sink failed: no further batch starts.
    fn stopping(&self) -> bool {
        self.sink_error.is_some()
    }
}

/// A sink that keeps nothing (callers that only want the outcome).
pub struct Discard;

impl Sink for Discard {
    fn event(&mut self, _: &Event<'_>) -> Result<(), Error> {
        Ok(())
    }
}

/// A flag set by nothing: a run that cannot be interrupted.
pub fn never_stop() -> Arc<AtomicBool> {
    Arc::new(AtomicBool::new(false))
}
