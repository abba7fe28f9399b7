//! The audit trail: a [`Journal`] of JSON lines (fsynced after every line) and one
//! [`Syslog`] line per run, next to postsuper's own lines in the mail log.
//!
//! The journal's lines, each with `event`, `time` and `run` (pid, user, uid, verb, command
//! line, queue and config directory):
//! - `start`: what was selected (the selection as typed and as the canonical expression,
//!   counts by queue, the files the scan could not read, by path);
//! - `batch`: per batch, per operation the IDs done and not done and postsuper's summary,
//!   the IDs already gone, reused or kept after a failed backup, and when postsuper died the
//!   error and the IDs it had not reported on;
//! - `end`: the outcome, in every case (a journal dropped after `start` without one writes an
//!   `end` saying so);
//! - `refused`: a run that changed nothing on purpose (`--max`, no `--yes` off a terminal,
//!   nothing selected, not confirmed), with why.
//!
//! qsurgeon runs as root and the journal is opened by name, so the file is opened with
//! `O_WRONLY|O_APPEND|O_CREAT|O_NOFOLLOW|O_NONBLOCK|O_CLOEXEC`, mode 0600 when created, and
//! checked through the descriptor before the first byte is written: a regular file with one
//! link, owned by the effective user (root), not writable by group or others, in a directory
//! (not a symbolic link to one: opened once with `O_NOFOLLOW`, the journal then opened relative
//! to it) owned by root or that user and not writable by others (a root-owned sticky directory such
//! as `/tmp` is accepted: nobody else can rename or remove a file in it, and a file they
//! planted there fails the owner check). Anything else is refused, naming the problem,
//! before anything is written or done.

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use printer::json::string_or_bytes;
use rustix::fs::{Mode, OFlags};
use serde_json::{json, Map, Value};

use crate::executor::{Event, Outcome, Sink};
use crate::plan::Plan;
use crate::verb::Verb;
use crate::Error;

/// Who runs what, on which instance: the `run` object of every journal line.
#[derive(Clone, Debug)]
pub struct RunInfo {
    /// The verb.
    pub verb: Verb,
    /// The instance's queue directory.
    pub queue_dir: PathBuf,
    /// Its configuration directory (`None`: the default instance).
    pub config_dir: Option<PathBuf>,
    /// The command line (or what the interactive session did, for triage).
    pub command_line: Vec<String>,
}

/// The selection as the user typed it.
#[derive(Clone, Debug, Default)]
pub struct SelectionRecord {
    /// The flags, `--sasl-user mallory`, `--nonexistent-local-sender`, …
    pub flags: Vec<String>,
    /// The compiled selection in canonical form (`select::Selection`'s `Display`); empty
    /// for every message.
    pub expression: String,
}

/// Why a run changed nothing on purpose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// No selection and no `--all`.
    NoSelection,
    /// Not on a terminal and no `--yes`.
    NotATerminal,
    /// The selection matched nothing.
    NothingSelected,
    /// More messages than `--max`.
    OverMax {
        /// The limit.
        max: u64,
    },
    /// The user answered no.
    NotConfirmed,
}

impl Refusal {
    /// A short code for the journal (`max`, `not-confirmed`, …).
    pub fn code(self) -> &'static str {
        match self {
            Refusal::NoSelection => "no-selection",
            Refusal::NotATerminal => "not-a-terminal",
            Refusal::NothingSelected => "nothing-selected",
            Refusal::OverMax { .. } => "max",
            Refusal::NotConfirmed => "not-confirmed",
        }
    }
}

/// The JSON-lines journal; also a [`Sink`].
pub struct Journal {
    file: File,
    path: PathBuf,
    run: Value,
    batch: Map<String, Value>,
    started: bool,
    ended: bool,
}

impl Journal {
    /// Opens (creates, mode 0600) the journal at `path` for a run, after the checks in the
    /// module documentation.
    pub fn open(path: &Path, run: &RunInfo) -> Result<Journal, Error> {
        let file = open_checked(path)?;
        let uid = rustix::process::getuid().as_raw();
        let run = json!({
            "pid": std::process::id(),
            "user": std::env::var("SUDO_USER").or_else(|_| std::env::var("USER")).unwrap_or_default(),
            "uid": uid,
            "verb": run.verb.name(),
            "command_line": run.command_line,
            "queue_dir": path_value(&run.queue_dir),
            "config_dir": run.config_dir.as_deref().map(path_value),
        });
        Ok(Journal {
            file,
            path: path.to_path_buf(),
            run,
            batch: Map::new(),
            started: false,
            ended: false,
        })
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The `start` line: what the run will act on.
    pub fn start(&mut self, plan: &Plan, selection: &SelectionRecord) -> Result<(), Error> {
        let mut data = selection_value(selection);
        data["selected"] = json!(plan.len());
        data["bytes"] = json!(plan.bytes());
        data["by_queue"] = json!(plan.preview.by_queue);
        data["unreadable"] = unreadable_value(plan);
        data["unreadable_not_named"] = json!(plan.unreadable_not_named);
        self.record("start", data)?;
        self.started = true;
        Ok(())
    }

    /// A `refused` line: nothing was done, on purpose. `plan` when the scan had run.
    pub fn refused(
        &mut self,
        refusal: Refusal,
        plan: Option<&Plan>,
        selection: &SelectionRecord,
    ) -> Result<(), Error> {
        let mut data = selection_value(selection);
        data["reason"] = json!(refusal.code());
        if let Refusal::OverMax { max } = refusal {
            data["max"] = json!(max);
        }
        if let Some(plan) = plan {
            data["selected"] = json!(plan.len());
            data["by_queue"] = json!(plan.preview.by_queue);
            data["unreadable"] = unreadable_value(plan);
            data["unreadable_not_named"] = json!(plan.unreadable_not_named);
        }
        self.record("refused", data)
    }

    /// An `end` line for a run that stopped before the executor ran (e.g. the backup
    /// directory was refused after `start`).
    pub fn end_with_error(&mut self, error: &str) -> Result<(), Error> {
        self.ended = true;
        self.record("end", json!({"error": error}))
    }

    fn record(&mut self, event: &str, mut data: Value) -> Result<(), Error> {
        data["event"] = json!(event);
        data["time"] = json!(rfc3339_now());
        data["run"] = self.run.clone();
        let mut line = serde_json::to_vec(&data).unwrap_or_default();
        line.push(b'\n');
        let path = &self.path;
        self.file
            .write_all(&line)
            .map_err(|source| Error::Journal {
                path: path.clone(),
                what: "write",
                source,
            })?;
        self.file.sync_data().map_err(|source| Error::Journal {
            path: path.clone(),
            what: "sync",
            source,
        })
    }

    fn batch_list(&mut self, key: &str, field: &str, id: &str) {
        let entry = self
            .batch
            .entry(key.to_string())
            .or_insert_with(|| json!({}));
        if let Some(list) = entry
            .as_object_mut()
            .map(|o| o.entry(field.to_string()).or_insert_with(|| json!([])))
            .and_then(Value::as_array_mut)
        {
            list.push(json!(id));
        }
    }

    fn batch_field(&mut self, key: &str, field: &str, value: Value) {
        let entry = self
            .batch
            .entry(key.to_string())
            .or_insert_with(|| json!({}));
        if let Some(o) = entry.as_object_mut() {
            o.insert(field.to_string(), value);
        }
    }
}

impl Sink for Journal {
    fn event(&mut self, event: &Event<'_>) -> Result<(), Error> {
        match event {
            Event::BatchStart { .. } => self.batch.clear(),
            Event::Done { id, action, .. } => self.batch_list(action.word(), "done", id),
            Event::Failed { id, action, .. } | Event::NotActed { id, action, .. } => {
                self.batch_list(action.word(), "not_done", id)
            }
            Event::AlreadyGone { id, .. } => self.batch_list("gone", "ids", id),
            Event::AlreadyExpired { id, .. } => self.batch_list("already_expired", "ids", id),
            Event::Reused { id, .. } => self.batch_list("reused", "ids", id),
            Event::BackupFailed { id, error, .. } => {
                self.batch_list("backup_failed", "ids", id);
                self.batch_field("backup_failed", "last_error", json!(error));
            }
            Event::BackupLogRefused { id, detail, .. } => {
                self.batch_list("backup_logs_refused", "ids", id);
                self.batch_field("backup_logs_refused", "last_detail", json!(detail));
            }
            Event::OpFinished { action, summary } => {
                let summary: Vec<Value> = summary.iter().map(|(l, n)| json!([l, n])).collect();
                self.batch_field(action.word(), "postsuper", json!(summary));
            }
            Event::BatchAborted {
                action,
                error,
                partial,
                unconfirmed,
            } => {
                self.batch_field(action.word(), "aborted", json!(error));
                self.batch_field(action.word(), "reported_before_dying", json!(partial));
                self.batch_field(action.word(), "unconfirmed", json!(unconfirmed));
                self.record(
                    "error",
                    json!({"op": action.word(), "error": error, "done": partial, "unconfirmed": unconfirmed}),
                )?;
            }
            Event::BatchEnd { batch } => {
                let mut data = Value::Object(std::mem::take(&mut self.batch));
                data["batch"] = json!(batch);
                self.record("batch", data)?;
            }
            Event::End(outcome) => {
                self.ended = true;
                self.record("end", outcome_value(outcome))?;
            }
        }
        Ok(())
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        if self.started && !self.ended {
            // An early return or a panic between start and end: say so rather than leave a
            // run without an end.
            let _ = self.record(
                "end",
                json!({"error": "the run ended without reporting its outcome"}),
            );
        }
    }
}

/// One syslog line per run (facility mail, severity info), as postsuper's own lines go; also
/// a [`Sink`] that sends the line at [`Event::End`].
pub struct Syslog {
    socket: PathBuf,
}

impl Default for Syslog {
    fn default() -> Syslog {
        Syslog {
            socket: PathBuf::from("/dev/log"),
        }
    }
}

impl Syslog {
    /// Lines to another socket than `/dev/log` (tests).
    pub fn with_socket(socket: PathBuf) -> Syslog {
        Syslog { socket }
    }

    /// Sends one line; silently nothing when there is no syslog.
    pub fn send(&self, message: &str) {
        let Ok(socket) = std::os::unix::net::UnixDatagram::unbound() else {
            return;
        };
        // facility mail (2), severity info (6).
        let line = format!(
            "<{}>qsurgeon[{}]: {} (uid {})",
            2 * 8 + 6,
            std::process::id(),
            message,
            rustix::process::getuid().as_raw()
        );
        let _ = socket.send_to(line.as_bytes(), &self.socket);
    }
}

impl Sink for Syslog {
    fn event(&mut self, event: &Event<'_>) -> Result<(), Error> {
        if let Event::End(outcome) = event {
            let mut line = outcome.summary();
            if let Some(error) = &outcome.error {
                line.push_str(&format!("; error: {error}"));
            }
            self.send(&line);
        }
        Ok(())
    }
}

fn outcome_value(o: &Outcome) -> Value {
    json!({
        "done": o.done, "gone": o.gone, "skipped_reused": o.reused, "failed": o.failed,
        "not_backed_up": o.not_backed_up, "unconfirmed": o.unconfirmed,
        "interrupted": o.interrupted, "not_started": o.not_started, "error": o.error,
        "seconds": o.elapsed.as_secs_f64(),
    })
}

fn selection_value(selection: &SelectionRecord) -> Value {
    json!({"selection": selection.flags, "expression": selection.expression})
}

fn unreadable_value(plan: &Plan) -> Value {
    plan.unreadable
        .iter()
        .map(|u| json!({"path": path_value(&u.path), "error": u.error}))
        .collect()
}

fn path_value(path: &Path) -> Value {
    string_or_bytes(path.as_os_str().as_bytes())
}

/// Opens the journal and checks it through the descriptor (see the module documentation).
fn open_checked(path: &Path) -> Result<File, Error> {
    let refuse = |problem: String| Error::UnsafeJournal {
        path: path.to_path_buf(),
        problem,
    };
    let io_error = |what: &'static str| {
        move |source: io::Error| Error::Journal {
            path: path.to_path_buf(),
            what,
            source,
        }
    };
    let euid = rustix::process::geteuid().as_raw();
    let whom = if euid == 0 {
        "root".to_string()
    } else {
        format!("root or uid {euid}")
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    // The directory is opened once, not followed if it is a symbolic link (a link planted in
    // place of /var/log/qsurgeon would take root's writes anywhere), checked through its
    // descriptor, and the journal opened relative to it: what was checked is where it goes.
    let name = path
        .file_name()
        .ok_or_else(|| refuse("it does not end in a file name".into()))?;
    let dir_flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let dfd = rustix::fs::open(dir, dir_flags, Mode::empty()).map_err(|e| {
        let link = std::fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink());
        if link {
            refuse(format!(
                "its directory {} is a symbolic link",
                dir.display()
            ))
        } else if e == rustix::io::Errno::NOTDIR {
            refuse(format!("{} is not a directory", dir.display()))
        } else {
            io_error("look at the directory of")(io::Error::from(e))
        }
    })?;
    let dmeta = File::from(
        dfd.try_clone()
            .map_err(io_error("look at the directory of"))?,
    )
    .metadata()
    .map_err(io_error("look at the directory of"))?;
    if dmeta.uid() != 0 && dmeta.uid() != euid {
        return Err(refuse(format!(
            "its directory {} is owned by uid {}, not {whom}",
            dir.display(),
            dmeta.uid()
        )));
    }
    let dmode = dmeta.permissions().mode();
    let sticky_root = dmode & 0o1000 != 0 && dmeta.uid() == 0;
    if dmode & 0o022 != 0 && !sticky_root {
        return Err(refuse(format!(
            "its directory {} is writable by group or others (mode {:04o})",
            dir.display(),
            dmode & 0o7777
        )));
    }
    let flags = OFlags::WRONLY
        | OFlags::APPEND
        | OFlags::CREATE
        | OFlags::NOFOLLOW
        | OFlags::NONBLOCK
        | OFlags::CLOEXEC;
    let file = rustix::fs::openat(&dfd, name, flags, Mode::from_raw_mode(0o600))
        .map(File::from)
        .map_err(|e| {
            if e == rustix::io::Errno::LOOP {
                refuse("it is a symbolic link".into())
            } else if e == rustix::io::Errno::NXIO {
                refuse("it is not a regular file (a FIFO or socket)".into())
            } else {
                io_error("open")(io::Error::from(e))
            }
        })?;
    let meta = file.metadata().map_err(io_error("look at"))?;
    if !meta.file_type().is_file() {
        return Err(refuse("it is not a regular file".into()));
    }
    if meta.uid() != euid {
        return Err(refuse(format!(
            "it is owned by uid {}, not {}",
            meta.uid(),
            if euid == 0 {
                "root".into()
            } else {
                format!("uid {euid}")
            }
        )));
    }
    let mode = meta.permissions().mode();
    if mode & 0o022 != 0 {
        return Err(refuse(format!(
            "it is writable by group or others (mode {:04o})",
            mode & 0o7777
        )));
    }
    if meta.nlink() != 1 {
        return Err(refuse(format!(
            "it has {} hard links (another name for the same file)",
            meta.nlink()
        )));
    }
    Ok(file)
}

/// Now as `2026-12-04T22:02:27Z` (UTC, seconds), without a date library.
fn rfc3339_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    rfc3339(secs)
}

fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's days_from_civil, inverted (civil_from_days).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_matches_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_796_422_947), "2026-12-04T22:22:27Z");
    }
}
