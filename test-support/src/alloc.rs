//! A global allocator that forwards to the system allocator and counts the calls made
//! by the current thread while counting is on. Other threads (the test harness, a
//! watch thread) never disturb the count.
//!
//! ```
//! use std::hint::black_box;
//!
//! use flags_test_support::alloc::{Counting, allocations};
//!
//! #[global_allocator]
//! static ALLOCATOR: Counting = Counting;
//!
//! fn main() {
//!     // Ten allocations and ten frees: the counter sees them.
//!     assert_eq!(allocations(10, || drop(black_box(vec![1u8; 4]))), 20);
//!     assert_eq!(allocations(10, || drop(black_box(1 + 1))), 0);
//! }
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The counting allocator: install it with `#[global_allocator]` in the test binary.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counting;

thread_local! {
    static ACTIVE: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<u64> = const { Cell::new(0) };
}

fn note() {
    // `try_with`: the allocator also runs while thread-locals are torn down.
    let _ = ACTIVE.try_with(|active| {
        if active.get() {
            let _ = COUNT.try_with(|c| c.set(c.get() + 1));
        }
    });
}

// SAFETY: every method forwards to the system allocator unchanged; counting only
// touches const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note();
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Allocations (and frees) made by this thread while `f` runs `n` times, after one
/// warm-up run (first calls may register callsites or fill caches, once per thread or
/// process). Counts only when [`Counting`] is the test binary's global allocator;
/// check that with a run that does allocate.
pub fn allocations(n: usize, mut f: impl FnMut()) -> u64 {
    f();
    COUNT.with(|c| c.set(0));
    ACTIVE.with(|a| a.set(true));
    for _ in 0..n {
        f();
    }
    ACTIVE.with(|a| a.set(false));
    COUNT.with(Cell::get)
}
