//! A hostile queue, binary level (issue 10, "Done when"): a copy of a real
//! Postfix queue with, in every queue and in the log directories, what a
//! compromised `postfix` user can plant: symlinks to `/etc/shadow` and
//! `/dev/zero`, a FIFO, a 200 GB sparse file, a directory named like a
//! queue ID, a hash subdirectory that is a symlink; and the defer logs of
//! real deferred messages replaced by the same. `list --ids`, `summary`
//! and `list --reason` (which reads the defer logs) must finish, list every
//! good message, name every hazard on stderr by path, stay under 100 MB of
//! memory, and exit 2 (the run had errors).

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::postfix::{message_files_in, require_postfix, IdStyle, Instance, MESSAGE_QUEUES};
use crate::util::qsurgeon;

/// How long one command may take on the planted queue before it counts as
/// hung (the real work takes well under a second).
const TIMEOUT: Duration = Duration::from_secs(60);

/// The peak resident set size allowed, in kB.
const RSS_LIMIT_KB: u64 = 100 * 1024;

/// What a run printed and how it ended.
struct Measured {
    status: ExitStatus,
    stdout: String,
    stderr: String,
    rss_kb: u64,
}

/// Runs `qsurgeon --queue-dir QUEUE ARGS` under GNU time (peak RSS), killed
/// after [`TIMEOUT`] (a FIFO waited on would hang it forever).
fn run_guarded(queue: &Path, args: &[&str], scratch: &Path) -> Measured {
    let name = args.join("_").replace(['-', ' '], "");
    let out = scratch.join(format!("{name}.out"));
    let err = scratch.join(format!("{name}.err"));
    let rss_file = scratch.join(format!("{name}.rss"));
    let mut child = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&rss_file)
        .arg(qsurgeon().get_program())
        .arg("--queue-dir")
        .arg(queue)
        .args(args)
        .env("TZ", "UTC")
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out).unwrap())
        .stderr(fs::File::create(&err).unwrap())
        .spawn()
        .expect("GNU time (/usr/bin/time, Debian package time) runs");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            // Kills time; qsurgeon below it is in the same process group only
            // if time forwards the signal, so kill it by its own pid too.
            let _ = Command::new("pkill")
                .arg("-KILL")
                .arg("-P")
                .arg(child.id().to_string())
                .status();
            child.kill().unwrap();
            child.wait().unwrap();
            panic!(
                "qsurgeon {args:?} still running after {TIMEOUT:?} on the planted queue; stderr: {}",
                fs::read_to_string(&err).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let rss = fs::read_to_string(&rss_file).unwrap();
    let rss_kb = rss
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak RSS in {rss:?}"));
    Measured {
        status,
        stdout: fs::read_to_string(&out).unwrap(),
        stderr: fs::read_to_string(&err).unwrap(),
        rss_kb,
    }
}

/// Postfix's hashed path of `id` in `queue` for the default layout
/// (`hash_queue_names = deferred, defer`, depth 1).
fn hashed(queue: &str, id: &str) -> PathBuf {
    if queue == "deferred" || queue == "defer" {
        Path::new(queue).join(&id[..1]).join(id)
    } else {
        Path::new(queue).join(id)
    }
}

fn mkfifo(path: &Path) {
    let made = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(made.success(), "mkfifo {}", path.display());
}

/// A sparse 200 GB file, mode 0700 (a complete queue file to the scan).
fn sparse(path: &Path) {
    let file = fs::File::create(path).unwrap();
    file.set_len(200 << 30).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o700)).unwrap();
}

/// One planted thing: its path (relative to the queue directory) and what
/// stderr must say about it.
struct Hazard {
    rel: PathBuf,
    problem: &'static str,
}

/// Plants the five file hazards under new queue IDs in `queue`, and a hash
/// subdirectory symlinked to `elsewhere`; returns what was planted.
fn plant(copy: &Path, queue: &str, n: usize, elsewhere: &Path, hash_dir: &str) -> Vec<Hazard> {
    let mut planted = Vec::new();
    let id = |kind: usize| format!("F{kind}{n}00000000A");
    let place = |id: &str| {
        let rel = hashed(queue, id);
        fs::create_dir_all(copy.join(rel.parent().unwrap())).unwrap();
        rel
    };
    let rel = place(&id(1));
    std::os::unix::fs::symlink("/etc/shadow", copy.join(&rel)).unwrap();
    planted.push(Hazard {
        rel,
        problem: "a symbolic link",
    });
    let rel = place(&id(2));
    std::os::unix::fs::symlink("/dev/zero", copy.join(&rel)).unwrap();
    planted.push(Hazard {
        rel,
        problem: "a symbolic link",
    });
    let rel = place(&id(3));
    mkfifo(&copy.join(&rel));
    planted.push(Hazard {
        rel,
        problem: "a FIFO",
    });
    let rel = place(&id(4));
    sparse(&copy.join(&rel));
    planted.push(Hazard {
        rel,
        problem: "214748364800 bytes",
    });
    let rel = place(&id(5));
    fs::create_dir(copy.join(&rel)).unwrap();
    fs::set_permissions(copy.join(&rel), fs::Permissions::from_mode(0o700)).unwrap();
    planted.push(Hazard {
        rel,
        problem: "a directory",
    });
    let rel = Path::new(queue).join(hash_dir);
    std::os::unix::fs::symlink(elsewhere, copy.join(&rel)).unwrap();
    planted.push(Hazard {
        rel,
        problem: "a symbolic link",
    });
    planted
}

#[test]
fn a_planted_queue_is_listed_and_summarized_with_every_hazard_named() {
    if !require_postfix() {
        return;
    }
    let instance = Instance::shared(IdStyle::Short);
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("queue");
    for queue in MESSAGE_QUEUES.iter().chain(&["defer", "bounce", "trace"]) {
        fs::create_dir_all(copy.join(queue)).unwrap();
    }
    instance.copy_queue(&copy);
    let mut good: BTreeSet<String> = message_files_in(&copy).into_iter().map(|f| f.id).collect();
    assert!(
        good.len() >= 10,
        "the shared bed has a populated queue: {good:?}"
    );
    let mut deferred: Vec<String> = message_files_in(&copy)
        .into_iter()
        .filter(|f| f.queue == "deferred")
        .map(|f| f.id)
        .collect();
    assert!(
        deferred.len() >= 5,
        "deferred messages to plant logs for: {deferred:?}"
    );

    let elsewhere = dir.path().join("elsewhere");
    let hash_dir = prepare_hash_symlink(&copy, &elsewhere, &mut good, &mut deferred);
    let secret = dir.path().join("secret");
    fs::write(&secret, "root:SECRET-HASH:19000:0:99999:7:::\n").unwrap();

    let mut hazards = Vec::new();
    for (n, queue) in MESSAGE_QUEUES.iter().enumerate() {
        hazards.extend(plant(&copy, queue, n, &elsewhere, hash_dir));
    }
    // The same in defer/ under IDs no message has: nothing reads a log
    // without its message (Postfix does not either), so they must only not
    // hang or grow anything.
    plant(&copy, "defer", 9, &elsewhere, hash_dir);
    let log_hazards = plant_defer_logs(&copy, dir.path(), &deferred, &secret);

    let scratch = dir.path().join("out");
    fs::create_dir(&scratch).unwrap();
    for args in [
        &["list", "--ids"][..],
        &["summary"][..],
        &["list", "--reason", "x"][..],
    ] {
        let run = run_guarded(&copy, args, &scratch);
        eprintln!(
            "qsurgeon {args:?}: {:?}, peak RSS {} kB",
            run.status, run.rss_kb
        );
        // `summary` (its by-reason table) and `--reason` read the defer logs.
        let mut named = hazards.iter().collect::<Vec<_>>();
        if args != ["list", "--ids"] {
            named.extend(&log_hazards);
        }
        check_run(&run, args, &copy, &named);
        if args == ["list", "--ids"] {
            let listed: BTreeSet<String> = run.stdout.lines().map(str::to_string).collect();
            assert_eq!(listed, good, "list --ids lists exactly the good messages");
        }
    }
}

/// The ID of the real message copied to where the symlinked hash
/// subdirectories lead; it must never be listed.
const STRAY_ID: &str = "E0000000000A0";

/// Makes `elsewhere`, where the symlinked hash subdirectories lead: a
/// directory with a copy of a real message under an ID of its own
/// ([`STRAY_ID`]). Picks and clears the hash directory for the symlink, taking
/// its messages out of `good` and `deferred`; returns its name.
fn prepare_hash_symlink(
    copy: &Path,
    elsewhere: &Path,
    good: &mut BTreeSet<String>,
    deferred: &mut Vec<String>,
) -> &'static str {
    fs::create_dir(elsewhere).unwrap();
    let any_good = message_files_in(copy).remove(0);
    fs::copy(copy.join(&any_good.rel_path), elsewhere.join(STRAY_ID)).unwrap();
    // A hash directory for the symlink: the hash character the fewest
    // deferred messages use (only `deferred` and `defer` are hashed;
    // elsewhere a one-character name stands alone anyway), with those
    // messages taken out of the copy, so the link hides no good message
    // however the bed's IDs fell.
    // (Not `F`: the planted hazards' own IDs start with it.)
    let hash_dir = [
        "E", "D", "C", "B", "A", "9", "8", "7", "6", "5", "4", "3", "2", "1", "0",
    ]
    .into_iter()
    .min_by_key(|c| deferred.iter().filter(|id| id.starts_with(c)).count())
    .unwrap();
    for id in deferred.iter().filter(|id| id.starts_with(hash_dir)) {
        fs::remove_file(copy.join(hashed("deferred", id))).unwrap();
        let _ = fs::remove_file(copy.join(hashed("defer", id)));
        good.remove(id);
    }
    deferred.retain(|id| !id.starts_with(hash_dir));
    // Logs left there belong to messages in other queues (held mail keeps
    // its defer log); the directory goes, so the symlink can take its name.
    for queue in ["deferred", "defer"] {
        let _ = fs::remove_dir_all(copy.join(queue).join(hash_dir));
    }
    hash_dir
}

/// Replaces the defer logs of five real deferred messages (which `list
/// --reason` reads) with hazards, one pointing at `secret`, and swaps a
/// defer hash directory for a symlink to a real copy of itself (moved into
/// `dir`); returns what was planted.
fn plant_defer_logs(copy: &Path, dir: &Path, deferred: &[String], secret: &Path) -> Vec<Hazard> {
    // The hash directory to swap: that of the first deferred message with a
    // log; the five logs turned into hazards are taken from other hash
    // directories.
    let linked_id = deferred
        .iter()
        .find(|id| copy.join(hashed("defer", id)).is_file())
        .expect("a deferred message with a defer log")
        .clone();
    let hash = linked_id[..1].to_string();
    let log_ids: Vec<&String> = deferred
        .iter()
        .filter(|id| !id.starts_with(&hash))
        .take(5)
        .collect();
    assert_eq!(log_ids.len(), 5, "deferred messages outside {hash}/");
    let mut log_hazards = Vec::new();
    for (i, id) in log_ids.into_iter().enumerate() {
        let rel = hashed("defer", id);
        let path = copy.join(&rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let _ = fs::remove_file(&path);
        let problem = match i {
            0 => {
                std::os::unix::fs::symlink(secret, &path).unwrap();
                "a symbolic link"
            }
            1 => {
                std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
                "a symbolic link"
            }
            2 => {
                mkfifo(&path);
                "a FIFO"
            }
            3 => {
                sparse(&path);
                "214748364800 bytes"
            }
            _ => {
                fs::create_dir(&path).unwrap();
                "a directory"
            }
        };
        log_hazards.push(Hazard { rel, problem });
    }
    // And that defer hash directory swapped for a symlink.
    let real = dir.join("defer-hash-copy");
    fs::rename(copy.join("defer").join(&hash), &real).unwrap();
    std::os::unix::fs::symlink(&real, copy.join("defer").join(&hash)).unwrap();
    log_hazards.push(Hazard {
        rel: hashed("defer", &linked_id),
        problem: "a symbolic link",
    });
    log_hazards
}

/// What every run on the planted queue must show: bounded memory, exit 2,
/// each of `named` named on stderr with its problem, nothing read through a
/// symlinked hash directory, no secret printed.
fn check_run(run: &Measured, args: &[&str], copy: &Path, named: &[&Hazard]) {
    assert!(
        run.rss_kb < RSS_LIMIT_KB,
        "{args:?}: peak RSS {} kB",
        run.rss_kb
    );
    // 2: the run had errors (the hazards), though every good message
    // was read.
    assert_eq!(run.status.code(), Some(2), "{args:?}: exit status");
    for hazard in named {
        let path = copy.join(&hazard.rel);
        let line = run
            .stderr
            .lines()
            .find(|l| l.contains(&format!("{}:", path.display())));
        assert!(
            line.is_some_and(|l| l.contains(hazard.problem)),
            "{args:?}: {} ({}) not named on stderr:\n{}",
            path.display(),
            hazard.problem,
            run.stderr
        );
    }
    assert!(
        !run.stdout.contains(STRAY_ID),
        "{args:?}: followed a symlinked hash directory"
    );
    assert!(!run.stdout.contains("SECRET-HASH") && !run.stderr.contains("SECRET-HASH"));
}
