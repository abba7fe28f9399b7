//! Fuzz target for the queue-file decoder: feeds arbitrary bytes to every
//! entry point of `queue_file` (physical framing, logical and raw readers,
//! envelope and header decoding, partial-view decoding) and checks that none
//! of them panics, hangs or reports offsets outside the input, and that a
//! head+tail partial view decodes to the same recipients as the whole file.
//!
//! Run it with `cargo fuzz run decode` from `fuzz/` (see `fuzz/README.md`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use queue_file::{Envelope, FileView, Headers, LogicalReader, ReadMode, Records};

fuzz_target!(|data: &[u8]| {
    let len = data.len() as u64;

    // Physical framing, to the end or the first error.
    for item in Records::new(data) {
        match item {
            Ok(rec) => {
                assert!(rec.offset < rec.end, "record {rec:?} ends before it starts");
                assert!(rec.end <= len, "record {rec:?} ends past the input ({len} bytes)");
            }
            Err(err) => assert!(err.offset() <= len, "error {err:?} past the input ({len} bytes)"),
        }
    }

    // Logical and raw readers, to the end or the first error.
    for mode in [ReadMode::Logical, ReadMode::Raw] {
        let mut reader = LogicalReader::new(FileView::whole(data), mode);
        loop {
            match reader.next_record() {
                Ok(Some(rec)) => {
                    assert!(rec.end <= len, "{mode:?}: record {rec:?} past the input ({len} bytes)")
                }
                Ok(None) => break,
                Err(err) => {
                    assert!(err.offset() <= len, "{mode:?}: error {err:?} past the input ({len} bytes)");
                    break;
                }
            }
        }
    }

    // Envelope, then headers.
    let Ok(env) = Envelope::decode(FileView::whole(data)) else {
        return;
    };
    let mut headers = Headers::new();
    let _ = headers.read(FileView::whole(data), env.content_offset);
    for header in headers.iter() {
        let _ = (header.name.len(), header.value.len());
    }

    // A partial view (envelope up to the content, then from X on) must give
    // the same recipients, or ask for the whole file (NotLoaded).
    assert!(
        env.content_offset <= len && env.extracted_offset <= len,
        "content_offset {} / extracted_offset {} past the input ({len} bytes)",
        env.content_offset,
        env.extracted_offset
    );
    let head = &data[..env.content_offset as usize];
    let tail = &data[env.extracted_offset as usize..];
    let view = FileView::partial(head, env.extracted_offset, tail, len);
    match Envelope::decode(view) {
        Ok(partial) => assert_eq!(
            partial.recipients, env.recipients,
            "partial-view recipients differ from the whole-file decode"
        ),
        Err(err) => assert!(
            err.is_not_loaded(),
            "whole-file decode succeeded but the partial view failed with {err:?}"
        ),
    }
});
