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
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{bail, Context, Result};
use queue_file::showq::{Reason, ReasonKind};
use queue_file::{ShowqMessage, ShowqRecipient};
use queue_scan::QueueLayout;
use select::{Attribute, Expr, Field, Fields, Flag, RecipientState, Scope, Selection};
use serde_json::Value;

use crate::cli::{ListArgs, SelectArgs, SortField};
use crate::output::{postqueue, Format};
use crate::sanitize::{for_stderr, Terminal};
use crate::selection::{self, Target};

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
pub fn list(target: &Target, args: &ListArgs) -> Result<ExitCode> {
    let queues = selection::queues(&args.select)?;
    let Some(dir) = unreadable_queue(&target.instance.layout, &queues) else {
        return crate::list::run(target, args);
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

/// What postqueue -j lets a selection test, for the refusal message.
const AVAILABLE: &str = "queue, id, sender, sender_domain, recipient, recipient_domain, reason, age, size, arrival, forced_expired, null_sender";

/// Refuses what postqueue's fields cannot answer, naming the flag or field.
fn refuse_unsupported(args: &ListArgs, selection: &Selection, queues: &[&str]) -> Result<()> {
    let why = |what: &str| {
        anyhow::anyhow!(
            "{what} needs the queue files, which only root can read; through postqueue -j a selection can test only {AVAILABLE}"
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
        if let Some(what) = first_unsupported(expr) {
            return Err(why(&what));
        }
    }
    Ok(())
}

/// The first test of `expr` that postqueue's fields cannot answer, named
/// as in `--where` (the flags compile to the same fields).
fn first_unsupported(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Or(v) | Expr::And(v) => v.iter().find_map(first_unsupported),
        Expr::Not(e) => first_unsupported(e),
        Expr::Test(test) => {
            if let Some(flag) = test.flag() {
                return match flag {
                    Flag::ForcedExpired | Flag::NullSender => None,
                    Flag::NonexistentLocalSender => {
                        Some(format!("{} (the sender check)", flag.name()))
                    }
                };
            }
            let attr = test.attribute()?;
            let supported = matches!(
                attr,
                Attribute::Queue
                    | Attribute::Id
                    | Attribute::Sender
                    | Attribute::SenderDomain
                    | Attribute::Recipient(Scope::Todo)
                    | Attribute::RecipientDomain(Scope::Todo)
                    | Attribute::Reason
                    | Attribute::Age
                    | Attribute::Size
                    | Attribute::Arrival
            );
            (!supported).then(|| format!("a test on {}", attr.name()))
        }
    }
}

/// One line of `postqueue -j`: the line itself (for `--json`) and what it
/// says, as showq sent it (the same type the mailq formatter takes).
#[derive(Debug)]
pub struct Record {
    /// The line, without its newline.
    pub raw: Vec<u8>,
    /// The message.
    pub msg: ShowqMessage,
    /// The sender was `empty_address_recipient` (postqueue's spelling of
    /// the null sender, `MAILER-DAEMON` by default).
    pub null_sender: bool,
}

/// Parses one `postqueue -j` line. Bytes that are not UTF-8 (postqueue
/// passes some through) become U+FFFD in the parsed fields; `raw` keeps
/// them.
pub fn parse_line(line: &[u8], empty_address: &str) -> Result<Record> {
    let text = String::from_utf8_lossy(line);
    let v: Value = serde_json::from_str(&text).context("not a JSON object")?;
    let string = |v: &Value, key: &str| -> Result<String> {
        v.get(key)
            .and_then(Value::as_str)
            .map(str::to_string)
            .with_context(|| format!("no string member {key:?}"))
    };
    let number = |key: &str| -> Result<i64> {
        v.get(key)
            .and_then(Value::as_i64)
            .with_context(|| format!("no number member {key:?}"))
    };
    let mut recipients = Vec::new();
    for r in v
        .get("recipients")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let reason = |key: &str, kind: ReasonKind| {
            r.get(key).and_then(Value::as_str).map(|text| Reason {
                kind,
                text: text.as_bytes().to_vec(),
                status: Vec::new(),
            })
        };
        recipients.push(ShowqRecipient {
            address: string(r, "address")?.into_bytes(),
            orig_address: r
                .get("orig_address")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .as_bytes()
                .to_vec(),
            reason: reason("delay_reason", ReasonKind::Defer)
                .or_else(|| reason("bounce_reason", ReasonKind::Bounce)),
        });
    }
    let sender = string(&v, "sender")?;
    Ok(Record {
        raw: line.to_vec(),
        null_sender: sender == empty_address,
        msg: ShowqMessage {
            queue_name: string(&v, "queue_name")?,
            queue_id: string(&v, "queue_id")?,
            arrival_time: number("arrival_time")?,
            message_size: number("message_size")?,
            // Absent before Postfix 3.5.
            forced_expire: v
                .get("forced_expire")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            sender: sender.into_bytes(),
            recipients,
        },
    })
}

impl Record {
    /// The sender as `list --sort sender` orders it.
    fn sort_sender(&self) -> &[u8] {
        if self.null_sender {
            b""
        } else {
            &self.msg.sender
        }
    }
}

/// A postqueue record as the selection sees it. Only the fields postqueue
/// reports have values; [`refuse_unsupported`] keeps selections from
/// asking for others.
impl Fields for Record {
    fn any_text(&self, field: Field<'_>, visit: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        let msg = &self.msg;
        match field {
            Field::Queue => visit(msg.queue_name.as_bytes()),
            Field::Id => visit(msg.queue_id.as_bytes()),
            // The selection knows the null sender as the empty address.
            Field::Sender if self.null_sender => visit(b""),
            Field::Sender => visit(&msg.sender),
            Field::Recipient(RecipientState::Todo) => {
                msg.recipients.iter().any(|r| visit(&r.address))
            }
            Field::Reason => msg
                .recipients
                .iter()
                .filter_map(|r| r.reason.as_ref())
                .any(|r| visit(&r.text)),
            _ => false,
        }
    }

    fn number(&self, field: Field<'_>) -> Option<i64> {
        match field {
            Field::Size => Some(self.msg.message_size),
            Field::Arrival => Some(self.msg.arrival_time),
            _ => None,
        }
    }

    fn flag(&self, field: Field<'_>) -> bool {
        matches!(field, Field::ForcedExpired) && self.msg.forced_expire
    }
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
        SortField::Sender => a.sort_sender().cmp(b.sort_sender()),
        SortField::Recipients => x.recipients.len().cmp(&y.recipients.len()),
    };
    key.then_with(|| x.queue_id.cmp(&y.queue_id))
}

/// How the records are printed: the format and mailq's layout.
#[derive(Clone, Copy)]
struct Printer {
    format: Format,
    /// mailq's wide layout (`enable_long_queue_ids`).
    long_ids: bool,
}

impl Printer {
    /// What goes before the first message: mailq's heading line.
    fn heading(self, out: &mut Vec<u8>) {
        if self.format == Format::Mailq {
            postqueue::mailq_heading(self.long_ids, out);
        }
    }

    /// What goes after the last message, as `list` ends it.
    fn footer(self, selected: u64, bytes: u64, out: &mut Vec<u8>) {
        match self.format {
            Format::Count => out.extend_from_slice(format!("{selected}\n").as_bytes()),
            Format::Mailq => {
                let start = out.len();
                postqueue::mailq_footer(selected, bytes, out);
                // Each message block already ends with the blank line that
                // the footer starts with.
                if selected > 0 && out.get(start) == Some(&b'\n') {
                    out.remove(start);
                }
            }
            _ => {}
        }
    }
}

/// Formats one selected record.
fn format_record(printer: Printer, record: &Record, out: &mut Vec<u8>) {
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
) -> Result<ExitCode> {
    let format = Format::from_args(args);
    let printer = Printer {
        format,
        long_ids: target.instance.long_queue_ids,
    };
    let empty_address = target.instance.empty_address_recipient.clone();
    let postfix = target
        .postfix
        .as_ref()
        .context("listing through postqueue needs the instance's configuration")?;
    let program = postfix.postqueue();
    let mut cmd = Command::new(&program);
    cmd.args(postfix.config_args())
        .arg("-j")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot run {} -j", program.display()))?;
    // Drained on the side, so a chatty stderr cannot block postqueue.
    let mut child_stderr = child.stderr.take();
    let stderr_reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        if let Some(err) = child_stderr.as_mut() {
            let _ = err.read_to_end(&mut text);
        }
        text
    });
    let child_stdout = child.stdout.take().context("postqueue's output")?;

    let ctx = select::Context::now();
    let term = Terminal::stdout();
    let mut stdout = std::io::stdout().lock();
    let mut buf = Vec::new();
    let mut sorted = Vec::new();
    let (mut listed, mut selected, mut bytes) = (0u64, 0u64, 0u64);
    let mut started = false;
    for line in BufReader::new(child_stdout).split(b'\n') {
        let line = line.context("read postqueue's output")?;
        if line.is_empty() {
            continue;
        }
        listed += 1;
        let record = parse_line(&line, &empty_address).with_context(|| {
            format!(
                "postqueue -j line {listed}: {}",
                String::from_utf8_lossy(&line)
            )
        })?;
        if !queues.contains(&record.msg.queue_name.as_str()) || !selection.matches(&record, &ctx) {
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
            printer.heading(&mut buf);
            started = true;
        }
        format_record(printer, &record, &mut buf);
        stdout.write_all(&crate::list::shown(term, format, &buf))?;
    }
    let status = child.wait().context("wait for postqueue")?;
    let err_text = stderr_reader.join().unwrap_or_default();
    let err_text = String::from_utf8_lossy(&err_text);
    if !status.success() {
        bail!(
            "{} -j failed ({status}): {}",
            program.display(),
            err_text.trim()
        );
    }
    for line in err_text.lines().filter(|l| !l.trim().is_empty()) {
        eprintln!("qsurgeon: {}", for_stderr(line));
    }
    buf.clear();
    if let Some(field) = args.sort {
        sorted.sort_by(|a, b| compare(field, a, b));
        if args.reverse {
            sorted.reverse();
        }
        if !sorted.is_empty() {
            printer.heading(&mut buf);
        }
        for record in &sorted {
            format_record(printer, record, &mut buf);
        }
    }
    printer.footer(selected, bytes, &mut buf);
    stdout.write_all(&crate::list::shown(term, format, &buf))?;
    stdout.flush()?;
    eprintln!("qsurgeon: {listed} messages listed by postqueue, {selected} selected");
    Ok(if selected == 0 {
        ExitCode::from(crate::list::EXIT_NO_MATCH)
    } else {
        ExitCode::SUCCESS
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
            .map(|l| parse_line(l, "MAILER-DAEMON").unwrap())
            .collect()
    }

    /// The mailq text made from postqueue -j's records is postqueue -p's,
    /// byte for byte (the demo queue's two outputs, same queue, same order).
    #[test]
    fn fallback_mailq_from_postqueue_json_equals_postqueue_p() {
        std::env::set_var("TZ", "UTC");
        let records = demo_records();
        let printer = Printer {
            format: Format::Mailq,
            long_ids: false,
        };
        let mut out = Vec::new();
        printer.heading(&mut out);
        let mut bytes = 0;
        for r in &records {
            format_record(printer, r, &mut out);
            bytes += r.msg.message_size as u64;
        }
        printer.footer(records.len() as u64, bytes, &mut out);
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
            assert_eq!(first_unsupported(sel.expr().unwrap()), None, "{args:?}");
            records.iter().filter(|r| sel.matches(*r, &ctx)).count()
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
        ] {
            let sel = select(args);
            let found = first_unsupported(sel.expr().unwrap());
            assert!(
                found.as_deref().is_some_and(|f| f.contains(what)),
                "{args:?}: {found:?}"
            );
        }
    }

    #[test]
    fn fallback_parses_311_members_and_keeps_the_raw_line() {
        let line = br#"{"queue_name": "deferred", "queue_id": "ABC123", "arrival_time": 5, "message_size": 10, "forced_expire": true, "sender": "MAILER-DAEMON", "recipients": [{"orig_address": "o@x", "address": "a@x", "bounce_reason": "gone"}, {"orig_address": "", "address": "b@x"}]}"#;
        let r = parse_line(line, "MAILER-DAEMON").unwrap();
        assert!(r.null_sender && r.msg.forced_expire);
        assert_eq!(r.raw, line);
        assert_eq!(r.msg.recipients[0].orig_address, b"o@x");
        assert_eq!(
            r.msg.recipients[0].reason.as_ref().map(|r| r.kind),
            Some(ReasonKind::Bounce)
        );
        assert!(r.msg.recipients[1].reason.is_none());
        assert!(parse_line(b"{\"queue_name\": 1}", "MAILER-DAEMON").is_err());
    }
}
