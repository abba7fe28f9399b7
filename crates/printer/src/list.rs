//! `list`'s output formats: mailq text, `postqueue -j` JSON lines with
//! richer members, queue IDs (newline- or NUL-ended), CSV and a count.
//!
//! Each message is formatted as one whole block appended to a byte
//! buffer, so blocks formatted by parallel scan workers never interleave;
//! the caller decides where the bytes go and how a terminal sees them.
//! mailq text and the `postqueue -j` members come from [`crate::postqueue`]
//! fed with what showq would report for the file
//! (`queue_file::showq`, after Postfix's `src/showq/showq.c`), so they
//! match `postqueue -p` and `postqueue -j` byte for byte.
//!
//! # Example
//!
//! ```
//! use printer::list::{footer, format_message, heading, Format, OutputConfig, Scratch};
//! use queue_file::{Envelope, FileView, QueueFileBuilder};
//! use queue_scan::{FileInfo, InstanceConfig, Message};
//!
//! let file = QueueFileBuilder::new(b"alice@example.org", 1_700_000_000)
//!     .recipient(b"bob@example.net")
//!     .build();
//! let envelope = Envelope::decode(FileView::whole(&file))?;
//! let msg = Message {
//!     queue: "active",
//!     id: "4ABC123DEF",
//!     position: 0,
//!     path: std::path::Path::new("active/4ABC123DEF"),
//!     info: FileInfo { size: file.len() as u64, mode: 0o100700, mtime: 1_700_000_000, inode: 1, device: 1 },
//!     envelope: &envelope,
//!     headers: None,
//!     defer_log: None,
//!     defer_entries: None,
//!     view: FileView::whole(&file),
//! };
//! let config = OutputConfig::new(Format::Csv, &InstanceConfig::with_defaults("/nonexistent"), false, None);
//! let mut scratch = Scratch::new(&config);
//! let mut out = Vec::new();
//! heading(&config, &mut out);
//! format_message(&config, &msg, &mut scratch, &mut out);
//! footer(&config, 1, msg.message_size(), &mut out);
//! let text = String::from_utf8(out)?;
//! assert!(text.ends_with("\nactive,4ABC123DEF,1700000000,0,alice@example.org,,,bob@example.net,1,1\n"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use queue_file::showq::{Showq, ShowqInput, ShowqMessage, ShowqOptions};
use queue_scan::{InstanceConfig, Message, ReadPlan};
use serde_json::Value;

use crate::json::string_or_bytes;
use crate::postqueue;

/// An output format of `list`; the command line maps its flags to one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `postqueue -p` / mailq text.
    Mailq,
    /// `postqueue -j` JSON lines with extra members.
    Json,
    /// Queue IDs, one per line.
    Ids,
    /// Queue IDs, NUL-terminated.
    IdsNul,
    /// CSV with a header line.
    Csv,
    /// Only the count.
    Count,
}

/// How to format: the format and the instance settings it depends on.
#[derive(Clone, Debug)]
pub struct OutputConfig {
    /// The format.
    pub format: Format,
    /// mailq's wide layout (`enable_long_queue_ids`).
    pub long_ids: bool,
    /// What showq would print (`smtputf8_enable`, `empty_address_recipient`…).
    pub showq: ShowqOptions,
    /// `--json` also carries subject and message_id.
    pub with_headers: bool,
    /// The instance's name, when several instances are listed.
    pub instance: Option<String>,
}

impl OutputConfig {
    /// The output settings for `format` on `instance`.
    pub fn new(
        format: Format,
        instance: &InstanceConfig,
        with_headers: bool,
        label: Option<String>,
    ) -> OutputConfig {
        OutputConfig {
            format,
            long_ids: instance.long_queue_ids,
            showq: ShowqOptions {
                smtputf8: instance.smtputf8,
                empty_address: instance.empty_address_recipient.as_bytes().to_vec(),
                dup_filter_limit: instance.duplicate_filter_limit,
                ..ShowqOptions::default()
            },
            with_headers,
            instance: label,
        }
    }
}

/// Per-worker formatting state.
pub struct Scratch {
    showq: Showq,
    /// The report being formatted, its buffers reused message to message.
    report: ShowqMessage,
    /// One JSON member's value, reused.
    json: Vec<u8>,
    /// The DSN statuses of one message, reused.
    keys: query::KeyList,
}

impl Scratch {
    /// Formatting state for `config`.
    pub fn new(config: &OutputConfig) -> Scratch {
        Scratch {
            showq: Showq::new(config.showq.clone()),
            report: ShowqMessage::default(),
            json: Vec::new(),
            keys: query::KeyList::new(),
        }
    }

    /// What showq would report for `msg`, in [`Scratch::report`] (false for
    /// a message without a sender record, which showq does not list).
    fn showq_report(&mut self, msg: &Message<'_>) -> bool {
        let input = ShowqInput {
            queue_name: msg.queue,
            queue_id: msg.id,
            file_size: msg.info.size as i64,
            mode: msg.info.mode,
            mtime: msg.info.mtime,
            defer_log: msg.defer_log,
            // The scan parsed it as smtputf8_enable = yes does.
            defer_parsed: msg.defer_entries.filter(|_| self.showq.options().smtputf8),
            bounce_log: None,
        };
        // Reading the records as showq does also covers files that the
        // envelope decoder judged damaged; fall back to the envelope when
        // the partial view lacks bytes showq's reading order needs.
        match self
            .showq
            .report_file_into(msg.view, &input, &mut self.report)
        {
            Ok(listed) => listed,
            Err(_) => self
                .showq
                .report_envelope_into(msg.envelope, &input, &mut self.report),
        }
    }
}

/// What a format needs read beyond the envelope.
pub fn read_plan(format: Format, with_headers: bool) -> ReadPlan {
    match format {
        Format::Mailq | Format::Json => ReadPlan {
            headers: with_headers,
            defer_log: true,
        },
        Format::Csv => ReadPlan {
            headers: false,
            defer_log: false,
        },
        Format::Ids | Format::IdsNul | Format::Count => ReadPlan::default(),
    }
}

/// What goes before the first message.
pub fn heading(config: &OutputConfig, out: &mut Vec<u8>) {
    if let (Some(name), Format::Mailq) = (&config.instance, config.format) {
        out.extend_from_slice(format!("# instance {name}\n").as_bytes());
    }
    if let (Some(_), Format::Csv) = (&config.instance, config.format) {
        out.extend_from_slice(b"instance,");
    }
    match config.format {
        Format::Csv => out.extend_from_slice(
            b"queue,queue_id,arrival_time,message_size,sender,sasl_username,client_address,recipients,recipient_count,todo_recipient_count\n",
        ),
        Format::Mailq => postqueue::mailq_heading(config.long_ids, out),
        _ => {}
    }
}

/// Formats one message.
pub fn format_message(
    config: &OutputConfig,
    msg: &Message<'_>,
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
) {
    match config.format {
        Format::Ids | Format::IdsNul | Format::Csv => {
            if let Some(name) = &config.instance {
                out.extend_from_slice(name.as_bytes());
                out.push(if config.format == Format::Csv {
                    b','
                } else {
                    b'\t'
                });
            }
            match config.format {
                Format::Csv => csv_line(msg, out),
                Format::Ids => {
                    out.extend_from_slice(msg.id.as_bytes());
                    out.push(b'\n');
                }
                _ => {
                    out.extend_from_slice(msg.id.as_bytes());
                    out.push(0);
                }
            }
        }
        Format::Count => {}
        Format::Mailq => {
            if scratch.showq_report(msg) {
                postqueue::mailq_message(&scratch.report, config.long_ids, out);
                // The blank line that separates messages (and the last one
                // from the footer).
                out.push(b'\n');
            }
        }
        Format::Json => {
            if scratch.showq_report(msg) {
                postqueue::write_json_line_with(
                    &scratch.report,
                    postqueue::JsonFlavor::Postfix37,
                    out,
                    |members| {
                        if let Some(name) = &config.instance {
                            members.value("instance", &Value::from(name.as_str()));
                        }
                        write_extra_members(
                            msg,
                            config.with_headers,
                            members,
                            &mut scratch.json,
                            &mut scratch.keys,
                        );
                    },
                );
            }
        }
    }
}

/// Appends `bytes` as a JSON value: a string when they are UTF-8, else
/// `{"bytes": base64}`; `null` for `None`. Exact, unlike postqueue's
/// `printable()` strings.
fn push_json_text(value: Option<&[u8]>, out: &mut Vec<u8>) {
    match value {
        None => out.extend_from_slice(b"null"),
        Some(bytes) => match std::str::from_utf8(bytes) {
            // Writing into a Vec cannot fail.
            Ok(text) => {
                let _ = serde_json::to_writer(&mut *out, text);
            }
            Err(_) => {
                let _ = serde_json::to_writer(&mut *out, &string_or_bytes(bytes));
            }
        },
    }
}

/// Appends the recipients in `state` as a JSON array.
fn push_recipients(msg: &Message<'_>, state: queue_file::RecipientState, out: &mut Vec<u8>) {
    out.push(b'[');
    let mut first = true;
    for r in msg.envelope.recipients.iter().filter(|r| r.state == state) {
        if !first {
            out.push(b',');
        }
        first = false;
        out.extend_from_slice(b"{\"address\":");
        push_json_text(Some(r.address), out);
        out.extend_from_slice(b",\"dsn_orig_rcpt\":");
        push_json_text(r.dsn_orig_rcpt, out);
        out.extend_from_slice(b",\"notify_flags\":");
        match r.notify_flags {
            Some(n) => out.extend_from_slice(n.to_string().as_bytes()),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"original\":");
        push_json_text(r.original, out);
        out.push(b'}');
    }
    out.push(b']');
}

/// Writes `list --json`'s members after postqueue's, straight into the
/// line (no JSON values built per message): exact values, JSON strings or
/// `{"bytes": base64}` where the queue file holds non-UTF-8 bytes.
fn write_extra_members(
    msg: &Message<'_>,
    with_headers: bool,
    members: &mut postqueue::JsonMembers<'_>,
    value: &mut Vec<u8>,
    keys: &mut query::KeyList,
) {
    let env = msg.envelope;
    let mut member = |key: &str, write: &dyn Fn(&mut Vec<u8>)| {
        value.clear();
        write(value);
        members.raw(key, value);
    };
    member("sender_raw", &|out| push_json_text(env.sender, out));
    member("sasl_username", &|out| {
        push_json_text(env.sasl_username(), out)
    });
    member("sasl_method", &|out| {
        push_json_text(env.attribute(b"sasl_method"), out)
    });
    member("client_address", &|out| {
        push_json_text(env.client_address(), out)
    });
    member("client_name", &|out| push_json_text(env.client_name(), out));
    member("helo_name", &|out| push_json_text(env.helo_name(), out));
    member("create_time", &|out| match env.create_time {
        Some(t) => out.extend_from_slice(t.to_string().as_bytes()),
        None => out.extend_from_slice(b"null"),
    });
    member("todo_recipients", &|out| {
        push_recipients(msg, queue_file::RecipientState::Todo, out)
    });
    member("done_recipients", &|out| {
        push_recipients(msg, queue_file::RecipientState::Done, out)
    });
    // Counts as `--where 'recipients > N'` and `todo_recipients` see them
    // (`recipient_count` is Postfix's nrcpt: to do, done and canceled).
    let view = query::MessageView::new(msg, None);
    member("recipient_count", &|out| {
        out.extend_from_slice(view.recipient_count().to_string().as_bytes())
    });
    member("todo_recipient_count", &|out| {
        out.extend_from_slice(view.todo_recipient_count().to_string().as_bytes())
    });
    member("file_mtime", &|out| {
        out.extend_from_slice(msg.info.mtime.to_string().as_bytes())
    });
    if msg.defer_log.is_some() {
        // The statuses as Postfix reads the log (and as `--dsn-status`
        // and `summary --by dsn-status` see them), each once.
        query::Dimension::DsnStatus.keys(&query::MessageView::new(msg, None), keys);
        member("dsn_status", &|out| {
            out.push(b'[');
            for (i, status) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                push_json_text(Some(status), out);
            }
            out.push(b']');
        });
    }
    if with_headers {
        let header = |name: &[u8]| {
            msg.headers
                .and_then(|h| h.get(name))
                .map(|v| v.trim_ascii_start())
        };
        member("subject", &|out| push_json_text(header(b"subject"), out));
        member("message_id", &|out| {
            push_json_text(header(b"message-id"), out)
        });
    }
}

/// What goes after the last message.
pub fn footer(config: &OutputConfig, selected: u64, bytes: u64, out: &mut Vec<u8>) {
    match config.format {
        Format::Count => out.extend_from_slice(format!("{selected}\n").as_bytes()),
        Format::Mailq => {
            let start = out.len();
            postqueue::mailq_footer(selected, bytes, out);
            // The blank line before "-- N Kbytes" already ends the last block.
            if selected > 0 && out[start] == b'\n' {
                out.remove(start);
            }
        }
        _ => {}
    }
}

/// Appends `field` as a CSV field (RFC 4180 quoting when needed).
fn csv_field(field: &[u8], out: &mut Vec<u8>) {
    if field
        .iter()
        .any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
    {
        out.push(b'"');
        for &b in field {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(field);
    }
}

fn csv_line(msg: &Message<'_>, out: &mut Vec<u8>) {
    let env = msg.envelope;
    csv_field(msg.queue.as_bytes(), out);
    out.push(b',');
    csv_field(msg.id.as_bytes(), out);
    out.extend_from_slice(format!(",{},{},", msg.arrival_time(), msg.message_size()).as_bytes());
    csv_field(env.sender.unwrap_or_default(), out);
    out.push(b',');
    csv_field(env.sasl_username().unwrap_or_default(), out);
    out.push(b',');
    csv_field(env.client_address().unwrap_or_default(), out);
    out.push(b',');
    let mut rcpts = Vec::new();
    for (i, r) in env.todo_recipients().enumerate() {
        if i > 0 {
            rcpts.push(b' ');
        }
        rcpts.extend_from_slice(r.address);
    }
    csv_field(&rcpts, out);
    // The counts last, so the columns before them stay where they were.
    let view = query::MessageView::new(msg, None);
    out.extend_from_slice(
        format!(
            ",{},{}\n",
            view.recipient_count(),
            view.todo_recipient_count()
        )
        .as_bytes(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use queue_file::{Envelope, FileView, Headers, QueueFileBuilder};
    use queue_scan::FileInfo;
    use std::path::{Path, PathBuf};

    fn samples() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/postfix-samples")
    }

    fn read(name: &str) -> Vec<u8> {
        let path = samples().join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// The instance the samples' `postqueue -p` ran on: Postfix's defaults
    /// with `enable_long_queue_ids = yes`.
    fn instance() -> InstanceConfig {
        InstanceConfig {
            long_queue_ids: true,
            ..InstanceConfig::with_defaults("/nonexistent")
        }
    }

    /// Formats `file` (in `queue`, with `mode` and `defer_log`) as
    /// `config` says, headers read as a scan with `--with-headers` would.
    fn format(
        config: &OutputConfig,
        id: &str,
        file: &[u8],
        mode: u32,
        defer_log: Option<&[u8]>,
    ) -> Vec<u8> {
        let view = FileView::whole(file);
        let envelope = Envelope::decode(view).unwrap();
        let mut headers = Headers::new();
        headers.read(view, envelope.content_offset).unwrap();
        let entries = defer_log.map(|log| {
            let mut entries = queue_file::BounceLog::new();
            entries.parse_into(log, queue_file::LogKind::Defer, true);
            entries
        });
        let msg = Message {
            queue: "deferred",
            id,
            position: 0,
            path: Path::new(id),
            info: FileInfo {
                size: file.len() as u64,
                mode,
                mtime: 1,
                inode: 1,
                device: 1,
            },
            envelope: &envelope,
            headers: config.with_headers.then_some(&headers),
            defer_log,
            defer_entries: entries.as_ref(),
            view,
        };
        let mut out = Vec::new();
        format_message(config, &msg, &mut Scratch::new(config), &mut out);
        out
    }

    fn lines(bytes: &[u8]) -> Vec<&str> {
        std::str::from_utf8(bytes).unwrap().lines().collect()
    }

    /// A real deferred, force-expired message: its mailq block is
    /// `postqueue -p`'s block for it, byte for byte.
    #[test]
    fn mailq_block_of_a_real_message_is_postqueue_p_block() {
        std::env::set_var("TZ", "UTC");
        let config = OutputConfig::new(Format::Mailq, &instance(), false, None);
        let file = read("A45E798E3F5.smtp-sasl-dsn-longheader");
        let log = read("A45E798E3F5.defer-log");
        let got = format(&config, "A45E798E3F5", &file, 0o100710, Some(&log));
        let want = read("postqueue-p.out");
        let want = lines(&want);
        let start = want
            .iter()
            .position(|l| l.starts_with("A45E798E3F5"))
            .unwrap();
        let end = start + want[start..].iter().position(|l| l.is_empty()).unwrap();
        assert_eq!(lines(&got), &want[start..=end]);
        assert!(got.ends_with(b"user2@remote.example\n\n"));
    }

    /// `--json`: postqueue -j's members for a real message, byte for byte,
    /// then the exact members postqueue does not have.
    #[test]
    fn json_line_is_postqueue_j_line_plus_exact_members() {
        let config = OutputConfig::new(Format::Json, &instance(), true, Some("mx1".into()));
        let file = read("A45E798E3F5.smtp-sasl-dsn-longheader");
        let log = read("A45E798E3F5.defer-log");
        let got = format(&config, "A45E798E3F5", &file, 0o100710, Some(&log));
        let postqueue_j = read("postqueue-j.out");
        let want = lines(&postqueue_j)
            .into_iter()
            .find(|l| l.contains("\"A45E798E3F5\""))
            .unwrap();
        let got_text = std::str::from_utf8(&got).unwrap();
        assert!(got_text.ends_with("}\n"), "{got_text}");
        assert!(
            got_text.starts_with(want.strip_suffix('}').unwrap()),
            "{got_text}\nwant prefix {want}"
        );
        let doc: Value = serde_json::from_str(got_text).unwrap();
        assert_eq!(doc["instance"], "mx1");
        assert_eq!(doc["sender_raw"], "bob@sender.example");
        assert_eq!(doc["sasl_username"], "alice@example.org");
        assert_eq!(doc["sasl_method"], "XCLIENT");
        assert_eq!(doc["client_address"], "192.0.2.10");
        assert_eq!(doc["client_name"], "mx.sender.example");
        assert_eq!(doc["helo_name"], "client.example.net");
        assert_eq!(doc["dsn_status"], serde_json::json!(["4.4.1"]));
        assert_eq!(doc["subject"], "test one");
        assert_eq!(
            doc["message_id"],
            "<20261122145529.A45E798E3F5@pftest.example>"
        );
        assert_eq!(doc["file_mtime"], 1);
        assert_eq!(doc["done_recipients"], serde_json::json!([]));
        assert_eq!(
            doc["todo_recipients"][0],
            serde_json::json!({
                "address": "user1@remote.example",
                "dsn_orig_rcpt": "rfc822;orig1@remote.example",
                "notify_flags": 6,
                "original": "user1@remote.example",
            })
        );
        assert_eq!(doc["todo_recipients"].as_array().unwrap().len(), 2);
        assert_eq!(doc["recipient_count"], 2);
        assert_eq!(doc["todo_recipient_count"], 2);
    }

    /// Bytes that are not UTF-8 stay exact in the extra members.
    #[test]
    fn json_members_keep_non_utf8_bytes_as_base64() {
        let config = OutputConfig::new(Format::Json, &instance(), false, None);
        let file = QueueFileBuilder::new(b"caf\xe9@example.org", 1_700_000_000)
            .recipient(b"bob@example.net")
            .build();
        let got = format(&config, "4ABC123DEF", &file, 0o100700, None);
        let doc: Value = serde_json::from_slice(&got).unwrap();
        assert_eq!(
            doc["sender_raw"],
            serde_json::json!({"bytes": "Y2Fm6UBleGFtcGxlLm9yZw=="})
        );
        assert_eq!(doc["sasl_username"], Value::Null);
        assert!(doc.get("subject").is_none() && doc.get("dsn_status").is_none());
    }

    /// CSV quotes fields as RFC 4180 says and lists only to-do recipients;
    /// the instance comes first when several are listed.
    #[test]
    fn csv_quotes_fields_and_leads_with_the_instance() {
        let config = OutputConfig::new(Format::Csv, &instance(), false, Some("mx1".into()));
        let file = QueueFileBuilder::new(b"\"a,b\"@example.org", 1_700_000_000)
            .recipient(b"x@example.net")
            .recipient_full(queue_file::write::BuilderRecipient {
                address: b"done@example.net".to_vec(),
                original: None,
                notify_flags: 0,
                dsn_orig_rcpt: None,
                done: true,
            })
            .recipient(b"y@example.net")
            .build();
        let mut out = Vec::new();
        heading(&config, &mut out);
        out.extend(format(&config, "4ABC123DEF", &file, 0o100700, None));
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "instance,queue,queue_id,arrival_time,message_size,sender,sasl_username,client_address,recipients,recipient_count,todo_recipient_count"
        );
        let size = lines[1].split(',').nth(4).unwrap();
        assert_eq!(
            lines[1],
            format!(
                "mx1,deferred,4ABC123DEF,1700000000,{size},\"\"\"a,b\"\"@example.org\",,,x@example.net y@example.net,3,2"
            )
        );
        assert_eq!(lines.len(), 2);
    }

    /// IDs end in a newline or a NUL; counts print only in the footer;
    /// mailq's footer does not repeat the blank line a block ends with.
    #[test]
    fn ids_counts_and_footers() {
        let file = QueueFileBuilder::new(b"a@example.org", 1_700_000_000)
            .recipient(b"b@example.net")
            .build();
        let with = |format| OutputConfig::new(format, &instance(), false, None);
        let ids = format(&with(Format::Ids), "4ABC123DEF", &file, 0o100700, None);
        assert_eq!(ids, b"4ABC123DEF\n");
        let labelled = OutputConfig::new(Format::IdsNul, &instance(), false, Some("mx1".into()));
        let nul = format(&labelled, "4ABC123DEF", &file, 0o100700, None);
        assert_eq!(nul, b"mx1\t4ABC123DEF\0");
        assert!(format(&with(Format::Count), "4ABC123DEF", &file, 0o100700, None).is_empty());

        let mut out = Vec::new();
        footer(&with(Format::Count), 2, 4096, &mut out);
        assert_eq!(out, b"2\n");
        let mut out = b"block\n\n".to_vec();
        footer(&with(Format::Mailq), 2, 4096, &mut out);
        assert_eq!(out, b"block\n\n-- 4 Kbytes in 2 Requests.\n");
        let mut out = Vec::new();
        footer(&with(Format::Mailq), 0, 0, &mut out);
        assert_eq!(out, b"Mail queue is empty\n");
    }

    /// Formats read only what they print.
    #[test]
    fn read_plans_follow_the_format() {
        assert!(read_plan(Format::Json, true).headers);
        assert!(read_plan(Format::Mailq, false).defer_log);
        assert!(!read_plan(Format::Mailq, false).headers);
        assert_eq!(read_plan(Format::Ids, true), ReadPlan::default());
        assert_eq!(read_plan(Format::Csv, true), ReadPlan::default());
    }
}
