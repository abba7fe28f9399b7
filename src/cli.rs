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

    /// Work on this instance of a multi-instance Postfix (a name from `postmulti -l`).
    #[arg(long, value_name = "NAME", global = true, conflicts_with_all = ["config_dir", "queue_dir"])]
    pub instance: Option<String>,

    /// Work on every instance `postmulti -l -a` lists; output names the instance.
    #[arg(long, global = true, conflicts_with_all = ["config_dir", "queue_dir", "instance"])]
    pub all_instances: bool,

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
    /// Interactive: see who fills the queue, drill in, look at messages, act.
    #[command(after_help = TRIAGE_EXAMPLES)]
    Triage(Box<TriageArgs>),
    /// Re-inject the messages saved by `delete --backup DIR` (through postdrop).
    #[command(after_help = RESTORE_EXAMPLES)]
    Restore(RestoreArgs),
    /// Write the man pages or the shell completions into DIR (for packagers).
    #[command(hide = true, after_help = GENERATE_EXAMPLES)]
    Generate(GenerateArgs),
}

// ---- generate (src/man.rs, src/completions.rs) ----

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

const SUMMARY_EXAMPLES: &str = "\
Examples:
  qsurgeon summary                              every table, top 10 rows each
  qsurgeon summary --by sasl-user --by client-net --top 5
  qsurgeon summary --queue deferred --matrix recipient-domain
  qsurgeon summary --sasl-user mallory --by recipient-domain --json";

const LIST_EXAMPLES: &str = "\
Examples:
  qsurgeon list                                   the whole queue, as mailq prints it
  qsurgeon list --sasl-user mallory --ids         queue IDs of one SASL user's mail
  qsurgeon list --queue deferred --older-than 5d --count
  qsurgeon list --where 'reason ~ /4\\.7\\.1/ and recipient_domain = example.net' --json
  qsurgeon list --explain A45E798E3F5 --sender-domain example.org";

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

/// Which messages: every flag narrows the selection (all are ANDed).
#[derive(Clone, Debug, Default, Args)]
#[command(next_help_heading = "Selection")]
pub struct SelectArgs {
    /// In one of these queues (maildrop, incoming, active, deferred, hold, corrupt).
    #[arg(long, value_name = "Q[,Q…]")]
    pub queue: Vec<String>,
    /// This queue ID (letters, digits, _; as mailq prints it, without its * ! # marker).
    #[arg(long, value_name = "ID")]
    pub id: Vec<String>,
    /// One of the queue IDs in FILE (`-` for stdin): one per line, or postqueue -p output as is.
    #[arg(long, value_name = "FILE")]
    pub ids_from: Option<PathBuf>,
    /// Envelope sender: exact (domain case-insensitive), glob with * ?, or /regex/; <> is the null sender.
    #[arg(long, value_name = "ADDR")]
    pub sender: Vec<String>,
    /// Sender domain.
    #[arg(long, value_name = "DOMAIN")]
    pub sender_domain: Vec<String>,
    /// A to-do recipient matches (see --all-recipients, --include-done).
    #[arg(long, value_name = "ADDR")]
    pub recipient: Vec<String>,
    /// A to-do recipient's domain matches.
    #[arg(long, value_name = "DOMAIN")]
    pub recipient_domain: Vec<String>,
    /// SASL login of the client that submitted the message (attribute sasl_username).
    #[arg(long, value_name = "NAME")]
    pub sasl_user: Vec<String>,
    /// SASL mechanism (PLAIN, LOGIN…).
    #[arg(long, value_name = "MECH")]
    pub sasl_method: Vec<String>,
    /// Client IP address or CIDR block (192.0.2.0/24, 2001:db8::/32); a glob or /regex/ matches its text.
    #[arg(long, value_name = "ADDR|CIDR")]
    pub client: Vec<String>,
    /// Client host name.
    #[arg(long, value_name = "HOST")]
    pub client_name: Vec<String>,
    /// HELO/EHLO name.
    #[arg(long, value_name = "NAME")]
    pub helo: Vec<String>,
    /// Arrived more than this long ago; the unit is required: s m h d w (e.g. 2d, 1d12h).
    #[arg(long, value_name = "AGE")]
    pub older_than: Option<String>,
    /// Arrived less than this long ago (unit required: s m h d w).
    #[arg(long, value_name = "AGE")]
    pub newer_than: Option<String>,
    /// Larger than this size; the unit is required: B K M G, 1024-based (e.g. 512B, 30K).
    #[arg(long, value_name = "SIZE")]
    pub larger_than: Option<String>,
    /// Smaller than this size (unit required: B K M G).
    #[arg(long, value_name = "SIZE")]
    pub smaller_than: Option<String>,
    /// A delay reason in the defer log matches this regex.
    #[arg(long, value_name = "REGEX")]
    pub reason: Vec<String>,
    /// A DSN status in the defer log (4.7.1, 4.7.*, 5.*).
    #[arg(long, value_name = "STATUS")]
    pub dsn_status: Vec<String>,
    /// A header test: 'Subject~regex', 'X-Mailer=value', 'Name!~regex'.
    #[arg(long, value_name = "NAME~REGEX")]
    pub header: Vec<String>,
    /// Forced to expire (postsuper -e).
    #[arg(long)]
    pub forced_expired: bool,
    /// The null sender (bounces).
    #[arg(long)]
    pub null_sender: bool,
    /// The sender is in one of our domains but no such local user or alias exists (forged).
    #[arg(long)]
    pub nonexistent_local_sender: bool,
    /// Recipient tests need every to-do recipient to match, not any.
    #[arg(long)]
    pub all_recipients: bool,
    /// Recipient tests look at done recipients too.
    #[arg(long)]
    pub include_done: bool,
    /// An expression: 'age > 2d and (sasl_user = bob or client ~ /^203\.0\.113\./)'.
    #[arg(long = "where", value_name = "EXPR")]
    pub where_expr: Vec<String>,
}

impl SelectArgs {
    /// Every valued flag as (flag name, value), in a fixed order.
    pub fn valued_flags(&self) -> Vec<(&'static str, &str)> {
        let mut flags = Vec::new();
        let many: [(&'static str, &Vec<String>); 14] = [
            ("--queue", &self.queue),
            ("--id", &self.id),
            ("--sender", &self.sender),
            ("--sender-domain", &self.sender_domain),
            ("--recipient", &self.recipient),
            ("--recipient-domain", &self.recipient_domain),
            ("--sasl-user", &self.sasl_user),
            ("--sasl-method", &self.sasl_method),
            ("--client", &self.client),
            ("--client-name", &self.client_name),
            ("--helo", &self.helo),
            ("--reason", &self.reason),
            ("--dsn-status", &self.dsn_status),
            ("--header", &self.header),
        ];
        for (name, values) in many {
            flags.extend(values.iter().map(|v| (name, v.as_str())));
        }
        let one: [(&'static str, &Option<String>); 4] = [
            ("--older-than", &self.older_than),
            ("--newer-than", &self.newer_than),
            ("--larger-than", &self.larger_than),
            ("--smaller-than", &self.smaller_than),
        ];
        for (name, value) in one {
            flags.extend(value.as_deref().map(|v| (name, v)));
        }
        flags.extend(self.where_expr.iter().map(|v| ("--where", v.as_str())));
        flags
    }

    /// True when no flag selects anything (the selection is everything).
    #[allow(dead_code)] // used by the surgery verbs
    pub fn is_empty(&self) -> bool {
        self.valued_flags().is_empty()
            && self.ids_from.is_none()
            && !self.forced_expired
            && !self.null_sender
            && !self.nonexistent_local_sender
    }
}

/// Options of `list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// One JSON object per message: postqueue -j's fields, then richer ones.
    #[arg(long, group = "format")]
    pub json: bool,
    /// Only the queue IDs, one per line.
    #[arg(long, group = "format")]
    pub ids: bool,
    /// Only the number of messages (and bytes) selected.
    #[arg(long, group = "format")]
    pub count: bool,
    /// CSV: queue, id, arrival, size, sender, sasl_username, client, recipients.
    #[arg(long, group = "format")]
    pub csv: bool,
    /// With --ids: end each ID with NUL instead of a newline.
    #[arg(short = '0', long = "null", requires = "ids")]
    pub null: bool,
    /// Sort by: id, queue, arrival (age), size, sender, recipients.
    #[arg(long, value_name = "FIELD")]
    pub sort: Option<SortField>,
    /// Reverse the sort.
    #[arg(long, requires = "sort")]
    pub reverse: bool,
    /// Stop after N messages.
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// Explain, test by test, why message ID was or was not selected.
    #[arg(long, value_name = "ID")]
    pub explain: Option<String>,
    /// Add subject and message_id to --json (reads the headers).
    #[arg(long)]
    pub with_headers: bool,
}

/// Sort keys of `list --sort`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SortField {
    /// Queue ID.
    Id,
    /// Queue name, then ID.
    Queue,
    /// Arrival time (oldest first).
    Arrival,
    /// Message size.
    Size,
    /// Sender address.
    Sender,
    /// Number of to-do recipients.
    Recipients,
}

/// Options of `summary`.
#[derive(Debug, Args)]
pub struct SummaryArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// Dimensions to tabulate (repeatable); default: all of them.
    #[arg(long = "by", value_name = "DIM")]
    pub by: Vec<Dimension>,
    /// Rows per table.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub top: usize,
    /// Also print a qshape-style matrix of age buckets by this dimension.
    #[arg(long, value_name = "DIM")]
    pub matrix: Option<Dimension>,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// What `summary` can group messages by: clap's spelling of
/// [`query::Dimension`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Dimension {
    /// Queue name.
    Queue,
    /// SASL login (sasl_username).
    SaslUser,
    /// Envelope sender.
    Sender,
    /// Envelope sender's domain.
    SenderDomain,
    /// Client IP address.
    Client,
    /// Client network (/24 for IPv4, /64 for IPv6).
    ClientNet,
    /// Domains of the to-do recipients (a message counts once per domain).
    RecipientDomain,
    /// Delay reasons from the defer log, with addresses and numbers masked.
    Reason,
    /// DSN status codes from the defer log.
    DsnStatus,
}

impl From<Dimension> for query::Dimension {
    fn from(dim: Dimension) -> query::Dimension {
        match dim {
            Dimension::Queue => query::Dimension::Queue,
            Dimension::SaslUser => query::Dimension::SaslUser,
            Dimension::Sender => query::Dimension::Sender,
            Dimension::SenderDomain => query::Dimension::SenderDomain,
            Dimension::Client => query::Dimension::Client,
            Dimension::ClientNet => query::Dimension::ClientNet,
            Dimension::RecipientDomain => query::Dimension::RecipientDomain,
            Dimension::Reason => query::Dimension::Reason,
            Dimension::DsnStatus => query::Dimension::DsnStatus,
        }
    }
}

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
        default_value = "/var/log/qsurgeon.journal",
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

// ---- restore (src/surgery/backup.rs) ----

const RESTORE_EXAMPLES: &str = "\
Examples:
  qsurgeon restore /var/backups/qsurgeon --dry-run    what would be re-injected
  qsurgeon restore /var/backups/qsurgeon              ask, then re-inject

Each message goes back through postdrop under a new queue ID, with its sender and
only its to-do recipients. What was re-injected is recorded in DIR/restored.jsonl
and skipped by a later run.
Exit status: 0 restored, 1 nothing to restore, 2 error.";

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

const TRIAGE_EXAMPLES: &str = "\
Examples:
  qsurgeon triage                       the whole queue
  qsurgeon triage --queue deferred      start from the deferred mail only
  qsurgeon -c /etc/postfix-out triage   another instance

Arrow keys choose, Enter confirms, Esc goes back; type to search long lists.
On exit the equivalent `qsurgeon list` command line is printed.";

/// Options of `triage`.
#[derive(Debug, Args)]
pub struct TriageArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// Where actions taken during the session are journaled.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "/var/log/qsurgeon.journal",
        env = "QSURGEON_JOURNAL"
    )]
    pub journal: PathBuf,
}
