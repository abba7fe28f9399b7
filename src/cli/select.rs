//! The selection flags, shared by every command that scans the queue.

use std::path::PathBuf;

use clap::Args;

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
    /// At least N envelope recipients, to do, done and canceled (Postfix's nrcpt; sendmail -t ones too).
    #[arg(long, value_name = "N")]
    pub min_recipients: Option<String>,
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
        let one: [(&'static str, &Option<String>); 5] = [
            ("--older-than", &self.older_than),
            ("--newer-than", &self.newer_than),
            ("--larger-than", &self.larger_than),
            ("--smaller-than", &self.smaller_than),
            ("--min-recipients", &self.min_recipients),
        ];
        for (name, value) in one {
            flags.extend(value.as_deref().map(|v| (name, v)));
        }
        flags.extend(self.where_expr.iter().map(|v| ("--where", v.as_str())));
        flags
    }

    /// True when no flag selects anything (the selection is everything).
    pub fn is_empty(&self) -> bool {
        self.valued_flags().is_empty()
            && self.ids_from.is_none()
            && !self.forced_expired
            && !self.null_sender
            && !self.nonexistent_local_sender
    }
}
