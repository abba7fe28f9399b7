//! Acting on queued messages through Postfix's own tools: `postsuper` for delete, hold,
//! release, requeue and expire, `postqueue -i` for "deliver now".
//!
//! qsurgeon never writes to the queue itself. Every change is one `postsuper` process per
//! batch, `postsuper [-c DIR] FLAG - QUEUE…`, with the queue IDs written to its stdin, one per
//! line. postsuper handles each ID as soon as it has read it (`operate_stream` in
//! `src/postsuper/postsuper.c`), so pacing stdin paces the actions, and a batch can be cut
//! short by closing stdin early.
//!
//! postsuper's exit status says nothing about single IDs: it is 0 for IDs that do not exist,
//! are invalid or sit in a queue that was not searched; only fatal errors exit 1. What was done
//! to an ID is known only from the lines on stderr (`postsuper: ID: removed`, …), so this
//! module reads stderr while it writes stdin (no deadlock whatever the batch size), hands
//! every line to the caller as it comes, and maps the lines back to the IDs sent
//! ([`IdOutcome`]). See `postfix-queue-format.md` §8.
//!
//! Policy decided here:
//! * IDs are checked with Postfix's own syntax rule (`mail_queue_id_ok`) and a batch with one
//!   bad ID is refused before any process starts: postsuper reads lines untrimmed, so `ID `
//!   or `ID*` would only earn a warning, and a name with `/` must never get near it.
//! * The queue list after the options is explicit for every operation ([`Op::queues`]).
//! * postsuper and postqueue run in their own process group, so a Ctrl-C on the terminal
//!   reaches qsurgeon only: qsurgeon then stops feeding IDs ([`Postsuper::run_batch_until`])
//!   and the batch in flight ends cleanly instead of dying between two IDs.
//! * Nothing here retries, prompts or prints; the caller decides.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt;
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use queue_scan::is_valid_queue_id;

use crate::{absolute, command_text};

/// IDs written per `write` when no rate is set: few syscalls, and the stop flag is still
/// checked every few hundred IDs (postsuper handles several thousand IDs a second).
const UNPACED_CHUNK: usize = 256;
/// Longest sleep between two looks at the stop flag while pacing.
const STOP_POLL: Duration = Duration::from_millis(50);
/// How many of postsuper's non-success lines an error message quotes.
const ERROR_LINES: usize = 10;

/// A postsuper operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// `-d`: remove the message and its defer, bounce and trace logfiles.
    Delete,
    /// `-h`: move the message to `hold`.
    Hold,
    /// `-H`: move a held message back to `deferred`.
    Release,
    /// `-r`: move the message to `maildrop`, where pickup re-injects it under a new ID.
    Requeue,
    /// `-e` (Postfix 3.5+): mark the message forced-to-expire (mode bit 0010).
    Expire,
    /// `-f` (Postfix 3.5+): expire, and release it if it is on hold.
    ExpireRelease,
}

/// Bits for the per-ID success words postsuper prints (`msg_info("%s: …", queue_id)`).
const REMOVED: u8 = 1;
const PLACED_ON_HOLD: u8 = 2;
const RELEASED: u8 = 4;
const REQUEUED: u8 = 8;
const EXPIRED: u8 = 16;

/// The success words, exactly as `postsuper.c` prints them after `ID: `.
const SUCCESS_WORDS: [(&str, u8); 5] = [
    ("removed", REMOVED),
    ("placed on hold", PLACED_ON_HOLD),
    ("released from hold", RELEASED),
    ("requeued", REQUEUED),
    ("expired", EXPIRED),
];

impl Op {
    /// Every operation, in a fixed order.
    pub const ALL: [Op; 6] = [
        Op::Delete,
        Op::Hold,
        Op::Release,
        Op::Requeue,
        Op::Expire,
        Op::ExpireRelease,
    ];

    /// The postsuper option.
    pub fn flag(self) -> &'static str {
        match self {
            Op::Delete => "-d",
            Op::Hold => "-h",
            Op::Release => "-H",
            Op::Requeue => "-r",
            Op::Expire => "-e",
            Op::ExpireRelease => "-f",
        }
    }

    /// Queue names passed after the options. They replace postsuper's default list
    /// (`defer bounce maildrop incoming active deferred hold flush`) for this command.
    ///
    /// Common to all: postsuper tries the listed message queues in order and (except `-H`)
    /// makes two passes when an ID is not found (`found == 0 && tries < 2` in `delete_one`,
    /// `hold_one`, `requeue_one`, `expire_one`), to survive a queue manager move in between.
    /// `hold` comes first because nothing moves a held message by itself; then the queue
    /// manager's own flow, `incoming → active → deferred`, so a message that moves forward
    /// while postsuper looks is found later in the same pass, and one that moves back
    /// (`deferred → active` when qmgr picks it up, `active → incoming` when it was locked)
    /// is found in the second pass. Logfile directories are never listed: by-ID operations
    /// skip them anyway (`MESSAGE_QUEUE()` test), and `corrupt`/`saved` would be a fatal
    /// "invalid directory name".
    ///
    /// * `Delete`: `hold incoming active deferred maildrop`. Every queue: the user means
    ///   "this message, wherever it went since the scan" (including a `maildrop` copy that
    ///   another admin's `postsuper -r` put there and pickup has not taken yet, and mail
    ///   submitted by `sendmail` that pickup has not taken). The defer, bounce and trace
    ///   logfiles are still removed with an explicit list: `delete_one` removes them from
    ///   the fixed `log_queue_names` (bounce, defer, trace), whatever queues were listed, and
    ///   only when the message file was found (verified on Postfix 3.7.11, see the tests).
    /// * `Hold`: `incoming active deferred`. `hold_one` skips `maildrop` (unsanitised mail
    ///   must not be mixed into hold) and `hold` (already there), so listing them would
    ///   change nothing; such IDs come back [`IdOutcome::NotActed`].
    /// * `Release`: `hold`. `release_one` only looks in `hold` (one pass) and moves the file
    ///   to `deferred`.
    /// * `Requeue`: `hold incoming active deferred`. `requeue_one` skips `maildrop` (the
    ///   message is already waiting for pickup there). `hold` is included because requeueing
    ///   selected held mail (after fixing whatever put it on hold) is a normal wish, and it
    ///   is in postsuper's default list too. The old defer log is left behind by postsuper.
    /// * `Expire`: `hold incoming active deferred`. `expire_one` skips `maildrop`. A held
    ///   message is marked expired and bounces when released.
    /// * `ExpireRelease`: `hold incoming active deferred`: expire as above, then release
    ///   (`exp_rel_one` = `expire_one` + `release_one`, the latter needs `hold` listed).
    pub fn queues(self) -> &'static [&'static str] {
        match self {
            Op::Delete => &["hold", "incoming", "active", "deferred", "maildrop"],
            Op::Hold => &["incoming", "active", "deferred"],
            Op::Release => &["hold"],
            Op::Requeue | Op::Expire | Op::ExpireRelease => {
                &["hold", "incoming", "active", "deferred"]
            }
        }
    }

    /// The operation as a word for messages ("delete", …).
    pub fn verb(self) -> &'static str {
        match self {
            Op::Delete => "delete",
            Op::Hold => "hold",
            Op::Release => "release",
            Op::Requeue => "requeue",
            Op::Expire => "expire",
            Op::ExpireRelease => "expire and release",
        }
    }

    /// The per-ID success words this operation prints (`-f` prints `expired` and/or
    /// `released from hold` for one ID).
    pub fn success_words(self) -> &'static [&'static str] {
        match self {
            Op::Delete => &["removed"],
            Op::Hold => &["placed on hold"],
            Op::Release => &["released from hold"],
            Op::Requeue => &["requeued"],
            Op::Expire => &["expired"],
            Op::ExpireRelease => &["expired", "released from hold"],
        }
    }

    /// The labels of the summary lines this operation prints (`Deleted: N messages`, …),
    /// always, even for N = 0.
    pub fn summary_labels(self) -> &'static [&'static str] {
        match self {
            Op::Delete => &["Deleted"],
            Op::Hold => &["Placed on hold"],
            Op::Release => &["Released from hold"],
            Op::Requeue => &["Requeued"],
            Op::Expire => &["Force-expired"],
            Op::ExpireRelease => &["Force-expired", "Released from hold"],
        }
    }

    /// The oldest Postfix (major, minor) whose postsuper has this option.
    pub fn min_postfix(self) -> (u32, u32) {
        match self {
            Op::Expire | Op::ExpireRelease => (3, 5),
            _ => (2, 0),
        }
    }

    fn success_bits(self) -> u8 {
        match self {
            Op::Delete => REMOVED,
            Op::Hold => PLACED_ON_HOLD,
            Op::Release => RELEASED,
            Op::Requeue => REQUEUED,
            Op::Expire => EXPIRED,
            Op::ExpireRelease => EXPIRED | RELEASED,
        }
    }
}

/// What postsuper did with one ID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdOutcome {
    /// postsuper printed its success line(s) for this ID.
    Done,
    /// It printed nothing for it: gone, already in that state, or in a queue the operation
    /// does not search.
    NotActed,
    /// It printed no success line but a warning that names the ID (the first such line).
    Warned(String),
}

/// The result of one postsuper process.
#[derive(Clone, Debug)]
pub struct BatchReport {
    /// In input order, one per ID sent (all of them unless the stop flag cut the batch short).
    pub outcomes: Vec<(String, IdOutcome)>,
    /// Summary lines in the order printed: ("Deleted", N), …
    pub summary: Vec<(String, u64)>,
    /// Every stderr line that is neither a success line for an ID sent nor a summary line:
    /// warnings (also those recorded as [`IdOutcome::Warned`]), errors, anything unexpected.
    pub other_lines: Vec<String>,
    /// postsuper's exit status.
    pub status: ExitStatus,
    /// IDs not sent because the stop flag was set (the tail of the input).
    pub unsent: usize,
}

impl BatchReport {
    /// How many IDs came back [`IdOutcome::Done`].
    pub fn done_count(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|(_, o)| *o == IdOutcome::Done)
            .count()
    }

    /// The count on the summary line with this label (`"Deleted"`), if it was printed.
    pub fn summary_count(&self, label: &str) -> Option<u64> {
        self.summary
            .iter()
            .find(|(l, _)| l == label)
            .map(|&(_, n)| n)
    }
}

/// Why a batch (or the version check) failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum PostsuperError {
    /// An ID fails Postfix's queue ID syntax; nothing was run.
    InvalidId {
        /// The ID as given.
        id: String,
    },
    /// The rate is not a positive, finite number of IDs per second; nothing was run.
    InvalidRate {
        /// The rate as given.
        rate: f64,
    },
    /// The program could not be started.
    Spawn {
        /// The command line.
        command: String,
        /// What the system said.
        source: io::Error,
    },
    /// Talking to the running program failed; `report` holds what was learned until then.
    Io {
        /// The command line.
        command: String,
        /// Which pipe or wait failed.
        what: &'static str,
        /// What the system said.
        source: io::Error,
        /// The outcomes learned before the failure.
        report: Option<Box<BatchReport>>,
    },
    /// It exited unsuccessfully (a postsuper "fatal:" error); `stderr` quotes its
    /// non-success lines, `report` holds the outcomes up to then.
    Failed {
        /// The command line.
        command: String,
        /// Its exit status.
        status: ExitStatus,
        /// Its non-success stderr lines.
        stderr: String,
        /// The outcomes up to the failure.
        report: Box<BatchReport>,
    },
    /// `postconf` did not report a usable `mail_version`.
    Version {
        /// The command line.
        command: String,
        /// What was wrong.
        detail: String,
    },
}

impl PostsuperError {
    /// The outcomes learned before the failure, when a process had run.
    pub fn partial_report(&self) -> Option<&BatchReport> {
        match self {
            PostsuperError::Io { report, .. } => report.as_deref(),
            PostsuperError::Failed { report, .. } => Some(report),
            _ => None,
        }
    }
}

impl fmt::Display for PostsuperError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PostsuperError::InvalidId { id } => write!(
                f,
                "refusing to run postsuper: invalid queue ID \"{}\" (1-255 characters of \
                 A-Z a-z 0-9 _)",
                id.escape_debug()
            ),
            PostsuperError::InvalidRate { rate } => {
                write!(
                    f,
                    "invalid rate {rate}: must be a positive number of messages per second"
                )
            }
            PostsuperError::Spawn { command, source } => {
                write!(f, "cannot run `{command}`: {source}")
            }
            PostsuperError::Io {
                command,
                what,
                source,
                ..
            } => write!(f, "`{command}`: {what}: {source}"),
            PostsuperError::Failed {
                command,
                status,
                stderr,
                ..
            } => {
                write!(f, "`{command}` failed ({status})")?;
                if stderr.is_empty() {
                    write!(f, " without a message")
                } else {
                    write!(f, ": {stderr}")
                }
            }
            PostsuperError::Version { command, detail } => {
                write!(f, "`{command}`: cannot tell the Postfix version: {detail}")
            }
        }
    }
}

impl std::error::Error for PostsuperError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PostsuperError::Spawn { source, .. } | PostsuperError::Io { source, .. } => {
                Some(source)
            }
            _ => None,
        }
    }
}

/// How to run postsuper for one Postfix instance.
#[derive(Clone, Debug)]
pub struct Postsuper {
    /// `command_directory/postsuper`.
    program: PathBuf,
    /// `postconf` (for [`Postsuper::supports`]).
    postconf: PathBuf,
    /// `-c DIR`, made absolute (postsuper: "-c requires absolute pathname").
    config_dir: Option<PathBuf>,
}

impl Postsuper {
    /// Explicit programs; [`crate::Postfix::postsuper`] gives the instance's own.
    pub fn with_programs(
        program: PathBuf,
        postconf: PathBuf,
        config_dir: Option<&Path>,
    ) -> Postsuper {
        Postsuper {
            program,
            postconf,
            config_dir: config_dir.map(absolute),
        }
    }

    /// The postsuper program that will run.
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// The arguments of one batch: `[-c DIR] FLAG - QUEUE…`.
    pub fn args(&self, op: Op) -> Vec<OsString> {
        let mut args = Vec::new();
        if let Some(dir) = &self.config_dir {
            args.push("-c".into());
            args.push(dir.clone().into_os_string());
        }
        args.push(op.flag().into());
        args.push("-".into());
        args.extend(op.queues().iter().map(OsString::from));
        args
    }

    /// The command line of one batch, for messages (`postsuper -c /etc/postfix -d - hold …`).
    pub fn command_line(&self, op: Op) -> String {
        command_text(&self.program, &self.args(op))
    }

    /// One postsuper process for all of `ids`; see [`Postsuper::run_batch_until`].
    pub fn run_batch(
        &self,
        op: Op,
        ids: &[&str],
        rate: Option<f64>,
        on_line: &mut dyn FnMut(&str),
    ) -> Result<BatchReport, PostsuperError> {
        self.run_batch_until(op, ids, rate, None, on_line)
    }

    /// One postsuper process: `postsuper [-c DIR] FLAG - QUEUE…`, the IDs written to its
    /// stdin one per line, paced at `rate` IDs per second if given. Each stderr line goes to
    /// `on_line` as it arrives (on this thread) and is parsed into the report.
    ///
    /// When `stop` becomes true, no further IDs are written and stdin is closed: postsuper
    /// finishes the IDs it was sent (those already in the pipe included) and exits normally;
    /// the report then has fewer outcomes than `ids` and `unsent` > 0.
    ///
    /// Every ID is checked before the process starts. A non-zero exit is an error that
    /// carries the partial report ([`PostsuperError::partial_report`]).
    pub fn run_batch_until(
        &self,
        op: Op,
        ids: &[&str],
        rate: Option<f64>,
        stop: Option<&AtomicBool>,
        on_line: &mut dyn FnMut(&str),
    ) -> Result<BatchReport, PostsuperError> {
        check_ids(ids)?;
        let interval = pacing_interval(rate)?;
        let args = self.args(op);
        let command = command_text(&self.program, &args);
        let mut cmd = Command::new(&self.program);
        cmd.args(&args)
            // Fixes the "postsuper: " prefix of its messages (msg_vstream_init(argv[0])).
            .arg0("postsuper")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            // See the module doc: a terminal Ctrl-C must not kill it between two IDs.
            .process_group(0);
        let mut child = cmd.spawn().map_err(|source| PostsuperError::Spawn {
            command: command.clone(),
            source,
        })?;
        let (Some(stdin), Some(stderr)) = (child.stdin.take(), child.stderr.take()) else {
            // Cannot happen with Stdio::piped(); do not leave the child behind.
            let _ = child.kill();
            let _ = child.wait();
            return Err(PostsuperError::Io {
                command,
                what: "set up pipes",
                source: io::Error::other("no stdin/stderr pipe"),
                report: None,
            });
        };

        let mut tracker = Tracker::new(op, ids);
        let (fed, read_error) = std::thread::scope(|scope| {
            let writer = scope.spawn(move || feed(stdin, ids, interval, stop));
            let read_error = read_lines(stderr, |line| {
                on_line(line);
                tracker.handle(line);
            })
            .err();
            // feed() does not panic; if it somehow did, count all IDs as sent, with an error.
            let fed = writer.join().unwrap_or(Fed {
                attempted: ids.len(),
                error: Some(io::Error::other("the stdin writer thread panicked")),
            });
            (fed, read_error)
        });
        let status = child.wait().map_err(|source| PostsuperError::Io {
            command: command.clone(),
            what: "wait for it to exit",
            source,
            report: None,
        })?;
        let report = tracker.finish(fed.attempted, status);

        if !status.success() {
            return Err(PostsuperError::Failed {
                command,
                status,
                stderr: quote_lines(&report.other_lines),
                report: Box::new(report),
            });
        }
        if let Some(source) = read_error {
            return Err(PostsuperError::Io {
                command,
                what: "read its stderr",
                source,
                report: Some(Box::new(report)),
            });
        }
        if let Some(source) = fed.error {
            // Exit 0 without reading all of stdin: the real postsuper reads to EOF, so this is
            // a wrapper or stub misbehaving; do not claim the unread IDs were looked at.
            return Err(PostsuperError::Io {
                command,
                what: "write queue IDs to its stdin",
                source,
                report: Some(Box::new(report)),
            });
        }
        Ok(report)
    }

    /// Whether this Postfix's postsuper has the option: `-e`/`-f` need 3.5+. Asks
    /// `postconf [-c DIR] -d -h mail_version` (the compiled-in version of the installed
    /// Postfix) only for those.
    pub fn supports(&self, op: Op) -> Result<bool, PostsuperError> {
        let need = op.min_postfix();
        if need <= (2, 0) {
            return Ok(true);
        }
        let mut args: Vec<OsString> = Vec::new();
        if let Some(dir) = &self.config_dir {
            args.push("-c".into());
            args.push(dir.clone().into_os_string());
        }
        args.extend(["-d", "-h", "mail_version"].map(OsString::from));
        let command = command_text(&self.postconf, &args);
        let output = Command::new(&self.postconf)
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .map_err(|source| PostsuperError::Spawn {
                command: command.clone(),
                source,
            })?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(PostsuperError::Version {
                command,
                detail: format!("{}: {}", output.status, stderr.trim()),
            });
        }
        match parse_version(stdout.trim()) {
            Some(version) => Ok(version >= need),
            None => Err(PostsuperError::Version {
                command,
                detail: format!(
                    "unrecognised mail_version \"{}\"",
                    stdout.trim().escape_debug()
                ),
            }),
        }
    }
}

/// Splits `ids` into batches of at most `size` (at least 1) IDs, in order.
pub fn batches<'a>(ids: &'a [&'a str], size: usize) -> impl Iterator<Item = &'a [&'a str]> {
    ids.chunks(size.max(1))
}

/// Deliver now: `postqueue [-c DIR] -i ID`, one process per ID (postqueue has no batch form),
/// paced at `rate` IDs per second, stopping before the next ID once `stop` is set (the
/// result then has fewer entries than `ids`).
///
/// `Ok` means postqueue exited 0, i.e. the flush daemon accepted the request. That is all it
/// means: `flush_send_file_service` (`src/flush/flush.c`) answers OK for any well-formed ID,
/// and moves the file from `deferred` to `incoming` only if it is there. With the mail system
/// down, postqueue fails ("Cannot flush mail queue - mail system is down", exit 69).
/// Invalid IDs (and an invalid rate) give `Err` without running anything.
pub fn flush(
    program: &Path,
    config_dir: Option<&Path>,
    ids: &[&str],
    rate: Option<f64>,
    stop: &AtomicBool,
) -> Vec<(String, Result<(), String>)> {
    let interval = match pacing_interval(rate) {
        Ok(interval) => interval,
        Err(e) => {
            return ids
                .iter()
                .map(|id| (id.to_string(), Err(e.to_string())))
                .collect()
        }
    };
    let config_dir = config_dir.map(absolute);
    let start = Instant::now();
    let mut results = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        if let Some(interval) = interval {
            if !sleep_until(start + interval.mul_f64(i as f64), Some(stop)) {
                break;
            }
        }
        if stop.load(Ordering::Relaxed) {
            break;
        }
        if !is_valid_queue_id(id) {
            let e = PostsuperError::InvalidId { id: id.to_string() };
            results.push((id.to_string(), Err(e.to_string())));
            continue;
        }
        let mut args: Vec<OsString> = Vec::new();
        if let Some(dir) = &config_dir {
            args.push("-c".into());
            args.push(dir.clone().into_os_string());
        }
        args.push("-i".into());
        args.push(OsString::from(id));
        let output = Command::new(program)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0)
            .output();
        let result = match output {
            Err(e) => Err(format!(
                "cannot run `{}`: {e}",
                command_text(program, &args)
            )),
            Ok(out) if out.status.success() => Ok(()),
            Ok(out) => {
                let text = String::from_utf8_lossy(&out.stderr);
                let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
                if lines.is_empty() {
                    Err(format!(
                        "`{}` failed ({})",
                        command_text(program, &args),
                        out.status
                    ))
                } else {
                    Err(lines.join("; "))
                }
            }
        };
        results.push((id.to_string(), result));
    }
    results
}

// ---- running the process ----

/// What the stdin writer managed.
struct Fed {
    /// IDs handed to `write` (the last chunk possibly only in part, if `error` is set).
    attempted: usize,
    error: Option<io::Error>,
}

/// Writes the IDs to postsuper's stdin, paced or in chunks, then closes it (EOF ends
/// `operate_stream`). A write error (EPIPE when postsuper died) ends the feeding.
fn feed(
    mut stdin: ChildStdin,
    ids: &[&str],
    interval: Option<Duration>,
    stop: Option<&AtomicBool>,
) -> Fed {
    let stopped = || stop.is_some_and(|s| s.load(Ordering::Relaxed));
    let mut attempted = 0;
    let mut buf = Vec::new();
    match interval {
        None => {
            for chunk in ids.chunks(UNPACED_CHUNK) {
                if stopped() {
                    break;
                }
                buf.clear();
                for id in chunk {
                    buf.extend_from_slice(id.as_bytes());
                    buf.push(b'\n');
                }
                attempted += chunk.len();
                if let Err(error) = stdin.write_all(&buf) {
                    return Fed {
                        attempted,
                        error: Some(error),
                    };
                }
            }
        }
        Some(interval) => {
            let start = Instant::now();
            for (i, id) in ids.iter().enumerate() {
                if !sleep_until(start + interval.mul_f64(i as f64), stop) || stopped() {
                    break;
                }
                buf.clear();
                buf.extend_from_slice(id.as_bytes());
                buf.push(b'\n');
                attempted += 1;
                if let Err(error) = stdin.write_all(&buf) {
                    return Fed {
                        attempted,
                        error: Some(error),
                    };
                }
            }
        }
    }
    Fed {
        attempted,
        error: None,
    }
}

/// Sleeps until `deadline`, looking at `stop` every [`STOP_POLL`]; false if it was set.
fn sleep_until(deadline: Instant, stop: Option<&AtomicBool>) -> bool {
    loop {
        if stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
            return false;
        }
        let now = Instant::now();
        if now >= deadline {
            return true;
        }
        std::thread::sleep((deadline - now).min(STOP_POLL));
    }
}

/// Reads `reader` line by line (newline removed, invalid UTF-8 replaced) until EOF.
fn read_lines(reader: impl io::Read, mut each: impl FnMut(&str)) -> io::Result<()> {
    let mut reader = BufReader::new(reader);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) => return Ok(()),
            Ok(_) => {
                if buf.last() == Some(&b'\n') {
                    buf.pop();
                }
                each(&String::from_utf8_lossy(&buf));
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

fn check_ids(ids: &[&str]) -> Result<(), PostsuperError> {
    match ids.iter().find(|id| !is_valid_queue_id(id)) {
        Some(bad) => Err(PostsuperError::InvalidId {
            id: bad.to_string(),
        }),
        None => Ok(()),
    }
}

/// The pause between two IDs for `rate` IDs per second.
fn pacing_interval(rate: Option<f64>) -> Result<Option<Duration>, PostsuperError> {
    match rate {
        None => Ok(None),
        Some(rate) if rate.is_finite() && rate > 0.0 => Ok(Some(
            Duration::try_from_secs_f64(1.0 / rate).unwrap_or(Duration::MAX),
        )),
        Some(rate) => Err(PostsuperError::InvalidRate { rate }),
    }
}

/// The last [`ERROR_LINES`] lines, for an error message.
fn quote_lines(lines: &[String]) -> String {
    let skip = lines.len().saturating_sub(ERROR_LINES);
    let mut text = String::new();
    if skip > 0 {
        text.push_str(&format!("({skip} earlier lines not shown)\n"));
    }
    text.push_str(&lines[skip..].join("\n"));
    text
}

// ---- parsing postsuper's stderr ----

/// One stderr line, classified.
#[derive(Debug, PartialEq, Eq)]
enum Line<'a> {
    /// `postsuper: ID: removed` and friends (`msg_info("%s: removed", queue_id)`).
    Success { id: &'a str, bit: u8 },
    /// `postsuper: Deleted: 3 messages` (`msg_info("Deleted: %d message%s", …)`).
    Summary { label: &'a str, count: u64 },
    /// `postsuper: warning: …`; the text after `warning: `.
    Warning(&'a str),
    /// Anything else: `fatal:`, `error:`, verbose output, a stub's chatter.
    Other,
}

fn parse_line(line: &str) -> Line<'_> {
    // We start it with argv[0] = "postsuper", and msg_vstream_init(argv[0]) prefixes every
    // message with that name.
    let Some(rest) = line.strip_prefix("postsuper: ") else {
        return Line::Other;
    };
    if let Some(text) = rest.strip_prefix("warning: ") {
        return Line::Warning(text);
    }
    let Some((head, tail)) = rest.split_once(": ") else {
        return Line::Other;
    };
    if is_valid_queue_id(head) {
        if let Some(&(_, bit)) = SUCCESS_WORDS.iter().find(|(word, _)| *word == tail) {
            return Line::Success { id: head, bit };
        }
    }
    let count = tail
        .strip_suffix(" messages")
        .or_else(|| tail.strip_suffix(" message"))
        .and_then(|n| n.parse::<u64>().ok());
    let label_ok = !head.is_empty()
        && head
            .bytes()
            .all(|b| b.is_ascii_alphabetic() || b == b' ' || b == b'-');
    match count {
        Some(count) if label_ok => Line::Summary { label: head, count },
        _ => Line::Other,
    }
}

/// Queue IDs a warning names: tokens of ID characters that are not followed by `/` (so
/// `deferred/A/ABC123: …` names `ABC123`, not the queue or the hash directory `A`).
fn named_ids(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let is_id_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() {
            if !is_id_byte(bytes[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && is_id_byte(bytes[i]) {
                i += 1;
            }
            if bytes.get(i) != Some(&b'/') {
                return Some(&text[start..i]);
            }
        }
        None
    })
}

/// Maps stderr lines back to the IDs sent, in order.
///
/// postsuper handles the IDs strictly in input order and prints as it goes, so a success
/// line for ID X belongs to the first occurrence of X at or after the last matched position
/// that has not yet printed that word (duplicates in the input: the first occurrence gets
/// the line, the later ones find the message gone). `-f` prints `expired` and then
/// `released from hold` for the same occurrence.
struct Tracker<'a> {
    op: Op,
    ids: &'a [&'a str],
    positions: HashMap<&'a str, Vec<usize>>,
    seen: Vec<u8>,
    warnings: Vec<Option<String>>,
    cursor: usize,
    summary: Vec<(String, u64)>,
    other_lines: Vec<String>,
}

impl<'a> Tracker<'a> {
    fn new(op: Op, ids: &'a [&'a str]) -> Tracker<'a> {
        let mut positions: HashMap<&str, Vec<usize>> = HashMap::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            positions.entry(*id).or_default().push(i);
        }
        Tracker {
            op,
            ids,
            positions,
            seen: vec![0; ids.len()],
            warnings: vec![None; ids.len()],
            cursor: 0,
            summary: Vec::new(),
            other_lines: Vec::new(),
        }
    }

    fn handle(&mut self, line: &str) {
        match parse_line(line) {
            Line::Success { id, bit } if bit & self.op.success_bits() != 0 => {
                if !self.record_success(id, bit) {
                    self.other_lines.push(line.to_string());
                }
            }
            Line::Summary { label, count } => self.summary.push((label.to_string(), count)),
            Line::Warning(text) => {
                self.record_warning(text, line);
                self.other_lines.push(line.to_string());
            }
            Line::Success { .. } | Line::Other => self.other_lines.push(line.to_string()),
        }
    }

    fn record_success(&mut self, id: &str, bit: u8) -> bool {
        let Some(pos) = self.positions.get(id) else {
            return false;
        };
        let from = pos.partition_point(|&i| i < self.cursor);
        // Normally found at or after the cursor; the fallback keeps a line from being lost
        // if postsuper's order ever surprised us.
        let found = pos[from..]
            .iter()
            .chain(&pos[..from])
            .copied()
            .find(|&i| self.seen[i] & bit == 0);
        match found {
            Some(i) => {
                self.seen[i] |= bit;
                self.cursor = self.cursor.max(i);
                true
            }
            None => false,
        }
    }

    /// Records the warning on the first named ID that is still open (no success yet, at or
    /// after the cursor). Warnings do not move the cursor: a word in the text that happens
    /// to equal a later ID must not make us skip ahead.
    fn record_warning(&mut self, text: &str, line: &str) {
        for token in named_ids(text) {
            let Some(pos) = self.positions.get(token) else {
                continue;
            };
            let from = pos.partition_point(|&i| i < self.cursor);
            if let Some(&i) = pos[from..].iter().find(|&&i| self.seen[i] == 0) {
                if self.warnings[i].is_none() {
                    self.warnings[i] = Some(line.to_string());
                }
                return;
            }
        }
    }

    fn finish(self, sent: usize, status: ExitStatus) -> BatchReport {
        let sent = sent.min(self.ids.len());
        let expected = self.op.success_bits();
        let outcomes = self.ids[..sent]
            .iter()
            .zip(self.seen)
            .zip(self.warnings)
            .map(|((id, seen), warning)| {
                let outcome = if seen & expected != 0 {
                    IdOutcome::Done
                } else if let Some(w) = warning {
                    IdOutcome::Warned(w)
                } else {
                    IdOutcome::NotActed
                };
                (id.to_string(), outcome)
            })
            .collect();
        BatchReport {
            outcomes,
            summary: self.summary,
            other_lines: self.other_lines,
            status,
            unsent: self.ids.len() - sent,
        }
    }
}

// ---- small helpers ----

/// `3.7.11` → (3, 7); `3.10-20250101` → (3, 10); `3.5.0-RC1` → (3, 5).
fn parse_version(text: &str) -> Option<(u32, u32)> {
    let mut parts = text.splitn(3, '.');
    let major = parts.next()?.parse().ok()?;
    let minor_text = parts.next()?;
    let digits = minor_text
        .find(|c: char| !c.is_ascii_digit())
        .map_or(minor_text, |end| &minor_text[..end]);
    Some((major, digits.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    // ---- pure parts ----

    #[test]
    fn op_table() {
        let flags: Vec<&str> = Op::ALL.iter().map(|op| op.flag()).collect();
        assert_eq!(flags, ["-d", "-h", "-H", "-r", "-e", "-f"]);
        for op in Op::ALL {
            // Only names postsuper accepts (find_queue_info), never corrupt/saved.
            for q in op.queues() {
                assert!(
                    ["maildrop", "incoming", "active", "deferred", "hold"].contains(q),
                    "{op:?}: {q}"
                );
            }
            assert_eq!(
                op.success_words().len(),
                op.success_bits().count_ones() as usize
            );
        }
        // The words the operator reads in plans, prompts and the journal.
        let verbs: Vec<&str> = Op::ALL.iter().map(|op| op.verb()).collect();
        assert_eq!(
            verbs,
            [
                "delete",
                "hold",
                "release",
                "requeue",
                "expire",
                "expire and release"
            ]
        );
        // The summary labels as postsuper prints them (postsuper.c; the real-postsuper
        // tests below read these lines back with `summary_count`).
        let labels: Vec<&[&str]> = Op::ALL.iter().map(|op| op.summary_labels()).collect();
        assert_eq!(
            labels,
            [
                &["Deleted"][..],
                &["Placed on hold"],
                &["Released from hold"],
                &["Requeued"],
                &["Force-expired"],
                &["Force-expired", "Released from hold"],
            ]
        );
        assert!(Op::Delete.queues().contains(&"maildrop"));
        assert_eq!(Op::Release.queues(), ["hold"]);
        assert!(!Op::Hold.queues().contains(&"hold"));
    }

    #[test]
    fn line_parsing() {
        use Line::*;
        let cases: &[(&str, Line)] = &[
            (
                "postsuper: A45E798E3F5: removed",
                Success {
                    id: "A45E798E3F5",
                    bit: REMOVED,
                },
            ),
            (
                "postsuper: 4jXXK158vnz1SY32: placed on hold",
                Success {
                    id: "4jXXK158vnz1SY32",
                    bit: PLACED_ON_HOLD,
                },
            ),
            (
                "postsuper: X_1: released from hold",
                Success {
                    id: "X_1",
                    bit: RELEASED,
                },
            ),
            (
                "postsuper: X: requeued",
                Success {
                    id: "X",
                    bit: REQUEUED,
                },
            ),
            (
                "postsuper: X: expired",
                Success {
                    id: "X",
                    bit: EXPIRED,
                },
            ),
            (
                "postsuper: Deleted: 0 messages",
                Summary {
                    label: "Deleted",
                    count: 0,
                },
            ),
            (
                "postsuper: Deleted: 1 message",
                Summary {
                    label: "Deleted",
                    count: 1,
                },
            ),
            (
                "postsuper: Released from hold: 12 messages",
                Summary {
                    label: "Released from hold",
                    count: 12,
                },
            ),
            (
                "postsuper: Force-expired: 3 messages",
                Summary {
                    label: "Force-expired",
                    count: 3,
                },
            ),
            (
                "postsuper: warning: invalid mail queue id: X ",
                Warning("invalid mail queue id: X "),
            ),
            ("postsuper: fatal: invalid directory name: corrupt", Other),
            ("postsuper: X: removed ", Other),
            ("postsuper: X Y: removed", Other),
            ("postsuper: X: deleted", Other),
            ("postsuper: Deleted: many messages", Other),
            ("postsuper: Deleted: -1 messages", Other),
            ("postqueue: X: removed", Other),
            ("X: removed", Other),
            ("", Other),
            ("postsuper: ", Other),
            ("postsuper: \u{1b}[31m: removed", Other),
            // A count after something that is not a label (letters, spaces, `-`).
            ("postsuper: \u{1b}[31m: 3 messages", Other),
            ("postsuper: Deleted 2: 3 messages", Other),
            ("postsuper: A45E798E3F5: 1 message", Other),
            ("postsuper: : 3 messages", Other),
        ];
        for (line, want) in cases {
            assert_eq!(&parse_line(line), want, "{line:?}");
        }
    }

    #[test]
    fn warning_names() {
        let ids: Vec<&str> = named_ids("hold/DIRID12345: uid 102: not a regular file").collect();
        assert_eq!(
            ids,
            ["DIRID12345", "uid", "102", "not", "a", "regular", "file"]
        );
        let ids: Vec<&str> = named_ids("expire file deferred/A/ABC12: x").collect();
        assert_eq!(ids, ["expire", "file", "ABC12", "x"]);
        assert_eq!(named_ids("").count(), 0);
        assert_eq!(named_ids("//é é/").count(), 0);
    }

    #[test]
    fn id_and_rate_checks() {
        let long = "A".repeat(255);
        assert!(check_ids(&["A45E798E3F5", "4jXXK158vnz1SY32", "x_y", &long]).is_ok());
        let too_long = "A".repeat(256);
        for bad in [
            "", "ID ", "ID\r", "ID*", "ID!", "a/b", "../x", "ÄB", "-", &too_long,
        ] {
            match check_ids(&["OK1", bad]) {
                Err(PostsuperError::InvalidId { id }) => assert_eq!(id, bad),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
        assert_eq!(pacing_interval(None).unwrap(), None);
        assert_eq!(
            pacing_interval(Some(4.0)).unwrap(),
            Some(Duration::from_millis(250))
        );
        assert!(pacing_interval(Some(1e-300)).unwrap().is_some());
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                pacing_interval(Some(bad)),
                Err(PostsuperError::InvalidRate { .. })
            ));
        }
    }

    #[test]
    fn error_text_quotes_the_last_lines() {
        let lines = |n: usize| -> Vec<String> { (1..=n).map(|i| format!("line {i}")).collect() };
        assert_eq!(quote_lines(&[]), "");
        assert_eq!(quote_lines(&lines(3)), "line 1\nline 2\nline 3");
        // Exactly ERROR_LINES: all of them, and no note about lines left out.
        assert_eq!(
            quote_lines(&lines(ERROR_LINES)),
            lines(ERROR_LINES).join("\n")
        );
        let text = quote_lines(&lines(ERROR_LINES + 2));
        let mut want = vec!["(2 earlier lines not shown)".to_string()];
        want.extend(lines(ERROR_LINES + 2).into_iter().skip(2));
        assert_eq!(text, want.join("\n"));
    }

    #[test]
    fn batching_helper() {
        let ids = ["A", "B", "C", "D", "E"];
        let sizes: Vec<usize> = batches(&ids, 2).map(<[&str]>::len).collect();
        assert_eq!(sizes, [2, 2, 1]);
        assert_eq!(batches(&ids, 0).count(), 5);
        assert_eq!(batches(&[], 10).count(), 0);
        assert_eq!(batches(&ids, 10).next(), Some(&ids[..]));
    }

    #[test]
    fn versions() {
        assert_eq!(parse_version("3.7.11"), Some((3, 7)));
        assert_eq!(parse_version("3.10-20250101"), Some((3, 10)));
        assert_eq!(parse_version("3.5.0-RC1"), Some((3, 5)));
        assert_eq!(parse_version("2.11.3"), Some((2, 11)));
        assert_eq!(parse_version("3"), None);
        assert_eq!(parse_version("x.y"), None);
        assert_eq!(parse_version(""), None);
    }

    // ---- a recording stub of postsuper (and of postqueue/postconf) ----

    /// A bash script in a temp dir. The standard stub records its argv (one per line) to
    /// `argv`, every stdin line to `stdin` and the time it read it to `stamps`, runs
    /// `per_id` (shell code, `$id` set) for each line as it reads it, then copies the file
    /// `tail` to stderr and exits with `status`.
    struct Stub {
        dir: tempfile::TempDir,
    }

    impl Stub {
        fn new(per_id: &str, tail: &[u8], status: i32) -> Stub {
            let body = format!(
                "printf '%s\\n' \"$@\" > \"$d/argv\"\n\
                 exec 3> \"$d/stdin\" 4> \"$d/stamps\"\n\
                 while IFS= read -r id || [ -n \"$id\" ]; do\n\
                 printf '%s\\n' \"$id\" >&3\n\
                 printf '%s\\n' \"$EPOCHREALTIME\" >&4\n\
                 {per_id}\n\
                 done\n\
                 cat \"$d/tail\" >&2\n\
                 exit {status}\n"
            );
            let stub = Stub::raw(&body);
            fs::write(stub.dir.path().join("tail"), tail).expect("write the stub's tail");
            stub
        }

        /// A script with this body; `$d` is its directory.
        fn raw(body: &str) -> Stub {
            let dir = tempfile::tempdir().expect("temp dir for a stub");
            let script = format!("#!/bin/bash\nd='{}'\n{body}", dir.path().display());
            let path = dir.path().join("stub");
            fs::write(&path, script).expect("write the stub");
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod stub");
            Stub { dir }
        }

        fn path(&self) -> PathBuf {
            self.dir.path().join("stub")
        }

        fn postsuper(&self, config_dir: Option<&Path>) -> Postsuper {
            Postsuper::with_programs(
                self.path(),
                PathBuf::from("/nonexistent/postconf"),
                config_dir,
            )
        }

        fn read(&self, name: &str) -> String {
            fs::read_to_string(self.dir.path().join(name))
                .unwrap_or_else(|e| panic!("stub file {name}: {e}"))
        }

        fn ran(&self) -> bool {
            self.dir.path().join("argv").exists()
        }
    }

    fn run_stub(
        stub: &Stub,
        op: Op,
        ids: &[&str],
    ) -> (Result<BatchReport, PostsuperError>, Vec<String>) {
        let mut lines = Vec::new();
        let result = stub
            .postsuper(None)
            .run_batch(op, ids, None, &mut |l| lines.push(l.to_string()));
        (result, lines)
    }

    fn outcomes(report: &BatchReport) -> Vec<IdOutcome> {
        report.outcomes.iter().map(|(_, o)| o.clone()).collect()
    }

    #[test]
    fn stub_records_argv_and_stdin_for_every_op() {
        for op in Op::ALL {
            let stub = Stub::new("", b"", 0);
            let ps = stub.postsuper(Some(Path::new("/etc/qs-test")));
            let report = ps.run_batch(op, &["A1", "B2"], None, &mut |_| {}).unwrap();
            let mut want = vec!["-c", "/etc/qs-test", op.flag(), "-"];
            want.extend(op.queues());
            assert_eq!(
                stub.read("argv").lines().collect::<Vec<_>>(),
                want,
                "{op:?}"
            );
            assert_eq!(stub.read("stdin"), "A1\nB2\n");
            // What plans, prompts and errors show as the command: the same words.
            assert_eq!(
                ps.command_line(op),
                format!("{} {}", ps.program().display(), want.join(" ")),
                "{op:?}"
            );
            assert_eq!(
                outcomes(&report),
                [IdOutcome::NotActed, IdOutcome::NotActed]
            );
            assert!(report.status.success());
            assert_eq!(report.unsent, 0);
        }
        // A relative -c is made absolute: postsuper refuses anything else.
        let stub = Stub::new("", b"", 0);
        stub.postsuper(Some(Path::new("rel/conf")))
            .run_batch(Op::Delete, &["A1"], None, &mut |_| {})
            .unwrap();
        let argv = stub.read("argv");
        let dir = argv.lines().nth(1).unwrap();
        assert!(dir.starts_with('/') && dir.ends_with("rel/conf"), "{dir}");
    }

    #[test]
    fn stub_invalid_id_refused_before_start() {
        let stub = Stub::new("", b"", 0);
        let err = stub
            .postsuper(None)
            .run_batch(Op::Delete, &["A1", "B2 "], None, &mut |_| {})
            .unwrap_err();
        assert!(
            matches!(&err, PostsuperError::InvalidId { id } if id == "B2 "),
            "{err:?}"
        );
        assert!(err.to_string().contains("\"B2 \""), "{err}");
        assert!(err.partial_report().is_none());
        let err = stub
            .postsuper(None)
            .run_batch(Op::Delete, &["A1"], Some(0.0), &mut |_| {})
            .unwrap_err();
        assert!(matches!(err, PostsuperError::InvalidRate { .. }), "{err:?}");
        assert!(!stub.ran(), "the stub must not have been started");
    }

    #[test]
    fn stub_parsing_warnings_duplicates_and_odd_lines() {
        let mut tail = b"postsuper: A1: removed\n\
            postsuper: warning: deferred/C/C3: uid 0: not a regular file\n\
            postsuper: warning: deferred/C/C3: uid 0: not a regular file\n\
            postsuper: E5: placed on hold\n\
            postsuper: Z9: removed\n\
            postsuper: D4: removed\n\
            some chatter\n\
            postsuper: info: odd: line\n"
            .to_vec();
        tail.extend_from_slice(b"\xff\xfe garbage\npostsuper: Deleted: 2 messages");
        let stub = Stub::new("", &tail, 0);
        let ids = ["A1", "B2", "C3", "D4", "A1", "E5"];
        let (result, lines) = run_stub(&stub, Op::Delete, &ids);
        let report = result.unwrap();
        let warned = "postsuper: warning: deferred/C/C3: uid 0: not a regular file";
        assert_eq!(
            outcomes(&report),
            [
                IdOutcome::Done,
                IdOutcome::NotActed,
                IdOutcome::Warned(warned.into()),
                IdOutcome::Done,
                IdOutcome::NotActed, // the duplicate: the first A1 got the line
                IdOutcome::NotActed, // "placed on hold" is not a delete
            ]
        );
        let ids_back: Vec<&str> = report.outcomes.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids_back, ids);
        assert_eq!(report.summary, [("Deleted".to_string(), 2)]);
        assert_eq!(report.summary_count("Deleted"), Some(2));
        assert_eq!(report.done_count(), 2);
        assert_eq!(lines.len(), 10, "{lines:?}");
        assert_eq!(lines[9], "postsuper: Deleted: 2 messages"); // no final newline: still a line
        assert!(lines[8].starts_with('\u{fffd}'), "{:?}", lines[8]);
        assert_eq!(
            report.other_lines,
            [
                warned,
                warned,
                "postsuper: E5: placed on hold",
                "postsuper: Z9: removed",
                "some chatter",
                "postsuper: info: odd: line",
                &lines[8]
            ]
        );
    }

    #[test]
    fn stub_lines_for_a_repeated_id_go_to_the_occurrence_being_handled() {
        // postsuper handles the IDs in input order: once A1 (between the two C3) is done, a
        // line naming C3 is about the second C3, whatever became of the first.
        let warned = "postsuper: warning: deferred/C/C3: uid 0: not a regular file";
        let ids = ["C3", "A1", "C3"];
        use IdOutcome::*;
        let stub = Stub::new(
            "",
            format!("{warned}\npostsuper: A1: removed\n{warned}\n").as_bytes(),
            0,
        );
        let report = run_stub(&stub, Op::Delete, &ids).0.unwrap();
        assert_eq!(
            outcomes(&report),
            [Warned(warned.into()), Done, Warned(warned.into())]
        );
        let stub = Stub::new(
            "",
            format!("{warned}\npostsuper: A1: removed\npostsuper: C3: removed\n").as_bytes(),
            0,
        );
        let report = run_stub(&stub, Op::Delete, &ids).0.unwrap();
        assert_eq!(outcomes(&report), [Warned(warned.into()), Done, Done]);
    }

    #[test]
    fn stub_expire_release_prints_two_lines_for_one_id() {
        let tail = b"postsuper: H1: expired\n\
            postsuper: H1: released from hold\n\
            postsuper: H2: released from hold\n\
            postsuper: D1: expired\n\
            postsuper: Force-expired: 2 messages\n\
            postsuper: Released from hold: 2 messages\n";
        let stub = Stub::new("", tail, 0);
        let (result, _) = run_stub(&stub, Op::ExpireRelease, &["H1", "H2", "D1", "X1", "H1"]);
        let report = result.unwrap();
        use IdOutcome::*;
        assert_eq!(outcomes(&report), [Done, Done, Done, NotActed, NotActed]);
        assert_eq!(report.summary_count("Force-expired"), Some(2));
        assert_eq!(report.summary_count("Released from hold"), Some(2));
        assert!(report.other_lines.is_empty(), "{:?}", report.other_lines);

        // Plain -e never prints "released from hold": such a line is not a success.
        let stub = Stub::new("", tail, 0);
        let (result, _) = run_stub(&stub, Op::Expire, &["H1", "H2", "D1"]);
        let report = result.unwrap();
        assert_eq!(outcomes(&report), [Done, NotActed, Done]);
        assert_eq!(report.other_lines.len(), 2);
    }

    #[test]
    fn stub_fatal_exit_is_an_error_with_the_partial_report() {
        let stub = Stub::new(
            r#"[ "$id" = A1 ] && echo "postsuper: A1: removed" >&2"#,
            b"postsuper: fatal: rename file deferred/A/A2 as hold/A2: Permission denied\n",
            1,
        );
        let (result, lines) = run_stub(&stub, Op::Delete, &["A1", "A2"]);
        let err = result.unwrap_err();
        let text = err.to_string();
        assert!(text.contains(&stub.path().display().to_string()), "{text}");
        assert!(
            text.contains("-d - hold incoming active deferred maildrop"),
            "{text}"
        );
        assert!(text.contains("exit status: 1"), "{text}");
        assert!(text.contains("fatal: rename file deferred/A/A2"), "{text}");
        let report = err.partial_report().expect("partial report");
        assert_eq!(outcomes(report), [IdOutcome::Done, IdOutcome::NotActed]);
        assert_eq!(lines.len(), 2);
    }

    #[test]
    fn stub_exiting_without_reading_stdin_is_an_error() {
        // A wrapper that exits 0 at once: the IDs it never read were not looked at.
        let stub = Stub::raw("exit 0\n");
        let ids: Vec<String> = (0..100_000).map(|i| format!("ID{i:08}")).collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let err = stub
            .postsuper(None)
            .run_batch(Op::Hold, &ids, None, &mut |_| {})
            .unwrap_err();
        assert!(
            matches!(
                err,
                PostsuperError::Io {
                    what: "write queue IDs to its stdin",
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.partial_report().is_some());
    }

    #[test]
    fn stub_runs_in_its_own_process_group() {
        // A terminal Ctrl-C signals the foreground process group; postsuper must not be in
        // ours, or it would _exit between two IDs (postsuper.c interrupted()).
        let stub = Stub::raw(
            "cat > /dev/null\nread -r -a stat < /proc/$$/stat\n\
             echo \"pid=$$ pgrp=${stat[4]}\" >&2\n",
        );
        let report = stub
            .postsuper(None)
            .run_batch(Op::Delete, &["A1"], None, &mut |_| {})
            .unwrap();
        let line = &report.other_lines[0];
        let (pid, pgrp) = line.split_once(' ').expect("pid=… pgrp=…");
        assert_eq!(
            pid.trim_start_matches("pid="),
            pgrp.trim_start_matches("pgrp="),
            "{line}"
        );
        assert_ne!(
            pgrp.trim_start_matches("pgrp="),
            std::process::id().to_string()
        );
    }

    /// A failing read of postsuper's output ends the reading with that error; it is not
    /// retried forever (only EINTR is, and `read_until` already retries that itself).
    #[test]
    fn read_lines_stops_at_a_read_error() {
        struct Failing(usize);
        impl io::Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                self.0 += 1;
                if self.0 == 1 {
                    buf[..3].copy_from_slice(b"a\nb");
                    return Ok(3);
                }
                Err(io::Error::other("read failed"))
            }
        }
        let mut lines = Vec::new();
        let err = read_lines(Failing(0), |l| lines.push(l.to_owned())).unwrap_err();
        assert_eq!(err.to_string(), "read failed");
        assert_eq!(lines, ["a"]);
    }

    #[test]
    fn stub_missing_program_is_a_spawn_error() {
        let ps = Postsuper::with_programs(
            "/nonexistent/postsuper".into(),
            "/nonexistent/postconf".into(),
            None,
        );
        let err = ps
            .run_batch(Op::Delete, &["A1"], None, &mut |_| {})
            .unwrap_err();
        assert!(matches!(err, PostsuperError::Spawn { .. }), "{err:?}");
        assert!(
            err.to_string()
                .starts_with("cannot run `/nonexistent/postsuper -d - hold"),
            "{err}"
        );
        // The system's reason stays reachable (anyhow's `{:#}` chains print it).
        let source = std::error::Error::source(&err).expect("the io::Error");
        assert_eq!(source.to_string(), "No such file or directory (os error 2)");
        let bad = PostsuperError::InvalidId { id: "x".into() };
        assert!(std::error::Error::source(&bad).is_none());
    }

    #[test]
    fn stub_large_batch_does_not_deadlock() {
        // The stub answers every ID on stderr as it reads it (like postsuper): 20,000 IDs are
        // ~240 KB of stdin and ~600 KB of stderr, far beyond the 64 KB pipe buffers.
        let stub = Stub::new(
            r#"echo "postsuper: $id: removed" >&2"#,
            b"postsuper: Deleted: 20000 messages\n",
            0,
        );
        let ids: Vec<String> = (0..20_000)
            .map(|i| format!("{:05X}{:06X}", i % 0x10_0000, 0x98_0000 + i))
            .collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let started = Instant::now();
        let mut count = 0;
        let report = stub
            .postsuper(None)
            .run_batch(Op::Delete, &ids, None, &mut |_| count += 1)
            .unwrap();
        eprintln!("stub: 20,000 IDs in one batch: {:?}", started.elapsed());
        assert_eq!(count, 20_001);
        assert_eq!(report.done_count(), 20_000);
        assert_eq!(report.summary_count("Deleted"), Some(20_000));
        assert_eq!(stub.read("stdin").lines().count(), 20_000);
    }

    fn stamps(stub: &Stub) -> Vec<f64> {
        stub.read("stamps")
            .lines()
            .map(|l| {
                l.parse::<f64>()
                    .unwrap_or_else(|e| panic!("stamp {l:?}: {e}"))
            })
            .collect()
    }

    #[test]
    fn stub_pacing_spreads_the_ids() {
        let stub = Stub::new("", b"", 0);
        let started = Instant::now();
        stub.postsuper(None)
            .run_batch(
                Op::Hold,
                &["A1", "A2", "A3", "A4", "A5", "A6"],
                Some(20.0),
                &mut |_| {},
            )
            .unwrap();
        let elapsed = started.elapsed();
        let t = stamps(&stub);
        assert_eq!(t.len(), 6);
        // 5 intervals of 50 ms; each ID reaches the stub only when it is due.
        assert!(elapsed >= Duration::from_millis(250), "{elapsed:?}");
        assert!(t[5] - t[0] >= 0.24, "{t:?}");
        for pair in t.windows(2) {
            assert!(pair[1] - pair[0] >= 0.03, "{t:?}");
        }
        assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    }

    #[test]
    fn stub_stop_flag_ends_the_batch_cleanly() {
        let stub = Stub::new(r#"echo "postsuper: $id: placed on hold" >&2"#, b"", 0);
        let ids: Vec<String> = (0..200).map(|i| format!("ID{i}")).collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let stop = AtomicBool::new(false);
        let mut seen = 0;
        let report = stub
            .postsuper(None)
            .run_batch_until(Op::Hold, &ids, Some(50.0), Some(&stop), &mut |_| {
                seen += 1;
                if seen == 5 {
                    stop.store(true, Ordering::Relaxed);
                }
            })
            .unwrap();
        let sent = report.outcomes.len();
        assert!((5..20).contains(&sent), "{sent}");
        assert_eq!(report.unsent, 200 - sent);
        // Every ID written was handled (the stub read it and answered).
        assert_eq!(stub.read("stdin").lines().count(), sent);
        assert_eq!(report.done_count(), sent);

        // Stopped before the first ID: postsuper sees an empty stdin.
        let stub = Stub::new("", b"postsuper: Placed on hold: 0 messages\n", 0);
        let stop = AtomicBool::new(true);
        let report = stub
            .postsuper(None)
            .run_batch_until(Op::Hold, &ids, None, Some(&stop), &mut |_| {})
            .unwrap();
        assert!(report.outcomes.is_empty());
        assert_eq!(report.unsent, 200);
        assert_eq!(stub.read("stdin"), "");
    }

    #[test]
    fn stub_postconf_version_check() {
        let postconf = |body: &str| {
            let stub = Stub::raw(&format!("printf '%s\\n' \"$@\" > \"$d/argv\"\n{body}\n"));
            let ps = Postsuper::with_programs(
                "/nonexistent/postsuper".into(),
                stub.path(),
                Some(Path::new("/etc/qs")),
            );
            (stub, ps)
        };
        let (stub, ps) = postconf("echo 3.4.14");
        assert!(ps.supports(Op::Delete).unwrap());
        assert!(!stub.ran(), "no postconf needed for -d");
        assert!(!ps.supports(Op::Expire).unwrap());
        assert!(!ps.supports(Op::ExpireRelease).unwrap());
        assert_eq!(stub.read("argv"), "-c\n/etc/qs\n-d\n-h\nmail_version\n");
        let (_stub, ps) = postconf("echo 3.10-20250101");
        assert!(ps.supports(Op::Expire).unwrap());
        let (_stub, ps) = postconf("echo 3.5.0");
        assert!(ps.supports(Op::ExpireRelease).unwrap());
        let (_stub, ps) = postconf("echo snapshot");
        let err = ps.supports(Op::Expire).unwrap_err();
        assert!(
            err.to_string()
                .contains("unrecognised mail_version \"snapshot\""),
            "{err}"
        );
        let (_stub, ps) =
            postconf("echo 'postconf: fatal: open /etc/qs/main.cf: No such file' >&2; exit 1");
        let err = ps.supports(Op::Expire).unwrap_err();
        assert!(
            err.to_string().contains("fatal: open /etc/qs/main.cf"),
            "{err}"
        );
    }

    #[test]
    fn stub_flush_one_process_per_id() {
        let stub = Stub::raw(
            "printf '%s\\n' \"$*\" >> \"$d/calls\"\n\
             echo \"$EPOCHREALTIME\" >> \"$d/stamps\"\n\
             case \"$*\" in *DOWN1) echo 'postqueue: fatal: Cannot flush mail queue - mail system is down' >&2; exit 69;;\n\
             *SILENT2) exit 75;; esac\n",
        );
        let stop = AtomicBool::new(false);
        let results = flush(
            &stub.path(),
            Some(Path::new("/etc/qs")),
            &["A1", "bad id", "DOWN1", "SILENT2"],
            None,
            &stop,
        );
        assert_eq!(results.len(), 4);
        assert_eq!(results[0], ("A1".to_string(), Ok(())));
        assert!(
            results[1]
                .1
                .as_ref()
                .unwrap_err()
                .contains("invalid queue ID"),
            "{results:?}"
        );
        assert_eq!(
            results[2].1,
            Err("postqueue: fatal: Cannot flush mail queue - mail system is down".to_string())
        );
        assert!(
            results[3]
                .1
                .as_ref()
                .unwrap_err()
                .contains("exit status: 75"),
            "{results:?}"
        );
        assert_eq!(
            stub.read("calls"),
            "-c /etc/qs -i A1\n-c /etc/qs -i DOWN1\n-c /etc/qs -i SILENT2\n"
        );

        // Paced, and the stop flag ends it before the next ID.
        let stub = Stub::raw("echo \"$EPOCHREALTIME\" >> \"$d/stamps\"\n");
        let results = flush(&stub.path(), None, &["A1", "A2", "A3"], Some(10.0), &stop);
        assert!(results.iter().all(|(_, r)| r.is_ok()), "{results:?}");
        let t = stamps(&stub);
        assert!(t[2] - t[0] >= 0.19, "{t:?}");
        stop.store(true, Ordering::Relaxed);
        assert!(flush(&stub.path(), None, &["A1"], None, &stop).is_empty());
        let results = flush(
            &stub.path(),
            None,
            &["A1"],
            Some(-1.0),
            &AtomicBool::new(false),
        );
        assert!(
            results[0].1.as_ref().unwrap_err().contains("invalid rate"),
            "{results:?}"
        );
    }

    // ---- the real postsuper on a throwaway Postfix instance ----

    mod real {
        use super::*;

        /// Debian's Postfix programs.
        fn sbin(name: &str) -> PathBuf {
            Path::new("/usr/sbin").join(name)
        }
        use std::os::unix::fs::{chown, MetadataExt};

        /// True when Postfix is installed and we are root; else prints "skipped: no postfix"
        /// and returns false, or panics when QSURGEON_REQUIRE_POSTFIX=1.
        fn postfix_ready() -> bool {
            let missing: Vec<&str> = ["postsuper", "postfix", "postconf", "postqueue"]
                .into_iter()
                .filter(|t| !sbin(t).is_file())
                .collect();
            let is_root = fs::read_to_string("/proc/self/status")
                .ok()
                .is_some_and(|s| {
                    s.lines()
                        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"))
                });
            let problem = if !missing.is_empty() {
                format!("not installed: {}", missing.join(", "))
            } else if !is_root {
                "not root".to_string()
            } else {
                return true;
            };
            if std::env::var("QSURGEON_REQUIRE_POSTFIX").as_deref() == Ok("1") {
                panic!("QSURGEON_REQUIRE_POSTFIX=1 but Postfix cannot be used: {problem}");
            }
            eprintln!("skipped: no postfix ({problem})");
            false
        }

        fn run_ok(cmd: &mut Command) -> String {
            let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
            let text = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(out.status.success(), "{cmd:?}: {}\n{text}", out.status);
            text
        }

        fn demo_dir() -> PathBuf {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/demo-queue")
        }

        /// Message IDs of the demo queue (testdata/demo-queue, short IDs, depth 1).
        fn demo_ids(queue: &str) -> Vec<String> {
            let mut ids = Vec::new();
            let mut dirs = vec![demo_dir().join(queue)];
            while let Some(dir) = dirs.pop() {
                for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                {
                    let path = entry.expect("demo dir entry").path();
                    if path.is_dir() {
                        dirs.push(path);
                    } else {
                        ids.push(path.file_name().unwrap().to_string_lossy().into_owned());
                    }
                }
            }
            ids.sort();
            ids
        }

        /// A stopped Postfix instance (made by `postfix check`) under a temp dir.
        struct Instance {
            _dir: tempfile::TempDir,
            config: PathBuf,
            spool: PathBuf,
            maillog: PathBuf,
            uid: u32,
            gid: u32,
        }

        impl Instance {
            fn new() -> Option<Instance> {
                if !postfix_ready() {
                    return None;
                }
                // Postfix runs as user postfix: every parent must be traversable.
                let base = std::env::temp_dir();
                let base = if base
                    .ancestors()
                    .all(|d| fs::metadata(d).is_ok_and(|m| m.mode() & 0o001 != 0))
                {
                    base
                } else {
                    PathBuf::from("/tmp")
                };
                let dir = tempfile::Builder::new()
                    .prefix("qsurgeon-postsuper-")
                    .tempdir_in(base)
                    .expect("temp dir");
                let root = dir.path();
                let (uid, gid) = postfix_ids();
                let (config, spool, data, log) = (
                    root.join("config"),
                    root.join("spool"),
                    root.join("data"),
                    root.join("log"),
                );
                for d in [root, &config, &spool, &data, &log] {
                    fs::create_dir_all(d).expect("mkdir");
                    fs::set_permissions(d, fs::Permissions::from_mode(0o755)).expect("chmod");
                }
                // postsuper logs to maillog_file itself while the master is stopped, after
                // dropping privileges: the file must belong to postfix.
                let maillog = log.join("maillog");
                fs::write(&maillog, "").expect("create maillog");
                for p in [&data, &log, &maillog] {
                    chown(p, Some(uid), Some(gid)).expect("chown to postfix");
                }
                let main_cf = format!(
                    "compatibility_level = 3.6\nqueue_directory = {}\ndata_directory = {}\n\
                     mail_owner = postfix\nsetgid_group = postdrop\nmaillog_file = {}\n\
                     maillog_file_prefixes = {}\ninet_interfaces = loopback-only\n\
                     inet_protocols = ipv4\nmydestination =\n",
                    spool.display(),
                    data.display(),
                    maillog.display(),
                    log.display()
                );
                fs::write(config.join("main.cf"), main_cf).expect("main.cf");
                // postlog: required by `postfix check` with maillog_file; flush: for postqueue -i.
                let master_cf =
                    "postlog unix-dgram n - n - 1 postlogd\nflush unix n - n 1000? 0 flush\n";
                fs::write(config.join("master.cf"), master_cf).expect("master.cf");
                let instance = Instance {
                    _dir: dir,
                    config,
                    spool,
                    maillog,
                    uid,
                    gid,
                };
                run_ok(instance.tool("postfix").arg("check"));
                Some(instance)
            }

            fn tool(&self, name: &str) -> Command {
                let mut cmd = Command::new(sbin(name));
                cmd.arg("-c").arg(&self.config);
                cmd
            }

            fn postsuper(&self) -> Postsuper {
                Postsuper::with_programs(sbin("postsuper"), sbin("postconf"), Some(&self.config))
            }

            /// `queue/[hash/]id` relative to the spool (hash_queue_depth 1, short IDs:
            /// the first character; `deferred` and `defer` are hashed).
            fn rel(queue: &str, id: &str) -> String {
                if queue == "deferred" || queue == "defer" {
                    format!("{queue}/{}/{id}", &id[..1])
                } else {
                    format!("{queue}/{id}")
                }
            }

            fn path(&self, queue: &str, id: &str) -> PathBuf {
                self.spool.join(Instance::rel(queue, id))
            }

            /// Installs `src` as spool/`rel` with Postfix's owner and `mode`.
            fn install(&self, src: &Path, rel: &str, mode: u32) {
                let dest = self.spool.join(rel);
                let parent = dest.parent().expect("parent");
                if !parent.exists() {
                    fs::create_dir_all(parent).expect("mkdir hash dir");
                    fs::set_permissions(parent, fs::Permissions::from_mode(0o700)).expect("chmod");
                    chown(parent, Some(self.uid), Some(self.gid)).expect("chown");
                }
                fs::copy(src, &dest).unwrap_or_else(|e| panic!("copy to {}: {e}", dest.display()));
                fs::set_permissions(&dest, fs::Permissions::from_mode(mode)).expect("chmod");
                chown(&dest, Some(self.uid), Some(self.gid)).expect("chown");
            }

            /// The demo queue's message files (0700) and defer logs (0600).
            fn copy_demo(&self) {
                for queue in ["active", "deferred", "hold", "defer"] {
                    for id in demo_ids(queue) {
                        let rel = Instance::rel(queue, &id);
                        let mode = if queue == "defer" { 0o600 } else { 0o700 };
                        self.install(&demo_dir().join(&rel), &rel, mode);
                    }
                }
            }

            /// A copy of a demo message as `queue`/`id` (postsuper's by-ID operations do not
            /// check that a short ID matches the inode; only -s does).
            fn add_message(&self, queue: &str, id: &str) {
                let src = demo_dir().join(Instance::rel("deferred", &demo_ids("deferred")[0]));
                self.install(&src, &Instance::rel(queue, id), 0o700);
            }

            fn add_log(&self, queue: &str, id: &str) {
                let src = demo_dir().join(Instance::rel("defer", &demo_ids("defer")[0]));
                self.install(&src, &Instance::rel(queue, id), 0o600);
            }

            fn mode(&self, queue: &str, id: &str) -> u32 {
                let path = self.path(queue, id);
                fs::metadata(&path)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
                    .mode()
                    & 0o7777
            }

            fn run(&self, op: Op, ids: &[&str]) -> (BatchReport, Vec<String>) {
                let mut lines = Vec::new();
                match self
                    .postsuper()
                    .run_batch(op, ids, None, &mut |l| lines.push(l.to_string()))
                {
                    Ok(report) => (report, lines),
                    Err(e) => panic!(
                        "{e}\nmaillog:\n{}",
                        fs::read_to_string(&self.maillog).unwrap_or_default()
                    ),
                }
            }
        }

        /// uid and gid of user postfix, from /etc/passwd.
        fn postfix_ids() -> (u32, u32) {
            let passwd = fs::read_to_string("/etc/passwd").expect("read /etc/passwd");
            passwd
                .lines()
                .map(|l| l.split(':').collect::<Vec<_>>())
                .find(|f| f.first() == Some(&"postfix") && f.len() > 3)
                .and_then(|f| Some((f[2].parse().ok()?, f[3].parse().ok()?)))
                .expect("user postfix in /etc/passwd")
        }

        /// A deferred demo message that has a defer log, another deferred one, both held
        /// messages and the active one.
        struct Picks {
            d1: String,
            d2: String,
            h1: String,
            h2: String,
            a1: String,
        }

        fn picks() -> Picks {
            let logs = demo_ids("defer");
            let deferred: Vec<String> = demo_ids("deferred")
                .into_iter()
                .filter(|id| logs.contains(id))
                .collect();
            let hold = demo_ids("hold");
            Picks {
                d1: deferred[0].clone(),
                d2: deferred[1].clone(),
                h1: hold[0].clone(),
                h2: hold[1].clone(),
                a1: demo_ids("active")[0].clone(),
            }
        }

        const MAILDROP_ID: &str = "ABCDE1234567";
        const MISSING_ID: &str = "FFFFF0000001";

        use IdOutcome::*;

        #[test]
        fn real_delete_removes_messages_and_all_their_logfiles() {
            let Some(pf) = Instance::new() else { return };
            pf.copy_demo();
            let p = picks();
            pf.add_log("bounce", &p.d1);
            pf.add_log("trace", &p.d1);
            pf.add_message("maildrop", MAILDROP_ID);
            // A directory where a message should be: mail_open_ok() warns "not a regular file".
            let dir_id = "DIRID12345";
            fs::create_dir(pf.path("hold", dir_id)).expect("mkdir");
            chown(pf.path("hold", dir_id), Some(pf.uid), Some(pf.gid)).expect("chown");
            assert!(pf.path("defer", &p.d1).exists());

            let ids = [p.d1.as_str(), &p.h1, &p.a1, MAILDROP_ID, MISSING_ID, dir_id];
            let (report, lines) = pf.run(Op::Delete, &ids);
            let got = outcomes(&report);
            assert_eq!(got[..5], [Done, Done, Done, Done, NotActed], "{lines:#?}");
            match &got[5] {
                Warned(w) => assert!(
                    w.contains("hold/DIRID12345") && w.contains("not a regular file"),
                    "{w}"
                ),
                other => panic!("{other:?}\n{lines:#?}"),
            }
            assert_eq!(report.summary, [("Deleted".to_string(), 4)]);
            assert!(
                lines.contains(&format!("postsuper: {}: removed", p.d1)),
                "{lines:#?}"
            );
            assert!(!pf.path("deferred", &p.d1).exists());
            assert!(!pf.path("hold", &p.h1).exists());
            assert!(!pf.path("active", &p.a1).exists());
            assert!(!pf.path("maildrop", MAILDROP_ID).exists());
            // With the explicit queue list, all three logfiles went too (delete_one uses the
            // fixed log_queue_names, not the list).
            for log in ["defer", "bounce", "trace"] {
                assert!(
                    !pf.path(log, &p.d1).exists(),
                    "{log} log of {} left behind",
                    p.d1
                );
            }
            // Nothing else touched.
            assert!(pf.path("deferred", &p.d2).exists() && pf.path("defer", &p.d2).exists());
            assert!(pf.path("hold", &p.h2).exists());
        }

        #[test]
        fn real_hold_then_release_round_trip() {
            let Some(pf) = Instance::new() else { return };
            pf.copy_demo();
            let p = picks();
            pf.add_message("maildrop", MAILDROP_ID);

            let (report, lines) = pf.run(Op::Hold, &[&p.d1, &p.a1, &p.h1, MISSING_ID, MAILDROP_ID]);
            // Already held, missing, and maildrop (hold_one skips it): nothing printed.
            assert_eq!(
                outcomes(&report),
                [Done, Done, NotActed, NotActed, NotActed],
                "{lines:#?}"
            );
            assert_eq!(report.summary, [("Placed on hold".to_string(), 2)]);
            assert!(pf.path("hold", &p.d1).exists() && pf.path("hold", &p.a1).exists());
            assert!(!pf.path("deferred", &p.d1).exists() && !pf.path("active", &p.a1).exists());
            assert!(pf.path("defer", &p.d1).exists(), "hold keeps the defer log");
            assert!(pf.path("maildrop", MAILDROP_ID).exists());

            // d2 is in deferred, which -H does not search. Paced at 10/s: postsuper acts on
            // each ID as it reads it, so its success lines come ~100 ms apart.
            let started = Instant::now();
            let mut lines = Vec::new();
            let report = pf
                .postsuper()
                .run_batch(
                    Op::Release,
                    &[&p.d1, &p.a1, &p.h1, &p.d2],
                    Some(10.0),
                    &mut |l| lines.push((started.elapsed(), l.to_string())),
                )
                .expect("postsuper -H");
            assert_eq!(
                outcomes(&report),
                [Done, Done, Done, NotActed],
                "{lines:#?}"
            );
            let at: Vec<f64> = lines.iter().map(|(t, _)| t.as_secs_f64()).collect();
            assert!(at[1] - at[0] >= 0.08 && at[2] - at[1] >= 0.08, "{lines:?}");
            assert!(
                at[3] >= 0.3,
                "the summary comes after the last (4th) ID: {lines:?}"
            );
            assert_eq!(report.summary, [("Released from hold".to_string(), 3)]);
            for id in [&p.d1, &p.a1, &p.h1] {
                assert!(
                    pf.path("deferred", id).exists(),
                    "{id} not in deferred/<hash>/"
                );
                assert!(!pf.path("hold", id).exists());
            }
            assert!(pf.path("hold", &p.h2).exists());
        }

        #[test]
        fn real_expire_and_expire_release() {
            let Some(pf) = Instance::new() else { return };
            pf.copy_demo();
            let p = picks();
            pf.add_message("maildrop", MAILDROP_ID);
            assert_eq!(pf.supports(), (true, true));

            let (report, lines) =
                pf.run(Op::Expire, &[&p.d1, &p.h1, &p.a1, MISSING_ID, MAILDROP_ID]);
            assert_eq!(
                outcomes(&report),
                [Done, Done, Done, NotActed, NotActed],
                "{lines:#?}"
            );
            assert_eq!(report.summary, [("Force-expired".to_string(), 3)]);
            assert_eq!(pf.mode("deferred", &p.d1), 0o710);
            assert_eq!(pf.mode("hold", &p.h1), 0o710);
            assert_eq!(pf.mode("active", &p.a1), 0o710);
            assert_eq!(
                pf.mode("maildrop", MAILDROP_ID),
                0o700,
                "expire_one skips maildrop"
            );

            // Already expired: postsuper prints nothing.
            let (report, _) = pf.run(Op::Expire, &[&p.d1]);
            assert_eq!(outcomes(&report), [NotActed]);
            assert_eq!(report.summary_count("Force-expired"), Some(0));

            // -f: h2 (held, fresh) is expired and released: two lines, one Done; h1 (held,
            // expired) only released; d1 (deferred, expired) untouched; d2 only expired.
            let (report, lines) = pf.run(Op::ExpireRelease, &[&p.h2, &p.h1, &p.d1, &p.d2]);
            assert_eq!(
                outcomes(&report),
                [Done, Done, NotActed, Done],
                "{lines:#?}"
            );
            assert_eq!(lines[0], format!("postsuper: {}: expired", p.h2));
            assert_eq!(lines[1], format!("postsuper: {}: released from hold", p.h2));
            assert_eq!(report.summary_count("Force-expired"), Some(2));
            assert_eq!(report.summary_count("Released from hold"), Some(2));
            assert_eq!(pf.mode("deferred", &p.h2), 0o710);
            assert_eq!(pf.mode("deferred", &p.h1), 0o710);
            assert_eq!(pf.mode("deferred", &p.d2), 0o710);
        }

        impl Instance {
            fn supports(&self) -> (bool, bool) {
                let ps = self.postsuper();
                (
                    ps.supports(Op::Expire).unwrap(),
                    ps.supports(Op::Delete).unwrap(),
                )
            }
        }

        #[test]
        fn real_requeue_moves_to_maildrop_and_keeps_the_defer_log() {
            let Some(pf) = Instance::new() else { return };
            pf.copy_demo();
            let p = picks();
            pf.add_message("maildrop", MAILDROP_ID);
            let (report, lines) = pf.run(Op::Requeue, &[&p.d1, MAILDROP_ID, MISSING_ID, &p.h1]);
            assert_eq!(
                outcomes(&report),
                [Done, NotActed, NotActed, Done],
                "{lines:#?}"
            );
            assert_eq!(report.summary, [("Requeued".to_string(), 2)]);
            assert!(pf.path("maildrop", &p.d1).exists() && pf.path("maildrop", &p.h1).exists());
            assert!(!pf.path("deferred", &p.d1).exists() && !pf.path("hold", &p.h1).exists());
            // requeue_one leaves the logfiles alone (postsuper.c: "we not delete defer or
            // bounce logfiles"): a stale log that qsurgeon must ignore.
            assert!(pf.path("defer", &p.d1).exists());
        }

        #[test]
        fn real_ten_thousand_messages_in_one_batch() {
            let Some(pf) = Instance::new() else { return };
            const REAL: usize = 10_000;
            let real: Vec<String> = (0..REAL)
                .map(|i| format!("{:05X}{:06X}", (i * 97) % 0x10_0000, 0xA0_0000 + i))
                .collect();
            let started = Instant::now();
            for id in &real {
                pf.add_message("deferred", id);
            }
            eprintln!(
                "created {REAL} deferred queue files in {:?}",
                started.elapsed()
            );
            // Every sixth ID does not exist.
            let mut ids: Vec<String> = Vec::new();
            for (i, id) in real.iter().enumerate() {
                ids.push(id.clone());
                if i % 5 == 0 {
                    ids.push(format!("F{i:011X}"));
                }
            }
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            let expect: Vec<IdOutcome> = ids
                .iter()
                .map(|id| if id.starts_with('F') { NotActed } else { Done })
                .collect();

            let started = Instant::now();
            let (report, _) = pf.run(Op::Hold, &ids);
            let hold_time = started.elapsed();
            assert_eq!(report.summary_count("Placed on hold"), Some(REAL as u64));
            assert_eq!(outcomes(&report), expect);

            let started = Instant::now();
            let (report, lines) = pf.run(Op::Delete, &ids);
            let delete_time = started.elapsed();
            assert_eq!(report.summary_count("Deleted"), Some(REAL as u64));
            assert_eq!(outcomes(&report), expect);
            assert_eq!(lines.len(), REAL + 1);
            assert_eq!(
                fs::read_dir(pf.spool.join("hold")).expect("hold").count(),
                0
            );
            eprintln!(
                "one postsuper batch of {} IDs ({REAL} real): hold {hold_time:?}, delete {delete_time:?}",
                ids.len()
            );
        }

        #[test]
        fn real_fatal_error_carries_postsuper_stderr() {
            let Some(pf) = Instance::new() else { return };
            let missing = pf.config.join("no-such-dir");
            let ps = Postsuper::with_programs(sbin("postsuper"), sbin("postconf"), Some(&missing));
            let err = ps
                .run_batch(Op::Delete, &[MISSING_ID], None, &mut |_| {})
                .unwrap_err();
            let PostsuperError::Failed { status, .. } = &err else {
                panic!("{err:?}")
            };
            assert_eq!(status.code(), Some(1));
            let text = err.to_string();
            assert!(
                text.contains(&format!("-c {} -d -", missing.display())),
                "{text}"
            );
            assert!(
                text.contains("postsuper: fatal: open") && text.contains("main.cf"),
                "{text}"
            );
        }

        /// `postfix start` for the flush test; stops it again when dropped.
        struct Running<'a>(&'a Instance);

        impl Drop for Running<'_> {
            fn drop(&mut self) {
                let _ = self.0.tool("postfix").arg("stop").output();
                let deadline = Instant::now() + Duration::from_secs(10);
                while Instant::now() < deadline
                    && self
                        .0
                        .tool("postfix")
                        .arg("status")
                        .output()
                        .is_ok_and(|o| o.status.success())
                {
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }

        #[test]
        fn real_flush_moves_deferred_mail_to_incoming() {
            let Some(pf) = Instance::new() else { return };
            pf.copy_demo();
            let p = picks();
            let stop = AtomicBool::new(false);
            let results = flush(&sbin("postqueue"), Some(&pf.config), &[&p.d1], None, &stop);
            let err = results[0]
                .1
                .as_ref()
                .expect_err("flush with Postfix stopped");
            assert!(err.contains("mail system is down"), "{err}");

            // The copied files do not match their inodes: skip the structure check at start.
            fs::write(pf.spool.join("quick-start"), "").expect("quick-start");
            run_ok(pf.tool("postfix").arg("start"));
            let _running = Running(&pf);
            let results = flush(
                &sbin("postqueue"),
                Some(&pf.config),
                &[&p.d1, MISSING_ID],
                None,
                &stop,
            );
            assert_eq!(
                results,
                [(p.d1.clone(), Ok(())), (MISSING_ID.to_string(), Ok(()))]
            );
            // The flush daemon moved it to incoming (no qmgr here to pick it up).
            assert!(pf.path("incoming", &p.d1).exists());
            assert!(!pf.path("deferred", &p.d1).exists());
        }
    }
}
