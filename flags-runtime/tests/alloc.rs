//! Evaluation never allocates: a counting global allocator watches the evaluating
//! thread while flags are read on every path (fast cell, sticky rollout with an
//! explicit or ambient context, weighted variants, constraints of every operator,
//! prerequisites, scoped overrides, counting, explain, snapshots).

// Needs the `rule-files` feature: its registries are built from manifest text (`Registry::new`).
#![cfg(feature = "rule-files")]

mod common;

use flags_runtime::raw::{IndexAccess, SnapshotAccess as _};
use std::hint::black_box;

use flags_runtime::manifest::{Constraint, Operator, Rules, Stickiness, Strategy, StrategyKind};
use flags_runtime::{Context, FlagDef, RuleSet, Value};
use flags_test_support::alloc::{Counting, allocations};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

test_registry!(reg);
test_registry!(counted);

#[test]
fn the_counter_sees_allocations() {
    // The harness itself must be able to fail.
    let n = allocations(10, || {
        black_box(vec![1u8; 16]);
    });
    assert_eq!(n, 20, "10 allocations and 10 frees");
}

#[test]
fn reads_do_not_allocate() {
    let user = Context::with_key("user-12345")
        .attr("country", "fr")
        .attr("plan", "pro");
    let alice = Context::with_key("alice").attr("country", "fr");
    reg::REGISTRY.init();
    // The contextual flags really take the slow path.
    for i in [common::BETA_ROLLOUT, common::PRICING, common::TARGETED] {
        assert_eq!(reg::REGISTRY.fast_value(i), None, "flag #{i}");
    }
    assert!(reg::REGISTRY.fast_value(common::SEARCH_V2).is_some());

    assert_eq!(
        allocations(1000, || {
            black_box(reg::SEARCH_V2.get());
        }),
        0,
        "fast cell"
    );
    assert_eq!(
        allocations(1000, || {
            black_box(reg::LAYOUT.get());
        }),
        0,
        "fast variant"
    );
    assert_eq!(
        allocations(1000, || {
            black_box(reg::BETA_ROLLOUT.get_for(&user));
        }),
        0,
        "sticky rollout, explicit context"
    );
    {
        let _ambient = user.enter();
        assert_eq!(
            allocations(1000, || {
                black_box(reg::BETA_ROLLOUT.get());
            }),
            0,
            "sticky rollout, ambient context"
        );
    }
    assert_eq!(
        allocations(1000, || {
            black_box(reg::PRICING.get_for(&user));
        }),
        0,
        "weighted variants"
    );
    assert_eq!(
        allocations(1000, || {
            black_box(reg::TARGETED.get_for(&alice));
            black_box(reg::TARGETED.get_for(&user));
        }),
        0,
        "constraints"
    );
    assert_eq!(
        allocations(1000, || {
            black_box(reg::CHECKOUT.get_for(&user));
        }),
        0,
        "prerequisites"
    );
    assert_eq!(
        allocations(1000, || {
            black_box(reg::KILLED.get());
        }),
        0,
        "kill switch"
    );
    assert_eq!(
        allocations(100, || {
            black_box(reg::BETA_ROLLOUT.explain(&user));
        }),
        0,
        "explain"
    );
    assert_eq!(
        allocations(100, || {
            let snap = reg::REGISTRY.snapshot();
            black_box(snap.get_for(reg::BETA_ROLLOUT, &user));
            black_box(snap.get(reg::LAYOUT));
        }),
        0,
        "snapshot"
    );
}

#[test]
fn alternating_registries_do_not_allocate() {
    test_registry!(first);
    test_registry!(second);
    let user = Context::with_key("user-31");
    // Each read switches the thread's cached snapshot to the other registry.
    assert_eq!(
        allocations(1000, || {
            black_box(first::BETA_ROLLOUT.get_for(&user));
            black_box(second::BETA_ROLLOUT.get_for(&user));
            black_box(reg::PRICING.get_for(&user));
        }),
        0
    );
}

#[test]
fn slow_paths_do_not_allocate() {
    let user = Context::with_key("user-777");
    // Counting on: every read takes the slow path and bumps a counter.
    counted::REGISTRY.set_counting(true);
    assert_eq!(
        allocations(1000, || {
            black_box(counted::SEARCH_V2.get());
            black_box(counted::BETA_ROLLOUT.get_for(&user));
        }),
        0,
        "counting"
    );
    assert!(counted::REGISTRY.counts().total("search_v2") >= 1000);
    counted::REGISTRY.set_counting(false);

    // A scoped override: reads look up this thread's frames.
    let _scope = counted::REGISTRY
        .scoped_overrides()
        .set(counted::SEARCH_V2, true);
    assert_eq!(
        allocations(1000, || {
            black_box(counted::SEARCH_V2.get());
            black_box(counted::CHECKOUT.get_for(&user));
            black_box(counted::LAYOUT.get());
        }),
        0,
        "scoped override"
    );
    assert!(counted::CHECKOUT.get_for(&user));
}

fn c(attribute: &str, operator: Operator, values: &[&str], case_insensitive: bool) -> Constraint {
    Constraint {
        attribute: attribute.to_owned(),
        operator,
        values: values.iter().map(|v| (*v).to_owned()).collect(),
        inverted: false,
        case_insensitive,
    }
}

#[test]
fn every_operator_without_allocation() {
    let constraints = vec![
        c("country", Operator::In, &["de", "fr"], false),
        c("country", Operator::NotIn, &["us"], false),
        c("email", Operator::StrContains, &["@EXAMPLE"], true),
        c("email", Operator::StrStartsWith, &["ann"], false),
        c("email", Operator::StrEndsWith, &[".COM"], true),
        c("age", Operator::NumGte, &["18"], false),
        c("age", Operator::NumLt, &["99.5"], false),
        c(
            "signup",
            Operator::DateAfter,
            &["2020-01-01T00:00:00Z"],
            false,
        ),
        c(
            "currentTime",
            Operator::DateBefore,
            &["9999-01-01T00:00:00Z"],
            false,
        ),
        c("version", Operator::SemverGte, &["2.0.0-rc.1"], false),
        c("version", Operator::SemverLt, &["3.0.0"], false),
        c(
            "email",
            Operator::Regex,
            &[r"^[a-z]+@example\.(com|org)$"],
            true,
        ),
        c(
            "ip",
            Operator::InCidr,
            &["10.0.0.0/8", "2001:db8::/32"],
            false,
        ),
    ];
    let rules = Rules {
        strategies: vec![Strategy {
            kind: StrategyKind::Rollout {
                percent: 100,
                stickiness: Stickiness::Attribute("tenant".into()),
                group_id: "g".into(),
            },
            constraints,
            variants: vec![],
            variant_stickiness: Stickiness::Default,
            pos: Default::default(),
        }],
        ..Rules::default()
    };
    let set = RuleSet::new(vec![FlagDef::bool("all_ops", false).rules(rules)])
        .unwrap_or_else(|e| panic!("{e}"));
    let ctx = Context::with_key("ann")
        .attr("country", "fr")
        .attr("email", "ann@Example.com")
        .attr("age", 30)
        .attr("signup", "2024-03-01T10:00:00+01:00")
        .attr("version", "2.4.1")
        .attr("ip", "10.20.30.40")
        .attr("tenant", "acme");
    assert_eq!(
        set.evaluate(0, &ctx).value,
        Value::Bool(true),
        "every constraint holds"
    );
    assert_eq!(
        allocations(1000, || {
            black_box(set.evaluate(0, &ctx));
        }),
        0,
        "all operators"
    );
}

#[test]
fn unicode_operands_and_layer_prerequisites_without_allocation() {
    use flags_runtime::manifest::{LayerPrerequisite, ParentRules};
    let parent = Rules {
        strategies: vec![Strategy {
            kind: StrategyKind::Rollout {
                percent: 100,
                stickiness: Stickiness::Default,
                group_id: "child".into(),
            },
            constraints: vec![],
            variants: vec![],
            variant_stickiness: Stickiness::Default,
            pos: Default::default(),
        }],
        ..Rules::default()
    };
    let rules = Rules {
        strategies: vec![Strategy {
            kind: StrategyKind::All,
            constraints: vec![
                c("city", Operator::StrContains, &["İSTANBUL"], true),
                c("city", Operator::Regex, &[r"^\p{Lu}\p{L}+$"], false),
                c("currentTime", Operator::StrStartsWith, &["2"], false),
            ],
            variants: vec![],
            variant_stickiness: Stickiness::Default,
            pos: Default::default(),
        }],
        prerequisites: vec![LayerPrerequisite {
            flag: "parent".into(),
            enabled: true,
            variants: vec![],
            parent: Some(Box::new(ParentRules {
                variants: vec![],
                rules: parent,
                variant_rules: None,
            })),
        }],
        ..Rules::default()
    };
    let set = RuleSet::new(vec![FlagDef::bool("child", false).rules(rules)])
        .unwrap_or_else(|e| panic!("{e}"));
    let ctx = Context::with_key("u").attr("city", "İstanbul");
    assert_eq!(set.evaluate(0, &ctx).value, Value::Bool(true));
    assert_eq!(
        allocations(1000, || {
            black_box(set.evaluate(0, &ctx));
        }),
        0,
        "unicode operands, a defaulted currentTime and a layer prerequisite"
    );
}

#[test]
fn variant_payloads_without_allocation() {
    use flags_runtime::FlagHandle;
    use flags_runtime::manifest::{PayloadKind, VariantPayload, WeightedVariant};
    let weighted = |variant: u16, name: &str, value: &str| WeightedVariant {
        variant,
        name: name.to_owned(),
        weight: 1,
        payload: Some(VariantPayload {
            kind: PayloadKind::Json,
            value: value.to_owned(),
        }),
    };
    let rules = Rules {
        strategies: vec![Strategy {
            kind: StrategyKind::All,
            constraints: vec![c("plan", Operator::In, &["pro"], false)],
            variants: vec![weighted(1, "b", r#"{"pro":true}"#)],
            variant_stickiness: Stickiness::Default,
            pos: Default::default(),
        }],
        variants: vec![
            weighted(0, "a", r#"{"a":1}"#),
            weighted(1, "b", r#"{"b":2}"#),
        ],
        ..Rules::default()
    };
    let set = RuleSet::new(vec![
        FlagDef::variants("layout", &["a", "b"], "a").rules(Rules {
            strategies: vec![],
            ..rules.clone()
        }),
        FlagDef::variants("targeted", &["a", "b"], "a").rules(rules),
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    let pro = Context::with_key("user-42").attr("plan", "pro");
    let e = set.evaluate(1, &pro);
    assert_eq!(set.payload(1, &e).map(|p| p.value), Some(r#"{"pro":true}"#));
    let user = Context::with_key("user-42");
    let e = set.evaluate(0, &user);
    assert!(set.payload(0, &e).is_some(), "{e:?}");
    assert_eq!(
        allocations(1000, || {
            let e = set.evaluate(0, &user);
            black_box(set.payload(0, &e));
            let e = set.evaluate(1, &pro);
            black_box(set.payload(1, &e));
        }),
        0,
        "payload of the chosen variant"
    );
    assert_eq!(
        allocations(100, || {
            let snap = reg::REGISTRY.snapshot();
            let d = snap.explain(reg::PRICING.index(), &user);
            black_box(d.map(|d| snap.payload(reg::PRICING.index(), &d)));
        }),
        0,
        "snapshot payload"
    );
}
