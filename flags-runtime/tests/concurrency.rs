//! Concurrency: snapshots are swapped whole (a reader never sees a mix of two updates
//! within one snapshot), the typed accessors serve only published values and catch up
//! with the last one, and publishing fast cells cannot race an override scope into
//! serving a stale fast value. Stress runs bounded by counts of reads, swaps and
//! scopes, not by time; the loom model covers the protocol itself.

// Needs the `rule-files` feature: its registries are built from manifest text (`Registry::new`).
#![cfg(feature = "rule-files")]

mod common;

use flags_runtime::raw::IndexAccess as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use common::Layout;
use flags_runtime::manifest::{Rules, Value};
use flags_runtime::{Context, Layer};
use flags_test_support::wait::wait_until;

test_registry!(swap);
test_registry!(race);

fn fixed(v: Value) -> Rules {
    Rules {
        value: Some(v),
        ..Rules::default()
    }
}

/// All five flags flip together: on + compact, or off + wide.
fn state(on: bool) -> Vec<(usize, Rules)> {
    vec![
        (common::SEARCH_V2, fixed(Value::Bool(on))),
        (common::BETA_ROLLOUT, fixed(Value::Bool(on))),
        (common::KILLED, fixed(Value::Bool(on))),
        (common::TARGETED, fixed(Value::Bool(on))),
        (
            common::LAYOUT,
            fixed(Value::Variant(if on { 1 } else { 2 })),
        ),
    ]
}

/// Reads each reader makes at least, and swaps the writer makes at least: counts, not
/// durations, so a loaded machine makes the test slower, never weaker.
const READS: u64 = 20_000;
const SWAPS: u64 = 2_000;
const READERS: usize = 3;

/// What one reader saw.
#[derive(Default)]
struct Seen {
    reads: u64,
    snapshot_on: bool,
    snapshot_off: bool,
    accessor_on: bool,
    accessor_off: bool,
}

impl Seen {
    fn both_states(&self) -> bool {
        self.snapshot_on && self.snapshot_off && self.accessor_on && self.accessor_off
    }
}

#[test]
fn readers_never_see_a_torn_snapshot() {
    swap::REGISTRY
        .set_layer(Layer::Remote, "writer", state(true))
        .unwrap_or_else(|e| panic!("{e}"));
    let stop = Arc::new(AtomicBool::new(false));
    // Readers that have made their reads and seen both states, through a snapshot and
    // through the typed accessors: the writer keeps swapping until every reader is.
    let satisfied = Arc::new(AtomicUsize::new(0));
    let readers: Vec<_> = (0..READERS)
        .map(|r| {
            let (stop, satisfied) = (stop.clone(), satisfied.clone());
            std::thread::spawn(move || {
                let ctx = Context::with_key(format!("reader-{r}").as_str());
                let mut seen = Seen::default();
                let mut counted = false;
                let mut last_generation = 0;
                while !stop.load(Ordering::Acquire) {
                    let snap = swap::REGISTRY.snapshot();
                    assert!(
                        snap.generation() >= last_generation,
                        "generations only grow"
                    );
                    last_generation = snap.generation();
                    let bools = [
                        snap.get(swap::SEARCH_V2),
                        snap.get_for(swap::BETA_ROLLOUT, &ctx),
                        snap.get(swap::KILLED),
                        snap.get_for(swap::TARGETED, &ctx),
                    ];
                    let layout = snap.get(swap::LAYOUT);
                    let on = bools[0];
                    assert!(
                        bools.iter().all(|b| *b == on)
                            && layout == if on { Layout::Compact } else { Layout::Wide },
                        "torn snapshot {}: {bools:?} {layout:?}",
                        snap.generation()
                    );
                    seen.snapshot_on |= on;
                    seen.snapshot_off |= !on;
                    // The typed accessors read fast cells and the per-thread cached
                    // snapshot: each read is one flag of one published state, so only
                    // its own flag's values are possible (the manifest default,
                    // classic, never: the remote layer always holds a layout).
                    let layout = swap::LAYOUT.get();
                    assert_ne!(layout, Layout::Classic, "a layout no state had");
                    let on = swap::SEARCH_V2.get();
                    seen.accessor_on |= on;
                    seen.accessor_off |= !on;
                    let _ = swap::BETA_ROLLOUT.get_for(&ctx);
                    seen.reads += 1;
                    if !counted && seen.reads >= READS && seen.both_states() {
                        counted = true;
                        satisfied.fetch_add(1, Ordering::Release);
                    }
                }
                // The writer has finished (stop is set after its last swap): every
                // accessor on this thread now serves the final state, whatever this
                // thread cached before.
                let last = swap::REGISTRY.snapshot().get(swap::SEARCH_V2);
                assert_eq!(swap::SEARCH_V2.get(), last, "a stale fast cell or cache");
                assert_eq!(swap::BETA_ROLLOUT.get_for(&ctx), last);
                assert_eq!(swap::KILLED.get(), last);
                assert_eq!(swap::TARGETED.get_for(&ctx), last);
                let layout = if last { Layout::Compact } else { Layout::Wide };
                assert_eq!(swap::LAYOUT.get(), layout, "a stale fast cell or cache");
                seen
            })
        })
        .collect();

    // The writer, on this thread: it swaps until it has made SWAPS swaps and every
    // reader is satisfied, checking after each swap that the accessors on its own
    // thread serve what it just wrote.
    let ctx = Context::with_key("writer");
    let mut on = false;
    let mut swaps = 0u64;
    let took = wait_until("every reader to see both states", || {
        // A burst of swaps between checks of the condition.
        for _ in 0..100 {
            swap::REGISTRY
                .set_layer(Layer::Remote, "writer", state(on))
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(swap::SEARCH_V2.get(), on, "the writer's own write");
            assert_eq!(swap::BETA_ROLLOUT.get_for(&ctx), on);
            let layout = if on { Layout::Compact } else { Layout::Wide };
            assert_eq!(swap::LAYOUT.get(), layout, "the writer's own write");
            on = !on;
            swaps += 1;
        }
        // A reader that ended early has failed: stop and let the join report it.
        readers.iter().any(|r| r.is_finished())
            || (swaps >= SWAPS && satisfied.load(Ordering::Acquire) == READERS)
    });
    stop.store(true, Ordering::Release);
    for r in readers {
        let seen = r
            .join()
            .unwrap_or_else(|_| panic!("a reader saw a torn or stale state"));
        assert!(seen.reads >= READS, "{} reads", seen.reads);
        assert!(seen.both_states(), "a reader saw one state only");
    }
    eprintln!("{swaps} swaps in {took:?}");
}

#[test]
fn an_override_scope_is_never_bypassed_by_a_fast_cell() {
    // A writer keeps republishing fast cells (a uniform value swapping with the
    // manifest default) while another thread repeatedly opens a scope and reads. If
    // publication were not serialised with scope creation, the reader could get the
    // fast (non-overridden) value.
    const SCOPES: u64 = 2_000;
    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicU64::new(0));
    let writer = {
        let (stop, swaps) = (stop.clone(), swaps.clone());
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                if n.is_multiple_of(2) {
                    let _ = race::REGISTRY.set_layer(
                        Layer::Remote,
                        "writer",
                        vec![(common::SEARCH_V2, fixed(Value::Bool(false)))],
                    );
                } else {
                    let _ = race::REGISTRY.clear_layer(Layer::Remote);
                }
                n += 1;
                swaps.store(n, Ordering::Relaxed);
            }
        })
    };
    // Scopes until both sides have done their share: SCOPES scopes on this thread and
    // SCOPES swaps on the writer's, however the two threads are scheduled.
    let mut scopes = 0u64;
    let took = wait_until("scopes and swaps to interleave", || {
        for _ in 0..100 {
            let _scope = race::REGISTRY.scoped_overrides().set(race::SEARCH_V2, true);
            for _ in 0..200 {
                assert!(
                    race::SEARCH_V2.get(),
                    "scope bypassed after {scopes} scopes"
                );
                assert!(race::CHECKOUT.get());
            }
            scopes += 1;
        }
        scopes >= SCOPES && swaps.load(Ordering::Relaxed) >= SCOPES
    });
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap_or_else(|_| panic!("writer"));
    let swaps = swaps.load(Ordering::Relaxed);
    eprintln!("{scopes} scopes and {swaps} swaps in {took:?}");
    assert!(
        swaps >= SCOPES && scopes >= SCOPES,
        "{swaps} swaps, {scopes} scopes"
    );
    assert!(!race::SEARCH_V2.get());
}
