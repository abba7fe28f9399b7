//! `qsurgeon list`: the selected messages as mailq prints them, as
//! postqueue -j JSON (plus richer fields), as IDs, CSV or a count.
//!
//! Output comes in showq's order (`Query::run_ordered`), so that on an
//! unchanged queue `list` prints what `postqueue -p` prints and `list
//! --json` follows `postqueue -j` line for line: the scan reads a window
//! of messages in parallel, the workers format the ones selected into
//! their buffers, and the window is written out in order. `--sort` collects
//! the blocks and sorts them instead; counts are folded per worker
//! (`query::Fold`) and merged.

use std::borrow::Cow;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use anyhow::{Context, Result};
use printer::list::{self as output, Format, OutputConfig};
use query::{Fold, MessageView, Query};
use queue_scan::{Message, QueueLayout, ReadPlan, ScanError, ScanProgress};

use crate::cli::{ListArgs, SortField};
use crate::config::Target;
use crate::exit::ExitStatus;
use crate::selection;
use crate::ui::progress;
use crate::ui::sanitize::{for_stderr, Terminal};

/// State shared by the workers of one `list` run: where output goes, and
/// the count `--limit` stops at.
struct Shared<'s> {
    output: OutputConfig,
    limit: Option<u64>,
    sort: Option<SortField>,
    /// Selected so far, over all workers (for `--limit`).
    selected: AtomicU64,
    sink: Mutex<Sink>,
    progress: &'s ScanProgress,
}

/// Where formatted output goes, under one lock.
struct Sink {
    out: std::io::Stdout,
    /// Escaping on a terminal (see [`shown`]).
    term: Terminal,
    started: bool,
    error: Option<std::io::Error>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum SortKey {
    Text(Vec<u8>, String),
    Number(i64, String),
}

impl From<&ListArgs> for Format {
    /// The format `list`'s flags ask for.
    fn from(args: &ListArgs) -> Format {
        if args.json {
            Format::Json
        } else if args.ids && args.null {
            Format::IdsNul
        } else if args.ids {
            Format::Ids
        } else if args.csv {
            Format::Csv
        } else if args.count {
            Format::Count
        } else {
            Format::Mailq
        }
    }
}

/// `bytes` of `format` as `term` shows them: on a terminal, mailq text and
/// CSV are escaped and JSON is escaped the JSON way (the same value); IDs
/// and counts are plain ASCII. Through a pipe everything is exact, so
/// mailq text stays byte-identical to postqueue -p.
pub fn shown(term: Terminal, format: Format, bytes: &[u8]) -> Cow<'_, [u8]> {
    match format {
        Format::Mailq | Format::Csv => term.text(bytes),
        Format::Json => term.json(bytes),
        Format::Ids | Format::IdsNul | Format::Count => Cow::Borrowed(bytes),
    }
}

impl Sink {
    fn write(&mut self, output: &OutputConfig, bytes: &[u8]) {
        if self.error.is_some() {
            return;
        }
        if !self.started {
            self.started = true;
            let mut head = Vec::new();
            output::heading(output, &mut head);
            if let Err(e) = self.out.write_all(&head) {
                self.error = Some(e);
                return;
            }
        }
        if let Err(e) = self.out.write_all(&shown(self.term, output.format, bytes)) {
            self.error = Some(e);
        }
    }
}

/// One worker's output buffer and counts; the counts and `--sort`'s
/// blocks are folded, the buffer is written out as it fills and when the
/// workers' results are merged.
struct ListFold<'s, 'a> {
    shared: &'a Shared<'s>,
    buf: Vec<u8>,
    scratch: output::Scratch,
    selected: u64,
    bytes: u64,
    /// With --sort: (key, formatted block).
    collected: Vec<(SortKey, Vec<u8>)>,
    /// In showq's order: the blocks, to be put in order when the window
    /// is written.
    ordered: Option<Ordered>,
}

/// An ordered window's formatted blocks: the buffers of the workers that
/// formatted them (moved, not copied, when two workers' results merge)
/// and where each message's block is.
#[derive(Default)]
struct Ordered {
    chunks: Vec<Vec<u8>>,
    spans: Vec<Span>,
}

/// One message's block: its place in the order, `chunks[chunk][start..end]`,
/// and its size.
#[derive(Clone, Copy)]
struct Span {
    position: u64,
    chunk: usize,
    start: usize,
    end: usize,
    size: u64,
}

impl ListFold<'_, '_> {
    fn flush(&mut self) {
        if !self.buf.is_empty() {
            let mut sink = self.shared.sink.lock().unwrap_or_else(|e| e.into_inner());
            sink.write(&self.shared.output, &self.buf);
            self.buf.clear();
        }
    }
}

impl Fold for ListFold<'_, '_> {
    fn message(&mut self, view: &MessageView<'_, '_>) {
        let shared = self.shared;
        let msg = view.msg;
        if let Some(ordered) = &mut self.ordered {
            // Counted, and cut at --limit, when the window is written in order.
            // The block goes in `buf`, which becomes chunk `chunks.len()`.
            let start = self.buf.len();
            output::format_message(&shared.output, msg, &mut self.scratch, &mut self.buf);
            ordered.spans.push(Span {
                position: msg.position,
                chunk: ordered.chunks.len(),
                start,
                end: self.buf.len(),
                size: msg.message_size(),
            });
            return;
        }
        let n = shared.selected.fetch_add(1, Ordering::Relaxed) + 1;
        if shared.limit.is_some_and(|limit| n > limit) {
            shared.selected.fetch_sub(1, Ordering::Relaxed);
            shared.progress.stop.store(true, Ordering::Relaxed);
            return;
        }
        self.selected += 1;
        self.bytes += msg.message_size();
        if shared.output.format == Format::Count {
            return;
        }
        if let Some(field) = shared.sort {
            let mut block = Vec::new();
            output::format_message(&shared.output, msg, &mut self.scratch, &mut block);
            self.collected.push((sort_key(field, msg), block));
            return;
        }
        output::format_message(&shared.output, msg, &mut self.scratch, &mut self.buf);
        if self.buf.len() >= 64 * 1024 {
            self.flush();
        }
    }

    fn error(&mut self, error: ScanError) {
        if self.ordered.is_none() {
            self.flush();
        }
        eprintln!(
            "qsurgeon: error: {}",
            crate::ui::sanitize::for_terminal_str(&error.to_string())
        );
    }

    fn merge(mut self, mut other: Self) -> Self {
        if self.ordered.is_some() && other.ordered.is_some() {
            self.seal();
            other.seal();
            let (Some(ordered), Some(others)) = (&mut self.ordered, other.ordered.take()) else {
                unreachable!("both are ordered");
            };
            let shift = ordered.chunks.len();
            ordered.chunks.extend(others.chunks);
            ordered.spans.extend(others.spans.iter().map(|s| Span {
                chunk: s.chunk + shift,
                ..*s
            }));
            return self;
        }
        other.flush();
        self.selected += other.selected;
        self.bytes += other.bytes;
        self.collected.append(&mut other.collected);
        self
    }
}

fn sort_key(field: SortField, msg: &Message<'_>) -> SortKey {
    let id = msg.id.to_string();
    match field {
        SortField::Id => SortKey::Text(Vec::new(), id),
        SortField::Queue => SortKey::Text(msg.queue.as_bytes().to_vec(), id),
        SortField::Arrival => SortKey::Number(msg.arrival_time(), id),
        SortField::Size => SortKey::Number(msg.message_size() as i64, id),
        SortField::Sender => SortKey::Text(msg.envelope.sender.unwrap_or_default().to_vec(), id),
        SortField::Recipients => SortKey::Number(msg.envelope.todo_recipients().count() as i64, id),
    }
}

impl ListFold<'_, '_> {
    /// Moves `buf`, the blocks formatted since, into the chunks.
    fn seal(&mut self) {
        if let Some(ordered) = &mut self.ordered {
            if !self.buf.is_empty() {
                ordered.chunks.push(std::mem::take(&mut self.buf));
            }
        }
    }

    /// Writes an ordered window's blocks in showq's order, up to `--limit`
    /// (then the scan is stopped), through `out` (written out as it fills).
    fn write_window(mut self, total: &mut ListFold<'_, '_>, out: &mut Vec<u8>) {
        self.seal();
        let Some(mut ordered) = self.ordered.take() else {
            return;
        };
        ordered.spans.sort_unstable_by_key(|s| s.position);
        let shared = self.shared;
        let mut sink = shared.sink.lock().unwrap_or_else(|e| e.into_inner());
        for s in &ordered.spans {
            if shared.limit.is_some_and(|limit| total.selected >= limit) {
                shared.progress.stop.store(true, Ordering::Relaxed);
                break;
            }
            total.selected += 1;
            total.bytes += s.size;
            out.extend_from_slice(&ordered.chunks[s.chunk][s.start..s.end]);
            if out.len() >= 64 * 1024 {
                sink.write(&shared.output, out);
                out.clear();
            }
        }
        if !out.is_empty() {
            sink.write(&shared.output, out);
            out.clear();
        }
    }
}

/// Runs `list`.
pub fn run(target: &Target, args: &ListArgs) -> Result<ExitStatus> {
    let instance = &target.instance;
    let layout = &instance.layout;
    let format = Format::from(args);
    let output_needs = output::read_plan(format, args.with_headers);
    let mut query = selection::query(target, &args.select, output_needs, false)?;
    if let Some(id) = &args.explain {
        return explain(layout, &mut query, id);
    }
    let progress = ScanProgress::default();
    let shared = Shared {
        output: OutputConfig::new(format, instance, args.with_headers, target.label.clone()),
        limit: args.limit,
        sort: args.sort,
        selected: AtomicU64::new(0),
        sink: Mutex::new(Sink {
            out: std::io::stdout(),
            term: Terminal::stdout(),
            started: false,
            error: None,
        }),
        progress: &progress,
    };
    // In order unless sorted or only counted.
    let ordered = args.sort.is_none() && format != Format::Count;
    let make = || ListFold {
        shared: &shared,
        buf: Vec::new(),
        scratch: output::Scratch::new(&shared.output),
        selected: 0,
        bytes: 0,
        collected: Vec::new(),
        ordered: ordered.then(Ordered::default),
    };
    let (mut fold, stats, elapsed) = progress::with_progress(&progress, || {
        if !ordered {
            return query.run(layout, &progress, make);
        }
        let mut total = ListFold {
            ordered: None,
            ..make()
        };
        let mut out = Vec::with_capacity(64 * 1024);
        query.run_ordered(layout, &progress, make, |window| {
            window.write_window(&mut total, &mut out)
        });
        total
    });
    fold.flush();
    let (selected, bytes) = (fold.selected, fold.bytes);
    let mut collected = std::mem::take(&mut fold.collected);
    drop(fold);
    let shared_output = shared.output;
    let mut sink = shared.sink.into_inner().unwrap_or_else(|e| e.into_inner());
    if args.sort.is_some() {
        collected.sort_by(|a, b| a.0.cmp(&b.0));
        if args.reverse {
            collected.reverse();
        }
        for (_, block) in collected {
            sink.write(&shared_output, &block);
        }
    }
    let mut tail = Vec::new();
    if !sink.started && format == Format::Mailq && selected > 0 {
        // Only possible with --sort and nothing printed yet.
        output::heading(&shared_output, &mut tail);
    }
    // mailq's "Mail queue is empty" only when it is: a selection that
    // matched nothing in a full queue prints nothing (exit status 1, and
    // the stats line says how many were scanned). `--count` says 0.
    if selected > 0 || stats.scanned == 0 || format != Format::Mailq {
        output::footer(&shared_output, selected, bytes, &mut tail);
    }
    if !tail.is_empty() {
        if let Err(e) = sink.out.write_all(&tail) {
            sink.error.get_or_insert(e);
        }
    }
    if let Err(e) = sink.out.flush() {
        sink.error.get_or_insert(e);
    }
    if let Some(e) = sink.error {
        return Err(e).context("write output");
    }
    for id in query.absent_ids(layout) {
        eprintln!("qsurgeon: {}: not in the queue", for_stderr(id));
    }
    eprintln!("{}", progress::stats_line(&stats, selected, elapsed));
    Ok(if stats.unreadable > 0 {
        ExitStatus::Error
    } else if selected == 0 {
        ExitStatus::NoMatch
    } else {
        ExitStatus::Success
    })
}

/// `--explain ID`: the selection's verdict on one message, test by test;
/// with `nonexistent_local_sender` in the selection, also what decided that
/// verdict (the address tested, its class, the table that answered).
fn explain(layout: &QueueLayout, query: &mut Query, id: &str) -> Result<ExitStatus> {
    anyhow::ensure!(
        queue_scan::is_valid_queue_id(id),
        "--explain {id:?}: not a queue ID"
    );
    let (queue, _) = layout
        .find(id)?
        .with_context(|| format!("queue file {id}: not found in any queue"))?;
    let queue = queue_scan::MESSAGE_QUEUES
        .iter()
        .find(|q| **q == queue)
        .copied()
        .unwrap_or("saved");
    let read = ReadPlan {
        headers: true,
        defer_log: true,
    };
    let gone = || format!("queue file {id}: gone or still being written");
    if let Some(check) = query.local.as_mut() {
        // The scan that collected senders saw only the selected queues (and
        // the message may have arrived since): look this sender up too.
        let sender = queue_scan::read_one(layout, queue, id, read, |msg| {
            msg.map(|m| m.envelope.sender.unwrap_or_default().to_vec())
                .map_err(|e| anyhow::anyhow!("{e}"))
        })
        .with_context(gone)??;
        check.resolve([sender.as_slice()])?;
    }
    let query = &*query;
    let (selection, ctx) = (&query.selection, &query.ctx);
    let verdict = queue_scan::read_one(layout, queue, id, read, |msg| -> Result<_> {
        let msg = msg.map_err(|e| anyhow::anyhow!("{e}"))?;
        let view = query.view(msg);
        let trace = selection.explain(&view, ctx);
        let local = query
            .local
            .as_ref()
            .map(|check| check.explain(msg.envelope.sender.unwrap_or_default()));
        Ok((selection.matches(&view, ctx), trace.to_string(), local))
    });
    let (matched, trace, local) = verdict.with_context(gone)??;
    print!("{}", crate::ui::sanitize::for_terminal_str(&trace));
    if let Some(local) = &local {
        print!("{}", local_sender_text(local));
    }
    println!(
        "{queue}/{id}: {}",
        if matched { "selected" } else { "not selected" }
    );
    Ok(if matched {
        ExitStatus::Success
    } else {
        ExitStatus::NoMatch
    })
}

/// Queue-file bytes as one quoted, escaped line: written by strangers, so
/// controls, bidi characters and invalid UTF-8 are escaped
/// (`ui::sanitize`), newlines and tabs included.
fn quoted(bytes: &[u8]) -> String {
    let mut flat = Vec::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\n' => flat.extend_from_slice(b"\\n"),
            b'\t' => flat.extend_from_slice(b"\\t"),
            _ => flat.push(b),
        }
    }
    format!(
        "\"{}\"",
        String::from_utf8_lossy(&crate::ui::sanitize::for_terminal(&flat))
    )
}

/// The nonexistent-local-sender verdict explained, a few indented lines.
fn local_sender_text(e: &postfix::SenderExplanation) -> String {
    use postfix::{AddressClass, Answer};
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "nonexistent_local_sender: sender {}: {}",
        quoted(&e.sender),
        if e.nonexistent {
            "nonexistent (selected by nonexistent_local_sender)"
        } else {
            "not nonexistent"
        }
    );
    if let Some(address) = &e.address {
        let _ = writeln!(out, "  address tested: {}", quoted(address));
    }
    let source = match &e.class_source {
        Some((param, entry)) => format!(" ({param}: {})", quoted(entry.as_bytes())),
        None if e.address.is_some() => {
            " (in none of mydestination, virtual_alias_domains, virtual_mailbox_domains, \
             relay_domains)"
                .to_owned()
        }
        None => String::new(),
    };
    let _ = writeln!(out, "  class: {}{source}", e.class.name());
    let tables = |l: &postfix::Lookup| {
        format!(
            "{} {} ({})",
            l.param,
            quoted(l.table.as_bytes()),
            quoted(l.how.as_bytes())
        )
    };
    let answer = match &e.answer {
        Answer::NullSender => "the null sender is never nonexistent".to_owned(),
        Answer::Unresolvable => {
            "no domain Postfix's resolver would accept: never selected".to_owned()
        }
        Answer::NotOurDomain => format!(
            "{} domains are not ours: never nonexistent",
            match e.class {
                AddressClass::Relay => "relay",
                _ => "other",
            }
        ),
        Answer::Special(local) => format!(
            "{} is accepted in a local domain without a lookup (smtpd_check.c)",
            quoted(local.as_bytes())
        ),
        Answer::EmptyTable(param) => {
            format!("{param} is empty: every address of the class is accepted")
        }
        Answer::NotQueryable => {
            "holds bytes no lookup can carry (NUL, newline, TAB): never selected".to_owned()
        }
        Answer::NotLookedUp => "not looked up: never selected".to_owned(),
        Answer::Found { lookup, key } => {
            format!("found: {} has key {}", tables(lookup), quoted(key))
        }
        Answer::NotFound(lookups) => {
            let mut text = "in no table that accepts the address:".to_owned();
            for l in lookups {
                let keys: Vec<String> = l.keys.iter().map(|k| quoted(k)).collect();
                let _ = write!(text, "\n    {}: none of {}", tables(l), keys.join(", "));
            }
            text
        }
        _ => "(unknown)".to_owned(),
    };
    let _ = writeln!(out, "  answer: {answer}");
    out
}

#[cfg(test)]
mod tests {
    use super::quoted;

    #[test]
    fn quoted_values_stay_on_one_line_and_escape_what_a_terminal_would_obey() {
        assert_eq!(quoted(b"bob@example.org"), "\"bob@example.org\"");
        assert_eq!(quoted("jos\u{e9}@x".as_bytes()), "\"jos\u{e9}@x\"");
        assert_eq!(quoted(b"a\nb\tc"), "\"a\\nb\\tc\"");
        assert_eq!(quoted(b"\x1b[2Jx"), "\"\\x1b[2Jx\"");
        assert_eq!(quoted("\u{202e}evil".as_bytes()), "\"\\u{202e}evil\"");
        assert_eq!(quoted(b"caf\xe9"), "\"caf\\xe9\"");
    }
}
