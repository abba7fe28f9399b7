//! The query crate's promises, on the real queue in `testdata/demo-queue`
//! (a Postfix 3.7 instance's queue and defer logs, see testdata/README.md)
//! and the real defer logs in `testdata/postfix-samples`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use query::{Dimension, Fold, KeyList, MessageView, Query, SelectionSpec};
use queue_file::{BounceLog, LogKind};
use queue_scan::{QueueLayout, ReadPlan, ScanError, ScanProgress};

fn testdata(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(path)
}

fn demo() -> QueueLayout {
    QueueLayout::with_defaults(testdata("demo-queue"))
}

const WITH_LOG: ReadPlan = ReadPlan {
    headers: false,
    defer_log: true,
};

/// Every selected message's keys in every dimension, by queue ID.
#[derive(Default)]
struct AllKeys {
    keys: BTreeMap<String, BTreeMap<&'static str, Vec<String>>>,
    scratch: KeyList,
    errors: usize,
}

impl Fold for AllKeys {
    fn message(&mut self, view: &MessageView<'_, '_>) {
        let mut by_dim = BTreeMap::new();
        for dim in Dimension::ALL {
            dim.keys(view, &mut self.scratch);
            let keys = self
                .scratch
                .iter()
                .map(|k| String::from_utf8_lossy(k).into_owned())
                .collect();
            by_dim.insert(dim.name(), keys);
        }
        self.keys.insert(view.msg.id.to_owned(), by_dim);
    }
    fn error(&mut self, _: ScanError) {
        self.errors += 1;
    }
    fn merge(mut self, other: Self) -> Self {
        self.keys.extend(other.keys);
        self.errors += other.errors;
        self
    }
}

fn all_keys(spec: &SelectionSpec) -> AllKeys {
    let query = Query::for_spec(spec, WITH_LOG).unwrap();
    query.run(&demo(), &ScanProgress::default(), AllKeys::default)
}

#[test]
fn dimension_keys_of_real_queue_files() {
    let all = all_keys(&SelectionSpec::default());
    assert_eq!(all.errors, 0);
    assert_eq!(all.keys.len(), 29, "the demo queue holds 29 messages");
    let refused = "connect to *[*]:*: Connection refused";
    let suspended = "delivery temporarily suspended: connect to *[*]:*: Connection refused";
    #[rustfmt::skip]
    let cases: &[(&str, &str, &[&str])] = &[
        // A spammer's message: one key per single-valued dimension, the
        // recipient domains in file order, reasons and statuses per entry,
        // each once.
        ("3532198C54B", "queue", &["deferred"]),
        ("3532198C54B", "sasl_user", &["mallory"]),
        ("3532198C54B", "sender", &["AI@ourdomain.example"]),
        ("3532198C54B", "sender_domain", &["ourdomain.example"]),
        ("3532198C54B", "client", &["203.0.113.66"]),
        ("3532198C54B", "client_net", &["203.0.113.0/24"]),
        ("3532198C54B", "recipient_domain", &["list1.example", "greylist.example", "list2.example"]),
        ("3532198C54B", "reason", &["Greylisted, please try again later", suspended]),
        ("3532198C54B", "dsn_status", &["4.7.1", "4.4.1"]),
        // The bounce: the null sender has empty keys, not none.
        ("B51BE98C52A", "sender", &[""]),
        ("B51BE98C52A", "sender_domain", &[""]),
        ("B51BE98C52A", "sasl_user", &[""]),
        ("B51BE98C52A", "client_net", &[""]),
        ("B51BE98C52A", "reason", &[refused]),
        ("B51BE98C52A", "dsn_status", &["4.4.1"]),
        // Held by header_checks: no defer log, so no reason and no status.
        ("BAFBF98C52C", "queue", &["hold"]),
        ("BAFBF98C52C", "reason", &[]),
        ("BAFBF98C52C", "dsn_status", &[]),
        ("D079698C534", "queue", &["active"]),
        ("D079698C534", "recipient_domain", &["slow.example"]),
    ];
    for (id, dim, want) in cases {
        let got = &all.keys[*id][dim];
        assert_eq!(got, want, "{id} by {dim}");
    }
}

#[test]
fn reasons_are_the_bounce_log_readers() {
    // For every defer log in the demo queue, the view's reasons and
    // statuses are BounceLog's entries, in order, one per entry.
    #[derive(Default)]
    struct Check(usize);
    impl Fold for Check {
        fn message(&mut self, view: &MessageView<'_, '_>) {
            let (mut reasons, mut statuses) = (Vec::new(), Vec::new());
            view.any_reason(&mut |r| {
                reasons.push(r.to_vec());
                false
            });
            view.any_dsn_status(&mut |s| {
                statuses.push(s.to_vec());
                false
            });
            let mut log = BounceLog::new();
            log.parse_into(view.msg.defer_log.unwrap_or_default(), LogKind::Defer, true);
            let want: Vec<Vec<u8>> = log.entries().map(|e| e.reason.to_vec()).collect();
            assert_eq!(reasons, want, "{}", view.msg.id);
            let want: Vec<Vec<u8>> = log.entries().map(|e| e.status.to_vec()).collect();
            assert_eq!(statuses, want, "{}", view.msg.id);
            self.0 += usize::from(!reasons.is_empty());
        }
        fn error(&mut self, e: ScanError) {
            panic!("{e}")
        }
        fn merge(self, other: Self) -> Self {
            Check(self.0 + other.0)
        }
    }
    let query = Query::for_spec(&SelectionSpec::default(), WITH_LOG).unwrap();
    let seen = query.run(&demo(), &ScanProgress::default(), Check::default);
    // Every message but the held-by-header_checks one and the active one
    // has a defer log.
    assert_eq!(seen.0, 27);
}

/// A message with the defer log `log`: a held message of the demo queue
/// (which has none of its own), whose envelope does not matter here.
fn with_sample_log(log: &[u8], f: impl FnOnce(&MessageView<'_, '_>)) {
    let layout = QueueLayout::with_defaults(testdata("demo-queue"));
    let found = queue_scan::read_one(&layout, "hold", "BAFBF98C52C", ReadPlan::default(), |msg| {
        let mut msg = *msg.unwrap();
        // As the scan gives it: the bytes, and the entries parsed once.
        let mut entries = queue_file::BounceLog::new();
        entries.parse_into(log, queue_file::LogKind::Defer, true);
        msg.defer_log = Some(log);
        msg.defer_entries = Some(&entries);
        f(&MessageView::new(&msg, None));
    });
    assert!(found.is_some());
}

#[test]
fn reason_selection_and_printed_reasons_agree_on_a_real_defer_log() {
    let log = std::fs::read(testdata("postfix-samples/A45E798E3F5.defer-log")).unwrap();
    with_sample_log(&log, |view| {
        let mut keys = KeyList::new();
        Dimension::Reason.keys(view, &mut keys);
        let keys: Vec<_> = keys.iter().map(<[u8]>::to_vec).collect();
        assert_eq!(keys, [b"connect to *[*]:*: Connection refused".to_vec()]);
        // `--reason` sees each entry's reason as Postfix reads it...
        let sel = SelectionSpec {
            reasons: vec![
                r"^connect to 127\.0\.0\.1\[127\.0\.0\.1\]:9: Connection refused$".into(),
            ],
            ..Default::default()
        }
        .build()
        .unwrap();
        let ctx = select::Context::now();
        assert!(sel.matches(view, &ctx));
        // ...and not the old-style `<address>: text` line, which is not a reason.
        let sel = SelectionSpec {
            reasons: vec!["^<user1@".into()],
            ..Default::default()
        }
        .build()
        .unwrap();
        assert!(!sel.matches(view, &ctx));
    });
}

#[test]
fn reasons_are_sanitized_as_postfix_prints_them() {
    // A control character and a line Postfix never completes (no blank
    // line after it): the reason is `printable()`'d, the pending entry at
    // the end is dropped, as bounce_log_read() does.
    let log =
        b"recipient=a@x\nstatus=4.7.1\nreason=bad\x01 reply\n\nrecipient=b@x\nreason=pending\n";
    with_sample_log(log, |view| {
        let mut reasons = Vec::new();
        view.any_reason(&mut |r| {
            reasons.push(String::from_utf8_lossy(r).into_owned());
            false
        });
        assert_eq!(reasons, ["bad? reply"]);
        let ctx = select::Context::now();
        let sel = SelectionSpec {
            reasons: vec!["pending".into()],
            ..Default::default()
        }
        .build()
        .unwrap();
        assert!(
            !sel.matches(view, &ctx),
            "--reason must not see what mailq does not show"
        );
    });
}

#[test]
fn the_fold_gives_the_totals_of_a_sequential_count() {
    #[derive(Default)]
    struct Totals {
        messages: u64,
        bytes: u64,
        per_user: BTreeMap<Vec<u8>, u64>,
        keys: KeyList,
    }
    impl Fold for Totals {
        fn message(&mut self, view: &MessageView<'_, '_>) {
            self.messages += 1;
            self.bytes += view.msg.message_size();
            Dimension::SaslUser.keys(view, &mut self.keys);
            for k in self.keys.iter() {
                *self.per_user.entry(k.to_vec()).or_default() += 1;
            }
        }
        fn error(&mut self, e: ScanError) {
            panic!("{e}")
        }
        fn merge(mut self, other: Self) -> Self {
            self.messages += other.messages;
            self.bytes += other.bytes;
            for (k, n) in other.per_user {
                *self.per_user.entry(k).or_default() += n;
            }
            self
        }
    }
    let spec = SelectionSpec {
        queues: vec!["deferred,hold".into()],
        ..Default::default()
    };
    let query = Query::for_spec(&spec, ReadPlan::default()).unwrap();
    let folded = query.run(&demo(), &ScanProgress::default(), Totals::default);

    // The same count, one file after another, without the scan.
    let layout = demo();
    let (mut messages, mut bytes) = (0, 0);
    let mut per_user: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
    for queue in ["deferred", "hold"] {
        for entry in walk(&layout.queue_dir().join(queue)) {
            let id = entry.file_name().unwrap().to_str().unwrap().to_owned();
            queue_scan::read_one(&layout, queue, &id, ReadPlan::default(), |msg| {
                let msg = msg.unwrap();
                messages += 1;
                bytes += msg.message_size();
                let user = msg.envelope.sasl_username().unwrap_or_default().to_vec();
                *per_user.entry(user).or_default() += 1;
            })
            .unwrap();
        }
    }
    assert_eq!(messages, 28);
    assert_eq!((folded.messages, folded.bytes), (messages, bytes));
    assert_eq!(folded.per_user, per_user);
    assert_eq!(per_user[&b"mallory"[..]], 20);
}

/// The files under `dir`, recursively.
fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn the_selection_narrows_what_is_folded() {
    let spec = SelectionSpec {
        sasl_users: vec!["bob".into()],
        ..Default::default()
    };
    let ids: BTreeSet<String> = all_keys(&spec).keys.into_keys().collect();
    let want: BTreeSet<String> = ["B0A1C98C524", "C53F998C52D", "BAFBF98C52C"]
        .map(String::from)
        .into();
    assert_eq!(ids, want);
}

#[test]
fn local_sender_verdicts_need_postfix() {
    let spec = SelectionSpec {
        nonexistent_local_sender: true,
        ..Default::default()
    };
    let mut query = Query::for_spec(&spec, ReadPlan::default()).unwrap();
    let e = query.resolve_local_senders(&demo(), None).unwrap_err();
    assert!(matches!(e, query::Error::LocalSenderNeedsPostfix), "{e}");
    // A selection that does not ask for them needs no Postfix.
    let mut query = Query::for_spec(&SelectionSpec::default(), ReadPlan::default()).unwrap();
    assert_eq!(query.resolve_local_senders(&demo(), None).unwrap(), None);
}

#[test]
fn a_view_can_be_asked_about_its_log_from_inside_a_visit() {
    // A question about the log asked from inside another one gets the same
    // answer (the scan parsed the log once; nothing is borrowed twice).
    let log = std::fs::read(testdata("postfix-samples/A45E798E3F5.defer-log")).unwrap();
    with_sample_log(&log, |view| {
        let mut pairs = Vec::new();
        view.any_dsn_status(&mut |status| {
            view.any_reason(&mut |reason| {
                pairs.push((status.to_vec(), reason.to_vec()));
                false
            });
            false
        });
        let entries = pairs.len();
        assert!(entries > 0);
        let mut statuses = 0;
        view.any_dsn_status(&mut |_| {
            statuses += 1;
            false
        });
        assert_eq!(
            entries,
            statuses * statuses,
            "every status with every reason"
        );
    });
}

#[test]
fn top_sasl_users_of_the_demo_queue() {
    // What the act preview and summary show: most messages first, then most
    // bytes (alice and bob both have 3 messages; alice's are larger).
    #[derive(Default)]
    struct Top(Option<query::Tables>);
    impl Fold for Top {
        fn message(&mut self, view: &MessageView<'_, '_>) {
            self.0
                .get_or_insert_with(|| {
                    query::Tables::new(&[Dimension::SaslUser, Dimension::Sender])
                })
                .add(view);
        }
        fn error(&mut self, e: ScanError) {
            panic!("{e}")
        }
        fn merge(mut self, other: Self) -> Self {
            match (&mut self.0, other.0) {
                (Some(mine), Some(theirs)) => mine.merge(theirs),
                (None, theirs) => self.0 = theirs,
                (_, None) => {}
            }
            self
        }
    }
    let query = Query::for_spec(&SelectionSpec::default(), ReadPlan::default()).unwrap();
    let tables = query
        .run(&demo(), &ScanProgress::default(), Top::default)
        .0
        .unwrap();
    let top: Vec<(String, u64, u64)> = tables
        .top(Dimension::SaslUser, 3)
        .into_iter()
        .map(|(k, t)| (String::from_utf8_lossy(k).into_owned(), t.messages, t.bytes))
        .collect();
    assert_eq!(
        top,
        [
            ("mallory".to_owned(), 20, top[0].2),
            ("alice".to_owned(), 3, 518 + 514 + 494),
            ("bob".to_owned(), 3, 502 + 496 + 506),
        ]
    );
    assert_eq!(
        tables.distinct(Dimension::SaslUser),
        5,
        "4 users and none (the bounce)"
    );
    // Every forged sender of mallory's is its own key.
    assert_eq!(tables.distinct(Dimension::Sender), 20 + 4);
    assert_eq!(tables.distinct(Dimension::Queue), 0, "not asked for");

    // By recipients: bob's 3 messages hold 4 recipients (one already
    // delivered: nrcpt counts it), alice's 3 hold 3, so bob ranks first.
    let by_recipients: Vec<(String, u64)> = tables
        .top_by(Dimension::SaslUser, 3, query::Rank::Recipients)
        .into_iter()
        .map(|(k, t)| (String::from_utf8_lossy(k).into_owned(), t.recipients))
        .collect();
    assert_eq!(
        by_recipients,
        [
            ("mallory".to_owned(), 39),
            ("bob".to_owned(), 4),
            ("alice".to_owned(), 3),
        ]
    );

    // A snapshot's facts add up to the same recipients per key.
    let snap = query::snapshot::Snapshot::scan(&query, &demo(), &ScanProgress::default());
    let all: Vec<u32> = (0..snap.len() as u32).collect();
    for row in snap.tally(&all, Dimension::SaslUser) {
        let key = snap.key(row.key);
        let (_, t) = tables
            .table(Dimension::SaslUser)
            .find(|(k, _)| *k == key)
            .unwrap();
        assert_eq!(
            row.recipients,
            t.recipients,
            "{}",
            String::from_utf8_lossy(key)
        );
    }
    let total: u64 = all
        .iter()
        .map(|&i| u64::from(snap.facts(i).recipients))
        .sum();
    assert_eq!(total, 50, "29 messages, 50 envelope recipients");
}
