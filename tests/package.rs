//! The installed Debian package (issue 12, part 4): `scripts/test.sh` builds it with
//! `scripts/deb.sh --install` (cargo-deb, `dpkg -i`) and then sets
//! `QSURGEON_REQUIRE_PACKAGE=1`; without that variable these tests are skipped, since they
//! read what `dpkg` installed on this machine, not this build.
//!
//! Checked as a postmaster would find it: `/usr/sbin/qsurgeon` is this build, `man -w`
//! finds the pages, the completions are where bash-completion, zsh and fish look, the
//! example cron file is all comments, the journal's directory is root's only, logrotate
//! accepts the rotation, and the installed binary lists and acts on a real Postfix instance
//! from cron's environment (`env -i PATH=/usr/bin:/bin`), journaling to the package's
//! default journal.

use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

use crate::act::{queue_state, spam_ids};
use crate::postfix::{require_postfix, IdStyle, Instance};
use crate::util::{assert_bytes_eq, assert_exit, qsurgeon, run};

const INSTALLED: &str = "/usr/sbin/qsurgeon";

/// True when the package tests are asked for (`QSURGEON_REQUIRE_PACKAGE=1`); then the
/// package must be installed.
fn require_package() -> bool {
    if std::env::var("QSURGEON_REQUIRE_PACKAGE").as_deref() != Ok("1") {
        eprintln!("skipped: QSURGEON_REQUIRE_PACKAGE=1 is not set (scripts/deb.sh --install, then set it)");
        return false;
    }
    let status = run(Command::new("dpkg-query").args(["-W", "-f=${Status}", "qsurgeon"]));
    assert_eq!(
        String::from_utf8_lossy(&status.stdout),
        "install ok installed",
        "QSURGEON_REQUIRE_PACKAGE=1 but the qsurgeon package is not installed (scripts/deb.sh --install)"
    );
    true
}

/// The installed qsurgeon as cron starts it: nothing of this process's environment, cron's
/// PATH (no /usr/sbin).
fn installed_as_cron() -> Command {
    let mut cmd = Command::new("env");
    cmd.args(["-i", "PATH=/usr/bin:/bin", "TZ=UTC", INSTALLED]);
    cmd
}

/// The paths the package installed (`dpkg -L`).
fn package_files() -> BTreeSet<String> {
    let output = run(Command::new("dpkg").args(["-L", "qsurgeon"]));
    assert_exit(&output, 0, "dpkg -L qsurgeon");
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn repo(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

#[test]
fn the_installed_binary_is_this_build_and_finds_its_man_pages() {
    if !require_package() {
        return;
    }
    let version = run(installed_as_cron().arg("--version"));
    assert_exit(&version, 0, "qsurgeon --version");
    assert_eq!(
        String::from_utf8_lossy(&version.stdout),
        format!("qsurgeon {}\n", env!("CARGO_PKG_VERSION"))
    );
    // The same CLI as the binary under test (a stale package would differ, e.g. lack --demo).
    for args in [&["--help"][..], &["list", "--help"]] {
        let installed = run(installed_as_cron().args(args));
        let built = run(qsurgeon().args(args));
        assert_exit(&installed, 0, "installed --help");
        assert_bytes_eq(&built.stdout, &installed.stdout, &args.join(" "));
    }

    // man finds the pages (through /usr/bin/man, as a postmaster would look them up).
    let files = package_files();
    for entry in std::fs::read_dir(repo("man")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let Some(page) = name.strip_suffix(".1") else {
            continue; // prose.roff
        };
        let output = run(Command::new("man").args(["-w", page]));
        assert_exit(&output, 0, &format!("man -w {page}"));
        let path = format!("/usr/share/man/man1/{name}.gz");
        assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), path);
        assert!(files.contains(&path), "{path} not in dpkg -L");
        let text = run(Command::new("gzip").arg("-dc").arg(&path));
        assert_exit(&text, 0, &path);
        assert_bytes_eq(
            &std::fs::read(repo("man").join(&name)).unwrap(),
            &text.stdout,
            &path,
        );
    }
}

#[test]
fn completions_cron_and_logrotate_files_are_in_place() {
    if !require_package() {
        return;
    }
    for (repo_file, installed) in [
        (
            "completions/qsurgeon.bash",
            "/usr/share/bash-completion/completions/qsurgeon",
        ),
        (
            "completions/_qsurgeon",
            "/usr/share/zsh/vendor-completions/_qsurgeon",
        ),
        (
            "completions/qsurgeon.fish",
            "/usr/share/fish/vendor_completions.d/qsurgeon.fish",
        ),
        ("pkg/debian/cron.d/qsurgeon", "/etc/cron.d/qsurgeon"),
        (
            "pkg/debian/logrotate.d/qsurgeon",
            "/etc/logrotate.d/qsurgeon",
        ),
    ] {
        assert_bytes_eq(
            &std::fs::read(repo(repo_file)).unwrap(),
            &std::fs::read(installed).unwrap_or_else(|e| panic!("{installed}: {e}")),
            installed,
        );
    }
    // The /etc files are conffiles: an upgrade keeps the administrator's changes.
    let conffiles = run(Command::new("dpkg-query").args(["-W", "-f=${Conffiles}", "qsurgeon"]));
    let conffiles = String::from_utf8_lossy(&conffiles.stdout);
    for file in ["/etc/cron.d/qsurgeon", "/etc/logrotate.d/qsurgeon"] {
        assert!(
            conffiles.contains(&format!(" {file} ")),
            "{file}: {conffiles}"
        );
    }

    // The example cron file runs nothing until someone uncomments a job; each job names the
    // program by its full path (cron's PATH has no /usr/sbin).
    let cron = std::fs::read_to_string("/etc/cron.d/qsurgeon").unwrap();
    let mut jobs = 0;
    for line in cron.lines() {
        assert!(
            line.is_empty() || line.starts_with('#'),
            "active line: {line}"
        );
        let body = line.trim_start_matches('#');
        if body.starts_with(|c: char| c.is_ascii_digit() || c == '*') {
            jobs += 1;
            assert!(body.contains(" root /usr/sbin/qsurgeon "), "{line}");
        }
    }
    assert!(jobs >= 2, "{cron}");

    // The journal's directory: made by the postinst, root's only (qsurgeon refuses a
    // journal in a directory others can write).
    let meta = std::fs::metadata("/var/log/qsurgeon").unwrap();
    assert!(meta.is_dir());
    assert_eq!((meta.mode() & 0o7777, meta.uid()), (0o700, 0));
}

#[test]
fn logrotate_rotates_the_journal() {
    if !require_package() {
        return;
    }
    if !Path::new("/usr/sbin/logrotate").exists() {
        panic!("logrotate is not installed (scripts/install-test-deps.sh installs it)");
    }
    // The installed rule, pointed at a journal in a root-only temp dir, forced once.
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal");
    std::fs::write(&journal, "{\"event\":\"start\"}\n").unwrap();
    std::fs::set_permissions(
        &journal,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let rule = std::fs::read_to_string("/etc/logrotate.d/qsurgeon").unwrap();
    assert!(rule.contains("/var/log/qsurgeon/journal {"), "{rule}");
    let conf = dir.path().join("logrotate.conf");
    std::fs::write(
        &conf,
        rule.replace("/var/log/qsurgeon/journal", journal.to_str().unwrap()),
    )
    .unwrap();
    let output = run(Command::new("/usr/sbin/logrotate")
        .arg("--force")
        .arg("--state")
        .arg(dir.path().join("state"))
        .arg(&conf));
    assert_exit(&output, 0, "logrotate --force");
    // delaycompress: the first rotation is kept as it is; a new journal, 0600 root.
    assert_eq!(
        std::fs::read_to_string(dir.path().join("journal.1")).unwrap(),
        "{\"event\":\"start\"}\n"
    );
    let meta = std::fs::metadata(&journal).unwrap();
    assert_eq!(
        (meta.len(), meta.mode() & 0o7777, meta.uid()),
        (0, 0o600, 0)
    );
}

#[test]
fn the_installed_binary_lists_and_acts_from_crons_environment() {
    if !require_package() || !require_postfix() {
        return;
    }
    // `list` on a test instance: the same bytes as the binary under test prints.
    let shared = Instance::shared(IdStyle::Short);
    let output = run(installed_as_cron()
        .arg("-c")
        .arg(&shared.config_dir)
        .arg("list"));
    assert_exit(&output, 0, "installed list from cron");
    let built = run(qsurgeon().arg("-c").arg(&shared.config_dir).arg("list"));
    assert_exit(&built, 0, "list");
    assert!(
        String::from_utf8_lossy(&output.stdout).contains(" Requests.\n"),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert_bytes_eq(&built.stdout, &output.stdout, "installed list");

    // A cron job that acts, with the default journal: it goes to the directory the
    // package made, and the run is there.
    let instance = Instance::new_populated(IdStyle::Short);
    let before = queue_state(&instance);
    let deferred_spam: BTreeSet<String> = spam_ids(&instance)
        .into_iter()
        .filter(|id| before.get(id).is_some_and(|(q, _)| q == "deferred"))
        .collect();
    assert!(!deferred_spam.is_empty());
    let output = run(installed_as_cron()
        .arg("-c")
        .arg(&instance.config_dir)
        .args([
            "hold",
            "--queue",
            "deferred",
            "--sasl-user",
            "mallory",
            "--yes",
            "--quiet",
        ]));
    assert_exit(&output, 0, "installed hold from cron");
    let after = queue_state(&instance);
    for id in &deferred_spam {
        assert_eq!(after[id].0, "hold", "{id}");
    }
    let journal = std::fs::read_to_string("/var/log/qsurgeon/journal")
        .expect("the default journal was written");
    let config = instance.config_dir.to_str().unwrap();
    let ends = journal
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("a JSON line"))
        .filter(|l| l["run"]["config_dir"] == config && l["event"] == "end")
        .count();
    assert_eq!(ends, 1, "one finished run of this instance in the journal");
    let meta = std::fs::metadata("/var/log/qsurgeon/journal").unwrap();
    assert_eq!((meta.mode() & 0o7777, meta.uid()), (0o600, 0));
}

/// `line` split as /bin/sh would split the example jobs (words, '…' quoting only).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                word.get_or_insert_with(String::new);
            }
            ' ' | '\t' if !quoted => words.extend(word.take()),
            '"' | '\\' | '$' | '`' | '%' if !quoted => {
                panic!("the example job uses shell syntax this test does not model: {line}")
            }
            _ => word.get_or_insert_with(String::new).push(c),
        }
    }
    assert!(!quoted, "unbalanced quote: {line}");
    words.extend(word);
    words
}

#[test]
fn the_example_cron_jobs_run_from_crons_environment() {
    if !require_package() || !require_postfix() {
        return;
    }
    // Each job as it would run once uncommented, on a test instance instead of the
    // machine's, and with --dry-run instead of --yes: it must get as far as selecting
    // (exit 0 or 1), not stop on a mistyped flag, unit or expression (exit 2).
    let instance = Instance::shared(IdStyle::Short);
    let tmp = tempfile::tempdir().unwrap();
    let cron = std::fs::read_to_string(repo("pkg/debian/cron.d/qsurgeon")).unwrap();
    let mut ran = 0;
    for line in cron.lines() {
        let body = line.trim_start_matches('#');
        if !body.starts_with(|c: char| c.is_ascii_digit() || c == '*') {
            continue;
        }
        let words = shell_words(body);
        // minute hour day month weekday user program args…
        assert_eq!(words[5..7], ["root", INSTALLED], "{line}");
        let mut args: Vec<String> = vec!["-c".into(), instance.config_dir.display().to_string()];
        let mut rest = words[7..].iter();
        while let Some(word) = rest.next() {
            match word.as_str() {
                "-c" => {
                    rest.next();
                }
                "--backup" => {
                    rest.next();
                    args.push(word.clone());
                    args.push(tmp.path().join("backup").display().to_string());
                }
                "--yes" => args.push("--dry-run".into()),
                _ => args.push(word.clone()),
            }
        }
        let output = run(installed_as_cron().args(&args));
        let code = output.status.code();
        assert!(
            code == Some(0) || code == Some(1),
            "{line}\nran: {args:?}\nexit {code:?}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        ran += 1;
    }
    assert!(ran >= 3, "{cron}");
}

/// The postinst in a private mount namespace (a tmpfs on /var/log, so the machine's own is
/// untouched), with a `mkdir` and an `install` first in `PATH` that plant a symbolic link at
/// /var/log/qsurgeon just before running the real program: the attacker who can write to
/// /var/log (group `syslog` on some systems) winning the race between the postinst's test
/// and its creation. The directory the link names must keep its owner and mode (`install -d`
/// would make it root's, 0700: any directory on the machine); a link already there is left
/// alone, with a warning; a fresh install gets a 0700 root directory.
#[test]
fn postinst_never_chmods_or_chowns_through_a_planted_symlink() {
    if !rustix::process::geteuid().is_root() {
        eprintln!("skipped: the postinst test needs root (a mount namespace)");
        return;
    }
    let shims = tempfile::tempdir().unwrap();
    for tool in ["mkdir", "install"] {
        let path = shims.path().join(tool);
        std::fs::write(
            &path,
            format!(
                "#!/bin/sh\nln -s /var/log/target /var/log/qsurgeon\nexec /usr/bin/{tool} \"$@\"\n"
            ),
        )
        .unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
    }
    let postinst = repo("pkg/debian/postinst");
    // Prints the target's owner and mode, then the postinst's status, then whatever it made.
    let script = r#"
        set -u
        mount -t tmpfs none /var/log || exit 99
        mkdir -m 0755 /var/log/target && chown 65534:65534 /var/log/target
        PATH="$SHIMS:/usr/sbin:/usr/bin:/sbin:/bin" sh "$POSTINST" configure 2>/dev/null
        echo "race: status $? target $(stat -c '%u %a' /var/log/target)"
        rm -f /var/log/qsurgeon
        ln -s /var/log/target /var/log/qsurgeon
        sh "$POSTINST" configure 2>/var/log/err
        echo "link: status $? target $(stat -c '%u %a' /var/log/target) $(grep -c 'symbolic link' /var/log/err)"
        rm -f /var/log/qsurgeon
        sh "$POSTINST" configure
        echo "fresh: status $? $(stat -c '%F %u %g %a' /var/log/qsurgeon)"
    "#;
    let output = run(Command::new("unshare")
        .args(["-m", "sh", "-c", script])
        .env("SHIMS", shims.path())
        .env("POSTINST", &postinst));
    assert_exit(&output, 0, "postinst in a mount namespace");
    let text = String::from_utf8_lossy(&output.stdout);
    let line = |tag: &str| {
        text.lines()
            .find(|l| l.starts_with(tag))
            .unwrap_or_else(|| panic!("no {tag} line:\n{text}"))
            .to_string()
    };
    // Losing the race, the postinst fails (dpkg says so) rather than take the directory.
    assert!(
        line("race:").ends_with("target 65534 755"),
        "a symlink planted during the postinst took its chmod/chown:\n{text}"
    );
    assert!(!line("race:").contains("status 0 "), "{text}");
    assert_eq!(line("link:"), "link: status 0 target 65534 755 1", "{text}");
    assert_eq!(
        line("fresh:"),
        "fresh: status 0 directory 0 0 700",
        "{text}"
    );
}
