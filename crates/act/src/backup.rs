//! Backups of deleted messages (`delete --backup DIR`) and putting them back
//! into the queue (`restore DIR`).
//!
//! API: [`Backup::open`] then [`Backup::save_batch`] per postsuper batch;
//! [`RestorePlan::load`] (decides, changes nothing) then
//! [`RestorePlan::execute`] (re-injects, or only reports on a dry run), so
//! that the command can ask in between.
//!
//! # The backup directory
//!
//! ```text
//! DIR/manifest.jsonl     one JSON line per saved message, appended once per batch
//! DIR/<queue>/<name>     the queue file, byte for byte (queue: deferred, hold, active, …)
//! DIR/defer/<name>       its defer log, if it had one; likewise bounce/ and trace/
//! DIR/restored.jsonl     written by `restore`: one JSON line per message re-injected
//! ```
//!
//! `<name>` is the queue ID. If a *different* message with the same ID was
//! saved into the directory before (short queue IDs are reused), it is
//! `<ID>.2`, `<ID>.3`, …; saving the same bytes again reuses the name. No
//! file is ever overwritten, and there are no hash subdirectories. The
//! directory is created with mode 0700 and the files with 0600: they hold
//! other people's mail.
//!
//! A manifest line (`sender` and addresses are JSON strings, or
//! `{"bytes": base64}` when they are not UTF-8; a file that cannot be
//! decoded is still saved, with `decode_error` instead of the envelope):
//!
//! ```json
//! {"format":1,"queue":"deferred","id":"4F2A81C0D3E","file":"deferred/4F2A81C0D3E",
//!  "logs":{"defer":"defer/4F2A81C0D3E"},"size":1834,"mode":448,"saved_at":1795359400,
//!  "arrival_time":1795359329,"sender":"alice@example.org",
//!  "recipients":[{"address":"bob@example.net","state":"todo"}]}
//! ```
//!
//! **A message counts as saved when its manifest line is on disk.** Each
//! batch writes and fsyncs every copy, fsyncs the directories once, then
//! appends all its manifest lines in one write and fsyncs the manifest.
//! [`Backup::save_batch`] reports success for an ID only after that, so the
//! caller deletes nothing whose copy could still be lost. Copies run on a
//! few threads (the fsyncs overlap); no process is started.
//!
//! # Restore: through `postdrop`, the way `sendmail` submits mail
//!
//! `restore` re-injects each saved message by running Postfix's
//! `postdrop -c CONFIG_DIR` (from `command_directory`) and writing it the
//! record stream that `sendmail` writes (postfix `src/sendmail/sendmail.c`,
//! `enqueue`; accepted record types in `src/postdrop/postdrop.c`): the
//! envelope, then the content records `N`/`L` copied from the queue file in
//! logical order, `X`, `E`. postdrop creates the file in `maildrop`; pickup
//! and cleanup then queue it under a new queue ID, like any local
//! submission. qsurgeon itself writes nothing into the queue directory.
//!
//! Why not `sendmail -f SENDER -- RCPT…` with the content as text: sendmail
//! parses `-f` and each recipient as RFC 822 text (so every address would
//! need quoting and re-parsing, and a comma splits a recipient), drops a
//! leading `From ` line, strips CRs by heuristics, and can pass DSN options
//! only per message (`-N`, `-R`, `-V`). Through postdrop the sender and
//! recipients go in as Postfix's internal form, exactly as they were in the
//! queue file (the null sender, quoted local parts and UTF-8 addresses need
//! no quoting), the content records go in unchanged (only split where the
//! target's `line_length_limit` requires), and postdrop accepts the DSN
//! attributes per recipient. It is still one process per message: postdrop
//! takes exactly one message per run. That is fine for a restore.
//!
//! What a round trip keeps: the sender; the **to-do** recipients (done and
//! Milter-cancelled ones are left out, so nothing is delivered twice); per
//! recipient DSN `NOTIFY` and `ORCPT` (`notify_flags`, `dsn_orig_rcpt`); DSN
//! `ENVID` and `RET`; `BODY=` encoding; `rewrite_context`; VERP delimiters;
//! the sender full name; the headers and body. Postfix then treats it as
//! local mail from root: pickup adds a `Received: by … (Postfix, from
//! userid 0)` header, cleanup runs rewriting, `header_checks`, `body_checks`
//! and `non_smtpd_milters` again, and detects SMTPUTF8 itself
//! (`smtputf8_autodetect_classes` includes `sendmail`; so a message whose
//! only non-ASCII text is in its headers now goes out with `SMTPUTF8` to
//! servers that offer it, observed with Postfix 3.7.11).
//!
//! What it loses: the queue ID (a new one), the arrival time and
//! `create_time` (the expiry clock restarts), the queue it was in (held mail
//! is not held again, unless a `header_checks` HOLD rule fires again), `O`
//! original recipients (cleanup records the recipient itself; a DSN ORCPT
//! stays), the client and SASL attributes (`sasl_username`, `client_*`,
//! `log_*`), `trace_flags`, content filter and redirect records, the
//! delayed-mail warning time, the forced-expiry bit, and the defer/bounce
//! logs (kept in the backup for reading only).
//!
//! Two guards against sending a message twice: a message whose queue ID is
//! still in the queue with the same arrival time (it was saved but never
//! deleted) is skipped, and every re-injected message is recorded in
//! `restored.jsonl` (fsynced before the next one), so running `restore`
//! again skips what it already did. When one message was saved several
//! times (same ID and arrival time), only its last copy is restored.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context, Result};
use queue_file::quote::quote_822_local;
use queue_file::rec_type::{
    REC_TYPE_ATTR, REC_TYPE_CONT, REC_TYPE_END, REC_TYPE_FROM, REC_TYPE_FULL, REC_TYPE_MESG,
    REC_TYPE_NORM, REC_TYPE_RCPT, REC_TYPE_VERP, REC_TYPE_XTRA,
};
use queue_file::{Envelope, FileView, LogicalReader, ReadMode, RecipientState, RecordWriter};
use queue_scan::{is_valid_queue_id, QueueLayout};
use serde_json::{json, Value};

use crate::json::string_or_bytes;

/// The manifest's name in the backup directory.
pub const MANIFEST: &str = "manifest.jsonl";
/// What `restore` has re-injected, in the backup directory.
pub const RESTORED: &str = "restored.jsonl";
/// The version of the manifest line format.
const FORMAT: u64 = 1;
/// The logfile kinds a message can have (postfix-queue-format.md §5.1).
pub const LOG_KINDS: [&str; 3] = ["defer", "bounce", "trace"];
/// Every subdirectory a saved file can be in; a name is given to one
/// message only if no file of that name exists in any of them.
const SUBDIRS: [&str; 9] = [
    "maildrop", "incoming", "active", "deferred", "hold", "corrupt", "defer", "bounce", "trace",
];
/// Copies run on at most this many threads (they mostly wait for fsync).
const MAX_WORKERS: usize = 8;

/// A backup directory opened for saving messages.
#[derive(Debug)]
pub struct Backup {
    dir: PathBuf,
    manifest: File,
}

/// One message to save: the files the scan found for it.
#[derive(Clone, Debug)]
pub struct BackupItem<'a> {
    /// The queue it was found in (`deferred`, `hold`, …).
    pub queue: &'a str,
    /// Its queue ID.
    pub id: &'a str,
    /// The queue file the scan read.
    pub path: &'a Path,
    /// Its logfiles as `(kind, path)`, kind `defer`, `bounce` or `trace`;
    /// a logfile that does not exist (any more) is not an error.
    pub log_paths: Vec<(&'a str, PathBuf)>,
}

/// One message copied and fsynced, waiting for its manifest line.
struct Saved {
    line: Vec<u8>,
    dirs: Vec<PathBuf>,
}

impl Backup {
    /// Creates (mode 0700) or opens the backup directory `dir` and its
    /// manifest. Refuses a directory inside `queue_dir` (qsurgeon never
    /// writes there), and an existing non-empty directory without a manifest
    /// (a typo must not scatter mail into `/etc`).
    pub fn open(dir: &Path, queue_dir: &Path) -> Result<Backup> {
        let resolved =
            resolve(dir).with_context(|| format!("backup directory {}", dir.display()))?;
        let queue = resolve(queue_dir)
            .with_context(|| format!("queue directory {}", queue_dir.display()))?;
        if resolved.starts_with(&queue) {
            bail!(
                "backup directory {} is inside the queue directory {}: qsurgeon never writes there",
                dir.display(),
                queue.display()
            );
        }
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&resolved)
            .with_context(|| format!("create backup directory {}", resolved.display()))?;
        let manifest_path = resolved.join(MANIFEST);
        if !manifest_path.exists() {
            let mut entries = fs::read_dir(&resolved)
                .with_context(|| format!("read backup directory {}", resolved.display()))?;
            if entries.next().is_some() {
                bail!(
                    "{} is not empty and has no {MANIFEST}: not a qsurgeon backup directory",
                    resolved.display()
                );
            }
        }
        let manifest = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(&manifest_path)
            .with_context(|| format!("open {}", manifest_path.display()))?;
        // The manifest's own directory entry must survive a crash too.
        manifest
            .sync_all()
            .and_then(|()| sync_dir(&resolved))
            .with_context(|| format!("fsync {}", manifest_path.display()))?;
        Ok(Backup {
            dir: resolved,
            manifest,
        })
    }

    /// Copies the queue file and the logs of each message, before postsuper
    /// deletes them. Returns `(id, result)` for every item, in order: only an
    /// `Ok` message is safely saved (copies and manifest line fsynced); the
    /// caller must not delete the others. Plain file copies on a few threads,
    /// no process per message; directories and the manifest are fsynced once
    /// per batch.
    pub fn save_batch(&mut self, items: &[BackupItem]) -> Vec<(String, Result<()>)> {
        let next = AtomicUsize::new(0);
        let workers = items.len().clamp(1, MAX_WORKERS);
        let this = &*self;
        let mut done: Vec<(usize, Result<Saved>)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    scope.spawn(|| {
                        let mut out = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(item) = items.get(i) else { break };
                            out.push((i, this.save_one(item)));
                        }
                        out
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("a backup worker panicked"))
                .collect()
        });
        done.sort_by_key(|(i, _)| *i);

        // New directory entries (files, and subdirectories in `self.dir`)
        // are durable only once their directories are fsynced.
        let mut dirs = BTreeSet::new();
        for saved in done.iter().filter_map(|(_, r)| r.as_ref().ok()) {
            dirs.extend(saved.dirs.iter().cloned());
        }
        let mut batch_error = None;
        if !dirs.is_empty() {
            dirs.insert(self.dir.clone());
            for dir in &dirs {
                if let Err(e) = sync_dir(dir) {
                    batch_error = Some(format!("fsync {}: {e}", dir.display()));
                    break;
                }
            }
        }
        if batch_error.is_none() {
            let lines: Vec<u8> = done
                .iter()
                .filter_map(|(_, r)| r.as_ref().ok())
                .flat_map(|s| s.line.iter().copied())
                .collect();
            if !lines.is_empty() {
                if let Err(e) = self
                    .manifest
                    .write_all(&lines)
                    .and_then(|()| self.manifest.sync_data())
                {
                    batch_error = Some(format!(
                        "append to {}: {e}",
                        self.dir.join(MANIFEST).display()
                    ));
                }
            }
        }
        done.into_iter()
            .map(|(i, result)| {
                let id = items[i].id.to_string();
                let result = match (result, &batch_error) {
                    (Ok(_), None) => Ok(()),
                    (Ok(_), Some(e)) => Err(anyhow!("{id}: not saved: {e}")),
                    (Err(e), _) => Err(e),
                };
                (id, result)
            })
            .collect()
    }

    /// Copies one message's files (each fsynced) and returns its manifest
    /// line; the manifest itself is written by the caller.
    fn save_one(&self, item: &BackupItem) -> Result<Saved> {
        let id = item.id;
        if !is_valid_queue_id(id) {
            bail!("{id:?}: not a valid queue ID");
        }
        if item.queue.is_empty()
            || !item.queue.bytes().all(|b| b.is_ascii_lowercase())
            || LOG_KINDS.contains(&item.queue)
        {
            bail!("{id}: not a queue name: {:?}", item.queue);
        }
        let (bytes, mode) = read_with_mode(item.path)
            .with_context(|| format!("{id}: read {}", item.path.display()))?;
        let mut logs = Vec::new();
        for (kind, path) in &item.log_paths {
            if !LOG_KINDS.contains(kind) {
                bail!("{id}: not a logfile kind: {kind:?}");
            }
            match fs::read(path) {
                Ok(log) => logs.push((*kind, log)),
                // Removed meanwhile (or never written): nothing to keep.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("{id}: read {}", path.display())),
            }
        }

        let queue_dir = self.subdir(item.queue)?;
        let name = self
            .store_message(&queue_dir, item.queue, id, &bytes)
            .with_context(|| format!("{id}: copy to {}", queue_dir.display()))?;
        let mut dirs = vec![queue_dir];
        let mut log_files = serde_json::Map::new();
        for (kind, log) in &logs {
            let dir = self.subdir(kind)?;
            let to = dir.join(&name);
            match write_new(&to, log) {
                Ok(()) => {}
                // The same message saved before: its earlier log stays.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e).with_context(|| format!("{id}: copy to {}", to.display())),
            }
            log_files.insert(kind.to_string(), json!(format!("{kind}/{name}")));
            dirs.push(dir);
        }

        let mut entry = json!({
            "format": FORMAT,
            "queue": item.queue,
            "id": id,
            "file": format!("{}/{name}", item.queue),
            "logs": log_files,
            "size": bytes.len(),
            "mode": mode & 0o7777,
            "saved_at": now(),
        });
        describe_envelope(&bytes, &mut entry);
        let mut line = serde_json::to_vec(&entry).expect("a JSON value serializes");
        line.push(b'\n');
        Ok(Saved { line, dirs })
    }

    /// `DIR/<name>`, created (0700) if needed.
    fn subdir(&self, name: &str) -> Result<PathBuf> {
        let dir = self.dir.join(name);
        match fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => Ok(dir),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(dir),
            Err(e) => Err(e).with_context(|| format!("create {}", dir.display())),
        }
    }

    /// Writes `bytes` as `<queue>/<name>` and returns the name: the ID, or
    /// `ID.2`, `ID.3`, … when a different message already has the ID. A
    /// copy with the same bytes is reused as it is.
    fn store_message(
        &self,
        queue_dir: &Path,
        queue: &str,
        id: &str,
        bytes: &[u8],
    ) -> io::Result<String> {
        for n in 1u32.. {
            let name = if n == 1 {
                id.to_string()
            } else {
                format!("{id}.{n}")
            };
            let path = queue_dir.join(&name);
            match fs::read(&path) {
                Ok(existing) if existing == bytes => return Ok(name),
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            let taken_elsewhere = SUBDIRS
                .iter()
                .filter(|d| **d != queue)
                .any(|d| fs::symlink_metadata(self.dir.join(d).join(&name)).is_ok());
            if taken_elsewhere {
                continue;
            }
            match write_new(&path, bytes) {
                Ok(()) => return Ok(name),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        unreachable!("u32 names run out")
    }
}

/// Adds `arrival_time`, `sender` and `recipients` (or `decode_error`) to a
/// manifest entry. They are for people and scripts; restore decodes the
/// saved file itself.
fn describe_envelope(bytes: &[u8], entry: &mut Value) {
    match Envelope::decode(FileView::whole(bytes)) {
        Ok(envelope) => {
            let recipients: Vec<Value> = envelope
                .recipients
                .iter()
                .map(|r| {
                    let state = match r.state {
                        RecipientState::Todo => "todo",
                        RecipientState::Done => "done",
                        RecipientState::Canceled => "canceled",
                    };
                    json!({ "address": string_or_bytes(r.address), "state": state })
                })
                .collect();
            entry["arrival_time"] = json!(envelope.arrival_time.map(|(sec, _)| sec));
            entry["sender"] = envelope.sender.map(string_or_bytes).unwrap_or(Value::Null);
            entry["recipients"] = Value::Array(recipients);
        }
        Err(e) => entry["decode_error"] = json!(e.to_string()),
    }
}

/// Reads a whole file and its mode bits.
fn read_with_mode(path: &Path) -> io::Result<(Vec<u8>, u32)> {
    let mut file = File::open(path)?;
    let mode = file.metadata()?.mode();
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok((bytes, mode))
}

/// Creates `path` (it must not exist), writes `bytes` and fsyncs it. A
/// failed write removes the partial file, so it cannot pass for a copy.
fn write_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    let written = file.write_all(bytes).and_then(|()| file.sync_all());
    if written.is_err() {
        let _ = fs::remove_file(path);
    }
    written
}

/// fsync on a directory: makes the names created in it durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Seconds since the epoch.
fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The absolute, symlink-free form of `path`, which need not exist yet: the
/// longest existing prefix is canonicalized and the rest applied to it
/// (`..` included), so "inside the queue directory" cannot be dodged by a
/// symlink or a `..`.
fn resolve(path: &Path) -> io::Result<PathBuf> {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()?.join(path)
    };
    let components: Vec<Component> = absolute.components().collect();
    for split in (0..=components.len()).rev() {
        let prefix: PathBuf = components[..split].iter().collect();
        let mut resolved = match prefix.canonicalize() {
            Ok(p) => p,
            Err(e) if e.kind() == io::ErrorKind::NotFound && split > 0 => continue,
            Err(e) => return Err(e),
        };
        for component in &components[split..] {
            match component {
                Component::ParentDir => {
                    resolved.pop();
                }
                Component::Normal(name) => resolved.push(name),
                _ => {}
            }
        }
        return Ok(resolved);
    }
    unreachable!("the root directory always canonicalizes")
}

// ---- restore ------------------------------------------------------------

/// What `restore` needs to know about the Postfix instance.
#[derive(Clone, Debug)]
struct Target {
    config_dir: Option<PathBuf>,
    /// `command_directory/postdrop`.
    postdrop: PathBuf,
    /// `line_length_limit`: postdrop refuses longer records.
    line_limit: usize,
    /// Where to look for messages that are still queued.
    layout: QueueLayout,
}

impl Target {
    fn from_postfix(postfix: &postfix::Postfix) -> Result<Target> {
        let values = postfix.postconf(&[
            "queue_directory",
            "hash_queue_names",
            "hash_queue_depth",
            "line_length_limit",
        ])?;
        let depth = values[2]
            .trim()
            .parse()
            .with_context(|| format!("hash_queue_depth is not a number: {:?}", values[2]))?;
        let line_limit = values[3]
            .trim()
            .parse()
            .with_context(|| format!("line_length_limit is not a number: {:?}", values[3]))?;
        Ok(Target {
            config_dir: postfix.config_dir().map(Path::to_path_buf),
            postdrop: postfix.program("postdrop"),
            line_limit,
            layout: QueueLayout::new(PathBuf::from(&values[0]), &values[1], depth),
        })
    }
}

/// One saved message that `restore` will re-inject.
#[derive(Clone, Debug)]
pub struct PlannedMessage {
    /// The manifest's `file`, relative to the backup directory.
    pub file: String,
    /// The queue ID it had.
    pub id: String,
    /// Its sender (internal form; empty = null sender).
    pub sender: Vec<u8>,
    /// Its to-do recipients (internal form).
    pub recipients: Vec<Vec<u8>>,
    /// How many done or cancelled recipients are left out.
    pub left_out: usize,
    arrival: Option<(i64, i64)>,
}

/// What `restore` will do, before it does it (so the caller can ask).
#[derive(Debug)]
pub struct RestorePlan {
    dir: PathBuf,
    target: Target,
    /// The messages to re-inject, in manifest order.
    pub messages: Vec<PlannedMessage>,
    /// `(file, why)` of saved messages that will not be re-injected.
    pub skipped: Vec<(String, String)>,
    /// `(file, error)` of saved messages that cannot be read or decoded.
    pub failed: Vec<(String, String)>,
}

/// What `restore` did.
#[derive(Debug, Default)]
pub struct RestoreReport {
    /// `(old ID, maildrop ID)` of every message handed to postdrop (the
    /// maildrop ID is empty on a dry run). pickup gives each a new queue ID.
    pub restored: Vec<(String, String)>,
    /// `(file, why)` of saved messages not re-injected.
    pub skipped: Vec<(String, String)>,
    /// `(file, error)` of saved messages that failed.
    pub failed: Vec<(String, String)>,
}

/// What `restore` reports as it goes.
#[derive(Clone, Debug)]
pub enum RestoreEvent {
    /// A message was re-injected (or would be, on a dry run): a line for stdout.
    Message(String),
    /// A saved message is not re-injected, and why.
    Skipped(String),
    /// A saved message could not be re-injected.
    Failed(String),
    /// A warning from postdrop (each distinct text once).
    Warning(String),
}

/// One line of `restored.jsonl`.
struct RestoredRecord {
    file: String,
    id: String,
    arrival: Option<(i64, i64)>,
}

impl RestorePlan {
    /// Reads the manifest, decodes every saved file and decides what to
    /// re-inject: to-do recipients only; not what `restored.jsonl` lists,
    /// not what is still in the queue, and for a message saved several
    /// times only its last copy.
    pub fn load(dir: &Path, postfix: &postfix::Postfix) -> Result<RestorePlan> {
        let manifest_path = dir.join(MANIFEST);
        let manifest = fs::read_to_string(&manifest_path).with_context(|| {
            format!(
                "read {} (is {} a qsurgeon backup directory?)",
                manifest_path.display(),
                dir.display()
            )
        })?;
        let target = Target::from_postfix(postfix)?;
        let done = read_restored(dir)?;
        let done_files: HashSet<&str> = done.iter().map(|r| r.file.as_str()).collect();
        let done_keys: HashSet<(&str, Option<(i64, i64)>)> = done
            .iter()
            .filter(|r| r.arrival.is_some())
            .map(|r| (r.id.as_str(), r.arrival))
            .collect();

        let mut plan = RestorePlan {
            dir: dir.to_path_buf(),
            target,
            messages: Vec::new(),
            skipped: Vec::new(),
            failed: Vec::new(),
        };
        let mut seen_files = HashSet::new();
        for (n, line) in manifest.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let (id, file, size) = match parse_manifest_line(line) {
                Ok(entry) => entry,
                Err(e) => {
                    plan.failed
                        .push((format!("{MANIFEST} line {}", n + 1), format!("{e:#}")));
                    continue;
                }
            };
            // The same copy listed twice (saved again with the same bytes).
            if !seen_files.insert(file.clone()) {
                continue;
            }
            if done_files.contains(file.as_str()) {
                plan.skipped.push((file, "already restored".into()));
                continue;
            }
            match plan.check(&id, &file, size) {
                Ok(Some(message)) if done_keys.contains(&(id.as_str(), message.arrival)) => {
                    plan.skipped
                        .push((file, "already restored (an earlier copy)".into()));
                }
                Ok(Some(message)) => plan.messages.push(message),
                Ok(None) => {}
                Err(e) => plan.failed.push((file, format!("{e:#}"))),
            }
        }
        plan.keep_last_copies();
        Ok(plan)
    }

    /// Reads and decodes one saved file; `None` when it is skipped.
    fn check(&mut self, id: &str, file: &str, size: Option<u64>) -> Result<Option<PlannedMessage>> {
        let path = self.dir.join(file);
        let bytes = fs::read(&path).with_context(|| format!("read {}", path.display()))?;
        if let Some(size) = size.filter(|s| *s != bytes.len() as u64) {
            bail!(
                "{} has {} bytes, the manifest says {size}: changed since it was saved",
                path.display(),
                bytes.len()
            );
        }
        let envelope = Envelope::decode(FileView::whole(&bytes))
            .with_context(|| format!("decode {}", path.display()))?;
        let sender = envelope
            .sender
            .with_context(|| format!("{}: no sender record", path.display()))?;
        let recipients: Vec<Vec<u8>> = envelope
            .todo_recipients()
            .map(|r| r.address.to_vec())
            .collect();
        let left_out = envelope.recipients.len() - recipients.len();
        if recipients.is_empty() {
            self.skipped
                .push((file.to_string(), "no recipient left to deliver".into()));
            return Ok(None);
        }
        if let Some(queued) = self.still_queued(id, envelope.arrival_time) {
            self.skipped.push((
                file.to_string(),
                format!("still in the queue as {queued} (never deleted?)"),
            ));
            return Ok(None);
        }
        Ok(Some(PlannedMessage {
            file: file.to_string(),
            id: id.to_string(),
            sender: sender.to_vec(),
            recipients,
            left_out,
            arrival: envelope.arrival_time,
        }))
    }

    /// The queue file of the same message (same ID, same arrival time) if
    /// it is still in the queue.
    fn still_queued(&self, id: &str, arrival: Option<(i64, i64)>) -> Option<String> {
        let (_, relative) = self.target.layout.find(id).ok()??;
        let bytes = fs::read(self.target.layout.queue_dir().join(&relative)).ok()?;
        let envelope = Envelope::decode(FileView::whole(&bytes)).ok()?;
        (arrival.is_some() && envelope.arrival_time == arrival)
            .then(|| relative.display().to_string())
    }

    /// Of several copies of one message (same ID and arrival time), keeps
    /// only the last saved one: an earlier copy may list recipients that
    /// were delivered before the later one was taken.
    fn keep_last_copies(&mut self) {
        let mut last: HashMap<(String, Option<(i64, i64)>), usize> = HashMap::new();
        for (i, m) in self.messages.iter().enumerate() {
            if m.arrival.is_some() {
                last.insert((m.id.clone(), m.arrival), i);
            }
        }
        let files: Vec<String> = self.messages.iter().map(|m| m.file.clone()).collect();
        let mut kept = Vec::with_capacity(self.messages.len());
        for (i, m) in std::mem::take(&mut self.messages).into_iter().enumerate() {
            match last.get(&(m.id.clone(), m.arrival)) {
                Some(&j) if j != i => self
                    .skipped
                    .push((m.file, format!("superseded by the later copy {}", files[j]))),
                _ => kept.push(m),
            }
        }
        self.messages = kept;
    }

    /// How many messages will be re-injected.
    pub fn len(&self) -> usize {
        self.messages.len()
    }

    /// True when there is nothing to re-inject.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// Re-injects every planned message through postdrop (or, with
    /// `dry_run`, only says what it would do), one postdrop process per
    /// message, recording each in `restored.jsonl` before the next.
    pub fn execute(
        self,
        dry_run: bool,
        on_event: &mut dyn FnMut(RestoreEvent),
    ) -> Result<RestoreReport> {
        let mut report = RestoreReport {
            skipped: self.skipped,
            failed: self.failed,
            ..RestoreReport::default()
        };
        for (file, why) in &report.skipped {
            on_event(RestoreEvent::Skipped(format!("{file}: skipped: {why}")));
        }
        for (file, error) in &report.failed {
            on_event(RestoreEvent::Failed(format!("{file}: {error}")));
        }
        let mut warned = HashSet::new();
        let mut log = None;
        for message in &self.messages {
            let summary = describe(message);
            let path = self.dir.join(&message.file);
            let stream = fs::read(&path)
                .with_context(|| format!("read {}", path.display()))
                .and_then(|bytes| {
                    postdrop_stream(&bytes, self.target.line_limit)
                        .with_context(|| format!("{}", path.display()))
                });
            let stream = match stream {
                Ok(stream) => stream,
                Err(e) => {
                    let error = format!("{e:#}");
                    on_event(RestoreEvent::Failed(format!("{}: {error}", message.file)));
                    report.failed.push((message.file.clone(), error));
                    continue;
                }
            };
            if dry_run {
                on_event(RestoreEvent::Message(format!(
                    "{}: would restore: {summary}",
                    message.id
                )));
                report.restored.push((message.id.clone(), String::new()));
                continue;
            }
            let outcome = run_postdrop(&self.target, &stream).and_then(|(new_id, warnings)| {
                let log = match &mut log {
                    Some(log) => log,
                    None => log.insert(open_restored_log(&self.dir)?),
                };
                record_restored(log, &self.dir, message, &new_id)?;
                Ok((new_id, warnings))
            });
            match outcome {
                Ok((new_id, warnings)) => {
                    for warning in warnings {
                        if warned.insert(warning.clone()) {
                            on_event(RestoreEvent::Warning(warning));
                        }
                    }
                    on_event(RestoreEvent::Message(format!(
                        "{}: restored as maildrop/{new_id}: {summary}",
                        message.id
                    )));
                    report.restored.push((message.id.clone(), new_id));
                }
                Err(e) => {
                    let error = format!("{e:#}");
                    on_event(RestoreEvent::Failed(format!("{}: {error}", message.file)));
                    report.failed.push((message.file.clone(), error));
                }
            }
        }
        Ok(report)
    }
}

/// `from=<…> to=<…>,<…>` as postqueue quotes addresses, plus what is left out.
fn describe(message: &PlannedMessage) -> String {
    let quoted = |address: &[u8]| {
        let mut out = Vec::new();
        // quote_822_local would make the null sender `""`.
        if !address.is_empty() {
            quote_822_local(address, &mut out);
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    let to: Vec<String> = message
        .recipients
        .iter()
        .map(|r| format!("<{}>", quoted(r)))
        .collect();
    let mut text = format!("from=<{}> to={}", quoted(&message.sender), to.join(","));
    if message.left_out > 0 {
        text.push_str(&format!(
            " ({} done recipient{} left out)",
            message.left_out,
            if message.left_out == 1 { "" } else { "s" }
        ));
    }
    text
}

/// `(id, file, size)` from a manifest line; only these fields matter to
/// restore, and `file` must stay inside the backup directory.
fn parse_manifest_line(line: &str) -> Result<(String, String, Option<u64>)> {
    let value: Value = serde_json::from_str(line).context("not JSON")?;
    let field = |name: &str| {
        value
            .get(name)
            .and_then(Value::as_str)
            .with_context(|| format!("no {name:?} string"))
    };
    let id = field("id")?.to_string();
    let file = field("file")?.to_string();
    let relative = Path::new(&file);
    if !relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
        || relative.components().count() != 2
    {
        bail!("file {file:?} is not QUEUE/NAME inside the backup directory");
    }
    Ok((id, file, value.get("size").and_then(Value::as_u64)))
}

/// The lines of `restored.jsonl` (none when it does not exist yet).
fn read_restored(dir: &Path) -> Result<Vec<RestoredRecord>> {
    let path = dir.join(RESTORED);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("read {}", path.display())),
    };
    let mut records = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        // A torn last line (a crash mid-write) names nothing; any other bad
        // line is an error: guessing could send mail twice.
        let value: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(_) if n + 1 == text.lines().count() => continue,
            Err(e) => bail!("{} line {}: {e}", path.display(), n + 1),
        };
        let file = value.get("file").and_then(Value::as_str);
        let id = value.get("id").and_then(Value::as_str);
        let (Some(file), Some(id)) = (file, id) else {
            bail!("{} line {}: no \"file\" or \"id\"", path.display(), n + 1);
        };
        let arrival = value
            .get("arrival_time")
            .and_then(Value::as_array)
            .and_then(|a| Some((a.first()?.as_i64()?, a.get(1)?.as_i64()?)));
        records.push(RestoredRecord {
            file: file.to_string(),
            id: id.to_string(),
            arrival,
        });
    }
    Ok(records)
}

fn open_restored_log(dir: &Path) -> Result<File> {
    let path = dir.join(RESTORED);
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("open {}", path.display()))
}

/// Appends and fsyncs one line of `restored.jsonl`.
fn record_restored(
    log: &mut File,
    dir: &Path,
    message: &PlannedMessage,
    new_id: &str,
) -> Result<()> {
    let mut line = serde_json::to_vec(&json!({
        "file": message.file,
        "id": message.id,
        "arrival_time": message.arrival.map(|(s, u)| [s, u]),
        "maildrop_id": new_id,
        "restored_at": now(),
    }))
    .expect("a JSON value serializes");
    line.push(b'\n');
    log.write_all(&line)
        .and_then(|()| log.sync_data())
        .with_context(|| {
            format!(
                "{}: handed to Postfix as maildrop/{new_id}, but not recorded in {}",
                message.id,
                dir.join(RESTORED).display()
            )
        })
}

/// The record stream `sendmail` would write to postdrop for this message:
/// envelope (DSN attributes, rewrite context, full name, sender, encoding,
/// VERP, then each to-do recipient with its DSN attributes), `M`, the
/// content records in logical order, `X`, `E`. Records longer than
/// `line_limit` are split into `L` chunks as sendmail and cleanup split
/// them; postdrop refuses longer ones.
fn postdrop_stream(bytes: &[u8], line_limit: usize) -> Result<Vec<u8>> {
    let view = FileView::whole(bytes);
    let envelope = Envelope::decode(view)?;
    let sender = envelope.sender.context("no sender record")?;
    let mut w = RecordWriter::new();
    let put = |w: &mut RecordWriter, ty: u8, payload: &[u8], what: &str| -> Result<()> {
        // Envelope records cannot be split; say which one is too long.
        if payload.len() > line_limit {
            bail!(
                "{what} of {} bytes is longer than line_length_limit ({line_limit}): postdrop would refuse it",
                payload.len()
            );
        }
        w.record(ty, payload);
        Ok(())
    };
    let attr = |name: &str, value: &[u8]| [name.as_bytes(), b"=", value].concat();

    for name in ["envelope_id", "ret_flags"] {
        if let Some(value) = envelope
            .attribute(name.as_bytes())
            .filter(|v| !v.is_empty())
        {
            put(&mut w, REC_TYPE_ATTR, &attr(name, value), name)?;
        }
    }
    // cleanup rewrites addresses per this context; keep what the original
    // submission had (postdrop accepts only these two values).
    let context = match envelope.attribute(b"rewrite_context") {
        Some(b"remote") => &b"remote"[..],
        _ => &b"local"[..],
    };
    put(
        &mut w,
        REC_TYPE_ATTR,
        &attr("rewrite_context", context),
        "rewrite_context",
    )?;
    if let Some(full_name) = envelope.full_name {
        put(&mut w, REC_TYPE_FULL, full_name, "sender full name")?;
    }
    put(&mut w, REC_TYPE_FROM, sender, "sender")?;
    if let Some(encoding) = envelope.attribute(b"encoding") {
        if encoding == b"7bit" || encoding == b"8bit" {
            put(
                &mut w,
                REC_TYPE_ATTR,
                &attr("encoding", encoding),
                "encoding",
            )?;
        }
    }
    // sendmail refuses VERP with the null sender; so would cleanup.
    if let Some(verp) = envelope.verp_delimiters.filter(|_| !sender.is_empty()) {
        put(&mut w, REC_TYPE_VERP, verp, "VERP delimiters")?;
    }
    let mut count = 0;
    for r in envelope.todo_recipients() {
        if let Some(flags) = r.notify_flags.filter(|f| *f > 0) {
            let value = flags.to_string();
            put(
                &mut w,
                REC_TYPE_ATTR,
                &attr("notify_flags", value.as_bytes()),
                "notify_flags",
            )?;
        }
        if let Some(orcpt) = r.dsn_orig_rcpt.filter(|o| !o.is_empty()) {
            put(
                &mut w,
                REC_TYPE_ATTR,
                &attr("dsn_orig_rcpt", orcpt),
                "dsn_orig_rcpt",
            )?;
        }
        put(&mut w, REC_TYPE_RCPT, r.address, "recipient")?;
        count += 1;
    }
    if count == 0 {
        bail!("no recipient left to deliver");
    }

    w.record(REC_TYPE_MESG, b"");
    let mut reader = LogicalReader::new(view, ReadMode::Logical);
    reader.seek(envelope.content_offset);
    loop {
        let Some(rec) = reader.next_record()? else {
            bail!("the content has no end (no X record)");
        };
        match rec.ty {
            REC_TYPE_NORM | REC_TYPE_CONT => {
                let mut payload = rec.payload;
                while payload.len() > line_limit {
                    w.record(REC_TYPE_CONT, &payload[..line_limit]);
                    payload = &payload[line_limit..];
                }
                w.record(rec.ty, payload);
            }
            REC_TYPE_XTRA => break,
            other => bail!(
                "unexpected record type {:?} at offset {} in the content",
                char::from(other),
                rec.offset
            ),
        }
    }
    w.record(REC_TYPE_XTRA, b"");
    w.record(REC_TYPE_END, b"");
    Ok(w.into_bytes())
}

/// Runs `postdrop [-c CONFIG_DIR] -r`, writes `stream` to it and returns
/// the maildrop queue ID it reported, and its warnings. postdrop speaks
/// Postfix's attribute protocol on stdout (`attr_print0`: `name NUL value
/// NUL … NUL`): first `protocol=postdrop, queue_id=ID`, at the end
/// `status=N, reason=TEXT` (postfix `src/postdrop/postdrop.c`).
fn run_postdrop(target: &Target, stream: &[u8]) -> Result<(String, Vec<String>)> {
    let mut cmd = Command::new(&target.postdrop);
    if let Some(dir) = &target.config_dir {
        cmd.arg("-c").arg(dir);
    }
    cmd.arg("-r")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .with_context(|| format!("run {}", target.postdrop.display()))?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    // postdrop's replies are tiny (no pipe can fill up while we write). If
    // it dies early the write fails; its stderr says why.
    let write_error = stdin.write_all(stream).err();
    drop(stdin);
    let output = child
        .wait_with_output()
        .with_context(|| format!("wait for {}", target.postdrop.display()))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    let groups = parse_attr0(&output.stdout);
    let get = |group: usize, name: &str| {
        groups
            .get(group)
            .and_then(|g| g.iter().find(|(n, _)| n == name))
            .map(|(_, v)| v.as_str())
    };
    let status = get(1, "status");
    if !output.status.success() || status != Some("0") {
        let reason = get(1, "reason").unwrap_or("").trim();
        let mut why = stderr.trim().replace('\n', "; ");
        if !reason.is_empty() {
            why = format!("{reason}; {why}");
        }
        if let Some(e) = write_error.filter(|_| why.is_empty()) {
            why = format!("writing to it: {e}");
        }
        bail!("postdrop failed ({}): {why}", output.status);
    }
    let id = get(0, "queue_id")
        .filter(|id| is_valid_queue_id(id))
        .with_context(|| "postdrop reported no queue ID".to_string())?;
    let warnings = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    Ok((id.to_string(), warnings))
}

/// Splits `attr_print0` output into groups of `(name, value)`.
fn parse_attr0(bytes: &[u8]) -> Vec<Vec<(String, String)>> {
    let mut groups = Vec::new();
    let mut group = Vec::new();
    let mut words = bytes.split(|b| *b == 0);
    while let Some(name) = words.next() {
        if name.is_empty() {
            // An empty name ends a group (the trailing split piece too).
            if !group.is_empty() {
                groups.push(std::mem::take(&mut group));
            }
            continue;
        }
        let Some(value) = words.next() else { break };
        group.push((
            String::from_utf8_lossy(name).into_owned(),
            String::from_utf8_lossy(value).into_owned(),
        ));
    }
    if !group.is_empty() {
        groups.push(group);
    }
    groups
}

// ---- the `restore` command ------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use queue_file::write::BuilderRecipient;
    use queue_file::{QueueFileBuilder, Records};
    use std::os::unix::fs::PermissionsExt;

    /// A queue directory with `deferred/A/<id>` and its `defer/A/<id>` log.
    struct Queue {
        _tmp: tempfile::TempDir,
        root: PathBuf,
        queue_dir: PathBuf,
    }

    impl Queue {
        fn new() -> Queue {
            let tmp = tempfile::tempdir().unwrap();
            let root = tmp.path().to_path_buf();
            let queue_dir = root.join("spool");
            fs::create_dir_all(&queue_dir).unwrap();
            Queue {
                _tmp: tmp,
                root,
                queue_dir,
            }
        }

        fn put(&self, rel: &str, bytes: &[u8]) -> PathBuf {
            let path = self.queue_dir.join(rel);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, bytes).unwrap();
            path
        }
    }

    fn message(sender: &[u8], rcpt: &[u8], arrival: i64) -> Vec<u8> {
        QueueFileBuilder::new(sender, arrival)
            .recipient(rcpt)
            .line(b"Subject: test")
            .line(b"")
            .line(b"body")
            .build()
    }

    fn manifest(dir: &Path) -> Vec<Value> {
        fs::read_to_string(dir.join(MANIFEST))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn save_batch_copies_queue_files_and_logs_byte_for_byte() {
        let q = Queue::new();
        let one = message(b"alice@example.org", b"bob@example.net", 1_795_359_329);
        let two = message(b"", b"postmaster@example.net", 1_795_359_330);
        let log = b"<bob@example.net>: connect to 127.0.0.1[127.0.0.1]:1: Connection refused\n";
        let one_path = q.put("deferred/A/A45E798E3F5", &one);
        let log_path = q.put("defer/A/A45E798E3F5", log);
        let two_path = q.put("hold/B12345", &two);
        let gone = q.queue_dir.join("deferred/C/C0FFEE123");
        let backup_dir = q.root.join("backup");
        let mut backup = Backup::open(&backup_dir, &q.queue_dir).unwrap();
        let items = [
            BackupItem {
                queue: "deferred",
                id: "A45E798E3F5",
                path: &one_path,
                log_paths: vec![
                    ("defer", log_path.clone()),
                    // No bounce log: not an error.
                    ("bounce", q.queue_dir.join("bounce/A45E798E3F5")),
                ],
            },
            BackupItem {
                queue: "hold",
                id: "B12345",
                path: &two_path,
                log_paths: Vec::new(),
            },
            BackupItem {
                queue: "deferred",
                id: "C0FFEE123",
                path: &gone,
                log_paths: Vec::new(),
            },
        ];
        let results = backup.save_batch(&items);
        let ids: Vec<&str> = results.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["A45E798E3F5", "B12345", "C0FFEE123"]);
        assert!(results[0].1.is_ok(), "{:?}", results[0].1);
        assert!(results[1].1.is_ok(), "{:?}", results[1].1);
        let err = format!("{:#}", results[2].1.as_ref().unwrap_err());
        assert!(
            err.contains("C0FFEE123") && err.contains("deferred/C/C0FFEE123"),
            "{err}"
        );

        assert_eq!(
            fs::read(backup_dir.join("deferred/A45E798E3F5")).unwrap(),
            one
        );
        assert_eq!(fs::read(backup_dir.join("defer/A45E798E3F5")).unwrap(), log);
        assert_eq!(fs::read(backup_dir.join("hold/B12345")).unwrap(), two);
        assert!(!backup_dir.join("bounce").exists());
        assert!(!backup_dir.join("deferred/C0FFEE123").exists());
        assert_eq!(mode(&backup_dir), 0o700);
        assert_eq!(mode(&backup_dir.join("deferred")), 0o700);
        assert_eq!(mode(&backup_dir.join("deferred/A45E798E3F5")), 0o600);

        let lines = manifest(&backup_dir);
        assert_eq!(lines.len(), 2, "only what was saved: {lines:?}");
        assert_eq!(lines[0]["queue"], "deferred");
        assert_eq!(lines[0]["id"], "A45E798E3F5");
        assert_eq!(lines[0]["file"], "deferred/A45E798E3F5");
        assert_eq!(lines[0]["logs"], json!({"defer": "defer/A45E798E3F5"}));
        assert_eq!(lines[0]["size"], one.len());
        assert_eq!(lines[0]["sender"], "alice@example.org");
        assert_eq!(lines[0]["arrival_time"], 1_795_359_329);
        assert_eq!(
            lines[0]["recipients"],
            json!([{"address": "bob@example.net", "state": "todo"}])
        );
        assert_eq!(lines[1]["file"], "hold/B12345");
        assert_eq!(lines[1]["sender"], "", "the null sender");
        // The sources are untouched.
        assert_eq!(fs::read(&one_path).unwrap(), one);
        assert_eq!(fs::read(&log_path).unwrap(), log);
    }

    #[test]
    fn a_reused_id_gets_a_new_name_and_the_same_bytes_reuse_theirs() {
        let q = Queue::new();
        let first = message(b"a@example.org", b"x@example.net", 1_795_359_329);
        let second = message(b"b@example.org", b"y@example.net", 1_795_999_999);
        let backup_dir = q.root.join("backup");
        let save = |bytes: &[u8]| {
            let path = q.put("deferred/A/A45E798E3F5", bytes);
            let log = q.put("defer/A/A45E798E3F5", b"log\n");
            let mut backup = Backup::open(&backup_dir, &q.queue_dir).unwrap();
            let item = BackupItem {
                queue: "deferred",
                id: "A45E798E3F5",
                path: &path,
                log_paths: vec![("defer", log)],
            };
            let results = backup.save_batch(&[item]);
            results.into_iter().for_each(|(_, r)| r.unwrap());
        };
        save(&first);
        save(&first);
        save(&second);
        let files: Vec<Value> = manifest(&backup_dir)
            .into_iter()
            .map(|l| l["file"].clone())
            .collect();
        assert_eq!(
            files,
            [
                "deferred/A45E798E3F5",
                "deferred/A45E798E3F5",
                "deferred/A45E798E3F5.2"
            ]
        );
        assert_eq!(
            fs::read(backup_dir.join("deferred/A45E798E3F5")).unwrap(),
            first
        );
        assert_eq!(
            fs::read(backup_dir.join("deferred/A45E798E3F5.2")).unwrap(),
            second
        );
        assert!(backup_dir.join("defer/A45E798E3F5.2").exists());
    }

    #[test]
    fn a_backup_dir_inside_the_queue_dir_is_refused() {
        let q = Queue::new();
        fs::create_dir_all(q.root.join("elsewhere")).unwrap();
        std::os::unix::fs::symlink(&q.queue_dir, q.root.join("link")).unwrap();
        for dir in [
            q.queue_dir.clone(),
            q.queue_dir.join("backup"),
            q.queue_dir.join("deferred/new/deeper"),
            q.root.join("elsewhere/../spool/backup"),
            q.root.join("link/backup"),
        ] {
            let err = Backup::open(&dir, &q.queue_dir).unwrap_err();
            assert!(
                format!("{err:#}").contains("inside the queue directory"),
                "{}: {err:#}",
                dir.display()
            );
        }
        // Nothing was created in the queue directory.
        assert_eq!(fs::read_dir(&q.queue_dir).unwrap().count(), 0);
        // Beside it is fine.
        Backup::open(&q.root.join("spool-backup"), &q.queue_dir).unwrap();
    }

    #[test]
    fn a_non_empty_directory_without_a_manifest_is_refused() {
        let q = Queue::new();
        let dir = q.root.join("etc");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("passwd"), "root:x:0:0\n").unwrap();
        let err = Backup::open(&dir, &q.queue_dir).unwrap_err();
        assert!(
            format!("{err:#}").contains("not a qsurgeon backup directory"),
            "{err:#}"
        );
        // An existing empty directory, or an earlier backup, is fine.
        let empty = q.root.join("empty");
        fs::create_dir_all(&empty).unwrap();
        Backup::open(&empty, &q.queue_dir).unwrap();
        Backup::open(&empty, &q.queue_dir).unwrap();
    }

    #[test]
    fn bad_ids_queue_names_and_log_kinds_are_refused_per_item() {
        let q = Queue::new();
        let path = q.put("deferred/A/A1", &message(b"a@b", b"c@d", 1));
        let mut backup = Backup::open(&q.root.join("b"), &q.queue_dir).unwrap();
        let item = |queue, id, kind| BackupItem {
            queue,
            id,
            path: &path,
            log_paths: vec![(kind, path.clone())],
        };
        let results = backup.save_batch(&[
            item("deferred", "../../x", "defer"),
            item("../etc", "A1", "defer"),
            item("defer", "A1", "defer"),
            item("deferred", "A1", "../x"),
            item("deferred", "A1", "defer"),
        ]);
        let ok: Vec<bool> = results.iter().map(|(_, r)| r.is_ok()).collect();
        assert_eq!(ok, [false, false, false, false, true]);
    }

    /// The records of a stream, as `(type, payload)`.
    fn records(bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
        Records::new(bytes)
            .map(|r| r.map(|r| (r.ty, r.payload.to_vec())).unwrap())
            .collect()
    }

    #[test]
    fn the_postdrop_stream_keeps_the_envelope_and_only_to_do_recipients() {
        let long_line = vec![b'x'; 1300];
        let bytes = QueueFileBuilder::new(b"", 1_795_359_329)
            .attr_before_sender("sasl_username", b"mallory")
            .attr_before_sender("envelope_id", b"QS-ENVID-0001")
            .attr_before_sender("ret_flags", b"2")
            .attr("encoding", b"8bit")
            .attr("client_address", b"203.0.113.66")
            .recipient_full(BuilderRecipient {
                address: b"odd user@remote.example".to_vec(),
                original: Some(b"alias@example.org".to_vec()),
                notify_flags: 6,
                dsn_orig_rcpt: Some(b"rfc822;alias@example.org".to_vec()),
                done: false,
            })
            .recipient_full(BuilderRecipient {
                address: b"gone@discard.example".to_vec(),
                original: None,
                notify_flags: 8,
                dsn_orig_rcpt: None,
                done: true,
            })
            .recipient("j\u{f6}rg@b\u{fc}cher.example".as_bytes())
            .line(b"Subject: hi")
            .line(b"")
            .line(&long_line)
            .build();
        let stream = postdrop_stream(&bytes, 512).unwrap();
        let want: Vec<(u8, Vec<u8>)> = vec![
            (b'A', b"envelope_id=QS-ENVID-0001".to_vec()),
            (b'A', b"ret_flags=2".to_vec()),
            (b'A', b"rewrite_context=remote".to_vec()),
            (b'S', b"".to_vec()),
            (b'A', b"encoding=8bit".to_vec()),
            (b'A', b"notify_flags=6".to_vec()),
            (b'A', b"dsn_orig_rcpt=rfc822;alias@example.org".to_vec()),
            (b'R', b"odd user@remote.example".to_vec()),
            (b'R', "j\u{f6}rg@b\u{fc}cher.example".as_bytes().to_vec()),
            (b'M', b"".to_vec()),
            (b'N', b"Subject: hi".to_vec()),
            (b'N', b"".to_vec()),
            (b'L', vec![b'x'; 512]),
            (b'L', vec![b'x'; 512]),
            (b'N', vec![b'x'; 276]),
            (b'X', b"".to_vec()),
            (b'E', b"".to_vec()),
        ];
        assert_eq!(records(&stream), want);
        // Every record type is one postdrop accepts (REC_TYPE_POST_*).
        assert!(records(&stream)
            .iter()
            .all(|(ty, _)| b"MFSRVAinXLNEAR".contains(ty)));
    }

    #[test]
    fn the_postdrop_stream_follows_pointer_records_in_the_content() {
        // A header replaced by a Milter: a pointer to the heap and back.
        let mut w = RecordWriter::new();
        w.record(b'T', b"1795359329 0");
        w.record(b'S', b"a@example.org");
        w.record(b'R', b"b@example.net");
        w.record(b'M', b"");
        let jump = w.pointer(0);
        let back_to = w.position();
        w.record(b'N', b"");
        w.record(b'N', b"body");
        w.record(b'X', b"");
        w.record(b'E', b"");
        let heap = w.position();
        w.record(b'N', b"Subject: edited");
        w.record(b'w', b"    0");
        let back = w.pointer(0);
        w.patch_pointer(jump, heap);
        w.patch_pointer(back, back_to);
        let stream = postdrop_stream(&w.into_bytes(), 2048).unwrap();
        let content: Vec<Vec<u8>> = records(&stream)
            .into_iter()
            .skip_while(|(ty, _)| *ty != b'M')
            .map(|(_, p)| p)
            .collect();
        let want: [&[u8]; 6] = [b"", b"Subject: edited", b"", b"body", b"", b""];
        assert_eq!(content, want);
    }

    #[test]
    fn a_message_with_nothing_left_to_deliver_has_no_stream() {
        let bytes = QueueFileBuilder::new(b"a@example.org", 1)
            .recipient_full(BuilderRecipient {
                address: b"b@example.net".to_vec(),
                original: None,
                notify_flags: 0,
                dsn_orig_rcpt: None,
                done: true,
            })
            .line(b"x")
            .build();
        let err = postdrop_stream(&bytes, 2048).unwrap_err();
        assert!(err.to_string().contains("no recipient left"), "{err}");
    }

    #[test]
    fn postdrop_replies_are_parsed() {
        let out = b"protocol\0postdrop\0queue_id\x004jXXK158vnz1SY32\0\0status\x000\0reason\0\0\0";
        let groups = parse_attr0(out);
        assert_eq!(groups.len(), 2, "{groups:?}");
        assert_eq!(groups[0][1], ("queue_id".into(), "4jXXK158vnz1SY32".into()));
        assert_eq!(groups[1][0], ("status".into(), "0".into()));
        assert_eq!(groups[1][1], ("reason".into(), String::new()));
    }

    #[test]
    fn manifest_files_must_stay_in_the_backup_directory() {
        let line = |file: &str| json!({"id": "A1", "file": file, "size": 3}).to_string();
        assert!(parse_manifest_line(&line("deferred/A1")).is_ok());
        for bad in [
            "../deferred/A1",
            "/etc/shadow",
            "deferred/../../x",
            "A1",
            "a/b/c",
        ] {
            assert!(parse_manifest_line(&line(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_message_still_in_the_queue_is_recognised_by_id_and_arrival_time() {
        let q = Queue::new();
        q.put("deferred/A/A1", &message(b"a@b", b"c@d", 1_795_359_329));
        let plan = RestorePlan {
            dir: q.root.join("backup"),
            target: Target {
                config_dir: None,
                postdrop: PathBuf::from("/nonexistent/postdrop"),
                line_limit: 2048,
                layout: QueueLayout::with_defaults(&q.queue_dir),
            },
            messages: Vec::new(),
            skipped: Vec::new(),
            failed: Vec::new(),
        };
        assert_eq!(
            plan.still_queued("A1", Some((1_795_359_329, 0))).as_deref(),
            Some("deferred/A/A1")
        );
        // The same ID, reused by another message.
        assert_eq!(plan.still_queued("A1", Some((1_795_000_000, 0))), None);
        assert_eq!(plan.still_queued("B2", Some((1_795_359_329, 0))), None);
    }
}
