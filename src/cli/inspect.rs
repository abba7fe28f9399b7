//! The options of `list` and `summary`.

use clap::Args;

use super::SelectArgs;

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
    /// CSV: queue, id, arrival, size, sender, sasl_username, client, recipients, recipient_count, todo_recipient_count.
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
    /// Rank each table's rows by messages, recipients (envelope recipients, as Postfix's nrcpt) or bytes.
    #[arg(long, value_name = "BY", default_value = "messages")]
    pub rank_by: RankBy,
    /// Also print a qshape-style matrix of age buckets by this dimension.
    #[arg(long, value_name = "DIM")]
    pub matrix: Option<Dimension>,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// What `summary --rank-by` orders rows by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum RankBy {
    /// Most messages first.
    #[default]
    Messages,
    /// Most envelope recipients first: a burst of few messages to many recipients ranks high.
    Recipients,
    /// Most bytes first.
    Bytes,
}

impl From<RankBy> for query::Rank {
    fn from(r: RankBy) -> query::Rank {
        match r {
            RankBy::Messages => query::Rank::Messages,
            RankBy::Recipients => query::Rank::Recipients,
            RankBy::Bytes => query::Rank::Bytes,
        }
    }
}

/// What `summary` can group messages by: [`query::Dimension`] as clap spells
/// it (`sasl-user`), with its description as the value's help.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dimension(pub query::Dimension);

impl clap::ValueEnum for Dimension {
    fn value_variants<'a>() -> &'a [Self] {
        static ALL: std::sync::OnceLock<Vec<Dimension>> = std::sync::OnceLock::new();
        ALL.get_or_init(|| query::Dimension::ALL.map(Dimension).to_vec())
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(
            clap::builder::PossibleValue::new(self.0.name().replace('_', "-"))
                .help(self.0.description()),
        )
    }
}

impl From<Dimension> for query::Dimension {
    fn from(dim: Dimension) -> query::Dimension {
        dim.0
    }
}
