//! Output formats of `list`: mailq text, postqueue -j JSON plus richer
//! fields, IDs, CSV and counts. Each message is formatted as one whole
//! block so blocks from parallel workers never interleave.

pub mod postqueue;

use queue_scan::{Message, ReadPlan};

use crate::cli::ListArgs;

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

/// Reusable buffers for formatting.
#[derive(Default)]
pub struct Scratch {
    /// A scratch byte buffer.
    #[allow(dead_code)] // used by the postqueue formats
    pub bytes: Vec<u8>,
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
pub fn heading(format: Format, out: &mut Vec<u8>) {
    if format == Format::Csv {
        out.extend_from_slice(b"queue,queue_id,arrival_time,message_size,sender,sasl_username,client_address,recipients\n");
    }
}

/// Formats one message.
pub fn format_message(
    format: Format,
    msg: &Message<'_>,
    _scratch: &mut Scratch,
    out: &mut Vec<u8>,
) {
    match format {
        Format::Ids => {
            out.extend_from_slice(msg.id.as_bytes());
            out.push(b'\n');
        }
        Format::IdsNul => {
            out.extend_from_slice(msg.id.as_bytes());
            out.push(0);
        }
        Format::Csv => csv_line(msg, out),
        Format::Count => {}
        Format::Mailq | Format::Json => {}
    }
}

/// What goes after the last message.
pub fn footer(format: Format, selected: u64, bytes: u64, out: &mut Vec<u8>) {
    if format == Format::Count {
        out.extend_from_slice(format!("{selected}\n").as_bytes());
    }
    let _ = bytes;
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
