//! Scans a queue directory and prints the counters: a timing and `strace`
//! harness for the scanner (`cargo run --release -p qsurgeon-queue-scan
//! --example scan_count -- QUEUE_DIR [--defer-log]`).

use std::sync::atomic::{AtomicU64, Ordering};

use queue_scan::{Message, QueueLayout, ReadPlan, ScanError, ScanOptions, ScanProgress, Visitor};

struct Count<'a>(&'a AtomicU64, u64);

impl Visitor for Count<'_> {
    fn message(&mut self, _: &Message<'_>) {
        self.1 += 1;
    }
    fn error(&mut self, e: ScanError) {
        eprintln!("{e}");
    }
}

impl Drop for Count<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(self.1, Ordering::Relaxed);
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .expect("usage: scan_count QUEUE_DIR [--defer-log]");
    let defer_log = args.any(|a| a == "--defer-log");
    let layout = QueueLayout::with_defaults(dir);
    let options = ScanOptions {
        queues: queue_scan::MESSAGE_QUEUES.to_vec(),
        read: ReadPlan {
            headers: false,
            defer_log,
        },
        file_size_limit: queue_scan::DEFAULT_QUEUE_FILE_LIMIT,
    };
    let progress = ScanProgress::default();
    let total = AtomicU64::new(0);
    let start = std::time::Instant::now();
    queue_scan::scan(&layout, &options, &progress, || Count(&total, 0));
    println!(
        "{} messages in {:.3} s; {:?}",
        total.load(Ordering::Relaxed),
        start.elapsed().as_secs_f64(),
        progress.stats()
    );
}
