//! The verbs that change the queue, on real instances with real postsuper:
//! only the selected messages change state (checked with `postqueue -j`
//! before and after), the safety rails (`--dry-run`, `--max`, `--yes`, an
//! empty selection), per-ID reports, the journal, and large batches.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use crate::postfix::{label, require_postfix, IdStyle, Instance};
use crate::util::{assert_exit, qsurgeon, run};

/// queue_id -> (queue_name, forced_expire), from real `postqueue -j`.
pub fn queue_state(instance: &Instance) -> BTreeMap<String, (String, bool)> {
    instance
        .postqueue_json()
        .iter()
        .map(|m| {
            let id = m["queue_id"].as_str().unwrap().to_string();
            (
                id,
                (
                    m["queue_name"].as_str().unwrap().to_string(),
                    m["forced_expire"] == Value::Bool(true),
                ),
            )
        })
        .collect()
}

/// The spammer's messages, as the bed labelled them when it injected them.
pub fn spam_ids(instance: &Instance) -> BTreeSet<String> {
    instance
        .labels
        .iter()
        .filter(|(k, _)| k.starts_with(label::SPAM_PREFIX))
        .map(|(_, id)| id.clone())
        .collect()
}

/// `qsurgeon -c DIR VERB ARGS --journal J`.
fn act(instance: &Instance, journal: &Path, verb: &str, args: &[&str]) -> std::process::Output {
    run(qsurgeon()
        .arg("-c")
        .arg(&instance.config_dir)
        .arg(verb)
        .args(args)
        .arg("--journal")
        .arg(journal))
}

fn journal_events(journal: &Path) -> Vec<Value> {
    std::fs::read_to_string(journal)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn delete_by_sasl_user_removes_exactly_that_users_mail() {
    if !require_postfix() {
        return;
    }
    let instance = Instance::new_populated(IdStyle::Short);
    let journal = instance.root.join("journal");
    let before = queue_state(&instance);
    let spam = spam_ids(&instance);
    assert!(
        spam.len() >= 20,
        "the bed injected the spammer's mail: {spam:?}"
    );
    let with_logs: Vec<&String> = spam
        .iter()
        .filter(|id| instance.log_file("defer", id).is_some())
        .collect();
    assert!(!with_logs.is_empty());

    // The --max boundary, on this instance of its own: one fewer than selected refuses
    // (exit 3, nothing done); exactly as many as selected acts.
    let n = spam.len().to_string();
    let fewer = (spam.len() - 1).to_string();
    let output = act(
        &instance,
        &journal,
        "delete",
        &["--sasl-user", "mallory", "--yes", "--max", &fewer],
    );
    assert_exit(&output, 3, "--max one fewer than selected");
    assert_eq!(
        queue_state(&instance),
        before,
        "a refused --max changes nothing"
    );
    let _ = std::fs::remove_file(&journal);

    let output = act(
        &instance,
        &journal,
        "delete",
        &["--sasl-user", "mallory", "--yes", "--max", &n],
    );
    assert_exit(&output, 0, "delete with --max exactly the selection");
    let after = queue_state(&instance);
    let removed: BTreeSet<String> = before
        .keys()
        .filter(|id| !after.contains_key(*id))
        .cloned()
        .collect();
    assert_eq!(removed, spam, "exactly the spammer's messages are gone");
    for (id, state) in &after {
        assert_eq!(Some(state), before.get(id), "{id} untouched");
    }
    for id in with_logs {
        assert!(
            instance.log_file("defer", id).is_none(),
            "defer log of {id} removed with it"
        );
    }
    // One line per ID on stdout, saying what postsuper did.
    let stdout = String::from_utf8_lossy(&output.stdout);
    for id in &spam {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(&format!("{id}\t")) && l.ends_with("\tdelete")),
            "{id}: {stdout}"
        );
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "delete: {} selected, {} done, 0 already gone",
            spam.len(),
            spam.len()
        )),
        "{stderr}"
    );
    // The audit trail: start, batches naming the IDs, end with the outcome.
    let events = journal_events(&journal);
    assert_eq!(events.first().unwrap()["event"], "start");
    assert_eq!(events.last().unwrap()["event"], "end");
    assert_eq!(events.last().unwrap()["done"], spam.len());
    let journaled: BTreeSet<String> = events
        .iter()
        .filter(|e| e["event"] == "batch")
        .flat_map(|e| e["delete"]["done"].as_array().cloned().unwrap_or_default())
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(journaled, spam);
    assert_eq!(events[0]["run"]["verb"], "delete");

    // Nothing left to select: exit 1, nothing done.
    let output = act(
        &instance,
        &journal,
        "delete",
        &["--sasl-user", "mallory", "--yes"],
    );
    assert_exit(&output, 1, "delete again");
}

#[test]
fn hold_release_expire_and_requeue_change_only_the_selection() {
    if !require_postfix() {
        return;
    }
    let instance = Instance::new_populated(IdStyle::Long);
    let journal = instance.root.join("journal");
    let before = queue_state(&instance);
    let spam = spam_ids(&instance);

    let output = act(
        &instance,
        &journal,
        "hold",
        &["--sasl-user", "mallory", "--yes"],
    );
    assert_exit(&output, 0, "hold");
    let held = queue_state(&instance);
    for (id, (queue, _)) in &held {
        if spam.contains(id) {
            assert_eq!(queue, "hold", "{id} held");
        } else {
            assert_eq!(
                Some(&(queue.clone(), held[id].1)),
                before.get(id),
                "{id} untouched by hold"
            );
        }
    }

    let output = act(
        &instance,
        &journal,
        "release",
        &["--sasl-user", "mallory", "--yes", "--rate", "1000"],
    );
    assert_exit(&output, 0, "release");
    let released = queue_state(&instance);
    for id in &spam {
        assert_eq!(released[id].0, "deferred", "{id} released to deferred");
    }
    let other_held: Vec<&String> = before
        .iter()
        .filter(|(_, (q, _))| q == "hold")
        .map(|(id, _)| id)
        .collect();
    assert!(!other_held.is_empty());
    for id in other_held {
        assert_eq!(
            released[id].0, "hold",
            "{id}, held by someone else, stays held"
        );
    }

    let one = spam.iter().next().unwrap().as_str();
    let output = act(&instance, &journal, "expire", &["--id", one, "--yes"]);
    assert_exit(&output, 0, "expire");
    let expired = queue_state(&instance);
    assert!(expired[one].1, "{one} forced to expire");
    assert_eq!(
        expired.values().filter(|(_, e)| *e).count(),
        before.values().filter(|(_, e)| *e).count() + 1
    );

    let output = act(&instance, &journal, "requeue", &["--id", one, "--yes"]);
    assert_exit(&output, 0, "requeue");
    let requeued = queue_state(&instance);
    assert_eq!(
        requeued[one].0, "maildrop",
        "postsuper -r moves {one} to maildrop (pickup is stopped)"
    );
}

#[test]
fn safety_rails_refuse_and_change_nothing() {
    if !require_postfix() {
        return;
    }
    let instance = Instance::shared(IdStyle::Short);
    let journal = std::env::temp_dir().join(format!("qsurgeon-journal-{}", std::process::id()));
    let _ = std::fs::remove_file(&journal);
    let before = queue_state(instance);
    let spam = spam_ids(instance);

    // Not on a terminal and no --yes.
    let output = act(instance, &journal, "delete", &["--sasl-user", "mallory"]);
    assert_exit(&output, 2, "no --yes");
    assert!(String::from_utf8_lossy(&output.stderr).contains("--yes"));
    // An empty selection.
    let output = act(instance, &journal, "delete", &["--yes"]);
    assert_exit(&output, 2, "empty selection");
    assert!(String::from_utf8_lossy(&output.stderr).contains("--all"));
    // --max.
    let output = act(
        instance,
        &journal,
        "delete",
        &["--sasl-user", "mallory", "--yes", "--max", "3"],
    );
    assert_exit(&output, 3, "--max");
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("more than --max 3; nothing done") && !said.contains("could not be read"),
        "every file was read: no warning\n{said}"
    );
    // Nothing selected: said (unless --quiet), exit 1, journaled; a dry run is not.
    let nobody = ["--sasl-user", "nobody-sends-this"];
    let output = act(
        instance,
        &journal,
        "delete",
        &[&nobody[..], &["--yes"]].concat(),
    );
    assert_exit(&output, 1, "nothing selected");
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("qsurgeon: nothing selected; nothing done"),
        "{output:?}"
    );
    let output = act(
        instance,
        &journal,
        "delete",
        &[&nobody[..], &["--yes", "--quiet"]].concat(),
    );
    assert_exit(&output, 1, "nothing selected, --quiet");
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains("nothing selected"),
        "--quiet: {output:?}"
    );
    let output = act(
        instance,
        &journal,
        "delete",
        &[&nobody[..], &["--dry-run"]].concat(),
    );
    assert_exit(&output, 1, "nothing selected, --dry-run");
    // The preview is shown unless both --yes and --quiet: --quiet alone still
    // shows what the question is about.
    let preview = format!("qsurgeon: delete {} messages (", spam.len());
    for (flags, shown) in [
        (&["--dry-run"][..], true),
        (&["--dry-run", "--yes"][..], true),
        (&["--dry-run", "--quiet"][..], true),
        (&["--dry-run", "--yes", "--quiet"][..], false),
    ] {
        let output = act(
            instance,
            &journal,
            "delete",
            &[&["--sasl-user", "mallory"][..], flags].concat(),
        );
        assert_exit(&output, 0, &format!("{flags:?}"));
        let said = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            said.contains(&preview),
            shown,
            "{flags:?}: the preview\n{said}"
        );
    }
    // --dry-run prints the postsuper command and exactly the selected IDs.
    let output = act(
        instance,
        &journal,
        "delete",
        &["--sasl-user", "mallory", "--dry-run"],
    );
    assert_exit(&output, 0, "--dry-run");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("# would run: postsuper -c "), "{stdout}");
    assert!(stdout.contains(" -d - "), "{stdout}");
    let ids: BTreeSet<String> = stdout
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    assert_eq!(ids, spam);
    // --queue-dir is not enough to act.
    let output = run(qsurgeon()
        .arg("--queue-dir")
        .arg(&instance.queue_dir)
        .args(["delete", "--all", "--yes"]));
    assert_exit(&output, 2, "--queue-dir");

    assert_eq!(queue_state(instance), before, "nothing changed");
    // Every refusal is journaled (issue 10: "every run is journaled"), with why and the
    // selection as typed; nothing started, and the dry run is not an action.
    let events = journal_events(&journal);
    let reasons: Vec<&str> = events
        .iter()
        .map(|e| {
            assert_eq!(e["event"], "refused", "{e}");
            e["reason"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        reasons,
        [
            "not-a-terminal",
            "no-selection",
            "max",
            "nothing-selected",
            "nothing-selected"
        ]
    );
    assert_eq!(events[0]["selection"][0], "--sasl-user mallory");
    assert_eq!(events[2]["selected"], spam.len());
    let _ = std::fs::remove_file(&journal);
}

#[test]
fn a_hostile_journal_path_is_refused_before_anything_is_done() {
    if !require_postfix() {
        return;
    }
    use std::os::unix::fs::{symlink, PermissionsExt};
    let instance = Instance::shared(IdStyle::Short);
    let before = queue_state(instance);
    let dir = tempfile::tempdir().unwrap();
    // A root-only file an attacker would like root to append to.
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "root only\n").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let link = dir.path().join("journal-link");
    symlink(&secret, &link).unwrap();
    // A journal owned by nobody, and a world-writable journal directory.
    let nobodys = dir.path().join("journal-nobody");
    std::fs::write(&nobodys, "").unwrap();
    std::os::unix::fs::chown(&nobodys, Some(65534), Some(65534)).unwrap();
    let open_dir = dir.path().join("open");
    std::fs::create_dir(&open_dir).unwrap();
    std::fs::set_permissions(&open_dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let cases = [
        (link.clone(), "symbolic link"),
        (nobodys.clone(), "owned by uid 65534"),
        (open_dir.join("journal"), "writable by group or others"),
    ];
    for (journal, problem) in cases {
        let output = act(
            instance,
            &journal,
            "delete",
            &["--sasl-user", "mallory", "--yes"],
        );
        assert_exit(&output, 2, "hostile journal");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("refusing to write the journal") && stderr.contains(problem),
            "{stderr}"
        );
        assert!(output.stdout.is_empty(), "nothing acted on");
    }
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "root only\n");
    assert_eq!(std::fs::metadata(&nobodys).unwrap().len(), 0);
    assert!(!open_dir.join("journal").exists());
    assert_eq!(queue_state(instance), before, "nothing changed");
}

/// Writes `count` copies of a real deferred queue file under new valid
/// short IDs (postsuper acts by name; it does not check the inode).
fn clone_deferred(instance: &Instance, count: usize) -> Vec<String> {
    let template = instance.files_in("deferred").into_iter().next().unwrap();
    let template_path = instance.queue_dir.join(&template.rel_path);
    let bytes = std::fs::read(&template_path).unwrap();
    // Owned by postfix, as showq (which runs as postfix) needs.
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(&template_path).unwrap();
    let mut ids = Vec::new();
    for n in 0..count {
        let id = format!("{:05X}{:X}", n % 0x100000, 0xF00000 + n);
        let path = instance.queue_dir.join("deferred").join(&id[..1]).join(&id);
        let dir = path.parent().unwrap();
        if !dir.exists() {
            std::fs::create_dir(dir).unwrap();
            std::os::unix::fs::chown(dir, Some(meta.uid()), Some(meta.gid())).unwrap();
        }
        std::fs::write(&path, &bytes).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::os::unix::fs::chown(&path, Some(meta.uid()), Some(meta.gid())).unwrap();
        ids.push(id);
    }
    ids
}

#[test]
fn ten_thousand_ids_go_to_postsuper_in_one_batch() {
    if !require_postfix() {
        return;
    }
    let instance = Instance::new_populated(IdStyle::Short);
    let journal = instance.root.join("journal");
    let clones: BTreeSet<String> = clone_deferred(&instance, 10_500).into_iter().collect();
    let before = queue_state(&instance);
    assert!(clones.iter().all(|id| before.contains_key(id)));
    let ids_file = instance.root.join("ids");
    std::fs::write(
        &ids_file,
        clones
            .iter()
            .map(|id| format!("{id}\n"))
            .collect::<String>(),
    )
    .unwrap();

    let output = act(
        &instance,
        &journal,
        "delete",
        &[
            "--ids-from",
            ids_file.to_str().unwrap(),
            "--batch-size",
            "20000",
            "--yes",
            "--quiet",
        ],
    );
    assert_exit(&output, 0, "delete 10,500");
    let after = queue_state(&instance);
    assert!(
        clones.iter().all(|id| !after.contains_key(id)),
        "all clones gone"
    );
    assert_eq!(after.len(), before.len() - clones.len(), "nothing else");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("delete: 10500 selected, 10500 done"),
        "{stderr}"
    );
    let batches = journal_events(&journal)
        .iter()
        .filter(|e| e["event"] == "batch")
        .count();
    assert_eq!(batches, 1, "one postsuper process");
}

/// A file that cannot be read is named, and the run warns that it is not part of the
/// selection (a dry run names it too, without the warning: it changes nothing).
#[test]
fn an_unreadable_file_is_named_and_warned_about() {
    if !require_postfix() {
        return;
    }
    let instance = Instance::new_empty(IdStyle::Short);
    let journal = instance.root.join("journal");
    let corrupt = instance.queue_dir.join("hold/4A5E798E3F5");
    std::fs::write(&corrupt, b"not a queue file").unwrap();
    std::fs::set_permissions(
        &corrupt,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let warning =
        "qsurgeon: warning: 1 files could not be read; they are not part of the selection";
    let output = act(&instance, &journal, "delete", &["--all", "--yes"]);
    assert_exit(&output, 1, "nothing readable selected");
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains(&format!("{}", corrupt.display())), "{said}");
    assert!(said.contains(warning), "{said}");
    let output = act(&instance, &journal, "delete", &["--all", "--dry-run"]);
    assert_exit(&output, 1, "dry run");
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains(&format!("{}", corrupt.display())), "{said}");
    assert!(!said.contains(warning), "{said}");
    assert!(corrupt.exists());
}
