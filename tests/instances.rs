//! Multi-instance Postfix: `--instance NAME` and `--all-instances` with two
//! real instances that hold the same queue IDs.
//!
//! postmulti only reads the primary instance from /etc/postfix (it refuses
//! `MAIL_CONFIG`), so each command runs in a private mount namespace where
//! the test's primary configuration is bind-mounted over /etc/postfix: the
//! real postmulti, postconf and postsuper run, and the machine's own
//! instance is never read or touched.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

use crate::postfix::{require_postfix, IdStyle, Instance};
use crate::util::assert_exit;

/// Runs `qsurgeon ARGS` with `primary`'s configuration seen as /etc/postfix.
pub(crate) fn qsurgeon_in_namespace(primary: &Path, args: &[&str]) -> Output {
    let mut script = format!(
        "mount --bind '{}' /etc/postfix && exec '{}'",
        primary.display(),
        env!("CARGO_BIN_EXE_qsurgeon")
    );
    for arg in args {
        script.push_str(&format!(" '{arg}'"));
    }
    Command::new("unshare")
        .args(["-m", "sh", "-c", &script])
        .env("TZ", "UTC")
        .output()
        .expect("run unshare (util-linux)")
}

fn ids_of(output: &Output) -> BTreeSet<(String, String)> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(instance, id)| (instance.to_string(), id.to_string()))
        .collect()
}

#[test]
fn two_instances_with_the_same_queue_ids() {
    if !require_postfix() {
        return;
    }
    let (primary, second, shared_ids) = twin_instances();
    all_instances_listing_names_the_instance(&primary, &shared_ids);
    let victim = shared_ids.iter().next().unwrap();
    let journal = primary.root.join("journal");
    delete_goes_to_the_named_instance_only(&primary, &second, victim, &journal);
    hold_in_all_instances_says_which(&primary, victim, &journal);
}

/// A populated primary instance and a second one, `postfix-b`, holding copies
/// of its deferred messages (same IDs), set up for postmulti; returns both and
/// those IDs.
pub(crate) fn twin_instances() -> (Instance, Instance, BTreeSet<String>) {
    let primary = Instance::new_populated(IdStyle::Short);
    let second = Instance::new_empty(IdStyle::Short);
    // The same deferred messages (same IDs) in the second instance's queue.
    for dir in ["deferred", "defer"] {
        let status = Command::new("cp")
            .arg("-a")
            .arg(primary.queue_dir.join(dir).join("."))
            .arg(second.queue_dir.join(dir))
            .status()
            .unwrap();
        assert!(status.success());
    }
    let shared_ids: BTreeSet<String> = primary
        .files_in("deferred")
        .into_iter()
        .map(|f| f.id)
        .collect();
    assert!(!shared_ids.is_empty());
    primary.run(
        primary.postconf().arg("-e").arg(format!(
            "multi_instance_directories = {}",
            second.config_dir.display()
        )),
        None,
    );
    primary.run(
        primary
            .postconf()
            .args(["-e", "multi_instance_enable = yes"]),
        None,
    );
    second.run(
        second.postconf().args([
            "-e",
            "multi_instance_name = postfix-b",
            "multi_instance_enable = yes",
        ]),
        None,
    );
    (primary, second, shared_ids)
}

/// `--all-instances` names the instance on every line.
fn all_instances_listing_names_the_instance(primary: &Instance, shared_ids: &BTreeSet<String>) {
    let output = qsurgeon_in_namespace(
        &primary.config_dir,
        &["--all-instances", "list", "--queue", "deferred", "--ids"],
    );
    assert_exit(&output, 0, "list --all-instances");
    let listed = ids_of(&output);
    let expected: BTreeSet<(String, String)> = shared_ids
        .iter()
        .flat_map(|id| {
            [
                ("-".to_string(), id.clone()),
                ("postfix-b".to_string(), id.clone()),
            ]
        })
        .collect();
    assert_eq!(listed, expected);

    let output = qsurgeon_in_namespace(
        &primary.config_dir,
        &["--all-instances", "list", "--queue", "deferred", "--json"],
    );
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let doc: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(
            doc["instance"] == "-" || doc["instance"] == "postfix-b",
            "{line}"
        );
    }
}

/// The IDs `postqueue -j` shows for `instance`.
fn in_queue(instance: &Instance) -> BTreeSet<String> {
    instance
        .postqueue_json()
        .iter()
        .map(|m| m["queue_id"].as_str().unwrap().to_string())
        .collect()
}

/// An action goes to the named instance's postsuper only.
fn delete_goes_to_the_named_instance_only(
    primary: &Instance,
    second: &Instance,
    victim: &str,
    journal: &Path,
) {
    let output = qsurgeon_in_namespace(
        &primary.config_dir,
        &[
            "--instance",
            "postfix-b",
            "delete",
            "--id",
            victim,
            "--yes",
            "--journal",
            journal.to_str().unwrap(),
        ],
    );
    assert_exit(&output, 0, "delete --instance postfix-b");
    assert!(!in_queue(second).contains(victim), "deleted from postfix-b");
    assert!(
        in_queue(primary).contains(victim),
        "still in the primary instance"
    );
}

/// `--all-instances` acts per instance and says which.
fn hold_in_all_instances_says_which(primary: &Instance, victim: &str, journal: &Path) {
    let output = qsurgeon_in_namespace(
        &primary.config_dir,
        &[
            "--all-instances",
            "hold",
            "--id",
            victim,
            "--yes",
            "--journal",
            journal.to_str().unwrap(),
        ],
    );
    assert_exit(&output, 0, "hold --all-instances");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with(&format!("-\t{victim}\t"))),
        "{stdout}"
    );
    assert!(
        !stdout.contains("postfix-b\t"),
        "nothing to hold in postfix-b: {stdout}"
    );
    let held = primary
        .postqueue_json()
        .into_iter()
        .find(|m| m["queue_id"] == victim)
        .unwrap();
    assert_eq!(held["queue_name"], "hold");
}
