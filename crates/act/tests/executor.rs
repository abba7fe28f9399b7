//! The executor's promises, against real postsuper on a throwaway Postfix instance: it acts
//! on exactly the plan, skips a reused ID, and when postsuper dies mid-batch it reports (per
//! ID and in the journal) exactly the IDs postsuper had handled, and the journal ends.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use act::{Event, Executor, Journal, Plan, RunInfo, SelectionRecord, Sink, Tee, Verb};
use common::{journal_lines, postfix_ready, Bed, SPAMMER};
use postfix::{Postfix, Postsuper};
use queue_scan::{QueueLayout, ReadPlan, ScanOptions, ScanProgress};

/// The plan for `verb` on `login`'s mail, through the library alone.
fn plan_for(postfix: &Postfix, verb: Verb, login: &str) -> (QueueLayout, Plan) {
    let layout = postfix.instance_config().expect("postconf").layout;
    let selection = select::Selection::builder()
        .flag("--sasl-user", Some(login))
        .expect("selection")
        .build();
    let ctx = select::Context::now();
    let options = ScanOptions {
        queues: verb.default_queues().to_vec(),
        read: ReadPlan::default(),
        file_size_limit: queue_scan::DEFAULT_QUEUE_FILE_LIMIT,
    };
    let builder = act::plan::scan(
        &layout,
        &options,
        &ScanProgress::default(),
        ctx.now,
        |msg| selection.matches(&query::MessageView { msg, local: None }, &ctx),
    );
    (layout, builder.finish(verb))
}

/// Every event as a line: `done ID queue hold`, `reused ID`, …
#[derive(Default)]
struct Record(Vec<String>);

impl Sink for Record {
    fn event(&mut self, event: &Event<'_>) -> Result<(), act::Error> {
        let line = match event {
            Event::Done { id, queue, action } => format!("done {id} {queue} {}", action.word()),
            Event::Reused { id, .. } => format!("reused {id}"),
            Event::AlreadyGone { id, .. } => format!("gone {id}"),
            Event::BatchAborted {
                partial,
                unconfirmed,
                ..
            } => format!("aborted {} {}", partial.join(","), unconfirmed.len()),
            Event::End(_) => "end".into(),
            _ => return Ok(()),
        };
        self.0.push(line);
        Ok(())
    }
}

impl Record {
    fn done(&self) -> BTreeSet<String> {
        self.0
            .iter()
            .filter_map(|l| l.strip_prefix("done "))
            .map(|l| l.split(' ').next().unwrap().to_string())
            .collect()
    }
}

#[test]
fn hold_by_sasl_user_holds_exactly_that_users_mail_and_skips_a_reused_id() {
    if !postfix_ready() {
        return;
    }
    let bed = Bed::new(150);
    let before = bed.queue_state();
    let theirs = bed.ids_of_sasl_user(SPAMMER);
    let to_hold: BTreeSet<String> = theirs
        .iter()
        .filter(|id| before[*id] != "hold")
        .cloned()
        .collect();
    assert!(
        to_hold.len() >= 10,
        "the bed has the spammer's mail: {theirs:?}"
    );

    let postfix = Postfix::new(Some(&bed.config_dir)).expect("postfix handle");
    let (layout, plan) = plan_for(&postfix, Verb::Hold, SPAMMER);
    let planned: BTreeSet<String> = plan.messages.iter().map(|m| m.id.to_string()).collect();
    assert_eq!(
        planned, to_hold,
        "the plan is exactly their mail outside hold"
    );
    assert_eq!(
        plan.preview.sasl_users.rows[0],
        (SPAMMER.as_bytes().to_vec(), to_hold.len() as u64)
    );

    // Reuse one ID: same name, another file (another inode), as Postfix does with short IDs.
    let victim = &plan.messages[0];
    let path = layout.path(victim.queue, &victim.id);
    let bytes = fs::read(&path).unwrap();
    let meta = fs::metadata(&path).unwrap();
    // Written beside it and renamed over it, so that the old inode is still in use when the
    // new file gets one (a freed inode number is handed out again at once).
    let fresh = path.with_file_name("qsurgeon-test-reuse");
    fs::write(&fresh, &bytes).unwrap();
    fs::set_permissions(&fresh, meta.permissions()).unwrap();
    {
        use std::os::unix::fs::MetadataExt;
        std::os::unix::fs::chown(&fresh, Some(meta.uid()), Some(meta.gid())).unwrap();
        fs::rename(&fresh, &path).unwrap();
        assert_ne!(fs::metadata(&path).unwrap().ino(), victim.inode);
    }

    let mut executor = Executor::new(&postfix, layout);
    executor.batch_size = 7;
    let mut record = Record::default();
    let outcome = executor.run(&plan, &mut record);
    let mut expected = to_hold.clone();
    expected.remove(&*victim.id);
    assert_eq!(record.done(), expected, "{:?}", record.0);
    assert!(record.0.contains(&format!("reused {}", victim.id)));
    assert_eq!(record.0.last().map(String::as_str), Some("end"));
    assert_eq!(outcome.done, expected.len() as u64);
    assert_eq!(outcome.reused, 1);
    assert!(
        outcome.error.is_none() && outcome.failed == 0,
        "{outcome:?}"
    );

    let after = bed.queue_state();
    for (id, queue) in &after {
        if expected.contains(id) {
            assert_eq!(queue, "hold", "{id} held");
        } else {
            assert_eq!(Some(queue), before.get(id), "{id} untouched");
        }
    }
}

#[test]
fn when_postsuper_dies_mid_batch_the_ids_it_handled_are_reported_and_journaled() {
    if !postfix_ready() {
        return;
    }
    let bed = Bed::new(120);
    let before = bed.queue_state();
    let postfix = Postfix::new(Some(&bed.config_dir)).expect("postfix handle");
    let (layout, plan) = plan_for(&postfix, Verb::Hold, SPAMMER);
    assert!(plan.len() > 5, "{}", plan.len());

    // The real postsuper, given only the first three IDs, then the process is killed: it
    // dies with IDs still in its pipe, having handled three.
    let bin = bed.dir.path().join("bin");
    fs::create_dir(&bin).unwrap();
    let wrapper = bin.join("postsuper");
    fs::write(
        &wrapper,
        "#!/bin/bash\nhead -n 3 | (exec -a postsuper /usr/sbin/postsuper \"$@\")\nkill -KILL $$\n",
    )
    .unwrap();
    fs::set_permissions(&wrapper, fs::Permissions::from_mode(0o755)).unwrap();

    let mut executor = Executor::new(&postfix, layout);
    executor.postsuper = Postsuper::with_programs(
        wrapper,
        PathBuf::from("/usr/sbin/postconf"),
        Some(&bed.config_dir),
    );
    let journal_path = bed.dir.path().join("journal");
    let info = RunInfo {
        verb: Verb::Hold,
        queue_dir: bed.queue_dir.clone(),
        config_dir: Some(bed.config_dir.clone()),
        command_line: vec!["test".into()],
    };
    let mut journal = Journal::open(&journal_path, &info).expect("journal");
    let selection = SelectionRecord {
        flags: vec![format!("--sasl-user {SPAMMER}")],
        expression: format!("sasl_user = {SPAMMER}"),
    };
    journal.start(&plan, &selection).unwrap();
    let mut record = Record::default();
    let outcome = executor.run(&plan, &mut Tee(vec![&mut journal, &mut record]));
    drop(journal);

    let handled: BTreeSet<String> = plan.messages[..3]
        .iter()
        .map(|m| m.id.to_string())
        .collect();
    assert_eq!(record.done(), handled, "per-ID events: {:?}", record.0);
    assert_eq!(outcome.done, 3);
    assert_eq!(outcome.unconfirmed, plan.len() as u64 - 3);
    assert!(
        outcome
            .error
            .as_deref()
            .is_some_and(|e| e.contains("signal")),
        "{outcome:?}"
    );
    assert!(!outcome.clean());

    let lines = journal_lines(&journal_path);
    let events: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["start", "error", "batch", "end"], "{lines:#?}");
    let ids = |v: &serde_json::Value| -> BTreeSet<String> {
        v.as_array()
            .unwrap_or_else(|| panic!("{v}"))
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&lines[1]["done"]), handled);
    assert_eq!(ids(&lines[2]["hold"]["done"]), handled);
    assert_eq!(
        lines[2]["hold"]["unconfirmed"].as_array().unwrap().len(),
        plan.len() - 3
    );
    assert_eq!(lines[3]["done"], 3);
    assert!(lines[3]["error"].is_string());

    // And that is what Postfix did: those three are held, nothing else moved.
    let after = bed.queue_state();
    for (id, queue) in &after {
        if handled.contains(id) {
            assert_eq!(queue, "hold", "{id}");
        } else {
            assert_eq!(Some(queue), before.get(id), "{id} untouched");
        }
    }
}

#[test]
fn with_its_maillog_unwritable_postsuper_dies_after_one_id_and_that_id_is_reported() {
    if !postfix_ready() {
        return;
    }
    let bed = Bed::new(60);
    let before = bed.queue_state();
    // postsuper logs to maillog_file itself while the master is stopped, after dropping to
    // user postfix: a root-only maillog makes it die on its first log line, which comes
    // right after its first action (postsuper.c: the msg_info() after the rename).
    let maillog = bed.maillog();
    std::os::unix::fs::chown(&maillog, Some(0), Some(0)).unwrap();
    fs::set_permissions(&maillog, fs::Permissions::from_mode(0o600)).unwrap();
    let postfix = Postfix::new(Some(&bed.config_dir)).expect("postfix handle");
    let (layout, plan) = plan_for(&postfix, Verb::Hold, SPAMMER);
    assert!(plan.len() > 2, "{}", plan.len());
    let mut executor = Executor::new(&postfix, layout);
    let mut record = Record::default();
    let outcome = executor.run(&plan, &mut record);

    let after = bed.queue_state();
    let moved: BTreeSet<String> = after
        .iter()
        .filter(|(id, q)| before.get(*id) != Some(q))
        .map(|(id, _)| id.clone())
        .collect();
    assert_eq!(
        moved.len(),
        1,
        "postsuper held one message before dying: {moved:?}"
    );
    assert_eq!(
        record.done(),
        moved,
        "and that one is reported: {:?}",
        record.0
    );
    assert_eq!(outcome.done, 1);
    assert_eq!(outcome.unconfirmed, plan.len() as u64 - 1);
    let error = outcome.error.as_deref().unwrap_or_default();
    assert!(error.contains("open logfile"), "{error}");
    assert_eq!(record.0.last().map(String::as_str), Some("end"));
}
