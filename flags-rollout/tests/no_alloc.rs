//! Recording an outcome allocates nothing: counted with a global allocator that tallies
//! the allocations of the current thread while counting is switched on.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use flags_rollout::{Outcome, Recorder, Side};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

// SAFETY: every call is forwarded unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        }
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn recording_does_not_allocate() {
    let recorder = Recorder::new();
    // The counter works: a Vec allocates.
    COUNTING.with(|c| c.set(true));
    let v = vec![1u8; 16];
    COUNTING.with(|c| c.set(false));
    assert_eq!(ALLOCATIONS.swap(0, Ordering::SeqCst), 1);
    drop(v);

    COUNTING.with(|c| c.set(true));
    for i in 0..10_000u64 {
        let latency = Duration::from_micros(i * 997 % 3_000_000);
        let outcome = if i % 7 == 0 {
            Outcome::error(latency)
        } else {
            Outcome::ok(latency)
        };
        recorder.record(Side::from_bool(i % 3 == 0), outcome);
    }
    let snapshot = recorder.snapshot();
    COUNTING.with(|c| c.set(false));
    assert_eq!(ALLOCATIONS.load(Ordering::SeqCst), 0);
    assert_eq!(
        snapshot.treatment.samples() + snapshot.control.samples(),
        10_000
    );
}
