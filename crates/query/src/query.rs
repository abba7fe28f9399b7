//! A typed query: the selection, the queues, what to read per message and
//! the nonexistent-local-sender verdicts, run over a queue with
//! [`Query::run`]. Each scan worker folds the messages it selects into its
//! own accumulator ([`Fold`]); the accumulators are merged
//! (`queue_scan::scan_reduce`) and the one result is returned, so callers
//! need neither locks nor `Drop` tricks.

use std::collections::HashSet;

use postfix::{LocalSenderCheck, Postfix};
use queue_scan::{Message, QueueLayout, ReadPlan, ScanError, ScanOptions, ScanProgress, Visitor};
use select::{Data, Selection};

use crate::dimension::push_domain;
use crate::error::Error;
use crate::spec::{read_plan, SelectionSpec, DEFAULT_QUEUES};
use crate::view::MessageView;

/// A per-worker accumulator of a query's result.
pub trait Fold: Send + Sized {
    /// A selected message.
    fn message(&mut self, view: &MessageView<'_, '_>);
    /// A file that could not be read or decoded (the scan goes on).
    fn error(&mut self, error: ScanError);
    /// Merges two workers' results into one.
    fn merge(self, other: Self) -> Self;
}

/// What to scan and which messages to select.
pub struct Query {
    /// The compiled selection.
    pub selection: Selection,
    /// The queues to scan, in order.
    pub queues: Vec<&'static str>,
    /// What to read per message (the selection's needs and the caller's).
    pub read: ReadPlan,
    /// The nonexistent-local-sender verdicts, when the selection needs them
    /// (see [`Query::resolve_local_senders`]).
    pub local: Option<LocalSenderCheck>,
    /// "Now", for ages.
    pub ctx: select::Context,
    /// The largest queue file read; larger ones are reported as errors
    /// (default [`queue_scan::DEFAULT_QUEUE_FILE_LIMIT`]; an instance's is
    /// `InstanceConfig::queue_file_limit`).
    pub file_size_limit: u64,
    /// The queue IDs the selection names (`--id`, `--ids-from`), so that
    /// those in none of the queues can be named ([`Query::absent_ids`]).
    pub named_ids: Vec<String>,
}

impl Query {
    /// The query of `spec` over its queues (or `default_queues`), reading
    /// what the selection needs and `output_needs`.
    pub fn new(
        spec: &SelectionSpec,
        default_queues: &[&'static str],
        output_needs: ReadPlan,
    ) -> Result<Query, Error> {
        let selection = spec.build()?;
        Ok(Query {
            read: read_plan(&selection, output_needs),
            queues: spec.scan_queues(default_queues)?,
            selection,
            local: None,
            ctx: select::Context::now(),
            file_size_limit: queue_scan::DEFAULT_QUEUE_FILE_LIMIT,
            named_ids: spec
                .ids
                .iter()
                .chain(spec.ids_from.iter().flatten())
                .cloned()
                .collect(),
        })
    }

    /// [`Query::new`] over showq's queues ([`DEFAULT_QUEUES`]).
    pub fn for_spec(spec: &SelectionSpec, output_needs: ReadPlan) -> Result<Query, Error> {
        Query::new(spec, DEFAULT_QUEUES, output_needs)
    }

    /// Resolves the nonexistent-local-sender verdicts when the selection
    /// needs them: a first, envelope-only scan collects the distinct
    /// senders in our domains, and each is looked up once, in batches,
    /// with Postfix's own tools. Returns how many senders were looked up
    /// (`None` when the selection does not need them).
    pub fn resolve_local_senders(
        &mut self,
        layout: &QueueLayout,
        postfix: Option<&Postfix>,
    ) -> Result<Option<usize>, Error> {
        if !self.selection.needs().contains(Data::LOCAL_SENDER_CHECK) {
            return Ok(None);
        }
        let postfix = postfix.ok_or(Error::LocalSenderNeedsPostfix)?;
        let mut check = LocalSenderCheck::from_postfix(postfix)?;
        let senders = local_senders(&check, layout, &self.queues, self.file_size_limit);
        check.resolve(senders.iter().map(Vec::as_slice))?;
        self.local = Some(check);
        Ok(Some(senders.len()))
    }

    /// The IDs the selection names that are in none of the message queues
    /// of `layout` now (any queue, not only the scanned ones: an ID that is
    /// there but not selected is not absent). Each is looked up with the
    /// safe open's `find_queue_file`; an ID named twice is reported once.
    pub fn absent_ids(&self, layout: &QueueLayout) -> Vec<&str> {
        let mut seen = std::collections::HashSet::new();
        self.named_ids
            .iter()
            .map(String::as_str)
            .filter(|id| seen.insert(*id))
            .filter(|id| matches!(queue_scan::open::find_queue_file(layout, id), Ok(None)))
            .collect()
    }

    /// The view of `msg` under this query.
    pub fn view<'m, 'a>(&'m self, msg: &'m Message<'a>) -> MessageView<'m, 'a> {
        MessageView::new(msg, self.local.as_ref())
    }

    /// The scan options of this query.
    pub fn scan_options(&self) -> ScanOptions {
        ScanOptions {
            file_size_limit: self.file_size_limit,
            ..ScanOptions::new(self.queues.clone(), self.read)
        }
    }

    /// Scans the queues of `layout`; each worker folds the messages it
    /// selects into an accumulator made by `make`, and the accumulators
    /// are merged into the one returned. `progress` counts as the scan
    /// goes (and its `stop` ends it early).
    pub fn run<A, F>(&self, layout: &QueueLayout, progress: &ScanProgress, make: F) -> A
    where
        A: Fold,
        F: Fn() -> A + Sync,
    {
        let folded = queue_scan::scan_reduce(
            layout,
            &self.scan_options(),
            progress,
            || Selected {
                query: self,
                acc: make(),
            },
            Selected::merge,
        );
        folded.acc
    }

    /// Like [`Query::run`], but in showq's order (`queue_scan::scan_ordered`):
    /// the scan goes a window of messages at a time, and `window` gets
    /// each window's merged accumulator, in order; the messages in it are
    /// put in order by `Message::position`.
    pub fn run_ordered<A, F, W>(
        &self,
        layout: &QueueLayout,
        progress: &ScanProgress,
        make: F,
        mut window: W,
    ) where
        A: Fold,
        F: Fn() -> A + Sync,
        W: FnMut(A),
    {
        queue_scan::scan_ordered(
            layout,
            &self.scan_options(),
            progress,
            || Selected {
                query: self,
                acc: make(),
            },
            Selected::merge,
            |selected| window(selected.acc),
        );
    }
}

/// A worker's accumulator behind the query's selection.
struct Selected<'q, A> {
    query: &'q Query,
    acc: A,
}

impl<A: Fold> Selected<'_, A> {
    fn merge(self, other: Self) -> Self {
        Selected {
            query: self.query,
            acc: self.acc.merge(other.acc),
        }
    }
}

impl<A: Fold> Visitor for Selected<'_, A> {
    fn message(&mut self, msg: &Message<'_>) {
        let view = self.query.view(msg);
        if self.query.selection.matches(&view, &self.query.ctx) {
            self.acc.message(&view);
        }
    }

    fn error(&mut self, error: ScanError) {
        self.acc.error(error);
    }
}

/// The distinct senders in our domains (an envelope-only scan).
fn local_senders(
    check: &LocalSenderCheck,
    layout: &QueueLayout,
    queues: &[&'static str],
    file_size_limit: u64,
) -> HashSet<Vec<u8>> {
    struct Senders<'c> {
        check: &'c LocalSenderCheck,
        found: HashSet<Vec<u8>>,
        domain: Vec<u8>,
    }
    impl Visitor for Senders<'_> {
        fn message(&mut self, msg: &Message<'_>) {
            let Some(sender) = msg.envelope.sender else {
                return;
            };
            self.domain.clear();
            push_domain(sender, &mut self.domain);
            if !self.domain.is_empty()
                && !self.found.contains(sender)
                && self.check.is_local_domain(&self.domain)
            {
                self.found.insert(sender.to_vec());
            }
        }
        // Unreadable files are reported by the main scan.
        fn error(&mut self, _: ScanError) {}
    }
    let options = ScanOptions {
        file_size_limit,
        ..ScanOptions::new(queues.to_vec(), ReadPlan::default())
    };
    let make = || Senders {
        check,
        found: HashSet::new(),
        domain: Vec::new(),
    };
    fn merge<'c>(mut a: Senders<'c>, b: Senders<'c>) -> Senders<'c> {
        a.found.extend(b.found);
        a
    }
    queue_scan::scan_reduce(layout, &options, &ScanProgress::default(), make, merge).found
}
