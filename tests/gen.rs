//! The queue generator (`crates/queue-gen`) against real Postfix: a small
//! generated queue must be one that Postfix's own tools accept as their own,
//! or the benchmarks built on it would measure the wrong thing. Checked:
//! `postfix check` passes on its config, real `postcat` reads a sample of its
//! files without complaint, `postsuper -s` finds no file to rename (the short
//! queue IDs match the inodes), and `postqueue -j` lists the same messages as
//! `qsurgeon list --json` (compared as sets, on postqueue's own members).

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::PathBuf;

use serde_json::Value;

use crate::postfix::{message_files_in, require_postfix};
use crate::util::{assert_exit, qsurgeon, run};

const MESSAGES: u64 = 2000;

/// A temp dir that user postfix can traverse (tempdirs are 0700).
fn traversable_tempdir() -> tempfile::TempDir {
    let base = std::env::temp_dir();
    let ok = base
        .ancestors()
        .all(|d| fs::metadata(d).is_ok_and(|m| m.mode() & 0o001 != 0));
    let dir = tempfile::Builder::new()
        .prefix("qsurgeon-gen-")
        .tempdir_in(if ok { base } else { PathBuf::from("/tmp") })
        .expect("create a temp dir");
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// postqueue's members of a `postqueue -j` / `list --json` line, in a
/// canonical string (qsurgeon adds richer members after postqueue's).
fn postqueue_members(line: &str) -> String {
    let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    let recipients: Vec<Value> = v["recipients"]
        .as_array()
        .expect("recipients")
        .iter()
        .map(|r| {
            let mut o = serde_json::Map::new();
            o.insert("address".into(), r["address"].clone());
            if let Some(reason) = r.get("delay_reason") {
                o.insert("delay_reason".into(), reason.clone());
            }
            Value::Object(o)
        })
        .collect();
    let keys = [
        "queue_name",
        "queue_id",
        "arrival_time",
        "message_size",
        "forced_expire",
        "sender",
    ];
    let mut o = serde_json::Map::new();
    for k in keys {
        o.insert(k.into(), v[k].clone());
    }
    o.insert("recipients".into(), Value::Array(recipients));
    Value::Object(o).to_string()
}

#[test]
fn generated_queue_is_accepted_by_real_postfix() {
    if !require_postfix() {
        return;
    }
    let dir = traversable_tempdir();
    let queue_dir = dir.path().join("spool");
    let config_dir = dir.path().join("config");
    let mut opts = queue_gen::Options::new(&queue_dir, MESSAGES);
    opts.seed = 7;
    opts.postfix_config = Some(config_dir.clone());
    let report = queue_gen::generate(&opts).expect("generate the queue");
    assert!(
        report.notes.is_empty(),
        "postfix check or ownership: {:?}",
        report.notes
    );
    let counts = &report.counts;
    assert_eq!(counts.messages() + counts.in_progress, MESSAGES);
    assert!(
        counts.in_progress >= 1,
        "some files are still being written"
    );
    assert!(
        counts.spam_messages() > 40,
        "about 5% from the spammer: {counts:?}"
    );
    for q in ["incoming", "active", "deferred", "hold"] {
        assert!(counts.queues.get(q).copied().unwrap_or(0) > 0, "{q} filled");
    }

    // Real postcat reads a sample of the complete files without a word on
    // stderr, to the end marker.
    let files = message_files_in(&queue_dir);
    assert_eq!(files.len() as u64, counts.messages());
    let step = (files.len() / 200).max(1);
    for file in files.iter().step_by(step) {
        let path = queue_dir.join(&file.rel_path);
        let out = run(std::process::Command::new("postcat")
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .arg("-c")
            .arg(&config_dir)
            .arg(&path));
        assert_exit(&out, 0, &format!("postcat {}", path.display()));
        assert!(
            out.stderr.is_empty(),
            "postcat {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("*** MESSAGE FILE END"),
            "postcat {}:\n{text}",
            path.display()
        );
        let meta = fs::metadata(&path).unwrap();
        assert_eq!(meta.mode() & 0o700, 0o700, "{} is complete", path.display());
    }

    // Short IDs encode the inode: postsuper's structure check renames nothing.
    let postsuper = |args: &[&str]| {
        run(std::process::Command::new("postsuper")
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .arg("-c")
            .arg(&config_dir)
            .args(args))
    };
    let out = postsuper(&["-s"]);
    assert_exit(&out, 0, "postsuper -s");
    let maillog = fs::read_to_string(dir.path().join("config.log/maillog")).unwrap_or_default();
    assert!(!maillog.contains("Renamed"), "{maillog}");

    // postqueue -j and qsurgeon list --json: the same messages, member for member.
    let out = run(std::process::Command::new("postqueue")
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .arg("-c")
        .arg(&config_dir)
        .arg("-j"));
    assert_exit(&out, 0, "postqueue -j");
    let expected: BTreeSet<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(postqueue_members)
        .collect();
    assert_eq!(expected.len() as u64, counts.messages());
    let out = run(qsurgeon()
        .arg("-c")
        .arg(&config_dir)
        .args(["list", "--json"]));
    assert_exit(&out, 0, "list --json");
    let actual: BTreeSet<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(postqueue_members)
        .collect();
    let missing: Vec<&String> = expected.difference(&actual).take(3).collect();
    let extra: Vec<&String> = actual.difference(&expected).take(3).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "postqueue -j only: {missing:#?}\nqsurgeon only: {extra:#?}"
    );

    // The count the generator prints is what a selection by SASL user finds.
    let out = run(qsurgeon().arg("-c").arg(&config_dir).args([
        "list",
        "--sasl-user",
        &opts.spammer,
        "--count",
    ]));
    assert_exit(&out, 0, "list --sasl-user --count");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        counts.spam_messages().to_string()
    );
    let manifest = fs::read_to_string(&report.manifest).unwrap();
    let manifest: Value = serde_json::from_str(&manifest).expect("manifest.json is JSON");
    assert_eq!(manifest["messages"], counts.messages());
    assert_eq!(manifest["spammer"]["messages"], counts.spam_messages());
}

/// `list` is `postqueue -p` byte for byte, in the same order, on a generated
/// queue of 100,000 messages (hashed directories, every queue, short IDs):
/// and three runs print the same bytes. (The order is the directories':
/// showq's `mail_scan_dir_next()`; qsurgeon reads in parallel and puts it
/// back.) `list --json` follows `postqueue -j` line for line.
#[test]
fn list_is_postqueue_p_byte_for_byte_on_100k_messages() {
    if !require_postfix() {
        return;
    }
    let dir = traversable_tempdir();
    let queue_dir = dir.path().join("spool");
    let config_dir = dir.path().join("config");
    let mut opts = queue_gen::Options::new(&queue_dir, 100_000);
    opts.seed = 11;
    opts.postfix_config = Some(config_dir.clone());
    queue_gen::generate(&opts).expect("generate the queue");
    let postqueue = |flag: &str| {
        let out = run(std::process::Command::new("/usr/sbin/postqueue")
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .arg("-c")
            .arg(&config_dir)
            .arg(flag));
        assert_exit(&out, 0, "postqueue");
        String::from_utf8(out.stdout).unwrap()
    };
    let list = |args: &[&str]| {
        let out = run(qsurgeon().arg("-c").arg(&config_dir).arg("list").args(args));
        assert_exit(&out, 0, "list");
        String::from_utf8(out.stdout).unwrap()
    };
    let expected = postqueue("-p");
    assert!(expected.matches("\n\n").count() > 99_000, "a full queue");
    for run in 1..=2 {
        let actual = list(&[]);
        if actual != expected {
            let line = expected
                .lines()
                .zip(actual.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            panic!(
                "run {run}: list differs from postqueue -p from line {}: {:?} vs {:?}",
                line + 1,
                expected.lines().nth(line),
                actual.lines().nth(line)
            );
        }
    }
    let ids = |text: &str| -> Vec<String> {
        text.lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["queue_id"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    assert_eq!(
        ids(&list(&["--json"])),
        ids(&postqueue("-j")),
        "list --json in postqueue -j's order"
    );
}
