//! Test helpers: running the qsurgeon binary, fixtures, golden files and
//! byte comparisons with readable failure messages.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A `Command` for the qsurgeon binary, with `TZ=UTC` so times print the
/// same everywhere.
pub fn qsurgeon() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qsurgeon"));
    cmd.env("TZ", "UTC").env_remove("NO_COLOR");
    cmd
}

/// Runs `cmd` and returns its output, panicking only if it cannot start.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// `testdata/<rel>` in the repository.
pub fn testdata(rel: impl AsRef<Path>) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(rel)
}

/// Shows bytes for a failure message: lossy text, at most 4 KB.
fn shown(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).into_owned();
    if bytes.len() > 4096 {
        format!("{text}\n[… {} more bytes]", bytes.len() - 4096)
    } else {
        text
    }
}

/// Asserts two byte strings are equal; on failure names the first
/// differing line and shows both sides around it.
pub fn assert_bytes_eq(expected: &[u8], actual: &[u8], context: &str) {
    if expected == actual {
        return;
    }
    let exp_lines: Vec<&[u8]> = expected.split(|&b| b == b'\n').collect();
    let act_lines: Vec<&[u8]> = actual.split(|&b| b == b'\n').collect();
    let first = exp_lines
        .iter()
        .zip(&act_lines)
        .position(|(a, b)| a != b)
        .unwrap_or(exp_lines.len().min(act_lines.len()));
    let around = |lines: &[&[u8]]| -> String {
        lines
            .iter()
            .enumerate()
            .skip(first.saturating_sub(2))
            .take(5)
            .map(|(i, l)| format!("{:5}: {}\n", i + 1, String::from_utf8_lossy(l)))
            .collect()
    };
    panic!(
        "{context}: outputs differ at line {} ({} vs {} bytes)\n--- expected ---\n{}--- actual ---\n{}",
        first + 1,
        expected.len(),
        actual.len(),
        around(&exp_lines),
        around(&act_lines)
    );
}

/// Compares `actual` with the golden file at `path`; with
/// `UPDATE_GOLDEN=1` writes it instead.
pub fn assert_golden(path: &Path, actual: &[u8]) {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(path, actual).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        return;
    }
    let expected = std::fs::read(path).unwrap_or_else(|e| {
        panic!(
            "read golden {}: {e} (run with UPDATE_GOLDEN=1 to create it)\nactual:\n{}",
            path.display(),
            shown(actual)
        )
    });
    assert_bytes_eq(&expected, actual, &path.display().to_string());
}

/// Asserts the command exited with `code`, showing its stderr otherwise.
pub fn assert_exit(output: &Output, code: i32, context: &str) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "{context}: exit status\nstderr:\n{}\nstdout:\n{}",
        shown(&output.stderr),
        shown(&output.stdout)
    );
}

/// A copy of `testdata/demo-queue` with the spool's file modes: git keeps
/// only the executable bit, so a checkout has message files 0755, and the
/// group-execute bit means "forced to expire" to Postfix (and qsurgeon).
/// The copy has message files 0700 and logfiles 0600, as Postfix wrote
/// them. Made once per test run.
pub fn demo_queue() -> &'static Path {
    static COPY: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    COPY.get_or_init(|| {
        use std::os::unix::fs::PermissionsExt;
        let dest = tempfile::tempdir().expect("temp dir for the demo queue");
        let source = testdata("demo-queue");
        let mut stack = vec![source.clone()];
        while let Some(dir) = stack.pop() {
            for entry in
                std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            {
                let path = entry.expect("demo queue entry").path();
                let target = dest
                    .path()
                    .join(path.strip_prefix(&source).expect("inside the demo queue"));
                if path.is_dir() {
                    std::fs::create_dir_all(&target).expect("mkdir");
                    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o700))
                        .expect("chmod dir");
                    stack.push(path);
                } else {
                    std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
                    std::fs::copy(&path, &target).expect("copy");
                    let logfile = ["defer", "bounce", "trace"].iter().any(|q| {
                        path.strip_prefix(&source)
                            .is_ok_and(|rel| rel.starts_with(q))
                    });
                    let mode = if logfile { 0o600 } else { 0o700 };
                    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode))
                        .expect("chmod");
                }
            }
        }
        dest
    })
    .path()
}
