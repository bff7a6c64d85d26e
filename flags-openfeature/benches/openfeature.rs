//! What an evaluation through OpenFeature costs, and how much of it is ours, side by
//! side in one run:
//!
//! - `a`: the floor, one load of an atomic bool;
//! - `b`: the typed accessor on a sticky 50% rollout (`BETA_ROLLOUT.get_for`);
//! - `c`: our provider's `resolve_bool_value` called directly on the same flag, with an
//!   OpenFeature context: context conversion, one evaluation, the resolution details
//!   (variant, reason, metadata). This is our part of an OpenFeature evaluation;
//! - `d`: the same evaluation through the SDK's client with our provider as the global
//!   one (`client.get_bool_value`): the SDK total;
//! - `e`: the SDK's client with the SDK's own `NoOpProvider` (0.3 has no in-memory
//!   provider), which answers every flag with an error: the SDK's error path;
//! - `f`: the SDK's client with a provider that returns a constant, the least any
//!   provider can do: what the SDK itself costs on the success path.
//!
//! Our share is `c / d`; `d - f` is what our provider adds to the SDK's own cost.
//! `c1`–`c3` break `c` down (context conversion, evaluation, resolution details), and
//! `r` reads four flags for one user, as one request does, directly and through the
//! client.
//!
//! Contexts carry one of 1,024 UUID targeting keys (36 characters, made at start from
//! a fixed seed), rotating per thread, handed in by divan's input generator outside
//! the timed loop. Registry, provider, client and contexts are shared, so every case
//! runs on 1 and 2 threads.
//!
//! The SDK's API is async; its locks are tokio's, which nothing writes during the
//! run, so every poll completes at once. [`block_on`] polls with a no-op waker: what
//! is measured is the SDK and the provider, not an executor.

use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context as TaskContext, Poll, Waker};

use divan::{Bencher, black_box};
use flags_openfeature::FlagsProvider;
use flags_runtime::Context;
use flags_test_support::keys::{SplitMix64, uuid};
use open_feature::provider::{FeatureProvider, NoOpProvider, ProviderMetadata, ResolutionDetails};
use open_feature::{
    Client, EvaluationContext, EvaluationReason, EvaluationResult, OpenFeature, StructValue,
};

flags_runtime::flags!(mod flags = "tests/flags.toml");

/// How many targeting keys rotate.
const KEYS: usize = 1024;

fn main() {
    let k = keys();
    let mut inside = 0;
    for (ctx, of) in k.flags.iter().zip(&k.openfeature) {
        // Provider and accessor agree on every key.
        let ours = flags::BETA_ROLLOUT.get_for(ctx);
        let resolved = block_on(clients().provider.resolve_bool_value("beta_rollout", of));
        assert_eq!(resolved.map(|d| d.value).ok(), Some(ours));
        let through_sdk = block_on(
            clients()
                .flags
                .get_bool_value("beta_rollout", Some(of), None),
        );
        assert_eq!(through_sdk.ok(), Some(ours));
        inside += usize::from(ours);
    }
    assert!(
        (384..=640).contains(&inside),
        "{inside} of {KEYS} inside a 50% rollout"
    );
    assert!(block_on(clients().noop.get_bool_value("beta_rollout", None, None)).is_err());
    assert_eq!(
        block_on(
            clients()
                .constant
                .get_bool_value("beta_rollout", None, None)
        )
        .ok(),
        Some(true)
    );
    divan::main();
}

/// Runs a future whose every poll completes (see the module docs).
fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = TaskContext::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = f.as_mut().poll(&mut cx) {
            return out;
        }
        std::hint::spin_loop();
    }
}

/// The keys as contexts of both kinds.
struct Keys {
    flags: Vec<Context>,
    openfeature: Vec<EvaluationContext>,
}

fn keys() -> &'static Keys {
    static KEYS_: OnceLock<Keys> = OnceLock::new();
    KEYS_.get_or_init(|| {
        let mut rng = SplitMix64(0x5eed_f1a9_2026);
        let text: Vec<String> = (0..KEYS).map(|_| uuid(&mut rng)).collect();
        Keys {
            flags: text.iter().map(|k| Context::with_key(k.as_str())).collect(),
            openfeature: text
                .iter()
                .map(|k| EvaluationContext::default().with_targeting_key(k.as_str()))
                .collect(),
        }
    })
}

thread_local! {
    /// Where this thread is in the key rotation.
    static NEXT: Cell<usize> = const { Cell::new(0) };
}

/// The next item of `items` for this thread.
fn next<T>(items: &[T]) -> &T {
    let i = NEXT.with(|n| {
        let i = n.get();
        n.set((i + 1) % KEYS);
        i
    });
    &items[i % items.len()]
}

/// The least a provider can do: `true` for every flag, with a variant and a reason.
struct Constant(ProviderMetadata);

#[open_feature::async_trait]
impl FeatureProvider for Constant {
    fn metadata(&self) -> &ProviderMetadata {
        &self.0
    }

    async fn resolve_bool_value(
        &self,
        _: &str,
        _: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<bool>> {
        Ok(ResolutionDetails {
            value: true,
            variant: Some("on".to_owned()),
            reason: Some(EvaluationReason::Static),
            flag_metadata: None,
        })
    }

    async fn resolve_int_value(
        &self,
        _: &str,
        _: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<i64>> {
        Ok(ResolutionDetails::new(1))
    }

    async fn resolve_float_value(
        &self,
        _: &str,
        _: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<f64>> {
        Ok(ResolutionDetails::new(1.0))
    }

    async fn resolve_string_value(
        &self,
        _: &str,
        _: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<String>> {
        Ok(ResolutionDetails::new("on"))
    }

    async fn resolve_struct_value(
        &self,
        _: &str,
        _: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<StructValue>> {
        Ok(ResolutionDetails::new(StructValue::default()))
    }
}

/// Our provider (held directly, for `c`) and one SDK client per provider.
struct Clients {
    provider: FlagsProvider,
    lean: FlagsProvider,
    flags: Client,
    flags_lean: Client,
    noop: Client,
    constant: Client,
}

fn clients() -> &'static Clients {
    static CLIENTS: OnceLock<Clients> = OnceLock::new();
    CLIENTS.get_or_init(|| {
        block_on(async {
            let mut provider = FlagsProvider::new(&flags::REGISTRY);
            provider.initialize(&EvaluationContext::default()).await;
            let mut api = OpenFeature::singleton_mut().await;
            api.set_provider(FlagsProvider::new(&flags::REGISTRY)).await;
            api.set_named_provider(
                "lean",
                FlagsProvider::new(&flags::REGISTRY).without_flag_metadata(),
            )
            .await;
            api.set_named_provider("noop", NoOpProvider::default())
                .await;
            let mut lean = FlagsProvider::new(&flags::REGISTRY).without_flag_metadata();
            lean.initialize(&EvaluationContext::default()).await;
            api.set_named_provider("constant", Constant(ProviderMetadata::new("constant")))
                .await;
            Clients {
                provider,
                lean,
                flags: api.create_client(),
                flags_lean: api.create_named_client("lean"),
                noop: api.create_named_client("noop"),
                constant: api.create_named_client("constant"),
            }
        })
    })
}

static FLOOR: AtomicBool = AtomicBool::new(false);

/// The floor: one load of an atomic bool.
#[divan::bench(threads = [1, 2], sample_size = 1024)]
fn a_floor_atomic_bool_load() -> bool {
    black_box(&FLOOR).load(Ordering::Relaxed)
}

/// The typed accessor: a sticky 50% rollout, UUID keys.
#[divan::bench(threads = [1, 2], sample_size = 1024)]
fn b_accessor_rollout(bencher: Bencher) {
    let set = &keys().flags;
    bencher
        .with_inputs(|| next(set))
        .bench_values(|ctx| black_box(flags::BETA_ROLLOUT).get_for(ctx));
}

/// Our provider's resolve, called directly: our part of an OpenFeature evaluation.
#[divan::bench(threads = [1, 2], sample_size = 64)]
fn c_provider_resolve(bencher: Bencher) {
    let set = &keys().openfeature;
    let provider = &clients().provider;
    bencher.with_inputs(|| next(set)).bench_values(|ctx| {
        block_on(provider.resolve_bool_value(black_box("beta_rollout"), ctx)).map(|d| d.value)
    });
}

/// As `c`, without flag metadata ([`FlagsProvider::without_flag_metadata`]).
#[divan::bench(threads = [1, 2], sample_size = 64)]
fn c_provider_resolve_lean(bencher: Bencher) {
    let set = &keys().openfeature;
    let provider = &clients().lean;
    bencher.with_inputs(|| next(set)).bench_values(|ctx| {
        block_on(provider.resolve_bool_value(black_box("beta_rollout"), ctx)).map(|d| d.value)
    });
}

/// The SDK's client with our provider: the whole OpenFeature evaluation.
#[divan::bench(threads = [1, 2], sample_size = 64)]
fn d_client_with_flags(bencher: Bencher) {
    let set = &keys().openfeature;
    let client = &clients().flags;
    bencher.with_inputs(|| next(set)).bench_values(|ctx| {
        block_on(client.get_bool_value(black_box("beta_rollout"), Some(ctx), None))
    });
}

/// As `d`, our provider without flag metadata.
#[divan::bench(threads = [1, 2], sample_size = 64)]
fn d_client_with_flags_lean(bencher: Bencher) {
    let set = &keys().openfeature;
    let client = &clients().flags_lean;
    bencher.with_inputs(|| next(set)).bench_values(|ctx| {
        block_on(client.get_bool_value(black_box("beta_rollout"), Some(ctx), None))
    });
}

/// The on/off flags one request reads for one user (`r` cases).
const REQUEST: [&str; 4] = ["beta_rollout", "search_v2", "nz_only", "killed"];

/// A request's four flags for one user, through our provider directly: the context
/// of the first is reused by the other three.
#[divan::bench(threads = [1, 2], sample_size = 16)]
fn r_provider_request_of_4(bencher: Bencher) {
    let set = &keys().openfeature;
    let provider = &clients().provider;
    bencher.with_inputs(|| next(set)).bench_values(|ctx| {
        REQUEST.map(|flag| block_on(provider.resolve_bool_value(black_box(flag), ctx)).is_ok())
    });
}

/// The same request through the SDK's client.
#[divan::bench(threads = [1, 2], sample_size = 16)]
fn r_client_request_of_4(bencher: Bencher) {
    let set = &keys().openfeature;
    let client = &clients().flags;
    bencher.with_inputs(|| next(set)).bench_values(|ctx| {
        REQUEST
            .map(|flag| block_on(client.get_bool_value(black_box(flag), Some(ctx), None)).is_ok())
    });
}

/// The SDK's client with the SDK's `NoOpProvider` (an error for every flag).
#[divan::bench(threads = [1, 2], sample_size = 64)]
fn e_client_with_sdk_noop(bencher: Bencher) {
    let set = &keys().openfeature;
    let client = &clients().noop;
    bencher.with_inputs(|| next(set)).bench_values(|ctx| {
        block_on(client.get_bool_value(black_box("beta_rollout"), Some(ctx), None))
    });
}

/// The SDK's client with a constant provider: the SDK's own success path.
#[divan::bench(threads = [1, 2], sample_size = 64)]
fn f_client_with_constant(bencher: Bencher) {
    let set = &keys().openfeature;
    let client = &clients().constant;
    bencher.with_inputs(|| next(set)).bench_values(|ctx| {
        block_on(client.get_bool_value(black_box("beta_rollout"), Some(ctx), None))
    });
}

/// Breakdown of `c`: the context conversion alone, for a key not seen last.
#[divan::bench(sample_size = 64)]
fn c1_part_context(bencher: Bencher) {
    let set = &keys().openfeature;
    bencher
        .with_inputs(|| next(set))
        .bench_values(flags_openfeature::to_context);
}

/// Breakdown of `c`: snapshot and explain with a ready flags context.
#[divan::bench(sample_size = 64)]
fn c2_part_explain(bencher: Bencher) {
    let set = &keys().flags;
    bencher.with_inputs(|| next(set)).bench_values(|ctx| {
        let s = flags::REGISTRY.snapshot();
        s.explain(black_box(1), ctx).map(|d| d.value)
    });
}

/// Breakdown of `c`: the resolution details (variant and metadata) alone.
#[divan::bench(sample_size = 64)]
fn c3_part_details(bencher: Bencher) {
    let fixed = open_feature::FlagMetadata::default()
        .with_value("kind", "experiment")
        .with_value("lifecycle", "active")
        .with_value("static", false)
        .with_value("owner", "growth")
        .with_value("expires", "2030-06-30");
    bencher.bench(|| {
        let m = black_box(&fixed).clone().with_value("layer", "manifest");
        (Some(black_box("on").to_owned()), Some(m))
    });
}
