//! A routed call never allocates: a counting global allocator watches the calling
//! thread while gated functions run on every path (fast cell on both sides, variants,
//! an explicit context, a scoped override, counting on, `async fn`, and `trace` with
//! no subscriber and with one that records nothing).
//!
//! Three registries of `tests/gate.toml`, so that each path is what it claims to be
//! even with the tests running in parallel: `flags` is never scoped nor counted (its
//! fast cells serve the values), `scoped` has override scopes, `counted` counts.

use flags_runtime::raw::IndexAccess;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context as TaskContext, Poll, Waker};

use flags_runtime::{BoolFlag, Context, Value, feature_gate};
use flags_test_support::alloc::{Counting, allocations};

flags_runtime::flags!("gate.toml");
flags_runtime::flags!(mod scoped = "gate.toml");
flags_runtime::flags!(mod counted = "gate.toml");

#[global_allocator]
static ALLOCATOR: Counting = Counting;

// ---- gated functions -------------------------------------------------------------------

fn mix_v1(x: u64) -> u64 {
    x.wrapping_mul(31)
}

#[feature_gate(bench_off, fallback = mix_v1, manifest = "gate.toml")]
fn mix_off(x: u64) -> u64 {
    x.wrapping_mul(37)
}

#[feature_gate(bench_on, fallback = mix_v1, manifest = "gate.toml")]
fn mix_on(x: u64) -> u64 {
    x.wrapping_mul(37)
}

#[feature_gate(layout, "two-col" = cols_two, one_page = cols_one, manifest = "gate.toml")]
fn cols(x: u8) -> u8 {
    x
}

fn cols_two(x: u8) -> u8 {
    x * 2
}

fn cols_one(x: u8) -> u8 {
    x * 3
}

#[feature_gate(vip_pricing, fallback = price_v1, context = ctx, manifest = "gate.toml")]
fn price(ctx: &Context, cents: u64) -> u64 {
    cents / 2
}

fn price_v1(_ctx: &Context, cents: u64) -> u64 {
    cents
}

#[feature_gate(new_engine, fallback = mix_v1, module = crate::scoped, manifest = "gate.toml")]
fn mix_scoped(x: u64) -> u64 {
    x.wrapping_mul(37)
}

#[feature_gate(counted, fallback = mix_v1, module = crate::counted, manifest = "gate.toml")]
fn mix_counted(x: u64) -> u64 {
    x.wrapping_mul(37)
}

#[feature_gate(traced, fallback = mix_v1, trace, manifest = "gate.toml")]
fn mix_traced(x: u64) -> u64 {
    x.wrapping_mul(37)
}

#[feature_gate(new_engine, fallback = fetch_v1, trace, module = crate::scoped, manifest = "gate.toml")]
async fn fetch(x: u64) -> u64 {
    x + 2
}

async fn fetch_v1(x: u64) -> u64 {
    x + 1
}

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = TaskContext::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

/// A subscriber that wants everything and keeps nothing: what remains allocated is
/// the gate's own doing.
struct Discard;

impl tracing::Subscriber for Discard {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, _: &tracing::Event<'_>) {}
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

fn index(flag: BoolFlag) -> usize {
    flag.meta().index
}

// ---- tests -------------------------------------------------------------------------------

#[test]
fn the_counter_sees_allocations() {
    // The harness itself must be able to fail.
    let n = allocations(10, || {
        black_box(vec![1u8; 16]);
    });
    assert_eq!(n, 20, "10 allocations and 10 frees");
}

#[test]
fn fast_path_routing_does_not_allocate() {
    flags::REGISTRY.init();
    assert_eq!(
        flags::REGISTRY.fast_value(index(flags::BENCH_OFF)),
        Some(Value::Bool(false))
    );
    assert_eq!(
        flags::REGISTRY.fast_value(index(flags::BENCH_ON)),
        Some(Value::Bool(true))
    );
    assert_eq!(mix_off(2), 62);
    assert_eq!(mix_on(2), 74);
    assert_eq!(
        allocations(1000, || {
            black_box(mix_off(black_box(2)));
            black_box(mix_on(black_box(2)));
        }),
        0,
        "bool flag, both sides"
    );
    assert_eq!(cols(2), 2);
    assert_eq!(
        allocations(1000, || {
            black_box(cols(black_box(2)));
        }),
        0,
        "variant flag"
    );
}

#[test]
fn context_routing_does_not_allocate() {
    let vip = Context::with_key("vip-1");
    let other = Context::with_key("someone-else");
    assert_eq!((price(&vip, 10), price(&other, 10)), (5, 10));
    assert_eq!(
        allocations(1000, || {
            black_box(price(&vip, black_box(10)));
            black_box(price(&other, black_box(10)));
        }),
        0
    );
}

#[test]
fn slow_paths_do_not_allocate() {
    // A scoped override: every read of the registry takes the slow path.
    {
        let _on = scoped::REGISTRY
            .scoped_overrides()
            .set(scoped::NEW_ENGINE, true);
        assert_eq!(mix_scoped(2), 74);
        assert_eq!(block_on(fetch(1)), 3);
        assert_eq!(
            allocations(1000, || {
                black_box(mix_scoped(black_box(2)));
            }),
            0,
            "scoped override"
        );
        assert_eq!(
            allocations(1000, || {
                black_box(block_on(fetch(black_box(1))));
            }),
            0,
            "async fn (with `trace`, no subscriber)"
        );
    }

    // Counting on: the first counted call registers the gate (outside the count, in
    // the warm-up run); the calls after only bump its counter.
    counted::REGISTRY.set_counting(true);
    assert_eq!(
        allocations(1000, || {
            black_box(mix_counted(black_box(2)));
        }),
        0,
        "counting"
    );
    let gates = counted::REGISTRY.gate_counts();
    let gate = gates.iter().find(|g| g.function == "mix_counted");
    assert_eq!(gate.map(|g| g.get("off")), Some(1001), "every call counted");
}

#[test]
fn trace_does_not_allocate() {
    assert_eq!(mix_traced(2), 62);
    assert_eq!(
        allocations(1000, || {
            black_box(mix_traced(black_box(2)));
        }),
        0,
        "no subscriber"
    );
    tracing::subscriber::with_default(Discard, || {
        assert_eq!(
            allocations(1000, || {
                black_box(mix_traced(black_box(2)));
            }),
            0,
            "a subscriber that records nothing: the span and its fields"
        );
    });
}
