//! `floor QUEUE_DIR [QUEUE…]`: the machine's floor for scanning a Postfix
//! queue, for bench/run.sh to compare qsurgeon with. It does the least a
//! scanner must do and nothing clever: list the message queues
//! (std::fs::read_dir, descending into one-character hash directories as
//! Postfix's scanner does), keep one owned path per file, then open every
//! file and read its first 4 KiB in parallel (rayon, one task per file).
//! It prints the number of files and bytes read so that the work cannot be
//! skipped and the caller can check it saw the whole queue.

use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rayon::prelude::*;

const DEFAULT_QUEUES: [&str; 5] = ["maildrop", "incoming", "active", "deferred", "hold"];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((root, queues)) = args.split_first() else {
        eprintln!("usage: floor QUEUE_DIR [QUEUE…]  (default queues: {DEFAULT_QUEUES:?})");
        return ExitCode::from(2);
    };
    let queues: Vec<&str> = if queues.is_empty() {
        DEFAULT_QUEUES.to_vec()
    } else {
        queues.iter().map(String::as_str).collect()
    };
    let mut paths = Vec::new();
    for q in queues {
        list(&Path::new(root).join(q), &mut paths);
    }
    let (files, bytes) = paths
        .par_iter()
        .map(|p| {
            let mut buf = [0u8; 4096];
            // A file that vanished or cannot be read counts as nothing read.
            match File::open(p).and_then(|mut f| f.read(&mut buf)) {
                Ok(n) => (1u64, n as u64),
                Err(_) => (0, 0),
            }
        })
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    println!("{files} files, {bytes} bytes read");
    ExitCode::SUCCESS
}

/// Appends the files under `dir` (and its one-character subdirectories).
fn list(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        // The directory entry's type: no stat per file.
        let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
        if is_dir && entry.file_name().len() == 1 {
            list(&entry.path(), out);
        } else if !is_dir {
            out.push(entry.path());
        }
    }
}
