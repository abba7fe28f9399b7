//! `--demo`: the README's first command. The demo queue is embedded in the binary and written
//! to a private copy for one run: these tests check what a newcomer sees (the same as real
//! `postqueue -p` printed for that queue, the same as `show` of the checkout's files), that the
//! copy is gone afterwards (also after Ctrl-C), that it works without root, and that the
//! verbs that change a queue are refused.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::util::{assert_bytes_eq, assert_exit, qsurgeon, run, testdata};

/// qsurgeon with `TMPDIR` set to `tmp` (where the copy goes).
fn demo_in(tmp: &Path) -> Command {
    let mut cmd = qsurgeon();
    cmd.env("TMPDIR", tmp).arg("--demo");
    cmd
}

/// What is left in `tmp`.
fn left_in(tmp: &Path) -> Vec<String> {
    std::fs::read_dir(tmp)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// mailq text as (heading, set of message blocks; the trailer is the last block).
fn mailq_blocks(text: &str) -> (String, BTreeSet<String>) {
    let (heading, rest) = text.split_once('\n').expect("a heading line");
    let blocks = rest
        .trim_end_matches('\n')
        .split("\n\n")
        .map(str::to_string)
        .collect();
    (heading.to_string(), blocks)
}

#[test]
fn demo_list_prints_what_postqueue_printed_and_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let output = run(demo_in(tmp.path()).arg("list"));
    assert_exit(&output, 0, "--demo list");
    // Real `TZ=UTC postqueue -p` over the queue the demo copies; showq's order is readdir
    // order, so compare message by message. A message file with a wrong mode would show:
    // group-execute is "forced to expire" (a `#` after the ID), and a file that is not
    // 0700 is one Postfix has not finished writing (left out).
    let expected = std::fs::read_to_string(testdata("demo-queue.postqueue-p.out")).unwrap();
    let actual = String::from_utf8(output.stdout).unwrap();
    let (want_heading, want) = mailq_blocks(&expected);
    let (heading, got) = mailq_blocks(&actual);
    assert_eq!(heading, want_heading);
    assert_eq!(got.len(), 30, "29 messages and the trailer");
    assert_eq!(got, want, "--demo list against postqueue -p");
    assert!(
        actual.ends_with("-- 17 Kbytes in 29 Requests.\n"),
        "{actual}"
    );
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("29 messages scanned"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        left_in(tmp.path()),
        Vec::<String>::new(),
        "the copy is removed"
    );

    // Nothing is forced to expire, and the mode-dependent selection agrees.
    let output = run(demo_in(tmp.path()).args(["list", "--forced-expired", "--count"]));
    assert_exit(&output, 1, "--demo list --forced-expired");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "0\n");
    assert_eq!(left_in(tmp.path()), Vec::<String>::new());
}

#[test]
fn demo_summary_names_the_spammer() {
    let tmp = tempfile::tempdir().unwrap();
    let output = run(demo_in(tmp.path()).args([
        "summary",
        "--by",
        "sasl-user",
        "--by",
        "client-net",
        "--json",
    ]));
    assert_exit(&output, 0, "--demo summary");
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["total"]["messages"], 29);
    let rows = |dim: &str| -> Vec<(Value, u64)> {
        json["by"][dim]["top"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["key"].clone(), r["messages"].as_u64().unwrap()))
            .collect()
    };
    // testdata/README.md: 20 messages of mallory's, from 203.0.113.0/24.
    assert_eq!(rows("sasl_user")[0], (Value::from("mallory"), 20));
    assert_eq!(rows("client_net")[0], (Value::from("203.0.113.0/24"), 20));
    assert_eq!(
        rows("sasl_user").iter().map(|r| r.1).sum::<u64>(),
        29,
        "{:?}",
        rows("sasl_user")
    );
    assert_eq!(left_in(tmp.path()), Vec::<String>::new());

    // The README's first command, as text.
    let output = run(demo_in(tmp.path()).args(["summary", "--by", "sasl-user", "--top", "3"]));
    assert_exit(&output, 0, "--demo summary text");
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.starts_with("29 messages, 50 recipients, 17K bytes, oldest "),
        "{text}"
    );
    let mallory = text
        .lines()
        .find(|l| l.trim_start().starts_with("mallory "))
        .unwrap_or_else(|| panic!("no mallory row:\n{text}"));
    assert_eq!(mallory.split_whitespace().nth(1), Some("20"), "{mallory}");
}

#[test]
fn demo_show_prints_the_checkouts_files() {
    let tmp = tempfile::tempdir().unwrap();
    for (id, file) in [
        ("AF95498C522", "hold/AF95498C522"),
        ("D079698C534", "active/D079698C534"),
    ] {
        let output = run(demo_in(tmp.path()).args(["show", "-q", id]));
        assert_exit(&output, 0, id);
        // The same as show of the file itself (run from the queue directory, so that the
        // path in the headings is the same), which the show tests hold against postcat.
        let direct = run(qsurgeon()
            .current_dir(testdata("demo-queue"))
            .args(["show", file]));
        assert_exit(&direct, 0, file);
        assert_bytes_eq(&direct.stdout, &output.stdout, id);
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(
            text.starts_with(&format!("*** ENVELOPE RECORDS {file} ***\n")),
            "{text}"
        );
        assert!(text.contains("*** MESSAGE CONTENTS"), "{text}");
    }
    let output = run(demo_in(tmp.path()).args(["show", "-q", "ABCDEF12345"]));
    assert_exit(&output, 2, "an ID not in the demo queue");
    assert_eq!(left_in(tmp.path()), Vec::<String>::new());
}

#[test]
fn demo_refuses_what_changes_a_queue() {
    let tmp = tempfile::tempdir().unwrap();
    for args in [
        &["hold", "--all", "--yes"][..],
        &["delete", "--sasl-user", "mallory", "--yes"],
        &["release", "--all", "--dry-run"],
        &["flush", "--all", "--yes"],
        &["restore", "/nonexistent"],
        &["watch", "--sasl-user", "mallory", "--hold", "--yes"],
    ] {
        let output = run(demo_in(tmp.path()).args(args));
        assert_exit(&output, 2, &args.join(" "));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("--demo") && stderr.contains("needs a real instance"),
            "{args:?}: {stderr}"
        );
        assert!(output.stdout.is_empty());
    }
    // Not with an instance of its own either.
    let output = run(demo_in(tmp.path()).args(["--queue-dir", "/var/spool/postfix", "list"]));
    assert_exit(&output, 2, "--demo --queue-dir");
    assert_eq!(
        left_in(tmp.path()),
        Vec::<String>::new(),
        "no copy was made"
    );
}

#[test]
fn demo_names_a_tmpdir_it_cannot_use() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("missing");
    let output = run(demo_in(&missing).arg("list"));
    assert_exit(&output, 2, "TMPDIR missing");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("private directory for the demo queue"),
        "{stderr}"
    );
}

/// A `TMPDIR` others can rename entries in (world-writable without the sticky bit, or owned
/// by another user) is refused before anything is written: there another user could swap the
/// copy's directory for a symbolic link while qsurgeon, perhaps root, writes and removes it.
#[test]
fn demo_refuses_a_tmpdir_others_could_swap_the_copy_in() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let open = tmp.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let output = run(demo_in(&open).arg("list"));
    assert_exit(&output, 2, "TMPDIR world-writable, not sticky");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("writable by group or others and not sticky (mode 0777)"),
        "{stderr}"
    );
    assert_eq!(left_in(&open), Vec::<String>::new(), "nothing written");
    // Reached through a symbolic link: the directory it names is what is checked.
    let link = tmp.path().join("link");
    std::os::unix::fs::symlink(&open, &link).unwrap();
    let output = run(demo_in(&link).arg("list"));
    assert_exit(&output, 2, "TMPDIR a link to a world-writable directory");
    assert_eq!(left_in(&open), Vec::<String>::new(), "nothing written");
    // Owned by another user (root can make one for the test).
    if rustix::process::geteuid().is_root() {
        let theirs = tmp.path().join("theirs");
        std::fs::create_dir(&theirs).unwrap();
        std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
        let output = run(demo_in(&theirs).arg("list"));
        assert_exit(&output, 2, "TMPDIR owned by nobody");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("owned by uid 65534"), "{stderr}");
        assert_eq!(left_in(&theirs), Vec::<String>::new(), "nothing written");
    }
    // Sticky and world-writable, as /tmp: accepted.
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let output = run(demo_in(&link).args(["list", "--count"]));
    assert_exit(&output, 0, "a sticky TMPDIR");
}

#[test]
fn ctrl_c_removes_the_copy() {
    removes_the_copy_without_following_symlinks(true);
}

/// The copy is removed at the end of a run as on Ctrl-C, and symbolic links found in it then
/// (one planted in the copy's top directory, one in a queue directory, both naming a directory
/// of files that must survive) are removed, never followed.
#[test]
fn the_copys_removal_never_follows_a_symlink_out_of_it() {
    removes_the_copy_without_following_symlinks(false);
}

/// Runs `--demo list --ids-from -` (which waits for standard input after the copy was
/// written), plants symlinks in the copy, then sends SIGINT (`interrupt`) or closes standard
/// input; the copy must be gone and the symlinks' targets intact.
fn removes_the_copy_without_following_symlinks(interrupt: bool) {
    let tmp = tempfile::tempdir().unwrap();
    let victim = tempfile::tempdir().unwrap();
    std::fs::create_dir(victim.path().join("sub")).unwrap();
    std::fs::write(victim.path().join("sub/keep"), "keep").unwrap();
    std::fs::write(victim.path().join("keep"), "keep").unwrap();
    let mut child = demo_in(tmp.path())
        .args(["list", "--ids-from", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    // Once the copy is complete, qsurgeon waits for standard input.
    while !tmp_has_copy(tmp.path()) {
        assert!(
            std::time::Instant::now() < deadline,
            "no demo copy appeared"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(100));
    let copy = std::fs::read_dir(tmp.path())
        .unwrap()
        .next()
        .expect("the copy")
        .unwrap()
        .path();
    std::os::unix::fs::symlink(victim.path(), copy.join("link")).unwrap();
    std::os::unix::fs::symlink(victim.path(), copy.join("spool/deferred/link")).unwrap();
    std::os::unix::fs::symlink(victim.path().join("keep"), copy.join("spool/keep")).unwrap();
    let stdin = child.stdin.take();
    let output = if interrupt {
        rustix::process::kill_process(
            rustix::process::Pid::from_child(&child),
            rustix::process::Signal::INT,
        )
        .unwrap();
        // Standard input stays open until qsurgeon has exited (wait_with_output would close
        // it first, and a list run on EOF could race the handler).
        let output = child.wait_with_output().unwrap();
        drop(stdin);
        assert_exit(&output, 130, "interrupted --demo");
        output
    } else {
        drop(stdin);
        let output = child.wait_with_output().unwrap();
        // No IDs on standard input: nothing selected.
        assert_exit(&output, 1, "--demo list --ids-from - with no IDs");
        output
    };
    assert_eq!(
        left_in(tmp.path()),
        Vec::<String>::new(),
        "the copy is removed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(victim.path().join("keep")).unwrap(),
        "keep"
    );
    assert_eq!(
        std::fs::read_to_string(victim.path().join("sub/keep")).unwrap(),
        "keep"
    );
}

/// A complete demo copy exists under `tmp`: as many files as the checkout's demo queue.
fn tmp_has_copy(tmp: &Path) -> bool {
    fn count(dir: &Path) -> usize {
        std::fs::read_dir(dir).map_or(0, |entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| match e.file_type() {
                    Ok(t) if t.is_dir() => count(&e.path()),
                    Ok(_) => 1,
                    Err(_) => 0,
                })
                .sum()
        })
    }
    let want = count(&testdata("demo-queue"));
    std::fs::read_dir(tmp)
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| count(&e.path().join("spool")) == want)
}

#[test]
fn demo_works_without_root() {
    let root = std::fs::read_to_string("/proc/self/status")
        .ok()
        .is_some_and(|s| s.lines().any(|l| l.starts_with("Uid:\t0\t")));
    if !root {
        eprintln!("skipped: becoming user nobody needs root");
        return;
    }
    // A TMPDIR that nobody may write to, as /tmp is (sticky, world-writable).
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        tmp.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o1777),
    )
    .unwrap();
    let output = run(Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_qsurgeon"))
        .args(["--demo", "list", "--sasl-user", "mallory", "--count"])
        .env("TMPDIR", tmp.path())
        .env("TZ", "UTC"));
    assert_exit(&output, 0, "--demo as nobody");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "20\n");
    assert_eq!(left_in(tmp.path()), Vec::<String>::new());
}
