//! Telemetry and sources: change and rejection events through `tracing`, evaluation
//! counters, sampled exposure events (keyed HMAC of the key, never the key), the
//! environment layer, and a custom `Source` on the remote layer.

// Needs the `rule-files` feature: its registries are built from manifest text (`Registry::new`).
#![cfg(feature = "rule-files")]

mod common;

use flags_runtime::raw::IndexAccess;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::Layout;
use common::capture::{Capture, Captured};
use flags_runtime::manifest::{Rules, Value};
use flags_runtime::{
    Context, EnvSource, ExposureKey, ExposureSampling, Layer, Reason, Registry, Source,
    SourceError, Update,
};
use flags_test_support::wait::wait_until;
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

test_registry!(changes);
test_registry!(counting);
test_registry!(exposure);
test_registry!(env);
test_registry!(remote);

thread_local! {
    /// Where the events of this thread go while a test captures them.
    static CAPTURING: std::cell::RefCell<Option<Capture>> = const { std::cell::RefCell::new(None) };
}

/// The process-wide subscriber: sends each event to the capture of the thread that
/// emits it. One global subscriber that is always interested, rather than a scoped one
/// per test, so that no test thread can cache "never" for a callsite while another
/// test is installing its subscriber (tracing's per-callsite interest cache).
struct Router;

impl Subscriber for Router {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        CAPTURING.with(|c| {
            if let Some(capture) = &*c.borrow() {
                capture.event(event);
            }
        });
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// Runs `f` with this thread's events going to `capture`.
fn capturing<R>(capture: &Capture, f: impl FnOnce() -> R) -> R {
    static ROUTER: std::sync::Once = std::sync::Once::new();
    ROUTER.call_once(|| {
        tracing::subscriber::set_global_default(Router).expect("the only global subscriber");
    });
    CAPTURING.with(|c| *c.borrow_mut() = Some(capture.clone()));
    let out = f();
    CAPTURING.with(|c| *c.borrow_mut() = None);
    out
}

fn fixed(v: Value) -> Rules {
    Rules {
        value: Some(v),
        ..Rules::default()
    }
}

#[test]
fn changes_and_rejections_are_events() {
    changes::REGISTRY.init();
    let capture = Capture::default();
    capturing(&capture, || {
        changes::REGISTRY
            .set_layer(
                Layer::Remote,
                "https://flags.test",
                vec![(common::LAYOUT, fixed(Value::Variant(2)))],
            )
            .unwrap_or_else(|e| panic!("{e}"));
        // The same update again changes nothing: no event.
        changes::REGISTRY
            .set_layer(
                Layer::Remote,
                "https://flags.test",
                vec![(common::LAYOUT, fixed(Value::Variant(2)))],
            )
            .unwrap_or_else(|e| panic!("{e}"));
        let bad = changes::REGISTRY.set_layer(
            Layer::Remote,
            "https://flags.test",
            vec![(common::DARK_MODE, fixed(Value::Bool(true)))],
        );
        assert!(bad.is_err(), "static flags cannot be changed");
        assert!(
            changes::REGISTRY
                .set_layer(Layer::Manifest, "x", vec![])
                .is_err()
        );
    });
    let events = capture.events();
    let changed: Vec<&Captured> = events
        .iter()
        .filter(|e| e.fields.get("flag").map(String::as_str) == Some("layout"))
        .collect();
    assert_eq!(changed.len(), 1, "{events:#?}");
    let e = changed[0];
    assert_eq!(e.target, "flags");
    assert_eq!(e.level, tracing::Level::INFO);
    assert_eq!(e.fields["from"], "classic (default) [manifest]");
    assert_eq!(e.fields["to"], "wide [remote]");
    assert_eq!(e.fields["layer"], "remote");
    assert_eq!(e.fields["source"], "https://flags.test");
    let rejected: Vec<&Captured> = events
        .iter()
        .filter(|e| e.level == tracing::Level::WARN)
        .collect();
    assert_eq!(rejected.len(), 2, "{events:#?}");
    assert!(rejected[0].fields["error"].contains("static"));
    assert_eq!(changes::REGISTRY.error_count(), 2);
    assert_eq!(changes::LAYOUT.get(), Layout::Wide, "the good state stays");
}

#[test]
fn counters_per_flag_and_value() {
    let alice = Context::with_key("alice").attr("country", "fr");
    assert_eq!(counting::REGISTRY.fast_value(common::SEARCH_V2), None);
    counting::REGISTRY.init();
    assert!(counting::REGISTRY.fast_value(common::SEARCH_V2).is_some());
    counting::REGISTRY.set_counting(true);
    assert!(counting::REGISTRY.is_counting());
    assert!(
        counting::REGISTRY.fast_value(common::SEARCH_V2).is_some(),
        "a counted flag with one value for everyone keeps its value in its cell"
    );
    for _ in 0..5 {
        let _ = counting::SEARCH_V2.get();
        let _ = counting::TARGETED.get_for(&alice);
    }
    let _ = counting::TARGETED.get();
    let _ = counting::LAYOUT.get();
    // explain and snapshot reads are reads too.
    let _ = counting::TARGETED.explain(&alice);
    let _ = counting::REGISTRY
        .snapshot()
        .get_for(counting::TARGETED, &alice);
    let counts = counting::REGISTRY.counts();
    assert_eq!(counts.get("search_v2", "off"), 5);
    assert_eq!(counts.get("search_v2", "on"), 0);
    assert_eq!(counts.get("targeted", "on"), 7);
    assert_eq!(counts.get("targeted", "off"), 1);
    assert_eq!(counts.get("layout", "classic"), 1);
    assert_eq!(counts.total("pricing"), 0);
    counting::REGISTRY.set_counting(false);
    let _ = counting::SEARCH_V2.get();
    assert_eq!(counting::REGISTRY.counts().get("search_v2", "off"), 5);
    assert!(counting::REGISTRY.fast_value(common::SEARCH_V2).is_some());
    counting::REGISTRY.reset_counts();
    assert_eq!(counting::REGISTRY.counts().total("targeted"), 0);
}

#[test]
fn exposure_events_carry_a_keyed_hash_not_the_key() {
    // Every evaluation, so the counts below are exact; the sampling rate itself is
    // tested statistically in the telemetry module.
    let secret = ExposureKey::new("a secret of at least thirty-two bytes").unwrap();
    let keyed = ExposureSampling::new(1).with_key(secret.clone());
    let capture = Capture::default();
    let key = "user-secret-42";
    capturing(&capture, || {
        exposure::REGISTRY.set_exposure_sampling(Some(keyed));
        let ctx = Context::with_key(key);
        for _ in 0..40 {
            let _ = exposure::BETA_ROLLOUT.get_for(&ctx);
        }
        for _ in 0..40 {
            let _ = exposure::SEARCH_V2.get();
        }
        // Without a key: events, but no key hash.
        exposure::REGISTRY.set_exposure_sampling(Some(ExposureSampling::new(1)));
        for _ in 0..10 {
            let _ = exposure::BETA_ROLLOUT.get_for(&ctx);
        }
        exposure::REGISTRY.set_exposure_sampling(None);
        for _ in 0..40 {
            let _ = exposure::BETA_ROLLOUT.get_for(&ctx);
        }
    });
    let events: Vec<Captured> = capture
        .events()
        .into_iter()
        .filter(|e| e.target == "flags::exposure")
        .collect();
    assert_eq!(events.len(), 90, "every one of 90 sampled reads");
    let hash = secret.hash(key).to_string();
    for e in &events {
        assert!(
            e.fields.values().all(|v| !v.contains(key)),
            "the key leaked: {e:?}"
        );
    }
    let rollout: Vec<&Captured> = events
        .iter()
        .filter(|e| e.fields["flag"] == "beta_rollout")
        .collect();
    assert_eq!(rollout.len(), 50);
    let on = flags_runtime::bucket::rollout_bucket("beta_rollout", key).get() <= 50;
    for e in &rollout {
        assert_eq!(e.fields["value"], if on { "on" } else { "off" });
    }
    for e in &rollout[..40] {
        assert_eq!(e.fields["key_hash"], hash, "{e:?}");
    }
    for e in &rollout[40..] {
        assert!(!e.fields.contains_key("key_hash"), "{e:?}");
    }
    assert_eq!(
        exposure::REGISTRY.fast_value(common::SEARCH_V2),
        Some(Value::Bool(false))
    );
}

#[test]
fn environment_layer() {
    let mut source = EnvSource::from_vars([
        ("FLAGS", "layout=compact,search_v2=on,serch_v2=on,nope=on"),
        ("FLAGS_LAYOUT", "wide"),
        ("FLAGS_PRICING", "c"),
        ("FLAGS_TODAY", "2026-01-01"),
    ]);
    assert_eq!(env::REGISTRY.apply(&mut source), Ok(true));
    assert_eq!(
        env::LAYOUT.get(),
        Layout::Wide,
        "FLAGS_LAYOUT wins over FLAGS"
    );
    assert!(env::SEARCH_V2.get());
    assert!(env::CHECKOUT.get(), "its prerequisite is now on");
    let d = env::SEARCH_V2.explain(&Context::new());
    assert_eq!((d.reason, d.layer), (Reason::Fixed, Layer::Env));
    // `serch_v2` (a typo of a flag here) and `pricing=c` are reported once each;
    // `nope`, close to no flag of this manifest, is left to other registries.
    assert_eq!(
        env::REGISTRY.error_count(),
        2,
        "serch_v2 and pricing=c, once each"
    );
    // The environment is read once: polling again changes nothing.
    assert_eq!(env::REGISTRY.apply(&mut source), Ok(false));
    assert_eq!(env::REGISTRY.error_count(), 2);
}

/// A remote source that serves whatever its owner put in the shared slot.
struct Remote {
    next: Arc<Mutex<Option<Result<Update, String>>>>,
}

impl Source for Remote {
    fn name(&self) -> &str {
        "remote-test"
    }
    fn layer(&self) -> Layer {
        Layer::Remote
    }
    fn poll(&mut self, registry: &Registry) -> Result<Option<Update>, SourceError> {
        assert_eq!(registry.index_of("layout"), Some(common::LAYOUT));
        match self.next.lock().ok().and_then(|mut n| n.take()) {
            None => Ok(None),
            Some(Ok(u)) => Ok(Some(u)),
            Some(Err(e)) => Err(SourceError::new("remote-test", e)),
        }
    }
}

#[test]
fn custom_source_on_the_remote_layer() {
    let next = Arc::new(Mutex::new(Some(Ok(Update::new(vec![(
        common::LAYOUT,
        fixed(Value::Variant(1)),
    )])))));
    let watch = remote::REGISTRY.watch(Remote { next: next.clone() }, Duration::from_millis(20));
    assert_eq!(remote::LAYOUT.get(), Layout::Compact);
    assert_eq!(remote::LAYOUT.explain(&Context::new()).layer, Layer::Remote);
    let set = |v: Result<Update, String>| {
        if let Ok(mut n) = next.lock() {
            *n = Some(v);
        }
    };
    set(Err("503 from the flag service".into()));
    wait_until("the failure to be reported", || {
        remote::REGISTRY.error_count() == 1
    });
    assert_eq!(remote::LAYOUT.get(), Layout::Compact);
    // Variant 9 does not exist: the whole update is refused.
    set(Ok(Update::new(vec![
        (common::SEARCH_V2, fixed(Value::Bool(true))),
        (common::LAYOUT, fixed(Value::Variant(9))),
    ])));
    wait_until("the refusal to be reported", || {
        remote::REGISTRY.error_count() == 2
    });
    assert!(!remote::SEARCH_V2.get());
    set(Ok(Update::new(vec![(
        common::LAYOUT,
        fixed(Value::Variant(2)),
    )])));
    wait_until("the next good update", || {
        remote::LAYOUT.get() == Layout::Wide
    });
    drop(watch);
}
