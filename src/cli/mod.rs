//! Command-line syntax (clap derive). Nothing here does I/O; `main.rs`
//! turns these options into library calls.
//!
//! - this module: the global options, the commands, `show` and `generate`;
//! - [`select`]: the selection flags every command that scans shares;
//! - [`inspect`]: `list` and `summary`;
//! - [`verbs`]: the verbs that change the queue, `restore` and `triage`;
//! - [`monitor`]: `metrics` and `check`.

mod inspect;
mod monitor;
mod select;
mod verbs;

pub use inspect::{ListArgs, SortField, SummaryArgs};
pub use monitor::{CheckArgs, MetricsArgs};
pub use select::SelectArgs;
pub use verbs::{ActArgs, DeleteArgs, RestoreArgs, TriageArgs, WatchArgs};

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

    /// Work on this instance of a multi-instance Postfix (a name from `postmulti -l`).
    #[arg(long, value_name = "NAME", global = true, conflicts_with_all = ["config_dir", "queue_dir"])]
    pub instance: Option<String>,

    /// Work on every instance `postmulti -l -a` lists; output names the instance.
    #[arg(long, global = true, conflicts_with_all = ["config_dir", "queue_dir", "instance"])]
    pub all_instances: bool,

    /// Work on a private copy of the built-in demo queue (real Postfix queue files, in a
    /// fresh 0700 directory under $TMPDIR, removed at exit): try the read-only commands
    /// without a Postfix queue. The verbs that change a queue are refused.
    #[arg(long, global = true, conflicts_with_all = ["config_dir", "queue_dir", "instance", "all_instances"])]
    pub demo: bool,

    /// The demo copy's settings, filled in by `main` when `--demo` is given.
    #[arg(skip)]
    pub demo_instance: Option<queue_scan::InstanceConfig>,

    /// Threads that read queue files [default: 2 per CPU, at least 32: on a cold cache
    /// the disk, not the CPU, sets the pace, and it needs many reads in flight].
    #[arg(long, value_name = "N", global = true, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,

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
    /// List selected messages like mailq / postqueue -p, or as JSON, IDs, CSV, a count.
    #[command(after_help = LIST_EXAMPLES)]
    List(Box<ListArgs>),
    /// Who fills the queue: top senders, SASL users, clients, domains, reasons, ages.
    #[command(after_help = SUMMARY_EXAMPLES)]
    Summary(Box<SummaryArgs>),
    /// Put the selected messages on hold (postsuper -h).
    #[command(after_help = ACT_EXAMPLES)]
    Hold(Box<ActArgs>),
    /// Release the selected held messages (postsuper -H).
    #[command(after_help = ACT_EXAMPLES)]
    Release(Box<ActArgs>),
    /// Requeue the selected messages: re-run address rewriting (postsuper -r).
    #[command(after_help = ACT_EXAMPLES)]
    Requeue(Box<ActArgs>),
    /// Delete the selected messages (postsuper -d), optionally backing them up first.
    #[command(after_help = ACT_EXAMPLES)]
    Delete(Box<DeleteArgs>),
    /// Force the selected messages to expire: bounce them at the next attempt (postsuper -e, -f in hold).
    #[command(after_help = ACT_EXAMPLES)]
    Expire(Box<ActArgs>),
    /// Deliver the selected messages now (postqueue -i).
    #[command(after_help = ACT_EXAMPLES)]
    Flush(Box<ActArgs>),
    /// A standing rule: hold or delete the selection's new mail as it arrives, for a while.
    #[command(after_help = WATCH_EXAMPLES)]
    Watch(Box<WatchArgs>),
    /// Interactive, full screen: see who fills the queue, drill in, look at messages, mark, act.
    #[command(after_help = TRIAGE_EXAMPLES)]
    Triage(Box<TriageArgs>),
    /// Re-inject the messages saved by `delete --backup DIR` (through postdrop).
    #[command(after_help = RESTORE_EXAMPLES)]
    Restore(RestoreArgs),
    /// Prometheus metrics for node_exporter's textfile collector: per queue, ages, top senders.
    #[command(after_help = METRICS_EXAMPLES)]
    Metrics(MetricsArgs),
    /// A Nagios/Icinga plugin: queue size, oldest age, one SASL user/sender/client's burst.
    #[command(after_help = CHECK_EXAMPLES)]
    Check(Box<CheckArgs>),
    /// Write the man pages or the shell completions into DIR (for packagers).
    #[command(hide = true, after_help = GENERATE_EXAMPLES)]
    Generate(GenerateArgs),
}

// ---- generate (src/commands/generate/) ----

const GENERATE_EXAMPLES: &str = "\
Examples:
  qsurgeon generate man /usr/share/man/man1            qsurgeon.1 and qsurgeon-<command>.1
  qsurgeon generate completions ./completions          bash, zsh and fish";

/// Options of the hidden `generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// What to write.
    #[arg(value_enum)]
    pub what: GenerateWhat,
    /// The directory to write into (created if missing).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

/// What `generate` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum GenerateWhat {
    /// qsurgeon.1 and one page per command.
    Man,
    /// Completion scripts for bash, zsh and fish.
    Completions,
}

const ACT_EXAMPLES: &str = "\
Examples:
  qsurgeon delete --sasl-user mallory                  preview, ask, delete one spammer's mail
  qsurgeon delete --sasl-user mallory --dry-run        what would be sent to postsuper
  qsurgeon hold --client 203.0.113.0/24 --yes
  qsurgeon release --queue hold --rate 50 --yes        release slowly
  qsurgeon delete --queue deferred --older-than 5d --reason '4\\.[0-9]\\.[0-9]' \\
      --max 10000 --backup /var/backups/qsurgeon --yes --quiet      (cron)

Exit status: 0 acted, 1 nothing matched, 2 error, 3 refused by --max.";

const WATCH_EXAMPLES: &str = "\
Examples:
  qsurgeon watch --sasl-user mallory --hold --for 2h       preview, ask once, then hold
                                                           mallory's new mail every 10 s
  qsurgeon watch --client 203.0.113.7 --delete --backup /var/backups/qsurgeon \\
      --for 30m --every 5s --max 2000 --yes --quiet        (systemd-run, cron)
  qsurgeon watch --client 203.0.113.0/24 --hold --dry-run --for 5m
                                                           try a rule: print, change nothing

A stolen login's SMTP sessions stay open after its password is changed: the
mail keeps coming. watch is the standing rule for that: every --every (10s) it
lists the queues, reads only the files it has not seen yet (each message is
judged once, when first seen), and holds or deletes the new matches through
postsuper, with the verbs' re-check, --max (per round), --backup and journal
(one run per round that acted). It stops after --for (default 1h), on Ctrl-C
or SIGTERM (the batch in flight is finished), and prints what it did.
Without --yes it asks once, on a terminal, after showing the first round.
Exit status: 0 ran its course (SIGTERM included), 2 error (a round could not
act on everything it selected), 3 refused by --max (the watch stops),
130 Ctrl-C.";

const SUMMARY_EXAMPLES: &str = "\
Examples:
  qsurgeon summary                              every table, top 10 rows each
  qsurgeon summary --by sasl-user --by client-net --top 5
  qsurgeon summary --queue deferred --matrix recipient-domain
  qsurgeon summary --sasl-user mallory --by recipient-domain --json
  qsurgeon summary --by sasl-user --rank-by recipients   few messages, many recipients first";

const LIST_EXAMPLES: &str = "\
Examples:
  qsurgeon list                                   the whole queue, as mailq prints it
  qsurgeon list --sasl-user mallory --ids         queue IDs of one SASL user's mail
  qsurgeon list --queue deferred --older-than 5d --count
  qsurgeon list --where 'reason ~ /4\\.7\\.1/ and recipient_domain = example.net' --json
  qsurgeon list --where 'recipients > 100' --ids   messages with over 100 envelope recipients
  qsurgeon list --min-recipients 40 --sasl-user mallory --count
  qsurgeon list --explain A45E798E3F5 --sender-domain example.org
  qsurgeon list --explain A45E798E3F5 --nonexistent-local-sender   which table answered";

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

const RESTORE_EXAMPLES: &str = "\
Examples:
  qsurgeon restore /var/backups/qsurgeon --dry-run    what would be re-injected
  qsurgeon restore /var/backups/qsurgeon              ask, then re-inject

Each message goes back through postdrop under a new queue ID, with its sender and
only its to-do recipients. What was re-injected is recorded in DIR/restored.jsonl
and skipped by a later run.
Exit status: 0 restored, 1 nothing to restore, 2 error.";

const METRICS_EXAMPLES: &str = "\
Examples:
  qsurgeon metrics                                      print the metrics
  qsurgeon metrics --output /var/lib/prometheus/node-exporter/qsurgeon.prom
  qsurgeon --all-instances metrics --top 20 --output /var/lib/prometheus/node-exporter/qsurgeon.prom

Prometheus text format. With --all-instances every sample has a postfix_instance label.
Exit status: 0 written, 2 error (with --all-instances: an instance could not be scanned;
the others are still written, with qsurgeon_scan_success 0 for it).";

const CHECK_EXAMPLES: &str = "\
Examples:
  qsurgeon check --warn-total 1000 --crit-total 5000 --warn-age 1d --crit-age 4d
  qsurgeon check --window 15m --warn-per-user 200 --crit-per-user 1000
  qsurgeon --instance postfix-out check --warn-per-client 500 --crit-per-client 2000

One status line, then ' | ' and perfdata (queue=N;warn;crit;0 oldest=Ns;…).
Exit status (monitoring-plugin convention): 0 OK, 1 WARNING, 2 CRITICAL,
3 UNKNOWN (the queue could not be read, a bad flag, any other error).";

const TRIAGE_EXAMPLES: &str = "\
Examples:
  qsurgeon triage                       the whole queue
  qsurgeon triage --queue deferred      start from the deferred mail only
  qsurgeon -c /etc/postfix-out triage   another instance
  qsurgeon triage --refresh 30s         scan again every 30 s, show the change per row

On a terminal (stdin and stdout, TERM not `dumb`) triage is full screen: the
totals per queue, an age histogram and the top SASL users, senders, clients,
/24 networks, recipient domains, delay reasons and nonexistent local senders,
with messages, recipients and bytes per row (filled while the scan runs).
Enter narrows to a row, Backspace goes back, s ranks by messages, recipients
or bytes, l lists the group's messages with a preview (s sorts, m marks),
/ filters with a --where expression, a acts (hold, release, requeue, delete,
expire: the verb's preview and confirmation follow), r scans again, ? shows
every key, q quits.
Elsewhere (TERM=dumb) a sequence of prompts does the same: arrow keys choose,
Enter confirms, Esc goes back; type to search long lists.
On exit the equivalent `qsurgeon list` command line is printed.";

#[cfg(test)]
mod tests {
    use super::inspect::Dimension;
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_definition_is_consistent() {
        Opts::command().debug_assert();
    }

    #[test]
    fn dimensions_map_one_to_one_by_name() {
        use clap::ValueEnum;
        let mapped: Vec<query::Dimension> = Dimension::value_variants()
            .iter()
            .map(|&d| d.into())
            .collect();
        assert_eq!(mapped, query::Dimension::ALL);
        for &d in Dimension::value_variants() {
            let value = d.to_possible_value().unwrap();
            assert_eq!(
                value.get_name().replace('-', "_"),
                query::Dimension::from(d).name()
            );
        }
    }

    #[test]
    fn show_takes_postcat_flags_including_h() {
        let opts = Opts::try_parse_from(["qsurgeon", "show", "-bh", "-o", "-q", "ID"]).unwrap();
        let Command::Show(show) = opts.command else {
            panic!("not show")
        };
        assert!(show.body && show.header && show.offsets && show.queue_ids && !show.envelope);
    }
}
