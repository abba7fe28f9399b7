//! `Snapshot::memory`, the figure triage shows as the snapshot's memory,
//! against what the allocator really holds for it: a counting allocator
//! tracks the live heap (each allocation as glibc's malloc hands it out:
//! the request and its 8-byte header rounded up to 16 bytes, 32 at least)
//! while a generated queue is scanned. This file holds one test so that no
//! other test thread allocates while it counts.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use query::snapshot::Snapshot;
use query::{Query, SelectionSpec};
use queue_scan::{QueueLayout, ReadPlan, ScanProgress};

static LIVE: AtomicUsize = AtomicUsize::new(0);

fn chunk(size: usize) -> usize {
    ((size + 8).div_ceil(16) * 16).max(32)
}

struct Counting;

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(chunk(layout.size()), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(chunk(layout.size()), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(chunk(new_size), Ordering::Relaxed);
        LIVE.fetch_sub(chunk(layout.size()), Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn the_snapshot_counts_what_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("queue");
    let mut opts = queue_gen::Options::new(&out, 20_000);
    opts.max_total_size = 64 << 20;
    opts.max_message_size = 64 << 10;
    let report = queue_gen::generate(&opts).unwrap();
    let layout = QueueLayout::with_defaults(&out);
    let query = Query::for_spec(
        &SelectionSpec::default(),
        ReadPlan {
            headers: false,
            defer_log: true,
        },
    )
    .unwrap();
    let before = LIVE.load(Ordering::SeqCst);
    let snap = Snapshot::scan(&query, &layout, &ScanProgress::default());
    let held = LIVE.load(Ordering::SeqCst) - before;
    assert!(
        snap.len() as u64 >= report.counts.messages(),
        "{}",
        snap.len()
    );
    let counted = snap.memory();
    let off = counted.abs_diff(held) as f64 / held as f64;
    eprintln!(
        "{} messages: counted {counted}, held {held} ({:.1}% off)",
        snap.len(),
        off * 100.0
    );
    assert!(
        off <= 0.10,
        "the snapshot says {counted} bytes, the allocator holds {held} for it ({:.1}% off)",
        off * 100.0
    );
    drop(snap);
}
