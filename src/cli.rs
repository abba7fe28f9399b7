//! Command-line syntax (clap derive). Nothing here does I/O; `main.rs`
//! turns these options into library calls.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand};

/// Inspect, select and operate on Postfix mail queues.
#[derive(Debug, Parser)]
#[command(name = "qsurgeon", version, propagate_version = true)]
pub struct Opts {
    /// Postfix configuration directory of the instance (as `postconf -c`).
    #[arg(short = 'c', long = "config-dir", value_name = "DIR", global = true)]
    pub config_dir: Option<PathBuf>,

    /// Read this queue directory directly, without asking postconf
    /// (default hashing: deferred and defer, depth 1).
    #[arg(long, value_name = "DIR", global = true)]
    pub queue_dir: Option<PathBuf>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print queue files as postcat does (byte for byte), or as JSON.
    #[command(after_help = SHOW_EXAMPLES)]
    Show(ShowArgs),
}

const SHOW_EXAMPLES: &str = "\
Examples:
  qsurgeon show -q 4jXXK158vnz1SY32        envelope, headers and body of a queued message
  qsurgeon show -e -q A45E798E3F5          only the envelope records
  qsurgeon show -bh deferred/A/A45E798E3F5 headers and body of a file
  qsurgeon show --json -q A45E798E3F5      every record, decoded, as JSON";

/// Options of `show`, spelled as postcat's.
#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
pub struct ShowArgs {
    /// Show body content (from the first non-header line to the end).
    #[arg(short = 'b')]
    pub body: bool,
    /// Show the record type in decimal before each line.
    #[arg(short = 'd')]
    pub decimal_types: bool,
    /// Show envelope records (the default with -h and -b unset).
    #[arg(short = 'e')]
    pub envelope: bool,
    /// Show primary header lines.
    #[arg(short = 'h')]
    pub header: bool,
    /// Show the file offset of each record.
    #[arg(short = 'o')]
    pub offsets: bool,
    /// Arguments are queue IDs: search the queues as postcat -q does.
    #[arg(short = 'q')]
    pub queue_ids: bool,
    /// Show raw records: pointer and padding records, labelled text.
    #[arg(short = 'v')]
    pub verbose: bool,
    /// With -v: do not follow pointer records, and go on after the end record.
    #[arg(short = 'r')]
    pub raw: bool,
    /// Print every record, decoded, as one JSON object per file.
    #[arg(long, conflicts_with_all = ["body", "header", "envelope", "offsets", "decimal_types", "verbose", "raw"])]
    pub json: bool,
    /// Print help.
    #[arg(long, action = ArgAction::Help)]
    pub help: Option<bool>,
    /// Queue files (or queue IDs with -q).
    #[arg(required = true, value_name = "FILE|ID")]
    pub files: Vec<OsString>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_definition_is_consistent() {
        Opts::command().debug_assert();
    }

    #[test]
    fn show_takes_postcat_flags_including_h() {
        let opts = Opts::try_parse_from(["qsurgeon", "show", "-bh", "-o", "-q", "ID"]).unwrap();
        let Command::Show(show) = opts.command;
        assert!(show.body && show.header && show.offsets && show.queue_ids && !show.envelope);
    }
}
