//! `qsurgeon triage` in a real pseudo-terminal (tmux), on a real instance:
//! keys in, screen content asserted, as a postmaster would use it: the full
//! screen (ratatui) where the terminal can take it, the prompt flow with
//! `TERM=dumb`.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::postfix::{label, require_postfix, IdStyle, Instance};

/// A tmux session running one command in a 200x60 terminal.
struct Screen {
    name: String,
}

impl Screen {
    fn start(command: &str) -> Screen {
        let name = format!(
            "qsurgeon-triage-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        )
        .replace(['(', ')'], "");
        let status = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                &name,
                "-x",
                "200",
                "-y",
                "60",
                command,
            ])
            .status()
            .expect("run tmux (scripts/install-test-deps.sh installs it)");
        assert!(status.success(), "tmux new-session failed");
        Screen { name }
    }

    fn text(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-S", "-200", "-t", &self.name])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the screen shows `needle` (at most 20 s).
    fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = self.text();
            if text.contains(needle) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {needle:?}; screen:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `1` while the program in the pane has the alternate screen on.
    fn alternate_on(&self) -> String {
        let out = Command::new("tmux")
            .args(["display-message", "-p", "-t", &self.name, "#{alternate_on}"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn keys(&self, keys: &[&str]) {
        for key in keys {
            let status = Command::new("tmux")
                .args(["send-keys", "-t", &self.name, key])
                .status()
                .unwrap();
            assert!(status.success());
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    /// Types literal text.
    fn type_text(&self, text: &str) {
        let status = Command::new("tmux")
            .args(["send-keys", "-l", "-t", &self.name, text])
            .status()
            .unwrap();
        assert!(status.success());
        std::thread::sleep(Duration::from_millis(100));
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.name])
            .status();
    }
}

/// The menu's entries, in order (see `src/commands/triage/mod.rs`).
const MENU_LOOK: usize = 10;
const MENU_ACT: usize = 11;
const MENU_QUIT: usize = 13;

fn down(n: usize) -> Vec<&'static str> {
    vec!["Down"; n]
}

/// The spammer's queue IDs and the queue before anything is done.
fn spammer_ids(instance: &Instance) -> Vec<String> {
    instance
        .labels
        .iter()
        .filter(|(k, _)| k.starts_with(label::SPAM_PREFIX))
        .map(|(_, id)| id.clone())
        .collect()
}

fn queue_ids(v: &[serde_json::Value]) -> Vec<String> {
    v.iter()
        .map(|m| m["queue_id"].as_str().unwrap().to_string())
        .collect()
}

/// The full screen, from the first scan to quitting: the spammer ranks
/// first among the SASL users, Enter narrows to them (the path shown as the
/// exact `qsurgeon list` command), `l` lists their messages with the
/// envelope in the preview, `M` marks them all, `a d` deletes through the
/// verb's preview and confirmation, the rescan shows the group empty, `q`
/// leaves the terminal as it was (alternate screen off, canonical mode
/// back), and `postqueue -j` shows exactly the spammer's mail gone.
#[test]
fn the_full_screen_finds_narrows_marks_and_deletes_the_spammer() {
    if !require_postfix() {
        return;
    }
    let instance = Instance::new_populated(IdStyle::Short);
    let before = instance.postqueue_json();
    let spam = spammer_ids(&instance);
    let n = spam.len();
    let journal = instance.root.join("journal");
    let command = format!(
        "env TZ=UTC QSURGEON_JOURNAL={} {} -c {} triage; echo EXIT=$?; \
         echo STTY $(stty -a | tr ' ;' '\n\n' | grep -x -- '-*icanon'); sleep 60",
        journal.display(),
        env!("CARGO_BIN_EXE_qsurgeon"),
        instance.config_dir.display()
    );
    let screen = Screen::start(&command);

    // The dashboard: every message, the spammer on the SASL table's first row.
    let text = screen.wait_for("scanned");
    assert!(
        text.contains(&format!("qsurgeon triage: {} messages", before.len())),
        "{text}"
    );
    // The instance can tell the nonexistent local senders (its
    // configuration is at hand): it has no local domain, so none.
    assert!(text.contains("nonexistent local senders (0)"), "{text}");
    let first_row = regex::Regex::new(r"│([^│\s]+)\s+(\d+)\s").unwrap();
    let sasl_first = text
        .lines()
        .skip_while(|l| !l.contains("SASL users ("))
        .nth(2)
        .unwrap_or_default();
    // The SASL table is the second box on the line (after the queues).
    let cells: Vec<(String, String)> = first_row
        .captures_iter(sasl_first)
        .map(|c| (c[1].to_string(), c[2].to_string()))
        .collect();
    assert_eq!(
        cells.get(1),
        Some(&("mallory".to_string(), n.to_string())),
        "{sasl_first}\n{text}"
    );

    // Enter narrows to mallory.
    screen.keys(&["Enter"]);
    let text = screen.wait_for("path: qsurgeon list --sasl-user mallory");
    assert!(
        text.contains(&format!("qsurgeon triage: {n} messages")),
        "{text}"
    );

    // Their messages, the first one's envelope in the preview.
    screen.keys(&["l"]);
    let text = screen.wait_for("*** ENVELOPE RECORDS");
    assert!(
        text.contains("messages 1-") && text.contains(&format!(" of {n}, by age")),
        "{text}"
    );
    assert!(
        text.contains("named_attribute: sasl_username=mallory"),
        "{text}"
    );

    // Mark them all, act, delete.
    screen.keys(&["M"]);
    screen.wait_for(&format!("{n} marked"));
    screen.keys(&["a"]);
    screen.wait_for(&format!("Act on the {n} marked messages"));
    screen.keys(&["d"]);
    let text = screen.wait_for("Delete these");
    assert!(
        text.contains(&format!("qsurgeon: delete {n} messages")),
        "{text}"
    );
    screen.keys(&["y"]);
    let text = screen.wait_for("press Enter to return to triage");
    assert!(
        text.contains(&format!("delete: {n} selected, {n} done")),
        "{text}"
    );
    screen.keys(&["Enter"]);

    // Back on the full screen, scanned again: the group is empty, and the
    // change since the last scan says so.
    let text = screen.wait_for(&format!("qsurgeon triage: 0 messages (-{n})"));
    assert!(
        text.contains("path: qsurgeon list --sasl-user mallory"),
        "{text}"
    );

    // Quit: the path's command line is printed on the restored terminal.
    screen.keys(&["q"]);
    let text = screen.wait_for("STTY");
    assert!(text.contains("EXIT=0"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.trim_end() == "qsurgeon list --sasl-user mallory"),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.trim_end() == "STTY icanon"),
        "canonical mode restored:\n{text}"
    );
    assert_eq!(screen.alternate_on(), "0", "alternate screen left");

    let after = queue_ids(&instance.postqueue_json());
    let before = queue_ids(&before);
    let mut expected: Vec<String> = before
        .iter()
        .filter(|id| !spam.contains(id))
        .cloned()
        .collect();
    let mut got = after.clone();
    expected.sort();
    got.sort();
    assert_eq!(got, expected, "exactly the spammer's mail is gone");
    let journal = std::fs::read_to_string(&journal).unwrap();
    assert!(
        journal.contains("triage: qsurgeon list --sasl-user mallory"),
        "{journal}"
    );
}

/// The prompt flow, for terminals the full screen cannot use (`TERM=dumb`).
#[test]
fn a_whole_triage_session_finds_looks_at_and_deletes_the_spammer() {
    if !require_postfix() {
        return;
    }
    let instance = Instance::new_populated(IdStyle::Short);
    let before = instance.postqueue_json();
    let spam: Vec<String> = instance
        .labels
        .iter()
        .filter(|(k, _)| k.starts_with(label::SPAM_PREFIX))
        .map(|(_, id)| id.clone())
        .collect();
    let journal = instance.root.join("journal");
    let command = format!(
        "env TERM=dumb TZ=UTC QSURGEON_JOURNAL={} {} -c {} triage; echo EXIT=$?; sleep 60",
        journal.display(),
        env!("CARGO_BIN_EXE_qsurgeon"),
        instance.config_dir.display()
    );
    let screen = Screen::start(&command);

    // The overview names the SASL user with the most mail first.
    let text = screen.wait_for("what next?");
    let sasl_line = text
        .lines()
        .find(|l| l.trim_start().starts_with("SASL users:"))
        .unwrap();
    assert!(
        sasl_line.contains(&format!("mallory ({})", spam.len())),
        "{sasl_line}"
    );
    assert!(
        text.contains(&format!("{} messages", before.len())),
        "{text}"
    );

    // Narrow by SASL users: search for mallory.
    screen.keys(&["Enter"]);
    screen.wait_for("Which of");
    screen.type_text("mallory");
    screen.keys(&["Enter"]);
    let text = screen.wait_for("== qsurgeon list --sasl-user mallory");
    assert!(
        text.contains(&format!("{} messages selected", spam.len())),
        "{text}"
    );

    // Look at one of their messages.
    screen.keys(&down(MENU_LOOK));
    screen.keys(&["Enter"]);
    screen.wait_for("Oldest");
    screen.keys(&["Enter"]);
    let text = screen.wait_for("*** ENVELOPE RECORDS");
    assert!(
        text.contains("named_attribute: sasl_username=mallory"),
        "{text}"
    );
    screen.keys(&["Escape"]);
    screen.wait_for(&format!("{} messages selected", spam.len()));

    // Delete them, confirming at the prompt.
    screen.keys(&down(MENU_ACT));
    screen.keys(&["Enter"]);
    screen.wait_for("Do what with these");
    screen.keys(&["Up", "Up", "Enter"]);
    let text = screen.wait_for("Delete these");
    assert!(
        text.contains(&format!("qsurgeon: delete {} messages", spam.len())),
        "{text}"
    );
    screen.keys(&["y"]);
    screen.wait_for("rescanning");
    let text = screen.wait_for("0 messages selected");
    assert!(
        text.contains(&format!(
            "delete: {} selected, {} done",
            spam.len(),
            spam.len()
        )),
        "{text}"
    );

    // Quit: the equivalent command line is printed.
    screen.keys(&down(MENU_QUIT));
    screen.keys(&["Enter"]);
    let text = screen.wait_for("EXIT=0");
    assert!(
        text.lines()
            .any(|l| l.trim_end() == "qsurgeon list --sasl-user mallory"),
        "{text}"
    );

    let after = instance.postqueue_json();
    let ids = |v: &[serde_json::Value]| -> Vec<String> {
        v.iter()
            .map(|m| m["queue_id"].as_str().unwrap().to_string())
            .collect()
    };
    let (before_ids, after_ids) = (ids(&before), ids(&after));
    assert!(
        spam.iter().all(|id| !after_ids.contains(id)),
        "the spammer's mail is gone"
    );
    assert_eq!(
        after_ids.len(),
        before_ids.len() - spam.len(),
        "nothing else was touched"
    );
}

/// Hostile text (ANSI and OSC escapes, bidi override, zero-width and C1
/// characters, invalid UTF-8 in sender, SASL login, client, subject and
/// reason) never reaches the terminal raw during a triage session: the
/// overview, the SASL user list and the message view. The raw bytes the
/// terminal received are recorded by util-linux `script`.
#[test]
fn triage_escapes_hostile_text() {
    use crate::terminal::{assert_nothing_hostile, hostile_queue};
    let queue = hostile_queue();
    let typescript = tempfile::NamedTempFile::new().unwrap();
    let down = |n: usize| "printf '\\033[B'; sleep 0.05; ".repeat(n);
    let keys = format!(
        "sleep 1.5; printf '\\r'; sleep 0.7; printf '\\r'; sleep 0.7; {}printf '\\r'; sleep 0.7; printf '\\r'; sleep 1; \
         printf '\\033'; sleep 1; {}printf '\\r'; sleep 1.5",
        down(MENU_LOOK),
        down(MENU_QUIT)
    );
    let command = format!(
        "({keys}) | script -q -e -c \"'{}' --queue-dir '{}' triage\" '{}'",
        env!("CARGO_BIN_EXE_qsurgeon"),
        queue.path().display(),
        typescript.path().display()
    );
    let status = Command::new("sh")
        .args(["-c", &command])
        .env("TZ", "UTC")
        .env("TERM", "dumb")
        .status()
        .unwrap();
    let shown = std::fs::read(typescript.path()).unwrap();
    let text = String::from_utf8_lossy(&shown);
    assert!(status.success(), "triage exited with {status}:\n{text}");
    assert!(
        text.contains("*** ENVELOPE RECORDS"),
        "the message was shown:\n{text}"
    );
    assert!(
        text.contains("\\u{202e}") && text.contains("\\x1b"),
        "hostile text shown escaped:\n{text}"
    );
    assert_nothing_hostile(&shown, false, "triage");
}

/// The same hostile queue on the full screen: the dashboard, the narrowed
/// group and the message list with its preview, as the raw bytes the
/// terminal received (util-linux `script`), with colour off (`NO_COLOR`) so
/// that no escape sequence but the screen's own cursor moves is expected.
#[test]
fn the_full_screen_escapes_hostile_text() {
    use crate::terminal::{assert_nothing_hostile, hostile_queue};
    let queue = hostile_queue();
    let typescript = tempfile::NamedTempFile::new().unwrap();
    let keys = "sleep 1.5; printf '\\r'; sleep 0.7; printf l; sleep 1; printf q; sleep 1";
    let command = format!(
        "({keys}) | script -q -e -c \"stty cols 160 rows 40; '{}' --queue-dir '{}' triage\" '{}'",
        env!("CARGO_BIN_EXE_qsurgeon"),
        queue.path().display(),
        typescript.path().display()
    );
    // The pseudo-terminal `script` opens has no size until told one.
    let status = Command::new("sh")
        .args(["-c", &command])
        .env("TZ", "UTC")
        .env("TERM", "xterm")
        .env("NO_COLOR", "1")
        .status()
        .unwrap();
    let shown = std::fs::read(typescript.path()).unwrap();
    let text = String::from_utf8_lossy(&shown);
    assert!(status.success(), "triage exited with {status}:\n{text}");
    // The screen is drawn in cells, with cursor moves between changed
    // runs: the text is read with the screen's own sequences taken out.
    let cells = full_screen_text(&shown);
    let cells_text = String::from_utf8_lossy(&cells);
    assert!(
        cells_text.contains("ENVELOPE"),
        "the message was shown:\n{text}"
    );
    assert!(
        cells_text.contains("\\u{202e}") && cells_text.contains("\\x1b"),
        "hostile text shown escaped:\n{text}"
    );
    // The two hostile sequences that look like the screen's own: checked
    // on the raw bytes, before the screen's sequences are taken out.
    for own_like in [&b"\x1b[31m"[..], b"\x1b[2K\x1b[1G"] {
        assert!(
            !shown.windows(own_like.len()).any(|w| w == own_like),
            "{own_like:?} reached the terminal"
        );
    }
    assert_nothing_hostile(&cells, false, "full-screen triage");
}

/// The bytes a full-screen session sent, less the screen's own control
/// sequences (cursor moves, modes, the alternate screen): CSI sequences
/// made of parameters and a final letter that crossterm writes. What is
/// left is the text, in which nothing hostile may appear.
fn full_screen_text(raw: &[u8]) -> Vec<u8> {
    let own = regex::bytes::Regex::new(r"\x1b\[[0-9;?]*[A-HJKSTfhlmr]|\x1b[78]").unwrap();
    own.replace_all(raw, &b""[..]).into_owned()
}

/// With a local domain whose mailboxes are listed, the forged senders get
/// the nonexistent-local-senders table: as many rows as the distinct
/// senders `list --nonexistent-local-sender` selects, and Enter on its top
/// row narrows to that sender exactly (the header counts that sender's
/// messages among those `list` selects).
#[test]
fn the_nonexistent_local_senders_table_holds_the_forged_senders() {
    if !require_postfix() {
        return;
    }
    let instance = Instance::new_populated(IdStyle::Short);
    // Nothing is delivered under the changed configuration.
    instance.stop();
    let mailboxes = instance.root.join("ls_local");
    std::fs::write(&mailboxes, "alice x\nbob x\ncarol x\ndave x\npostfix x\n").unwrap();
    let set = instance.run(
        instance.postconf().args([
            "-e",
            "mydestination=ourdomain.example",
            &format!("local_recipient_maps=texthash:{}", mailboxes.display()),
        ]),
        None,
    );
    assert!(set.status.success(), "{set:?}");
    let listed = crate::util::run(crate::util::qsurgeon().args([
        "-c",
        &instance.config_dir.display().to_string(),
        "list",
        "--nonexistent-local-sender",
        "--ids",
    ]));
    let ids: std::collections::HashSet<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    let sender_of: std::collections::HashMap<String, String> = instance
        .postqueue_json()
        .iter()
        .map(|m| {
            (
                m["queue_id"].as_str().unwrap().to_string(),
                m["sender"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let senders: std::collections::HashSet<&String> =
        ids.iter().filter_map(|id| sender_of.get(id)).collect();
    assert!(senders.len() > 1, "the forged senders: {listed:?}");
    assert!(senders.iter().all(|s| s.ends_with("@ourdomain.example")));

    let command = format!(
        "env TZ=UTC {} -c {} triage; sleep 60",
        env!("CARGO_BIN_EXE_qsurgeon"),
        instance.config_dir.display()
    );
    let screen = Screen::start(&command);
    let text = screen.wait_for("scanned");
    assert!(
        text.contains(&format!("nonexistent local senders ({})", senders.len())),
        "{text}"
    );
    // Shift-Tab from the first table wraps to the last, this one.
    screen.keys(&["BTab", "Enter"]);
    let text = screen.wait_for("path: qsurgeon list --sender ");
    let path = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("path: qsurgeon list --sender "))
        .unwrap()
        .trim()
        .to_string();
    assert!(senders.contains(&path), "{path}\n{text}");
    let n = ids.iter().filter(|id| sender_of[*id] == path).count();
    assert!(
        text.contains(&format!("qsurgeon triage: {n} messages")),
        "{text}"
    );
    screen.keys(&["q"]);
}
