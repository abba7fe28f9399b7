//! `qsurgeon watch` against a running Postfix: a spammer's SMTP session keeps sending
//! while the watch runs; every new message of theirs must land on hold within two rounds,
//! nobody else's mail is touched, the journal has one run per round that acted, and
//! SIGTERM ends the watch with its summary. Also the refusals: `--max`, off a terminal
//! without `--yes`, `--demo`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::postfix::smtp;
use crate::postfix::{require_postfix, IdStyle, Instance};
use crate::util::{assert_exit, qsurgeon, run};

/// `--every` of the watch under test.
const EVERY: Duration = Duration::from_secs(1);

/// `(queue ID, on hold)` of every message `postqueue -j` lists.
fn held_state(instance: &Instance) -> BTreeMap<String, bool> {
    instance
        .postqueue_json()
        .iter()
        .map(|m| {
            (
                m["queue_id"].as_str().unwrap().to_string(),
                m["queue_name"] == "hold",
            )
        })
        .collect()
}

/// One SMTP session as `login` from `addr`: `count` mails, `pause` apart, the session open
/// all along (as a stolen login's stays open after its password is changed).
fn session(
    instance: &Instance,
    login: &str,
    addr: &str,
    count: usize,
    pause: Duration,
) -> Vec<String> {
    let session = smtp::Session {
        xclient: vec![
            ("NAME", "client.example".to_string()),
            ("ADDR", addr.to_string()),
            ("HELO", "client.example".to_string()),
            ("LOGIN", login.to_string()),
        ],
        mails: (0..count)
            .map(|i| smtp::Mail {
                from: format!("{login}-{i}@ourdomain.example"),
                rcpts: vec![(format!("rcpt{i}@remote.example"), String::new())],
                content: format!(
                    "From: <{login}@ourdomain.example>\nSubject: {login} {i}\n\nBody.\n"
                ),
                ..smtp::Mail::default()
            })
            .collect(),
        pause,
        ..smtp::Session::default()
    };
    smtp::send(instance.smtp_port, &session).unwrap_or_else(|e| {
        panic!(
            "SMTP session of {login} failed: {e}\n{}",
            instance.maillog_tail(30)
        )
    })
}

fn journal_events(journal: &Path) -> Vec<Value> {
    std::fs::read_to_string(journal)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn watch_cmd(instance: &Instance, journal: &Path, args: &[&str]) -> Command {
    let mut cmd = qsurgeon();
    cmd.arg("-c")
        .arg(&instance.config_dir)
        .arg("watch")
        .args(args)
        .arg("--journal")
        .arg(journal);
    cmd
}

/// Waits for `child` at most `limit`; kills it and panics past that.
fn wait_bounded(mut child: Child, limit: Duration) -> std::process::Output {
    let deadline = Instant::now() + limit;
    while child.try_wait().ok().flatten().is_none() {
        if Instant::now() >= deadline {
            let _ = child.kill();
            panic!(
                "watch still running after {limit:?}: {:?}",
                child.wait_with_output()
            );
        }
        thread::sleep(Duration::from_millis(50));
    }
    child
        .wait_with_output()
        .expect("collect the watch's output")
}

#[test]
fn watch_holds_a_spammers_new_mail_within_two_rounds_and_nothing_else() {
    if !require_postfix() {
        return;
    }
    let instance = Instance::new_empty(IdStyle::Short);
    instance.start();
    // Before the watch: two of the spammer's messages and the mail of two other users.
    let early: BTreeSet<String> = session(&instance, "trudy", "203.0.113.77", 2, Duration::ZERO)
        .into_iter()
        .collect();
    let mut spam = early.clone();
    let mut others: BTreeSet<String> = session(&instance, "erin", "192.0.2.30", 5, Duration::ZERO)
        .into_iter()
        .collect();
    others.extend(session(
        &instance,
        "frank",
        "203.0.113.78",
        3,
        Duration::ZERO,
    ));

    // A watcher of the queue directories: when each file was first seen, and first seen in
    // hold (every 20 ms).
    let first_seen: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let first_held: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let stop_watching = Arc::new(AtomicBool::new(false));
    let watcher = {
        let queue_dir = instance.queue_dir.clone();
        let (seen, held, stop) = (
            first_seen.clone(),
            first_held.clone(),
            stop_watching.clone(),
        );
        thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let now = Instant::now();
                for f in crate::postfix::message_files_in(&queue_dir) {
                    seen.lock().unwrap().entry(f.id.clone()).or_insert(now);
                    if f.queue == "hold" {
                        held.lock().unwrap().entry(f.id).or_insert(now);
                    }
                }
                thread::sleep(Duration::from_millis(20));
            }
        })
    };

    let journal = instance.root.join("journal-watch");
    let child = watch_cmd(
        &instance,
        &journal,
        &[
            "--sasl-user",
            "trudy",
            "--hold",
            "--every",
            "1s",
            "--for",
            "5m",
            "--yes",
        ],
    )
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("start qsurgeon watch");
    let pid = child.id();

    // While it runs: the spammer's session stays open and sends a message every 0.4 s; the
    // other users keep sending meanwhile, from another session.
    let other_sender = {
        let config = (instance.smtp_port, instance.maillog.clone());
        thread::spawn(move || {
            let session = smtp::Session {
                xclient: vec![
                    ("NAME", "client.example".to_string()),
                    ("ADDR", "192.0.2.30".to_string()),
                    ("HELO", "client.example".to_string()),
                    ("LOGIN", "erin".to_string()),
                ],
                mails: (0..10)
                    .map(|i| smtp::Mail {
                        from: format!("erin-late-{i}@ourdomain.example"),
                        rcpts: vec![(format!("r{i}@remote.example"), String::new())],
                        content: format!("Subject: erin {i}\n\nBody.\n"),
                        ..smtp::Mail::default()
                    })
                    .collect(),
                pause: Duration::from_millis(500),
                ..smtp::Session::default()
            };
            smtp::send(config.0, &session)
                .unwrap_or_else(|e| panic!("erin's session: {e} ({})", config.1.display()))
        })
    };
    spam.extend(session(
        &instance,
        "trudy",
        "203.0.113.77",
        20,
        Duration::from_millis(400),
    ));
    others.extend(other_sender.join().expect("erin's session"));

    // Every one of trudy's messages must reach hold; give the last one its two rounds.
    let deadline = Instant::now() + 2 * EVERY + Duration::from_secs(10);
    loop {
        let held = first_held.lock().unwrap();
        if spam.iter().all(|id| held.contains_key(id)) || Instant::now() >= deadline {
            break;
        }
        drop(held);
        thread::sleep(Duration::from_millis(50));
    }
    // A few idle rounds, which must not be journaled.
    thread::sleep(3 * EVERY);
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    let out = wait_bounded(child, Duration::from_secs(30));
    stop_watching.store(true, Ordering::SeqCst);
    watcher.join().expect("the watcher");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_exit(&out, 0, "watch stopped by SIGTERM");

    // Every message of trudy's is on hold, within two rounds of its arrival.
    let state = held_state(&instance);
    let seen = first_seen.lock().unwrap();
    let held = first_held.lock().unwrap();
    let mut slowest = Duration::ZERO;
    for id in &spam {
        assert_eq!(
            state.get(id),
            Some(&true),
            "trudy's {id} is not on hold\n{stderr}"
        );
        // The two queued before the watch started wait for its first round: not counted.
        if early.contains(id) {
            continue;
        }
        let (Some(arrived), Some(on_hold)) = (seen.get(id), held.get(id)) else {
            panic!("{id} never seen arriving or held by the watcher");
        };
        slowest = slowest.max(on_hold.saturating_duration_since(*arrived));
    }
    eprintln!("watch: slowest message from arrival to hold: {slowest:?}");
    // Two rounds, and 0.5 s for the round's own work (a listing, a few reads, postsuper).
    assert!(
        slowest <= 2 * EVERY + Duration::from_millis(500),
        "a message of trudy's took {slowest:?} to reach hold\n{stderr}"
    );
    // Nobody else's mail was touched: all still queued, none on hold.
    for id in &others {
        assert_eq!(
            state.get(id),
            Some(&false),
            "{id} (not trudy's) was touched\n{stderr}"
        );
    }
    // One line per queue ID on stdout: exactly trudy's, each put on hold.
    let lines: BTreeSet<String> = stdout
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 3, "outcome line {l:?}");
            assert_eq!(f[2], "hold", "outcome line {l:?}");
            f[0].to_string()
        })
        .collect();
    assert_eq!(
        lines, spam,
        "the outcome lines name exactly trudy's messages"
    );

    // The summary: SIGTERM, every message held, more rounds than acting rounds.
    let summary = stderr
        .lines()
        .find(|l| l.starts_with("qsurgeon: watch: ") && l.contains("stopped: "))
        .unwrap_or_else(|| panic!("no summary line:\n{stderr}"));
    assert!(summary.contains("stopped: SIGTERM"), "{summary}");
    // The listing diff: each message read once, although Postfix moved each from incoming
    // to active to deferred (or hold) while the watch ran.
    let total = spam.len() + others.len();
    assert!(
        stderr.contains(&format!(
            "qsurgeon: watch: {total} files read and evaluated;"
        )),
        "{total} messages in all:\n{stderr}"
    );
    assert!(
        summary.contains(&format!("{} held", spam.len())),
        "{summary}"
    );

    // The journal: one run (start … end) per round that acted, none for idle rounds.
    let events = journal_events(&journal);
    let starts: Vec<&Value> = events.iter().filter(|e| e["event"] == "start").collect();
    let ends: Vec<&Value> = events.iter().filter(|e| e["event"] == "end").collect();
    assert_eq!(starts.len(), ends.len(), "every start has its end");
    assert!(
        starts.iter().all(|s| s["selected"].as_u64() > Some(0)),
        "an empty round was journaled"
    );
    let rounds: u64 = summary
        .split("watch: ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("rounds in {summary}"));
    let acted = format!("{} acted", starts.len());
    assert!(
        summary.contains(&acted),
        "{summary} vs {} journaled runs",
        starts.len()
    );
    assert!(
        rounds > starts.len() as u64,
        "{summary}: idle rounds expected"
    );
    let journaled: BTreeSet<String> = events
        .iter()
        .filter(|e| e["event"] == "batch")
        .flat_map(|e| e["hold"]["done"].as_array().cloned().unwrap_or_default())
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        journaled, spam,
        "the journal's done IDs are trudy's messages"
    );
    assert!(events.iter().all(|e| e["run"]["verb"] == "hold"));

    // --dry-run: erin's mail named on stdout, nothing changed, nothing journaled.
    let journal_dry = instance.root.join("journal-dry");
    let out = run(watch_cmd(
        &instance,
        &journal_dry,
        &[
            "--sasl-user",
            "erin",
            "--hold",
            "--dry-run",
            "--every",
            "1s",
            "--for",
            "2s",
        ],
    )
    .stdin(Stdio::null()));
    assert_exit(&out, 0, "watch --dry-run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let erin: BTreeSet<&String> = others
        .iter()
        .filter(|id| stdout.contains(id.as_str()))
        .collect();
    assert_eq!(
        erin.len(),
        15,
        "erin's 15 messages named by the dry run:\n{stdout}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("stopped: --for elapsed"));
    assert_eq!(held_state(&instance), state, "--dry-run changed the queue");
    assert!(!journal_dry.exists(), "a dry run wrote a journal");

    // --delete --backup, on the hold queue: trudy's held mail is deleted, with copies that
    // `restore --dry-run` reads back; the watch ends when --for has elapsed.
    let backup = instance.root.join("backup");
    let journal_delete = instance.root.join("journal-delete");
    let backup_arg = backup.display().to_string();
    let out = run(watch_cmd(
        &instance,
        &journal_delete,
        &[
            "--sasl-user",
            "trudy",
            "--queue",
            "hold",
            "--delete",
            "--backup",
            &backup_arg,
            "--every",
            "1s",
            "--for",
            "2s",
            "--yes",
            "--quiet",
        ],
    )
    .stdin(Stdio::null()));
    assert_exit(&out, 0, "watch --delete --backup");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.stdout.is_empty(), "--quiet printed outcome lines");
    assert!(
        stderr.contains(&format!("{} deleted", spam.len()))
            && stderr.contains("stopped: --for elapsed"),
        "{stderr}"
    );
    let after_delete = held_state(&instance);
    assert!(
        spam.iter().all(|id| !after_delete.contains_key(id)),
        "trudy's mail still queued"
    );
    for id in &others {
        assert_eq!(
            after_delete.get(id),
            Some(&false),
            "{id} (not trudy's) was touched by delete"
        );
    }
    let out = run(qsurgeon()
        .arg("-c")
        .arg(&instance.config_dir)
        .arg("restore")
        .arg(&backup)
        .arg("--dry-run"));
    assert_exit(&out, 0, "restore --dry-run of the watch's backup");
    let restorable = String::from_utf8_lossy(&out.stderr);
    assert!(
        restorable.contains(&format!("would restore {} messages", spam.len())),
        "{restorable}"
    );
    let state = after_delete;

    // --max: erin's 15 messages are more than 3: refused, nothing done, exit 3.
    let journal_max = instance.root.join("journal-max");
    let out = run(watch_cmd(
        &instance,
        &journal_max,
        &[
            "--sasl-user",
            "erin",
            "--hold",
            "--max",
            "3",
            "--every",
            "1s",
            "--for",
            "30s",
            "--yes",
        ],
    )
    .stdin(Stdio::null()));
    assert_exit(&out, 3, "watch refused by --max");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("more than --max 3"), "{stderr}");
    assert_eq!(held_state(&instance), state, "--max changed the queue");
    let refused = journal_events(&journal_max);
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0]["event"], "refused");
    assert_eq!(refused[0]["reason"], "max");
    assert_eq!(refused[0]["selected"], 15);

    // Ctrl-C (SIGINT): stopped as the verbs are, exit 130, with the summary.
    let child = watch_cmd(
        &instance,
        &journal_max,
        &[
            "--sasl-user",
            "nobody",
            "--hold",
            "--every",
            "1s",
            "--for",
            "5m",
            "--yes",
        ],
    )
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("start qsurgeon watch");
    thread::sleep(Duration::from_millis(1500));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    let out = wait_bounded(child, Duration::from_secs(30));
    assert_exit(&out, 130, "watch stopped by SIGINT");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("0 selected, 0 held; stopped: interrupted"),
        "{stderr}"
    );

    // Off a terminal without --yes: refused before any round, exit 2.
    let out = run(
        watch_cmd(&instance, &journal_max, &["--sasl-user", "erin", "--hold"]).stdin(Stdio::null()),
    );
    assert_exit(&out, 2, "watch without --yes off a terminal");
    assert!(String::from_utf8_lossy(&out.stderr).contains("add --yes"));
    assert_eq!(
        held_state(&instance),
        state,
        "the refused watch changed the queue"
    );
    instance.stop();
}

#[test]
fn watch_needs_hold_or_delete_and_a_real_instance() {
    // Exactly one action.
    let out = run(qsurgeon().args(["watch", "--sasl-user", "x", "--yes"]));
    assert_exit(&out, 2, "watch without --hold or --delete");
    let out = run(qsurgeon().args(["watch", "--sasl-user", "x", "--hold", "--delete", "--yes"]));
    assert_exit(&out, 2, "watch with --hold and --delete");
    // --backup only with --delete; durations need a unit.
    let out = run(qsurgeon().args(["watch", "--sasl-user", "x", "--hold", "--backup", "/tmp/b"]));
    assert_exit(&out, 2, "watch --hold --backup");
    let out = run(qsurgeon().args(["watch", "--sasl-user", "x", "--hold", "--every", "10"]));
    assert_exit(&out, 2, "watch --every without a unit");
    // --demo refuses it: the copy is private and removed at exit.
    let out = run(qsurgeon().args(["--demo", "watch", "--sasl-user", "x", "--hold", "--yes"]));
    assert_exit(&out, 2, "--demo watch");
    assert!(String::from_utf8_lossy(&out.stderr).contains("watch changes a queue"));
}

#[test]
fn on_a_terminal_watch_shows_the_first_round_and_asks_once() {
    use crate::act_live::{require_tmux, Pane};
    use std::ffi::OsString;
    if !require_postfix() || !require_tmux() {
        return;
    }
    let instance = Instance::new_empty(IdStyle::Short);
    instance.start();
    let spam: BTreeSet<String> = session(&instance, "trudy", "203.0.113.77", 3, Duration::ZERO)
        .into_iter()
        .collect();
    let others: BTreeSet<String> = session(&instance, "erin", "192.0.2.30", 2, Duration::ZERO)
        .into_iter()
        .collect();
    let journal = instance.root.join("journal");
    let args: Vec<OsString> = [
        "-c",
        &instance.config_dir.display().to_string(),
        "watch",
        "--sasl-user",
        "trudy",
        "--hold",
        "--every",
        "1s",
        "--for",
        "2s",
        "--journal",
        &journal.display().to_string(),
    ]
    .iter()
    .map(Into::into)
    .collect();
    let qsurgeon = Path::new(env!("CARGO_BIN_EXE_qsurgeon"));
    let question = "Hold these 3 messages and every new match for 2s? [y/N]";

    // "n": the preview, then nothing done, exit 2, the refusal journaled.
    let pane = Pane::start(&instance.root, "watch-no", qsurgeon, &args);
    let screen = pane.wait_for_text(question);
    assert!(screen.contains("  SASL users: trudy (3)"), "{screen}");
    pane.send_keys("n");
    let (status, screen) = pane.wait_for_exit();
    drop(pane);
    assert_eq!(status, 2, "{screen}");
    assert!(screen.contains("not confirmed; nothing done"), "{screen}");
    let state = held_state(&instance);
    assert!(
        spam.iter()
            .chain(&others)
            .all(|id| state.get(id) == Some(&false)),
        "{state:?}"
    );
    let events = journal_events(&journal);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["reason"], "not-confirmed");

    // "y": asked once, then the rule runs its course.
    let pane = Pane::start(&instance.root, "watch-yes", qsurgeon, &args);
    pane.wait_for_text(question);
    pane.send_keys("y");
    let (status, screen) = pane.wait_for_exit();
    drop(pane);
    assert_eq!(status, 0, "{screen}");
    assert_eq!(
        screen.matches("and every new match for 2s?").count(),
        1,
        "asked once:\n{screen}"
    );
    assert!(
        screen.contains("3 held; stopped: --for elapsed"),
        "{screen}"
    );
    let state = held_state(&instance);
    assert!(
        spam.iter().all(|id| state.get(id) == Some(&true)),
        "{state:?}"
    );
    assert!(
        others.iter().all(|id| state.get(id) == Some(&false)),
        "{state:?}"
    );
    instance.stop();
}
