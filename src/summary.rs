//! `qsurgeon summary`: who fills the queue. Top-N tables by sender, SASL
//! user, client, recipient domain, delay reason and more (messages, bytes,
//! oldest, newest), and a qshape-style matrix of age buckets.
//!
//! Each worker tallies into its own maps; the maps are merged once per
//! worker, so the hot path takes no lock.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::Result;
use queue_scan::{Message, ReadPlan, ScanError, ScanOptions, ScanProgress, Visitor};
use serde_json::json;

use crate::cli::{Dimension, SummaryArgs};
use crate::sanitize::Terminal;
use crate::selection::Target;
use crate::{progress, selection};
use postfix::LocalSenderCheck;
use query::view::{log_values, MessageView};

/// qshape's age buckets, in minutes: a message falls in the first bucket
/// whose bound its age does not exceed; the last column is older still.
const BUCKETS: [i64; 10] = [5, 10, 20, 40, 80, 160, 320, 640, 1280, i64::MAX];

/// Totals for one group of messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Messages.
    pub messages: u64,
    /// Bytes (message sizes as showq reports them).
    pub bytes: u64,
    /// Earliest arrival time.
    pub oldest: i64,
    /// Latest arrival time.
    pub newest: i64,
}

impl Tally {
    fn add(&mut self, bytes: u64, arrival: i64) {
        if self.messages == 0 {
            self.oldest = arrival;
            self.newest = arrival;
        }
        self.messages += 1;
        self.bytes += bytes;
        self.oldest = self.oldest.min(arrival);
        self.newest = self.newest.max(arrival);
    }

    fn merge(&mut self, other: &Tally) {
        if other.messages == 0 {
            return;
        }
        if self.messages == 0 {
            *self = *other;
            return;
        }
        self.messages += other.messages;
        self.bytes += other.bytes;
        self.oldest = self.oldest.min(other.oldest);
        self.newest = self.newest.max(other.newest);
    }
}

/// What one worker (or the whole run) counted.
#[derive(Default)]
struct Aggregate {
    total: Tally,
    tables: HashMap<Dimension, HashMap<Vec<u8>, Tally>>,
    matrix: HashMap<Vec<u8>, [u64; BUCKETS.len()]>,
}

impl Aggregate {
    fn merge(&mut self, other: Aggregate) {
        self.total.merge(&other.total);
        for (dim, table) in other.tables {
            let mine = self.tables.entry(dim).or_default();
            for (key, tally) in table {
                mine.entry(key).or_default().merge(&tally);
            }
        }
        for (key, counts) in other.matrix {
            let mine = self.matrix.entry(key).or_insert([0; BUCKETS.len()]);
            for (m, c) in mine.iter_mut().zip(counts) {
                *m += c;
            }
        }
    }
}

/// The keys of one message in one dimension, packed in one reusable
/// buffer (several for recipient domains, reasons and DSN status;
/// deduplicated per message). Filling it allocates nothing once warm.
#[derive(Default)]
struct KeyList {
    bytes: Vec<u8>,
    spans: Vec<(usize, usize)>,
}

impl KeyList {
    fn clear(&mut self) {
        self.bytes.clear();
        self.spans.clear();
    }

    /// Appends what `write` writes as one key, unless it is already there.
    fn push_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        let start = self.bytes.len();
        write(&mut self.bytes);
        let new = &self.bytes[start..];
        if self.spans.iter().any(|&(s, e)| &self.bytes[s..e] == new) {
            self.bytes.truncate(start);
        } else {
            self.spans.push((start, self.bytes.len()));
        }
    }

    fn push(&mut self, key: &[u8]) {
        self.push_with(|out| out.extend_from_slice(key));
    }

    fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.spans.iter().map(|&(s, e)| &self.bytes[s..e])
    }
}

fn keys(dim: Dimension, msg: &Message<'_>, out: &mut KeyList) {
    out.clear();
    let env = msg.envelope;
    match dim {
        Dimension::Queue => out.push(msg.queue.as_bytes()),
        Dimension::SaslUser => out.push(env.sasl_username().unwrap_or_default()),
        Dimension::Sender => out.push(env.sender.unwrap_or_default()),
        Dimension::SenderDomain => {
            out.push_with(|buf| push_domain(env.sender.unwrap_or_default(), buf))
        }
        Dimension::Client => out.push(env.client_address().unwrap_or_default()),
        Dimension::ClientNet => {
            out.push_with(|buf| push_client_net(env.client_address().unwrap_or_default(), buf))
        }
        Dimension::RecipientDomain => {
            for r in env.todo_recipients() {
                out.push_with(|buf| push_domain(r.address, buf));
            }
        }
        Dimension::Reason => {
            if let Some(log) = msg.defer_log {
                log_values(log, b"reason", &mut |v| {
                    out.push(&normalize_reason(v));
                    false
                });
            }
        }
        Dimension::DsnStatus => {
            if let Some(log) = msg.defer_log {
                log_values(log, b"status", &mut |v| {
                    out.push(v);
                    false
                });
            }
        }
    }
}

/// Appends the lower-cased domain of `address` (nothing for the null
/// sender or an address without `@`).
fn push_domain(address: &[u8], out: &mut Vec<u8>) {
    if let Some(at) = address.iter().rposition(|&b| b == b'@') {
        out.extend(address[at + 1..].iter().map(u8::to_ascii_lowercase));
    }
}

/// Appends the /24 (IPv4) or /64 (IPv6) network of a client address, or
/// the address itself when it is not one.
fn push_client_net(address: &[u8], out: &mut Vec<u8>) {
    use std::io::Write as _;
    let text = std::str::from_utf8(address).unwrap_or("");
    let bare = text.strip_prefix("IPv6:").unwrap_or(text);
    let _ = match bare.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(v4)) => {
            let [a, b, c, _] = v4.octets();
            write!(out, "{a}.{b}.{c}.0/24")
        }
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
            write!(out, "{net}/64")
        }
        Err(_) => out.write_all(address),
    };
}

/// The domain of an address, lower-cased; empty for the null sender and
/// for addresses without `@`.
pub fn domain_of(address: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    push_domain(address, &mut out);
    out
}

/// The /24 (IPv4) or /64 (IPv6) network of a client address.
pub fn client_net(address: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    push_client_net(address, &mut out);
    out
}

/// Masks what varies between instances of one delay reason: addresses in
/// angle brackets, IP addresses (also in `[…]`), and long numbers; keeps
/// SMTP replies (`450 4.7.1`) so reasons group by what the remote said.
pub fn normalize_reason(reason: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(reason);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '<' => {
                if let Some(end) = text[i..].find('>') {
                    out.push_str("<*>");
                    while chars.peek().is_some_and(|&(j, _)| j <= i + end) {
                        chars.next();
                    }
                    continue;
                }
                out.push(c);
            }
            '[' => {
                if let Some(end) = text[i..].find(']') {
                    out.push_str("[*]");
                    while chars.peek().is_some_and(|&(j, _)| j <= i + end) {
                        chars.next();
                    }
                    continue;
                }
                out.push(c);
            }
            c if c.is_ascii_hexdigit() => {
                // A run of address-ish characters: an IP, a number, a hex ID.
                let start = i;
                let mut end = i + c.len_utf8();
                while let Some(&(j, d)) = chars.peek() {
                    if d.is_ascii_hexdigit() || d == '.' || d == ':' {
                        end = j + d.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                let run = &text[start..end];
                // Trailing dots and colons are punctuation, not part of it.
                let core = run.trim_end_matches(['.', ':']);
                let trail = &run[core.len()..];
                let prev_is_word = out
                    .chars()
                    .last()
                    .is_some_and(|p| p.is_alphanumeric() || p == '-' || p == '_');
                let is_port = out.ends_with("]:") && core.bytes().all(|b| b.is_ascii_digit());
                let is_address = core.parse::<std::net::IpAddr>().is_ok() || is_long_number(core);
                if is_port || (!prev_is_word && is_address) {
                    out.push('*');
                    out.push_str(trail);
                } else {
                    out.push_str(run);
                }
            }
            c => out.push(c),
        }
    }
    out.into_bytes()
}

/// A run of digits too long to be an SMTP code (ports, sizes, counters),
/// or a hex identifier of 8 or more characters.
fn is_long_number(run: &str) -> bool {
    let run = run.trim_end_matches(['.', ':']);
    (run.len() > 3 && run.bytes().all(|b| b.is_ascii_digit()))
        || (run.len() >= 8 && run.bytes().all(|b| b.is_ascii_hexdigit()))
}

struct Shared<'s> {
    selection: &'s select::Selection,
    local: Option<LocalSenderCheck>,
    ctx: select::Context,
    dims: &'s [Dimension],
    matrix: Option<Dimension>,
    result: Mutex<Aggregate>,
}

struct SummaryVisitor<'s, 'a> {
    shared: &'a Shared<'s>,
    agg: Aggregate,
    keys: KeyList,
}

impl Visitor for SummaryVisitor<'_, '_> {
    fn message(&mut self, msg: &Message<'_>) {
        let shared = self.shared;
        let view = MessageView {
            msg,
            local: shared.local.as_ref(),
        };
        if !shared.selection.matches(&view, &shared.ctx) {
            return;
        }
        let (bytes, arrival) = (msg.message_size(), msg.arrival_time());
        self.agg.total.add(bytes, arrival);
        for &dim in shared.dims {
            keys(dim, msg, &mut self.keys);
            let table = self.agg.tables.entry(dim).or_default();
            for key in self.keys.iter() {
                // Look up by slice first: a new key is the rare case.
                match table.get_mut(key) {
                    Some(tally) => tally.add(bytes, arrival),
                    None => table.entry(key.to_vec()).or_default().add(bytes, arrival),
                }
            }
        }
        if let Some(dim) = shared.matrix {
            let age_minutes = (shared.ctx.now - arrival).max(0) / 60;
            let bucket = BUCKETS
                .iter()
                .position(|&b| age_minutes <= b)
                .unwrap_or(BUCKETS.len() - 1);
            keys(dim, msg, &mut self.keys);
            for key in self.keys.iter() {
                match self.agg.matrix.get_mut(key) {
                    Some(counts) => counts[bucket] += 1,
                    None => {
                        self.agg
                            .matrix
                            .entry(key.to_vec())
                            .or_insert([0; BUCKETS.len()])[bucket] += 1
                    }
                }
            }
            match self.agg.matrix.get_mut(&b"TOTAL"[..]) {
                Some(counts) => counts[bucket] += 1,
                None => {
                    self.agg
                        .matrix
                        .entry(b"TOTAL".to_vec())
                        .or_insert([0; BUCKETS.len()])[bucket] += 1
                }
            }
        }
    }

    fn error(&mut self, error: ScanError) {
        eprintln!(
            "qsurgeon: error: {}",
            crate::sanitize::for_terminal_str(&error.to_string())
        );
    }
}

impl Drop for SummaryVisitor<'_, '_> {
    fn drop(&mut self) {
        let agg = std::mem::take(&mut self.agg);
        self.shared
            .result
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .merge(agg);
    }
}

/// Runs `summary`.
pub fn run(target: &Target, args: &SummaryArgs) -> Result<ExitCode> {
    let layout = &target.instance.layout;
    let selection = selection::build(&args.select)?;
    let dims: Vec<Dimension> = if args.by.is_empty() {
        Dimension::ALL.to_vec()
    } else {
        args.by.clone()
    };
    let wants_log = dims
        .iter()
        .chain(&args.matrix)
        .any(|d| matches!(d, Dimension::Reason | Dimension::DsnStatus));
    let options = ScanOptions {
        queues: selection::queues(&args.select)?,
        file_size_limit: queue_scan::DEFAULT_QUEUE_FILE_LIMIT,
        read: selection::read_plan(
            &selection,
            ReadPlan {
                headers: false,
                defer_log: wants_log,
            },
        ),
    };
    let local = selection::local_sender_check(target, &options.queues, &selection, false)?;
    let shared = Shared {
        selection: &selection,
        local,
        ctx: select::Context::now(),
        dims: &dims,
        matrix: args.matrix,
        result: Mutex::new(Aggregate::default()),
    };
    let progress = ScanProgress::default();
    let (stats, elapsed) =
        progress::scan_with_progress(layout, &options, &progress, || SummaryVisitor {
            shared: &shared,
            agg: Aggregate::default(),
            keys: KeyList::default(),
        });
    let agg = shared
        .result
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    let mut out = Vec::new();
    let mut stdout = std::io::stdout().lock();
    let term = Terminal::new(stdout.is_terminal());
    if args.json {
        serde_json::to_writer(&mut out, &to_json(&agg, &dims, args.top, args.matrix))?;
        out.push(b'\n');
        stdout.write_all(&term.json(&out))?;
    } else {
        // The tables escape their keys themselves (so columns line up)
        // and may bold their headings.
        render_text(
            &agg,
            &dims,
            args.top,
            args.matrix,
            shared.ctx.now,
            term,
            &mut out,
        );
        stdout.write_all(&out)?;
    }
    stdout.flush()?;
    eprintln!(
        "{}",
        progress::stats_line(&stats, agg.total.messages, elapsed)
    );
    Ok(if stats.unreadable > 0 {
        ExitCode::from(crate::EXIT_ERROR)
    } else if agg.total.messages == 0 {
        ExitCode::from(crate::list::EXIT_NO_MATCH)
    } else {
        ExitCode::SUCCESS
    })
}

/// The rows of a table, most messages first (then most bytes, then key).
fn top_rows(table: &HashMap<Vec<u8>, Tally>, top: usize) -> Vec<(&Vec<u8>, &Tally)> {
    let mut rows: Vec<_> = table.iter().collect();
    rows.sort_by(|a, b| {
        b.1.messages
            .cmp(&a.1.messages)
            .then(b.1.bytes.cmp(&a.1.bytes))
            .then(a.0.cmp(b.0))
    });
    rows.truncate(top);
    rows
}

fn key_json(dim: Dimension, key: &[u8]) -> serde_json::Value {
    if key.is_empty() && dim != Dimension::Sender {
        serde_json::Value::Null
    } else {
        act::json::string_or_bytes(key)
    }
}

fn to_json(
    agg: &Aggregate,
    dims: &[Dimension],
    top: usize,
    matrix: Option<Dimension>,
) -> serde_json::Value {
    let tally = |t: &Tally| json!({"messages": t.messages, "bytes": t.bytes, "oldest": t.oldest, "newest": t.newest});
    let mut by = serde_json::Map::new();
    for &dim in dims {
        let empty = HashMap::new();
        let table = agg.tables.get(&dim).unwrap_or(&empty);
        let rows: Vec<_> = top_rows(table, top)
            .into_iter()
            .map(|(k, t)| {
                let mut row = tally(t);
                row["key"] = key_json(dim, k);
                row
            })
            .collect();
        by.insert(
            dim.name().to_string(),
            json!({"distinct": table.len(), "top": rows}),
        );
    }
    let mut doc = json!({"total": tally(&agg.total), "by": by});
    if let Some(dim) = matrix {
        let mut rows: Vec<_> = agg.matrix.iter().collect();
        rows.sort_by(|a, b| {
            b.1.iter()
                .sum::<u64>()
                .cmp(&a.1.iter().sum::<u64>())
                .then(a.0.cmp(b.0))
        });
        let rows: Vec<_> = rows
            .into_iter()
            .take(top + 1)
            .map(|(k, counts)| json!({"key": key_json(dim, k), "total": counts.iter().sum::<u64>(), "buckets": counts}))
            .collect();
        doc["matrix"] =
            json!({"by": dim.name(), "bucket_minutes": BUCKETS[..BUCKETS.len() - 1], "rows": rows});
    }
    doc
}

/// 1024-based sizes: 512, 1.5K, 20M.
pub fn human_size(bytes: u64) -> String {
    let units = ["", "K", "M", "G", "T"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < units.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes}")
    } else if value < 10.0 {
        format!("{value:.1}{}", units[unit])
    } else {
        format!("{value:.0}{}", units[unit])
    }
}

/// Ages: 45s, 12m, 3h, 2d, 5w.
pub fn human_age(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        s if s < 120 => format!("{s}s"),
        s if s < 2 * 3600 => format!("{}m", s / 60),
        s if s < 2 * 86_400 => format!("{}h", s / 3600),
        s if s < 14 * 86_400 => format!("{}d", s / 86_400),
        s => format!("{}w", s / (7 * 86_400)),
    }
}

/// A key as a table shows it: escaped on a terminal (from the raw bytes,
/// so invalid UTF-8 shows as `\xNN`), else lossy text.
fn shown_key(dim: Dimension, key: &[u8], term: Terminal) -> String {
    if key.is_empty() {
        return match dim {
            Dimension::Sender | Dimension::SenderDomain => "<> (null sender)".into(),
            _ => "(none)".into(),
        };
    }
    String::from_utf8_lossy(&term.text(key)).into_owned()
}

fn render_text(
    agg: &Aggregate,
    dims: &[Dimension],
    top: usize,
    matrix: Option<Dimension>,
    now: i64,
    term: Terminal,
    out: &mut Vec<u8>,
) {
    let t = &agg.total;
    let _ = writeln!(
        out,
        "{} messages, {} bytes{}",
        t.messages,
        human_size(t.bytes),
        if t.messages > 0 {
            format!(
                ", oldest {} ago, newest {} ago",
                human_age(now - t.oldest),
                human_age(now - t.newest)
            )
        } else {
            String::new()
        }
    );
    for &dim in dims {
        let empty = HashMap::new();
        let table = agg.tables.get(&dim).unwrap_or(&empty);
        let rows = top_rows(table, top);
        let width = rows
            .iter()
            .map(|(k, _)| shown_key(dim, k, term).chars().count())
            .max()
            .unwrap_or(0)
            .clamp(24, 60);
        let heading = format!(
            "By {} ({} distinct{})",
            dim.name().replace('_', " "),
            table.len(),
            if table.len() > rows.len() {
                format!(", top {}", rows.len())
            } else {
                String::new()
            }
        );
        let _ = writeln!(out, "\n{}", term.heading(&heading));
        let _ = writeln!(
            out,
            "  {:<width$} {:>9} {:>8} {:>7} {:>7}",
            "", "messages", "bytes", "oldest", "newest"
        );
        for (key, tally) in rows {
            let mut key = shown_key(dim, key, term);
            if key.chars().count() > width {
                key = key.chars().take(width - 1).collect::<String>() + "…";
            }
            let _ = writeln!(
                out,
                "  {key:<width$} {:>9} {:>8} {:>7} {:>7}",
                tally.messages,
                human_size(tally.bytes),
                human_age(now - tally.oldest),
                human_age(now - tally.newest)
            );
        }
    }
    if let Some(dim) = matrix {
        let heading = format!("Age (minutes) by {}", dim.name().replace('_', " "));
        let _ = writeln!(out, "\n{}", term.heading(&heading));
        let mut header = format!("  {:<30} {:>7}", "", "T");
        for b in &BUCKETS[..BUCKETS.len() - 1] {
            header.push_str(&format!(" {b:>6}"));
        }
        header.push_str(&format!(" {:>6}", "more"));
        let _ = writeln!(out, "{header}");
        let mut rows: Vec<_> = agg.matrix.iter().collect();
        rows.sort_by(|a, b| {
            (b.0 == b"TOTAL")
                .cmp(&(a.0 == b"TOTAL"))
                .then(b.1.iter().sum::<u64>().cmp(&a.1.iter().sum::<u64>()))
                .then(a.0.cmp(b.0))
        });
        for (key, counts) in rows.into_iter().take(top + 1) {
            let mut line = format!(
                "  {:<30} {:>7}",
                shown_key(dim, key, term)
                    .chars()
                    .take(30)
                    .collect::<String>(),
                counts.iter().sum::<u64>()
            );
            for c in counts {
                line.push_str(&format!(" {c:>6}"));
            }
            let _ = writeln!(out, "{line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! reason_cases {
        ($($name:ident: $input:expr => $want:expr,)*) => {$(
            #[test]
            fn $name() { assert_eq!(String::from_utf8(normalize_reason($input.as_bytes())).unwrap(), $want); }
        )*};
    }
    reason_cases! {
        reason_connect: "connect to 203.0.113.5[203.0.113.5]:25: Connection refused" => "connect to *[*]:*: Connection refused",
        reason_greylist: "host mx.example.net[198.51.100.7] said: 450 4.7.1 <a@b.example>: Recipient address rejected: Greylisted (in reply to RCPT TO command)"
            => "host mx.example.net[*] said: 450 4.7.1 <*>: Recipient address rejected: Greylisted (in reply to RCPT TO command)",
        reason_plain: "delivery temporarily suspended: connect to 127.0.0.1[127.0.0.1]:1: Connection refused"
            => "delivery temporarily suspended: connect to *[*]:*: Connection refused",
        reason_words_kept: "4.7.1 rate limited by mx2 example" => "4.7.1 rate limited by mx2 example",
    }

    #[test]
    fn networks_and_domains() {
        assert_eq!(client_net(b"203.0.113.66"), b"203.0.113.0/24");
        assert_eq!(client_net(b"IPv6:2001:db8:1:2:3::4"), b"2001:db8:1:2::/64");
        assert_eq!(client_net(b"unknown"), b"unknown");
        assert_eq!(domain_of(b"Bob@Example.ORG"), b"example.org");
        assert_eq!(domain_of(b""), b"");
    }

    #[test]
    fn human_units() {
        assert_eq!(human_size(512), "512");
        assert_eq!(human_size(1536), "1.5K");
        assert_eq!(human_size(20 * 1024 * 1024), "20M");
        assert_eq!(human_age(45), "45s");
        assert_eq!(human_age(3 * 3600), "3h");
        assert_eq!(human_age(3 * 86_400), "3d");
    }
}
