//! qsurgeon run by a user who cannot read the queue (user `nobody`, through
//! `setpriv`): one clear line instead of a flood of errors, and for `list` a
//! fallback to `postqueue -j`.
//!
//! Two beds. A stub postqueue that prints the demo queue's real
//! `postqueue -j` output proves the fallback's formats and selection against
//! the real `postqueue -p` output and against qsurgeon's own direct scan of
//! the same queue. A real, running Postfix instance proves it end to end:
//! non-root postqueue needs the mail system running and, for `-c DIR`, the
//! directory listed in `alternate_config_directories` of the *default*
//! main.cf, which the test provides in a private mount namespace
//! (`unshare --mount`, a bind mount over /etc/postfix/main.cf) so the
//! machine's own configuration is never changed.

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::postfix::{require_postfix, IdStyle, Instance};
use crate::util::{assert_bytes_eq, assert_exit, qsurgeon, run, testdata};

/// True when we are root (needed to become `nobody`); otherwise says why
/// the test is skipped, or fails it when the Postfix bed is required (CI).
fn can_switch_user() -> bool {
    let root = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .map(|v| v.split_whitespace().next() == Some("0"))
        })
        .unwrap_or(false);
    if !root {
        if std::env::var("QSURGEON_REQUIRE_POSTFIX").as_deref() == Ok("1") {
            panic!("QSURGEON_REQUIRE_POSTFIX=1 but the non-root tests need root to become nobody");
        }
        eprintln!("skipped: becoming user nobody needs root");
    }
    root
}

/// `setpriv` to nobody, then `program args…`, with a PATH that has the
/// Postfix tools and the test's environment for qsurgeon.
fn as_nobody(program: &Path) -> Command {
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
        .arg(program)
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("TZ", "UTC")
        .env_remove("NO_COLOR");
    cmd
}

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_qsurgeon"))
}

fn stderr_lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .map(str::to_string)
        .collect()
}

fn id_set(stdout: &[u8]) -> BTreeSet<String> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// A Postfix configuration directory whose queue directory nobody may read
/// (mode 0700, owned by root), and a stub postqueue that checks it is asked
/// for `-c <that dir> -j` and prints the demo queue's real output.
struct StubBed {
    dir: tempfile::TempDir,
}

impl StubBed {
    fn new() -> StubBed {
        let dir = tempfile::tempdir().expect("temp dir");
        let mode = |p: &Path, m: u32| {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).expect("chmod")
        };
        mode(dir.path(), 0o755);
        let spool = dir.path().join("spool");
        for queue in ["maildrop", "incoming", "active", "deferred", "hold"] {
            std::fs::create_dir_all(spool.join(queue)).expect("mkdir");
            mode(&spool.join(queue), 0o700);
        }
        let conf = dir.path().join("conf");
        std::fs::create_dir(&conf).expect("mkdir conf");
        std::fs::write(
            conf.join("main.cf"),
            format!(
                // The stub postqueue stands in for the real one because qsurgeon
                // takes Postfix's programs from command_directory.
                "queue_directory = {}\ncommand_directory = {}\ncompatibility_level = 3.6\n",
                spool.display(),
                dir.path().display()
            ),
        )
        .expect("main.cf");
        let stub = dir.path().join("postqueue");
        std::fs::write(
            &stub,
            format!(
                "#!/bin/sh\n\
                 [ \"$*\" = \"-c {} -j\" ] || {{ echo \"postqueue stub: unexpected arguments: $*\" >&2; exit 64; }}\n\
                 exec cat {}\n",
                conf.display(),
                testdata("demo-queue.postqueue-j.out").display()
            ),
        )
        .expect("stub");
        mode(&stub, 0o755);
        StubBed { dir }
    }

    fn conf(&self) -> PathBuf {
        self.dir.path().join("conf")
    }

    /// qsurgeon as nobody with `-c conf` (whose command_directory holds the stub postqueue).
    fn qsurgeon(&self, args: &[&str]) -> Output {
        let mut cmd = as_nobody(&bin());
        cmd.arg("-c").arg(self.conf()).args(args);
        run(&mut cmd)
    }
}

#[test]
fn nonroot_list_falls_back_to_postqueue_and_prints_what_postqueue_would() {
    if !can_switch_user() {
        return;
    }
    let bed = StubBed::new();

    let output = bed.qsurgeon(&["list"]);
    assert_exit(&output, 0, "list as nobody");
    let want = std::fs::read(testdata("demo-queue.postqueue-p.out")).expect("golden");
    assert_bytes_eq(&want, &output.stdout, "mailq text through postqueue -j");
    let lines = stderr_lines(&output);
    assert!(
        lines[0].contains("cannot read the queue") && lines[0].contains("permission denied"),
        "{lines:?}"
    );
    assert_eq!(lines.len(), 2, "the notice and the count: {lines:?}");

    let output = bed.qsurgeon(&["list", "--json"]);
    assert_exit(&output, 0, "list --json as nobody");
    let want = std::fs::read(testdata("demo-queue.postqueue-j.out")).expect("golden");
    assert_bytes_eq(&want, &output.stdout, "postqueue's own JSON lines");

    let output = bed.qsurgeon(&["list", "--count", "--queue", "hold"]);
    assert_exit(&output, 0, "--count");
    assert_eq!(output.stdout, b"2\n");
}

/// Selection on postqueue's fields selects what qsurgeon's own scan of the
/// same queue (as root, reading the files) selects.
#[test]
fn nonroot_selection_agrees_with_the_direct_scan() {
    if !can_switch_user() {
        return;
    }
    let bed = StubBed::new();
    let demo = crate::util::demo_queue().to_path_buf();
    let cases: [&[&str]; 9] = [
        &["--sender-domain", "ourdomain.example"],
        &["--recipient-domain", "greylist.example"],
        &["--reason", "Greylisted"],
        &["--null-sender"],
        &["--queue", "hold"],
        &[
            "--queue",
            "deferred",
            "--where",
            "size > 500B and recipient ~ /^victim8/",
        ],
        &[
            "--sender",
            "AJ@ourdomain.example",
            "--sender",
            "AK@ourdomain.example",
        ],
        &["--where", "all recipient_domain = greylist.example"],
        &["--older-than", "1s", "--smaller-than", "1M"],
    ];
    for case in cases {
        let mut args = vec!["list", "--ids"];
        args.extend_from_slice(case);
        let fallback = bed.qsurgeon(&args);
        let direct = run(qsurgeon().arg("--queue-dir").arg(&demo).args(&args));
        assert_eq!(
            fallback.status.code(),
            direct.status.code(),
            "{case:?}: {}",
            String::from_utf8_lossy(&fallback.stderr)
        );
        let (got, want) = (id_set(&fallback.stdout), id_set(&direct.stdout));
        assert!(!want.is_empty(), "{case:?} selects something");
        assert_eq!(got, want, "{case:?}");
    }
    // --sort works on postqueue's fields too, in the same order.
    for field in ["size", "arrival", "sender", "recipients"] {
        let args = ["list", "--ids", "--sort", field, "--reverse"];
        let sorted = bed.qsurgeon(&args);
        let direct = run(qsurgeon().arg("--queue-dir").arg(&demo).args(args));
        assert_bytes_eq(&direct.stdout, &sorted.stdout, &format!("--sort {field}"));
    }
    // As in `list`, --limit stops after N selected messages.
    let limited = bed.qsurgeon(&["list", "--ids", "--limit", "3"]);
    assert_eq!(id_set(&limited.stdout).len(), 3);
}

#[test]
fn nonroot_refusals_and_other_commands_say_so_in_one_line() {
    if !can_switch_user() {
        return;
    }
    let bed = StubBed::new();
    let conf = bed.conf();
    for (args, what) in [
        (&["list", "--sasl-user", "mallory"][..], "sasl_user"),
        (&["list", "--client", "203.0.113.0/24"], "client"),
        (&["list", "--header", "Subject~x"], "header.subject"),
        (&["list", "--csv"], "--csv"),
        (&["list", "--explain", "3FA9298C54E"], "--explain"),
    ] {
        let output = bed.qsurgeon(args);
        assert_exit(&output, 2, &format!("{args:?}"));
        let lines = stderr_lines(&output);
        assert_eq!(lines.len(), 1, "{args:?}: {lines:?}");
        assert!(
            lines[0].contains(what) && lines[0].contains("only root"),
            "{lines:?}"
        );
        assert!(output.stdout.is_empty());
    }
    for args in [
        &["summary"][..],
        &["delete", "--sasl-user", "mallory", "--yes", "--no-journal"],
        &["hold", "--all", "--yes", "--no-journal"],
    ] {
        let output = bed.qsurgeon(args);
        assert_exit(&output, 2, &format!("{args:?}"));
        let lines = stderr_lines(&output);
        assert_eq!(lines.len(), 1, "{args:?}: {lines:?}");
        assert!(
            lines[0].contains("cannot read the queue")
                && lines[0].contains("permission denied")
                && lines[0].contains("run it as root"),
            "{lines:?}"
        );
    }
    // --queue-dir has no postqueue to fall back to.
    let mut cmd = as_nobody(&bin());
    cmd.arg("--queue-dir")
        .arg(bed.dir.path().join("spool"))
        .arg("list");
    let output = run(&mut cmd);
    assert_exit(&output, 2, "--queue-dir as nobody");
    assert_eq!(
        stderr_lines(&output).len(),
        1,
        "{:?}",
        stderr_lines(&output)
    );
    let _ = conf;
}

/// End to end on a real, running instance: nobody's `qsurgeon -c DIR list`
/// prints what root's `postqueue -c DIR -p` prints.
#[test]
fn nonroot_list_through_a_real_postqueue() {
    if !require_postfix() || !can_switch_user() {
        return;
    }
    let instance = Instance::new_empty(IdStyle::Short);
    instance.start();
    let ids = instance.send_mails(&[
        ("alice@sender.example", "one@remote.example"),
        ("alice@sender.example", "two@other.example"),
        ("bob@sender.example", "three@remote.example"),
    ]);
    instance.wait_for_deferred(ids.len());

    // The default main.cf plus alternate_config_directories, seen only
    // inside the private mount namespace the command runs in.
    let scratch = tempfile::tempdir().expect("temp dir");
    std::fs::set_permissions(scratch.path(), std::fs::Permissions::from_mode(0o755))
        .expect("chmod");
    let main_cf = scratch.path().join("main.cf");
    let mut text = std::fs::read_to_string("/etc/postfix/main.cf").unwrap_or_default();
    text.push_str(&format!(
        "\nalternate_config_directories = {}\n",
        instance.config_dir.display()
    ));
    std::fs::write(&main_cf, text).expect("write main.cf");
    std::fs::set_permissions(&main_cf, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let nobody_qsurgeon = |args: &[&str]| -> Output {
        let mut cmd = Command::new("unshare");
        cmd.args(["--mount", "--propagation", "private", "--", "sh", "-c"])
            .arg(
                "mount --bind \"$1\" /etc/postfix/main.cf && shift && \
                 exec setpriv --reuid=nobody --regid=nogroup --clear-groups -- \"$@\"",
            )
            .arg("sh")
            .arg(&main_cf)
            .arg(bin())
            .arg("-c")
            .arg(&instance.config_dir)
            .args(args)
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("TZ", "UTC");
        run(&mut cmd)
    };

    let probe = run(Command::new("unshare").args(["--mount", "--propagation", "private", "true"]));
    if !probe.status.success() {
        // No CAP_SYS_ADMIN here: the stub-postqueue tests still ran.
        eprintln!(
            "skipped: cannot make a private mount namespace: {}",
            String::from_utf8_lossy(&probe.stderr)
        );
        instance.stop();
        return;
    }
    let output = nobody_qsurgeon(&["list"]);
    assert_exit(&output, 0, "list as nobody on a real instance");
    let want = instance.run(instance.postqueue().arg("-p"), None);
    assert_bytes_eq(
        &want.stdout,
        &output.stdout,
        "nobody's list = root's postqueue -p",
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("permission denied"));

    let output = nobody_qsurgeon(&["list", "--json"]);
    assert_exit(&output, 0, "list --json as nobody");
    let want = instance.run(instance.postqueue().arg("-j"), None);
    assert_eq!(
        id_set(&output.stdout),
        id_set(&want.stdout),
        "postqueue -j's lines"
    );

    let output = nobody_qsurgeon(&["list", "--ids", "--sender", "alice@sender.example"]);
    assert_exit(&output, 0, "--sender as nobody");
    assert_eq!(
        id_set(&output.stdout),
        ids[..2].iter().cloned().collect::<BTreeSet<_>>()
    );

    let output = nobody_qsurgeon(&["summary"]);
    assert_exit(&output, 2, "summary as nobody");
    assert_eq!(
        stderr_lines(&output).len(),
        1,
        "{:?}",
        stderr_lines(&output)
    );
    instance.stop();
}
