//! Properties over random input: parsing never panics; a payload that parses always
//! maps to rules the runtime accepts; the on/off and variant mappings agree on
//! "enabled"; through the live source, anything refused leaves the state untouched.

mod common;

use common::Mock;
use flags_runtime::raw::IndexAccess;
use flags_runtime::{Layer, Registry};
use flags_unleash::{ClientFeatures, Toggles, UnleashConfig, UnleashContext, UnleashSource, bind};
use proptest::prelude::*;
use serde_json::{Value, json};

mod fuzz_flags {
    flags_runtime::flags!(pub mod flags = "tests/flags.toml");
}
mod source_flags {
    flags_runtime::flags!(pub mod flags = "tests/flags.toml");
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
        ".{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("features".to_owned()),
                    Just("name".to_owned()),
                    Just("strategies".to_owned()),
                    Just("variants".to_owned()),
                    Just("segments".to_owned()),
                    ".{0,6}"
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const NAMES: [&str; 5] = [
    "new_search",
    "checkout_layout",
    "dark_mode",
    "frozen",
    "extra",
];
const VARIANTS: [&str; 4] = ["classic", "compact", "wide", "odd"];
const FIELDS: [&str; 6] = [
    "userId",
    "sessionId",
    "environment",
    "plan",
    "version",
    "remoteAddress",
];
const OPERATORS: [&str; 21] = [
    "IN",
    "NOT_IN",
    "STR_CONTAINS",
    "STR_STARTS_WITH",
    "STR_ENDS_WITH",
    "NUM_EQ",
    "NUM_GT",
    "NUM_GTE",
    "NUM_LT",
    "NUM_LTE",
    "DATE_AFTER",
    "DATE_BEFORE",
    "SEMVER_EQ",
    "SEMVER_GT",
    "SEMVER_LT",
    "SEMVER_GTE",
    "SEMVER_LTE",
    "REGEX",
    "IN_CIDR",
    "NOPE",
    "in",
];
const VALUES: [&str; 10] = [
    "a",
    "b",
    "1",
    "2.5",
    "1.2.3",
    "2024-01-01T00:00:00Z",
    "10.0.0.0/8",
    "^a.*",
    "(",
    "",
];

fn constraint() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(&FIELDS[..]),
        prop::sample::select(&OPERATORS[..]),
        prop::collection::vec(prop::sample::select(&VALUES[..]), 0..3),
        prop::sample::select(&VALUES[..]),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(field, op, values, value, inverted, ci)| {
            json!({"contextName": field, "operator": op, "values": values, "value": value,
                   "inverted": inverted, "caseInsensitive": ci})
        })
}

fn variant(overrides: bool) -> impl Strategy<Value = Value> {
    (
        prop::sample::select(&VARIANTS[..]),
        0u32..3,
        prop::sample::select(&["default", "userId", "sessionId", "plan"][..]),
        prop::collection::vec(prop::sample::select(&["u1", "u2", "u3"][..]), 0..3),
    )
        .prop_map(move |(name, weight, stickiness, ids)| {
            let mut v = json!({"name": name, "weight": weight * 500, "stickiness": stickiness,
                               "payload": {"type": "string", "value": name}});
            if overrides && !ids.is_empty() {
                v["overrides"] = json!([{"contextName": "userId", "values": ids}]);
            }
            v
        })
}

fn strategy() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(
            &[
                "default",
                "userWithId",
                "flexibleRollout",
                "gradualRolloutUserId",
                "gradualRolloutSessionId",
                "remoteAddress",
                "applicationHostname",
                "custom",
            ][..],
        ),
        0u32..=100,
        prop::sample::select(&["default", "userId", "sessionId", "plan"][..]),
        prop::collection::vec(constraint(), 0..3),
        prop::collection::vec(0u64..4, 0..2),
        prop::collection::vec(variant(false), 0..3),
    )
        .prop_map(|(name, percent, stickiness, constraints, segments, variants)| {
            json!({"name": name, "parameters": {
                      "rollout": percent.to_string(), "percentage": percent, "stickiness": stickiness,
                      "groupId": "g", "userIds": "u1, u2", "IPs": "10.0.0.0/8, 127.0.0.1, bad",
                      "hostNames": "localhost"},
                   "constraints": constraints, "segments": segments, "variants": variants})
        })
}

fn feature() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(&NAMES[..]),
        any::<bool>(),
        prop::collection::vec(strategy(), 0..4),
        prop::collection::vec(variant(true), 0..3),
        prop::collection::vec(
            (
                prop::sample::select(&NAMES[..]),
                prop::option::of(any::<bool>()),
                prop::collection::vec(prop::sample::select(&VARIANTS[..]), 0..2),
            ),
            0..3,
        ),
    )
        .prop_map(|(name, enabled, strategies, variants, deps)| {
            let deps: Vec<Value> = deps
                .into_iter()
                .map(|(f, e, v)| json!({"feature": f, "enabled": e, "variants": v}))
                .collect();
            json!({"name": name, "enabled": enabled, "strategies": strategies,
                   "variants": variants, "dependencies": deps})
        })
}

/// Unleash-shaped payloads (names may repeat: such payloads are refused).
fn payload() -> impl Strategy<Value = Value> {
    (
        prop::collection::vec(feature(), 0..5),
        prop::collection::vec(prop::collection::vec(constraint(), 0..3), 0..4),
    )
        .prop_map(|(features, segments)| {
            let segments: Vec<Value> = segments
                .into_iter()
                .enumerate()
                .map(|(i, c)| json!({"id": i, "constraints": c}))
                .collect();
            json!({"version": 2, "features": features, "segments": segments})
        })
}

fn context() -> impl Strategy<Value = UnleashContext> {
    (
        prop::sample::select(&["u1", "u2", "u7", "x"][..]),
        prop::option::of(prop::sample::select(&["s1", "s2"][..])),
        prop::option::of(prop::sample::select(&["a", "b", "1", "1.2.3"][..])),
        prop::option::of(prop::sample::select(&["10.1.2.3", "127.0.0.1", "::1"][..])),
    )
        .prop_map(|(user, session, plan, ip)| UnleashContext {
            user_id: Some(user.to_owned()),
            session_id: session.map(str::to_owned),
            remote_address: ip.map(str::to_owned),
            environment: Some("prod".to_owned()),
            properties: plan
                .into_iter()
                .map(|p| ("plan".to_owned(), Some(p.to_owned())))
                .collect(),
            ..UnleashContext::default()
        })
}

/// A parsed payload maps onto the test manifest's flags with rules the registry
/// accepts, and evaluates without panicking.
fn check_accepted(payload: &ClientFeatures, registry: &'static Registry) {
    let bound = bind(registry.flags(), payload);
    if let Err(e) = registry.set_layer(Layer::Remote, "fuzz", bound.update.rules.clone()) {
        panic!(
            "mapped rules refused: {e}\n{}",
            String::from_utf8_lossy(&payload.to_json())
        );
    }
    for i in 0..registry.flags().len() {
        let _ = registry.value_for(i, &flags_runtime::Context::with_key("u1"));
    }
    if let Err(e) = Toggles::new(payload) {
        panic!("toggles refused: {e}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = ClientFeatures::parse(&bytes);
        let _ = flags_unleash::DeltaEvent::parse_events(&bytes);
    }

    #[test]
    fn random_json_is_parsed_or_refused(value in any_json()) {
        let bytes = value.to_string().into_bytes();
        if let Ok(payload) = ClientFeatures::parse(&bytes) {
            check_accepted(&payload, &fuzz_flags::flags::REGISTRY);
        }
    }

    #[test]
    fn unleash_shaped_payloads_map_and_agree(value in payload(), contexts in prop::collection::vec(context(), 1..6)) {
        let bytes = value.to_string().into_bytes();
        let Ok(payload) = ClientFeatures::parse(&bytes) else {
            // Only repeated toggle names are refused in this generator.
            let names: Vec<&str> = value["features"].as_array().into_iter().flatten()
                .filter_map(|f| f["name"].as_str()).collect();
            let mut unique = names.clone();
            unique.sort_unstable();
            unique.dedup();
            prop_assert!(unique.len() < names.len(), "refused: {value}");
            return Ok(());
        };
        check_accepted(&payload, &fuzz_flags::flags::REGISTRY);
        let toggles = Toggles::new(&payload).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for ctx in &contexts {
            let ctx = ctx.to_context();
            for f in &payload.features {
                let on = toggles.is_enabled(&f.name, &ctx);
                let v = toggles.variant(&f.name, &ctx);
                prop_assert_eq!(on, v.feature_enabled, "toggle {} for {:?}: {}", f.name, ctx, value);
                prop_assert!(!v.enabled || v.feature_enabled);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Through the live source: whatever the server sends, either it is applied or
    /// the snapshot stays exactly as it was.
    #[test]
    fn the_source_applies_or_keeps_the_last_state(
        bodies in prop::collection::vec(
            prop_oneof![
                prop::collection::vec(any::<u8>(), 0..64),
                any_json().prop_map(|v| v.to_string().into_bytes()),
                payload().prop_map(|v| v.to_string().into_bytes()),
            ],
            1..4,
        )
    ) {
        use source_flags::flags;
        let mock = Mock::start(r#"{"features":[]}"#, "\"0\"");
        let config = UnleashConfig::new(&mock.url, "fuzz")
            .metrics_interval(None)
            .timeout(flags_test_support::wait::patience());
        let mut source = UnleashSource::new(config).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(flags::REGISTRY.apply(&mut source), Ok(true));
        for (i, body) in bodies.iter().enumerate() {
            mock.set_bytes(body, &format!("\"{}\"", i + 1));
            let before = flags::REGISTRY.generation();
            let valid = ClientFeatures::parse(body).is_ok();
            let result = flags::REGISTRY.apply(&mut source);
            if valid {
                prop_assert!(result.is_ok(), "{:?}", result);
            } else {
                // Refused: reported (or, the same problem as just before, reported
                // already), and the snapshot untouched.
                prop_assert!(!matches!(result, Ok(true)), "{:?}", result);
                prop_assert_eq!(flags::REGISTRY.generation(), before);
            }
        }
    }
}
