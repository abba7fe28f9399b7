//! The options of the verbs that change the queue, of `restore` and of
//! `triage`.

use std::path::PathBuf;

use clap::Args;

use super::SelectArgs;

/// Options shared by the verbs that change the queue.
#[derive(Debug, Args)]
pub struct ActArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// Act without asking. Needed when not on a terminal (cron).
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Scan and select, print what would be sent to postsuper, change nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Refuse (exit 3, change nothing) when more than N messages are selected.
    #[arg(long, value_name = "N")]
    pub max: Option<u64>,
    /// Allow an empty selection (every message in the scanned queues).
    #[arg(long)]
    pub all: bool,
    /// Queue IDs per postsuper process.
    #[arg(long, default_value_t = 5000, value_name = "N")]
    pub batch_size: usize,
    /// Pace the actions: at most N messages per second (release, requeue, flush).
    #[arg(long, value_name = "N")]
    pub rate: Option<f64>,
    /// Only errors and a one-line summary.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Append the audit trail to FILE (JSON lines).
    #[arg(
        long,
        value_name = "FILE",
        default_value = "/var/log/qsurgeon/journal",
        env = "QSURGEON_JOURNAL"
    )]
    pub journal: PathBuf,
    /// Keep no audit trail.
    #[arg(long, conflicts_with = "journal")]
    pub no_journal: bool,
}

/// Options of `delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    pub act: ActArgs,
    /// Copy each queue file and its logs to DIR before deleting it (see `qsurgeon restore`).
    #[arg(long, value_name = "DIR")]
    pub backup: Option<PathBuf>,
}

/// Options of `restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup directory (`delete --backup DIR`).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Print what would be re-injected, change nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Re-inject without asking. Needed when not on a terminal.
    #[arg(short = 'y', long)]
    pub yes: bool,
}

/// Options of `triage`.
#[derive(Debug, Args)]
pub struct TriageArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// Where actions taken during the session are journaled.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "/var/log/qsurgeon/journal",
        env = "QSURGEON_JOURNAL"
    )]
    pub journal: PathBuf,
    /// Full screen: scan again every DURATION (e.g. 30s, 5m); each row shows
    /// its change since the last scan.
    #[arg(long, value_name = "DURATION", value_parser = parse_refresh)]
    pub refresh: Option<std::time::Duration>,
}

/// `30s`, `5m`, `1h`: at least a second.
fn parse_refresh(text: &str) -> Result<std::time::Duration, String> {
    let (digits, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("not a duration: {text:?} (e.g. 30s, 5m)"))?;
    let secs = match unit {
        "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        _ => {
            return Err(format!(
                "not a duration: {text:?} (use s, m or h, e.g. 30s)"
            ))
        }
    };
    if secs == 0 {
        return Err("the refresh interval must be at least 1s".into());
    }
    Ok(std::time::Duration::from_secs(secs))
}
