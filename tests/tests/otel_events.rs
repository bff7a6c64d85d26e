//! Sampled evaluation events in OpenTelemetry's form
//! ([`ExposureSampling::open_telemetry`]), carried by `tracing-opentelemetry` as span
//! events and collected by the OpenTelemetry SDK's in-memory exporter: the event name
//! and the `feature_flag.*` attribute names are exactly the semantic conventions', and
//! the context is named by its keyed hash, never by the key.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use tracing_subscriber::layer::SubscriberExt as _;

use flags_runtime::{Context, ExposureKey, ExposureSampling};

flags_runtime::flags!("otel.toml");

fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attrs
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

fn text(attrs: &[KeyValue], key: &str) -> String {
    attr(attrs, key).map_or_else(
        || panic!("no attribute {key} in {attrs:?}"),
        |v| v.as_str().into_owned(),
    )
}

#[test]
fn evaluations_are_span_events_with_the_semantic_conventions_names() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("flags-tests")));

    let key = ExposureKey::new("a secret of at least thirty-two bytes, for the test").unwrap();
    flags::REGISTRY.set_exposure_sampling(Some(
        ExposureSampling::new(1)
            .with_key(key.clone())
            .open_telemetry(),
    ));
    // Two users on either side of the 50% rollout, found by asking the flag.
    let users: Vec<String> = (0..200).map(|i| format!("user-{i}@example.com")).collect();
    let on = users
        .iter()
        .find(|u| flags::CHECKOUT.get_for(&Context::with_key(u.as_str())))
        .expect("a user inside the rollout");
    let off = users
        .iter()
        .find(|u| !flags::CHECKOUT.get_for(&Context::with_key(u.as_str())))
        .expect("a user outside the rollout");

    tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!("request");
        let _entered = span.enter();
        assert!(flags::CHECKOUT.get_for(&Context::with_key(on.as_str())));
        assert!(!flags::CHECKOUT.get_for(&Context::with_key(off.as_str())));
        assert!(!flags::BETA.get());
        assert!(!flags::PAYMENTS.get());
    });
    flags::REGISTRY.set_exposure_sampling(None);
    provider.force_flush().unwrap();

    let spans = exporter.get_finished_spans().unwrap();
    let request = spans
        .iter()
        .find(|s| s.name == "request")
        .expect("the request span is exported");
    let events: Vec<_> = request.events.iter().collect();
    assert_eq!(events.len(), 4, "{events:#?}");
    for e in &events {
        assert_eq!(e.name, "feature_flag.evaluation");
        assert_eq!(text(&e.attributes, "feature_flag.provider.name"), "flags");
        assert!(
            text(&e.attributes, "feature_flag.set.id").ends_with("otel.toml"),
            "{e:?}"
        );
        for kv in &e.attributes {
            let value = kv.value.as_str();
            assert!(
                !value.contains("@example.com"),
                "a raw targeting key in {kv:?}"
            );
        }
    }
    let expect = [
        ("checkout", "on", "split", Some(on.as_str())),
        // Outside the rollout no strategy matched: the flag's default value.
        ("checkout", "off", "default", Some(off.as_str())),
        ("beta", "off", "default", None),
        ("payments", "off", "disabled", None),
    ];
    for (e, (flag, variant, reason, user)) in events.iter().zip(expect) {
        assert_eq!(text(&e.attributes, "feature_flag.key"), flag);
        assert_eq!(text(&e.attributes, "feature_flag.result.variant"), variant);
        assert_eq!(text(&e.attributes, "feature_flag.result.reason"), reason);
        match user {
            Some(user) => assert_eq!(
                text(&e.attributes, "feature_flag.context.id"),
                format!("{:016x}", key.hash(user))
            ),
            None => assert!(attr(&e.attributes, "feature_flag.context.id").is_none()),
        }
    }
}
