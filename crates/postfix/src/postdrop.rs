//! Submitting a message through Postfix's `postdrop`, the way `sendmail` does: the record
//! stream `sendmail` writes (postfix `src/sendmail/sendmail.c`, `enqueue`), built from a saved
//! queue file, and one `postdrop` run per message. `restore` uses it; qsurgeon itself writes
//! nothing into the queue directory (postdrop creates the file in `maildrop`, pickup and
//! cleanup queue it under a new ID).
//!
//! Accepted record types are postdrop's `REC_TYPE_POST_*` (postfix `src/postdrop/postdrop.c`).

use std::fmt;
use std::io::Write;
use std::process::{Command, Stdio};

use queue_file::rec_type::{
    REC_TYPE_ATTR, REC_TYPE_CONT, REC_TYPE_END, REC_TYPE_FROM, REC_TYPE_FULL, REC_TYPE_MESG,
    REC_TYPE_NORM, REC_TYPE_RCPT, REC_TYPE_VERP, REC_TYPE_XTRA,
};
use queue_file::{Envelope, FileView, LogicalReader, ReadMode, RecordWriter};
use queue_scan::is_valid_queue_id;

use crate::{command_text, Error, Postfix};

/// Why a queue file cannot be turned into a postdrop record stream.
#[derive(Debug)]
#[non_exhaustive]
pub enum StreamError {
    /// The queue file does not decode.
    Decode(queue_file::Error),
    /// It has no sender record.
    NoSender,
    /// An envelope record longer than `line_length_limit` (postdrop would refuse it).
    TooLong {
        /// Which record.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The target's `line_length_limit`.
        limit: usize,
    },
    /// Every recipient is done or cancelled.
    NoRecipient,
    /// The content has no `X` record.
    NoEnd,
    /// A record type that does not belong in the content.
    UnexpectedRecord {
        /// The record type.
        ty: u8,
        /// Its offset in the file.
        offset: u64,
    },
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamError::Decode(e) => write!(f, "{e}"),
            StreamError::NoSender => f.write_str("no sender record"),
            StreamError::TooLong { what, len, limit } => write!(
                f,
                "{what} of {len} bytes is longer than line_length_limit ({limit}): postdrop would refuse it"
            ),
            StreamError::NoRecipient => f.write_str("no recipient left to deliver"),
            StreamError::NoEnd => f.write_str("the content has no end (no X record)"),
            StreamError::UnexpectedRecord { ty, offset } => write!(
                f,
                "unexpected record type {:?} at offset {offset} in the content",
                char::from(*ty)
            ),
        }
    }
}

impl std::error::Error for StreamError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StreamError::Decode(e) => Some(e),
            _ => None,
        }
    }
}

/// The record stream `sendmail` would write to postdrop for this message:
/// envelope (DSN attributes, rewrite context, full name, sender, encoding,
/// VERP, then each to-do recipient with its DSN attributes), `M`, the
/// content records in logical order, `X`, `E`. Records longer than
/// `line_limit` are split into `L` chunks as sendmail and cleanup split
/// them; postdrop refuses longer ones.
pub fn postdrop_stream(bytes: &[u8], line_limit: usize) -> Result<Vec<u8>, StreamError> {
    let view = FileView::whole(bytes);
    let envelope = Envelope::decode(view).map_err(StreamError::Decode)?;
    let sender = envelope.sender.ok_or(StreamError::NoSender)?;
    let mut w = RecordWriter::new();
    let put = |w: &mut RecordWriter,
               ty: u8,
               payload: &[u8],
               what: &'static str|
     -> Result<(), StreamError> {
        // Envelope records cannot be split; say which one is too long.
        if payload.len() > line_limit {
            return Err(StreamError::TooLong {
                what,
                len: payload.len(),
                limit: line_limit,
            });
        }
        w.record(ty, payload);
        Ok(())
    };
    let attr = |name: &str, value: &[u8]| [name.as_bytes(), b"=", value].concat();

    for name in ["envelope_id", "ret_flags"] {
        if let Some(value) = envelope
            .attribute(name.as_bytes())
            .filter(|v| !v.is_empty())
        {
            put(&mut w, REC_TYPE_ATTR, &attr(name, value), name)?;
        }
    }
    // cleanup rewrites addresses per this context; keep what the original
    // submission had (postdrop accepts only these two values).
    let context = match envelope.attribute(b"rewrite_context") {
        Some(b"remote") => &b"remote"[..],
        _ => &b"local"[..],
    };
    put(
        &mut w,
        REC_TYPE_ATTR,
        &attr("rewrite_context", context),
        "rewrite_context",
    )?;
    if let Some(full_name) = envelope.full_name {
        put(&mut w, REC_TYPE_FULL, full_name, "sender full name")?;
    }
    put(&mut w, REC_TYPE_FROM, sender, "sender")?;
    if let Some(encoding) = envelope.attribute(b"encoding") {
        if encoding == b"7bit" || encoding == b"8bit" {
            put(
                &mut w,
                REC_TYPE_ATTR,
                &attr("encoding", encoding),
                "encoding",
            )?;
        }
    }
    // sendmail refuses VERP with the null sender; so would cleanup.
    if let Some(verp) = envelope.verp_delimiters.filter(|_| !sender.is_empty()) {
        put(&mut w, REC_TYPE_VERP, verp, "VERP delimiters")?;
    }
    let mut count = 0;
    for r in envelope.todo_recipients() {
        if let Some(flags) = r.notify_flags.filter(|f| *f > 0) {
            let value = flags.to_string();
            put(
                &mut w,
                REC_TYPE_ATTR,
                &attr("notify_flags", value.as_bytes()),
                "notify_flags",
            )?;
        }
        if let Some(orcpt) = r.dsn_orig_rcpt.filter(|o| !o.is_empty()) {
            put(
                &mut w,
                REC_TYPE_ATTR,
                &attr("dsn_orig_rcpt", orcpt),
                "dsn_orig_rcpt",
            )?;
        }
        put(&mut w, REC_TYPE_RCPT, r.address, "recipient")?;
        count += 1;
    }
    if count == 0 {
        return Err(StreamError::NoRecipient);
    }

    w.record(REC_TYPE_MESG, b"");
    let mut reader = LogicalReader::new(view, ReadMode::Logical);
    reader.seek(envelope.content_offset);
    loop {
        let Some(rec) = reader.next_record().map_err(StreamError::Decode)? else {
            return Err(StreamError::NoEnd);
        };
        match rec.ty {
            REC_TYPE_NORM | REC_TYPE_CONT => {
                let mut payload = rec.payload;
                while payload.len() > line_limit {
                    w.record(REC_TYPE_CONT, &payload[..line_limit]);
                    payload = &payload[line_limit..];
                }
                w.record(rec.ty, payload);
            }
            REC_TYPE_XTRA => break,
            other => {
                return Err(StreamError::UnexpectedRecord {
                    ty: other,
                    offset: rec.offset,
                })
            }
        }
    }
    w.record(REC_TYPE_XTRA, b"");
    w.record(REC_TYPE_END, b"");
    Ok(w.into_bytes())
}

/// Runs `postdrop [-c CONFIG_DIR] -r` from the instance's `command_directory`, writes
/// `stream` to it and returns the maildrop queue ID it reported, and its warnings (stderr
/// lines). postdrop speaks Postfix's attribute protocol on stdout (`attr_print0`: `name NUL
/// value NUL … NUL`): first `protocol=postdrop, queue_id=ID`, at the end `status=N,
/// reason=TEXT` (postfix `src/postdrop/postdrop.c`). postdrop takes one message per run.
pub fn run_postdrop(postfix: &Postfix, stream: &[u8]) -> Result<(String, Vec<String>), Error> {
    let program = postfix.program("postdrop");
    let mut args = postfix.config_args();
    args.push("-r".into());
    let command = command_text(&program, &args);
    let mut child = Command::new(&program)
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| Error::Spawn {
            command: command.clone(),
            source,
        })?;
    let mut stdin = child.stdin.take().ok_or_else(|| Error::Output {
        command: command.clone(),
        detail: "no stdin pipe".into(),
    })?;
    // postdrop's replies are tiny (no pipe can fill up while we write). If
    // it dies early the write fails; its stderr says why.
    let write_error = stdin.write_all(stream).err();
    drop(stdin);
    let output = child.wait_with_output().map_err(|source| Error::Spawn {
        command: command.clone(),
        source,
    })?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    let groups = parse_attr0(&output.stdout);
    let get = |group: usize, name: &str| {
        groups
            .get(group)
            .and_then(|g| g.iter().find(|(n, _)| n == name))
            .map(|(_, v)| v.as_str())
    };
    let status = get(1, "status");
    if !output.status.success() || status != Some("0") {
        let reason = get(1, "reason").unwrap_or("").trim();
        let mut why = stderr.trim().replace('\n', "; ");
        if !reason.is_empty() {
            why = format!("{reason}; {why}");
        }
        if let Some(e) = write_error.filter(|_| why.is_empty()) {
            why = format!("writing to it: {e}");
        }
        return Err(Error::Failed {
            command,
            detail: format!("{}: {why}", output.status),
        });
    }
    let id = get(0, "queue_id")
        .filter(|id| is_valid_queue_id(id))
        .ok_or_else(|| Error::Output {
            command,
            detail: "postdrop reported no queue ID".into(),
        })?;
    let warnings = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    Ok((id.to_string(), warnings))
}

/// Splits `attr_print0` output into groups of `(name, value)`.
pub fn parse_attr0(bytes: &[u8]) -> Vec<Vec<(String, String)>> {
    let mut groups = Vec::new();
    let mut group = Vec::new();
    let mut words = bytes.split(|b| *b == 0);
    while let Some(name) = words.next() {
        if name.is_empty() {
            // An empty name ends a group (the trailing split piece too).
            if !group.is_empty() {
                groups.push(std::mem::take(&mut group));
            }
            continue;
        }
        let Some(value) = words.next() else { break };
        group.push((
            String::from_utf8_lossy(name).into_owned(),
            String::from_utf8_lossy(value).into_owned(),
        ));
    }
    if !group.is_empty() {
        groups.push(group);
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use queue_file::write::BuilderRecipient;
    use queue_file::{QueueFileBuilder, Records};

    /// The records of a stream, as `(type, payload)`.
    fn records(bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
        Records::new(bytes)
            .map(|r| r.map(|r| (r.ty, r.payload.to_vec())).unwrap())
            .collect()
    }

    #[test]
    fn the_postdrop_stream_keeps_the_envelope_and_only_to_do_recipients() {
        let long_line = vec![b'x'; 1300];
        let bytes = QueueFileBuilder::new(b"", 1_795_359_329)
            .attr_before_sender("sasl_username", b"mallory")
            .attr_before_sender("envelope_id", b"QS-ENVID-0001")
            .attr_before_sender("ret_flags", b"2")
            .attr("encoding", b"8bit")
            .attr("client_address", b"203.0.113.66")
            .recipient_full(BuilderRecipient {
                address: b"odd user@remote.example".to_vec(),
                original: Some(b"alias@example.org".to_vec()),
                notify_flags: 6,
                dsn_orig_rcpt: Some(b"rfc822;alias@example.org".to_vec()),
                done: false,
            })
            .recipient_full(BuilderRecipient {
                address: b"gone@discard.example".to_vec(),
                original: None,
                notify_flags: 8,
                dsn_orig_rcpt: None,
                done: true,
            })
            .recipient("j\u{f6}rg@b\u{fc}cher.example".as_bytes())
            .line(b"Subject: hi")
            .line(b"")
            .line(&long_line)
            .build();
        let stream = postdrop_stream(&bytes, 512).unwrap();
        let want: Vec<(u8, Vec<u8>)> = vec![
            (b'A', b"envelope_id=QS-ENVID-0001".to_vec()),
            (b'A', b"ret_flags=2".to_vec()),
            (b'A', b"rewrite_context=remote".to_vec()),
            (b'S', b"".to_vec()),
            (b'A', b"encoding=8bit".to_vec()),
            (b'A', b"notify_flags=6".to_vec()),
            (b'A', b"dsn_orig_rcpt=rfc822;alias@example.org".to_vec()),
            (b'R', b"odd user@remote.example".to_vec()),
            (b'R', "j\u{f6}rg@b\u{fc}cher.example".as_bytes().to_vec()),
            (b'M', b"".to_vec()),
            (b'N', b"Subject: hi".to_vec()),
            (b'N', b"".to_vec()),
            (b'L', vec![b'x'; 512]),
            (b'L', vec![b'x'; 512]),
            (b'N', vec![b'x'; 276]),
            (b'X', b"".to_vec()),
            (b'E', b"".to_vec()),
        ];
        assert_eq!(records(&stream), want);
        // Every record type is one postdrop accepts (REC_TYPE_POST_*).
        assert!(records(&stream)
            .iter()
            .all(|(ty, _)| b"MFSRVAinXLNEAR".contains(ty)));
    }

    #[test]
    fn the_postdrop_stream_follows_pointer_records_in_the_content() {
        // A header replaced by a Milter: a pointer to the heap and back.
        let mut w = RecordWriter::new();
        w.record(b'T', b"1795359329 0");
        w.record(b'S', b"a@example.org");
        w.record(b'R', b"b@example.net");
        w.record(b'M', b"");
        let jump = w.pointer(0);
        let back_to = w.position();
        w.record(b'N', b"");
        w.record(b'N', b"body");
        w.record(b'X', b"");
        w.record(b'E', b"");
        let heap = w.position();
        w.record(b'N', b"Subject: edited");
        w.record(b'w', b"    0");
        let back = w.pointer(0);
        w.patch_pointer(jump, heap);
        w.patch_pointer(back, back_to);
        let stream = postdrop_stream(&w.into_bytes(), 2048).unwrap();
        let content: Vec<Vec<u8>> = records(&stream)
            .into_iter()
            .skip_while(|(ty, _)| *ty != b'M')
            .map(|(_, p)| p)
            .collect();
        let want: [&[u8]; 6] = [b"", b"Subject: edited", b"", b"body", b"", b""];
        assert_eq!(content, want);
    }

    #[test]
    fn a_message_with_nothing_left_to_deliver_has_no_stream() {
        let bytes = QueueFileBuilder::new(b"a@example.org", 1)
            .recipient_full(BuilderRecipient {
                address: b"b@example.net".to_vec(),
                original: None,
                notify_flags: 0,
                dsn_orig_rcpt: None,
                done: true,
            })
            .line(b"x")
            .build();
        let err = postdrop_stream(&bytes, 2048).unwrap_err();
        assert!(err.to_string().contains("no recipient left"), "{err}");
    }

    #[test]
    fn postdrop_replies_are_parsed() {
        let out = b"protocol\0postdrop\0queue_id\x004jXXK158vnz1SY32\0\0status\x000\0reason\0\0\0";
        let groups = parse_attr0(out);
        assert_eq!(groups.len(), 2, "{groups:?}");
        assert_eq!(groups[0][1], ("queue_id".into(), "4jXXK158vnz1SY32".into()));
        assert_eq!(groups[1][0], ("status".into(), "0".into()));
        assert_eq!(groups[1][1], ("reason".into(), String::new()));
    }
}
