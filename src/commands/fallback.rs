//! When the queue cannot be read: qsurgeon reads queue files directly,
//! which needs root (the queue directories are `postfix`'s, mode 0700).
//! Run as another user it says so in one line instead of reporting every
//! directory as unreadable, and `list` falls back to `postqueue -j`, which
//! any user may run because it asks Postfix's showq daemon.
//!
//! postqueue reports only the queue, ID, arrival time, size, forced-expiry
//! mark, sender and the to-do recipients with their delay reasons. In this
//! mode `list` prints mailq text (byte-identical to `postqueue -p`, because
//! it is the same data through the same formatter), `--json` (postqueue's
//! own lines, unchanged), `--ids` and `--count`; selection flags are
//! evaluated on postqueue's fields by implementing [`select::Fields`] for
//! its records. Anything that needs more (SASL user, client, headers, DSN
//! status, done recipients, CSV's columns, `--explain`) is refused with a
//! message naming the flag, rather than silently matching nothing.

use std::cmp::Ordering;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use postfix::postqueue::Record;
use printer::list::{self as output, Format, OutputConfig};
use printer::postqueue;
use query::postqueue::PostqueueView;
use queue_scan::QueueLayout;
use select::Selection;

use crate::cli::{ListArgs, SelectArgs, SortField};
use crate::config::Target;
use crate::exit::ExitStatus;
use crate::selection;
use crate::ui::sanitize::{for_stderr, Terminal};

/// The first of `queues` whose directory exists but may not be listed,
/// e.g. `/var/spool/postfix/deferred` for a user who is not root.
pub fn unreadable_queue(layout: &QueueLayout, queues: &[&str]) -> Option<PathBuf> {
    queues.iter().find_map(|queue| {
        let dir = layout.queue_dir().join(queue);
        match std::fs::read_dir(&dir) {
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Some(dir),
            _ => None,
        }
    })
}

/// The one line that says why nothing can be read.
fn denied(dir: &Path) -> String {
    format!(
        "cannot read the queue: {}: permission denied (qsurgeon reads queue files directly: run it as root)",
        dir.display()
    )
}

/// Checks that the queues `select` names (or showq's five) can be read;
/// otherwise the one-line error. For the commands that have no fallback.
pub fn ensure_readable(target: &Target, select: &SelectArgs) -> Result<()> {
    let queues = selection::queues(select)?;
    if let Some(dir) = unreadable_queue(&target.instance.layout, &queues) {
        bail!(
            "{} (only `list` can fall back to postqueue -j)",
            denied(&dir)
        );
    }
    Ok(())
}

/// Runs `list`: by reading the queue, or through `postqueue -j` when the
/// queue cannot be read.
pub fn list(target: &Target, args: &ListArgs) -> Result<ExitStatus> {
    let queues = selection::queues(&args.select)?;
    let Some(dir) = unreadable_queue(&target.instance.layout, &queues) else {
        return crate::commands::list::run(target, args);
    };
    if target.postfix.is_none() {
        // postqueue would list the default instance, not this directory.
        bail!(
            "{}; postqueue cannot stand in for --queue-dir",
            denied(&dir)
        );
    }
    let selection = selection::build(&args.select)?;
    refuse_unsupported(args, &selection, &queues)?;
    eprintln!(
        "qsurgeon: cannot read the queue ({}: permission denied): listing what postqueue -j reports instead",
        dir.display()
    );
    run_postqueue(target, args, &selection, &queues)
}

/// Refuses what postqueue's fields cannot answer, naming the flag or field.
fn refuse_unsupported(args: &ListArgs, selection: &Selection, queues: &[&str]) -> Result<()> {
    let why = |what: &str| {
        anyhow::anyhow!(
            "{what} needs the queue files, which only root can read; through postqueue -j a selection can test only {}", query::postqueue::AVAILABLE
        )
    };
    if args.csv {
        return Err(why("--csv (SASL user and client columns)"));
    }
    if args.with_headers {
        return Err(why("--with-headers"));
    }
    if args.explain.is_some() {
        return Err(why("--explain"));
    }
    if args.select.include_done {
        return Err(why("--include-done (delivered recipients)"));
    }
    if queues.contains(&"corrupt") {
        return Err(why("--queue corrupt (postqueue does not list it)"));
    }
    if let Some(expr) = selection.expr() {
        if let Some(what) = query::postqueue::first_unsupported(expr) {
            return Err(why(&what));
        }
    }
    Ok(())
}

/// `--sort` for records, as `list` sorts messages (then by ID).
fn compare(field: SortField, a: &Record, b: &Record) -> Ordering {
    let (x, y) = (&a.msg, &b.msg);
    let key = match field {
        SortField::Id => Ordering::Equal,
        SortField::Queue => x.queue_name.cmp(&y.queue_name),
        SortField::Arrival => x.arrival_time.cmp(&y.arrival_time),
        SortField::Size => x.message_size.cmp(&y.message_size),
        // The null sender sorts first, as the empty address it is.
        SortField::Sender => a.sender().cmp(b.sender()),
        SortField::Recipients => x.recipients.len().cmp(&y.recipients.len()),
    };
    key.then_with(|| x.queue_id.cmp(&y.queue_id))
}

/// Formats one selected record.
fn format_record(printer: &OutputConfig, record: &Record, out: &mut Vec<u8>) {
    match printer.format {
        Format::Mailq => {
            postqueue::mailq_message(&record.msg, printer.long_ids, out);
            out.push(b'\n');
        }
        Format::Json => {
            out.extend_from_slice(&record.raw);
            out.push(b'\n');
        }
        Format::Ids => {
            out.extend_from_slice(record.msg.queue_id.as_bytes());
            out.push(b'\n');
        }
        Format::IdsNul => {
            out.extend_from_slice(record.msg.queue_id.as_bytes());
            out.push(0);
        }
        // Refused before postqueue runs, or nothing per message.
        Format::Csv | Format::Count => {}
    }
}

/// Lists through `postqueue [-c DIR] -j`, streaming unless `--sort`.
fn run_postqueue(
    target: &Target,
    args: &ListArgs,
    selection: &Selection,
    queues: &[&str],
) -> Result<ExitStatus> {
    let format = Format::from(args);
    // Not labelled by instance: postqueue -j does not say which one it is.
    let printer = OutputConfig::new(format, &target.instance, false, None);
    let postfix = target
        .postfix
        .as_ref()
        .context("listing through postqueue needs the instance's configuration")?;
    let mut records = postfix.postqueue_json(&target.instance.empty_address_recipient)?;

    let ctx = select::Context::now();
    let term = Terminal::stdout();
    let mut stdout = std::io::stdout().lock();
    let mut buf = Vec::new();
    let mut sorted = Vec::new();
    let (mut selected, mut bytes) = (0u64, 0u64);
    let mut started = false;
    for record in records.by_ref() {
        let record = record?;
        if !queues.contains(&record.msg.queue_name.as_str())
            || !selection.matches(&PostqueueView(&record), &ctx)
        {
            continue;
        }
        if args.limit.is_some_and(|limit| selected >= limit) {
            // Keep reading so postqueue is not cut off mid-write.
            continue;
        }
        selected += 1;
        bytes += u64::try_from(record.msg.message_size).unwrap_or(0);
        if args.sort.is_some() {
            sorted.push(record);
            continue;
        }
        buf.clear();
        if !started {
            output::heading(&printer, &mut buf);
            started = true;
        }
        format_record(&printer, &record, &mut buf);
        stdout.write_all(&crate::commands::list::shown(term, format, &buf))?;
    }
    let listed = records.listed();
    for line in records.finish()? {
        eprintln!("qsurgeon: {}", for_stderr(&line));
    }
    buf.clear();
    if let Some(field) = args.sort {
        sorted.sort_by(|a, b| compare(field, a, b));
        if args.reverse {
            sorted.reverse();
        }
        if !sorted.is_empty() {
            output::heading(&printer, &mut buf);
        }
        for record in &sorted {
            format_record(&printer, record, &mut buf);
        }
    }
    output::footer(&printer, selected, bytes, &mut buf);
    stdout.write_all(&crate::commands::list::shown(term, format, &buf))?;
    stdout.flush()?;
    eprintln!("qsurgeon: {listed} messages listed by postqueue, {selected} selected");
    Ok(if selected == 0 {
        ExitStatus::NoMatch
    } else {
        ExitStatus::Success
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn testdata(name: &str) -> Vec<u8> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn demo_records() -> Vec<Record> {
        testdata("demo-queue.postqueue-j.out")
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| postfix::postqueue::parse_line(l, "MAILER-DAEMON").unwrap())
            .collect()
    }

    /// The mailq text made from postqueue -j's records is postqueue -p's,
    /// byte for byte (the demo queue's two outputs, same queue, same order).
    #[test]
    fn fallback_mailq_from_postqueue_json_equals_postqueue_p() {
        std::env::set_var("TZ", "UTC");
        let records = demo_records();
        let printer = OutputConfig::new(
            Format::Mailq,
            &queue_scan::InstanceConfig::with_defaults("/nonexistent"),
            false,
            None,
        );
        let mut out = Vec::new();
        output::heading(&printer, &mut out);
        let mut bytes = 0;
        for r in &records {
            format_record(&printer, r, &mut out);
            bytes += r.msg.message_size as u64;
        }
        output::footer(&printer, records.len() as u64, bytes, &mut out);
        let want = testdata("demo-queue.postqueue-p.out");
        assert_eq!(
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&want)
        );
        assert_eq!(out, want);
    }

    fn select(args: &[&str]) -> Selection {
        use clap::Parser;
        let mut argv = vec!["qsurgeon", "list"];
        argv.extend_from_slice(args);
        let opts = crate::cli::Opts::try_parse_from(argv).unwrap();
        let crate::cli::Command::List(list) = opts.command else {
            panic!("not list")
        };
        selection::build(&list.select).unwrap()
    }

    #[test]
    fn fallback_selection_runs_on_postqueue_fields() {
        let records = demo_records();
        let ctx = select::Context::at(1_795_365_044 + 3600);
        let count = |args: &[&str]| {
            let sel = select(args);
            assert_eq!(
                query::postqueue::first_unsupported(sel.expr().unwrap()),
                None,
                "{args:?}"
            );
            records
                .iter()
                .filter(|r| sel.matches(&PostqueueView(r), &ctx))
                .count()
        };
        assert_eq!(count(&["--queue", "hold"]), 2);
        assert_eq!(count(&["--null-sender"]), 1);
        assert_eq!(count(&["--sender", "<>"]), 1);
        assert_eq!(count(&["--recipient-domain", "greylist.example"]), 8);
        assert_eq!(count(&["--reason", "Greylisted"]), 8);
        assert_eq!(
            count(&[
                "--sender-domain",
                "ourdomain.example",
                "--queue",
                "deferred"
            ]),
            25
        );
        assert_eq!(
            count(&["--where", "age > 30m and size > 100B"]),
            records.len()
        );
        assert_eq!(count(&["--where", "age > 2h"]), 0);
        assert_eq!(count(&["--id", &records[0].msg.queue_id.clone()]), 1);
    }

    #[test]
    fn fallback_refuses_what_postqueue_does_not_report() {
        for (args, what) in [
            (&["--sasl-user", "mallory"][..], "sasl_user"),
            (&["--client", "192.0.2.0/24"], "client"),
            (&["--header", "Subject~x"], "header.subject"),
            (&["--dsn-status", "4.7.1"], "dsn_status"),
            (&["--nonexistent-local-sender"], "nonexistent_local_sender"),
            (&["--where", "sender = a@b or helo = x"], "helo"),
            (&["--recipient", "x@y", "--include-done"], "recipient"),
            // postqueue -j lists neither done recipients nor duplicates.
            (&["--min-recipients", "2"], "recipients"),
            (&["--where", "todo_recipients > 1"], "todo_recipients"),
        ] {
            let sel = select(args);
            let found = query::postqueue::first_unsupported(sel.expr().unwrap());
            assert!(
                found.as_deref().is_some_and(|f| f.contains(what)),
                "{args:?}: {found:?}"
            );
        }
    }
}
