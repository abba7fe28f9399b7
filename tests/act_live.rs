//! The verbs against what a postmaster really has in front of them: the
//! confirmation prompt on a real terminal (a tmux pane), and a purge by SASL
//! user while a running Postfix keeps moving mail between `active` and
//! `deferred`.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use crate::act::{queue_state, spam_ids};
use crate::postfix::{require_postfix, IdStyle, Instance, SPAMMER};
use crate::util::{assert_exit, qsurgeon, run};

/// `before` without `removed`: what the queue must look like after a purge.
fn without(
    before: &BTreeMap<String, (String, bool)>,
    removed: &BTreeSet<String>,
) -> BTreeMap<String, (String, bool)> {
    before
        .iter()
        .filter(|(id, _)| !removed.contains(*id))
        .map(|(id, state)| (id.clone(), state.clone()))
        .collect()
}

/// Polls `ready` every 50 ms until it returns `Some` or `timeout` passes.
fn poll<T>(timeout: Duration, mut ready: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = ready() {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

// ---- The prompt on a terminal ----

/// How long any one wait for the screen may take. The scan of a test queue
/// takes milliseconds; this only bounds a hang.
const SCREEN_WAIT: Duration = Duration::from_secs(10);

/// What the shell in the pane prints once the command has exited, before
/// its exit status and a `]`.
const EXITED: &str = "[exited with status ";

/// A private tmux server (its own socket, no user config) running one
/// command in a detached pane: a real pseudo-terminal on stdin, stdout and
/// stderr, as when a postmaster types the command. A shell runs the command
/// and prints its exit status ([`EXITED`]): tmux 3.3 does not always reap a
/// pane's process that exits quickly (it stays a zombie, and
/// `#{pane_dead_status}` stays empty). The pane stays after the shell exits
/// (`remain-on-exit`), so the last screen can still be read. Dropping it
/// kills the server and with it the command.
pub(crate) struct Pane {
    socket: PathBuf,
    config: PathBuf,
}

impl Pane {
    /// Starts `program args` in a 200x60 pane, with `TZ=UTC`.
    pub(crate) fn start(dir: &Path, name: &str, program: &Path, args: &[OsString]) -> Pane {
        let config = dir.join(format!("tmux-{name}.conf"));
        // Set before the command starts, so that even a quick exit leaves the pane.
        std::fs::write(
            &config,
            "set -g remain-on-exit on\nset -g history-limit 5000\n",
        )
        .expect("write the tmux config");
        let pane = Pane {
            socket: dir.join(format!("tmux-{name}.sock")),
            config,
        };
        let out = run(pane
            .tmux()
            .args(["new-session", "-d", "-s", "qs", "-x", "200", "-y", "60"])
            .args(["-e", "TZ=UTC", "--", "sh", "-c"])
            .arg(format!("\"$0\" \"$@\"; echo \"{EXITED}$?]\""))
            .arg(program)
            .args(args));
        assert_exit(&out, 0, "tmux new-session");
        pane
    }

    fn tmux(&self) -> Command {
        let mut cmd = Command::new("tmux");
        cmd.arg("-S")
            .arg(&self.socket)
            .arg("-f")
            .arg(&self.config)
            .stdin(Stdio::null())
            // Run from inside a tmux session, tmux would take this for nesting.
            .env_remove("TMUX");
        cmd
    }

    /// What the pane shows, scrollback included, wrapped lines joined.
    pub(crate) fn screen(&self) -> String {
        let out = run(self
            .tmux()
            .args(["capture-pane", "-p", "-J", "-S", "-", "-t", "qs"]));
        assert_exit(&out, 0, "tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the screen shows `text`; returns the screen.
    pub(crate) fn wait_for_text(&self, text: &str) -> String {
        let mut last = String::new();
        poll(SCREEN_WAIT, || {
            last = self.screen();
            last.contains(text).then(|| last.clone())
        })
        .unwrap_or_else(|| {
            panic!("{text:?} not on the screen after {SCREEN_WAIT:?}; the screen:\n{last}")
        })
    }

    /// Types keys (tmux key names: `y`, `n`, `Enter`).
    pub(crate) fn send_keys(&self, keys: &str) {
        let out = run(self.tmux().args(["send-keys", "-t", "qs", keys]));
        assert_exit(&out, 0, "tmux send-keys");
    }

    /// Waits until the command has exited; returns its exit status and the
    /// last screen.
    pub(crate) fn wait_for_exit(&self) -> (i32, String) {
        let screen = self.wait_for_text(EXITED);
        let status = screen
            .rsplit_once(EXITED)
            .and_then(|(_, rest)| rest.split(']').next()?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no exit status on the screen:\n{screen}"));
        (status, screen)
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        // The server exits and SIGHUPs the pane's command (if still running).
        let _ = self.tmux().arg("kill-server").output();
    }
}

/// True when tmux can be run; otherwise says why the test is skipped (or
/// fails under `QSURGEON_REQUIRE_POSTFIX=1`, as the bed's own checks do).
pub(crate) fn require_tmux() -> bool {
    if Command::new("tmux").arg("-V").output().is_ok() {
        return true;
    }
    let problem = "tmux not installed (run scripts/install-test-deps.sh as root)";
    if std::env::var("QSURGEON_REQUIRE_POSTFIX").as_deref() == Ok("1") {
        panic!("QSURGEON_REQUIRE_POSTFIX=1 but {problem}");
    }
    eprintln!("skipped: {problem}");
    false
}

/// The lines a user reads between the scan and the question, as the screen
/// shows them after `delete --sasl-user mallory` on the bed.
fn assert_preview(screen: &str, spam: &BTreeSet<String>, spam_queues: &BTreeMap<String, usize>) {
    let n = spam.len();
    let has_line = |want: &str| screen.lines().any(|l| l.trim_end() == want);
    assert!(
        screen.contains(&format!(", {n} selected")),
        "the scan's count: {screen}"
    );
    assert!(
        screen.contains(&format!("qsurgeon: delete {n} messages (")),
        "the count and bytes: {screen}"
    );
    let queues: Vec<String> = spam_queues
        .iter()
        .map(|(q, count)| format!("{q} ({count})"))
        .collect();
    assert!(
        has_line(&format!("  queues:     {}", queues.join(", "))),
        "the queues: {screen}"
    );
    assert!(
        has_line(&format!("  SASL users: {SPAMMER} ({n})")),
        "the SASL user: {screen}"
    );
    // Forged senders AA@, AB@, … one message each: the first three, then how many more.
    assert!(
        has_line(&format!(
            "  senders:    AA@ourdomain.example (1), AB@ourdomain.example (1), \
             AC@ourdomain.example (1), {} more",
            n - 3
        )),
        "the senders: {screen}"
    );
    let samples: Vec<&str> = screen
        .lines()
        .skip_while(|l| l.trim_end() != "  for example:")
        .skip(1)
        .take_while(|l| l.starts_with("    "))
        .collect();
    assert_eq!(samples.len(), 5, "five sample messages: {screen}");
    for sample in samples {
        let id = sample
            .trim_start()
            .split_once('/')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .unwrap_or_default();
        assert!(
            spam.contains(id) && sample.contains("@ourdomain.example> to <victim"),
            "a sample of the spammer's mail: {sample:?}"
        );
    }
}

#[test]
fn prompt_on_a_terminal_previews_then_acts_only_on_yes() {
    if !require_postfix() || !require_tmux() {
        return;
    }
    let started = Instant::now();
    let instance = Instance::new_populated(IdStyle::Short);
    let journal = instance.root.join("journal");
    let before = queue_state(&instance);
    let spam = spam_ids(&instance);
    assert!(spam.len() > 5, "the bed injected the spammer's mail");
    let mut spam_queues = BTreeMap::new();
    for id in &spam {
        *spam_queues.entry(before[id].0.clone()).or_insert(0) += 1;
    }
    let args: Vec<OsString> = vec![
        "-c".into(),
        instance.config_dir.clone().into(),
        "delete".into(),
        "--sasl-user".into(),
        SPAMMER.into(),
        "--journal".into(),
        journal.clone().into(),
    ];
    let qsurgeon = Path::new(env!("CARGO_BIN_EXE_qsurgeon"));
    let asked = format!("Delete these {} messages?", spam.len());
    let question = format!("{asked} [y/N]");

    // "n": the preview was shown, nothing happened.
    let pane = Pane::start(&instance.root, "no", qsurgeon, &args);
    let screen = pane.wait_for_text(&question);
    assert_preview(&screen, &spam, &spam_queues);
    pane.send_keys("n");
    let (status, screen) = pane.wait_for_exit();
    assert_eq!(status, 2, "exit status after \"n\"; the screen:\n{screen}");
    // dialoguer replaces the question with the answer.
    assert!(screen.contains(&format!("{asked} no")), "{screen}");
    assert!(
        screen.contains("qsurgeon: not confirmed; nothing done"),
        "{screen}"
    );
    assert_preview(&screen, &spam, &spam_queues);
    drop(pane);
    assert_eq!(queue_state(&instance), before, "\"n\" changed nothing");
    // "n" is journaled as a refusal, and as nothing else (no start, no batch).
    let journaled: Vec<serde_json::Value> = std::fs::read_to_string(&journal)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(journaled.len(), 1, "{journaled:?}");
    assert_eq!(journaled[0]["event"], "refused");
    assert_eq!(journaled[0]["reason"], "not-confirmed");

    // Half a terminal is not a terminal: with stderr (where the preview and the
    // question go) in a file, or stdin (where the answer comes from) not the
    // terminal, nothing is asked and nothing done without --yes.
    for (name, redirect) in [("stderr", "2>\"$err\""), ("stdin", "</dev/null")] {
        let err = instance.root.join(format!("half-{name}.err"));
        let mut sh_args: Vec<OsString> = vec![
            "-c".into(),
            format!("err=\"$1\"; shift; exec \"$@\" {redirect}").into(),
            "sh".into(),
            err.clone().into(),
            qsurgeon.into(),
        ];
        sh_args.extend(args.iter().cloned());
        let pane = Pane::start(&instance.root, name, Path::new("/bin/sh"), &sh_args);
        let (status, screen) = pane.wait_for_exit();
        drop(pane);
        let said = format!(
            "{screen}{}",
            std::fs::read_to_string(&err).unwrap_or_default()
        );
        assert_eq!(
            status, 2,
            "{name} not a terminal: exit status; said:\n{said}"
        );
        assert!(
            said.contains("not on a terminal: add --yes"),
            "{name}: {said}"
        );
    }
    assert_eq!(
        queue_state(&instance),
        before,
        "half a terminal changed nothing"
    );

    // "y": exactly the spammer's messages are gone.
    let pane = Pane::start(&instance.root, "yes", qsurgeon, &args);
    let screen = pane.wait_for_text(&question);
    assert_preview(&screen, &spam, &spam_queues);
    pane.send_keys("y");
    let (status, screen) = pane.wait_for_exit();
    assert_eq!(status, 0, "exit status after \"y\"; the screen:\n{screen}");
    assert!(screen.contains(&format!("{asked} yes")), "{screen}");
    let n = spam.len();
    assert!(
        screen.contains(&format!(
            "qsurgeon: delete: {n} selected, {n} done, 0 already gone, 0 skipped (ID reused), \
             0 failed in "
        )),
        "{screen}"
    );
    // One line per message, ID, queue and what was done (the tabs are
    // spaces on the screen).
    for id in &spam {
        let line = [id.as_str(), before[id].0.as_str(), "delete"];
        assert!(
            screen
                .lines()
                .any(|l| l.split_whitespace().eq(line.iter().copied())),
            "a line {line:?}: {screen}"
        );
    }
    drop(pane);
    assert_eq!(
        queue_state(&instance),
        without(&before, &spam),
        "\"y\" removed exactly the spammer's messages"
    );
    eprintln!(
        "prompt test: {:.1} s in all",
        started.elapsed().as_secs_f64()
    );
}

// ---- Purging while Postfix moves mail ----

/// Longest a flusher may run, whatever happens to the test thread.
const FLUSH_LIMIT: Duration = Duration::from_secs(120);

/// A minimal SMTP client for extra mail with a SASL user: XCLIENT LOGIN from
/// 127.0.0.1 (authorized in the bed's main.cf; LOGIN sticks because SASL is
/// enabled), as the bed injects its own spammer.
struct Smtp {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    transcript: Vec<String>,
}

impl Smtp {
    fn connect(port: u16) -> Smtp {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("connect to smtpd on 127.0.0.1:{port}: {e}"));
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .expect("set a read timeout");
        // One write per command and a reply before the next: Nagle's delay
        // (waiting for the peer's delayed ACK) would cost 40 ms a message.
        stream.set_nodelay(true).expect("set TCP_NODELAY");
        let mut smtp = Smtp {
            reader: BufReader::new(stream.try_clone().expect("clone the stream")),
            writer: stream,
            transcript: Vec::new(),
        };
        smtp.expect(220);
        smtp
    }

    /// Sends one command (or a whole message, CRLF-separated, ending in its
    /// dot line), reads the reply and checks its code; returns the reply's
    /// last line.
    fn send(&mut self, text: &str, want: u16) -> String {
        self.transcript.push(format!("> {text}"));
        self.writer
            .write_all(format!("{text}\r\n").as_bytes())
            .unwrap_or_else(|e| panic!("SMTP write: {e}\n{}", self.transcript.join("\n")));
        self.expect(want)
    }

    fn expect(&mut self, want: u16) -> String {
        loop {
            let mut line = String::new();
            let n = self.reader.read_line(&mut line).unwrap_or(0);
            let line = line.trim_end().to_string();
            self.transcript.push(format!("< {line}"));
            if n == 0 || !line.starts_with(&want.to_string()) {
                panic!(
                    "expected SMTP reply {want}\n{}",
                    self.transcript[self.transcript.len().saturating_sub(20)..].join("\n")
                );
            }
            if line.as_bytes().get(3) != Some(&b'-') {
                return line;
            }
        }
    }
}

/// Sends `count` messages as SASL user `login` from `addr`, with forged
/// senders `<login>-<i>@ourdomain.example`, each to a recipient whose
/// delivery is deferred (the closed relayhost, or the bed's `retry:` domain).
/// Returns their queue IDs.
fn send_as(instance: &Instance, login: &str, addr: &str, count: usize) -> Vec<String> {
    const DOMAINS: [&str; 3] = ["remote.example", "other.example", "greylist.example"];
    let mut smtp = Smtp::connect(instance.smtp_port);
    smtp.send("EHLO client.test.example", 250);
    smtp.send(
        &format!("XCLIENT NAME=host.isp.example ADDR={addr} HELO=pc LOGIN={login}"),
        220,
    );
    smtp.send("EHLO pc", 250);
    let mut ids = Vec::new();
    for i in 0..count {
        let from = format!("{login}-{i}@ourdomain.example");
        let to = format!("rcpt{i}@{}", DOMAINS[i % DOMAINS.len()]);
        smtp.send(&format!("MAIL FROM:<{from}>"), 250);
        smtp.send(&format!("RCPT TO:<{to}>"), 250);
        smtp.send("DATA", 354);
        let reply = smtp.send(
            &format!(
                "From: <{from}>\r\nTo: <{to}>\r\nSubject: {login} {i}\r\n\r\n\
                 A message that cannot be delivered yet.\r\n."
            ),
            250,
        );
        match reply.rsplit_once("queued as ") {
            Some((_, id)) => ids.push(id.trim().to_string()),
            None => panic!("no queue ID in {reply:?}"),
        }
    }
    smtp.send("QUIT", 221);
    ids
}

/// Waits (at most 150 s) until Postfix has nothing in flight: nothing in
/// maildrop, incoming or active, and the same `postqueue -j` state for a
/// whole second (a flush request still queued at qmgr would move files
/// again within milliseconds). Returns that state.
fn settled_state(instance: &Instance) -> BTreeMap<String, (String, bool)> {
    let deadline = Instant::now() + Duration::from_secs(150);
    let mut last: Option<BTreeMap<String, (String, bool)>> = None;
    let mut stable_since = Instant::now();
    let mut stuck: (Vec<String>, Instant) = (Vec::new(), Instant::now());
    loop {
        let in_flight: Vec<_> = instance
            .message_files()
            .into_iter()
            .filter(|f| f.queue != "deferred" && f.queue != "hold")
            .collect();
        // A file qmgr found locked (a delivery agent still had it open when
        // a flush made qmgr look again) goes back to `incoming` with its
        // time stamp 60 s into the future (qmgr_active.c, qmgr_active_feed:
        // QMGR_MESSAGE_LOCKED), and qmgr skips it until then. qmgr scans
        // `incoming` only when triggered (qmgr.c, qmgr_trigger_event; its
        // timer scans only `deferred`), and nothing triggers it once the
        // test is quiet: send a trigger when the same files have sat there
        // for 5 s, and wait long enough for the 60 s to pass.
        let names: Vec<String> = in_flight
            .iter()
            .map(|f| f.rel_path.display().to_string())
            .collect();
        if names.is_empty() || names != stuck.0 {
            stuck = (names, Instant::now());
        } else if stuck.1.elapsed() >= Duration::from_secs(5) {
            let ahead: Vec<i64> = in_flight
                .iter()
                .filter_map(|f| {
                    let meta = std::fs::metadata(instance.queue_dir.join(&f.rel_path)).ok()?;
                    let mtime = meta.modified().ok()?;
                    Some(match mtime.duration_since(std::time::SystemTime::now()) {
                        Ok(ahead) => ahead.as_secs() as i64,
                        Err(behind) => -(behind.duration().as_secs() as i64),
                    })
                })
                .collect();
            eprintln!(
                "settling: {:?} still in flight after 5 s (time stamps {ahead:?} s ahead); waking qmgr",
                stuck.0
            );
            let _ = Command::new("/usr/sbin/postkick")
                .arg("-c")
                .arg(&instance.config_dir)
                .args(["public", "qmgr", "I"])
                .status();
            stuck.1 = Instant::now();
        }
        let state = queue_state(instance);
        if !in_flight.is_empty() || last.as_ref() != Some(&state) {
            stable_since = Instant::now();
        } else if stable_since.elapsed() >= Duration::from_secs(1) {
            return state;
        }
        assert!(
            Instant::now() < deadline,
            "the queue did not settle in 150 s; in flight: {in_flight:?}\n{}",
            instance.maillog_tail(30)
        );
        last = in_flight.is_empty().then_some(state);
        thread::sleep(Duration::from_millis(100));
    }
}

/// Runs `cmd` to completion, killing it and panicking if it takes longer
/// than `limit` (a purge of a few hundred messages takes about a second).
fn run_bounded(cmd: &mut Command, limit: Duration) -> std::process::Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let exited = poll(limit, || child.try_wait().ok().flatten());
    if exited.is_none() {
        let _ = child.kill();
        let output = child.wait_with_output();
        panic!("{cmd:?} still running after {limit:?}, killed: {output:?}");
    }
    child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("collecting the output of {cmd:?}: {e}"))
}

/// What a concurrent watcher saw in `active` at one moment.
struct Sample {
    at: Instant,
    active: usize,
    /// How many of them were messages being purged.
    purged: usize,
}

/// Deletes `login`'s messages (`targets`, exactly) with `qsurgeon delete
/// --sasl-user LOGIN --yes` while a flusher runs `postqueue -f` in a loop,
/// which makes qmgr move every deferred message to active, try it (the
/// relayhost is closed) and move it back to deferred, over and over; a
/// watcher lists `active` every millisecond meanwhile. Checks, once the
/// flushing has stopped and Postfix has settled, that exactly `targets` are
/// gone and every other message is where it was before, and that the purge
/// really overlapped with the movement.
fn purge_while_flushing(instance: &Instance, login: &str, targets: &BTreeSet<String>, name: &str) {
    let before = settled_state(instance);
    let missing: Vec<&String> = targets
        .iter()
        .filter(|id| !before.contains_key(*id))
        .collect();
    assert!(missing.is_empty(), "{name}: not in the queue: {missing:?}");
    let journal = instance.root.join(format!("journal-{name}"));
    let stop = AtomicBool::new(false);
    let samples = Mutex::new(Vec::new());
    let started = Instant::now();
    let (output, window, flushes) = thread::scope(|s| {
        let flusher = s.spawn(|| {
            let mut flushes = 0u64;
            while !stop.load(Ordering::SeqCst) && started.elapsed() < FLUSH_LIMIT {
                instance.run(instance.postqueue().arg("-f"), None);
                flushes += 1;
                thread::sleep(Duration::from_millis(10));
            }
            flushes
        });
        s.spawn(|| {
            while !stop.load(Ordering::SeqCst) && started.elapsed() < FLUSH_LIMIT {
                let active = instance.files_in("active");
                let sample = Sample {
                    at: Instant::now(),
                    active: active.len(),
                    purged: active.iter().filter(|f| targets.contains(&f.id)).count(),
                };
                samples.lock().unwrap().push(sample);
                thread::sleep(Duration::from_millis(1));
            }
        });
        // Start the purge only once the targets are seen moving.
        let moving = poll(Duration::from_secs(20), || {
            let samples = samples.lock().unwrap();
            samples.iter().any(|s| s.purged > 0).then_some(())
        });
        let t0 = Instant::now();
        let output = moving.map(|()| {
            run_bounded(
                qsurgeon()
                    .arg("-c")
                    .arg(&instance.config_dir)
                    .args(["delete", "--sasl-user", login, "--yes", "--journal"])
                    .arg(&journal),
                Duration::from_secs(60),
            )
        });
        let window = t0..Instant::now();
        stop.store(true, Ordering::SeqCst);
        (output, window, flusher.join().expect("the flusher"))
    });
    let Some(output) = output else {
        panic!(
            "{name}: none of the {} messages to purge was seen in active within 20 s of \
             flushing\n{}",
            targets.len(),
            instance.maillog_tail(30)
        );
    };
    let after = settled_state(instance);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let survivors: Vec<(&String, &(String, bool))> = after
        .iter()
        .filter(|(id, _)| targets.contains(*id))
        .collect();
    assert!(
        survivors.is_empty(),
        "{name}: messages of {login} survived the purge: {survivors:?}\n\
         qsurgeon stderr:\n{stderr}\nqsurgeon stdout:\n{stdout}"
    );
    assert_eq!(
        after,
        without(&before, targets),
        "{name}: exactly {login}'s messages are gone, everything else is where it was\n\
         qsurgeon stderr:\n{stderr}"
    );
    assert_exit(&output, 0, name);
    let n = targets.len();
    assert!(
        stderr.contains(&format!(
            "delete: {n} selected, {n} done, 0 already gone, 0 skipped (ID reused), 0 failed"
        )),
        "{name}: {stderr}"
    );

    let samples = samples.into_inner().unwrap();
    let during: Vec<&Sample> = samples.iter().filter(|s| window.contains(&s.at)).collect();
    let sightings: usize = during.iter().map(|s| s.purged).sum();
    eprintln!(
        "{name}: purged {n} messages of {login} in {:.0} ms during {flushes} flushes; \
         {} samples of active during the purge, {} non-empty (at most {} files), {sightings} \
         sightings of the purged mail there; {}",
        (window.end - window.start).as_secs_f64() * 1000.0,
        during.len(),
        during.iter().filter(|s| s.active > 0).count(),
        during.iter().map(|s| s.active).max().unwrap_or(0),
        stderr
            .lines()
            .find(|l| l.contains(" messages scanned in "))
            .unwrap_or_default()
    );
    // The point of the test: the purge ran while this very mail was moving.
    assert!(
        sightings > 0,
        "{name}: no message of {login} was seen in active while the purge ran"
    );
}

#[test]
fn purge_by_sasl_user_while_postfix_moves_mail_takes_all_and_only_theirs() {
    if !require_postfix() {
        return;
    }
    let started = Instant::now();
    let instance = Instance::new_populated(IdStyle::Short);
    instance.start();
    // The bed's maildrop, incoming, active and force-expired mail moves (or
    // bounces) on the first flush: let that happen before the baseline.
    instance.run(instance.postqueue().arg("-f"), None);

    // Round 1: the bed's spammer, 30 messages among the bed's other mail.
    purge_while_flushing(&instance, SPAMMER, &spam_ids(&instance), "round 1");

    // Rounds 2 and 3: 240 messages of another spammer, interleaved with 100
    // of a normal user's, so that every flush keeps hundreds of files moving
    // and the scan is all the more likely to meet files in mid-move.
    for (round, spammer) in [(2, "trudy"), (3, "victor")] {
        let mut targets = BTreeSet::new();
        for _ in 0..4 {
            targets.extend(send_as(&instance, spammer, "203.0.113.77", 60));
            send_as(&instance, "erin", "192.0.2.30", 25);
        }
        purge_while_flushing(&instance, spammer, &targets, &format!("round {round}"));
    }
    instance.stop();
    eprintln!(
        "purge race test: {:.1} s in all",
        started.elapsed().as_secs_f64()
    );
}
