//! `qsurgeon triage` in a real pseudo-terminal (tmux), on a real instance:
//! keys in, screen content asserted, as a postmaster would use it.

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
        "env TZ=UTC QSURGEON_JOURNAL={} {} -c {} triage; echo EXIT=$?; sleep 60",
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
        .env("TERM", "xterm")
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
