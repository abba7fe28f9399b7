//! Embeds the demo queue for `--demo` (src/demo.rs): writes
//! `$OUT_DIR/demo_queue.rs`, a table of every file under `testdata/demo-queue`
//! (path relative to the queue directory, and its bytes through
//! `include_bytes!`), sorted by path so that the build is reproducible.
//!
//! The files are embedded as they are; their modes are not (git keeps only
//! the executable bit), so src/demo.rs gives each the mode Postfix gives it.
//! Regenerating the demo queue (testdata/README.md) changes the table on the
//! next build.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let root = manifest.join("testdata").join("demo-queue");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    assert!(!files.is_empty(), "no files under {}", root.display());

    let mut table = String::from(
        "/// Every file of testdata/demo-queue: (path in the queue directory, bytes).\n\
         pub static FILES: &[(&str, &[u8])] = &[\n",
    );
    for path in &files {
        let rel = path
            .strip_prefix(&root)
            .expect("inside the demo queue")
            .to_str()
            .expect("demo queue paths are ASCII");
        let abs = path.to_str().expect("the checkout's path is UTF-8");
        writeln!(table, "    ({rel:?}, include_bytes!({abs:?})),").expect("write to a String");
    }
    table.push_str("];\n");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("demo_queue.rs");
    std::fs::write(&out, table).unwrap_or_else(|e| panic!("write {}: {e}", out.display()));
}

/// Collects the regular files under `dir`, and asks cargo to build again when
/// any directory (a file added or removed) or file changes.
fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    println!("cargo:rerun-if-changed={}", dir.display());
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let entry = entry.unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let path = entry.path();
        let kind = entry
            .file_type()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if kind.is_dir() {
            walk(&path, files);
        } else if kind.is_file() {
            println!("cargo:rerun-if-changed={}", path.display());
            files.push(path);
        }
    }
}
