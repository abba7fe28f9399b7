//! The environment qsurgeon runs in is not trusted to find Postfix: under
//! cron's `PATH=/usr/bin:/bin` (no `/usr/sbin`) the README's cron line still
//! works, and with a hostile `PATH` whose first directory holds programs
//! named like Postfix's, none of them is ever run (root would run them).

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use crate::act::{queue_state, spam_ids};
use crate::postfix::{require_postfix, IdStyle, Instance};
use crate::util::{assert_exit, run};

/// qsurgeon with nothing of this process's environment: as cron starts a
/// job (`env -i`, then cron's own few variables).
fn as_cron(path: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qsurgeon"));
    cmd.env_clear()
        .env("PATH", path)
        .env("HOME", "/root")
        .env("SHELL", "/bin/sh")
        .env("LOGNAME", "root");
    cmd
}

/// A directory of programs named like Postfix's (and getent): each records
/// that it ran, then fails.
fn decoys(dir: &Path) -> std::path::PathBuf {
    let bin = dir.join("decoy-bin");
    std::fs::create_dir_all(&bin).expect("mkdir decoys");
    let marker = dir.join("decoy-ran");
    for name in [
        "postconf",
        "postsuper",
        "postqueue",
        "postdrop",
        "postmulti",
        "postmap",
        "postcat",
        "getent",
        "sendmail",
    ] {
        let path = bin.join(name);
        std::fs::write(
            &path,
            format!(
                "#!/bin/sh\necho {name} \"$@\" >> {}\nexit 1\n",
                marker.display()
            ),
        )
        .expect("write decoy");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    marker
}

#[test]
fn the_readme_cron_line_works_under_crons_environment() {
    if !require_postfix() {
        return;
    }
    let instance = Instance::new_populated(IdStyle::Short);
    let before = queue_state(&instance);
    let spam = spam_ids(&instance);
    let deferred_spam: BTreeSet<String> = spam
        .iter()
        .filter(|id| before.get(*id).is_some_and(|(q, _)| q == "deferred"))
        .cloned()
        .collect();
    assert!(
        !deferred_spam.is_empty(),
        "the bed defers the spammer's mail"
    );
    let backup = instance.root.join("backup");
    let journal = instance.root.join("journal");
    // The README's line, with this instance's -c and the spammer's login
    // instead of a delay reason (so the expected set is known exactly).
    let output = run(as_cron("/usr/bin:/bin")
        .arg("-c")
        .arg(&instance.config_dir)
        .args([
            "delete",
            "--queue",
            "deferred",
            "--older-than",
            "0s",
            "--sasl-user",
            "mallory",
            "--max",
            "10000",
            "--backup",
        ])
        .arg(&backup)
        .args(["--yes", "--quiet", "--journal"])
        .arg(&journal));
    assert_exit(&output, 0, "cron delete");
    let after = queue_state(&instance);
    let removed: BTreeSet<String> = before
        .keys()
        .filter(|id| !after.contains_key(*id))
        .cloned()
        .collect();
    assert_eq!(removed, deferred_spam, "exactly the deferred spam is gone");
    for (id, state) in &after {
        assert_eq!(Some(state), before.get(id), "{id} untouched");
    }
    // Quiet: stdout empty, stderr one summary line.
    assert!(output.stdout.is_empty(), "{:?}", output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(journal.is_file() && backup.join("manifest.jsonl").is_file());
}

#[test]
fn programs_on_a_hostile_path_are_never_run() {
    if !require_postfix() {
        return;
    }
    let instance = Instance::shared(IdStyle::Short);
    let dir = tempfile::tempdir().expect("temp dir");
    let marker = decoys(dir.path());
    let path = format!(
        "{}:/usr/sbin:/usr/bin:/sbin:/bin",
        dir.path().join("decoy-bin").display()
    );
    let config = instance.config_dir.to_str().expect("utf-8 path");
    // Every command that asks Postfix something: postconf (all), postmap and
    // getent (--nonexistent-local-sender), postsuper (the version check and
    // a dry run), postqueue (list falls back to it only as non-root).
    let spam = instance.id_of("spam-00");
    let runs: [&[&str]; 5] = [
        &["-c", config, "list", "--count"],
        &["-c", config, "summary", "--by", "sasl-user"],
        &[
            "-c",
            config,
            "list",
            "--nonexistent-local-sender",
            "--count",
        ],
        &[
            "-c",
            config,
            "expire",
            "--sasl-user",
            "mallory",
            "--dry-run",
        ],
        &["-c", config, "show", "-q", "-e", spam],
    ];
    for args in runs {
        let output = run(as_cron(&path).args(args));
        assert!(
            !marker.exists(),
            "qsurgeon {args:?} ran a program from PATH: {}",
            std::fs::read_to_string(&marker).unwrap_or_default()
        );
        // Each run worked (0, or 1 when this bed has nothing to match): the
        // real programs were found without PATH.
        assert!(
            matches!(output.status.code(), Some(0 | 1)),
            "qsurgeon {args:?}: {}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
