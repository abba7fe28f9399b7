//! Output formats of `list`: mailq text, postqueue -j JSON plus richer
//! fields, IDs, CSV and counts. Each message is formatted as one whole
//! block so blocks from parallel workers never interleave.

pub mod postqueue;

use queue_file::showq::{Showq, ShowqInput, ShowqMessage, ShowqOptions};
use queue_scan::{InstanceConfig, Message, ReadPlan};
use serde_json::{json, Value};

use crate::cli::ListArgs;
use crate::json::string_or_bytes;

/// An output format of `list`.
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

impl Format {
    /// The format `list`'s flags ask for.
    pub fn from_args(args: &ListArgs) -> Format {
        if args.json {
            Format::Json
        } else if args.ids && args.null {
            Format::IdsNul
        } else if args.ids {
            Format::Ids
        } else if args.csv {
            Format::Csv
        } else if args.count {
            Format::Count
        } else {
            Format::Mailq
        }
    }
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
}

impl Scratch {
    /// Formatting state for `config`.
    pub fn new(config: &OutputConfig) -> Scratch {
        Scratch {
            showq: Showq::new(config.showq.clone()),
        }
    }

    /// What showq would report for `msg` (`None` for a message without a
    /// sender record, which showq does not list).
    fn showq_report(&mut self, msg: &Message<'_>) -> Option<ShowqMessage> {
        let input = ShowqInput {
            queue_name: msg.queue,
            queue_id: msg.id,
            file_size: msg.info.size as i64,
            mode: msg.info.mode,
            mtime: msg.info.mtime,
            defer_log: msg.defer_log,
            bounce_log: None,
        };
        // Reading the records as showq does also covers files that the
        // envelope decoder judged damaged; fall back to the envelope when
        // the partial view lacks bytes showq's reading order needs.
        match self.showq.report_file(msg.view, &input) {
            Ok(report) => report,
            Err(_) => self.showq.report_envelope(msg.envelope, &input),
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
            b"queue,queue_id,arrival_time,message_size,sender,sasl_username,client_address,recipients\n",
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
            if let Some(report) = scratch.showq_report(msg) {
                postqueue::mailq_message(&report, config.long_ids, out);
                // The blank line that separates messages (and the last one
                // from the footer).
                out.push(b'\n');
            }
        }
        Format::Json => {
            if let Some(report) = scratch.showq_report(msg) {
                postqueue::write_json_line_with(
                    &report,
                    postqueue::JsonFlavor::Postfix37,
                    out,
                    |members| {
                        if let Some(name) = &config.instance {
                            members.value("instance", &Value::from(name.as_str()));
                        }
                        for (key, value) in extra_members(msg, config.with_headers) {
                            members.value(key, &value);
                        }
                    },
                );
            }
        }
    }
}

/// `list --json`'s members after postqueue's: exact values (JSON strings,
/// or `{"bytes": base64}` where the queue file holds non-UTF-8 bytes).
fn extra_members(msg: &Message<'_>, with_headers: bool) -> Vec<(&'static str, Value)> {
    let env = msg.envelope;
    let text = |v: Option<&[u8]>| v.map_or(Value::Null, string_or_bytes);
    let recipients = |state: queue_file::RecipientState| -> Value {
        env.recipients
            .iter()
            .filter(|r| r.state == state)
            .map(|r| {
                json!({
                    "address": string_or_bytes(r.address),
                    "original": text(r.original),
                    "notify_flags": r.notify_flags,
                    "dsn_orig_rcpt": text(r.dsn_orig_rcpt),
                })
            })
            .collect()
    };
    let mut members = vec![
        ("sender_raw", text(env.sender)),
        ("sasl_username", text(env.sasl_username())),
        ("sasl_method", text(env.attribute(b"sasl_method"))),
        ("client_address", text(env.client_address())),
        ("client_name", text(env.client_name())),
        ("helo_name", text(env.helo_name())),
        (
            "create_time",
            env.create_time.map_or(Value::Null, Value::from),
        ),
        (
            "todo_recipients",
            recipients(queue_file::RecipientState::Todo),
        ),
        (
            "done_recipients",
            recipients(queue_file::RecipientState::Done),
        ),
        ("file_mtime", Value::from(msg.info.mtime)),
    ];
    if let Some(log) = msg.defer_log {
        let mut statuses = Vec::new();
        crate::view::log_values(log, b"status", &mut |v| {
            let v = string_or_bytes(v);
            if !statuses.contains(&v) {
                statuses.push(v);
            }
            false
        });
        members.push(("dsn_status", Value::Array(statuses)));
    }
    if with_headers {
        let header = |name: &[u8]| {
            msg.headers
                .and_then(|h| h.get(name))
                .map(|v| v.trim_ascii_start())
        };
        members.push(("subject", text(header(b"subject"))));
        members.push(("message_id", text(header(b"message-id"))));
    }
    members
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
    out.push(b'\n');
}
