//! Plans and runs that need no Postfix: the preview of the real queue in
//! `testdata/demo-queue` is what real `postqueue -j` listed of it, a message met twice is
//! one, unreadable files are named (in the plan and the journal's `start`) up to a limit and
//! counted beyond, a run stopped before its first batch still ends (in the journal too),
//! and a journal dropped after `start` writes its own `end`.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::atomic::Ordering;

use act::{Event, Executor, Journal, Planned, RunInfo, SelectionRecord, Sink, Tee, Verb};
use queue_scan::{QueueLayout, ReadPlan, ScanOptions, ScanProgress};

fn info(queue_dir: PathBuf) -> RunInfo {
    RunInfo {
        verb: Verb::Hold,
        queue_dir,
        config_dir: None,
        command_line: vec!["test".into()],
    }
}

#[test]
fn unreadable_files_are_named_in_the_plan_and_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let queue_dir = dir.path().join("spool");
    for q in ["incoming", "active", "deferred", "hold", "maildrop"] {
        fs::create_dir_all(queue_dir.join(q)).unwrap();
    }
    // A complete-looking queue file (mode 0700) that is not a queue file.
    let bad = queue_dir.join("hold").join("ABCDEF12345");
    fs::write(&bad, b"not a queue file\n").unwrap();
    fs::set_permissions(&bad, fs::Permissions::from_mode(0o700)).unwrap();
    let layout = QueueLayout::with_defaults(&queue_dir);
    let options = ScanOptions {
        queues: vec!["hold"],
        read: ReadPlan::default(),
        file_size_limit: queue_scan::DEFAULT_QUEUE_FILE_LIMIT,
    };
    let plan = act::plan::scan(&layout, &options, &ScanProgress::default(), 0, |_| true)
        .finish(Verb::Release);
    assert!(plan.is_empty());
    assert_eq!(plan.unreadable.len(), 1, "{:?}", plan.unreadable);
    assert_eq!(plan.unreadable[0].path, bad);
    assert!(!plan.unreadable[0].error.is_empty());

    let journal_path = dir.path().join("journal");
    let mut journal = Journal::open(&journal_path, &info(queue_dir)).unwrap();
    journal
        .refused(
            act::journal::Refusal::NothingSelected,
            Some(&plan),
            &SelectionRecord::default(),
        )
        .unwrap();
    journal.start(&plan, &SelectionRecord::default()).unwrap();
    drop(journal);
    let lines = common::journal_lines(&journal_path);
    for line in &lines[..2] {
        assert_eq!(
            line["unreadable"][0]["path"],
            bad.display().to_string(),
            "{line}"
        );
    }
    // Dropped after start without an end: the journal ends the run itself.
    assert_eq!(lines.len(), 3, "{lines:#?}");
    assert_eq!(lines[2]["event"], "end");
    assert!(lines[2]["error"].is_string());
}

struct Kinds(Vec<&'static str>);

impl Sink for Kinds {
    fn event(&mut self, event: &Event<'_>) -> Result<(), act::Error> {
        self.0.push(match event {
            Event::BatchStart { .. } => "batch",
            Event::End(_) => "end",
            _ => "other",
        });
        Ok(())
    }
}

#[test]
fn a_run_stopped_before_it_starts_still_ends_and_says_what_was_not_started() {
    let dir = tempfile::tempdir().unwrap();
    let postfix = postfix::Postfix::with_directories(
        PathBuf::from("/nonexistent/postconf"),
        PathBuf::from("/nonexistent"),
        None,
    );
    let layout = QueueLayout::with_defaults(dir.path());
    let mut plan = act::plan::PlanBuilder::new(0).finish(Verb::Hold);
    for id in ["ABCDEF12345", "BCDEF123456"] {
        plan.messages.push(Planned {
            queue: "deferred",
            id: id.into(),
            device: 1,
            inode: 2,
            size: 3,
        });
    }
    let mut executor = Executor::new(&postfix, layout);
    executor.stop.store(true, Ordering::SeqCst);
    let journal_path = dir.path().join("journal");
    let mut journal = Journal::open(&journal_path, &info(dir.path().into())).unwrap();
    journal.start(&plan, &SelectionRecord::default()).unwrap();
    let mut kinds = Kinds(Vec::new());
    let outcome = executor.run(&plan, &mut Tee(vec![&mut journal, &mut kinds]));
    drop(journal);
    assert_eq!(kinds.0, ["end"], "no batch started");
    assert!(outcome.interrupted);
    assert_eq!(outcome.not_started, 2);
    assert!(
        outcome.summary().contains("interrupted: 2 not started"),
        "{}",
        outcome.summary()
    );
    let lines = common::journal_lines(&journal_path);
    let events: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["start", "end"]);
    assert_eq!(lines[1]["interrupted"], true);
    assert_eq!(lines[1]["not_started"], 2);
}

/// The re-check before each batch, on a queue laid out by hand: a message
/// the scan saw in `deferred` and that qmgr has since moved to `active` is
/// still found (every queue is looked in, the scan's first); a file of
/// another inode under the ID is a reused ID; no file is gone. A re-check
/// that looked only where the scan saw the message would leave a moved
/// message alone, and one blind to the inode would act on someone else's.
#[test]
fn the_recheck_finds_a_moved_message_and_tells_a_reused_id_from_a_gone_one() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    for queue in ["maildrop", "incoming", "active", "deferred", "hold"] {
        fs::create_dir(dir.path().join(queue)).unwrap();
    }
    let layout = QueueLayout::with_defaults(dir.path());
    let id = "A45E798E3F5";
    let active = dir.path().join("active").join(id);
    fs::write(&active, b"queue file").unwrap();
    let meta = fs::metadata(&active).unwrap();
    let planned = Planned {
        queue: "deferred",
        id: id.into(),
        device: meta.dev(),
        inode: meta.ino(),
        size: 10,
    };
    assert_eq!(act::recheck(&layout, &planned), act::Recheck::At("active"));

    // Another file under the same name: the short ID was reused (made
    // before the old one goes, so that it cannot get the old inode).
    let other = dir.path().join("hold").join(id);
    fs::write(&other, b"another message").unwrap();
    fs::remove_file(&active).unwrap();
    assert_ne!(fs::metadata(&other).unwrap().ino(), planned.inode);
    assert_eq!(act::recheck(&layout, &planned), act::Recheck::Reused);

    // A symlink planted under the ID to the message's own file is not the
    // message: it is not followed (the name holds a symlink, not the file).
    let kept = dir.path().join("kept");
    fs::write(&kept, b"queue file").unwrap();
    let planned = Planned {
        inode: fs::metadata(&kept).unwrap().ino(),
        ..planned
    };
    fs::remove_file(&other).unwrap();
    std::os::unix::fs::symlink(&kept, dir.path().join("hold").join(id)).unwrap();
    let fd = queue_scan::open::open_dir(dir.path()).unwrap();
    let mut rechecker = act::Rechecker::new(fd);
    assert_eq!(rechecker.recheck(&layout, &planned), act::Recheck::Reused);
    assert_eq!(act::recheck(&layout, &planned), act::Recheck::Reused);

    fs::remove_file(dir.path().join("hold").join(id)).unwrap();
    assert_eq!(act::recheck(&layout, &planned), act::Recheck::Gone);
    assert_eq!(rechecker.recheck(&layout, &planned), act::Recheck::Gone);
}

/// The real queue in `testdata/demo-queue` (Postfix 3.7, see testdata/README.md).
fn demo_layout() -> QueueLayout {
    QueueLayout::with_defaults(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/demo-queue"),
    )
}

/// One message as real `postqueue -j` listed it over the demo queue.
#[derive(Debug)]
struct Showq {
    queue: &'static str,
    id: String,
    arrival: i64,
    size: u64,
    sender: String,
    recipients: Vec<String>,
}

/// `testdata/demo-queue.postqueue-j.out`, sorted by queue and ID (plan order).
fn showq() -> Vec<Showq> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/demo-queue.postqueue-j.out");
    let mut list: Vec<Showq> = fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            Showq {
                queue: queue_scan::MESSAGE_QUEUES
                    .iter()
                    .copied()
                    .find(|q| *q == v["queue_name"])
                    .unwrap(),
                id: v["queue_id"].as_str().unwrap().to_string(),
                arrival: v["arrival_time"].as_i64().unwrap(),
                size: v["message_size"].as_u64().unwrap(),
                sender: v["sender"].as_str().unwrap().to_string(),
                recipients: v["recipients"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["address"].as_str().unwrap().to_string())
                    .collect(),
            }
        })
        .collect();
    list.sort_by(|a, b| (a.queue, &a.id).cmp(&(b.queue, &b.id)));
    list
}

/// Feeds the demo queue's messages `ids` (queue, ID) to `builder` in that order, as a scan
/// worker would.
fn feed(builder: &mut act::PlanBuilder, layout: &QueueLayout, ids: &[(&'static str, &str)]) {
    for (queue, id) in ids {
        queue_scan::read_one(layout, queue, id, ReadPlan::default(), |m| {
            builder.add(m.expect("a sound queue file"))
        })
        .expect("the file is there");
    }
}

/// What the operator is shown before `expire` on the whole demo queue is what Postfix's
/// own `postqueue -j` says of it: the count, the bytes, the count per queue, the samples'
/// dates, sizes, senders and recipients; and `--dry-run`'s groups are the two postsuper
/// runs an expire needs (`-e` for queued mail, `-f` for held mail, which `-e` would leave
/// held), each with its IDs in plan order.
#[test]
fn the_preview_of_the_demo_queue_is_what_postqueue_lists() {
    let layout = demo_layout();
    let showq = showq();
    assert_eq!(showq.len(), 29);
    let now = 1_795_400_000;
    let options = ScanOptions::new(vec!["active", "deferred", "hold"], ReadPlan::default());
    let builder = act::plan::scan(&layout, &options, &ScanProgress::default(), now, |_| true);
    assert_eq!(builder.now(), now, "ages are measured from the scan's now");
    assert_eq!(builder.len(), 29);
    assert!(!builder.is_empty());
    let plan = builder.finish(Verb::Expire);

    assert!(plan.unreadable.is_empty(), "{:?}", plan.unreadable);
    assert!(!plan.is_empty());
    assert_eq!(plan.len(), showq.len());
    let listed: Vec<(&str, &str)> = showq.iter().map(|m| (m.queue, &*m.id)).collect();
    let planned: Vec<(&str, &str)> = plan.messages.iter().map(|m| (m.queue, &*m.id)).collect();
    assert_eq!(
        planned, listed,
        "every message once, sorted by queue and ID"
    );
    assert_eq!(plan.bytes(), showq.iter().map(|m| m.size).sum::<u64>());
    // The files hold 42443 bytes: the size is the message's, as showq reports it.
    assert_eq!(plan.bytes(), 17_486);
    let by_queue: Vec<(&str, u64)> = plan
        .preview
        .by_queue
        .iter()
        .map(|(q, n)| (*q, *n))
        .collect();
    assert_eq!(by_queue, [("active", 1), ("deferred", 26), ("hold", 2)]);
    // The README's SASL users: mallory's 20 forged senders are 20 distinct senders.
    assert_eq!(plan.preview.sasl_users.rows[0], (b"mallory".to_vec(), 20));
    let senders: std::collections::BTreeSet<&str> = showq.iter().map(|m| &*m.sender).collect();
    assert_eq!(plan.preview.senders.distinct, senders.len());
    assert_eq!(
        plan.preview.senders.rows,
        [
            (b"alice@ourdomain.example".to_vec(), 3),
            (b"bob@ourdomain.example".to_vec(), 3),
            (b"dave@ourdomain.example".to_vec(), 2)
        ]
    );

    // The samples: five distinct messages of the plan, in plan order, with what showq says.
    let samples = &plan.preview.samples;
    assert_eq!(samples.len(), act::preview::SAMPLES);
    for pair in samples.windows(2) {
        assert!(
            (pair[0].queue, &pair[0].id) < (pair[1].queue, &pair[1].id),
            "{samples:#?}"
        );
    }
    for s in samples {
        let m = showq
            .iter()
            .find(|m| m.queue == s.queue && m.id == s.id)
            .unwrap_or_else(|| panic!("{s:?} is not in the queue"));
        assert_eq!(s.arrival, m.arrival, "{s:?}");
        assert_eq!(s.size, m.size, "{s:?}");
        assert_eq!(s.sender, m.sender.as_bytes(), "{s:?}");
        assert_eq!(s.recipients, m.recipients.len(), "{s:?}");
        // showq lists the defer log's recipients first, in log order (showq.c), the
        // sample names the first still to deliver in the queue file: one of them.
        let first = String::from_utf8(s.first_recipient.clone().unwrap()).unwrap();
        assert!(m.recipients.contains(&first), "{s:?}");
    }

    // --dry-run: queued mail gets `postsuper -e`, held mail `postsuper -f`.
    let queued: Vec<&str> = showq
        .iter()
        .filter(|m| m.queue != "hold")
        .map(|m| &*m.id)
        .collect();
    let held: Vec<&str> = showq
        .iter()
        .filter(|m| m.queue == "hold")
        .map(|m| &*m.id)
        .collect();
    assert_eq!(
        plan.groups(),
        [
            (Some(postfix::Op::Expire), queued),
            (Some(postfix::Op::ExpireRelease), held)
        ]
    );
    // Flush is `postqueue -i`, one group of every ID.
    let mut flush = plan.clone();
    flush.verb = Verb::Flush;
    let all: Vec<&str> = showq.iter().map(|m| &*m.id).collect();
    assert_eq!(flush.groups(), [(None, all)]);
}

/// A message the scan met twice (listed in two directory passes, or by two workers) is one
/// message in the plan, one in the counts and one among the samples; the builders still
/// count every message they were given.
#[test]
fn a_message_met_twice_is_one_message_and_one_sample() {
    let layout = demo_layout();
    let showq = showq();
    let five: Vec<(&'static str, &str)> = showq
        .iter()
        .filter(|m| m.queue == "deferred")
        .take(5)
        .map(|m| (m.queue, &*m.id))
        .collect();
    let empty = act::PlanBuilder::new(0);
    assert!(empty.is_empty());
    assert_eq!(empty.len(), 0);
    let mut a = act::PlanBuilder::new(0);
    feed(&mut a, &layout, &five);
    let mut b = act::PlanBuilder::new(0);
    let mut reversed = five.clone();
    reversed.reverse();
    feed(&mut b, &layout, &reversed);
    a.merge(b);
    assert_eq!(a.len(), 10, "before de-duplication");
    let plan = a.finish(Verb::Hold);
    let planned: Vec<(&str, &str)> = plan.messages.iter().map(|m| (m.queue, &*m.id)).collect();
    assert_eq!(planned, five);
    assert_eq!(plan.preview.by_queue.get("deferred"), Some(&5));
    let sampled: Vec<(&str, &str)> = plan
        .preview
        .samples
        .iter()
        .map(|s| (s.queue, &*s.id))
        .collect();
    assert_eq!(sampled, five, "each sample once");
}

/// Postfix renamed a message from `deferred` to `active` while the scan listed both: the
/// scan met the same file (device, inode, ID) in two queues. It is one message, counted in
/// one queue, with one sample.
#[test]
fn a_message_renamed_between_queues_during_the_scan_is_one_message() {
    let demo = demo_layout();
    let dir = tempfile::tempdir().unwrap();
    for q in ["active", "deferred", "hold"] {
        fs::create_dir(dir.path().join(q)).unwrap();
    }
    let layout = QueueLayout::new(dir.path(), "", 0);
    let id = "3FA9298C54E";
    let to = layout.path("deferred", id);
    fs::copy(demo.path("deferred", id), &to).unwrap();
    fs::set_permissions(&to, fs::Permissions::from_mode(0o700)).unwrap();
    let mut builder = act::PlanBuilder::new(0);
    feed(&mut builder, &layout, &[("deferred", id)]);
    fs::rename(&to, layout.path("active", id)).unwrap();
    feed(&mut builder, &layout, &[("active", id)]);
    let plan = builder.finish(Verb::Hold);
    assert_eq!(plan.len(), 1, "{:?}", plan.messages);
    assert_eq!(plan.messages[0].queue, "active");
    let by_queue: Vec<(&str, u64)> = plan
        .preview
        .by_queue
        .iter()
        .map(|(q, n)| (*q, *n))
        .collect();
    assert_eq!(by_queue, [("active", 1)]);
    assert_eq!(plan.preview.samples.len(), 1);
    assert_eq!(plan.preview.samples[0].queue, "active");
}

/// A builder keeps as samples the first messages it is given, no more than the preview
/// shows (a worker sees millions): fed the demo queue from its last ID down, the samples
/// are the five last IDs.
#[test]
fn the_samples_are_the_first_messages_a_builder_is_given() {
    let layout = demo_layout();
    let showq = showq();
    let mut backwards: Vec<(&'static str, &str)> =
        showq.iter().map(|m| (m.queue, &*m.id)).collect();
    backwards.reverse();
    let mut builder = act::PlanBuilder::new(0);
    feed(&mut builder, &layout, &backwards);
    let plan = builder.finish(Verb::Delete);
    assert_eq!(plan.len(), 29);
    let sampled: Vec<(&str, &str)> = plan
        .preview
        .samples
        .iter()
        .map(|s| (s.queue, &*s.id))
        .collect();
    let mut first_five = backwards[..act::preview::SAMPLES].to_vec();
    first_five.reverse();
    assert_eq!(sampled, first_five);
}

/// Writes `n` files that look complete (mode 0700) but are not queue files into `hold`.
fn junk_queue(n: usize) -> (tempfile::TempDir, QueueLayout, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    for q in ["incoming", "active", "deferred", "hold", "maildrop"] {
        fs::create_dir(dir.path().join(q)).unwrap();
    }
    let layout = QueueLayout::new(dir.path(), "", 0);
    let ids: Vec<String> = (0..n)
        .map(|i| format!("{:011X}", 0x0A00_0000_0000_u64 + i as u64))
        .collect();
    for id in &ids {
        let path = layout.path("hold", id);
        fs::write(&path, b"not a queue file\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o700)).unwrap();
    }
    (dir, layout, ids)
}

/// A queue with more unreadable files than a plan names: the first 1000 are named, the
/// rest counted, and named plus counted is every unreadable file, whether one builder met
/// them or several were merged.
#[test]
fn past_a_thousand_unreadable_files_are_counted_not_named() {
    let named = act::plan::UNREADABLE_NAMED;
    assert_eq!(named, 1000);
    let (_dir, layout, ids) = junk_queue(named + 3);

    // One worker meets them all.
    let mut one = act::PlanBuilder::new(0);
    for id in &ids {
        queue_scan::read_one(&layout, "hold", id, ReadPlan::default(), |m| {
            one.error(&m.expect_err("junk"))
        })
        .expect("the file is there");
    }
    let plan = one.finish(Verb::Release);
    assert_eq!(plan.unreadable.len(), named);
    assert_eq!(plan.unreadable_not_named, 3);
    assert!(plan.unreadable.windows(2).all(|w| w[0].path < w[1].path));

    // Merged: a share that named 2 takes 998 of the other's 1000 names and counts the rest.
    let mut one = act::PlanBuilder::new(0);
    for id in &ids {
        queue_scan::read_one(&layout, "hold", id, ReadPlan::default(), |m| {
            one.error(&m.expect_err("junk"))
        });
    }
    let (_dir2, layout2, _) = junk_queue(2);
    let options = ScanOptions::new(vec!["hold"], ReadPlan::default());
    let mut two = act::plan::scan(&layout2, &options, &ScanProgress::default(), 0, |_| true);
    two.merge(one);
    let plan = two.finish(Verb::Release);
    assert_eq!(plan.unreadable.len(), named);
    assert_eq!(plan.unreadable_not_named, 5);

    // The real scan, however it splits the work among its threads.
    let options = ScanOptions::new(vec!["hold"], ReadPlan::default());
    let plan = act::plan::scan(&layout, &options, &ScanProgress::default(), 0, |_| true)
        .finish(Verb::Release);
    assert!(plan.is_empty());
    assert_eq!(plan.unreadable.len(), named);
    assert_eq!(plan.unreadable_not_named, 3);
}
