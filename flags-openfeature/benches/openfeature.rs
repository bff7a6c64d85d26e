//! What an evaluation through OpenFeature costs, and how much of it is ours, side by
//! side in one run:
//!
//! - `a`: the floor, one load of an atomic bool;
//! - `b`: the typed accessor on a sticky 50% rollout (`BETA_ROLLOUT.get_for`);
//! - `c0`: a provider that returns a constant (`true`, a variant, a reason), its
//!   `resolve_bool_value` called directly: what the SDK's trait makes any provider
//!   pay per call (a boxed future, an owned variant string);
//! - `c`: our provider's `resolve_bool_value` called directly on the same flag as `b`,
//!   with an OpenFeature context: finding the flag, one evaluation, the resolution
//!   details (variant, reason, metadata); `c_..._lean` without flag metadata, and
//!   `c_..._lean_with_fields` with two custom fields in the context as well, which a
//!   rollout on the key never reads (so they are never converted);
//! - `d`: the same evaluation through the SDK's client with our provider
//!   (`client.get_bool_value`): the SDK total; `d_..._lean` without metadata;
//! - `e`: the SDK's client with the SDK's own `NoOpProvider` (0.3 has no in-memory
//!   provider), which answers every flag with an error: the SDK's error path;
//! - `f`: the SDK's client with the constant provider of `c0`, the least any provider
//!   can do: what the SDK itself costs on the success path; `f_..._and_metadata` the
//!   same provider returning a clone of the metadata map our provider returns for
//!   this flag: the least any provider returning that metadata can cost.
//!
//! Our part of an OpenFeature evaluation is `d - f` (`d_lean - f` without metadata,
//! `d - f_..._and_metadata` with it), the same as `c - c0`; our share is that over
//! `d`. `c1`–`c3` are the parts of `c` (the context, for flags whose rules read more
//! than the key; the evaluation; the resolution details), and `r` reads four flags
//! for one user, as one request does, directly and through the client.
//!
//! Contexts carry one of 1,024 UUID targeting keys (36 characters, made at start from
//! a fixed seed), rotating per thread, handed in by divan's input generator outside
//! the timed loop. Registry, providers, clients and contexts are shared, so every
//! case runs on 1 and 2 threads. Every client is a named one (see [`Clients`]).
//!
//! The SDK's API is async; its locks are tokio's, which nothing writes during the
//! run, so every poll completes at once. [`block_on`] polls with a no-op waker: what
//! is measured is the SDK and the provider, not an executor.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::pin;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context as TaskContext, Poll, Waker};

use divan::{Bencher, black_box};
use flags_openfeature::FlagsProvider;
use flags_runtime::Context;
use flags_runtime::raw::IndexAccess as _;
use flags_test_support::keys::{SplitMix64, uuid};
use open_feature::provider::{FeatureProvider, NoOpProvider, ProviderMetadata, ResolutionDetails};
use open_feature::{
    Client, EvaluationContext, EvaluationReason, EvaluationResult, FlagMetadata, OpenFeature,
    StructValue,
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

/// The keys as contexts of both kinds, and OpenFeature ones with custom fields too.
struct Keys {
    flags: Vec<Context>,
    openfeature: Vec<EvaluationContext>,
    with_fields: Vec<EvaluationContext>,
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
            with_fields: text
                .iter()
                .map(|k| {
                    EvaluationContext::default()
                        .with_targeting_key(k.as_str())
                        .with_custom_field("country", "NZ")
                        .with_custom_field("seats", 12)
                })
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

/// The least a provider can do: `true` for every flag, with a variant and a reason
/// (and, when it has some, a clone of one flag metadata map).
struct Constant(ProviderMetadata, Option<FlagMetadata>);

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
            flag_metadata: self.1.clone(),
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

/// Our providers and the constant ones, held directly (for `c`), and one SDK client
/// per provider. Every client is a named one, so that each pays the same for its
/// name (the SDK clones a client's name per evaluation, which allocates unless the
/// name is empty).
struct Clients {
    provider: FlagsProvider,
    lean: FlagsProvider,
    constant_provider: Constant,
    /// The metadata our provider returns for the benchmarked flag.
    metadata: FlagMetadata,
    flags: Client,
    flags_lean: Client,
    noop: Client,
    constant: Client,
    constant_meta: Client,
}

fn clients() -> &'static Clients {
    static CLIENTS: OnceLock<Clients> = OnceLock::new();
    CLIENTS.get_or_init(|| {
        block_on(async {
            let global = EvaluationContext::default();
            let mut provider = FlagsProvider::new(&flags::REGISTRY);
            provider.initialize(&global).await;
            let mut lean = FlagsProvider::new(&flags::REGISTRY).without_flag_metadata();
            lean.initialize(&global).await;
            // The metadata our provider gives the benchmarked flag, for a constant
            // provider that returns the same.
            let ctx = &keys().openfeature[0];
            let metadata = provider
                .resolve_bool_value("beta_rollout", ctx)
                .await
                .ok()
                .and_then(|d| d.flag_metadata);
            let Some(metadata) = metadata else {
                panic!("the provider returns metadata for `beta_rollout`");
            };
            let mut api = OpenFeature::singleton_mut().await;
            api.set_named_provider("flags", FlagsProvider::new(&flags::REGISTRY))
                .await;
            api.set_named_provider(
                "flags_lean",
                FlagsProvider::new(&flags::REGISTRY).without_flag_metadata(),
            )
            .await;
            api.set_named_provider("noop", NoOpProvider::default())
                .await;
            api.set_named_provider(
                "constant",
                Constant(ProviderMetadata::new("constant"), None),
            )
            .await;
            api.set_named_provider(
                "constant_meta",
                Constant(ProviderMetadata::new("constant"), Some(metadata.clone())),
            )
            .await;
            Clients {
                provider,
                lean,
                constant_provider: Constant(ProviderMetadata::new("constant"), None),
                metadata,
                flags: api.create_named_client("flags"),
                flags_lean: api.create_named_client("flags_lean"),
                noop: api.create_named_client("noop"),
                constant: api.create_named_client("constant"),
                constant_meta: api.create_named_client("constant_meta"),
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

/// The constant provider's resolve, called directly: what the SDK's trait makes any
/// provider pay (a boxed future, an owned variant string).
#[divan::bench(threads = [1, 2], sample_size = 64)]
fn c0_constant_resolve(bencher: Bencher) {
    let set = &keys().openfeature;
    let provider = &clients().constant_provider;
    bencher.with_inputs(|| next(set)).bench_values(|ctx| {
        block_on(provider.resolve_bool_value(black_box("beta_rollout"), ctx)).map(|d| d.value)
    });
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

/// As `c_provider_resolve_lean`, the context carrying two custom fields as well.
#[divan::bench(threads = [1, 2], sample_size = 64)]
fn c_provider_resolve_lean_with_fields(bencher: Bencher) {
    let set = &keys().with_fields;
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

/// As `f`, the constant provider returning a clone of the metadata our provider gives
/// this flag: the least a provider returning that metadata costs through the SDK.
#[divan::bench(threads = [1, 2], sample_size = 64)]
fn f_client_with_constant_and_metadata(bencher: Bencher) {
    let set = &keys().openfeature;
    let client = &clients().constant_meta;
    bencher.with_inputs(|| next(set)).bench_values(|ctx| {
        block_on(client.get_bool_value(black_box("beta_rollout"), Some(ctx), None))
    });
}

thread_local! {
    /// A context kept for re-keying, as the provider keeps one per thread (`c1`).
    static REUSED: RefCell<Context> = const { RefCell::new(Context::anonymous()) };
}

/// Part of `c` for flags whose rules read more than the key (not this one): the
/// context, a thread's reused flags context re-keyed to the targeting key (what the
/// provider does for a context of a key alone).
#[divan::bench(sample_size = 64)]
fn c1_part_context(bencher: Bencher) {
    let set = &keys().openfeature;
    bencher.with_inputs(|| next(set)).bench_values(|ctx| {
        REUSED.with(|reused| {
            let mut reused = reused.borrow_mut();
            reused.rekey(ctx.targeting_key.as_deref().unwrap_or_default());
            reused.targeting_key().map(str::len)
        })
    });
}

/// As `c1_part_context`, a fresh conversion ([`flags_openfeature::to_context`]):
/// what a context with custom fields takes, when the flag reads it.
#[divan::bench(sample_size = 64)]
fn c1_part_context_fresh(bencher: Bencher) {
    let set = &keys().openfeature;
    bencher
        .with_inputs(|| next(set))
        .bench_values(flags_openfeature::to_context);
}

/// Part of `c`: the evaluation with its explanation (value, reason, layer) from the
/// targeting key alone, as the provider evaluates a rollout on the key.
#[divan::bench(sample_size = 64)]
fn c2_part_explain_key(bencher: Bencher) {
    let set = &keys().openfeature;
    let index = flags::REGISTRY
        .index_of("beta_rollout")
        .unwrap_or(usize::MAX);
    bencher.with_inputs(|| next(set)).bench_values(|ctx| {
        let key = ctx.targeting_key.as_deref().unwrap_or_default();
        flags::REGISTRY
            .explain_key(black_box(index), key)
            .map(|d| d.value)
    });
}

/// As `c2_part_explain_key`, with a ready flags context: how flags whose rules read
/// more than the key are explained.
#[divan::bench(sample_size = 64)]
fn c2_part_explain(bencher: Bencher) {
    let set = &keys().flags;
    let index = flags::REGISTRY
        .index_of("beta_rollout")
        .unwrap_or(usize::MAX);
    bencher
        .with_inputs(|| next(set))
        .bench_values(|ctx| flags::REGISTRY.explain(black_box(index), ctx).value);
}

/// Part of `c`: the resolution details alone, the variant and a clone of the
/// flag's metadata map, which the provider builds once per flag and layer.
#[divan::bench(sample_size = 64)]
fn c3_part_details(bencher: Bencher) {
    let metadata = &clients().metadata;
    bencher.bench(|| {
        (
            Some(black_box("on").to_owned()),
            Some(black_box(metadata).clone()),
        )
    });
}

/// As `c3_part_details`, the same metadata built at each call instead of cloned.
#[divan::bench(sample_size = 64)]
fn c3_part_details_built(bencher: Bencher) {
    bencher.bench(|| {
        let m = FlagMetadata::default()
            .with_value("layer", black_box("manifest"))
            .with_value("kind", "experiment")
            .with_value("lifecycle", "active")
            .with_value("static", false)
            .with_value("owner", "growth")
            .with_value("expires", "2030-06-30");
        (Some(black_box("on").to_owned()), Some(m))
    });
}
