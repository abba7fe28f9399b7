//! Property tests: the decoders never panic and always finish on any bytes,
//! errors stay inside the file, and what the writers write reads back.

use proptest::prelude::*;
use queue_file::write::BuilderRecipient;
use queue_file::{
    Envelope, FileView, Headers, LogicalReader, QueueFileBuilder, ReadMode, RecordWriter, Records,
};

/// Record types that matter to the decoders, plus any byte.
fn record_type() -> impl Strategy<Value = u8> {
    prop_oneof![
        4 => prop::sample::select(b"CTSARODMNLXEpw/WFK>V".to_vec()),
        1 => any::<u8>(),
    ]
}

/// Reads everything every decoder can read from `bytes`.
fn decode_all(bytes: &[u8]) {
    let len = bytes.len() as u64;
    for rec in Records::new(bytes) {
        match rec {
            Ok(rec) => assert!(rec.end <= len),
            Err(e) => assert!(e.offset() <= len, "error offset {} past {len}", e.offset()),
        }
    }
    for mode in [ReadMode::Logical, ReadMode::Raw] {
        let mut reader = LogicalReader::new(FileView::whole(bytes), mode);
        while let Ok(Some(_)) = reader.next_record() {}
    }
    match Envelope::decode(FileView::whole(bytes)) {
        Ok(env) => {
            let mut headers = Headers::new();
            let _ = headers.read(FileView::whole(bytes), env.content_offset);
        }
        Err(e) => assert!(e.offset() <= len, "error offset past the end: {e}"),
    }
}

/// A built file, its sender, and its recipients with their done flag.
type BuiltFile = (Vec<u8>, Vec<u8>, Vec<(Vec<u8>, bool)>);

fn built_file() -> impl Strategy<Value = BuiltFile> {
    let address = prop::collection::vec(any::<u8>().prop_filter("no NUL", |b| *b != 0), 0..40);
    (
        address.clone(),
        prop::collection::vec((address, any::<bool>()), 0..20),
        prop::collection::vec(prop::collection::vec(any::<u8>(), 0..5000), 0..10),
        512usize..3000,
    )
        .prop_map(|(sender, recipients, lines, limit)| {
            let mut builder = QueueFileBuilder::new(&sender, 1_795_359_329).line_limit(limit);
            for (address, done) in &recipients {
                builder = builder.recipient_full(BuilderRecipient {
                    address: address.clone(),
                    original: None,
                    notify_flags: 0,
                    dsn_orig_rcpt: None,
                    done: *done,
                });
            }
            for line in &lines {
                builder = builder.line(line);
            }
            (builder.build(), sender, recipients)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_decode_without_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        decode_all(&bytes);
    }

    #[test]
    fn record_shaped_bytes_decode_without_panic(
        records in prop::collection::vec((record_type(), prop::collection::vec(any::<u8>(), 0..40)), 0..40),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut w = RecordWriter::new();
        for (ty, payload) in &records {
            w.record(*ty, payload);
        }
        let bytes = w.into_bytes();
        decode_all(&bytes);
        if !bytes.is_empty() {
            decode_all(&bytes[..cut.index(bytes.len())]);
        }
    }

    #[test]
    fn written_records_read_back(records in prop::collection::vec((any::<u8>(), prop::collection::vec(any::<u8>(), 0..300)), 0..30)) {
        let mut w = RecordWriter::new();
        for (ty, payload) in &records {
            w.record(*ty, payload);
        }
        let bytes = w.into_bytes();
        let read: Vec<(u8, Vec<u8>)> = Records::new(&bytes).map(|r| { let r = r.unwrap(); (r.ty, r.payload.to_vec()) }).collect();
        prop_assert_eq!(read, records);
    }

    #[test]
    fn built_files_decode_to_what_was_built((bytes, sender, recipients) in built_file()) {
        let env = Envelope::decode(FileView::whole(&bytes)).unwrap();
        prop_assert_eq!(env.sender, Some(&sender[..]));
        let got: Vec<(Vec<u8>, bool)> = env.recipients.iter()
            .map(|r| (r.address.to_vec(), r.state == queue_file::RecipientState::Done)).collect();
        prop_assert_eq!(&got, &recipients);
        // The same envelope comes out of a view without the content.
        let head = &bytes[..env.content_offset as usize];
        let x = env.extracted_offset;
        let partial = Envelope::decode(FileView::partial(head, x, &bytes[x as usize..], bytes.len() as u64)).unwrap();
        prop_assert_eq!(partial.recipients, env.recipients);
    }

    #[test]
    fn mutated_real_files_decode_without_panic(
        sample in prop::sample::select(SAMPLES.to_vec()),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = std::fs::read(format!("{}/../../testdata/postfix-samples/{sample}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        decode_all(&bytes);
        decode_all(&bytes[..cut.index(bytes.len())]);
    }
}

const SAMPLES: &[&str] = &[
    "24D1398E021.smtputf8-sender",
    "4jXXK158vnz1SY32.nullsender-done-rcpt-dummyptr",
    "4jXXKF5Ppxz6lcx.maildrop-sendmail",
    "538D798E0FA.milter-edited-ptr-chains",
    "77F7198EC3E.requeued-by-postsuper-r",
    "A45E798E3F5.smtp-sasl-dsn-longheader",
];

#[test]
fn all_sample_files_decode() {
    for sample in SAMPLES {
        let bytes = std::fs::read(format!(
            "{}/../../testdata/postfix-samples/{sample}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let env =
            Envelope::decode(FileView::whole(&bytes)).unwrap_or_else(|e| panic!("{sample}: {e}"));
        assert!(env.sender.is_some(), "{sample}");
        assert!(!env.recipients.is_empty(), "{sample}");
    }
}
