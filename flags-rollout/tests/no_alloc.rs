//! Recording an outcome allocates nothing, on a recorder and routed through a registry
//! to its attached recorder (after a thread's first outcome, which sets up its own
//! counters): counted with a global allocator that tallies the allocations of the
//! current thread while counting is switched on.

use flags_runtime::raw::IndexAccess as _;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Duration;

use flags_manifest::{Criteria, RolloutPlan};
use flags_rollout::{MemoryExposure, Outcome, Recorder, RolloutController, Side};
use flags_runtime::__private::{FastCell, FlagMeta, Registry};

struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    /// Per thread, so that tests running side by side do not count each other's.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.with(|n| n.set(n.get() + 1));
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
    assert_eq!(ALLOCATIONS.with(|n| n.replace(0)), 1);
    drop(v);

    // The thread's first outcome allocates its counters.
    recorder.record(Side::Control, Outcome::ok(Duration::ZERO));
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
    COUNTING.with(|c| c.set(false));
    assert_eq!(ALLOCATIONS.with(Cell::get), 0);
    let snapshot = recorder.snapshot();
    assert_eq!(
        snapshot.treatment.samples() + snapshot.control.samples(),
        10_001
    );
}

static META: [FlagMeta; 1] = [FlagMeta::bare("beta", 0, &[])];
static CELLS: [FastCell; 1] = [const { FastCell::new() }; 1];
static REGISTRY: Registry = Registry::new(
    &META,
    &CELLS,
    "[flags.beta]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\n",
    "flags.toml",
);

#[test]
fn routed_recording_does_not_allocate() {
    let controller = RolloutController::builder(MemoryExposure::default())
        .build()
        .unwrap();
    let plan = RolloutPlan {
        stages: vec![5, 100],
        soak: Duration::from_secs(60),
        min_samples: 50,
        criteria: Criteria::default(),
    };
    let recorder = controller.register("beta", plan).unwrap();
    controller.attach(&REGISTRY);
    // The registry's own outcome counts too.
    REGISTRY.set_counting(true);
    // The first load of a thread may set up arc-swap's per-thread state, and the
    // first outcome the thread's counters.
    REGISTRY.record_outcome(0, Side::Control, Outcome::ok(Duration::ZERO));

    COUNTING.with(|c| c.set(true));
    for i in 0..10_000u64 {
        let outcome = Outcome::ok(Duration::from_micros(i));
        REGISTRY.record_outcome(0, Side::from_bool(i % 2 == 0), outcome);
    }
    COUNTING.with(|c| c.set(false));
    assert_eq!(ALLOCATIONS.with(Cell::get), 0);
    let m = recorder.snapshot();
    assert_eq!(m.treatment.samples() + m.control.samples(), 10_001);
    let own = REGISTRY.outcome_counts();
    let beta = own.flag("beta").unwrap();
    assert_eq!(
        (beta.treatment.total(), beta.control.total()),
        (5_000, 5_001)
    );
}
