//! Record type bytes, named as in Postfix's `src/global/rec_type.h`.
//!
//! The framing layer exposes a record's type as a raw byte; these constants
//! give the bytes their Postfix names so code reads side by side with
//! `rec_type.h`. Meaning can depend on the segment: `L` is a content filter
//! in the envelope and an unterminated text chunk in the content.

/// First record: content size, data offset, recipient count, qmgr options,
/// content length and sendopts (`%15ld` fields).
pub const REC_TYPE_SIZE: u8 = b'C';
/// Arrival time, `"<sec> <usec>"`.
pub const REC_TYPE_TIME: u8 = b'T';
/// Pseudo type for the `create_time` attribute; not written by current code.
pub const REC_TYPE_CTIME: u8 = b'c';
/// Sender full name.
pub const REC_TYPE_FULL: u8 = b'F';
/// Content inspector (historical).
pub const REC_TYPE_INSP: u8 = b'I';
/// Content filter `transport:nexthop` (envelope and extracted segments).
pub const REC_TYPE_FILT: u8 = b'L';
/// Envelope sender; empty for the null sender.
pub const REC_TYPE_FROM: u8 = b'S';
/// A recipient that is finished (an `R` whose type byte was rewritten).
pub const REC_TYPE_DONE: u8 = b'D';
/// A recipient still to be delivered.
pub const REC_TYPE_RCPT: u8 = b'R';
/// Original recipient of the next `R`/`D`/`/` record.
pub const REC_TYPE_ORCP: u8 = b'O';
/// A recipient cancelled by a Milter.
pub const REC_TYPE_DRCP: u8 = b'/';
/// Time at which a "delayed mail" warning is due (`-1` once sent).
pub const REC_TYPE_WARN: u8 = b'W';
/// Named attribute `name=value`.
pub const REC_TYPE_ATTR: u8 = b'A';
/// A record cancelled in place.
pub const REC_TYPE_KILL: u8 = b'K';
/// Redirect target address.
pub const REC_TYPE_RDR: u8 = b'>';
/// Cleanup processing flags (IPC only).
pub const REC_TYPE_FLGS: u8 = b'f';
/// Delay action (IPC only).
pub const REC_TYPE_DELAY: u8 = b'd';
/// Milter count (IPC only).
pub const REC_TYPE_MILT_COUNT: u8 = b'm';
/// Start of the content segment; ends the envelope segment.
pub const REC_TYPE_MESG: u8 = b'M';
/// A text line chunk that ends a line.
pub const REC_TYPE_NORM: u8 = b'N';
/// A text line chunk continued by the next text record (same byte as FILT).
pub const REC_TYPE_CONT: u8 = b'L';
/// Padding.
pub const REC_TYPE_DTXT: u8 = b'w';
/// Start of the extracted segment; ends the content segment.
pub const REC_TYPE_XTRA: u8 = b'X';
/// Return-Receipt-To (historical).
pub const REC_TYPE_RRTO: u8 = b'r';
/// Errors-To (historical).
pub const REC_TYPE_ERTO: u8 = b'e';
/// Priority (unused).
pub const REC_TYPE_PRIO: u8 = b'P';
/// Pointer to another file offset; `0` is a dummy.
pub const REC_TYPE_PTR: u8 = b'p';
/// VERP delimiters.
pub const REC_TYPE_VERP: u8 = b'V';
/// Pseudo type of the `ret_flags` attribute.
pub const REC_TYPE_DSN_RET: u8 = b'<';
/// Pseudo type of the `envelope_id` attribute.
pub const REC_TYPE_DSN_ENVID: u8 = b'i';
/// Pseudo type of the `dsn_orig_rcpt` attribute.
pub const REC_TYPE_DSN_ORCPT: u8 = b'o';
/// Pseudo type of the `notify_flags` attribute.
pub const REC_TYPE_DSN_NOTIFY: u8 = b'n';
/// End of the file; required.
pub const REC_TYPE_END: u8 = b'E';

/// Types allowed in the envelope segment; the first one ends it.
pub const REC_TYPE_ENVELOPE: &[u8] = b"MCTcFILSDRO/WVA>K<ion";
/// Types allowed in the content segment; the first one ends it.
pub const REC_TYPE_CONTENT: &[u8] = b"XLNw";
/// Types allowed in the extracted segment; the first one ends it.
pub const REC_TYPE_EXTRACT: &[u8] = b"EDRO/PreAFIL>Kon";

/// The printable name Postfix gives a record type, as `postcat` prints it.
///
/// Mirrors the table in `src/global/rec_type.c`: `L` maps to
/// `content_filter` because that entry comes first; unknown bytes give
/// `unknown_record_type`.
pub fn name(ty: u8) -> &'static str {
    match ty {
        REC_TYPE_SIZE => "message_size",
        REC_TYPE_TIME => "message_arrival_time",
        REC_TYPE_CTIME => "queue_file_create_time",
        REC_TYPE_FULL => "sender_fullname",
        REC_TYPE_INSP => "content_inspector",
        REC_TYPE_FILT => "content_filter",
        REC_TYPE_FROM => "sender",
        REC_TYPE_DONE => "done_recipient",
        REC_TYPE_DRCP => "canceled_recipient",
        REC_TYPE_RCPT => "recipient",
        REC_TYPE_ORCP => "original_recipient",
        REC_TYPE_WARN => "warning_message_time",
        REC_TYPE_ATTR => "named_attribute",
        REC_TYPE_PTR => "pointer_record",
        REC_TYPE_KILL => "killed_record",
        REC_TYPE_MESG => "message_content",
        REC_TYPE_NORM => "regular_text",
        REC_TYPE_DTXT => "padding",
        REC_TYPE_XTRA => "extracted_info",
        REC_TYPE_RRTO => "return_receipt",
        REC_TYPE_ERTO => "errors_to",
        REC_TYPE_PRIO => "priority",
        REC_TYPE_VERP => "verp_delimiters",
        REC_TYPE_END => "message_end",
        REC_TYPE_RDR => "redirect_to",
        REC_TYPE_FLGS => "flags",
        REC_TYPE_DSN_RET => "dsn_return_flags",
        REC_TYPE_DSN_ENVID => "dsn_envelope_id",
        REC_TYPE_DSN_ORCPT => "dsn_original_recipient",
        REC_TYPE_DSN_NOTIFY => "dsn_notify_flags",
        _ => "unknown_record_type",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn l_is_named_as_content_filter_like_postfix() {
        assert_eq!(name(b'L'), "content_filter");
        assert_eq!(name(b'd'), "unknown_record_type");
        assert_eq!(name(0), "unknown_record_type");
    }

    #[test]
    fn segment_strings_start_with_their_terminator() {
        assert_eq!(REC_TYPE_ENVELOPE[0], REC_TYPE_MESG);
        assert_eq!(REC_TYPE_CONTENT[0], REC_TYPE_XTRA);
        assert_eq!(REC_TYPE_EXTRACT[0], REC_TYPE_END);
    }
}
