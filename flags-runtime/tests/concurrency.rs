//! Concurrency: snapshots are swapped whole (a reader never sees a mix of two updates
//! within one snapshot), and publishing fast cells cannot race an override scope into
//! serving a stale fast value.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::Layout;
use flags_runtime::manifest::{Rules, Value};
use flags_runtime::{Context, Layer};

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

#[test]
fn readers_never_see_a_torn_snapshot() {
    swap::REGISTRY
        .set_layer(Layer::Remote, "writer", state(true))
        .unwrap_or_else(|e| panic!("{e}"));
    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicU64::new(0));
    let writer = {
        let (stop, swaps) = (stop.clone(), swaps.clone());
        std::thread::spawn(move || {
            let mut on = false;
            while !stop.load(Ordering::Relaxed) {
                swap::REGISTRY
                    .set_layer(Layer::Remote, "writer", state(on))
                    .unwrap_or_else(|e| panic!("{e}"));
                swaps.fetch_add(1, Ordering::Relaxed);
                on = !on;
            }
        })
    };
    let readers: Vec<_> = (0..3)
        .map(|r| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let ctx = Context::with_key(format!("reader-{r}").as_str());
                let (mut reads, mut seen_on, mut seen_off) = (0u64, false, false);
                let mut last_generation = 0;
                while !stop.load(Ordering::Relaxed) || reads < 1000 {
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
                    if on {
                        seen_on = true;
                    } else {
                        seen_off = true;
                    }
                    reads += 1;
                }
                (reads, seen_on && seen_off)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(700));
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap_or_else(|_| panic!("writer"));
    let mut both = false;
    for r in readers {
        let (reads, saw_both) = r
            .join()
            .unwrap_or_else(|_| panic!("a reader saw a torn state"));
        assert!(reads >= 1000);
        both |= saw_both;
    }
    assert!(swaps.load(Ordering::Relaxed) > 10, "the writer swapped");
    assert!(both, "readers observed both states");
}

#[test]
fn an_override_scope_is_never_bypassed_by_a_fast_cell() {
    // A writer keeps republishing fast cells (a uniform value swapping with the
    // manifest default) while another thread repeatedly opens a scope and reads. If
    // publication were not serialised with scope creation, the reader could get the
    // fast (non-overridden) value.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
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
            }
            n
        })
    };
    let start = Instant::now();
    let mut scopes = 0u64;
    while start.elapsed() < Duration::from_millis(700) {
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
    stop.store(true, Ordering::Relaxed);
    let swaps = writer.join().unwrap_or_else(|_| panic!("writer"));
    assert!(swaps > 10 && scopes > 10, "{swaps} swaps, {scopes} scopes");
    assert!(!race::SEARCH_V2.get());
}
