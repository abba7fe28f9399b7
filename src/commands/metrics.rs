//! `qsurgeon metrics`: the queue as Prometheus metrics, in the text
//! exposition format (version 0.0.4) that node_exporter's textfile collector
//! reads: messages, bytes, recipients and the oldest message's age per
//! queue, an age histogram per queue, top-N tables (SASL user, sender
//! domain, client network, recipient domain) with messages and recipients,
//! and how the scan went.
//!
//! One scan (a `query::Fold` per worker, merged) counts everything; the hot
//! path allocates only for a key not seen before, as `summary`'s does.
//!
//! Label cardinality is bounded: each top-N table has at most `--top` keys;
//! the other keys are summed into `qsurgeon_top_other_*` (labelled by
//! dimension only), and messages without a key (no SASL login, the null
//! sender, no client address, a recipient without a domain) into
//! `qsurgeon_top_none_*`, so neither can be mistaken for a key of that name.
//!
//! Label values come from strangers (a SASL login, a domain): they are
//! escaped as the format says (backslash, double quote, newline), and keys
//! that are not UTF-8 are shown with U+FFFD, merging with any key that
//! then reads the same, so that no two samples carry the same labels.
//!
//! `--output FILE` is written as the textfile collector needs (it may read
//! at any moment): into a new temporary file in the same directory, under a
//! name nobody can guess, opened with `O_CREAT|O_EXCL|O_NOFOLLOW` (root may
//! run this in a directory
//! another user can write: no symlink or planted file is followed or
//! reused), mode 0644 whatever the umask (node_exporter runs as its own
//! user), synced, then renamed over FILE, and the directory synced.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use query::dimension::push_domain;
use query::{Dimension, Fold, KeyList, MessageView, Tally};
use queue_scan::{ReadPlan, ScanError, ScanProgress};

use crate::cli::{MetricsArgs, Opts, SelectArgs};
use crate::config::{targets, Target};
use crate::exit::ExitStatus;
use crate::selection;
use crate::ui::sanitize::for_stderr;

/// The queues counted, in showq's order (`query::DEFAULT_QUEUES`).
const QUEUES: &[&str] = query::DEFAULT_QUEUES;

/// Upper bounds of the age histogram's buckets, in seconds: qshape's
/// columns (5, 10, 20 … 1280 minutes), so a histogram and `qshape` (or
/// `summary --matrix`) tell the same story; `+Inf` follows.
const AGE_BUCKETS: [i64; 9] = [300, 600, 1200, 2400, 4800, 9600, 19_200, 38_400, 76_800];

/// The top-N tables: the dimensions whose bursts mean a stolen login, a
/// spamming customer or a bouncing destination.
const TOP: [Dimension; 4] = [
    Dimension::SaslUser,
    Dimension::SenderDomain,
    Dimension::ClientNet,
    Dimension::RecipientDomain,
];

/// How many scan errors are named on standard error (all are counted).
const ERRORS_SHOWN: usize = 10;

/// Messages and their to-do recipients.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Count {
    messages: u64,
    recipients: u64,
}

impl Count {
    fn add(&mut self, other: Count) {
        self.messages += other.messages;
        self.recipients += other.recipients;
    }
}

/// One queue's numbers.
#[derive(Clone, Debug, Default)]
struct QueueStats {
    tally: Tally,
    recipients: u64,
    /// Messages per age bucket (not cumulative); the last is `+Inf`.
    buckets: [u64; AGE_BUCKETS.len() + 1],
    /// The sum of the ages, in seconds (the histogram's `_sum`).
    age_sum: i64,
}

/// One worker's (or, merged, the whole scan's) counts.
struct MetricsFold {
    now: i64,
    queues: Vec<QueueStats>,
    tables: [HashMap<Vec<u8>, Count>; TOP.len()],
    none: [Count; TOP.len()],
    keys: KeyList,
    domain: Vec<u8>,
    errors: u64,
    shown_errors: Vec<String>,
}

impl MetricsFold {
    fn new(now: i64) -> MetricsFold {
        MetricsFold {
            now,
            queues: vec![QueueStats::default(); QUEUES.len()],
            tables: Default::default(),
            none: [Count::default(); TOP.len()],
            keys: KeyList::new(),
            domain: Vec::new(),
            errors: 0,
            shown_errors: Vec::new(),
        }
    }

    fn add(&mut self, view: &MessageView<'_, '_>) {
        let msg = view.msg;
        let env = msg.envelope;
        let (bytes, arrival) = (msg.message_size(), msg.arrival_time());
        let recipients = env.todo_recipients().count() as u64;
        if let Some(q) = QUEUES.iter().position(|q| *q == msg.queue) {
            let age = (self.now - arrival).max(0);
            let stats = &mut self.queues[q];
            stats
                .tally
                .add(bytes, u64::from(view.recipient_count()), arrival);
            stats.recipients += recipients;
            let bucket = AGE_BUCKETS
                .iter()
                .position(|&b| age <= b)
                .unwrap_or(AGE_BUCKETS.len());
            stats.buckets[bucket] += 1;
            stats.age_sum += age;
        }
        let message = Count {
            messages: 1,
            recipients,
        };
        for (t, dim) in TOP.iter().enumerate() {
            if *dim == Dimension::RecipientDomain {
                continue;
            }
            dim.keys(view, &mut self.keys);
            let key = self.keys.iter().next().unwrap_or_default();
            count(&mut self.tables[t], &mut self.none[t], key, message);
        }
        // Recipient domains: the message counts once per domain, each
        // recipient once in its domain.
        let t = TOP.len() - 1;
        self.keys.clear();
        if recipients == 0 {
            self.none[t].messages += 1;
        }
        for r in env.todo_recipients() {
            self.domain.clear();
            push_domain(r.address, &mut self.domain);
            let before = self.keys.len();
            self.keys.push(&self.domain);
            let first = self.keys.len() > before;
            let c = Count {
                messages: u64::from(first),
                recipients: 1,
            };
            count(&mut self.tables[t], &mut self.none[t], &self.domain, c);
        }
    }
}

/// Counts `c` for `key` in `table`, or in `none` for the empty key.
fn count(table: &mut HashMap<Vec<u8>, Count>, none: &mut Count, key: &[u8], c: Count) {
    if key.is_empty() {
        none.add(c);
        return;
    }
    // Look up by slice first: a new key is the rare case.
    match table.get_mut(key) {
        Some(found) => found.add(c),
        None => {
            table.insert(key.to_vec(), c);
        }
    }
}

impl Fold for MetricsFold {
    fn message(&mut self, view: &MessageView<'_, '_>) {
        self.add(view);
    }

    fn error(&mut self, error: ScanError) {
        self.errors += 1;
        if self.shown_errors.len() < ERRORS_SHOWN {
            self.shown_errors.push(error.to_string());
        }
    }

    fn merge(mut self, other: Self) -> Self {
        for (mine, theirs) in self.queues.iter_mut().zip(other.queues) {
            mine.tally.merge(&theirs.tally);
            mine.recipients += theirs.recipients;
            for (m, t) in mine.buckets.iter_mut().zip(theirs.buckets) {
                *m += t;
            }
            mine.age_sum += theirs.age_sum;
        }
        for (t, table) in other.tables.into_iter().enumerate() {
            for (key, count) in table {
                self.tables[t].entry(key).or_default().add(count);
            }
            self.none[t].add(other.none[t]);
        }
        self.errors += other.errors;
        let room = ERRORS_SHOWN.saturating_sub(self.shown_errors.len());
        self.shown_errors
            .extend(other.shown_errors.into_iter().take(room));
        self
    }
}

/// One top-N table as it is written: the rows, and what is left out.
struct TopTable {
    rows: Vec<(String, Count)>,
    other: Count,
    none: Count,
    distinct: usize,
}

/// Ranks a table: keys read as UTF-8 (lossily, merging keys that then read
/// the same), most messages first, then most recipients, then by key; the
/// first `n` are kept, the rest summed into `other`.
fn top_table(table: &HashMap<Vec<u8>, Count>, none: Count, n: usize) -> TopTable {
    let mut merged: HashMap<String, Count> = HashMap::with_capacity(table.len());
    for (key, count) in table {
        merged
            .entry(String::from_utf8_lossy(key).into_owned())
            .or_default()
            .add(*count);
    }
    let distinct = merged.len();
    let mut rows: Vec<(String, Count)> = merged.into_iter().collect();
    rows.sort_by(|a, b| {
        b.1.messages
            .cmp(&a.1.messages)
            .then(b.1.recipients.cmp(&a.1.recipients))
            .then(a.0.cmp(&b.0))
    });
    let mut other = Count::default();
    for (_, count) in rows.iter().skip(n) {
        other.add(*count);
    }
    rows.truncate(n);
    TopTable {
        rows,
        other,
        none,
        distinct,
    }
}

/// What one instance's scan gave.
struct Report {
    queues: Vec<QueueStats>,
    top: Vec<TopTable>,
    now: i64,
    duration: f64,
    errors: u64,
}

/// One instance: its name (with `--all-instances`) and its report, or
/// `None` when it could not be scanned.
struct InstanceMetrics {
    label: Option<String>,
    report: Option<Report>,
    timestamp: i64,
}

/// Scans one instance.
fn scan(target: &Target, top: usize) -> Result<Report> {
    crate::commands::fallback::ensure_readable(target, &SelectArgs::default())?;
    let query = selection::query(target, &SelectArgs::default(), ReadPlan::default(), true)?;
    let started = Instant::now();
    let fold = query.run(&target.instance.layout, &ScanProgress::default(), || {
        MetricsFold::new(query.ctx.now)
    });
    let duration = started.elapsed().as_secs_f64();
    for e in &fold.shown_errors {
        eprintln!("qsurgeon: error: {}", for_stderr(e));
    }
    if fold.errors > fold.shown_errors.len() as u64 {
        eprintln!(
            "qsurgeon: error: … and {} more files that could not be read",
            fold.errors - fold.shown_errors.len() as u64
        );
    }
    let top = fold
        .tables
        .iter()
        .zip(fold.none)
        .map(|(table, none)| top_table(table, none, top))
        .collect();
    Ok(Report {
        queues: fold.queues,
        top,
        now: query.ctx.now,
        duration,
        errors: fold.errors,
    })
}

/// Runs `metrics` on every instance the options name.
pub fn run(opts: &Opts, args: &MetricsArgs) -> Result<ExitStatus> {
    let targets = targets(opts)?;
    let mut instances = Vec::with_capacity(targets.len());
    let mut status = ExitStatus::Success;
    for target in &targets {
        let timestamp = select::Context::now().now;
        let report = match scan(target, usize::from(args.top)) {
            Ok(report) => {
                if report.errors > 0 {
                    status = ExitStatus::Error;
                }
                Some(report)
            }
            // One instance that cannot be scanned must not blank the others'
            // metrics: it is reported, and its qsurgeon_scan_success is 0.
            Err(err) if opts.all_instances => {
                let name = target.label.as_deref().unwrap_or("-");
                eprintln!(
                    "qsurgeon: error: instance {}: {}",
                    for_stderr(name),
                    for_stderr(&format!("{err:#}"))
                );
                status = ExitStatus::Error;
                None
            }
            Err(err) => return Err(err),
        };
        instances.push(InstanceMetrics {
            label: target.label.clone(),
            report,
            timestamp,
        });
    }
    let text = render(&instances);
    match &args.output {
        Some(path) => write_atomically(path, text.as_bytes())
            .with_context(|| format!("write {}", path.display()))?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes())?;
            stdout.flush()?;
        }
    }
    Ok(status)
}

/// Escapes a label value as the text format says: `\` `"` and newline.
fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// The lines of the exposition: each family's HELP and TYPE once, then
/// its samples from every instance (the format wants a family's samples
/// together).
struct Exposition<'a> {
    out: String,
    instances: &'a [InstanceMetrics],
}

impl Exposition<'_> {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, instance: Option<&str>, labels: &[(&str, &str)], value: &str) {
        self.out.push_str(name);
        let all = instance
            .map(|i| ("postfix_instance", i))
            .into_iter()
            .chain(labels.iter().copied());
        let mut first = true;
        for (label, v) in all {
            self.out.push(if first { '{' } else { ',' });
            first = false;
            let _ = write!(self.out, "{label}=\"{}\"", escape_label(v));
        }
        if !first {
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {value}");
    }

    /// A gauge family with one sample per queue of every scanned instance.
    fn per_queue(&mut self, name: &str, help: &str, value: impl Fn(&QueueStats, i64) -> i64) {
        self.family(name, "gauge", help);
        for inst in self.instances {
            let Some(report) = &inst.report else { continue };
            for (queue, stats) in QUEUES.iter().zip(&report.queues) {
                let v = value(stats, report.now);
                self.sample(
                    name,
                    inst.label.as_deref(),
                    &[("queue", queue)],
                    &v.to_string(),
                );
            }
        }
    }

    /// A gauge family with one sample per top-N dimension.
    fn per_dimension(&mut self, name: &str, help: &str, value: impl Fn(&TopTable) -> u64) {
        self.family(name, "gauge", help);
        for inst in self.instances {
            let Some(report) = &inst.report else { continue };
            for (dim, table) in TOP.iter().zip(&report.top) {
                let v = value(table).to_string();
                self.sample(
                    name,
                    inst.label.as_deref(),
                    &[("dimension", dim.name())],
                    &v,
                );
            }
        }
    }

    /// The top-N rows of every dimension.
    fn top_rows(&mut self, name: &str, help: &str, value: impl Fn(&Count) -> u64) {
        self.family(name, "gauge", help);
        for inst in self.instances {
            let Some(report) = &inst.report else { continue };
            for (dim, table) in TOP.iter().zip(&report.top) {
                for (key, count) in &table.rows {
                    let labels = [("dimension", dim.name()), ("key", key.as_str())];
                    let v = value(count).to_string();
                    self.sample(name, inst.label.as_deref(), &labels, &v);
                }
            }
        }
    }
}

/// The whole exposition.
fn render(instances: &[InstanceMetrics]) -> String {
    let mut x = Exposition {
        out: String::new(),
        instances,
    };
    x.per_queue(
        "qsurgeon_queue_messages",
        "Messages in the queue.",
        |s, _| s.tally.messages as i64,
    );
    x.per_queue(
        "qsurgeon_queue_bytes",
        "Bytes of the messages in the queue (message sizes as postqueue reports them).",
        |s, _| s.tally.bytes as i64,
    );
    x.per_queue(
        "qsurgeon_queue_recipients",
        "Recipients not yet delivered of the messages in the queue.",
        |s, _| s.recipients as i64,
    );
    x.per_queue(
        "qsurgeon_queue_oldest_age_seconds",
        "Age of the oldest message in the queue (0 when the queue is empty).",
        |s, now| {
            if s.tally.messages == 0 {
                0
            } else {
                (now - s.tally.oldest).max(0)
            }
        },
    );
    // The age histogram: cumulative buckets, as the format wants.
    let name = "qsurgeon_message_age_seconds";
    x.family(
        name,
        "histogram",
        "Ages of the messages in the queue (buckets are qshape's columns).",
    );
    for inst in instances {
        let Some(report) = &inst.report else { continue };
        let label = inst.label.as_deref();
        for (queue, stats) in QUEUES.iter().zip(&report.queues) {
            let mut cumulative = 0;
            for (i, count) in stats.buckets.iter().enumerate() {
                cumulative += count;
                let le = AGE_BUCKETS
                    .get(i)
                    .map_or_else(|| "+Inf".to_string(), |b| b.to_string());
                x.sample(
                    &format!("{name}_bucket"),
                    label,
                    &[("queue", queue), ("le", &le)],
                    &cumulative.to_string(),
                );
            }
            let queue = [("queue", *queue)];
            x.sample(
                &format!("{name}_sum"),
                label,
                &queue,
                &stats.age_sum.to_string(),
            );
            x.sample(
                &format!("{name}_count"),
                label,
                &queue,
                &stats.tally.messages.to_string(),
            );
        }
    }
    x.top_rows(
        "qsurgeon_top_messages",
        "Messages of each of the top keys of a dimension (sasl_user, sender_domain, client_net, recipient_domain; a message counts once per recipient domain).",
        |c| c.messages,
    );
    x.top_rows(
        "qsurgeon_top_recipients",
        "Recipients not yet delivered of the messages of each top key (for recipient_domain: those in the domain).",
        |c| c.recipients,
    );
    x.per_dimension(
        "qsurgeon_top_other_messages",
        "Messages of the keys not among the top ones.",
        |t| t.other.messages,
    );
    x.per_dimension(
        "qsurgeon_top_other_recipients",
        "Recipients of the messages of the keys not among the top ones.",
        |t| t.other.recipients,
    );
    x.per_dimension(
        "qsurgeon_top_none_messages",
        "Messages without a key: no SASL login, the null sender, no client address, a recipient without a domain, no recipient left.",
        |t| t.none.messages,
    );
    x.per_dimension(
        "qsurgeon_top_none_recipients",
        "Recipients of the messages without a key.",
        |t| t.none.recipients,
    );
    x.per_dimension(
        "qsurgeon_top_distinct_keys",
        "Distinct keys of the dimension in the queue.",
        |t| t.distinct as u64,
    );
    let name = "qsurgeon_scan_duration_seconds";
    x.family(name, "gauge", "How long the scan of the queue took.");
    for inst in instances {
        if let Some(report) = &inst.report {
            x.sample(
                name,
                inst.label.as_deref(),
                &[],
                &format!("{:.6}", report.duration),
            );
        }
    }
    let name = "qsurgeon_scan_errors";
    x.family(
        name,
        "gauge",
        "Queue files the scan could not read or decode (named on standard error).",
    );
    for inst in instances {
        if let Some(report) = &inst.report {
            x.sample(name, inst.label.as_deref(), &[], &report.errors.to_string());
        }
    }
    let name = "qsurgeon_scan_success";
    x.family(
        name,
        "gauge",
        "1 when the queue was scanned, 0 when it could not be (the other metrics of the instance are then absent).",
    );
    for inst in instances {
        let ok = u8::from(inst.report.is_some()).to_string();
        x.sample(name, inst.label.as_deref(), &[], &ok);
    }
    let name = "qsurgeon_scan_timestamp_seconds";
    x.family(
        name,
        "gauge",
        "When the scan started (Unix time), to alert on a stale file.",
    );
    for inst in instances {
        x.sample(
            name,
            inst.label.as_deref(),
            &[],
            &inst.timestamp.to_string(),
        );
    }
    x.out
}

/// Writes `bytes` to `path` so that a reader sees the old file or the new
/// one, never a part: a new temporary file next to it (never an existing
/// file or a symlink), mode 0644, synced, renamed over `path`.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    use rustix::fs::{Mode, OFlags};
    use std::os::unix::fs::PermissionsExt;

    let name = path
        .file_name()
        .context("--output needs a file name, not a directory")?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    // A name the textfile collector skips (it reads only `*.prom`), and that nobody can
    // guess: with the pid alone, whoever may write the directory could plant every name
    // tried and so stop the metrics being written. std's hash keys are random per process.
    let secret = {
        use std::hash::{BuildHasher, Hasher};
        std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish()
    };
    let temp_name = |attempt: u32| {
        let mut n = OsString::from(".");
        n.push(name);
        n.push(format!(
            ".{}.{:016x}.tmp",
            std::process::id(),
            secret.wrapping_add(u64::from(attempt))
        ));
        dir.join(n)
    };
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let mut attempt = 0;
    let (temp, fd) = loop {
        let temp = temp_name(attempt);
        match rustix::fs::open(&temp, flags, Mode::from_raw_mode(0o644)) {
            Ok(fd) => break (temp, fd),
            // Left by a run that was killed, or planted: try another name.
            Err(rustix::io::Errno::EXIST) if attempt < 100 => attempt += 1,
            Err(e) => {
                return Err(std::io::Error::from(e))
                    .with_context(|| format!("create {}", temp.display()))
            }
        }
    };
    let mut file = std::fs::File::from(fd);
    let written = (|| -> std::io::Result<()> {
        // The umask may have taken bits away; node_exporter must read it.
        file.set_permissions(std::fs::Permissions::from_mode(0o644))?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(e).with_context(|| format!("write {}", temp.display()));
    }
    // The rename itself survives a crash once the directory is synced.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_escape_backslash_quote_and_newline_only() {
        assert_eq!(escape_label("a\\b\"c\nd\te"), "a\\\\b\\\"c\\nd\te");
        assert_eq!(escape_label("plain.example"), "plain.example");
    }

    #[test]
    fn top_tables_keep_n_sum_the_rest_and_merge_lossy_twins() {
        let mut table = HashMap::new();
        let c = |m, r| Count {
            messages: m,
            recipients: r,
        };
        table.insert(b"a".to_vec(), c(5, 9));
        table.insert(b"b".to_vec(), c(5, 10));
        table.insert(b"c".to_vec(), c(1, 1));
        table.insert(b"x\xff".to_vec(), c(1, 2));
        table.insert(b"x\xfe".to_vec(), c(1, 3));
        let t = top_table(&table, c(7, 7), 2);
        assert_eq!(
            t.rows,
            [("b".to_string(), c(5, 10)), ("a".to_string(), c(5, 9))]
        );
        // x\xff and x\xfe both read "x\u{fffd}": one key of 2 messages.
        assert_eq!(t.distinct, 4);
        assert_eq!(t.other, c(3, 6));
        assert_eq!(t.none, c(7, 7));
        let t = top_table(&table, c(0, 0), 3);
        assert_eq!(t.rows[2], ("x\u{fffd}".to_string(), c(2, 5)));
        assert_eq!(t.other, c(1, 1));
    }

    #[test]
    fn a_failed_instance_has_only_its_success_and_timestamp() {
        let mut fold = MetricsFold::new(1000);
        fold.queues[3].tally.add(10, 1, 400);
        fold.queues[3].buckets[2] = 1;
        fold.queues[3].age_sum = 600;
        let top = fold
            .tables
            .iter()
            .zip(fold.none)
            .map(|(t, n)| top_table(t, n, 10))
            .collect();
        let report = Report {
            queues: fold.queues,
            top,
            now: 1000,
            duration: 0.5,
            errors: 0,
        };
        let text = render(&[
            InstanceMetrics {
                label: Some("-".into()),
                report: Some(report),
                timestamp: 999,
            },
            InstanceMetrics {
                label: Some("post\"fix-b".into()),
                report: None,
                timestamp: 998,
            },
        ]);
        // Every family's HELP and TYPE once, its samples right after them.
        let mut families = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                families.push(rest.split(' ').next().unwrap().to_string());
            } else if !line.starts_with('#') {
                let name = line.split(['{', ' ']).next().unwrap();
                let family = families.last().unwrap();
                assert!(name.starts_with(family.as_str()), "{line} under {family}");
            }
        }
        let unique: std::collections::BTreeSet<_> = families.iter().collect();
        assert_eq!(unique.len(), families.len(), "{families:?}");
        assert_eq!(families.len(), 16);
        assert!(
            text.contains("qsurgeon_queue_messages{postfix_instance=\"-\",queue=\"deferred\"} 1\n")
        );
        assert!(text.contains(
            "qsurgeon_message_age_seconds_bucket{postfix_instance=\"-\",queue=\"deferred\",le=\"1200\"} 1\n"
        ));
        assert!(text.contains(
            "qsurgeon_queue_oldest_age_seconds{postfix_instance=\"-\",queue=\"deferred\"} 600\n"
        ));
        assert!(text.contains("qsurgeon_scan_success{postfix_instance=\"-\"} 1\n"));
        assert!(text.contains("qsurgeon_scan_success{postfix_instance=\"post\\\"fix-b\"} 0\n"));
        assert!(text
            .contains("qsurgeon_scan_timestamp_seconds{postfix_instance=\"post\\\"fix-b\"} 998\n"));
        assert_eq!(text.matches("post\\\"fix-b").count(), 2, "{text}");
    }

    #[test]
    fn atomic_write_replaces_and_refuses_nothing_planted() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.prom");
        // Symlinks planted at every name made of the pid and a counter (what an attacker who
        // may write the directory can guess) are neither followed nor in the way.
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        for attempt in 0..=100 {
            let guess = dir
                .path()
                .join(format!(".q.prom.{}.{attempt}.tmp", std::process::id()));
            std::os::unix::fs::symlink(&victim, &guess).unwrap();
        }
        write_atomically(&path, b"one\n").unwrap();
        write_atomically(&path, b"two\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two\n");
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
        // Only the planted links are left besides the file and the victim.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), 103, "{names:?}");
        // Over a directory: an error, and no temporary file left behind.
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        assert!(write_atomically(&sub, b"x").is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 104);
        // Over a FIFO, a symlink or a hard link: the name is replaced, nothing written
        // through it (and no wait for a FIFO's reader).
        let fifo = dir.path().join("fifo.prom");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        write_atomically(&fifo, b"f\n").unwrap();
        assert_eq!(std::fs::read(&fifo).unwrap(), b"f\n");
        let link = dir.path().join("link.prom");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        write_atomically(&link, b"l\n").unwrap();
        let hard = dir.path().join("hard.prom");
        std::fs::hard_link(&victim, &hard).unwrap();
        write_atomically(&hard, b"h\n").unwrap();
        assert_eq!(std::fs::read(&hard).unwrap(), b"h\n");
        assert!(!std::fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
    }
}
