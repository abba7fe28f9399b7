//! `show --json`: every record of a queue file as one JSON document.
//!
//! The document is `{"error"?, "file_size", "path", "records": [...]}` on
//! one line, with keys sorted as serde_json writes a map. Payloads are
//! lossless, as ripgrep's `Data` type makes them: valid UTF-8 is
//! `{"text": "…"}`, anything else `{"bytes": "<base64>"}`, so the output
//! never replaces a byte.
//!
//! The lossless helpers ([`data`], [`string_or_bytes`], [`base64`]) are
//! public: `list --json`, `summary --json`, act's journal and backup
//! manifests write byte strings the same way.
//!
//! It streams: memory is bounded by the largest record. A message of
//! millions of blank lines is millions of records, and a JSON tree of them
//! took gigabytes (issue 10, item 3).

use std::io::{self, Write};

use queue_file::rec_type::*;
use queue_file::text::{atol, split_nameval};
use queue_file::{FileView, LogicalReader, ReadMode, Record};
use serde_json::{json, Value};

/// Every record of a file in logical order, decoded, as one JSON object on
/// one line: `{"error"?, "file_size", "path", "records": [...]}` (keys
/// sorted, as serde_json writes a map). Payloads are lossless (`{"text"}`
/// or `{"bytes"}`); `A`, `T`, `W` and `C` records also carry their decoded
/// values. Returns the read error that ended the records, if any.
///
/// The document is written record by record, so memory is bounded by the
/// largest record. `"error"` comes first, so a first pass over the
/// records (no output, no allocation) finds it; the reader is
/// deterministic, so the second pass stops at the same record.
pub fn write_json<W: Write + ?Sized>(
    out: &mut W,
    path: &[u8],
    bytes: &[u8],
) -> io::Result<Option<queue_file::Error>> {
    let mut reader = LogicalReader::new(FileView::whole(bytes), ReadMode::Logical);
    let error = loop {
        match reader.next_record() {
            Ok(Some(_)) => {}
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    // The head is the document without records, cut before its closing
    // `]}`: "records" sorts last, so what follows is exactly the records.
    let mut head = json!({
        "path": data(path),
        "file_size": bytes.len(),
        "records": [],
    });
    if let Some(e) = &error {
        head["error"] = json!({
            "offset": e.offset(),
            "record_type": e.record_type().map(|t| (t as char).to_string()),
            "message": e.to_string(),
        });
    }
    let head = serde_json::to_string(&head)?;
    let head = head.strip_suffix("]}").unwrap_or(&head);
    out.write_all(head.as_bytes())?;

    let mut reader = LogicalReader::new(FileView::whole(bytes), ReadMode::Logical);
    let mut segment = "envelope";
    let mut first = true;
    // Stops at the error the first pass found.
    while let Ok(Some(rec)) = reader.next_record() {
        // M ends the envelope segment; X starts the extracted one.
        let starts_content = rec.ty == REC_TYPE_MESG && segment == "envelope";
        if rec.ty == REC_TYPE_XTRA && segment == "content" {
            segment = "extracted";
        }
        if !first {
            out.write_all(b",")?;
        }
        first = false;
        write_record(out, &rec, segment)?;
        if starts_content {
            segment = "content";
        }
    }
    out.write_all(b"]}\n")?;
    Ok(error)
}

/// Writes one record of [`write_json`], in segment `segment`: the object
/// serde_json would write for it (keys sorted), written directly, since a
/// map per record costs more than the rest of the work together.
fn write_record<W: Write + ?Sized>(out: &mut W, rec: &Record<'_>, segment: &str) -> io::Result<()> {
    // The decoded value of an A, C, T or W record: (key, value).
    let decoded = match rec.ty {
        REC_TYPE_ATTR => split_nameval(rec.payload)
            .ok()
            .map(|(n, v)| ("attribute", json!({ "name": data(n), "value": data(v) }))),
        REC_TYPE_TIME => {
            let (sec, usec) = queue_file::envelope::parse_time(rec.payload);
            Some(("time", json!({ "sec": sec, "usec": usec })))
        }
        REC_TYPE_WARN => Some(("time", json!({ "sec": atol(rec.payload) }))),
        REC_TYPE_SIZE => queue_file::SizeRecord::parse(rec.payload).map(|s| {
            let size = json!({
                "content_size": s.content_size,
                "data_offset": s.data_offset,
                "recipient_count": s.recipient_count,
                "qmgr_options": s.qmgr_options,
                "content_length": s.content_length,
                "sendopts": s.sendopts,
                "field_count": s.field_count,
            });
            ("size", size)
        }),
        _ => None,
    };
    let label = if rec.ty == REC_TYPE_CONT && segment == "content" {
        "unterminated_text"
    } else {
        name(rec.ty)
    };
    out.write_all(b"{")?;
    if let Some(("attribute", value)) = &decoded {
        out.write_all(b"\"attribute\":")?;
        serde_json::to_writer(&mut *out, value)?;
        out.write_all(b",")?;
    }
    // `data` as [`data`] makes it: {"text": …} or {"bytes": …}.
    match std::str::from_utf8(rec.payload) {
        Ok(text) => {
            out.write_all(b"\"data\":{\"text\":")?;
            serde_json::to_writer(&mut *out, text)?;
        }
        Err(_) => {
            out.write_all(b"\"data\":{\"bytes\":")?;
            serde_json::to_writer(&mut *out, &base64(rec.payload))?;
        }
    }
    out.write_all(b"},\"name\":")?;
    serde_json::to_writer(&mut *out, label)?;
    write!(out, ",\"offset\":{},\"segment\":", rec.offset)?;
    serde_json::to_writer(&mut *out, segment)?;
    if let Some((key @ ("size" | "time"), value)) = &decoded {
        write!(out, ",\"{key}\":")?;
        serde_json::to_writer(&mut *out, value)?;
    }
    out.write_all(b",\"type\":")?;
    let mut ty = [0; 4];
    serde_json::to_writer(&mut *out, (rec.ty as char).encode_utf8(&mut ty))?;
    out.write_all(b"}")
}

/// `bytes` as a lossless JSON value: `{"text": …}` when they are UTF-8,
/// else `{"bytes": "<base64>"}` (ripgrep's `Data`).
pub fn data(bytes: &[u8]) -> Value {
    match std::str::from_utf8(bytes) {
        Ok(text) => json!({ "text": text }),
        Err(_) => json!({ "bytes": base64(bytes) }),
    }
}

/// A JSON string when `bytes` are UTF-8, else `{"bytes": "<base64>"}`:
/// for values that are usually text (addresses, paths, statuses) and
/// must still round-trip when they are not.
pub fn string_or_bytes(bytes: &[u8]) -> Value {
    match std::str::from_utf8(bytes) {
        Ok(text) => Value::String(text.to_string()),
        Err(_) => json!({ "bytes": base64(bytes) }),
    }
}

/// Standard base64 with padding (RFC 4648, section 4).
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The non-streaming `show --json` this module had before it streamed,
    /// kept as the reference the streamed output must equal byte for byte:
    /// `{"path", "file_size", "records": [...], "error"?}`. Payloads are
    /// lossless (`{"text"}` or `{"bytes"}`); `A`, `T`, `W` and `C` records also
    /// carry their decoded values.
    fn to_json(path: &[u8], bytes: &[u8]) -> (serde_json::Value, Option<queue_file::Error>) {
        use serde_json::Map;

        let mut records = Vec::new();
        let mut reader = LogicalReader::new(FileView::whole(bytes), ReadMode::Logical);
        let mut segment = "envelope";
        let mut error = None;
        loop {
            let rec = match reader.next_record() {
                Ok(Some(rec)) => rec,
                Ok(None) => break,
                Err(e) => {
                    error = Some(e);
                    break;
                }
            };
            // M ends the envelope segment; X starts the extracted one.
            let starts_content = rec.ty == REC_TYPE_MESG && segment == "envelope";
            if rec.ty == REC_TYPE_XTRA && segment == "content" {
                segment = "extracted";
            }
            let mut obj = Map::new();
            obj.insert("offset".into(), json!(rec.offset));
            obj.insert("type".into(), json!((rec.ty as char).to_string()));
            let label = if rec.ty == REC_TYPE_CONT && segment == "content" {
                "unterminated_text"
            } else {
                name(rec.ty)
            };
            obj.insert("name".into(), json!(label));
            obj.insert("segment".into(), json!(segment));
            obj.insert("data".into(), data(rec.payload));
            match rec.ty {
                REC_TYPE_ATTR => {
                    if let Ok((n, v)) = split_nameval(rec.payload) {
                        obj.insert(
                            "attribute".into(),
                            json!({ "name": data(n), "value": data(v) }),
                        );
                    }
                }
                REC_TYPE_TIME => {
                    let (sec, usec) = queue_file::envelope::parse_time(rec.payload);
                    obj.insert("time".into(), json!({ "sec": sec, "usec": usec }));
                }
                REC_TYPE_WARN => {
                    obj.insert("time".into(), json!({ "sec": atol(rec.payload) }));
                }
                REC_TYPE_SIZE => {
                    if let Some(s) = queue_file::SizeRecord::parse(rec.payload) {
                        obj.insert(
                            "size".into(),
                            json!({
                                "content_size": s.content_size,
                                "data_offset": s.data_offset,
                                "recipient_count": s.recipient_count,
                                "qmgr_options": s.qmgr_options,
                                "content_length": s.content_length,
                                "sendopts": s.sendopts,
                                "field_count": s.field_count,
                            }),
                        );
                    }
                }
                _ => {}
            }
            records.push(Value::Object(obj));
            if starts_content {
                segment = "content";
            }
        }
        let mut doc = json!({
            "path": data(path),
            "file_size": bytes.len(),
            "records": records,
        });
        if let Some(e) = &error {
            doc["error"] = json!({
                "offset": e.offset(),
                "record_type": e.record_type().map(|t| (t as char).to_string()),
                "message": e.to_string(),
            });
        }
        (doc, error)
    }

    const SAMPLE: &[u8] =
        include_bytes!("../../../testdata/postfix-samples/538D798E0FA.milter-edited-ptr-chains");

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        /// The streamed document is the reference document, byte for
        /// byte, and ends at the same error, whatever the bytes.
        #[test]
        fn streamed_json_of_any_bytes_is_the_reference(
            flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
            cut in any::<prop::sample::Index>(),
            random in prop::collection::vec(any::<u8>(), 0..200),
        ) {
            let mut bytes = SAMPLE.to_vec();
            for (at, value) in flips {
                let i = at.index(bytes.len());
                bytes[i] = value;
            }
            let cut_bytes = &bytes[..cut.index(bytes.len())];
            for input in [&bytes[..], cut_bytes, &random[..]] {
                let (doc, error) = to_json(b"f", input);
                let mut want = serde_json::to_vec(&doc).unwrap();
                want.push(b'\n');
                let mut got = Vec::new();
                let streamed_error = write_json(&mut got, b"f", input).unwrap();
                prop_assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&want));
                prop_assert_eq!(
                    streamed_error.map(|e| e.to_string()),
                    error.map(|e| e.to_string())
                );
            }
        }
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (input, want) in cases {
            assert_eq!(base64(input.as_bytes()), want);
        }
    }

    #[test]
    fn text_stays_text_and_other_bytes_become_base64() {
        assert_eq!(data(b"ok"), json!({"text": "ok"}));
        assert_eq!(data(b"\xff"), json!({"bytes": "/w=="}));
        assert_eq!(string_or_bytes(b"ok"), json!("ok"));
        assert_eq!(string_or_bytes(b"a\xffb"), json!({"bytes": "Yf9i"}));
    }

    /// The golden document of a Milter-edited sample, streamed.
    #[test]
    fn streamed_json_of_the_golden_sample_is_the_golden_file() {
        let mut got = Vec::new();
        let error = write_json(&mut got, b"538D798E0FA.milter-edited-ptr-chains", SAMPLE).unwrap();
        assert!(error.is_none());
        let golden = include_bytes!("../../../testdata/golden/538D798E0FA.show.json");
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(golden)
        );
    }
}
