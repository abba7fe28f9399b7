//! The executor's promises, against real postsuper on a throwaway Postfix instance: it acts
//! on exactly the plan, skips a reused ID, reports what happened to every ID (done, gone
//! before or during the batch, already expired, not acted on, failed), deletes only what the
//! backup saved, and when postsuper dies mid-batch it reports (per ID and in the journal)
//! exactly the IDs postsuper had handled, and the journal ends; a failing sink or the stop
//! flag stops the run after the batch in flight; and `restore` puts back, through real
//! postdrop, what the backup saved.

mod common;

use std::collections::{BTreeMap, BTreeSet};
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
            Event::AlreadyExpired { id, .. } => format!("expired {id}"),
            Event::NotActed { id, action, .. } => format!("not-acted {id} {}", action.word()),
            Event::Failed {
                id, action, text, ..
            } => {
                format!("failed {id} {}: {text}", action.word())
            }
            Event::BackupFailed { id, error, .. } => format!("backup-failed {id}: {error}"),
            Event::BackupLogRefused { id, detail, .. } => format!("log-refused {id}: {detail}"),
            Event::BatchStart { batch, ids } => format!("batch {batch} {ids}"),
            Event::End(_) => "end".into(),
            _ => return Ok(()),
        };
        self.0.push(line);
        Ok(())
    }
}

impl Record {
    fn done(&self) -> BTreeSet<String> {
        self.ids("done")
    }

    /// The IDs of the events of one kind (`gone`, `expired`, `backup-failed`, …).
    fn ids(&self, kind: &str) -> BTreeSet<String> {
        self.0
            .iter()
            .filter_map(|l| l.strip_prefix(kind)?.strip_prefix(' '))
            .map(|l| l.split([' ', ':']).next().unwrap().to_string())
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
    // A reused ID skipped is a clean run: everything accounted for, nothing left.
    assert_eq!(outcome.not_started, 0, "{outcome:?}");
    assert!(outcome.clean(), "{outcome:?}");

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
    assert_eq!(lines[2]["batch"], 1, "batches are numbered from 1");
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

/// The IDs of a plan.
fn ids_of(plan: &Plan) -> BTreeSet<String> {
    plan.messages.iter().map(|m| m.id.to_string()).collect()
}

/// Writes an executable script.
fn script(path: &std::path::Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// `delete --backup`: every message is copied before postsuper deletes it (its queue file
/// byte for byte, with the SHA-256 of those bytes in the manifest); a message whose copy
/// fails (here: larger than the backup's limit) is kept in the queue and reported, never
/// deleted; a defer log planted as a symlink is not followed, and the message is still
/// saved and deleted, the refusal reported.
#[test]
fn delete_with_a_backup_deletes_only_what_was_saved() {
    if !postfix_ready() {
        return;
    }
    let bed = Bed::new(150);
    let before = bed.queue_state();
    let postfix = Postfix::new(Some(&bed.config_dir)).expect("postfix handle");
    let (layout, plan) = plan_for(&postfix, Verb::Delete, SPAMMER);
    assert!(plan.len() >= 10, "{}", plan.len());
    let bytes: BTreeMap<String, Vec<u8>> = plan
        .messages
        .iter()
        .map(|m| {
            let b = fs::read(layout.path(m.queue, &m.id)).unwrap();
            (m.id.to_string(), b)
        })
        .collect();
    let mut sizes: Vec<usize> = bytes.values().map(Vec::len).collect();
    sizes.sort_unstable();
    let limit = sizes[sizes.len() / 2] as u64;
    let too_big: BTreeSet<String> = bytes
        .iter()
        .filter(|(_, b)| b.len() as u64 > limit)
        .map(|(id, _)| id.clone())
        .collect();
    let saved: BTreeSet<String> = ids_of(&plan).difference(&too_big).cloned().collect();
    assert!(too_big.len() >= 2 && saved.len() >= 2, "{sizes:?}");
    // One message's defer log replaced by a symlink to a secret.
    let planted = saved.iter().next().unwrap().clone();
    let secret = bed.dir.path().join("secret");
    fs::write(&secret, b"root's secret\n").unwrap();
    let log = layout.path("defer", &planted);
    let _ = fs::remove_file(&log);
    fs::create_dir_all(log.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&secret, &log).unwrap();

    let backup_dir = bed.dir.path().join("backup");
    let mut backup = act::backup::Backup::open(&backup_dir, &layout).expect("backup dir");
    backup.set_queue_file_limit(limit);
    let mut executor = Executor::new(&postfix, layout);
    executor.backup = Some(backup);
    executor.batch_size = 4;
    let mut record = Record::default();
    let outcome = executor.run(&plan, &mut record);

    assert_eq!(record.done(), saved, "{:#?}", record.0);
    assert_eq!(record.ids("backup-failed"), too_big, "{:#?}", record.0);
    assert_eq!(record.ids("log-refused"), BTreeSet::from([planted.clone()]));
    assert!(
        record.0.iter().any(
            |l| l.starts_with(&format!("log-refused {planted}: defer: "))
                && l.ends_with("is a symbolic link: not copied")
        ),
        "{:#?}",
        record.0
    );
    assert_eq!(outcome.done, saved.len() as u64);
    assert_eq!(outcome.not_backed_up, too_big.len() as u64);
    assert_eq!(outcome.failed + outcome.gone + outcome.unconfirmed, 0);
    assert!(
        outcome
            .summary()
            .contains(&format!(", {} not backed up (kept) in ", too_big.len())),
        "{}",
        outcome.summary()
    );
    assert!(!outcome.clean());

    // Postfix: what was saved is deleted, what was not is where it was.
    let after = bed.queue_state();
    for (id, queue) in &before {
        if saved.contains(id) {
            assert!(!after.contains_key(id), "{id} deleted");
        } else {
            assert_eq!(after.get(id), Some(queue), "{id} kept");
        }
    }
    // The manifest: a line per deleted message; its copy is the queue file as it was,
    // and the SHA-256 is sha256sum's.
    let manifest = journal_lines(&backup_dir.join("manifest.jsonl"));
    let listed: BTreeSet<String> = manifest
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed, saved);
    for line in &manifest {
        let id = line["id"].as_str().unwrap();
        let copy = backup_dir.join(line["file"].as_str().unwrap());
        assert_eq!(fs::read(&copy).unwrap(), bytes[id], "{id}");
        assert_eq!(line["sha256"], common::sha256sum(&copy), "{id}");
        assert_eq!(line["size"], bytes[id].len(), "{id}");
    }
    let line = manifest
        .iter()
        .find(|l| l["id"] == planted.as_str())
        .unwrap();
    assert_eq!(
        line["logs_refused"]["defer"], "is a symbolic link",
        "{line}"
    );
    assert!(line["logs"].get("defer").is_none(), "{line}");
}

/// expire: the first run forces every message to expire (postsuper -e; held mail -f,
/// which also releases it); run again, postsuper says nothing of them, and they are
/// reported as already expired, which is not a failure.
#[test]
fn expiring_twice_reports_the_messages_as_already_expired() {
    if !postfix_ready() {
        return;
    }
    let bed = Bed::new(80);
    let postfix = Postfix::new(Some(&bed.config_dir)).expect("postfix handle");
    let (layout, plan) = plan_for(&postfix, Verb::Expire, SPAMMER);
    let theirs = ids_of(&plan);
    assert!(theirs.len() >= 5, "{theirs:?}");
    let mut executor = Executor::new(&postfix, layout);
    executor.check(Verb::Expire).expect("Postfix 3.7 has -e");
    let mut first = Record::default();
    let outcome = executor.run(&plan, &mut first);
    assert_eq!(first.done(), theirs, "{:#?}", first.0);
    assert!(outcome.clean(), "{outcome:?}");
    let listed = common::postqueue_j(&bed.config_dir);
    for id in &theirs {
        assert_eq!(listed[id]["forced_expire"], true, "{}", listed[id]);
        assert_ne!(listed[id]["queue_name"], "hold", "{}", listed[id]);
    }

    let (_, again) = plan_for(&postfix, Verb::Expire, SPAMMER);
    assert_eq!(ids_of(&again), theirs);
    let mut second = Record::default();
    let outcome = executor.run(&again, &mut second);
    assert_eq!(second.ids("expired"), theirs, "{:#?}", second.0);
    assert!(second.done().is_empty());
    assert_eq!(outcome.gone, theirs.len() as u64);
    assert_eq!(outcome.done + outcome.failed, 0);
    assert!(outcome.clean(), "{outcome:?}");
}

/// hold, with the queue changing under the run: a message deleted after the plan is
/// already gone (re-check); one held meanwhile by someone else is still there but postsuper
/// -h does not act on held mail: not acted, a failure; one deleted between the re-check and
/// postsuper (by a wrapper that deletes the first ID it is given) is already gone too.
#[test]
fn hold_reports_messages_gone_or_held_meanwhile() {
    if !postfix_ready() {
        return;
    }
    let bed = Bed::new(120);
    let postfix = Postfix::new(Some(&bed.config_dir)).expect("postfix handle");
    let (layout, plan) = plan_for(&postfix, Verb::Hold, SPAMMER);
    assert!(plan.len() >= 5, "{}", plan.len());
    let gone = plan.messages[0].id.to_string();
    let raced = plan.messages[1].id.to_string();
    let held = plan.messages[2].id.to_string();
    let postsuper = |flag: &str, id: &str| {
        let out = std::process::Command::new("/usr/sbin/postsuper")
            .arg("-c")
            .arg(&bed.config_dir)
            .args([flag, id])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    };
    postsuper("-d", &gone);
    postsuper("-h", &held);
    let wrapper = bed.dir.path().join("bin").join("postsuper");
    script(
        &wrapper,
        &format!(
            "#!/bin/bash\nIFS= read -r first\n/usr/sbin/postsuper -c {} -d \"$first\" 2>/dev/null\n\
             {{ printf '%s\\n' \"$first\"; cat; }} | exec -a postsuper /usr/sbin/postsuper \"$@\"\n",
            bed.config_dir.display()
        ),
    );
    let mut executor = Executor::new(&postfix, layout);
    executor.postsuper = Postsuper::with_programs(
        wrapper,
        PathBuf::from("/usr/sbin/postconf"),
        Some(&bed.config_dir),
    );
    let mut record = Record::default();
    let outcome = executor.run(&plan, &mut record);

    let rest: BTreeSet<String> = ids_of(&plan)
        .into_iter()
        .filter(|id| ![&gone, &raced, &held].contains(&id))
        .collect();
    assert_eq!(record.done(), rest, "{:#?}", record.0);
    assert_eq!(record.ids("gone"), BTreeSet::from([gone, raced]));
    assert_eq!(record.ids("not-acted"), BTreeSet::from([held.clone()]));
    assert!(record.0.contains(&format!("not-acted {held} hold")));
    assert_eq!(outcome.done, rest.len() as u64);
    assert_eq!(outcome.gone, 2);
    assert_eq!(outcome.failed, 1);
    assert!(
        outcome.summary().contains(&format!(
            "{} done, 2 already gone, 0 skipped (ID reused), 1 failed in ",
            rest.len()
        )),
        "{}",
        outcome.summary()
    );
    assert!(!outcome.clean());
    let after = bed.queue_state();
    for id in rest.iter().chain([&held]) {
        assert_eq!(after[id], "hold", "{id}");
    }
}

/// flush is `postqueue -i ID` per message: with the instance stopped, real postqueue fails
/// for each ID and each is reported failed with its words; a postqueue that succeeds for
/// all but one ID gets those reported done and the one failed.
#[test]
fn flush_reports_each_ids_postqueue_result() {
    if !postfix_ready() {
        return;
    }
    let bed = Bed::new(60);
    let before = bed.queue_state();
    let postfix = Postfix::new(Some(&bed.config_dir)).expect("postfix handle");
    let (layout, plan) = plan_for(&postfix, Verb::Flush, SPAMMER);
    let theirs = ids_of(&plan);
    assert!(theirs.len() >= 3, "{theirs:?}");
    assert_eq!(plan.groups().len(), 1);
    assert_eq!(plan.groups()[0].0, None);
    let mut executor = Executor::new(&postfix, layout.clone());
    let mut record = Record::default();
    let outcome = executor.run(&plan, &mut record);
    assert_eq!(record.ids("failed"), theirs, "{:#?}", record.0);
    assert_eq!(outcome.failed, theirs.len() as u64);
    assert_eq!(outcome.done, 0);
    assert!(!outcome.clean());
    assert_eq!(bed.queue_state(), before);

    // The instance is not running, so real postqueue cannot succeed: a stand-in that
    // flushes every ID but one, for the other path.
    let refused = plan.messages[1].id.to_string();
    let stub = bed.dir.path().join("bin").join("postqueue");
    script(
        &stub,
        &format!(
            "#!/bin/sh\nfor a; do last=$a; done\n[ \"$last\" = {refused} ] || exit 0\n\
             echo 'postqueue: fatal: no such message' >&2\nexit 69\n"
        ),
    );
    let mut executor = Executor::new(&postfix, layout);
    executor.postqueue = stub;
    let mut record = Record::default();
    let outcome = executor.run(&plan, &mut record);
    let mut done = theirs.clone();
    done.remove(&refused);
    assert_eq!(record.done(), done, "{:#?}", record.0);
    assert_eq!(record.ids("failed"), BTreeSet::from([refused.clone()]));
    assert!(record
        .0
        .iter()
        .any(|l| l.starts_with(&format!("failed {refused} flush: "))
            && l.contains("no such message")));
    assert_eq!(outcome.done, done.len() as u64);
    assert_eq!(outcome.failed, 1);
}

/// A postsuper that cannot be started ran nothing: the batch is reported aborted with no
/// ID unconfirmed, every entry not started, the run stopped, nothing moved.
#[test]
fn a_postsuper_that_cannot_start_leaves_everything_not_started() {
    if !postfix_ready() {
        return;
    }
    let bed = Bed::new(60);
    let before = bed.queue_state();
    let postfix = Postfix::new(Some(&bed.config_dir)).expect("postfix handle");
    let (layout, plan) = plan_for(&postfix, Verb::Hold, SPAMMER);
    let n = plan.len() as u64;
    assert!(n >= 3);
    let mut executor = Executor::new(&postfix, layout);
    executor.postsuper = Postsuper::with_programs(
        bed.dir.path().join("no-such-postsuper"),
        PathBuf::from("/usr/sbin/postconf"),
        Some(&bed.config_dir),
    );
    executor.batch_size = 2;
    let mut record = Record::default();
    let outcome = executor.run(&plan, &mut record);
    assert_eq!(record.0, ["batch 1 2", "aborted  0", "end"]);
    assert_eq!(outcome.unconfirmed, 0);
    assert_eq!(outcome.not_started, n);
    assert!(!outcome.interrupted);
    assert!(
        outcome
            .error
            .as_deref()
            .is_some_and(|e| e.contains("no-such-postsuper")),
        "{outcome:?}"
    );
    assert!(
        outcome
            .summary()
            .contains(&format!(", stopped: {n} not started in ")),
        "{}",
        outcome.summary()
    );
    assert!(!outcome.summary().contains("not confirmed"));
    assert!(
        outcome
            .summary()
            .starts_with(&format!("hold: {n} selected, 0 done, 0 already gone, ")),
        "{}",
        outcome.summary()
    );
    assert_eq!(bed.queue_state(), before);
}

/// A sink that fails (the journal's disk is full) stops the run after the batch in flight:
/// that batch is done and reported, no other starts. The stop flag (Ctrl-C) does the same.
#[test]
fn a_failing_sink_or_the_stop_flag_stops_the_run_after_the_batch_in_flight() {
    if !postfix_ready() {
        return;
    }
    struct FailAfterFirstBatch(Vec<String>);
    impl Sink for FailAfterFirstBatch {
        fn event(&mut self, event: &Event<'_>) -> Result<(), act::Error> {
            match event {
                Event::Done { id, .. } => self.0.push(id.to_string()),
                Event::BatchEnd { .. } => {
                    return Err(act::Error::Setting {
                        name: "journal",
                        detail: "disk full".into(),
                    })
                }
                _ => {}
            }
            Ok(())
        }
    }
    struct StopAfterFirstBatch(std::sync::Arc<std::sync::atomic::AtomicBool>, Vec<String>);
    impl Sink for StopAfterFirstBatch {
        fn event(&mut self, event: &Event<'_>) -> Result<(), act::Error> {
            match event {
                Event::Done { id, .. } => self.1.push(id.to_string()),
                Event::BatchEnd { .. } => self.0.store(true, std::sync::atomic::Ordering::SeqCst),
                _ => {}
            }
            Ok(())
        }
    }
    let bed = Bed::new(120);
    let postfix = Postfix::new(Some(&bed.config_dir)).expect("postfix handle");
    let (layout, plan) = plan_for(&postfix, Verb::Hold, SPAMMER);
    let n = plan.len() as u64;
    assert!(n >= 8, "{n}");
    let first: Vec<String> = plan.messages[..3]
        .iter()
        .map(|m| m.id.to_string())
        .collect();
    let mut executor = Executor::new(&postfix, layout.clone());
    executor.batch_size = 3;
    let mut sink = FailAfterFirstBatch(Vec::new());
    let outcome = executor.run(&plan, &mut sink);
    assert_eq!(sink.0, first);
    assert_eq!(outcome.done, 3);
    assert_eq!(outcome.not_started, n - 3);
    assert!(!outcome.interrupted);
    assert_eq!(
        outcome.error.as_deref(),
        Some("stopped: journal: disk full")
    );
    assert!(outcome
        .summary()
        .contains(&format!(", stopped: {} not started", n - 3)));

    // The stop flag, on what is left.
    let (_, rest) = plan_for(&postfix, Verb::Hold, SPAMMER);
    assert_eq!(rest.len() as u64, n - 3);
    let second: Vec<String> = rest.messages[..3]
        .iter()
        .map(|m| m.id.to_string())
        .collect();
    let mut executor = Executor::new(&postfix, layout);
    executor.batch_size = 3;
    let mut sink = StopAfterFirstBatch(executor.stop.clone(), Vec::new());
    let outcome = executor.run(&rest, &mut sink);
    assert_eq!(sink.1, second);
    assert!(outcome.interrupted);
    assert_eq!(outcome.not_started, n - 6);
    assert!(outcome.error.is_none());
    assert!(outcome
        .summary()
        .contains(&format!(", interrupted: {} not started", n - 6)));
    let state = bed.queue_state();
    for id in first.iter().chain(&second) {
        assert_eq!(state[id], "hold", "{id}");
    }
    // What was not started is still not held.
    let (_, left) = plan_for(&postfix, Verb::Hold, SPAMMER);
    assert_eq!(left.len() as u64, n - 6);
}

/// The settings are checked before anything is selected: a batch size of 0, a rate that is
/// not a positive number; and expire needs postsuper -e/-f (Postfix 3.5), which Debian's
/// 3.7 has and a 3.4 (its postconf faked) has not.
#[test]
fn settings_and_the_postfix_version_are_checked_first() {
    if !postfix_ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let postfix = Postfix::with_directories(
        PathBuf::from("/usr/sbin/postconf"),
        PathBuf::from("/usr/sbin"),
        None,
    );
    let layout = QueueLayout::with_defaults(dir.path());
    let mut executor = Executor::new(&postfix, layout);
    for verb in Verb::ALL {
        executor
            .check(verb)
            .unwrap_or_else(|e| panic!("{verb:?}: {e}"));
    }
    executor.rate = Some(0.5);
    executor
        .check(Verb::Release)
        .expect("half a message a second");
    for rate in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        executor.rate = Some(rate);
        let e = executor.check(Verb::Release).expect_err("a bad rate");
        assert!(e.to_string().starts_with("--rate: "), "{rate}: {e}");
    }
    executor.rate = None;
    executor.batch_size = 0;
    let e = executor.check(Verb::Hold).expect_err("batch size 0");
    assert_eq!(e.to_string(), "--batch-size: must be at least 1");
    executor.batch_size = 1;

    let old = dir.path().join("bin").join("postconf");
    script(&old, "#!/bin/sh\necho 3.4.14\n");
    executor.postsuper = Postsuper::with_programs(PathBuf::from("/usr/sbin/postsuper"), old, None);
    let e = executor.check(Verb::Expire).expect_err("3.4 has no -e");
    assert!(e.to_string().starts_with("expire: "), "{e}");
    for verb in [
        Verb::Hold,
        Verb::Release,
        Verb::Requeue,
        Verb::Delete,
        Verb::Flush,
    ] {
        executor
            .check(verb)
            .unwrap_or_else(|e| panic!("{verb:?}: {e}"));
    }
}

/// The one line the terminal and syslog get: each kind of trouble is named when it
/// happened and only then, and only a run without any is clean.
#[test]
fn the_summary_names_each_kind_of_trouble_only_when_it_happened() {
    let base = act::Outcome {
        verb: "delete",
        selected: 10,
        done: 8,
        gone: 1,
        reused: 1,
        elapsed: std::time::Duration::from_millis(1250),
        ..act::Outcome::default()
    };
    assert_eq!(
        base.summary(),
        "delete: 10 selected, 8 done, 1 already gone, 1 skipped (ID reused), 0 failed in 1.2s"
    );
    assert!(base.clean());
    let cases: [(&str, act::Outcome); 6] = [
        (
            "0 failed",
            act::Outcome {
                failed: 2,
                ..base.clone()
            },
        ),
        (
            ", 2 not backed up (kept) in",
            act::Outcome {
                not_backed_up: 2,
                ..base.clone()
            },
        ),
        (
            ", 2 not confirmed (postsuper died) in",
            act::Outcome {
                unconfirmed: 2,
                ..base.clone()
            },
        ),
        (
            ", stopped: 2 not started in",
            act::Outcome {
                not_started: 2,
                ..base.clone()
            },
        ),
        (
            ", interrupted: 0 not started in",
            act::Outcome {
                interrupted: true,
                ..base.clone()
            },
        ),
        (
            "0 failed in",
            act::Outcome {
                error: Some("journal".into()),
                ..base.clone()
            },
        ),
    ];
    for (words, outcome) in &cases {
        assert!(!outcome.clean(), "{outcome:?}");
        if *words == "0 failed" {
            assert!(
                outcome.summary().contains(", 2 failed in"),
                "{}",
                outcome.summary()
            );
        } else {
            assert!(outcome.summary().contains(words), "{}", outcome.summary());
        }
        let named = ["not backed up", "not confirmed", "not started"]
            .iter()
            .filter(|w| outcome.summary().contains(**w))
            .count();
        assert!(named <= 1, "{}", outcome.summary());
    }
}

/// `restore` puts back what `delete --backup` saved, through real postdrop: a dry run
/// changes nothing; a saved copy edited since (same size) is refused by its SHA-256 and
/// not injected; every other message is in `maildrop` with the sender and the to-do
/// recipients its manifest line names, as real `postqueue -j` lists them; a second restore
/// skips everything as already restored.
#[test]
fn restore_puts_back_what_the_backup_saved_and_nothing_twice() {
    if !postfix_ready() {
        return;
    }
    use act::backup::{Backup, RestoreEvent, RestorePlan};
    let bed = Bed::new(80);
    let postfix = Postfix::new(Some(&bed.config_dir)).expect("postfix handle");
    let (layout, plan) = plan_for(&postfix, Verb::Delete, SPAMMER);
    assert!(plan.len() >= 5, "{}", plan.len());
    let backup_dir = bed.dir.path().join("backup");
    let mut executor = Executor::new(&postfix, layout.clone());
    executor.backup = Some(Backup::open(&backup_dir, &layout).expect("backup dir"));
    let outcome = executor.run(&plan, &mut act::Discard);
    assert!(outcome.clean(), "{outcome:?}");
    let manifest = journal_lines(&backup_dir.join("manifest.jsonl"));
    assert_eq!(manifest.len(), plan.len());
    // sender and to-do recipients per saved file, as the manifest says.
    let expected: BTreeMap<String, (serde_json::Value, Vec<serde_json::Value>)> = manifest
        .iter()
        .map(|l| {
            let todo = l["recipients"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["state"] == "todo")
                .map(|r| r["address"].clone())
                .collect();
            (
                l["file"].as_str().unwrap().to_string(),
                (l["sender"].clone(), todo),
            )
        })
        .collect();
    let restorable: BTreeSet<String> = expected
        .iter()
        .filter(|(_, (_, todo))| !todo.is_empty())
        .map(|(f, _)| f.clone())
        .collect();
    assert!(restorable.len() >= 3, "{expected:?}");

    // Edited since it was saved: the same length, another recipient.
    let edited = restorable.iter().next().unwrap().clone();
    let path = backup_dir.join(&edited);
    let mut bytes = fs::read(&path).unwrap();
    let todo0 = expected[&edited].1[0].as_str().unwrap().as_bytes().to_vec();
    let at = bytes
        .windows(todo0.len())
        .position(|w| w == todo0)
        .expect("the recipient is in the file");
    bytes[at] = if bytes[at] == b'x' { b'y' } else { b'x' };
    fs::write(&path, &bytes).unwrap();

    let state_before = bed.queue_state();
    let dry = RestorePlan::load(&backup_dir, &postfix).expect("load");
    assert_eq!(dry.len(), restorable.len() - 1);
    let mut events = Vec::new();
    let report = dry.execute(true, &mut |e| events.push(e)).expect("dry run");
    assert_eq!(report.restored.len(), restorable.len() - 1);
    assert!(report.restored.iter().all(|(_, new)| new.is_empty()));
    assert_eq!(bed.queue_state(), state_before, "a dry run changes nothing");
    assert!(!backup_dir.join("restored.jsonl").exists());

    let restore = RestorePlan::load(&backup_dir, &postfix).expect("load");
    assert!(!restore.is_empty());
    let failed: Vec<&str> = restore.failed.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(failed, [edited.as_str()]);
    assert!(
        restore.failed[0].1.contains("SHA-256"),
        "{:?}",
        restore.failed
    );
    let files: BTreeSet<String> = restore.messages.iter().map(|m| m.file.clone()).collect();
    let mut want = restorable.clone();
    want.remove(&edited);
    assert_eq!(files, want);
    let mut events = Vec::new();
    let report = restore
        .execute(false, &mut |e| events.push(e))
        .expect("restore");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, RestoreEvent::Failed(t) if t.starts_with(&edited))),
        "{events:?}"
    );
    assert_eq!(report.restored.len(), want.len(), "{report:?}");
    let failed: Vec<&str> = report.failed.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        failed,
        [edited.as_str()],
        "the report names the refused copy"
    );
    let skipped: BTreeSet<String> = report.skipped.iter().map(|(f, _)| f.clone()).collect();
    let no_todo: BTreeSet<String> = expected
        .keys()
        .filter(|f| !restorable.contains(*f))
        .cloned()
        .collect();
    assert_eq!(skipped, no_todo, "messages with nothing left to deliver");
    let listed = common::postqueue_j(&bed.config_dir);
    let by_old_id: BTreeMap<&str, &str> = report
        .restored
        .iter()
        .map(|(old, new)| (old.as_str(), new.as_str()))
        .collect();
    for file in &want {
        let id = file.split('/').nth(1).unwrap();
        let new = by_old_id[id];
        let entry = &listed[new];
        assert_eq!(entry["queue_name"], "maildrop", "{entry}");
        let (sender, todo) = &expected[file];
        assert_eq!(&entry["sender"], sender, "{entry}");
        let rcpts: Vec<serde_json::Value> = entry["recipients"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["address"].clone())
            .collect();
        assert_eq!(&rcpts, todo, "{entry}");
    }
    let restored = journal_lines(&backup_dir.join("restored.jsonl"));
    assert_eq!(restored.len(), want.len());

    // Again: nothing to do, each saved message already restored.
    let again = RestorePlan::load(&backup_dir, &postfix).expect("load");
    assert!(again.is_empty(), "{:?}", again.messages);
    let skipped: BTreeSet<String> = again
        .skipped
        .iter()
        .filter(|(_, why)| why == "already restored")
        .map(|(f, _)| f.clone())
        .collect();
    assert_eq!(skipped, want);
    let report = again.execute(false, &mut |_| {}).expect("restore");
    assert!(report.restored.is_empty());
    let skipped: BTreeSet<String> = report.skipped.iter().map(|(f, _)| f.clone()).collect();
    assert_eq!(skipped, want.union(&no_todo).cloned().collect());
    let failed: Vec<&str> = report.failed.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(failed, [edited.as_str()]);
}

/// postsuper warns about one ID and goes on: between the re-check and postsuper, the queue
/// file under the first ID is moved aside and a FIFO put in its place (by a wrapper around
/// real postsuper). That ID is reported failed with postsuper's warning, the rest done;
/// and the same when postsuper then dies after the second ID.
#[test]
fn an_id_postsuper_warns_about_is_reported_failed_with_its_warning() {
    if !postfix_ready() {
        return;
    }
    for dies in [false, true] {
        let bed = Bed::new(80);
        let postfix = Postfix::new(Some(&bed.config_dir)).expect("postfix handle");
        let (layout, plan) = plan_for(&postfix, Verb::Hold, SPAMMER);
        assert!(plan.len() >= 4, "{}", plan.len());
        let first = plan.messages[0].id.to_string();
        let path = layout.path(plan.messages[0].queue, &first);
        let aside = bed.dir.path().join("aside");
        let wrapper = bed.dir.path().join("bin").join("postsuper");
        script(
            &wrapper,
            &format!(
                "#!/bin/bash\nIFS= read -r first\nmv {path} {aside} && mkfifo -m 0700 {path}\n\
                 {{ printf '%s\\n' \"$first\"; cat; }} | {{ {} exec -a postsuper /usr/sbin/postsuper \"$@\"; }}\n{}",
                if dies { "head -n 2 |" } else { "" },
                if dies { "kill -KILL $$\n" } else { "" },
                path = path.display(),
                aside = aside.display(),
            ),
        );
        let mut executor = Executor::new(&postfix, layout);
        executor.postsuper = Postsuper::with_programs(
            wrapper,
            PathBuf::from("/usr/sbin/postconf"),
            Some(&bed.config_dir),
        );
        let mut record = Record::default();
        let outcome = executor.run(&plan, &mut record);
        let done: BTreeSet<String> = if dies {
            BTreeSet::from([plan.messages[1].id.to_string()])
        } else {
            ids_of(&plan)
                .into_iter()
                .filter(|id| *id != first)
                .collect()
        };
        assert_eq!(record.done(), done, "{:#?}", record.0);
        assert_eq!(record.ids("failed"), BTreeSet::from([first.clone()]));
        let relative = path
            .strip_prefix(&bed.queue_dir)
            .unwrap()
            .display()
            .to_string();
        assert!(
            record.0.contains(&format!(
                "failed {first} hold: postsuper: warning: {relative}: uid 0: not a regular file"
            )),
            "{:#?}",
            record.0
        );
        assert_eq!(outcome.failed, 1);
        assert_eq!(outcome.done, done.len() as u64);
        let unconfirmed = if dies { plan.len() as u64 - 2 } else { 0 };
        assert_eq!(outcome.unconfirmed, unconfirmed, "{outcome:?}");
    }
}
