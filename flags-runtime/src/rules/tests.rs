use super::*;
use crate::bucket::{rollout_bucket, variant_bucket};
use flags_manifest::{Constraint, Operator};
use flags_manifest::{Pos, WeightedVariant};

const BOOL: FlagShape<'static> = FlagShape {
    name: "beta",
    variants: 0,
    default: Value::Bool(false),
};
const LAYOUT: FlagShape<'static> = FlagShape {
    name: "layout",
    variants: 3,
    default: Value::Variant(0),
};

fn strategy(kind: StrategyKind, constraints: Vec<Constraint>) -> Strategy {
    Strategy {
        kind,
        constraints,
        variants: Vec::new(),
        variant_stickiness: Stickiness::Default,
        pos: Pos::default(),
    }
}

fn rollout(percent: u8, stickiness: Stickiness, group: &str) -> StrategyKind {
    StrategyKind::Rollout {
        percent,
        stickiness,
        group_id: group.to_owned(),
    }
}

fn rules(strategies: Vec<Strategy>) -> Rules {
    Rules {
        strategies,
        ..Rules::default()
    }
}

fn compile(r: &Rules, flag: FlagShape<'_>) -> CompiledRules {
    match CompiledRules::compile(r, flag) {
        Ok(Some(c)) => c,
        other => panic!("rules compile: {other:?}"),
    }
}

fn constraint(attr: &str, op: Operator, values: &[&str]) -> Constraint {
    Constraint {
        attribute: attr.to_owned(),
        operator: op,
        values: values.iter().map(|v| (*v).to_owned()).collect(),
        inverted: false,
        case_insensitive: false,
    }
}

fn holds(c: Constraint, ctx: &Context) -> bool {
    compile_constraint(&c).holds(ctx)
}

#[test]
fn empty_rules_compile_to_nothing() {
    assert_eq!(CompiledRules::compile(&Rules::default(), BOOL), Ok(None));
}

#[test]
fn kill_switch_beats_everything() {
    let mut r = rules(vec![strategy(StrategyKind::All, vec![])]);
    r.enabled = Some(false);
    r.value = Some(Value::Bool(true));
    let c = compile(&r, BOOL);
    assert_eq!(
        c.evaluate(&Context::with_key("u")),
        (Value::Bool(false), Reason::KillSwitch)
    );
    let c = compile(&r_variant_kill(), LAYOUT);
    assert_eq!(
        c.evaluate(&Context::new()),
        (Value::Variant(0), Reason::KillSwitch)
    );
    assert!(c.is_uniform());
}

fn r_variant_kill() -> Rules {
    Rules {
        enabled: Some(false),
        ..Rules::default()
    }
}

#[test]
fn fixed_and_enabled_without_strategies() {
    let r = Rules {
        value: Some(Value::Variant(2)),
        ..Rules::default()
    };
    assert_eq!(
        compile(&r, LAYOUT).evaluate(&Context::new()),
        (Value::Variant(2), Reason::Fixed)
    );
    let r = Rules {
        enabled: Some(true),
        ..Rules::default()
    };
    assert_eq!(
        compile(&r, BOOL).evaluate(&Context::new()),
        (Value::Bool(true), Reason::Fixed)
    );
}

#[test]
fn wrong_values_are_rejected() {
    let r = Rules {
        value: Some(Value::Variant(3)),
        ..Rules::default()
    };
    assert!(matches!(
        CompiledRules::compile(&r, LAYOUT),
        Err(RuleError::VariantOutOfRange { index: 3, .. })
    ));
    assert!(matches!(
        CompiledRules::compile(&r, BOOL),
        Err(RuleError::WrongValueType { .. })
    ));
    let r = Rules {
        variants: vec![WeightedVariant {
            variant: 0,
            name: "a".into(),
            weight: 1,
            payload: None,
        }],
        ..Rules::default()
    };
    assert!(matches!(
        CompiledRules::compile(&r, BOOL),
        Err(RuleError::VariantsOnBool { .. })
    ));
    let r = rules(vec![strategy(
        rollout(101, Stickiness::Default, "g"),
        vec![],
    )]);
    assert!(matches!(
        CompiledRules::compile(&r, BOOL),
        Err(RuleError::Percent { percent: 101, .. })
    ));
    let err = RuleError::Percent {
        flag: "x".into(),
        percent: 101,
    };
    assert!(err.to_string().contains("from 0 to 100"));
}

#[test]
fn first_matching_strategy_decides() {
    let r = rules(vec![
        strategy(
            StrategyKind::Keys(vec!["alice".into()]),
            vec![constraint("country", Operator::In, &["fr"])],
        ),
        strategy(StrategyKind::Keys(vec!["bob".into()]), vec![]),
    ]);
    let c = compile(&r, BOOL);
    assert!(!c.is_uniform());
    let alice_fr = Context::with_key("alice").attr("country", "fr");
    assert_eq!(
        c.evaluate(&alice_fr),
        (Value::Bool(true), Reason::Strategy { index: 0 })
    );
    assert_eq!(
        c.evaluate(&Context::with_key("bob")),
        (Value::Bool(true), Reason::Strategy { index: 1 })
    );
    assert_eq!(
        c.evaluate(&Context::with_key("alice")),
        (
            Value::Bool(false),
            Reason::ConstraintFailed {
                strategy: 0,
                constraint: 0
            }
        )
    );
    let c = compile(
        &rules(vec![strategy(StrategyKind::Keys(vec!["x".into()]), vec![])]),
        BOOL,
    );
    assert_eq!(
        c.evaluate(&Context::with_key("carol")),
        (Value::Bool(false), Reason::NoStrategyMatched)
    );
    assert_eq!(
        c.evaluate(&Context::new()),
        (Value::Bool(false), Reason::NoStrategyMatched)
    );
}

#[test]
fn sticky_rollout_is_the_rules_for_keyed_contexts() {
    let reduced = [
        rules(vec![strategy(
            rollout(50, Stickiness::Default, "gr1"),
            vec![],
        )]),
        rules(vec![strategy(rollout(30, Stickiness::Key, "g"), vec![])]),
        rules(vec![strategy(
            rollout(70, Stickiness::Attribute("userId".to_owned()), "beta"),
            vec![],
        )]),
    ];
    for r in &reduced {
        let c = compile(r, BOOL);
        let Some(sticky) = c.sticky_rollout() else {
            panic!("a lone key rollout reduces: {r:?}");
        };
        let mut inside = 0;
        for i in 0..2_000 {
            let ctx = Context::with_key(format!("user-{i}")).attr("sessionId", "s");
            let value = sticky.value(&ctx);
            assert_eq!(value, Some(c.value(&ctx)), "key user-{i}");
            // And the explanation is the rules', bucket included.
            assert_eq!(sticky.explain(&ctx), Some(c.evaluate(&ctx)), "key user-{i}");
            inside += usize::from(value == Some(Value::Bool(true)));
        }
        assert!((200..1_800).contains(&inside), "{inside} of 2000 inside");
        let empty = Context::with_key("");
        assert_eq!(sticky.value(&empty), Some(c.value(&empty)));
        assert_eq!(sticky.explain(&empty), Some(c.evaluate(&empty)));
        // Without a key the rules decide (session id, random or nobody).
        assert_eq!(sticky.value(&Context::new().attr("sessionId", "s")), None);
        assert_eq!(sticky.explain(&Context::new().attr("sessionId", "s")), None);
    }
    let kept = [
        rules(vec![strategy(
            rollout(50, Stickiness::Attribute("sessionId".to_owned()), "g"),
            vec![],
        )]),
        rules(vec![strategy(rollout(50, Stickiness::Random, "g"), vec![])]),
        rules(vec![strategy(
            rollout(50, Stickiness::Default, "g"),
            vec![constraint("country", Operator::In, &["fr"])],
        )]),
        rules(vec![
            strategy(rollout(50, Stickiness::Default, "g"), vec![]),
            strategy(rollout(10, Stickiness::Default, "h"), vec![]),
        ]),
        rules(vec![strategy(StrategyKind::All, vec![])]),
    ];
    for r in &kept {
        assert!(compile(r, BOOL).sticky_rollout().is_none(), "{r:?}");
    }
}

#[test]
fn rollout_uses_unleash_buckets_and_group() {
    let c = compile(
        &rules(vec![strategy(
            rollout(73, Stickiness::Default, "gr1"),
            vec![],
        )]),
        BOOL,
    );
    // gr1:123 is bucket 73 in every Unleash SDK.
    let bucket = rollout_bucket("gr1", "123");
    assert_eq!(bucket.get(), 73);
    assert_eq!(
        c.evaluate(&Context::with_key("123")),
        (
            Value::Bool(true),
            Reason::Rollout {
                index: 0,
                bucket,
                percent: 73
            }
        )
    );
    let c = compile(
        &rules(vec![strategy(
            rollout(72, Stickiness::Default, "gr1"),
            vec![],
        )]),
        BOOL,
    );
    assert_eq!(
        c.evaluate(&Context::with_key("123")),
        (Value::Bool(false), Reason::NoStrategyMatched)
    );
    // Default stickiness falls back to sessionId.
    assert_eq!(
        compile(
            &rules(vec![strategy(
                rollout(73, Stickiness::Default, "gr1"),
                vec![]
            )]),
            BOOL
        )
        .evaluate(&Context::new().attr("sessionId", "123"))
        .0,
        Value::Bool(true)
    );
}

#[test]
fn rollout_stickiness_variants() {
    let by_key = compile(
        &rules(vec![strategy(rollout(100, Stickiness::Key, "g"), vec![])]),
        BOOL,
    );
    assert!(!by_key.is_uniform());
    assert_eq!(by_key.evaluate(&Context::new()).0, Value::Bool(false));
    assert_eq!(
        by_key.evaluate(&Context::with_key("k")).0,
        Value::Bool(true)
    );

    let by_attr = compile(
        &rules(vec![strategy(
            rollout(100, Stickiness::Attribute("tenant".into()), "g"),
            vec![],
        )]),
        BOOL,
    );
    assert_eq!(
        by_attr.evaluate(&Context::with_key("k")).0,
        Value::Bool(false)
    );
    assert_eq!(
        by_attr.evaluate(&Context::new().attr("tenant", "t1")).0,
        Value::Bool(true)
    );

    // 100% with default stickiness admits everybody, anonymous included.
    let everyone = compile(
        &rules(vec![strategy(
            rollout(100, Stickiness::Default, "g"),
            vec![],
        )]),
        BOOL,
    );
    assert!(everyone.is_uniform());
    assert_eq!(everyone.evaluate(&Context::new()).0, Value::Bool(true));
    let nobody = compile(
        &rules(vec![strategy(rollout(0, Stickiness::Default, "g"), vec![])]),
        BOOL,
    );
    assert!(nobody.is_uniform());
    assert_eq!(
        nobody.evaluate(&Context::with_key("k")).0,
        Value::Bool(false)
    );

    // Random stickiness: about half of the evaluations of one key are in.
    let random = compile(
        &rules(vec![strategy(rollout(50, Stickiness::Random, "g"), vec![])]),
        BOOL,
    );
    let ctx = Context::with_key("same");
    let on = (0..10_000)
        .filter(|_| random.evaluate(&ctx).0 == Value::Bool(true))
        .count();
    assert!((4_000..6_000).contains(&on), "{on}");
}

fn weighted(weights: &[(u16, u32)]) -> Vec<WeightedVariant> {
    weights
        .iter()
        .map(|&(variant, weight)| WeightedVariant {
            variant,
            name: format!("v{variant}"),
            weight,
            payload: None,
        })
        .collect()
}

#[test]
fn variants_strategy_first_then_flag_level() {
    let mut s = strategy(StrategyKind::Keys(vec!["k".into()]), vec![]);
    s.variants = weighted(&[(2, 1)]);
    let r = Rules {
        strategies: vec![s, strategy(StrategyKind::All, vec![])],
        variants: weighted(&[(1, 1)]),
        ..Rules::default()
    };
    let c = compile(&r, LAYOUT);
    assert_eq!(
        c.evaluate(&Context::with_key("k")),
        (Value::Variant(2), Reason::Strategy { index: 0 })
    );
    assert_eq!(
        c.evaluate(&Context::with_key("other")),
        (Value::Variant(1), Reason::Strategy { index: 1 })
    );
}

#[test]
fn payload_comes_from_the_list_that_decided() {
    use flags_manifest::{PayloadKind, VariantPayload};
    let with = |list: Vec<WeightedVariant>, text: &str| -> Vec<WeightedVariant> {
        list.into_iter()
            .map(|mut w| {
                w.payload = Some(VariantPayload {
                    kind: PayloadKind::String,
                    value: format!("{text}-{}", w.variant),
                });
                w
            })
            .collect()
    };
    let mut keyed = strategy(StrategyKind::Keys(vec!["k".into()]), vec![]);
    keyed.variants = with(weighted(&[(2, 1)]), "strategy");
    let r = Rules {
        strategies: vec![keyed, strategy(StrategyKind::All, vec![])],
        variants: with(weighted(&[(1, 1)]), "flag"),
        ..Rules::default()
    };
    let c = compile(&r, LAYOUT);
    let payload = |key: &str| {
        let (value, reason) = c.evaluate(&Context::with_key(key));
        c.payload(reason, value)
            .map(|p| (p.kind, p.value.to_owned()))
    };
    assert_eq!(
        payload("k"),
        Some((PayloadKind::String, "strategy-2".into()))
    );
    assert_eq!(
        payload("other"),
        Some((PayloadKind::String, "flag-1".into()))
    );
    // The same variant from another list, or no list, has no payload here.
    assert_eq!(
        c.payload(Reason::Strategy { index: 1 }, Value::Variant(2)),
        None
    );
    assert_eq!(c.payload(Reason::Fixed, Value::Variant(1)), None);
    assert_eq!(c.payload(Reason::KillSwitch, Value::Variant(0)), None);
    assert_eq!(
        c.payload(Reason::Strategy { index: 9 }, Value::Variant(1)),
        None
    );

    // Flag-level split only; a list whose weights are all zero chose nothing.
    let split = compile(
        &Rules {
            variants: with(weighted(&[(1, 1), (2, 1)]), "split"),
            ..Rules::default()
        },
        LAYOUT,
    );
    let (value, reason) = split.evaluate(&Context::with_key("a"));
    let Value::Variant(v) = value else {
        panic!("{value:?}")
    };
    assert_eq!(
        split.payload(reason, value).map(|p| p.value),
        Some(format!("split-{v}").as_str())
    );
    let zero = compile(
        &Rules {
            variants: with(weighted(&[(0, 0), (2, 0)]), "zero"),
            ..Rules::default()
        },
        LAYOUT,
    );
    let (value, reason) = zero.evaluate(&Context::with_key("a"));
    assert_eq!(
        (value, zero.payload(reason, value)),
        (Value::Variant(0), None)
    );
}

#[test]
fn variant_split_matches_bucket_line() {
    let r = Rules {
        variants: weighted(&[(0, 300), (1, 0), (2, 700)]),
        ..Rules::default()
    };
    let c = compile(&r, LAYOUT);
    assert!(!c.is_uniform());
    for key in ["a", "b", "c", "user-1", "user-2", "user-3"] {
        let point = variant_bucket("layout", key, 1000);
        let expected = if point <= 300 { 0 } else { 2 };
        assert_eq!(
            c.evaluate(&Context::with_key(key)),
            (Value::Variant(expected), Reason::Split),
            "{key} at {point}"
        );
    }
    // Zero total: no variant, so the default.
    let zero = compile(
        &Rules {
            variants: weighted(&[(1, 0), (2, 0)]),
            ..Rules::default()
        },
        LAYOUT,
    );
    assert_eq!(
        zero.evaluate(&Context::with_key("a")),
        (Value::Variant(0), Reason::Split)
    );
}

#[test]
fn variant_stickiness_fallbacks() {
    let mut r = Rules {
        variants: weighted(&[(1, 1), (2, 1)]),
        ..Rules::default()
    };
    let c = compile(&r, LAYOUT);
    let via_session = Context::new().attr("sessionId", "s-1");
    let point = variant_bucket("layout", "s-1", 2);
    for _ in 0..10 {
        assert_eq!(
            c.evaluate(&via_session).0,
            Value::Variant(if point == 1 { 1 } else { 2 })
        );
    }
    // `remoteAddress` is no seed (as in Yggdrasil): the pick is random.
    let via_address = Context::new().attr("remoteAddress", "10.0.0.1");
    let picks: std::collections::HashSet<Value> =
        (0..200).map(|_| c.evaluate(&via_address).0).collect();
    assert_eq!(picks.len(), 2, "{picks:?}");
    // An empty value is a seed like any other.
    let empty = Context::with_key("");
    let point = variant_bucket("layout", "", 2);
    for _ in 0..10 {
        assert_eq!(
            c.evaluate(&empty).0,
            Value::Variant(if point == 1 { 1 } else { 2 })
        );
    }
    r.variant_stickiness = Stickiness::Attribute("tenant".into());
    let c = compile(&r, LAYOUT);
    let tenant = Context::with_key("ignored").attr("tenant", "acme");
    let point = variant_bucket("layout", "acme", 2);
    for _ in 0..10 {
        assert_eq!(
            c.evaluate(&tenant).0,
            Value::Variant(if point == 1 { 1 } else { 2 })
        );
    }
}

#[test]
fn empty_key_and_empty_group_are_values() {
    // Yggdrasil buckets `userId: ""` and hashes `groupId: ""` as ":key".
    for (group, key) in [("g", ""), ("", "user-1"), ("", "")] {
        let bucket = rollout_bucket(group, key).get();
        for stickiness in [Stickiness::Default, Stickiness::Key] {
            let c = compile(
                &rules(vec![strategy(
                    rollout(bucket, stickiness.clone(), group),
                    vec![],
                )]),
                BOOL,
            );
            assert_eq!(c.evaluate(&Context::with_key(key)).0, Value::Bool(true));
            if bucket > 1 {
                let c = compile(
                    &rules(vec![strategy(
                        rollout(bucket - 1, stickiness, group),
                        vec![],
                    )]),
                    BOOL,
                );
                assert_eq!(c.evaluate(&Context::with_key(key)).0, Value::Bool(false));
            }
        }
    }
}

#[test]
fn string_operators() {
    let ctx = Context::with_key("u").attr("email", "Ann@Example.com");
    assert!(holds(
        constraint("email", Operator::StrEndsWith, &["@example.com", "@x.org"]),
        &Context::new().attr("email", "bob@example.com")
    ));
    assert!(!holds(
        constraint("email", Operator::StrEndsWith, &["@example.com"]),
        &ctx
    ));
    let mut ci = constraint("email", Operator::StrEndsWith, &["@EXAMPLE.COM"]);
    ci.case_insensitive = true;
    assert!(holds(ci, &ctx));
    assert!(holds(
        constraint("email", Operator::StrStartsWith, &["Ann"]),
        &ctx
    ));
    assert!(holds(
        constraint("email", Operator::StrContains, &["@Ex"]),
        &ctx
    ));
    let mut ci = constraint("email", Operator::StrContains, &["ANN@"]);
    ci.case_insensitive = true;
    assert!(holds(ci, &ctx));
    // Missing attribute: false, inverted: true.
    assert!(!holds(
        constraint("nope", Operator::StrContains, &[""]),
        &ctx
    ));
    let mut inv = constraint("nope", Operator::StrContains, &["x"]);
    inv.inverted = true;
    assert!(holds(inv, &ctx));
}

#[test]
fn in_and_not_in() {
    let ctx = Context::with_key("alice").attr("country", "FR");
    assert!(holds(
        constraint("country", Operator::In, &["DE", "FR"]),
        &ctx
    ));
    // `in` is case-sensitive, as in Unleash, even with case_insensitive.
    let mut ci = constraint("country", Operator::In, &["fr"]);
    ci.case_insensitive = true;
    assert!(!holds(ci, &ctx));
    assert!(holds(constraint("key", Operator::In, &["alice"]), &ctx));
    assert!(holds(constraint("userId", Operator::In, &["alice"]), &ctx));
    assert!(!holds(
        constraint("country", Operator::NotIn, &["FR"]),
        &ctx
    ));
    // A missing attribute is in no list.
    assert!(holds(constraint("plan", Operator::NotIn, &["pro"]), &ctx));
    assert!(!holds(constraint("plan", Operator::In, &["pro"]), &ctx));
    let mut inv = constraint("country", Operator::In, &["FR"]);
    inv.inverted = true;
    assert!(!holds(inv, &ctx));
}

#[test]
fn numeric_operators() {
    let ctx = Context::new()
        .attr("age", 30)
        .attr("score", "7.5")
        .attr("bad", "x");
    let t = |attr: &str, op, v: &str| holds(constraint(attr, op, &[v]), &ctx);
    assert!(t("age", Operator::NumEq, "30"));
    assert!(t("age", Operator::NumEq, "30.0"));
    assert!(t("age", Operator::NumGt, "29.9"));
    assert!(!t("age", Operator::NumGt, "30"));
    assert!(t("age", Operator::NumGte, "30"));
    assert!(t("age", Operator::NumLt, "31"));
    assert!(t("age", Operator::NumLte, "30"));
    assert!(!t("age", Operator::NumLte, "29"));
    assert!(t("score", Operator::NumGt, "7"));
    assert!(!t("bad", Operator::NumLt, "100"));
    assert!(!t("missing", Operator::NumLt, "100"));
    // An operand that is not a number never matches.
    assert!(!t("age", Operator::NumEq, "thirty"));
    let mut inv = constraint("age", Operator::NumEq, &["thirty"]);
    inv.inverted = true;
    assert!(holds(inv, &ctx));
}

#[test]
fn date_operators() {
    let ctx = Context::new().attr("signup", "2025-06-01T12:00:00+02:00");
    let t = |attr: &str, op, v: &str| holds(constraint(attr, op, &[v]), &ctx);
    assert!(t("signup", Operator::DateAfter, "2025-06-01T09:59:59Z"));
    assert!(!t("signup", Operator::DateAfter, "2025-06-01T10:00:00Z"));
    assert!(t("signup", Operator::DateBefore, "2025-06-01T10:00:01Z"));
    assert!(!t("signup", Operator::DateBefore, "2025-06-01T10:00:00Z"));
    assert!(!t("signup", Operator::DateBefore, "garbage"));
    assert!(!t("missing", Operator::DateBefore, "2999-01-01T00:00:00Z"));
    // currentTime defaults to now.
    assert!(t(
        "currentTime",
        Operator::DateAfter,
        "2020-01-01T00:00:00Z"
    ));
    assert!(t(
        "currentTime",
        Operator::DateBefore,
        "9999-01-01T00:00:00Z"
    ));
    let past = Context::new().attr("currentTime", "2001-01-01T00:00:00Z");
    assert!(!holds(
        constraint(
            "currentTime",
            Operator::DateAfter,
            &["2020-01-01T00:00:00Z"]
        ),
        &past
    ));
}

#[test]
fn semver_operators() {
    let ctx = Context::new().attr("version", "2.4.1-beta.2");
    let t = |op, v: &str| holds(constraint("version", op, &[v]), &ctx);
    assert!(t(Operator::SemverGt, "2.4.1-beta.1"));
    assert!(t(Operator::SemverLt, "2.4.1"));
    assert!(t(Operator::SemverEq, "2.4.1-beta.2"));
    assert!(!t(Operator::SemverEq, "2.4.1"));
    assert!(!t(Operator::SemverGt, "not.a.version"));
    assert!(t(Operator::SemverGte, "2.4.1-beta.2"));
    assert!(t(Operator::SemverGte, "2.4.0"));
    assert!(!t(Operator::SemverGte, "2.4.1"));
    assert!(t(Operator::SemverLte, "2.4.1-beta.2"));
    assert!(t(Operator::SemverLte, "3.0.0"));
    assert!(!t(Operator::SemverLte, "2.4.1-beta.1"));
    let bad = Context::new().attr("version", "2.4");
    assert!(!holds(
        constraint("version", Operator::SemverLt, &["9.0.0"]),
        &bad
    ));
}

#[test]
fn regex_and_cidr_operators() {
    let ctx = Context::new()
        .attr("email", "Ann@Example.com")
        .attr("ip", "10.1.2.3");
    assert!(holds(
        constraint("email", Operator::Regex, &[r"^[a-z]+@example\.com$"]),
        &Context::new().attr("email", "ann@example.com")
    ));
    assert!(!holds(
        constraint("email", Operator::Regex, &[r"^[a-z]+@example\.com$"]),
        &ctx
    ));
    let mut ci = constraint("email", Operator::Regex, &[r"^[a-z]+@example\.com$"]);
    ci.case_insensitive = true;
    assert!(holds(ci, &ctx));
    // An invalid pattern never matches.
    assert!(!holds(
        constraint("email", Operator::Regex, &["(unclosed"]),
        &ctx
    ));
    assert!(!holds(constraint("missing", Operator::Regex, &["."]), &ctx));
    assert!(holds(
        constraint("ip", Operator::InCidr, &["192.168.0.0/16", "10.0.0.0/8"]),
        &ctx
    ));
    assert!(!holds(
        constraint("ip", Operator::InCidr, &["192.168.0.0/16", "junk"]),
        &ctx
    ));
    assert!(!holds(constraint("ip", Operator::InCidr, &["junk"]), &ctx));
    assert!(!holds(
        constraint("email", Operator::InCidr, &["0.0.0.0/0"]),
        &ctx
    ));
}

#[test]
fn uniformity() {
    let all = compile(&rules(vec![strategy(StrategyKind::All, vec![])]), BOOL);
    assert!(all.is_uniform());
    let constrained = compile(
        &rules(vec![strategy(
            StrategyKind::All,
            vec![constraint("a", Operator::In, &["b"])],
        )]),
        BOOL,
    );
    assert!(!constrained.is_uniform());
    let never_then_all = compile(
        &rules(vec![
            strategy(StrategyKind::Keys(vec![]), vec![]),
            strategy(rollout(0, Stickiness::Key, "g"), vec![]),
            strategy(StrategyKind::All, vec![]),
        ]),
        BOOL,
    );
    assert!(never_then_all.is_uniform());
    assert_eq!(
        never_then_all.evaluate(&Context::new()),
        (Value::Bool(true), Reason::Strategy { index: 2 })
    );
}

#[test]
fn random_below_stays_in_range() {
    for n in [1u32, 2, 7, 100, 1000] {
        for _ in 0..1000 {
            assert!(random_below(n) < n);
        }
    }
}
