//! Turning the selection flags into a compiled `select::Selection`, and the
//! scan plan that follows from what the selection needs.

use std::io::Read;

use anyhow::{Context, Result};
use queue_scan::ReadPlan;
use select::{Data, Scope, Selection};

use crate::cli::SelectArgs;

/// The queues showq lists, in its order; `corrupt` only when asked for.
pub const DEFAULT_QUEUES: &[&str] = &["maildrop", "active", "incoming", "deferred", "hold"];

/// Compiles the flags of `args` into one selection (all flags ANDed).
pub fn build(args: &SelectArgs) -> Result<Selection> {
    let mut builder = Selection::builder();
    for (name, value) in args.valued_flags() {
        builder = builder
            .flag(name, Some(value))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    if let Some(path) = &args.ids_from {
        let mut text = String::new();
        if path.as_os_str() == "-" {
            std::io::stdin()
                .read_to_string(&mut text)
                .context("read IDs from standard input")?;
        } else {
            text = std::fs::read_to_string(path)
                .with_context(|| format!("read IDs from {}", path.display()))?;
        }
        let ids: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        if let Some(bad) = ids.iter().find(|id| !queue_scan::is_valid_queue_id(id)) {
            anyhow::bail!("{}: not a queue ID: {bad:?}", path.display());
        }
        builder = builder.ids(ids);
    }
    if args.forced_expired {
        builder = builder.forced_expired();
    }
    if args.null_sender {
        builder = builder.null_sender();
    }
    if args.nonexistent_local_sender {
        builder = builder.nonexistent_local_sender();
    }
    if args.all_recipients {
        builder = builder.all_recipients();
    }
    if args.include_done {
        builder = builder.recipient_scope(Scope::TodoOrDone);
    }
    Ok(builder.build())
}

/// The queues to scan: those named by `--queue`, else showq's five.
pub fn queues(args: &SelectArgs) -> Result<Vec<&'static str>> {
    if args.queue.is_empty() {
        return Ok(DEFAULT_QUEUES.to_vec());
    }
    let mut queues = Vec::new();
    for name in args.queue.iter().flat_map(|q| q.split(',')).map(str::trim) {
        let queue = queue_scan::MESSAGE_QUEUES
            .iter()
            .find(|q| **q == name)
            .with_context(|| {
                format!(
                    "--queue {name}: not a message queue (one of {})",
                    queue_scan::MESSAGE_QUEUES.join(", ")
                )
            })?;
        if !queues.contains(queue) {
            queues.push(*queue);
        }
    }
    Ok(queues)
}

/// What to read per message so that `selection` (and the output) can be
/// decided.
pub fn read_plan(selection: &Selection, output_needs: ReadPlan) -> ReadPlan {
    let needs = selection.needs();
    ReadPlan {
        headers: output_needs.headers || needs.contains(Data::HEADERS),
        defer_log: output_needs.defer_log || needs.contains(Data::DEFER_LOG),
    }
}
