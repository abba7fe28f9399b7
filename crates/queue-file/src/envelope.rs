//! The envelope view: what a queue file says about a message, without its
//! content.
//!
//! [`Envelope::decode`] reads the envelope segment, skips the content using
//! the `C` size record (as qmgr, showq and postcat do), then reads the
//! extracted segment. Recipients come from both segments, with their state
//! (to do `R`, done `D`, cancelled `/`), their `O` original recipient and
//! DSN attributes (postfix `src/qmgr/qmgr_message.c` reads them the same
//! way). Every slice borrows from the file's bytes.

use crate::error::{Error, ErrorKind, Result};
use crate::logical::{LogicalReader, ReadMode};
use crate::rec_type::*;
use crate::record::{FileView, Record};
use crate::text::{atol, c_str, split_nameval};

/// The fields of the `C` size record (postfix-queue-format.md §3.2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SizeRecord {
    /// Field 1: on-disk bytes from the first content record to `X`.
    pub content_size: i64,
    /// Field 2: offset of the first content record.
    pub data_offset: i64,
    /// Field 3: recipients cleanup wrote (an upper bound later on).
    pub recipient_count: i64,
    /// Field 4: qmgr options (mixed-records bit, DSN NOTIFY union).
    pub qmgr_options: i64,
    /// Field 5: content length (changed by Milter body edits).
    pub content_length: i64,
    /// Field 6: sendopts (SMTPUTF8, REQUIRETLS bits).
    pub sendopts: i64,
    /// How many fields the record had (1 to 6, by Postfix version).
    pub field_count: u8,
}

impl SizeRecord {
    /// Parses the payload by white-space splitting, like qmgr's `sscanf`;
    /// `None` when a field is not a number or there are none.
    pub fn parse(payload: &[u8]) -> Option<SizeRecord> {
        let mut fields = [0i64; 6];
        let mut count = 0;
        for word in c_str(payload)
            .split(|b| crate::text::is_c_space(*b))
            .filter(|w| !w.is_empty())
        {
            if count == fields.len() {
                break;
            }
            let text = std::str::from_utf8(word).ok()?;
            fields[count] = text.parse().ok()?;
            count += 1;
        }
        if count == 0 {
            return None;
        }
        Some(SizeRecord {
            content_size: fields[0],
            data_offset: fields[1],
            recipient_count: fields[2],
            qmgr_options: fields[3],
            content_length: fields[4],
            sendopts: fields[5],
            field_count: count as u8,
        })
    }

    /// Offset of the `X` record, when the record allows skipping the
    /// content (both offsets positive, as qmgr requires).
    pub fn extracted_offset(&self) -> Option<u64> {
        if self.field_count >= 2 && self.data_offset > 0 && self.content_size > 0 {
            (self.data_offset as u64).checked_add(self.content_size as u64)
        } else {
            None
        }
    }
}

/// Which part of the file a record came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Segment {
    /// Before `M`.
    Envelope,
    /// Between `X` and `E`.
    Extracted,
}

/// A named attribute (`A name=value`), trimmed as `split_nameval` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attribute<'a> {
    /// The name.
    pub name: &'a [u8],
    /// The value (may be empty).
    pub value: &'a [u8],
    /// Where it was found.
    pub segment: Segment,
}

/// A recipient's delivery state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecipientState {
    /// `R`: still to be delivered.
    Todo,
    /// `D`: delivered, or bounced and logged.
    Done,
    /// `/`: removed by a Milter.
    Canceled,
}

/// A recipient with the per-recipient records that preceded it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recipient<'a> {
    /// The address, in Postfix's internal (unquoted) form.
    pub address: &'a [u8],
    /// To do, done or cancelled.
    pub state: RecipientState,
    /// The `O` record: the address before rewriting and alias expansion.
    pub original: Option<&'a [u8]>,
    /// DSN NOTIFY bits (NEVER 1, SUCCESS 2, FAILURE 4, DELAY 8).
    pub notify_flags: Option<i64>,
    /// DSN ORCPT, `type;address`.
    pub dsn_orig_rcpt: Option<&'a [u8]>,
    /// Offset of the recipient record (the `offset=` of defer logs).
    pub offset: u64,
    /// Where it was found.
    pub segment: Segment,
}

/// Everything in a queue file but the message content.
#[derive(Clone, Debug, Default)]
pub struct Envelope<'a> {
    /// The `C` record, when present and well-formed.
    pub size: Option<SizeRecord>,
    /// The first `T` record: seconds and microseconds.
    pub arrival_time: Option<(i64, i64)>,
    /// The `create_time` attribute (expiry counts from it).
    pub create_time: Option<i64>,
    /// The sender; `Some(b"")` is the null sender.
    pub sender: Option<&'a [u8]>,
    /// The sender's full name (`F`).
    pub full_name: Option<&'a [u8]>,
    /// The content filter (`L` in the envelope or extracted segment).
    pub content_filter: Option<&'a [u8]>,
    /// The redirect target (`>`).
    pub redirect: Option<&'a [u8]>,
    /// When the delayed-mail warning is due (`-1` once sent).
    pub warning_time: Option<i64>,
    /// VERP delimiters (`V`).
    pub verp_delimiters: Option<&'a [u8]>,
    /// Every named attribute, in logical file order.
    pub attributes: Vec<Attribute<'a>>,
    /// Every recipient, in logical file order.
    pub recipients: Vec<Recipient<'a>>,
    /// Offset of the first content record (just after `M`).
    pub content_offset: u64,
    /// Offset of the `X` record.
    pub extracted_offset: u64,
    /// Attributes that `split_nameval` refused.
    pub malformed_attributes: u32,
    /// Offset of the `C` record that [`size`](Self::size) came from.
    pub size_offset: u64,
}

impl<'a> Envelope<'a> {
    /// Decodes the envelope and extracted segments of a queue file,
    /// skipping the content when the `C` record allows it.
    pub fn decode(view: FileView<'a>) -> Result<Envelope<'a>> {
        let mut envelope = Envelope::default();
        envelope.decode_from(view)?;
        Ok(envelope)
    }

    /// Clears this envelope and returns it with a new lifetime, keeping the
    /// allocations of its vectors so a worker decodes file after file
    /// without allocating.
    pub fn recycle<'b>(mut self) -> Envelope<'b> {
        self.attributes.clear();
        self.recipients.clear();
        Envelope {
            attributes: reuse_vec(self.attributes),
            recipients: reuse_vec(self.recipients),
            ..Envelope::default()
        }
    }

    /// Like [`decode`](Self::decode), but into `self` (which must be empty,
    /// e.g. from [`recycle`](Self::recycle)).
    pub fn decode_from(&mut self, view: FileView<'a>) -> Result<()> {
        let mut reader = LogicalReader::new(view, ReadMode::Logical);
        let mut pending = PendingRecipient::default();
        let mut segment = Segment::Envelope;
        loop {
            let Some(rec) = reader.next_record()? else {
                return Err(Error::new(ErrorKind::MissingEnd, view.file_len(), None));
            };
            match rec.ty {
                REC_TYPE_MESG if segment == Segment::Envelope => {
                    self.content_offset = rec.end;
                    self.skip_content(&mut reader)?;
                    segment = Segment::Extracted;
                    pending = PendingRecipient::default();
                }
                REC_TYPE_END => return Ok(()),
                _ => self.envelope_record(&rec, segment, &mut pending),
            }
        }
    }

    /// Moves `reader` past the content to just after `X`.
    fn skip_content(&mut self, reader: &mut LogicalReader<'a>) -> Result<()> {
        if let Some(x_offset) = self.size.and_then(|s| s.extracted_offset()) {
            // Skip as qmgr does: data_offset + data_size is the X record.
            // A size record that points elsewhere is reported at itself.
            let bad_size = Error::new(
                ErrorKind::BadSizeRecord,
                self.size_offset,
                Some(REC_TYPE_SIZE),
            );
            let rec = match reader.view().record_at(x_offset) {
                Ok(Some(rec)) if rec.ty == REC_TYPE_XTRA => rec,
                Err(e) if e.is_not_loaded() => return Err(e),
                _ => return Err(bad_size),
            };
            self.extracted_offset = x_offset;
            reader.seek(rec.end);
            return Ok(());
        }
        // No usable size record (maildrop files): read through the text.
        loop {
            let at = reader.position();
            match reader.next_record()? {
                Some(rec) if rec.ty == REC_TYPE_XTRA => {
                    self.extracted_offset = rec.offset;
                    return Ok(());
                }
                Some(rec) if REC_TYPE_CONTENT.contains(&rec.ty) => {}
                Some(rec) => {
                    return Err(Error::new(
                        ErrorKind::UnexpectedRecord,
                        rec.offset,
                        Some(rec.ty),
                    ))
                }
                None => {
                    return Err(Error::new(
                        ErrorKind::MissingEnd,
                        at.min(reader.view().file_len()),
                        None,
                    ))
                }
            }
        }
    }

    fn envelope_record(
        &mut self,
        rec: &Record<'a>,
        segment: Segment,
        pending: &mut PendingRecipient<'a>,
    ) {
        let payload = rec.payload;
        match rec.ty {
            // The first well-formed C, the first T and the first S count,
            // as in showq and qmgr.
            REC_TYPE_SIZE if self.size.is_none() => {
                self.size = SizeRecord::parse(payload);
                self.size_offset = rec.offset;
            }
            REC_TYPE_TIME => self.arrival_time = self.arrival_time.or(Some(parse_time(payload))),
            REC_TYPE_FROM => self.sender = self.sender.or(Some(c_str(payload))),
            REC_TYPE_FULL => self.full_name = Some(c_str(payload)),
            REC_TYPE_FILT => self.content_filter = Some(c_str(payload)),
            REC_TYPE_RDR => self.redirect = Some(c_str(payload)),
            REC_TYPE_VERP => self.verp_delimiters = Some(c_str(payload)),
            REC_TYPE_WARN => self.warning_time = Some(atol(payload)),
            REC_TYPE_ORCP => pending.original = Some(c_str(payload)),
            REC_TYPE_RCPT | REC_TYPE_DONE | REC_TYPE_DRCP => {
                let state = match rec.ty {
                    REC_TYPE_RCPT => RecipientState::Todo,
                    REC_TYPE_DONE => RecipientState::Done,
                    _ => RecipientState::Canceled,
                };
                let taken = std::mem::take(pending);
                self.recipients.push(Recipient {
                    address: c_str(payload),
                    state,
                    original: taken.original,
                    notify_flags: taken.notify_flags,
                    dsn_orig_rcpt: taken.dsn_orig_rcpt,
                    offset: rec.offset,
                    segment,
                });
            }
            REC_TYPE_ATTR => match split_nameval(payload) {
                Ok((name, value)) => {
                    match name {
                        b"create_time" => self.create_time = Some(atol(value)),
                        b"notify_flags" => pending.notify_flags = Some(atol(value)),
                        b"dsn_orig_rcpt" => pending.dsn_orig_rcpt = Some(value),
                        _ => {}
                    }
                    self.attributes.push(Attribute {
                        name,
                        value,
                        segment,
                    });
                }
                Err(_) => self.malformed_attributes += 1,
            },
            _ => {}
        }
    }

    /// The value of the last attribute called `name` (later records
    /// override earlier ones, as cleanup and qmgr treat them).
    pub fn attribute(&self, name: &[u8]) -> Option<&'a [u8]> {
        self.attributes
            .iter()
            .rev()
            .find(|a| a.name == name)
            .map(|a| a.value)
    }

    /// The SASL login of the client that submitted the message.
    pub fn sasl_username(&self) -> Option<&'a [u8]> {
        self.attribute(b"sasl_username")
    }

    /// The client address as logged (`log_client_address`, falling back to
    /// `client_address`, as qmgr does for pre-2.3 files).
    pub fn client_address(&self) -> Option<&'a [u8]> {
        self.attribute(b"log_client_address")
            .or_else(|| self.attribute(b"client_address"))
    }

    /// The client host name as logged, with the same fallback.
    pub fn client_name(&self) -> Option<&'a [u8]> {
        self.attribute(b"log_client_name")
            .or_else(|| self.attribute(b"client_name"))
    }

    /// The HELO name as logged, with the same fallback.
    pub fn helo_name(&self) -> Option<&'a [u8]> {
        self.attribute(b"log_helo_name")
            .or_else(|| self.attribute(b"helo_name"))
    }

    /// Recipients still to be delivered.
    pub fn todo_recipients(&self) -> impl Iterator<Item = &Recipient<'a>> {
        self.recipients
            .iter()
            .filter(|r| r.state == RecipientState::Todo)
    }
}

/// Per-recipient records waiting for their `R`/`D`/`/`.
#[derive(Default)]
struct PendingRecipient<'a> {
    original: Option<&'a [u8]>,
    notify_flags: Option<i64>,
    dsn_orig_rcpt: Option<&'a [u8]>,
}

/// Parses `T` as `REC_TYPE_TIME_SCAN`: `atol` of the seconds, then `atol`
/// of what follows the digits.
pub fn parse_time(payload: &[u8]) -> (i64, i64) {
    let text = c_str(payload);
    let sec = atol(text);
    let digits = text.iter().take_while(|b| b.is_ascii_digit()).count();
    (sec, atol(&text[digits..]))
}

/// Turns an empty `Vec<T>` into an empty `Vec<U>` of the same layout,
/// keeping its allocation (std's in-place collect does the reuse).
fn reuse_vec<T, U>(v: Vec<T>) -> Vec<U> {
    debug_assert!(v.is_empty());
    v.into_iter().filter_map(|_| None).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write::{BuilderRecipient, QueueFileBuilder};

    fn sample() -> Vec<u8> {
        QueueFileBuilder::new(b"bob@example.org", 1_700_000_000)
            .attr_before_sender("sasl_username", b"alice")
            .attr("log_client_address", b"192.0.2.7")
            .recipient_full(BuilderRecipient {
                address: b"x@remote.example".to_vec(),
                original: Some(b"alias@example.org".to_vec()),
                notify_flags: 6,
                dsn_orig_rcpt: Some(b"rfc822;alias@example.org".to_vec()),
                done: false,
            })
            .recipient_full(BuilderRecipient {
                address: b"done@remote.example".to_vec(),
                original: None,
                notify_flags: 0,
                dsn_orig_rcpt: None,
                done: true,
            })
            .line(b"Subject: hello")
            .line(b"")
            .line(&[b'x'; 5000])
            .extracted_attr("message_id", b"<1@example.org>")
            .build()
    }

    #[test]
    fn decodes_sender_attributes_and_recipients() {
        let bytes = sample();
        let env = Envelope::decode(FileView::whole(&bytes)).unwrap();
        assert_eq!(env.sender, Some(&b"bob@example.org"[..]));
        assert_eq!(env.arrival_time, Some((1_700_000_000, 0)));
        assert_eq!(env.create_time, Some(1_700_000_000));
        assert_eq!(env.sasl_username(), Some(&b"alice"[..]));
        assert_eq!(env.client_address(), Some(&b"192.0.2.7"[..]));
        assert_eq!(env.attribute(b"message_id"), Some(&b"<1@example.org>"[..]));
        assert_eq!(env.recipients.len(), 2);
        let first = env.recipients[0];
        assert_eq!(first.original, Some(&b"alias@example.org"[..]));
        assert_eq!(first.notify_flags, Some(6));
        assert_eq!(env.recipients[1].state, RecipientState::Done);
        assert_eq!(env.todo_recipients().count(), 1);
    }

    #[test]
    fn the_content_is_skipped_with_a_partial_view() {
        let bytes = sample();
        let env = Envelope::decode(FileView::whole(&bytes)).unwrap();
        let x = env.extracted_offset;
        let head = &bytes[..env.content_offset as usize];
        let view = FileView::partial(head, x, &bytes[x as usize..], bytes.len() as u64);
        let partial = Envelope::decode(view).unwrap();
        assert_eq!(partial.recipients, env.recipients);
        assert_eq!(partial.attributes, env.attributes);
    }

    #[test]
    fn a_file_without_end_is_an_error() {
        let mut bytes = sample();
        bytes.truncate(bytes.len() - 2);
        let err = Envelope::decode(FileView::whole(&bytes)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MissingEnd);
    }

    #[test]
    fn recycling_keeps_allocations() {
        let bytes = sample();
        let env = Envelope::decode(FileView::whole(&bytes)).unwrap();
        let cap = env.recipients.capacity();
        let recycled: Envelope<'_> = env.recycle();
        assert!(recycled.recipients.is_empty());
        assert_eq!(recycled.recipients.capacity(), cap);
    }
}
