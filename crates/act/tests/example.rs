//! The `hold_by_sasl_user` example, built and run against a real Postfix instance: after
//! it, `postqueue -j` shows exactly that user's mail on hold and everything else where it
//! was.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use common::{postfix_ready, Bed, SPAMMER};

/// Builds the example with the cargo that runs this test, into the same target directory.
fn example_binary() -> PathBuf {
    // target/<profile>/deps/example-HASH -> target/<profile>
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let target_dir = profile_dir.parent().expect("target root");
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--quiet",
            "-p",
            "qsurgeon-act",
            "--example",
            "hold_by_sasl_user",
        ])
        .env("CARGO_TARGET_DIR", target_dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("run cargo build --example");
    assert!(status.success(), "cargo build --example hold_by_sasl_user");
    profile_dir.join("examples").join("hold_by_sasl_user")
}

#[test]
fn the_example_holds_exactly_that_users_mail() {
    if !postfix_ready() {
        return;
    }
    let bed = Bed::new(150);
    let before = bed.queue_state();
    let theirs = bed.ids_of_sasl_user(SPAMMER);
    assert!(theirs.len() >= 10, "{theirs:?}");
    assert!(
        theirs.iter().any(|id| before[id] != "hold"),
        "some of their mail is not held yet"
    );

    let output = Command::new(example_binary())
        .arg(&bed.config_dir)
        .arg(SPAMMER)
        .output()
        .expect("run the example");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );

    let after = bed.queue_state();
    let held: BTreeSet<String> = after
        .iter()
        .filter(|(_, q)| *q == "hold")
        .map(|(id, _)| id.clone())
        .collect();
    let held_before: BTreeSet<String> = before
        .iter()
        .filter(|(_, q)| *q == "hold")
        .map(|(id, _)| id.clone())
        .collect();
    assert_eq!(
        held,
        held_before.union(&theirs).cloned().collect::<BTreeSet<_>>(),
        "on hold: what was held before plus exactly their mail"
    );
    for (id, queue) in &after {
        if !theirs.contains(id) {
            assert_eq!(Some(queue), before.get(id), "{id} untouched");
        }
    }
    for id in theirs.iter().filter(|id| before[*id] != "hold") {
        assert!(
            stdout.contains(&format!("{id}\t")),
            "a line for {id}: {stdout}"
        );
    }
}
