//! Counters sharded per thread, merged on read.
//!
//! A counter every thread increments with an atomic read-modify-write keeps one cache
//! line bouncing between cores: measured on the read path, that made counting cost
//! several times the read it counted, and more with every thread. Here each thread
//! owns a shard (one copy of every counter) and adds to it with a plain load and store:
//! no lock prefix, no line shared with another writer. A reader sums the shards.
//!
//! Threads are given dense slot numbers, returned when they exit and reused by the
//! next thread, so the number of shards follows the number of live threads that
//! count, not the number ever started. The single-writer rule holds across reuse: a
//! slot passes from an exited thread to a new one through a mutex, which orders the
//! old owner's last stores before the new owner's first load. Threads beyond
//! [`MAX_SHARDS`] live at once share one overflow shard, updated with `fetch_add`.
//!
//! A reader that sums while threads count sees every shard at some recent point: each
//! counter it returns is at most the true total and never goes backwards between two
//! reads. "Reset" records the current totals as a baseline rather than zeroing shards
//! a thread may be writing.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

/// Threads that get a shard of their own; more live threads share an overflow shard.
pub const MAX_SHARDS: usize = 256;

/// No slot yet (or the thread is exiting): take the slow path.
const NO_SLOT: usize = usize::MAX;

/// Slots of exited threads, for reuse, and the next never-used slot.
static SLOTS: Mutex<(Vec<usize>, usize)> = Mutex::new((Vec::new(), 0));

thread_local! {
    /// This thread's slot: a `const` thread-local without a destructor, so reading it
    /// is one load relative to the thread pointer.
    static SLOT: Cell<usize> = const { Cell::new(NO_SLOT) };
    /// Returns the slot when the thread exits; created with the slot.
    static RELEASE: SlotRelease = const { SlotRelease(Cell::new(NO_SLOT)) };
}

struct SlotRelease(Cell<usize>);

impl Drop for SlotRelease {
    fn drop(&mut self) {
        let slot = self.0.get();
        if slot == NO_SLOT {
            return;
        }
        // Later counting on this thread (another destructor) goes to the overflow
        // shard: the slot is no longer ours.
        let _ = SLOT.try_with(|s| s.set(NO_SLOT));
        SLOTS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .0
            .push(slot);
    }
}

/// This thread's slot, taking one on first use; `None` when the thread is exiting.
#[cold]
fn claim_slot() -> Option<usize> {
    RELEASE
        .try_with(|release| {
            let slot = {
                let mut slots = SLOTS.lock().unwrap_or_else(PoisonError::into_inner);
                match slots.0.pop() {
                    Some(slot) => slot,
                    None => {
                        slots.1 += 1;
                        slots.1 - 1
                    }
                }
            };
            release.0.set(slot);
            let _ = SLOT.try_with(|s| s.set(slot));
            slot
        })
        .ok()
}

/// A fixed number of `u64` counters, sharded per thread: adding is a plain load and
/// store on the calling thread's own copy; reading sums the copies.
///
/// The runtime counts evaluations and outcomes with it; `flags-rollout`'s recorders
/// use it too. Use it for any counter many threads bump on a hot path.
///
/// # Examples
///
/// ```
/// use flags_runtime::shard::ShardedCounters;
///
/// let hits = std::sync::Arc::new(ShardedCounters::new(2));
/// let workers: Vec<_> = (0..2)
///     .map(|_| {
///         let hits = hits.clone();
///         std::thread::spawn(move || (0..100).for_each(|_| hits.add(1, 1)))
///     })
///     .collect();
/// for w in workers {
///     w.join().unwrap();
/// }
/// assert_eq!(hits.totals(), vec![0, 200]);
/// hits.reset();
/// assert_eq!(hits.get(1), 0);
/// ```
pub struct ShardedCounters {
    len: usize,
    shards: Box<[OnceLock<Box<[AtomicU64]>>]>,
    /// Threads without a shard of their own.
    overflow: Box<[AtomicU64]>,
    /// Totals at the last reset, subtracted from the sums.
    baseline: Mutex<Option<Box<[u64]>>>,
}

impl std::fmt::Debug for ShardedCounters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShardedCounters")
            .field("len", &self.len)
            .field(
                "shards",
                &self.shards.iter().filter(|s| s.get().is_some()).count(),
            )
            .finish()
    }
}

fn zeros(len: usize) -> Box<[AtomicU64]> {
    (0..len).map(|_| AtomicU64::new(0)).collect()
}

/// Counters before a shard's first: a cache line of padding, so that no other
/// allocation (another thread's shard, say) shares a line with this shard's counters.
const PAD: usize = 8;

/// A shard: `len` counters at zero, with a cache line of padding on either side.
fn padded(len: usize) -> Box<[AtomicU64]> {
    zeros(PAD + len + PAD)
}

/// Adds `n` to counter `i` of `shard`, which only this thread writes: a load and a
/// store, not a read-modify-write. An `i` past the counters lands in the padding (or
/// nowhere), which readers skip: one bounds check instead of two.
#[inline(always)]
fn bump(shard: &[AtomicU64], i: usize, n: u64) {
    if let Some(c) = shard.get(i.wrapping_add(PAD)) {
        c.store(c.load(Ordering::Relaxed).wrapping_add(n), Ordering::Relaxed);
    }
}

impl ShardedCounters {
    /// `len` counters at zero. Shards are allocated by the threads that count.
    pub fn new(len: usize) -> ShardedCounters {
        ShardedCounters {
            len,
            shards: (0..MAX_SHARDS).map(|_| OnceLock::new()).collect(),
            overflow: zeros(len),
            baseline: Mutex::new(None),
        }
    }

    /// How many counters.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no counters at all.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds `n` to counter `i` (ignored when out of range).
    #[inline]
    pub fn add(&self, i: usize, n: u64) {
        self.add_all([(i, n)]);
    }

    /// Adds to several counters at once (each `(counter, amount)`; counters out of
    /// range are ignored), finding this thread's shard once.
    #[inline]
    pub fn add_all<const N: usize>(&self, adds: [(usize, u64); N]) {
        let slot = SLOT.with(Cell::get);
        if let Some(shard) = self.shards.get(slot).and_then(OnceLock::get) {
            for (i, n) in adds {
                bump(shard, i, n);
            }
            return;
        }
        self.add_cold(&adds);
    }

    /// First count of this thread on these counters, or no shard to be had.
    #[cold]
    #[inline(never)]
    fn add_cold(&self, adds: &[(usize, u64)]) {
        let slot = match SLOT.try_with(Cell::get) {
            Ok(NO_SLOT) => claim_slot(),
            Ok(slot) => Some(slot),
            Err(_) => None,
        };
        match slot.and_then(|s| self.shards.get(s)) {
            Some(cell) => {
                let shard = cell.get_or_init(|| padded(self.len));
                for &(i, n) in adds {
                    bump(shard, i, n);
                }
            }
            None => {
                for &(i, n) in adds {
                    if let Some(c) = self.overflow.get(i) {
                        c.fetch_add(n, Ordering::Relaxed);
                    }
                }
            }
        }
    }

    /// The raw sum of every shard, before the baseline.
    fn raw(&self) -> Vec<u64> {
        let mut sums: Vec<u64> = self
            .overflow
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect();
        for shard in self.shards.iter().filter_map(OnceLock::get) {
            for (sum, c) in sums.iter_mut().zip(shard.iter().skip(PAD)) {
                *sum = sum.wrapping_add(c.load(Ordering::Relaxed));
            }
        }
        sums
    }

    /// Every counter's total since the last reset.
    pub fn totals(&self) -> Vec<u64> {
        let mut sums = self.raw();
        let baseline = self.baseline.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(base) = baseline.as_deref() {
            for (sum, b) in sums.iter_mut().zip(base) {
                *sum = sum.saturating_sub(*b);
            }
        }
        sums
    }

    /// Counter `i`'s total since the last reset.
    pub fn get(&self, i: usize) -> u64 {
        let mut sum = self
            .overflow
            .get(i)
            .map_or(0, |c| c.load(Ordering::Relaxed));
        for shard in self.shards.iter().filter_map(OnceLock::get) {
            let c = (i < self.len).then(|| shard.get(PAD + i)).flatten();
            sum = sum.wrapping_add(c.map_or(0, |c| c.load(Ordering::Relaxed)));
        }
        let baseline = self.baseline.lock().unwrap_or_else(PoisonError::into_inner);
        let base = baseline.as_deref().and_then(|b| b.get(i)).copied();
        sum.saturating_sub(base.unwrap_or(0))
    }

    /// Starts every counter again from zero (counts racing with the reset may land
    /// on either side of it).
    pub fn reset(&self) {
        let now = self.raw().into_boxed_slice();
        *self.baseline.lock().unwrap_or_else(PoisonError::into_inner) = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn sums_every_thread_and_resets_by_baseline() {
        let counters = Arc::new(ShardedCounters::new(3));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let counters = counters.clone();
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        counters.add(t % 3, 1);
                    }
                    counters.add(7, 1); // out of range: ignored
                })
            })
            .collect();
        for t in threads {
            t.join().expect("counting thread");
        }
        assert_eq!(counters.totals(), vec![2000, 1000, 1000]);
        assert_eq!(counters.get(0), 2000);
        counters.reset();
        assert_eq!(counters.totals(), vec![0, 0, 0]);
        counters.add(2, 5);
        assert_eq!(counters.get(2), 5);
        assert_eq!(counters.get(9), 0);
    }

    #[test]
    fn slots_of_exited_threads_are_reused_without_losing_counts() {
        let counters = Arc::new(ShardedCounters::new(1));
        // Threads one after another: each exits before the next starts, so they reuse
        // slots, and every count must still be there.
        for _ in 0..50 {
            let c = counters.clone();
            std::thread::spawn(move || c.add(0, 2))
                .join()
                .expect("counting thread");
        }
        assert_eq!(counters.get(0), 100);
        let used = counters.shards.iter().filter(|s| s.get().is_some()).count();
        assert!(
            used < 50,
            "exited threads' slots are reused ({used} shards)"
        );
    }

    #[test]
    fn more_threads_than_shards_share_the_overflow() {
        let counters = Arc::new(ShardedCounters::new(1));
        let barrier = Arc::new(std::sync::Barrier::new(MAX_SHARDS + 8));
        let threads: Vec<_> = (0..MAX_SHARDS + 8)
            .map(|_| {
                let (c, b) = (counters.clone(), barrier.clone());
                // All alive at once, so slots cannot be reused.
                std::thread::spawn(move || {
                    b.wait();
                    c.add(0, 1);
                    b.wait();
                })
            })
            .collect();
        for t in threads {
            t.join().expect("counting thread");
        }
        assert_eq!(counters.get(0), (MAX_SHARDS + 8) as u64);
    }
}
