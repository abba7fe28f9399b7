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
    // A flag given several times means any of its values (`--id A --id B`,
    // `--sender x --sender y`); different flags AND together.
    let flags = args.valued_flags();
    let mut names: Vec<&str> = flags.iter().map(|(name, _)| *name).collect();
    names.dedup();
    for name in names {
        let values: Vec<&str> = flags
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| *v)
            .collect();
        let always_and = matches!(
            name,
            "--where" | "--older-than" | "--newer-than" | "--larger-than" | "--smaller-than"
        );
        if values.len() == 1 || always_and {
            for value in values {
                builder = builder
                    .flag(name, Some(value))
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            }
        } else if name == "--id" {
            if let Some(bad) = values.iter().find(|id| !queue_scan::is_valid_queue_id(id)) {
                anyhow::bail!("--id {bad:?}: not a queue ID");
            }
            builder = builder.ids(values);
        } else {
            let tests = values
                .iter()
                .map(|v| select::flag_test(name, Some(v)))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            builder = builder.expr(select::Expr::Or(tests));
        }
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

/// The Postfix instance a command works on.
pub struct Target {
    /// Its queue layout and settings.
    pub instance: queue_scan::InstanceConfig,
    /// `-c DIR`, passed on to postconf, postsuper, postqueue.
    pub config_dir: Option<std::path::PathBuf>,
    /// False with `--queue-dir`: there is no Postfix configuration to ask.
    pub has_postfix_config: bool,
    /// The instance's name when several are worked on (`--all-instances`):
    /// every output line that names a message names it too.
    pub label: Option<String>,
}

/// Resolves the nonexistent-local-sender verdicts when `selection` needs
/// them: a first, envelope-only scan collects the distinct senders in our
/// domains, and each is looked up once, in batches, with Postfix's own
/// tools.
pub fn local_sender_check(
    target: &Target,
    queues: &[&'static str],
    selection: &Selection,
    quiet: bool,
) -> Result<Option<crate::local_sender::LocalSenderCheck>> {
    if !selection.needs().contains(Data::LOCAL_SENDER_CHECK) {
        return Ok(None);
    }
    anyhow::ensure!(
        target.has_postfix_config,
        "--nonexistent-local-sender asks Postfix which addresses exist: use -c CONFIG_DIR (or the default instance), not --queue-dir"
    );
    let mut check =
        crate::local_sender::LocalSenderCheck::from_postconf(target.config_dir.as_deref())?;
    struct Senders<'c, 'm> {
        check: &'c crate::local_sender::LocalSenderCheck,
        found: std::collections::HashSet<Vec<u8>>,
        all: &'m std::sync::Mutex<std::collections::HashSet<Vec<u8>>>,
    }
    impl queue_scan::Visitor for Senders<'_, '_> {
        fn message(&mut self, msg: &queue_scan::Message<'_>) {
            if let Some(sender) = msg.envelope.sender {
                let domain = crate::summary::domain_of(sender);
                if !domain.is_empty()
                    && !self.found.contains(sender)
                    && self.check.is_local_domain(&domain)
                {
                    self.found.insert(sender.to_vec());
                }
            }
        }
        fn error(&mut self, _: queue_scan::ScanError) {}
    }
    impl Drop for Senders<'_, '_> {
        fn drop(&mut self) {
            self.all
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(self.found.drain());
        }
    }
    let all = std::sync::Mutex::new(std::collections::HashSet::new());
    let options = queue_scan::ScanOptions {
        queues: queues.to_vec(),
        file_size_limit: queue_scan::DEFAULT_QUEUE_FILE_LIMIT,
        read: ReadPlan::default(),
    };
    queue_scan::scan(
        &target.instance.layout,
        &options,
        &queue_scan::ScanProgress::default(),
        || Senders {
            check: &check,
            found: Default::default(),
            all: &all,
        },
    );
    let senders = all.into_inner().unwrap_or_else(|e| e.into_inner());
    check.resolve(senders.iter().map(Vec::as_slice))?;
    if !quiet {
        eprintln!(
            "qsurgeon: {} distinct senders in our domains checked against:",
            senders.len()
        );
        for line in check.describe() {
            eprintln!("qsurgeon:   {line}");
        }
    }
    Ok(Some(check))
}
