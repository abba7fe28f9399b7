//! The options of the read-only monitoring commands: `metrics` (for
//! Prometheus' node_exporter) and `check` (a Nagios/Icinga plugin).

use std::path::PathBuf;

use clap::Args;

/// Options of `metrics`.
#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// Write the metrics to FILE atomically (a temporary file in the same
    /// directory, synced, then renamed over FILE) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Keys per top-N table (SASL user, sender domain, client network, recipient
    /// domain); the rest is counted in one `qsurgeon_top_other_*` sample.
    #[arg(long, default_value_t = 10, value_name = "N", value_parser = clap::value_parser!(u16).range(0..=1000))]
    pub top: u16,
}

/// Options of `check`. Every threshold is optional; one that is exceeded
/// (the value is greater than it) makes the state WARNING or CRITICAL.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// WARNING when the queue holds more than N messages.
    #[arg(long, value_name = "N")]
    pub warn_total: Option<u64>,
    /// CRITICAL when the queue holds more than N messages.
    #[arg(long, value_name = "N")]
    pub crit_total: Option<u64>,
    /// WARNING when the oldest message is older than AGE (unit required: s m h d w).
    #[arg(long, value_name = "AGE")]
    pub warn_age: Option<String>,
    /// CRITICAL when the oldest message is older than AGE.
    #[arg(long, value_name = "AGE")]
    pub crit_age: Option<String>,
    /// The per-user, per-sender and per-client thresholds count the messages that
    /// arrived within this window (unit required: s m h d w), held ones excepted.
    #[arg(long, value_name = "AGE", default_value = "15m")]
    pub window: String,
    /// WARNING when one SASL user has more than N messages in the queue from within the window.
    #[arg(long, value_name = "N")]
    pub warn_per_user: Option<u64>,
    /// CRITICAL when one SASL user has more than N messages from within the window.
    #[arg(long, value_name = "N")]
    pub crit_per_user: Option<u64>,
    /// WARNING when one envelope sender has more than N messages from within the window.
    #[arg(long, value_name = "N")]
    pub warn_per_sender: Option<u64>,
    /// CRITICAL when one envelope sender has more than N messages from within the window.
    #[arg(long, value_name = "N")]
    pub crit_per_sender: Option<u64>,
    /// WARNING when one client IP address has more than N messages from within the window.
    #[arg(long, value_name = "N")]
    pub warn_per_client: Option<u64>,
    /// CRITICAL when one client IP address has more than N messages from within the window.
    #[arg(long, value_name = "N")]
    pub crit_per_client: Option<u64>,
}
