//! Evaluation must not allocate: a selection runs on up to a million
//! messages. A counting allocator checks it. This file holds one test so no
//! other test thread allocates while it counts.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use common::{msg, NOW};
use select::{Context, Data, Selection};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|a| a.set(a.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|a| a.set(a.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn evaluation_does_not_allocate() {
    let sel = Selection::builder()
        .ids(["A", "B", "4BkX1z2Qr5z9abc"])
        .where_expr(
            r#"age > 2d and size < 1G and not forced_expired and not nonexistent_local_sender
               and (sasl_user = bob or client ~ /^203\.0\.113\./)
               and client in (203.0.113.0/24, 2001:db8::/32) and client_name = *.example.com
               and sender = *@example.com and sender_domain = EXAMPLE.com and not null_sender
               and all recipient_domain in (example.org, example.net)
               and todo_or_done_recipient = dave@example.org
               and reason ~ /timed out/i and all dsn_status = 4.*
               and header.subject ~ "^Invoice" and all header.received = "from *"
               and attr.rewrite_context = remote and queue in (deferred, hold)"#,
        )
        .unwrap()
        .build();
    // The fake message logs each field asked, which allocates; use a
    // message that does not.
    let m = common::Quiet(msg());
    let ctx = Context::at(NOW);
    // The first run warms the regex engines' per-thread caches.
    assert!(sel.matches(&m, &ctx));
    let before = ALLOCATIONS.with(Cell::get);
    for _ in 0..1000 {
        assert!(sel.matches(&m, &ctx));
        assert_eq!(sel.decide(&m, &ctx, Data::ENVELOPE), None);
    }
    let after = ALLOCATIONS.with(Cell::get);
    assert_eq!(after - before, 0, "allocations during evaluation");
}
