//! Evaluation cost, side by side in one run: the floor (one atomic load), a flag with
//! no rules, a sticky 50% rollout with an explicit and with an ambient context,
//! weighted variants, constraints, counting on (reads and outcomes), an override scope, and the official
//! Unleash SDK (Yggdrasil engine) on the same `flexibleRollout`.
//!
//! Keys rotate through realistic sets made at start from a fixed seed: 1,024 UUIDs
//! (36 characters) and 1,024 e-mail addresses of varied lengths; their length ranges
//! are printed first. Each iteration takes the next key of its thread, handed in by
//! divan's input generator, which runs outside the timed loop. Rotating keys keeps
//! the hash at realistic lengths and leaves the in/out branch of a 50% rollout as
//! unpredictable as real traffic makes it. Everything a flag reads is shared across
//! threads (registry, snapshot, contexts), so those benches run on 1 and 2 threads.
//!
//! Names are prefixed so divan lists them in this order. `l_` and `m_` give scale:
//! the same rollout evaluated by a bare `RuleSet`, and the murmur3 bucket alone.
//!
//! For comparisons that a busy machine cannot blur, `FLAGS_BENCH_COUNT=CASE:N` runs
//! one case `N` times in a plain loop instead of divan, inside a function named
//! `counted_loop`; `valgrind --tool=callgrind --toggle-collect='*counted_loop*'` on
//! it counts the instructions of exactly those evaluations. Unknown cases list the
//! known ones.

#[path = "../tests/common/mod.rs"]
mod common;

use std::cell::Cell;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use common::unleash::{self, Feature};
use divan::{Bencher, black_box};
use flags_runtime::Context;
use flags_runtime::bucket::BucketGroup;
use flags_test_support::keys::{SplitMix64, email, uuid};

test_registry!(reg);
test_registry!(counted);
test_registry!(scoped);

/// How many keys of each kind rotate.
const KEYS: usize = 1024;

fn main() {
    reg::REGISTRY.init();
    counted::REGISTRY.set_counting(true);
    let keys = keys();
    for (name, set) in [("uuid", &keys.uuid), ("email", &keys.email)] {
        let (min, max, mean) = set.lengths();
        eprintln!(
            "{} {name} keys: {min}..={max} bytes, mean {mean:.1}",
            set.text.len()
        );
    }
    // Both engines give every key the same answer, so they do the same work.
    for set in [&keys.uuid, &keys.email] {
        let mut inside = 0;
        for (ours, theirs) in set.ctx.iter().zip(&set.unleash) {
            let ours = reg::BETA_ROLLOUT.get_for(ours);
            let client = &keys.unleash;
            assert_eq!(
                client.is_enabled(Feature("beta_rollout"), Some(theirs), false),
                ours
            );
            inside += usize::from(ours);
        }
        // A 50% rollout over 1,024 keys: far from all-in or all-out.
        assert!((384..=640).contains(&inside), "{inside} of {KEYS} inside");
    }
    // Warm this thread's caches (thread-locals, snapshot cache) so that no benchmark
    // starts with first-use costs, which would skew divan's sample sizing.
    for ctx in keys.uuid.ctx.iter().chain(&keys.email.ctx) {
        black_box(reg::BETA_ROLLOUT.get_for(ctx));
        black_box(reg::PRICING.get_for(ctx));
        black_box(reg::TARGETED.get_for(ctx));
        black_box(counted::BETA_ROLLOUT.get_for(ctx));
        black_box(scoped::SEARCH_V2.get());
    }
    if let Ok(spec) = std::env::var("FLAGS_BENCH_COUNT") {
        count(&spec);
        return;
    }
    divan::main();
}

/// One key set, as contexts for both engines.
struct KeySet {
    text: Vec<String>,
    ctx: Vec<Context>,
    unleash: Vec<unleash_api_client::Context>,
}

impl KeySet {
    fn new(text: Vec<String>) -> KeySet {
        KeySet {
            ctx: text.iter().map(|k| Context::with_key(k.as_str())).collect(),
            unleash: text.iter().map(|k| unleash::context(k)).collect(),
            text,
        }
    }

    /// Shortest, longest and mean length in bytes.
    fn lengths(&self) -> (usize, usize, f64) {
        let lens = self.text.iter().map(String::len);
        let min = lens.clone().min().unwrap_or(0);
        let max = lens.clone().max().unwrap_or(0);
        let mean = lens.sum::<usize>() as f64 / self.text.len().max(1) as f64;
        (min, max, mean)
    }
}

struct Keys {
    uuid: KeySet,
    email: KeySet,
    /// The Unleash SDK holding the same 50% `flexibleRollout` as `beta_rollout`.
    unleash: unleash_api_client::client::Client<Feature>,
}

fn keys() -> &'static Keys {
    static KEYS_: OnceLock<Keys> = OnceLock::new();
    KEYS_.get_or_init(|| {
        let mut rng = SplitMix64(0x5eed_f1a9_2026);
        let uuids = (0..KEYS).map(|_| uuid(&mut rng)).collect();
        let emails = (0..KEYS).map(|_| email(&mut rng)).collect();
        Keys {
            uuid: KeySet::new(uuids),
            email: KeySet::new(emails),
            unleash: unleash::client(&unleash::flexible_rollout(
                "beta_rollout",
                50,
                "beta_rollout",
            )),
        }
    })
}

thread_local! {
    /// Where this thread is in the key rotation.
    static NEXT: Cell<usize> = const { Cell::new(0) };
}

/// The next item of `items` for this thread (`items` has [`KEYS`] entries).
fn next<T>(items: &[T]) -> &T {
    let i = NEXT.with(|n| {
        let i = n.get();
        n.set((i + 1) % KEYS);
        i
    });
    &items[i % items.len()]
}

static FLOOR: AtomicBool = AtomicBool::new(false);

/// The floor: one load of an atomic bool.
#[divan::bench(threads = [1, 2], sample_size = 1024)]
fn a_floor_atomic_bool_load() -> bool {
    black_box(&FLOOR).load(Ordering::Relaxed)
}

/// A flag with no rules: its fast cell.
#[divan::bench(threads = [1, 2], sample_size = 1024)]
fn b_flag_without_rules() -> bool {
    black_box(reg::SEARCH_V2).get()
}

/// A variant flag with no rules: its fast cell.
#[divan::bench(threads = [1, 2])]
fn c_variant_flag_without_rules() -> common::Layout {
    black_box(reg::LAYOUT).get()
}

/// A sticky 50% rollout (murmur3 of the key), explicit context, UUID keys.
#[divan::bench(threads = [1, 2], sample_size = 1024)]
fn d1_rollout_50_explicit_uuid(bencher: Bencher) {
    let set = &keys().uuid.ctx;
    bencher
        .with_inputs(|| next(set))
        .bench_values(|ctx| black_box(reg::BETA_ROLLOUT).get_for(ctx));
}

/// The same rollout, e-mail keys.
#[divan::bench(threads = [1, 2], sample_size = 1024)]
fn d2_rollout_50_explicit_email(bencher: Bencher) {
    let set = &keys().email.ctx;
    bencher
        .with_inputs(|| next(set))
        .bench_values(|ctx| black_box(reg::BETA_ROLLOUT).get_for(ctx));
}

/// Installing each context as the thread's ambient one alone (what `e1`/`e2` add to
/// the evaluation itself).
#[divan::bench(threads = [1, 2], sample_size = 1024)]
fn e0_ambient_enter_only(bencher: Bencher) {
    let set = &keys().uuid.ctx;
    bencher.with_inputs(|| next(set)).bench_values(|ctx| {
        let _ambient = ctx.enter();
    });
}

/// The rollout through the ambient context, UUID keys: each iteration installs the
/// next context, evaluates, and restores the previous one (an ambient context cannot
/// rotate without being installed).
#[divan::bench(threads = [1, 2], sample_size = 1024)]
fn e1_rollout_50_ambient_uuid(bencher: Bencher) {
    let set = &keys().uuid.ctx;
    bencher.with_inputs(|| next(set)).bench_values(|ctx| {
        let _ambient = ctx.enter();
        black_box(reg::BETA_ROLLOUT).get()
    });
}

/// The same, e-mail keys.
#[divan::bench(threads = [1, 2], sample_size = 1024)]
fn e2_rollout_50_ambient_email(bencher: Bencher) {
    let set = &keys().email.ctx;
    bencher.with_inputs(|| next(set)).bench_values(|ctx| {
        let _ambient = ctx.enter();
        black_box(reg::BETA_ROLLOUT).get()
    });
}

/// A variant flag with weights 500/500 behind an `all` strategy, UUID keys.
#[divan::bench(threads = [1, 2], sample_size = 1024)]
fn f_variant_weights(bencher: Bencher) {
    let set = &keys().uuid.ctx;
    bencher
        .with_inputs(|| next(set))
        .bench_values(|ctx| black_box(reg::PRICING).get_for(ctx));
}

/// Two strategies with `in` constraints (the second one matches).
#[divan::bench(threads = [1, 2], sample_size = 1024)]
fn g_constraints(bencher: Bencher) {
    let ctx = Context::with_key("bob")
        .attr("country", "de")
        .attr("plan", "pro");
    bencher.bench(|| black_box(reg::TARGETED).get_for(black_box(&ctx)));
}

/// Counting on: the no-rules flag's value from its cell, counted on this thread's own
/// counters.
#[divan::bench(threads = [1, 2], sample_size = 1024)]
fn h_counters_on_flag_without_rules() -> bool {
    black_box(counted::SEARCH_V2).get()
}

/// Counting on: the rollout plus a count on this thread's own counters, UUID keys.
#[divan::bench(threads = [1, 2], sample_size = 1024)]
fn i_counters_on_rollout(bencher: Bencher) {
    let set = &keys().uuid.ctx;
    bencher
        .with_inputs(|| next(set))
        .bench_values(|ctx| black_box(counted::BETA_ROLLOUT).get_for(ctx));
}

/// Outcome recording with counting off: nothing attached, nothing counted (the floor
/// of `record_outcome`).
#[divan::bench(threads = [1, 2], sample_size = 1024)]
fn n0_outcome_not_counted() {
    reg::SEARCH_V2.record_outcome(
        flags_runtime::Side::Treatment,
        flags_runtime::Outcome::ok(black_box(std::time::Duration::from_micros(1500))),
    );
}

/// Outcome recording with counting on: the registry's own per-thread counts (ok or
/// error, latency sum, histogram bucket).
#[divan::bench(threads = [1, 2], sample_size = 1024)]
fn n1_outcome_counted() {
    counted::SEARCH_V2.record_outcome(
        flags_runtime::Side::Treatment,
        flags_runtime::Outcome::ok(black_box(std::time::Duration::from_micros(1500))),
    );
}

/// An override scope open on this thread: the no-rules flag is read from the scope.
#[divan::bench(sample_size = 1024)]
fn j_scoped_override(bencher: Bencher) {
    let _scope = scoped::REGISTRY
        .scoped_overrides()
        .set(scoped::SEARCH_V2, true);
    bencher.bench_local(|| black_box(scoped::SEARCH_V2).get());
}

/// The Unleash SDK (Yggdrasil engine) on the same 50% `flexibleRollout`, UUID keys.
#[divan::bench(threads = [1, 2], sample_size = 1024)]
fn k1_unleash_sdk_flexible_rollout_uuid(bencher: Bencher) {
    let keys = keys();
    let set = &keys.uuid.unleash;
    bencher.with_inputs(|| next(set)).bench_values(|ctx| {
        keys.unleash
            .is_enabled(black_box(Feature("beta_rollout")), Some(ctx), false)
    });
}

/// The same, e-mail keys.
#[divan::bench(threads = [1, 2], sample_size = 1024)]
fn k2_unleash_sdk_flexible_rollout_email(bencher: Bencher) {
    let keys = keys();
    let set = &keys.email.unleash;
    bencher.with_inputs(|| next(set)).bench_values(|ctx| {
        keys.unleash
            .is_enabled(black_box(Feature("beta_rollout")), Some(ctx), false)
    });
}

/// The rules of the bench manifest as a bare `RuleSet`.
fn rule_set() -> flags_runtime::RuleSet {
    let Some(manifest) = reg::REGISTRY.manifest() else {
        panic!("the bench manifest parses");
    };
    flags_runtime::RuleSet::from_manifest(manifest).unwrap_or_else(|e| panic!("{e}"))
}

/// For scale: the rollout's evaluation alone, in a `RuleSet` (no registry, no cell),
/// UUID keys.
#[divan::bench(sample_size = 1024)]
fn l_rule_set_rollout_pure(bencher: Bencher) {
    let set = rule_set();
    let ctxs = &keys().uuid.ctx;
    bencher
        .with_inputs(|| next(ctxs))
        .bench_local_values(|ctx| black_box(&set).evaluate(common::BETA_ROLLOUT, ctx));
}

/// For scale: Unleash's bucket alone (murmur3 of `beta_rollout:<uuid>`).
#[divan::bench(sample_size = 1024)]
fn m_bucket_hash_only(bencher: Bencher) {
    let group = BucketGroup::new("beta_rollout");
    let text = &keys().uuid.text;
    bencher
        .with_inputs(|| next(text).as_str())
        .bench_local_values(|key| black_box(&group).rollout_bucket(key));
}

/// Runs `case` `n` times in [`counted_loop`]; `spec` is `CASE:N`.
fn count(spec: &str) {
    let (case, n) = spec.split_once(':').unwrap_or((spec, "100000"));
    let n: usize = n
        .parse()
        .unwrap_or_else(|e| panic!("FLAGS_BENCH_COUNT={spec}: {n}: {e}"));
    let keys = keys();
    let (uuid, email) = (&keys.uuid, &keys.email);
    let set = rule_set();
    let group = BucketGroup::new("beta_rollout");
    let inside = match case {
        "floor" => counted_loop(n, &uuid.ctx, |_| black_box(&FLOOR).load(Ordering::Relaxed)),
        "no_rules" => counted_loop(n, &uuid.ctx, |_| black_box(reg::SEARCH_V2).get()),
        "rollout_uuid" => counted_loop(n, &uuid.ctx, |c| black_box(reg::BETA_ROLLOUT).get_for(c)),
        "rollout_email" => counted_loop(n, &email.ctx, |c| black_box(reg::BETA_ROLLOUT).get_for(c)),
        "ambient_uuid" => counted_loop(n, &uuid.ctx, |c| {
            let _ambient = c.enter();
            black_box(reg::BETA_ROLLOUT).get()
        }),
        "enter_only" => counted_loop(n, &uuid.ctx, |c| {
            let _ambient = c.enter();
            false
        }),
        "rule_set_uuid" => counted_loop(n, &uuid.ctx, |c| {
            black_box(&set).evaluate(common::BETA_ROLLOUT, c).value
                == flags_runtime::Value::Bool(true)
        }),
        "bucket_uuid" => counted_loop(n, &uuid.text, |k| {
            black_box(&group).rollout_bucket(k).is_in_rollout(50)
        }),
        "outcome" => counted_loop(n, &uuid.ctx, |_| {
            reg::SEARCH_V2.record_outcome(
                flags_runtime::Side::Treatment,
                flags_runtime::Outcome::ok(black_box(std::time::Duration::from_micros(1500))),
            );
            true
        }),
        "outcome_counted" => counted_loop(n, &uuid.ctx, |_| {
            counted::SEARCH_V2.record_outcome(
                flags_runtime::Side::Treatment,
                flags_runtime::Outcome::ok(black_box(std::time::Duration::from_micros(1500))),
            );
            true
        }),
        "counted_no_rules" => counted_loop(n, &uuid.ctx, |_| black_box(counted::SEARCH_V2).get()),
        "unleash_uuid" => counted_loop(n, &uuid.unleash, |c| {
            keys.unleash
                .is_enabled(black_box(Feature("beta_rollout")), Some(c), false)
        }),
        "unleash_email" => counted_loop(n, &email.unleash, |c| {
            keys.unleash
                .is_enabled(black_box(Feature("beta_rollout")), Some(c), false)
        }),
        _ => {
            eprintln!(
                "unknown case {case:?}; known: floor no_rules rollout_uuid rollout_email \
                 ambient_uuid enter_only rule_set_uuid bucket_uuid outcome outcome_counted \
                 counted_no_rules unleash_uuid unleash_email"
            );
            std::process::exit(2);
        }
    };
    eprintln!("{case}: {n} evaluations, {inside} inside");
}

/// Evaluates `eval` on `n` items taken in rotation from `items`; how many were on.
#[inline(never)]
fn counted_loop<T>(n: usize, items: &[T], eval: impl Fn(&T) -> bool) -> usize {
    let mut inside = 0;
    for i in 0..n {
        inside += usize::from(eval(black_box(&items[i % items.len()])));
    }
    inside
}
