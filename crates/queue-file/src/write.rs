//! Writing records: a low-level [`RecordWriter`] and a [`QueueFileBuilder`]
//! that lays a file out the way Postfix's cleanup does.
//!
//! Tests use these to make what Postfix rarely produces (long `L` chains,
//! pointer chains and loops, padding, truncation, oversized lengths); the
//! queue generator uses them to write realistic queues quickly.

use crate::rec_type::*;
use crate::record::put_length;

/// Appends raw records to a byte buffer.
#[derive(Clone, Debug, Default)]
pub struct RecordWriter {
    buf: Vec<u8>,
}

impl RecordWriter {
    /// An empty writer.
    pub fn new() -> RecordWriter {
        RecordWriter::default()
    }

    /// The offset the next record will start at.
    pub fn position(&self) -> u64 {
        self.buf.len() as u64
    }

    /// Appends a record; returns its offset.
    pub fn record(&mut self, ty: u8, payload: &[u8]) -> u64 {
        let at = self.position();
        self.buf.push(ty);
        put_length(&mut self.buf, payload.len() as u64);
        self.buf.extend_from_slice(payload);
        at
    }

    /// Appends a `p` record in Postfix's `%15ld` form; returns its offset.
    pub fn pointer(&mut self, target: u64) -> u64 {
        self.record(REC_TYPE_PTR, format!("{target:15}").as_bytes())
    }

    /// Rewrites the target of the `%15ld` pointer record at `at`.
    ///
    /// # Panics
    /// If no 15-byte pointer record starts at `at` (a test-writing error).
    pub fn patch_pointer(&mut self, at: u64, target: u64) {
        let at = at as usize;
        assert_eq!(
            &self.buf[at..at + 2],
            &[REC_TYPE_PTR, 15],
            "no pointer record at {at}"
        );
        self.buf[at + 2..at + 17].copy_from_slice(format!("{target:15}").as_bytes());
    }

    /// Appends bytes as they are (for truncated or corrupt files).
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Overwrites bytes at `at` (for in-place edits, like `D` over `R`).
    pub fn overwrite(&mut self, at: u64, bytes: &[u8]) {
        let at = at as usize;
        self.buf[at..at + bytes.len()].copy_from_slice(bytes);
    }

    /// The bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The finished bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

/// One recipient for [`QueueFileBuilder`].
#[derive(Clone, Debug)]
pub struct BuilderRecipient {
    /// The address (`R` payload).
    pub address: Vec<u8>,
    /// The `O` record; cleanup always writes one (defaults to the address).
    pub original: Option<Vec<u8>>,
    /// `A notify_flags=N`, when non-zero.
    pub notify_flags: u32,
    /// `A dsn_orig_rcpt=…`, when set.
    pub dsn_orig_rcpt: Option<Vec<u8>>,
    /// Written as `D` (done) instead of `R`.
    pub done: bool,
}

/// Builds a complete queue file in cleanup's layout (postfix-queue-format.md
/// §3.3): `C T A:create_time [A…] S [A…] [W] (O R)… M (text)… X [A…] E`.
#[derive(Clone, Debug)]
pub struct QueueFileBuilder {
    arrival: (i64, i64),
    create_time: Option<i64>,
    pre_sender_attrs: Vec<(Vec<u8>, Vec<u8>)>,
    sender: Vec<u8>,
    post_sender_attrs: Vec<(Vec<u8>, Vec<u8>)>,
    warning_time: Option<i64>,
    recipients: Vec<BuilderRecipient>,
    lines: Vec<Vec<u8>>,
    extracted_attrs: Vec<(Vec<u8>, Vec<u8>)>,
    line_limit: usize,
}

impl QueueFileBuilder {
    /// A message from `sender` arriving at `arrival` (epoch seconds).
    pub fn new(sender: &[u8], arrival: i64) -> QueueFileBuilder {
        QueueFileBuilder {
            arrival: (arrival, 0),
            create_time: Some(arrival),
            pre_sender_attrs: vec![(b"rewrite_context".to_vec(), b"remote".to_vec())],
            sender: sender.to_vec(),
            post_sender_attrs: Vec::new(),
            warning_time: None,
            recipients: Vec::new(),
            lines: Vec::new(),
            extracted_attrs: Vec::new(),
            line_limit: 2048,
        }
    }

    /// Sets the microseconds of the arrival time.
    pub fn arrival_usec(mut self, usec: i64) -> Self {
        self.arrival.1 = usec;
        self
    }

    /// Sets or removes the `create_time` attribute.
    pub fn create_time(mut self, t: Option<i64>) -> Self {
        self.create_time = t;
        self
    }

    /// Adds an attribute before the sender (where smtpd puts SASL data).
    pub fn attr_before_sender(mut self, name: &str, value: &[u8]) -> Self {
        self.pre_sender_attrs
            .push((name.as_bytes().to_vec(), value.to_vec()));
        self
    }

    /// Adds an attribute after the sender (client data).
    pub fn attr(mut self, name: &str, value: &[u8]) -> Self {
        self.post_sender_attrs
            .push((name.as_bytes().to_vec(), value.to_vec()));
        self
    }

    /// Adds an attribute in the extracted segment.
    pub fn extracted_attr(mut self, name: &str, value: &[u8]) -> Self {
        self.extracted_attrs
            .push((name.as_bytes().to_vec(), value.to_vec()));
        self
    }

    /// Sets the delayed-mail warning time (`W`).
    pub fn warning_time(mut self, t: i64) -> Self {
        self.warning_time = Some(t);
        self
    }

    /// Adds a to-do recipient whose original recipient is itself.
    pub fn recipient(self, address: &[u8]) -> Self {
        self.recipient_full(BuilderRecipient {
            address: address.to_vec(),
            original: None,
            notify_flags: 0,
            dsn_orig_rcpt: None,
            done: false,
        })
    }

    /// Adds a recipient with all its options.
    pub fn recipient_full(mut self, recipient: BuilderRecipient) -> Self {
        self.recipients.push(recipient);
        self
    }

    /// Adds one content line (header or body; no line terminator).
    pub fn line(mut self, line: &[u8]) -> Self {
        self.lines.push(line.to_vec());
        self
    }

    /// Sets the text record size limit (`line_length_limit`, default 2048).
    pub fn line_limit(mut self, limit: usize) -> Self {
        self.line_limit = limit.max(1);
        self
    }

    /// Writes the file.
    pub fn build(&self) -> Vec<u8> {
        let mut w = RecordWriter::new();
        let size_at = w.record(REC_TYPE_SIZE, &[b' '; 95]);
        w.record(
            REC_TYPE_TIME,
            format!("{} {}", self.arrival.0, self.arrival.1).as_bytes(),
        );
        if let Some(t) = self.create_time {
            w.record(REC_TYPE_ATTR, format!("create_time={t}").as_bytes());
        }
        let attr = |w: &mut RecordWriter, (name, value): &(Vec<u8>, Vec<u8>)| {
            let mut payload = name.clone();
            payload.push(b'=');
            payload.extend_from_slice(value);
            w.record(REC_TYPE_ATTR, &payload);
        };
        self.pre_sender_attrs.iter().for_each(|a| attr(&mut w, a));
        w.record(REC_TYPE_FROM, &self.sender);
        self.post_sender_attrs.iter().for_each(|a| attr(&mut w, a));
        if let Some(t) = self.warning_time {
            w.record(REC_TYPE_WARN, format!("{t:15}").as_bytes());
        }
        let mut notify_union = 0;
        for r in &self.recipients {
            if r.notify_flags != 0 {
                w.record(
                    REC_TYPE_ATTR,
                    format!("notify_flags={}", r.notify_flags).as_bytes(),
                );
                notify_union |= r.notify_flags;
            }
            if let Some(orcpt) = &r.dsn_orig_rcpt {
                attr(&mut w, &(b"dsn_orig_rcpt".to_vec(), orcpt.clone()));
            }
            w.record(REC_TYPE_ORCP, r.original.as_deref().unwrap_or(&r.address));
            w.record(
                if r.done { REC_TYPE_DONE } else { REC_TYPE_RCPT },
                &r.address,
            );
        }
        w.record(REC_TYPE_MESG, b"");
        let data_offset = w.position();
        for line in &self.lines {
            let mut chunks = line.chunks(self.line_limit).peekable();
            if chunks.peek().is_none() {
                w.record(REC_TYPE_NORM, b"");
            }
            while let Some(chunk) = chunks.next() {
                let ty = if chunks.peek().is_some() {
                    REC_TYPE_CONT
                } else {
                    REC_TYPE_NORM
                };
                w.record(ty, chunk);
            }
        }
        let data_size = w.position() - data_offset;
        w.record(REC_TYPE_XTRA, b"");
        self.extracted_attrs.iter().for_each(|a| attr(&mut w, a));
        w.record(REC_TYPE_END, b"");
        let count = self.recipients.len();
        let size = format!(
            "{data_size:15} {data_offset:15} {count:15} {:15} {data_size:15} {:15}",
            notify_union << 1,
            0
        );
        w.overwrite(size_at + 2, size.as_bytes());
        w.into_bytes()
    }
}
