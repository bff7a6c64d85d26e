//! Evaluation cost, side by side in one run: the floor (one relaxed atomic load), a
//! flag with no rules, a sticky 50% rollout with an explicit and with an ambient
//! context, weighted variants, constraints, counting on, an override scope, and the
//! official Unleash SDK on the same `flexibleRollout`.
//!
//! Names are prefixed so divan lists them in this order. `l_` and `m_` give scale:
//! the same rollout evaluated by a bare `RuleSet`, and the murmur3 bucket alone.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::atomic::{AtomicBool, Ordering};

use common::unleash::{self, Feature};
use divan::{Bencher, black_box};
use flags_runtime::Context;

test_registry!(reg);
test_registry!(counted);
test_registry!(scoped);

fn main() {
    reg::REGISTRY.init();
    counted::REGISTRY.set_counting(true);
    // Warm this thread's caches (thread-locals, snapshot cache) so that no benchmark
    // starts with first-use costs, which would skew divan's sample sizing.
    let ctx = Context::with_key("warm-up");
    for _ in 0..1000 {
        black_box(reg::BETA_ROLLOUT.get_for(&ctx));
        black_box(reg::PRICING.get_for(&ctx));
        black_box(reg::TARGETED.get_for(&ctx));
        black_box(counted::BETA_ROLLOUT.get_for(&ctx));
        black_box(scoped::SEARCH_V2.get());
    }
    divan::main();
}

static FLOOR: AtomicBool = AtomicBool::new(false);

/// The floor: one relaxed load of an atomic bool.
#[divan::bench]
fn a_floor_atomic_bool_load() -> bool {
    black_box(&FLOOR).load(Ordering::Relaxed)
}

/// A flag with no rules: its fast cell.
#[divan::bench]
fn b_flag_without_rules() -> bool {
    black_box(reg::SEARCH_V2).get()
}

/// A variant flag with no rules: its fast cell.
#[divan::bench]
fn c_variant_flag_without_rules() -> common::Layout {
    black_box(reg::LAYOUT).get()
}

/// A sticky 50% rollout (murmur3 of the key), explicit context.
#[divan::bench(sample_size = 1024)]
fn d_rollout_50_explicit_context(bencher: Bencher) {
    let ctx = Context::with_key("user-12345");
    bencher.bench_local(|| black_box(reg::BETA_ROLLOUT).get_for(black_box(&ctx)));
}

/// The same rollout with the context installed as the thread's ambient context.
#[divan::bench(sample_size = 1024)]
fn e_rollout_50_ambient_context(bencher: Bencher) {
    let ctx = Context::with_key("user-12345");
    let _ambient = ctx.enter();
    bencher.bench_local(|| black_box(reg::BETA_ROLLOUT).get());
}

/// A variant flag with weights 500/500 behind an `all` strategy.
#[divan::bench]
fn f_variant_weights(bencher: Bencher) {
    let ctx = Context::with_key("user-12345");
    bencher.bench_local(|| black_box(reg::PRICING).get_for(black_box(&ctx)));
}

/// Two strategies with `in` constraints (the second one matches).
#[divan::bench]
fn g_constraints(bencher: Bencher) {
    let ctx = Context::with_key("bob")
        .attr("country", "de")
        .attr("plan", "pro");
    bencher.bench_local(|| black_box(reg::TARGETED).get_for(black_box(&ctx)));
}

/// Counting on: the no-rules flag through the slow path plus a counter increment.
#[divan::bench]
fn h_counters_on_flag_without_rules() -> bool {
    black_box(counted::SEARCH_V2).get()
}

/// Counting on: the rollout plus a counter increment.
#[divan::bench]
fn i_counters_on_rollout(bencher: Bencher) {
    let ctx = Context::with_key("user-12345");
    bencher.bench_local(|| black_box(counted::BETA_ROLLOUT).get_for(black_box(&ctx)));
}

/// An override scope open on this thread: the no-rules flag is read from the scope.
#[divan::bench]
fn j_scoped_override(bencher: Bencher) {
    let _scope = scoped::REGISTRY
        .scoped_overrides()
        .set(scoped::SEARCH_V2, true);
    bencher.bench_local(|| black_box(scoped::SEARCH_V2).get());
}

/// The Unleash SDK (Yggdrasil engine) on the same 50% `flexibleRollout`.
#[divan::bench]
fn k_unleash_sdk_flexible_rollout(bencher: Bencher) {
    let client = unleash::client(&unleash::flexible_rollout(
        "beta_rollout",
        50,
        "beta_rollout",
    ));
    let ctx = unleash::context("user-12345");
    // Both engines give this user the same answer.
    let ours = reg::BETA_ROLLOUT.get_for(&Context::with_key("user-12345"));
    assert_eq!(
        client.is_enabled(Feature("beta_rollout"), Some(&ctx), false),
        ours
    );
    bencher.bench_local(|| {
        client.is_enabled(
            black_box(Feature("beta_rollout")),
            Some(black_box(&ctx)),
            false,
        )
    });
}

/// For scale: the rollout's evaluation alone, in a `RuleSet` (no registry, no cell).
#[divan::bench(sample_size = 1024)]
fn l_rule_set_rollout_pure(bencher: Bencher) {
    let Some(manifest) = reg::REGISTRY.manifest() else {
        panic!("the bench manifest parses");
    };
    let set = flags_runtime::RuleSet::from_manifest(manifest).unwrap_or_else(|e| panic!("{e}"));
    let ctx = Context::with_key("user-12345");
    bencher.bench_local(|| black_box(&set).evaluate(common::BETA_ROLLOUT, black_box(&ctx)));
}

/// For scale: Unleash's bucket alone (murmur3 of `beta_rollout:user-12345`).
#[divan::bench(sample_size = 1024)]
fn m_bucket_hash_only(bencher: Bencher) {
    let group = flags_runtime::bucket::BucketGroup::new("beta_rollout");
    bencher.bench_local(|| black_box(&group).rollout_bucket(black_box("user-12345")));
}
