//! A throwaway Postfix instance for the crate's tests: a small queue made by queue-gen (real
//! queue files owned by postfix, a stolen SASL login among normal users) with its own
//! configuration directory, checked by real `postfix check`. Postfix is never started:
//! postsuper and `postqueue -j` work on a stopped instance.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The stolen login queue-gen gives the spammer.
pub const SPAMMER: &str = "spammer";

/// True when Postfix is installed and we are root; else prints "skipped" and returns false,
/// or panics when QSURGEON_REQUIRE_POSTFIX=1.
pub fn postfix_ready() -> bool {
    let missing: Vec<&str> = ["postsuper", "postfix", "postconf", "postqueue", "postcat"]
        .into_iter()
        .filter(|t| !Path::new("/usr/sbin").join(t).is_file())
        .collect();
    let root = rustix_free_euid() == Some(0);
    let problem = if !missing.is_empty() {
        format!("not installed: {}", missing.join(", "))
    } else if !root {
        "not root".to_string()
    } else {
        return true;
    };
    if std::env::var("QSURGEON_REQUIRE_POSTFIX").as_deref() == Ok("1") {
        panic!("QSURGEON_REQUIRE_POSTFIX=1 but Postfix cannot be used: {problem}");
    }
    eprintln!("skipped: no postfix ({problem})");
    false
}

fn rustix_free_euid() -> Option<u32> {
    fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find(|l| l.starts_with("Uid:"))?
        .split_whitespace()
        .nth(2)?
        .parse()
        .ok()
}

/// A generated queue and its configuration.
pub struct Bed {
    pub dir: tempfile::TempDir,
    pub queue_dir: PathBuf,
    pub config_dir: PathBuf,
}

impl Bed {
    /// `messages` messages, about a fifth of them the spammer's.
    pub fn new(messages: u64) -> Bed {
        // Postfix (user postfix) must traverse every parent.
        let base = std::env::temp_dir();
        let ok = base
            .ancestors()
            .all(|d| fs::metadata(d).is_ok_and(|m| m.mode() & 0o001 != 0));
        let dir = tempfile::Builder::new()
            .prefix("qsurgeon-act-")
            .tempdir_in(if ok { base } else { PathBuf::from("/tmp") })
            .expect("temp dir");
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let queue_dir = dir.path().join("spool");
        let config_dir = dir.path().join("config");
        let mut opts = queue_gen::Options::new(&queue_dir, messages);
        opts.seed = 11;
        opts.spam_share = 0.2;
        opts.max_total_size = 4 << 20;
        opts.max_message_size = 64 << 10;
        opts.postfix_config = Some(config_dir.clone());
        let report = queue_gen::generate(&opts).expect("generate the queue");
        assert!(report.notes.is_empty(), "{:?}", report.notes);
        Bed {
            dir,
            queue_dir,
            config_dir,
        }
    }

    /// The maillog postsuper appends to while the master is stopped.
    pub fn maillog(&self) -> PathBuf {
        let mut name = self.config_dir.file_name().unwrap().to_os_string();
        name.push(".log");
        self.config_dir.with_file_name(name).join("maillog")
    }

    /// queue_id -> queue_name, from real `postqueue -j`.
    pub fn queue_state(&self) -> BTreeMap<String, String> {
        let out = Command::new("/usr/sbin/postqueue")
            .arg("-c")
            .arg(&self.config_dir)
            .arg("-j")
            .output()
            .expect("postqueue -j");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (
                    v["queue_id"].as_str().unwrap().to_string(),
                    v["queue_name"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    /// The IDs whose envelope names `login` as SASL user, by real `postcat -e` (not by
    /// qsurgeon's own reader).
    pub fn ids_of_sasl_user(&self, login: &str) -> BTreeSet<String> {
        let wanted = format!("named_attribute: sasl_username={login}");
        self.queue_state()
            .keys()
            .filter(|id| {
                let out = Command::new("/usr/sbin/postcat")
                    .arg("-c")
                    .arg(&self.config_dir)
                    .args(["-e", "-q"])
                    .arg(id.as_str())
                    .output()
                    .expect("postcat");
                String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .any(|l| l.trim() == wanted)
            })
            .cloned()
            .collect()
    }
}

/// Every JSON line of a journal.
pub fn journal_lines(path: &Path) -> Vec<serde_json::Value> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Every line of real `postqueue -j`, keyed by queue ID.
pub fn postqueue_j(config_dir: &Path) -> BTreeMap<String, serde_json::Value> {
    let out = Command::new("/usr/sbin/postqueue")
        .arg("-c")
        .arg(config_dir)
        .arg("-j")
        .output()
        .expect("postqueue -j");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (v["queue_id"].as_str().unwrap().to_string(), v)
        })
        .collect()
}

/// The SHA-256 of a file, by coreutils' `sha256sum` (not by the crate's own code).
pub fn sha256sum(path: &Path) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}
