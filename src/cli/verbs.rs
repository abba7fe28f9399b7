//! The options of the verbs that change the queue, of `watch`, of `restore`
//! and of `triage`.

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

/// Options of `watch`: a standing rule, the selection acted on as new mail arrives.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("action").required(true).args(["hold", "delete"])))]
pub struct WatchArgs {
    /// Put each new match on hold (postsuper -h).
    #[arg(long)]
    pub hold: bool,
    /// Delete each new match (postsuper -d); see --backup.
    #[arg(long)]
    pub delete: bool,
    /// With --delete: copy each queue file and its logs to DIR first (see `qsurgeon restore`).
    #[arg(long, value_name = "DIR", requires = "delete")]
    pub backup: Option<PathBuf>,
    /// Stop after this long (unit required: s m h d w, e.g. 30m, 2h, 1d).
    #[arg(long = "for", value_name = "DURATION", default_value = "1h", value_parser = parse_watch_duration)]
    pub duration: std::time::Duration,
    /// A round every DURATION: list the queues, read the files not seen yet, act on the matches.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_watch_duration)]
    pub every: std::time::Duration,
    /// Start without asking. Needed when not on a terminal (systemd, cron); on a terminal
    /// without it, the first round's preview is shown and confirmed once.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Each round, print what would be sent to postsuper; change nothing (try a rule).
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Refuse a round that selects more than N messages: nothing is done and the watch
    /// stops (exit 3).
    #[arg(long, value_name = "N")]
    pub max: Option<u64>,
    /// Allow an empty selection (every new message in the scanned queues).
    #[arg(long)]
    pub all: bool,
    /// Queue IDs per postsuper process.
    #[arg(long, default_value_t = 5000, value_name = "N")]
    pub batch_size: usize,
    /// Only errors and the closing summary (for systemd and cron).
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Append the audit trail to FILE (JSON lines): one run per round that acted.
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
    // Last, so that the options above are listed under "Options", not under the
    // selection's heading.
    #[command(flatten)]
    pub select: SelectArgs,
}

/// `--for` and `--every`: a duration as `--older-than` reads it (`30s`, `2h`, `1d12h`), at
/// least a second.
fn parse_watch_duration(text: &str) -> Result<std::time::Duration, String> {
    let secs = select::parse_duration(text, "duration").map_err(|e| e.to_string())?;
    if secs < 1 {
        return Err("the duration must be at least 1s".into());
    }
    Ok(std::time::Duration::from_secs(secs.unsigned_abs()))
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
