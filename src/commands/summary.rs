//! `qsurgeon summary`: who fills the queue. Top-N tables by sender, SASL
//! user, client, recipient domain, delay reason and more (messages,
//! recipients, bytes, oldest, newest; ranked by messages, recipients or
//! bytes), and a qshape-style matrix of age buckets.
//!
//! Each scan worker tallies into its own maps (a `query::Fold`); the maps
//! are merged when the workers' results are folded, so the hot path takes
//! no lock. Keys come from `query::Dimension`, as triage's do.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};

use anyhow::Result;
use query::{Dimension, Fold, KeyList, MessageView, Rank, Tables, Tally};
use queue_scan::{ReadPlan, ScanError, ScanProgress};
use serde_json::json;

use crate::cli::SummaryArgs;
use crate::config::Target;
use crate::exit::ExitStatus;
use crate::selection;
use crate::ui::progress;
use crate::ui::sanitize::Terminal;

use crate::ui::fmt::{human_age, human_size};

/// qshape's age buckets, in minutes: a message falls in the first bucket
/// whose bound its age does not exceed; the last column is older still.
const BUCKETS: [i64; 10] = [5, 10, 20, 40, 80, 160, 320, 640, 1280, i64::MAX];

/// What one worker (or the whole run) counted.
struct Aggregate {
    total: Tally,
    tables: Tables,
    matrix: HashMap<Vec<u8>, [u64; BUCKETS.len()]>,
}

impl Aggregate {
    fn merge(&mut self, other: Aggregate) {
        self.total.merge(&other.total);
        self.tables.merge(other.tables);
        for (key, counts) in other.matrix {
            let mine = self.matrix.entry(key).or_insert([0; BUCKETS.len()]);
            for (m, c) in mine.iter_mut().zip(counts) {
                *m += c;
            }
        }
    }
}

/// One worker's share of the tally, and its reusable key buffer.
struct SummaryFold {
    matrix: Option<Dimension>,
    now: i64,
    agg: Aggregate,
    keys: KeyList,
}

impl SummaryFold {
    /// Counts one selected message into every table and the matrix.
    fn add(&mut self, view: &MessageView<'_, '_>) {
        let msg = view.msg;
        let (bytes, arrival) = (msg.message_size(), msg.arrival_time());
        let recipients = u64::from(view.recipient_count());
        self.agg.total.add(bytes, recipients, arrival);
        self.agg.tables.add(view);
        if let Some(dim) = self.matrix {
            let age_minutes = (self.now - arrival).max(0) / 60;
            let bucket = BUCKETS
                .iter()
                .position(|&b| age_minutes <= b)
                .unwrap_or(BUCKETS.len() - 1);
            dim.keys(view, &mut self.keys);
            let matrix = &mut self.agg.matrix;
            for key in self.keys.iter().chain([&b"TOTAL"[..]]) {
                match matrix.get_mut(key) {
                    Some(counts) => counts[bucket] += 1,
                    None => matrix.entry(key.to_vec()).or_insert([0; BUCKETS.len()])[bucket] += 1,
                }
            }
        }
    }
}

impl Fold for SummaryFold {
    fn message(&mut self, view: &MessageView<'_, '_>) {
        self.add(view);
    }

    fn error(&mut self, error: ScanError) {
        eprintln!(
            "qsurgeon: error: {}",
            crate::ui::sanitize::for_terminal_str(&error.to_string())
        );
    }

    fn merge(mut self, other: Self) -> Self {
        self.agg.merge(other.agg);
        self
    }
}

/// Runs `summary`.
pub fn run(target: &Target, args: &SummaryArgs) -> Result<ExitStatus> {
    let dims: Vec<Dimension> = if args.by.is_empty() {
        Dimension::ALL.to_vec()
    } else {
        args.by.iter().map(|&d| d.into()).collect()
    };
    let matrix: Option<Dimension> = args.matrix.map(Into::into);
    let rank: Rank = args.rank_by.into();
    let wants_log = dims.iter().chain(&matrix).any(|d| d.needs_defer_log());
    let output_needs = ReadPlan {
        headers: false,
        defer_log: wants_log,
    };
    let query = selection::query(target, &args.select, output_needs, false)?;
    let progress = ScanProgress::default();
    let (fold, stats, elapsed) = progress::with_progress(&progress, || {
        query.run(&target.instance.layout, &progress, || SummaryFold {
            matrix,
            now: query.ctx.now,
            agg: Aggregate {
                total: Tally::default(),
                tables: Tables::new(&dims),
                matrix: HashMap::new(),
            },
            keys: KeyList::new(),
        })
    });
    let agg = fold.agg;
    let mut out = Vec::new();
    let mut stdout = std::io::stdout().lock();
    let term = Terminal::new(stdout.is_terminal());
    if args.json {
        serde_json::to_writer(&mut out, &to_json(&agg, &dims, args.top, rank, matrix))?;
        out.push(b'\n');
        stdout.write_all(&term.json(&out))?;
    } else {
        // The tables escape their keys themselves (so columns line up)
        // and may bold their headings.
        let shape = Shape {
            dims: &dims,
            top: args.top,
            rank,
            matrix,
        };
        render_text(&agg, &shape, query.ctx.now, term, &mut out);
        stdout.write_all(&out)?;
    }
    stdout.flush()?;
    eprintln!(
        "{}",
        progress::stats_line(&stats, agg.total.messages, elapsed)
    );
    Ok(if stats.unreadable > 0 {
        ExitStatus::Error
    } else if agg.total.messages == 0 {
        ExitStatus::NoMatch
    } else {
        ExitStatus::Success
    })
}

fn key_json(dim: Dimension, key: &[u8]) -> serde_json::Value {
    if key.is_empty() && dim != Dimension::Sender {
        serde_json::Value::Null
    } else {
        printer::json::string_or_bytes(key)
    }
}

fn to_json(
    agg: &Aggregate,
    dims: &[Dimension],
    top: usize,
    rank: Rank,
    matrix: Option<Dimension>,
) -> serde_json::Value {
    let tally = |t: &Tally| json!({"messages": t.messages, "recipients": t.recipients, "bytes": t.bytes, "oldest": t.oldest, "newest": t.newest});
    let mut by = serde_json::Map::new();
    for &dim in dims {
        let rows: Vec<_> = agg
            .tables
            .top_by(dim, top, rank)
            .into_iter()
            .map(|(k, t)| {
                let mut row = tally(t);
                row["key"] = key_json(dim, k);
                row
            })
            .collect();
        by.insert(
            dim.name().to_string(),
            json!({"distinct": agg.tables.distinct(dim), "top": rows}),
        );
    }
    let mut doc = json!({"total": tally(&agg.total), "rank_by": rank.name(), "by": by});
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

/// A key as a table shows it: escaped on a terminal (from the raw bytes,
/// so invalid UTF-8 shows as `\xNN`; newline and tab too, since a key is
/// one cell of a row: a SASL login holding a newline and a fake row would
/// add that row to the table), else lossy text.
fn shown_key(dim: Dimension, key: &[u8], term: Terminal) -> String {
    if key.is_empty() {
        return match dim {
            Dimension::Sender | Dimension::SenderDomain => "<> (null sender)".into(),
            _ => "(none)".into(),
        };
    }
    let text = String::from_utf8_lossy(&term.text(key)).into_owned();
    if term.escape && text.contains(['\n', '\t']) {
        text.replace('\n', "\\n").replace('\t', "\\t")
    } else {
        text
    }
}

/// Which tables the text shows, and how.
struct Shape<'d> {
    dims: &'d [Dimension],
    top: usize,
    rank: Rank,
    matrix: Option<Dimension>,
}

fn render_text(agg: &Aggregate, shape: &Shape<'_>, now: i64, term: Terminal, out: &mut Vec<u8>) {
    let Shape {
        dims,
        top,
        rank,
        matrix,
    } = *shape;
    let t = &agg.total;
    let _ = writeln!(
        out,
        "{} messages, {} recipients, {} bytes{}",
        t.messages,
        t.recipients,
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
        let distinct = agg.tables.distinct(dim);
        let rows = agg.tables.top_by(dim, top, rank);
        let width = rows
            .iter()
            .map(|(k, _)| shown_key(dim, k, term).chars().count())
            .max()
            .unwrap_or(0)
            .clamp(24, 60);
        let heading = format!(
            "By {} ({} distinct{}{})",
            dim.name().replace('_', " "),
            distinct,
            if distinct > rows.len() {
                format!(", top {}", rows.len())
            } else {
                String::new()
            },
            if rank == Rank::Messages {
                String::new()
            } else {
                format!(", by {}", rank.name())
            }
        );
        let _ = writeln!(out, "\n{}", term.heading(&heading));
        let _ = writeln!(
            out,
            "  {:<width$} {:>9} {:>10} {:>8} {:>7} {:>7}",
            "", "messages", "recipients", "bytes", "oldest", "newest"
        );
        for (key, tally) in rows {
            let mut key = shown_key(dim, key, term);
            if key.chars().count() > width {
                key = key.chars().take(width - 1).collect::<String>() + "…";
            }
            let _ = writeln!(
                out,
                "  {key:<width$} {:>9} {:>10} {:>8} {:>7} {:>7}",
                tally.messages,
                tally.recipients,
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

    /// On a terminal a key stays on its row: a stranger's login with a
    /// newline and a made-up row after it cannot add that row to the table.
    /// A pipe gets the bytes.
    #[test]
    fn a_key_is_one_line_on_a_terminal() {
        let key = b"x\n  alice                 3\tq";
        assert_eq!(
            shown_key(Dimension::SaslUser, key, Terminal::new(true)),
            "x\\n  alice                 3\\tq"
        );
        assert_eq!(
            shown_key(Dimension::SaslUser, key, Terminal::new(false)).as_bytes(),
            key
        );
    }
}
