//! `delete --backup DIR` then `restore DIR` on a real Postfix instance: the restored
//! messages are queued again with the same sender and the same to-do recipients, keep their
//! DSN options and content, and are delivered (to an SMTP sink of ours) when asked to.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::postfix::{label, require_postfix, IdStyle, Instance, QueueFile};
use crate::util::{assert_exit, qsurgeon, run};

/// A message as `postqueue -j` shows it: sender and sorted to-do recipients.
type Signature = (String, Vec<String>);

fn signature(entry: &Value) -> Signature {
    let mut rcpts: Vec<String> = entry["recipients"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| r["address"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default();
    rcpts.sort();
    (
        entry["sender"].as_str().unwrap_or_default().to_string(),
        rcpts,
    )
}

/// How many messages have each signature.
fn census(entries: &[Value]) -> BTreeMap<Signature, usize> {
    let mut counts = BTreeMap::new();
    for e in entries {
        *counts.entry(signature(e)).or_default() += 1;
    }
    counts
}

/// `qsurgeon -c CONFIG delete --ids-from FILE --backup DIR --yes`.
fn delete_with_backup(bed: &Instance, ids: &[String], backup: &Path) -> Output {
    let list = backup.with_extension("ids");
    fs::write(&list, ids.join("\n") + "\n").unwrap();
    let mut cmd = qsurgeon();
    cmd.arg("-c").arg(&bed.config_dir).arg("delete");
    cmd.arg("--ids-from").arg(&list);
    cmd.arg("--backup")
        .arg(backup)
        .args(["--yes", "--no-journal"]);
    run(&mut cmd)
}

fn restore(bed: &Instance, backup: &Path, flags: &[&str]) -> Output {
    run(qsurgeon()
        .arg("-c")
        .arg(&bed.config_dir)
        .arg("restore")
        .arg(backup)
        .args(flags))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Polls `ready` every 200 ms for up to 60 s; panics with `what` and the maillog tail.
fn wait(bed: &Instance, what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready() {
        if Instant::now() > deadline {
            panic!("timed out waiting for {what}\n{}", bed.maillog_tail(40));
        }
        thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn deleted_messages_come_back_with_their_envelope_and_can_be_delivered() {
    if !require_postfix() {
        return;
    }
    let bed = Instance::new_populated(IdStyle::Short);
    let chosen = choose(&bed);
    let ids = &chosen.ids;
    let maildrop = bed.files_in("maildrop");

    let backup_root = tempfile::tempdir().unwrap();
    let backup = backup_root.path().join("qsurgeon-backup");
    let after_delete = delete_and_check_the_backup(&bed, ids, &backup);
    dry_run_and_refusal_change_nothing(&bed, &backup, ids, &maildrop);

    // Restore with Postfix running, so pickup takes the files at once.
    bed.start();
    let restored = restore_and_settle(&bed, &backup, &chosen, &after_delete);
    check_restored_envelopes(&bed, &chosen, &restored);

    // Restoring again does nothing.
    let out = restore(&bed, &backup, &["--yes"]);
    assert_exit(&out, 1, "restore again");
    assert!(
        text(&out.stderr).contains("already restored"),
        "{}",
        text(&out.stderr)
    );

    let new_ids: Vec<String> = chosen
        .expected
        .keys()
        .map(|sig| new_id(&restored, sig))
        .collect();
    let deliveries = deliver_to_a_sink(&bed, &new_ids);
    check_deliveries(&deliveries, &new_ids, &chosen.contents);
    bed.stop();
}

/// The bed's messages the test deletes and restores, as they were before.
struct Chosen {
    ids: Vec<String>,
    /// `postqueue -j` before the deletion.
    before: Vec<Value>,
    /// How many of the chosen messages have each signature.
    expected: BTreeMap<Signature, usize>,
    /// Headers and body of each message, as postcat prints them.
    contents: BTreeMap<Signature, String>,
    /// The null sender's message.
    null: Signature,
}

fn by_id(entries: &[Value], id: &str) -> Option<Value> {
    entries.iter().find(|e| e["queue_id"] == id).cloned()
}

/// Picks the messages with the envelope features restore must keep.
fn choose(bed: &Instance) -> Chosen {
    let labels = [
        label::NULL_SENDER,
        label::QUOTED_LOCAL_PART,
        label::PARTLY_DELIVERED,
        label::SMTPUTF8,
        label::EIGHT_BIT,
        label::DSN,
        label::LONG_HEADERS,
        label::VIRTUAL_ALIAS,
        label::HELD_BY_POSTSUPER,
        "milter-1",
    ];
    let ids: Vec<String> = labels.iter().map(|l| bed.id_of(l).to_string()).collect();
    let before = bed.postqueue_json();
    let mut expected: BTreeMap<Signature, usize> = BTreeMap::new();
    let mut contents = BTreeMap::new();
    for (label, id) in labels.iter().zip(&ids) {
        let entry = by_id(&before, id).unwrap_or_else(|| panic!("{label} ({id}) not queued"));
        *expected.entry(signature(&entry)).or_default() += 1;
        contents.insert(signature(&entry), bed.postcat_q(&["-bh"], id));
    }
    // The bed made these as the test needs them.
    let partly = signature(&by_id(&before, bed.id_of(label::PARTLY_DELIVERED)).unwrap());
    assert_eq!(
        partly.1,
        ["stays@remote.example"],
        "gone@discard.example is done"
    );
    // showq prints the null sender as MAILER-DAEMON; postcat and SMTP below tell them apart.
    let null = signature(&by_id(&before, bed.id_of(label::NULL_SENDER)).unwrap());
    assert_eq!(null.0, "MAILER-DAEMON");
    Chosen {
        ids,
        before,
        expected,
        contents,
        null,
    }
}

/// `delete --backup`: the messages leave the queue, their queue files and
/// defer logs are in the backup byte for byte. Returns `postqueue -j` after.
fn delete_and_check_the_backup(bed: &Instance, ids: &[String], backup: &Path) -> Vec<Value> {
    // The queue files and defer logs, to compare with their copies.
    let mut originals = Vec::new();
    for file in bed
        .message_files()
        .into_iter()
        .filter(|f| ids.contains(&f.id))
    {
        let bytes = fs::read(bed.queue_dir.join(&file.rel_path)).unwrap();
        let defer = bed
            .log_file("defer", &file.id)
            .map(|p| fs::read(p).unwrap());
        originals.push((file, bytes, defer));
    }
    assert_eq!(originals.len(), ids.len());

    let out = delete_with_backup(bed, ids, backup);
    assert_exit(&out, 0, "delete --backup");
    let after_delete = bed.postqueue_json();
    for id in ids {
        assert!(by_id(&after_delete, id).is_none(), "{id} still queued");
    }
    let manifest = fs::read_to_string(backup.join("manifest.jsonl")).unwrap();
    assert_eq!(manifest.lines().count(), ids.len(), "{manifest}");
    for (file, bytes, defer) in &originals {
        let copy = backup.join(&file.queue).join(&file.id);
        assert!(fs::read(&copy).unwrap() == *bytes, "{}", copy.display());
        let copy = backup.join("defer").join(&file.id);
        assert_eq!(fs::read(&copy).ok(), *defer, "{}", copy.display());
        assert!(
            bed.log_file("defer", &file.id).is_none(),
            "postsuper -d removes the log"
        );
    }

    after_delete
}

/// A dry run changes nothing; without --yes and a terminal, restore refuses.
fn dry_run_and_refusal_change_nothing(
    bed: &Instance,
    backup: &Path,
    ids: &[String],
    maildrop: &[QueueFile],
) {
    let out = restore(bed, backup, &["--dry-run"]);
    assert_exit(&out, 0, "restore --dry-run");
    let stdout = text(&out.stdout);
    for id in ids {
        assert!(
            stdout.contains(&format!("{id}: would restore: ")),
            "{stdout}"
        );
    }
    assert!(
        stdout.contains("to=<\"odd user\"@remote.example>"),
        "{stdout}"
    );
    assert!(stdout.contains("from=<> "), "{stdout}");
    assert!(stdout.contains("(1 done recipient left out)"), "{stdout}");
    let out = restore(bed, backup, &[]);
    assert_exit(&out, 2, "restore without --yes");
    assert!(text(&out.stderr).contains("--yes"), "{}", text(&out.stderr));
    assert_eq!(
        bed.files_in("maildrop"),
        maildrop,
        "nothing re-injected yet"
    );
}

/// `restore --yes`, then waits until everything settles in deferred (closed
/// relayhost) or hold and the queue holds what it held after the deletion
/// plus exactly the deleted messages' envelopes. Returns the restored entries.
fn restore_and_settle(
    bed: &Instance,
    backup: &Path,
    chosen: &Chosen,
    after_delete: &[Value],
) -> Vec<Value> {
    let (ids, expected) = (&chosen.ids, &chosen.expected);
    let out = restore(bed, backup, &["--yes"]);
    assert_exit(&out, 0, "restore --yes");
    let stdout = text(&out.stdout);
    assert_eq!(
        stdout.matches(": restored as maildrop/").count(),
        ids.len(),
        "{stdout}"
    );

    // Everything settles in deferred (closed relayhost) or hold; the queue then holds what
    // it held after the deletion plus exactly the deleted messages' envelopes.
    let mut after = Vec::new();
    let mut delta = BTreeMap::new();
    wait(bed, "the restored messages in the queue", || {
        after = bed.postqueue_json();
        let settled = after
            .iter()
            .all(|e| e["queue_name"] == "deferred" || e["queue_name"] == "hold");
        delta = census(&after);
        for (sig, n) in census(after_delete) {
            let left = delta.entry(sig).or_default();
            *left = left.saturating_sub(n);
        }
        delta.retain(|_, n| *n > 0);
        settled && delta == *expected
    });
    let restored: Vec<Value> = after
        .iter()
        .filter(|e| expected.contains_key(&signature(e)))
        .filter(|e| !after_delete.iter().any(|d| d["queue_id"] == e["queue_id"]))
        .cloned()
        .collect();
    assert_eq!(restored.len(), ids.len(), "{restored:?}");
    restored
}

/// The new queue ID of the restored message with signature `sig`.
fn new_id(restored: &[Value], sig: &Signature) -> String {
    let entry = restored.iter().find(|e| signature(e) == *sig).unwrap();
    entry["queue_id"].as_str().unwrap().to_string()
}

/// Content, DSN options and the null sender as postcat shows them.
fn check_restored_envelopes(bed: &Instance, chosen: &Chosen, restored: &[Value]) {
    let new_id = |sig: &Signature| new_id(restored, sig);
    // The content is the same, after the Received: header pickup adds.
    for (sig, old) in &chosen.contents {
        let id = new_id(sig);
        let new = bed.postcat_q(&["-bh"], &id);
        let added = new.strip_suffix(old.as_str()).unwrap_or_else(|| {
            panic!("{sig:?} ({id}): content changed\n--- old ---\n{old}\n--- new ---\n{new}")
        });
        assert!(
            added.starts_with("Received: by mx.") && added.contains("(Postfix, from userid 0)"),
            "{sig:?}: {added}"
        );
        assert_eq!(added.lines().count(), 2, "{sig:?}: {added}");
    }
    // DSN options are kept per recipient and per message.
    let dsn = signature(&by_id(&chosen.before, bed.id_of(label::DSN)).unwrap());
    let envelope = bed.postcat_q(&["-e"], &new_id(&dsn));
    for attr in [
        "envelope_id=QS-ENVID-0001",
        "ret_flags=2",
        "notify_flags=6",
        "dsn_orig_rcpt=rfc822;partner@remote.example",
        "notify_flags=8",
    ] {
        assert!(
            envelope.contains(&format!("named_attribute: {attr}\n")),
            "{attr}:\n{envelope}"
        );
    }

    let envelope = bed.postcat_q(&["-e"], &new_id(&chosen.null));
    assert!(
        envelope.contains("\nsender: \n"),
        "the null sender:\n{envelope}"
    );
}

/// Relays to our SMTP sink and asks for each restored message now; waits for
/// each to be sent and returns what the sink got.
fn deliver_to_a_sink(bed: &Instance, new_ids: &[String]) -> Vec<Delivery> {
    // Delivery: relay to our SMTP sink and ask for each restored message now. No line
    // length limit, so that the 5.5 kB header arrives as it was queued (smtp would fold it).
    let sink = Sink::start();
    bed.run(
        bed.postconf()
            .arg("-e")
            .arg(format!("relayhost=[127.0.0.1]:{}", sink.port))
            .arg("smtp_line_length_limit=0"),
        None,
    );
    bed.run(bed.postfix().arg("reload"), None);
    for id in new_ids {
        bed.run(bed.postqueue().arg("-i").arg(id), None);
    }
    wait(bed, "the restored messages to be delivered", || {
        let log = bed.maillog_text();
        new_ids
            .iter()
            .all(|id| log.contains(&format!("{id}: removed")))
    });
    let log = bed.maillog_text();
    for id in new_ids {
        let sent = log
            .lines()
            .any(|l| l.contains(&format!("{id}: to=<")) && l.contains("status=sent"));
        assert!(sent, "{id}: no status=sent\n{}", bed.maillog_tail(40));
    }
    sink.deliveries()
}

/// What the sink got: one delivery each, envelopes as queued (null sender,
/// quoted local part, SMTPUTF8, DSN), no done recipient again, the content
/// byte for byte.
fn check_deliveries(
    deliveries: &[Delivery],
    new_ids: &[String],
    contents: &BTreeMap<Signature, String>,
) {
    assert_eq!(deliveries.len(), new_ids.len(), "{deliveries:#?}");
    let delivered = |from: &str| -> Vec<&Delivery> {
        deliveries
            .iter()
            .filter(|d| d.mail_from.starts_with(from))
            .collect()
    };
    assert_eq!(delivered("<>").len(), 1, "the null sender stays null");
    let quoted = deliveries
        .iter()
        .find(|d| {
            d.rcpt_to
                .iter()
                .any(|r| r.starts_with("<\"odd user\"@remote.example>"))
        })
        .expect("the quoted local part was delivered");
    assert_eq!(quoted.rcpt_to.len(), 1);
    let utf8 = delivered("<dävé@ourdomain.example>");
    assert_eq!(utf8.len(), 1, "{deliveries:#?}");
    assert!(utf8[0].mail_from.contains("SMTPUTF8"), "{:?}", utf8[0]);
    assert!(utf8[0].rcpt_to[0].starts_with("<jörg@bücher.example>"));
    let dsn_mail = deliveries
        .iter()
        .find(|d| d.mail_from.contains("ENVID=QS-ENVID-0001"))
        .expect("the DSN message keeps its ENVID");
    assert!(dsn_mail.mail_from.contains("RET=HDRS"), "{dsn_mail:?}");
    assert!(
        dsn_mail
            .rcpt_to
            .iter()
            .any(|r| r.starts_with("<partner@remote.example>")
                && r.contains("NOTIFY=SUCCESS,FAILURE")
                && r.contains("ORCPT=rfc822;partner@remote.example")),
        "{dsn_mail:?}"
    );
    assert!(
        dsn_mail
            .rcpt_to
            .iter()
            .any(|r| r.starts_with("<watcher@other.example>") && r.contains("NOTIFY=DELAY")),
        "{dsn_mail:?}"
    );
    let partly_sent: Vec<&Delivery> = deliveries
        .iter()
        .filter(|d| d.rcpt_to.iter().any(|r| r.contains("@discard.example")))
        .collect();
    assert!(partly_sent.is_empty(), "a done recipient was sent again");
    // What the sink got is what the queue held: headers and body, byte for byte.
    for (sig, old) in contents {
        let got = deliveries
            .iter()
            .find(|d| d.rcpt_to.len() == sig.1.len() && d.data.ends_with(old.as_bytes()));
        assert!(
            got.is_some(),
            "{sig:?}: no delivery ends with the old content"
        );
    }
}

/// A root-only file standing in for `/etc/shadow`, and its bytes.
fn root_only_file(dir: &Path) -> (PathBuf, Vec<u8>) {
    let path = dir.join("shadow");
    let bytes = b"root:$6$secret:19000:0:99999:7:::\n".to_vec();
    fs::write(&path, &bytes).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    (path, bytes)
}

/// Every name below `dir`.
fn names_below(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_hostile_backup_directory_is_refused_before_anything_is_deleted() {
    if !require_postfix() {
        return;
    }
    let bed = Instance::new_populated(IdStyle::Short);
    let ids: Vec<String> = [label::DSN, label::NULL_SENDER]
        .iter()
        .map(|l| bed.id_of(l).to_string())
        .collect();
    let queued = |bed: &Instance| -> Vec<String> {
        let mut files: Vec<String> = bed
            .message_files()
            .into_iter()
            .map(|f| f.rel_path.display().to_string())
            .collect();
        files.sort();
        files
    };
    let before = queued(&bed);
    let maildrop = bed.files_in("maildrop");
    let tmp = tempfile::tempdir().unwrap();
    let (shadow, secret) = root_only_file(tmp.path());
    // A directory of the attacker's choosing (think /etc/cron.d).
    let theirs = tmp.path().join("cron.d");
    fs::create_dir(&theirs).unwrap();
    std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();

    let make = |name: &str, mode: u32| -> PathBuf {
        let dir = tmp.path().join(name);
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(mode)).unwrap();
        dir
    };
    let mut cases: Vec<(PathBuf, &str)> = Vec::new();
    // Owned by nobody, with the planted symlinks.
    let nobody = make("nobody", 0o700);
    symlink(&shadow, nobody.join("manifest.jsonl")).unwrap();
    symlink(&theirs, nobody.join("defer")).unwrap();
    std::os::unix::fs::chown(&nobody, Some(65534), Some(65534)).unwrap();
    cases.push((nobody, "owned by uid 65534"));
    cases.push((make("world", 0o777), "writable by everyone"));
    cases.push((make("group", 0o770), "writable by its group"));
    let real = make("real", 0o700);
    let link = tmp.path().join("link");
    symlink(&real, &link).unwrap();
    cases.push((link, "is a symbolic link"));
    // Root's own directory, with symlinks planted in it.
    for (name, target) in [
        ("manifest.jsonl", &shadow),
        ("manifest.jsonl", &theirs),
        ("defer", &theirs),
        ("deferred", &theirs),
        ("restored.jsonl", &shadow),
    ] {
        let dir = make(&format!("planted-{}-{}", name, cases.len()), 0o700);
        fs::write(dir.join("manifest.jsonl"), "").unwrap();
        let _ = fs::remove_file(dir.join(name));
        symlink(target, dir.join(name)).unwrap();
        cases.push((dir, "is a symbolic link"));
    }
    for (dir, problem) in &cases {
        let contents = names_below(dir);
        let out = delete_with_backup(&bed, &ids, dir);
        assert_exit(&out, 2, &format!("delete --backup {}", dir.display()));
        let stderr = text(&out.stderr);
        assert!(stderr.contains(problem), "{}: {stderr}", dir.display());
        assert_eq!(queued(&bed), before, "{}: nothing deleted", dir.display());
        assert_eq!(
            names_below(dir),
            contents,
            "{}: nothing created",
            dir.display()
        );
        assert_eq!(fs::read(&shadow).unwrap(), secret);
        assert!(
            names_below(&theirs).is_empty(),
            "{:?}",
            names_below(&theirs)
        );

        let out = restore(&bed, dir, &["--yes"]);
        assert_exit(&out, 2, &format!("restore {}", dir.display()));
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains(problem),
            "restore {}: {stderr}",
            dir.display()
        );
        assert_eq!(fs::read(&shadow).unwrap(), secret);
        assert!(names_below(&theirs).is_empty());
    }
    assert_eq!(bed.files_in("maildrop"), maildrop, "nothing re-injected");
}

#[test]
fn hostile_logs_are_not_copied_and_an_edited_copy_is_not_restored() {
    if !require_postfix() {
        return;
    }
    let bed = Instance::new_populated(IdStyle::Short);
    let tmp = tempfile::tempdir().unwrap();
    let (shadow, secret) = root_only_file(tmp.path());
    // Two deferred messages with defer logs: one log becomes a symlink to a root-only file,
    // the other a FIFO (the postfix user can do both in its own directories).
    let with_logs: Vec<String> = bed
        .files_in("deferred")
        .into_iter()
        .filter(|f| bed.log_file("defer", &f.id).is_some())
        .map(|f| f.id)
        .take(2)
        .collect();
    assert_eq!(
        with_logs.len(),
        2,
        "the bed has deferred mail with defer logs"
    );
    let (linked, fifo) = (&with_logs[0], &with_logs[1]);
    let log = bed.log_file("defer", linked).unwrap();
    fs::remove_file(&log).unwrap();
    symlink(&shadow, &log).unwrap();
    let log = bed.log_file("defer", fifo).unwrap();
    fs::remove_file(&log).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(&log)
        .status()
        .unwrap();
    assert!(made.success());

    let backup = tmp.path().join("backup");
    let started = Instant::now();
    let out = delete_with_backup(&bed, &with_logs, &backup);
    assert_exit(&out, 0, "delete --backup with hostile logs");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "no hang on the FIFO"
    );
    let stderr = text(&out.stderr);
    for id in &with_logs {
        assert!(
            stderr.contains(&format!("warning: backup of {id}: defer:"))
                && stderr.contains("not copied"),
            "{stderr}"
        );
        assert!(!backup.join("defer").join(id).exists(), "{id}: log copied");
        assert!(
            backup.join("deferred").join(id).exists(),
            "{id}: queue file saved"
        );
    }
    assert_eq!(fs::read(&shadow).unwrap(), secret);
    let manifest = fs::read_to_string(backup.join("manifest.jsonl")).unwrap();
    let lines: Vec<Value> = manifest
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{manifest}");
    assert_eq!(
        lines[0]["logs_refused"]["defer"], "is a symbolic link",
        "{manifest}"
    );
    assert_eq!(
        lines[1]["logs_refused"]["defer"], "is not a regular file (a FIFO)",
        "{manifest}"
    );

    // Edit the first copy: its first to-do recipient's first letter, every occurrence, so
    // the size stays and the envelope decodes.
    let entry = &lines[0];
    let file = entry["file"].as_str().unwrap();
    let rcpt = entry["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["state"] == "todo")
        .and_then(|r| r["address"].as_str())
        .unwrap()
        .to_string();
    let mut forged = rcpt.clone().into_bytes();
    forged[0] = if forged[0] == b'z' { b'y' } else { b'z' };
    let path = backup.join(file);
    let mut bytes = fs::read(&path).unwrap();
    let len = bytes.len();
    let mut at = 0;
    while let Some(i) = bytes[at..]
        .windows(rcpt.len())
        .position(|w| w == rcpt.as_bytes())
    {
        bytes[at + i..at + i + rcpt.len()].copy_from_slice(&forged);
        at += i + rcpt.len();
    }
    assert!(at > 0, "{rcpt} not in {file}");
    fs::write(&path, &bytes).unwrap();
    assert_eq!(fs::metadata(&path).unwrap().len() as usize, len);

    let out = restore(&bed, &backup, &["--dry-run"]);
    assert_exit(&out, 2, "restore --dry-run of an edited copy");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(file) && stderr.contains("SHA-256"),
        "the edited copy is named: {stderr}"
    );
    let stdout = text(&out.stdout);
    let other = lines[1]["id"].as_str().unwrap();
    assert!(
        stdout.contains(&format!("{other}: would restore: ")),
        "{stdout}"
    );
    assert!(
        !stdout.contains(&String::from_utf8_lossy(&forged).into_owned()),
        "{stdout}"
    );
}

/// What the sink received in one mail transaction (`DATA` with LF line ends, unstuffed).
#[derive(Clone, Debug, Default)]
struct Delivery {
    /// Everything after `MAIL FROM:`, parameters included.
    mail_from: String,
    /// Everything after each `RCPT TO:`.
    rcpt_to: Vec<String>,
    data: Vec<u8>,
}

/// An SMTP server on 127.0.0.1 that accepts every message (announcing 8BITMIME, SMTPUTF8
/// and DSN, so Postfix passes those options on) and records it.
struct Sink {
    port: u16,
    received: Arc<Mutex<Vec<Delivery>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Sink {
    fn start() -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the SMTP sink");
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (store, flag) = (Arc::clone(&received), Arc::clone(&stop));
        let thread = thread::spawn(move || {
            for conn in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let store = Arc::clone(&store);
                thread::spawn(move || {
                    let _ = serve(conn, &store);
                });
            }
        });
        Sink {
            port,
            received,
            stop,
            thread: Some(thread),
        }
    }

    fn deliveries(&self) -> Vec<Delivery> {
        self.received.lock().unwrap().clone()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One SMTP session: just enough of RFC 5321 for Postfix's smtp client.
fn serve(conn: TcpStream, store: &Mutex<Vec<Delivery>>) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut out = conn;
    out.write_all(b"220 sink.example ESMTP\r\n")?;
    let mut current = Delivery::default();
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        let command = String::from_utf8_lossy(&line).trim_end().to_string();
        let upper = command.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-sink.example\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 DSN\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            current = Delivery {
                mail_from: command["MAIL FROM:".len()..].to_string(),
                ..Delivery::default()
            };
            b"250 2.1.0 Ok\r\n"
        } else if upper.starts_with("RCPT TO:") {
            current
                .rcpt_to
                .push(command["RCPT TO:".len()..].to_string());
            b"250 2.1.5 Ok\r\n"
        } else if upper == "DATA" {
            out.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")?;
            loop {
                line.clear();
                if reader.read_until(b'\n', &mut line)? == 0 {
                    return Ok(());
                }
                if line == b".\r\n" {
                    break;
                }
                let body = line.strip_prefix(b".").unwrap_or(&line);
                let body = body
                    .strip_suffix(b"\r\n")
                    .map(|b| [b, &b"\n"[..]].concat())
                    .unwrap_or_else(|| body.to_vec());
                current.data.extend_from_slice(&body);
            }
            store.lock().unwrap().push(std::mem::take(&mut current));
            b"250 2.0.0 Ok: queued\r\n"
        } else if upper == "QUIT" {
            out.write_all(b"221 2.0.0 Bye\r\n")?;
            return Ok(());
        } else {
            // HELO, RSET, NOOP.
            b"250 2.0.0 Ok\r\n"
        };
        out.write_all(reply)?;
    }
}
