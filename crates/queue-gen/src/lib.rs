//! queue-gen: builds realistic Postfix queue directories (10k to 1M
//! messages) for qsurgeon's integration tests and benchmarks. A dev tool,
//! not part of qsurgeon's user interface.
//!
//! The queue looks like the one a postmaster finds the morning after a
//! SASL login was stolen: a known share of the mail comes from one SASL user
//! with forged senders in our own domain (`AA@ourdomain.example` …) and
//! clients all over 203.0.113.0/24; the rest is normal users, web servers
//! and cron on our networks, and null-sender bounces; recipients over
//! thousands of domains; sizes lognormal around 1.3 KB with a tail of
//! attachments up to a few MB; ages spread over days; defer logs in the
//! bounce daemon's format with the reasons real MX servers give; a few
//! files still being written. Files are written with
//! `queue_file::RecordWriter` in cleanup's layout, owned by `postfix`,
//! under valid short queue IDs that match their inodes, so real
//! `postcat`, `postqueue` and `postsuper` accept them.
//!
//! Everything but the queue IDs (which encode inode numbers) is a function
//! of `--seed`, `--now` and the message count: each message draws from its
//! own random stream, so the thread count does not change the result.
//!
//! # Layout of the crate
//! - [`rng`]: the deterministic random source and its distributions.
//! - [`world`]: users, clients, remote domains and their troubles.
//! - [`message`]: planning and rendering one message and its defer log.
//! - [`spool`]: directories, owners, modes, IDs, the config directory.

pub mod message;
pub mod rng;
pub mod spool;
pub mod world;

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use rayon::prelude::*;

use message::{Message, PlanConfig, Queue};
use rng::Rng;
use spool::{Owner, Spool};
use world::World;

/// What to generate.
#[derive(Clone, Debug)]
pub struct Options {
    /// The queue directory to create (must not exist, or be empty).
    pub out: PathBuf,
    /// Number of queue files (complete ones plus the few in progress).
    pub messages: u64,
    pub seed: u64,
    /// Share of the messages sent by the spammer (0..=1).
    pub spam_share: f64,
    /// The stolen SASL login.
    pub spammer: String,
    /// "Now" in epoch seconds: ages are counted back from it.
    pub now: i64,
    /// Normal mail arrived over this many days.
    pub days: f64,
    /// The spammer's burst lasted this many hours (up to now).
    pub spam_hours: f64,
    /// Approximate cap on the sum of message sizes (bytes): attachments
    /// are dropped once the running total would pass it.
    pub max_total_size: u64,
    /// Largest single message (bytes).
    pub max_message_size: u64,
    /// Also write a Postfix configuration directory here.
    pub postfix_config: Option<PathBuf>,
    /// Where to write the manifest (default: `out/manifest.json`).
    pub manifest: Option<PathBuf>,
    /// Worker threads (0: rayon's default, one per core).
    pub threads: usize,
    /// Print progress on stderr.
    pub progress: bool,
}

impl Options {
    /// Defaults for `messages` messages into `out`.
    pub fn new(out: impl Into<PathBuf>, messages: u64) -> Options {
        Options {
            out: out.into(),
            messages,
            seed: 1,
            spam_share: 0.05,
            spammer: "spammer".into(),
            now: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0),
            days: 4.5,
            spam_hours: 6.0,
            max_total_size: 8 << 30,
            max_message_size: 4 << 20,
            postfix_config: None,
            manifest: None,
            threads: 0,
            progress: false,
        }
    }
}

/// Counts of what was generated (also written as `manifest.json`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Complete messages per queue (what postqueue lists).
    pub queues: BTreeMap<&'static str, u64>,
    /// The spammer's complete messages per queue.
    pub spam_queues: BTreeMap<&'static str, u64>,
    /// Files still being written (mode 0600; listed by nobody).
    pub in_progress: u64,
    pub spam_in_progress: u64,
    pub bounces: u64,
    pub forced_expired: u64,
    pub defer_logs: u64,
    /// Recipients still to be delivered, over complete messages.
    pub todo_recipients: u64,
    pub done_recipients: u64,
    /// Sum of message sizes (the `C` record) of complete messages.
    pub message_bytes: u64,
    /// Sum of the sizes of every file written (queue files and logs).
    pub file_bytes: u64,
    pub largest_message: u64,
    pub with_attachment: u64,
}

impl Counts {
    fn add(mut self, o: Counts) -> Counts {
        for (q, n) in o.queues {
            *self.queues.entry(q).or_default() += n;
        }
        for (q, n) in o.spam_queues {
            *self.spam_queues.entry(q).or_default() += n;
        }
        self.in_progress += o.in_progress;
        self.spam_in_progress += o.spam_in_progress;
        self.bounces += o.bounces;
        self.forced_expired += o.forced_expired;
        self.defer_logs += o.defer_logs;
        self.todo_recipients += o.todo_recipients;
        self.done_recipients += o.done_recipients;
        self.message_bytes += o.message_bytes;
        self.file_bytes += o.file_bytes;
        self.largest_message = self.largest_message.max(o.largest_message);
        self.with_attachment += o.with_attachment;
        self
    }

    /// Complete messages in all queues.
    pub fn messages(&self) -> u64 {
        self.queues.values().sum()
    }

    /// The spammer's complete messages.
    pub fn spam_messages(&self) -> u64 {
        self.spam_queues.values().sum()
    }
}

/// The result of a run.
#[derive(Clone, Debug)]
pub struct Report {
    pub counts: Counts,
    pub seconds: f64,
    pub manifest: PathBuf,
    /// Anything the user should know (config check problems, no chown).
    pub notes: Vec<String>,
}

/// Generates the queue.
pub fn generate(opts: &Options) -> io::Result<Report> {
    let started = Instant::now();
    if !(0.0..=1.0).contains(&opts.spam_share) {
        return Err(invalid("the spam share must be between 0 and 1"));
    }
    let mut notes = Vec::new();
    let owner = Owner::lookup();
    if owner.is_none() {
        notes.push(
            "not root or no user postfix: files keep the caller's owner (Postfix's tools \
             want them owned by postfix)"
                .to_string(),
        );
    }
    let spool = Spool::create(&opts.out, owner)?;
    let world = World::new(opts.seed, &opts.spammer);
    if let Some(config) = &opts.postfix_config {
        let users: Vec<String> = world
            .users
            .iter()
            .map(|u| u.sender.split('@').next().unwrap_or_default().to_string())
            .collect();
        notes.extend(spool::write_config(config, &opts.out, owner, &users)?);
    }
    let cfg = PlanConfig {
        seed: opts.seed,
        now: opts.now,
        spread_secs: (opts.days * 86_400.0) as i64,
        spam_secs: (opts.spam_hours * 3600.0) as i64,
        spam_share: opts.spam_share,
    };
    let attachments = attachment_plan(opts);
    let done = AtomicU64::new(0);
    let step = (opts.messages / 20).max(1);
    let work = || {
        (0..opts.messages)
            .into_par_iter()
            .map(|i| {
                let m = Message::plan(&world, &cfg, i, attachments[i as usize] as usize);
                let written = spool.write(&world, &m)?;
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                if opts.progress && n % step == 0 {
                    eprintln!(
                        "queue-gen: {n}/{} messages, {:.0} s",
                        opts.messages,
                        started.elapsed().as_secs_f64()
                    );
                }
                Ok::<Counts, io::Error>(count(&m, &written.rendered))
            })
            .try_reduce(Counts::default, |a, b| Ok(a.add(b)))
    };
    let counts = if opts.threads > 0 {
        rayon::ThreadPoolBuilder::new()
            .num_threads(opts.threads)
            .build()
            .map_err(|e| io::Error::other(e.to_string()))?
            .install(work)?
    } else {
        work()?
    };
    let seconds = started.elapsed().as_secs_f64();
    let manifest = opts
        .manifest
        .clone()
        .unwrap_or_else(|| default_manifest(&opts.out));
    std::fs::write(&manifest, manifest_json(opts, &counts, seconds))?;
    Ok(Report {
        counts,
        seconds,
        manifest,
        notes,
    })
}

fn count(m: &Message, r: &message::Rendered) -> Counts {
    let mut c = Counts {
        file_bytes: r.queue_file.len() as u64 + r.defer_log.as_ref().map_or(0, |l| l.len() as u64),
        ..Counts::default()
    };
    if !m.complete {
        c.in_progress = 1;
        c.spam_in_progress = u64::from(m.is_spam());
        return c;
    }
    c.queues.insert(m.queue.name(), 1);
    if m.is_spam() {
        c.spam_queues.insert(m.queue.name(), 1);
    }
    c.bounces = u64::from(m.kind == message::Kind::Bounce);
    c.forced_expired = u64::from(m.forced_expire);
    c.defer_logs = u64::from(r.defer_log.is_some());
    let done = m.recipients.iter().filter(|r| r.done).count() as u64;
    c.done_recipients = done;
    c.todo_recipients = m.recipients.len() as u64 - done;
    c.message_bytes = r.message_size;
    c.largest_message = r.message_size;
    c.with_attachment = u64::from(m.attachment > 0);
    c
}

/// Attachment sizes, decided up front in index order so that the total
/// size cap is applied the same way whatever the thread count: about 1.5%
/// of the messages carry one (lognormal, median 50 KB), until the running
/// total would pass the cap (small messages are budgeted at 2 KB each).
fn attachment_plan(opts: &Options) -> Vec<u32> {
    let budget = opts
        .max_total_size
        .saturating_sub(opts.messages.saturating_mul(2_000));
    let largest = opts.max_message_size.saturating_sub(8_192).max(5_000) as f64;
    let mut total = 0u64;
    (0..opts.messages)
        .map(|i| {
            let mut rng = Rng::new(opts.seed ^ 0xA77A_C4ED, i);
            if !rng.chance(0.015) {
                return 0;
            }
            let size = rng.lognormal(50_000.0, 1.3).clamp(5_000.0, largest) as u64;
            if total + size > budget {
                return 0;
            }
            total += size;
            size as u32
        })
        .collect()
}

fn manifest_json(opts: &Options, c: &Counts, seconds: f64) -> String {
    let map = |m: &BTreeMap<&str, u64>| {
        Queue::ALL
            .iter()
            .map(|q| format!("\"{}\": {}", q.name(), m.get(q.name()).unwrap_or(&0)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let config = opts
        .postfix_config
        .as_deref()
        .map(|p| json_string(&p.display().to_string()))
        .unwrap_or_else(|| "null".into());
    format!(
        "{{\n  \"generator\": \"queue-gen {version}\",\n  \"queue_directory\": {queue},\n  \
         \"postfix_config\": {config},\n  \"seed\": {seed},\n  \"now\": {now},\n  \
         \"requested\": {requested},\n  \"messages\": {messages},\n  \"queues\": {{{queues}}},\n  \
         \"in_progress\": {in_progress},\n  \"spammer\": {{\"sasl_username\": {spammer}, \
         \"messages\": {spam}, \"queues\": {{{spam_queues}}}, \"in_progress\": {spam_ip}, \
         \"sender_pattern\": \"[A-Z][A-Z]@{domain}\", \"client_net\": \"203.0.113.0/24\"}},\n  \
         \"bounces\": {bounces},\n  \"forced_expired\": {expired},\n  \"defer_logs\": {logs},\n  \
         \"todo_recipients\": {todo},\n  \"done_recipients\": {done},\n  \
         \"with_attachment\": {attach},\n  \"message_bytes\": {bytes},\n  \
         \"file_bytes\": {file_bytes},\n  \"largest_message\": {largest},\n  \
         \"max_total_size\": {cap},\n  \"id_style\": \"short\",\n  \"hash_queue_depth\": 1,\n  \
         \"seconds\": {seconds:.1}\n}}\n",
        version = env!("CARGO_PKG_VERSION"),
        queue = json_string(&opts.out.display().to_string()),
        seed = opts.seed,
        now = opts.now,
        requested = opts.messages,
        messages = c.messages(),
        queues = map(&c.queues),
        in_progress = c.in_progress,
        spammer = json_string(&opts.spammer),
        spam = c.spam_messages(),
        spam_queues = map(&c.spam_queues),
        spam_ip = c.spam_in_progress,
        domain = world::OUR_DOMAIN,
        bounces = c.bounces,
        expired = c.forced_expired,
        logs = c.defer_logs,
        todo = c.todo_recipients,
        done = c.done_recipients,
        attach = c.with_attachment,
        bytes = c.message_bytes,
        file_bytes = c.file_bytes,
        largest = c.largest_message,
        cap = opts.max_total_size,
    )
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg.to_string())
}

/// Where `generate` puts the manifest by default.
pub fn default_manifest(out: &Path) -> PathBuf {
    out.join("manifest.json")
}
