//! The journal's safety as an attacker would test it: qsurgeon runs as root and opens the
//! journal by name, so a planted symlink, hard link or FIFO, a journal owned by someone else
//! and a directory others can write must all be refused, naming the problem, with nothing
//! written through them.

mod common;

use std::fs;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use act::journal::Refusal;
use act::{Error, Journal, RunInfo, SelectionRecord, Verb};

fn info() -> RunInfo {
    RunInfo {
        verb: Verb::Delete,
        queue_dir: PathBuf::from("/nonexistent/spool"),
        config_dir: None,
        command_line: vec!["qsurgeon".into(), "delete".into()],
    }
}

fn is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"))
}

/// A root-only file holding one line: what the attacker wants root to append to.
fn secret(dir: &Path) -> PathBuf {
    let secret = dir.join("secret");
    fs::write(&secret, "root only\n").unwrap();
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o600)).unwrap();
    secret
}

fn refused(path: &Path) -> String {
    match Journal::open(path, &info()) {
        Err(e @ Error::UnsafeJournal { .. }) => e.to_string(),
        Err(e) => panic!("{}: another error: {e}", path.display()),
        Ok(_) => panic!("{}: accepted", path.display()),
    }
}

#[test]
fn a_planted_symlink_or_hard_link_is_refused_and_nothing_is_written_through_it() {
    let dir = tempfile::tempdir().unwrap();
    let secret = secret(dir.path());
    let link = dir.path().join("journal");
    symlink(&secret, &link).unwrap();
    assert!(refused(&link).contains("it is a symbolic link"));
    let hard = dir.path().join("journal2");
    fs::hard_link(&secret, &hard).unwrap();
    assert!(refused(&hard).contains("2 hard links"));
    assert_eq!(fs::read_to_string(&secret).unwrap(), "root only\n");
    assert_eq!(fs::metadata(&secret).unwrap().mode() & 0o7777, 0o600);
}

#[test]
fn a_fifo_is_refused_without_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("journal");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    assert!(refused(&fifo).contains("not a regular file"));
}

#[test]
fn a_journal_owned_by_nobody_or_writable_by_others_is_refused_untouched() {
    if !is_root() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let nobodys = dir.path().join("journal");
    fs::write(&nobodys, "").unwrap();
    std::os::unix::fs::chown(&nobodys, Some(65534), Some(65534)).unwrap();
    assert!(refused(&nobodys).contains("owned by uid 65534, not root"));
    assert_eq!(fs::metadata(&nobodys).unwrap().len(), 0);

    let open = dir.path().join("journal-666");
    fs::write(&open, "").unwrap();
    fs::set_permissions(&open, fs::Permissions::from_mode(0o666)).unwrap();
    assert!(refused(&open).contains("writable by group or others (mode 0666)"));
    assert_eq!(fs::metadata(&open).unwrap().len(), 0);
}

#[test]
fn a_directory_others_can_write_or_own_is_refused_before_the_file_is_created() {
    if !is_root() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let open = dir.path().join("open");
    fs::create_dir(&open).unwrap();
    fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).unwrap();
    assert!(refused(&open.join("journal")).contains("writable by group or others (mode 0777)"));
    assert!(!open.join("journal").exists());

    let theirs = dir.path().join("theirs");
    fs::create_dir(&theirs).unwrap();
    std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
    assert!(refused(&theirs.join("journal")).contains("owned by uid 65534"));
    assert!(!theirs.join("journal").exists());

    // A root-owned sticky directory (as /tmp): accepted, but a file planted in it by someone
    // else is not.
    let sticky = dir.path().join("sticky");
    fs::create_dir(&sticky).unwrap();
    fs::set_permissions(&sticky, fs::Permissions::from_mode(0o1777)).unwrap();
    let planted = sticky.join("journal");
    fs::write(&planted, "").unwrap();
    std::os::unix::fs::chown(&planted, Some(65534), Some(65534)).unwrap();
    assert!(refused(&planted).contains("owned by uid 65534"));
    Journal::open(&sticky.join("mine"), &info()).expect("a new journal in a sticky root dir");
}

/// The default journal's directory, /var/log/qsurgeon, is made by qsurgeon or its package; one
/// planted in its place as a symbolic link (to a root-owned directory that passes every other
/// check) must not take root's journal there, nor a file where the directory should be.
#[test]
fn a_symlinked_or_non_directory_journal_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("target");
    fs::create_dir(&target).unwrap();
    fs::set_permissions(&target, fs::Permissions::from_mode(0o700)).unwrap();
    let link = dir.path().join("qsurgeon");
    symlink(&target, &link).unwrap();
    let message = refused(&link.join("journal"));
    assert!(message.contains("is a symbolic link"), "{message}");
    assert!(message.contains("qsurgeon"), "{message}");
    assert_eq!(fs::read_dir(&target).unwrap().count(), 0);
    // The directory itself, reached by its real name, is fine.
    Journal::open(&target.join("journal"), &info()).expect("a journal in a private directory");

    let file = dir.path().join("file");
    fs::write(&file, "").unwrap();
    let message = refused(&file.join("journal"));
    assert!(message.contains("is not a directory"), "{message}");
}

#[test]
fn a_new_journal_is_0600_and_every_refusal_is_a_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal");
    let mut journal = Journal::open(&path, &info()).expect("open");
    assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
    let selection = SelectionRecord {
        flags: vec!["--nonexistent-local-sender".into()],
        expression: "nonexistent_local_sender".into(),
    };
    for refusal in [
        Refusal::NotATerminal,
        Refusal::NothingSelected,
        Refusal::OverMax { max: 3 },
        Refusal::NotConfirmed,
    ] {
        journal.refused(refusal, None, &selection).unwrap();
    }
    drop(journal);
    let lines = common::journal_lines(&path);
    let reasons: Vec<&str> = lines
        .iter()
        .map(|l| l["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        ["not-a-terminal", "nothing-selected", "max", "not-confirmed"]
    );
    for line in &lines {
        assert_eq!(line["event"], "refused");
        assert_eq!(line["selection"][0], "--nonexistent-local-sender");
        assert_eq!(line["run"]["verb"], "delete");
    }
    assert_eq!(lines[2]["max"], 3);
}
