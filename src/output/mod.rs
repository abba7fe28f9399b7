//! Output formats of `list`: mailq text, postqueue -j JSON plus richer
//! fields, IDs, CSV and counts. Each message is formatted as one whole
//! block so blocks from parallel workers never interleave.

use printer::postqueue;
use queue_file::showq::{Showq, ShowqInput, ShowqMessage, ShowqOptions};
use queue_scan::{InstanceConfig, Message, ReadPlan};
use serde_json::Value;

use crate::cli::ListArgs;
use printer::json::string_or_bytes;

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
            json: Vec::new(),
            keys: query::KeyList::new(),
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
    out.push(b'\n');
}
