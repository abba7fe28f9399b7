//! Plans and runs that need no Postfix: unreadable files are named (in the plan and the
//! journal's `start`), a run stopped before its first batch still ends (in the journal too),
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

    fs::remove_file(&other).unwrap();
    assert_eq!(act::recheck(&layout, &planned), act::Recheck::Gone);
}
