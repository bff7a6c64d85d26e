//! `explain` gives the value, label, reason and deciding layer for every path of the
//! evaluator.

// Needs the `rule-files` feature: its registries are built from manifest text (`Registry::new`).
#![cfg(feature = "rule-files")]

mod common;

use common::{Layout, Pricing};
use flags_runtime::manifest::{Rules, Stickiness, Strategy, StrategyKind};
use flags_runtime::raw::IndexAccess;
use flags_runtime::{Context, EnvSource, Layer, Reason, Value, bucket};

test_registry!(reg);

#[test]
fn manifest_parses_and_matches_the_statics() {
    let m = match reg::REGISTRY.manifest() {
        Some(m) => m,
        None => panic!("the test manifest parses"),
    };
    let names: Vec<&str> = m.flags.iter().map(|f| f.name.as_str()).collect();
    let meta: Vec<&str> = reg::REGISTRY.flags().iter().map(|f| f.name).collect();
    assert_eq!(names, meta);
    assert_eq!(reg::REGISTRY.error_count(), 0);
}

#[test]
fn default_and_uniform_paths() {
    let anon = Context::new();
    let d = reg::SEARCH_V2.explain(&anon);
    assert!(!d.value);
    assert_eq!(
        (d.label, d.reason, d.layer),
        ("off", Reason::Default, Layer::Manifest)
    );
    assert_eq!(d.flag, "search_v2");

    let d = reg::LAYOUT.explain(&anon);
    assert_eq!(d.value, Layout::Classic);
    assert_eq!((d.label, d.reason), ("classic", Reason::Default));
}

#[test]
fn kill_switch() {
    let d = reg::KILLED.explain(&Context::with_key("anyone"));
    assert!(!d.value);
    assert_eq!((d.reason, d.layer), (Reason::KillSwitch, Layer::Manifest));
    assert!(!reg::KILLED.get());
}

#[test]
fn prerequisite_failed() {
    // `checkout` defaults to on but requires `search_v2`, which is off.
    let d = reg::CHECKOUT.explain(&Context::new());
    assert!(!d.value);
    assert_eq!(
        d.reason,
        Reason::PrerequisiteFailed {
            flag: common::SEARCH_V2 as u32
        }
    );
    assert_eq!(d.prerequisite(), Some("search_v2"));
    assert!(
        d.to_string().contains("prerequisite `search_v2` failed"),
        "{d}"
    );
    assert!(!reg::CHECKOUT.get());
}

#[test]
fn rollout_reason_carries_bucket_and_percent() {
    let mut seen_in = false;
    let mut seen_out = false;
    for i in 0..200 {
        let key = format!("user-{i}");
        let d = reg::BETA_ROLLOUT.explain(&Context::with_key(key.as_str()));
        let expected = bucket::rollout_bucket("beta_rollout", &key);
        if expected.get() <= 50 {
            seen_in = true;
            assert!(d.value);
            assert_eq!(
                d.reason,
                Reason::Rollout {
                    index: 0,
                    bucket: expected,
                    percent: 50
                }
            );
        } else {
            seen_out = true;
            assert!(!d.value);
            assert_eq!(d.reason, Reason::NoStrategyMatched);
        }
        assert_eq!(
            d.value,
            reg::BETA_ROLLOUT.get_for(&Context::with_key(key.as_str()))
        );
    }
    assert!(seen_in && seen_out);
}

#[test]
fn strategy_and_constraint_failure() {
    let alice_fr = Context::with_key("alice").attr("country", "fr");
    let d = reg::TARGETED.explain(&alice_fr);
    assert!(d.value);
    assert_eq!(d.reason, Reason::Strategy { index: 0 });

    let pro = Context::with_key("bob").attr("plan", "pro");
    assert_eq!(
        reg::TARGETED.explain(&pro).reason,
        Reason::Strategy { index: 1 }
    );

    let alice_de = Context::with_key("alice").attr("country", "de");
    let d = reg::TARGETED.explain(&alice_de);
    assert!(!d.value);
    assert_eq!(
        d.reason,
        Reason::ConstraintFailed {
            strategy: 0,
            constraint: 0
        }
    );
}

#[test]
fn weighted_variants_follow_the_bucket_line() {
    for i in 0..100 {
        let key = format!("visitor-{i}");
        let d = reg::PRICING.explain(&Context::with_key(key.as_str()));
        let point = bucket::variant_bucket("pricing", &key, 1000);
        let expected = if point <= 500 { Pricing::A } else { Pricing::B };
        assert_eq!(d.value, expected, "{key} at {point}");
        assert_eq!(d.reason, Reason::Strategy { index: 0 });
        assert_eq!(d.label, if expected == Pricing::A { "a" } else { "b" });
    }
}

#[test]
fn fixed_from_env_and_remote_layers_and_override() {
    // A registry of its own: this test changes process-wide layers.
    test_registry!(own);
    let anon = Context::new();
    own::REGISTRY
        .apply(&mut EnvSource::from_vars([("FLAGS_LAYOUT", "wide")]))
        .map_err(|e| e.to_string())
        .unwrap_or_else(|e| panic!("{e}"));
    let d = own::LAYOUT.explain(&anon);
    assert_eq!(d.value, Layout::Wide);
    assert_eq!((d.reason, d.layer), (Reason::Fixed, Layer::Env));

    let compact = Rules {
        value: Some(Value::Variant(1)),
        ..Rules::default()
    };
    own::REGISTRY
        .set_layer(
            Layer::Remote,
            "test-remote",
            vec![(common::LAYOUT, compact)],
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let d = own::LAYOUT.explain(&anon);
    assert_eq!(
        (d.value, d.reason, d.layer),
        (Layout::Compact, Reason::Fixed, Layer::Remote)
    );

    own::REGISTRY
        .set_override(own::LAYOUT, Layout::Classic)
        .unwrap_or_else(|e| panic!("{e}"));
    let d = own::LAYOUT.explain(&anon);
    assert_eq!(
        (d.value, d.reason, d.layer),
        (Layout::Classic, Reason::Override, Layer::Override)
    );

    {
        let _scope = own::REGISTRY
            .scoped_overrides()
            .set(own::LAYOUT, Layout::Wide);
        let d = own::LAYOUT.explain(&anon);
        assert_eq!(
            (d.value, d.reason, d.layer),
            (Layout::Wide, Reason::Override, Layer::Override)
        );
    }

    own::REGISTRY.clear_overrides();
    assert_eq!(own::LAYOUT.explain(&anon).layer, Layer::Remote);
    own::REGISTRY
        .clear_layer(Layer::Remote)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(own::LAYOUT.explain(&anon).layer, Layer::Env);
    own::REGISTRY
        .clear_layer(Layer::Env)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(own::LAYOUT.explain(&anon).reason, Reason::Default);
}

#[test]
fn overrides_bypass_prerequisites_but_layers_do_not() {
    test_registry!(own);
    let anon = Context::new();
    // A remote `value = true` for checkout still needs search_v2.
    let on = Rules {
        value: Some(Value::Bool(true)),
        ..Rules::default()
    };
    own::REGISTRY
        .set_layer(
            Layer::Remote,
            "remote",
            vec![(common::CHECKOUT, on.clone())],
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        own::CHECKOUT.explain(&anon).reason,
        Reason::PrerequisiteFailed {
            flag: common::SEARCH_V2 as u32
        }
    );
    // Turning the prerequisite on satisfies it.
    own::REGISTRY
        .set_layer(
            Layer::Remote,
            "remote",
            vec![(common::CHECKOUT, on.clone()), (common::SEARCH_V2, on)],
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let d = own::CHECKOUT.explain(&anon);
    assert!(d.value);
    assert_eq!((d.reason, d.layer), (Reason::Fixed, Layer::Remote));
    // An override wins outright.
    own::REGISTRY
        .set_override(own::CHECKOUT, false)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(own::CHECKOUT.explain(&anon).reason, Reason::Override);
    assert!(!own::CHECKOUT.get());
}

#[test]
fn split_and_error_paths_in_a_rule_set() {
    use flags_runtime::{FlagDef, RuleSet};
    let split = Rules {
        variants: vec![
            flags_runtime::manifest::WeightedVariant {
                variant: 0,
                name: "x".into(),
                weight: 1,
                payload: None,
            },
            flags_runtime::manifest::WeightedVariant {
                variant: 1,
                name: "y".into(),
                weight: 1,
                payload: None,
            },
        ],
        ..Rules::default()
    };
    let set = RuleSet::new(vec![
        FlagDef::variants("exp", &["x", "y"], "x").rules(split),
        FlagDef::bool("a", true).requires("b"),
        FlagDef::bool("b", true).requires("a"),
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        set.evaluate(0, &Context::with_key("k")).reason,
        Reason::Split
    );
    assert_eq!(set.evaluate(1, &Context::new()).reason, Reason::Error);
    assert!(!Reason::Error.is_match());
}

#[test]
fn random_stickiness_through_a_rule_set() {
    use flags_runtime::{FlagDef, RuleSet};
    let rules = Rules {
        strategies: vec![Strategy {
            kind: StrategyKind::Rollout {
                percent: 30,
                stickiness: Stickiness::Random,
                group_id: "g".into(),
            },
            constraints: vec![],
            variants: vec![],
            variant_stickiness: Stickiness::Default,
            pos: Default::default(),
        }],
        ..Rules::default()
    };
    let set = RuleSet::new(vec![FlagDef::bool("r", false).rules(rules)])
        .unwrap_or_else(|e| panic!("{e}"));
    let ctx = Context::with_key("same-key");
    let on = (0..20_000)
        .filter(|_| set.evaluate(0, &ctx).value == Value::Bool(true))
        .count();
    assert!((5_000..7_000).contains(&on), "{on} of 20000 at 30%");
}

#[test]
fn ambient_context_is_used_by_get() {
    let alice = Context::with_key("alice").attr("country", "fr");
    assert!(!reg::TARGETED.get());
    {
        let _g = alice.enter();
        assert!(reg::TARGETED.get());
    }
    assert!(flags_runtime::with_context(&alice, || reg::TARGETED.get()));
    assert!(!reg::TARGETED.get());
}

#[test]
fn display_of_detail() {
    let d = reg::KILLED.explain(&Context::new());
    assert_eq!(
        d.to_string(),
        "killed = off (kill switch (enabled = false); layer manifest)"
    );
    let d = reg::REGISTRY.explain(99, &Context::new());
    assert_eq!(d.reason, Reason::Error);
}
