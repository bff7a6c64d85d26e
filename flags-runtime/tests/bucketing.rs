//! Sticky rollouts at the engine level: the share of keys admitted matches the
//! percentage, raising the percentage only ever adds keys, variant splits follow
//! their weights, and the registry buckets exactly as Unleash does.

// Needs the `rule-files` feature: its registries are built from manifest text (`Registry::new`).
#![cfg(feature = "rule-files")]

mod common;

use flags_runtime::raw::{IndexAccess as _, SnapshotAccess as _};
use std::fmt::Write as _;

use flags_runtime::manifest::{Rules, Stickiness, Strategy, StrategyKind, Value, WeightedVariant};
use flags_runtime::{Context, FlagDef, RuleSet, bucket};
use proptest::prelude::*;

test_registry!(reg);

fn rollout(percent: u8, group: &str) -> Rules {
    Rules {
        strategies: vec![Strategy {
            kind: StrategyKind::Rollout {
                percent,
                stickiness: Stickiness::Default,
                group_id: group.to_owned(),
            },
            constraints: vec![],
            variants: vec![],
            variant_stickiness: Stickiness::Default,
            pos: Default::default(),
        }],
        ..Rules::default()
    }
}

fn set(defs: Vec<FlagDef>) -> Result<RuleSet, TestCaseError> {
    RuleSet::new(defs).map_err(|e| TestCaseError::fail(e.to_string()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn admitted_share_matches_percent(group in "[a-z0-9_.-]{1,24}", percent in 0u8..=100) {
        let s = set(vec![FlagDef::bool("f", false).rules(rollout(percent, &group))])?;
        let n = 20_000u32;
        let mut key = String::new();
        let mut on = 0u32;
        for i in 0..n {
            key.clear();
            let _ = write!(key, "user-{i}");
            if s.evaluate(0, &Context::with_key(key.as_str())).value == Value::Bool(true) {
                on += 1;
            }
        }
        let share = f64::from(on) / f64::from(n);
        let target = f64::from(percent) / 100.0;
        // 20k keys: the standard error is below 0.36%; allow 1.5 points.
        prop_assert!((share - target).abs() <= 0.015, "{group} at {percent}%: {share}");
        if percent == 0 {
            prop_assert_eq!(on, 0);
        }
        if percent == 100 {
            prop_assert_eq!(on, n);
        }
    }
}

proptest! {
    #[test]
    fn raising_the_percentage_only_adds_keys(
        // A non-empty group: an empty one means "the flag's name", which differs
        // between the two flags below.
        group in ".{1,16}",
        key in ".{1,32}",
        p in 0u8..=100,
        q in 0u8..=100,
    ) {
        let (low, high) = (p.min(q), p.max(q));
        let s = set(vec![
            FlagDef::bool("low", false).rules(rollout(low, &group)),
            FlagDef::bool("high", false).rules(rollout(high, &group)),
        ])?;
        let ctx = Context::with_key(key.as_str());
        let at_low = s.evaluate(0, &ctx).value == Value::Bool(true);
        let at_high = s.evaluate(1, &ctx).value == Value::Bool(true);
        prop_assert!(!at_low || at_high);
        // And exactly Unleash's rule: in when the bucket is at most the percentage.
        let b = bucket::rollout_bucket(&group, &key);
        prop_assert_eq!(at_low, b.get() <= low);
        // The same key gets the same answer every time (sticky).
        prop_assert_eq!(s.evaluate(0, &ctx).value, s.evaluate(0, &ctx).value);
    }

    #[test]
    fn registry_rollout_is_unleash_bucketing(key in "[a-zA-Z0-9@._-]{1,40}") {
        let expected = bucket::rollout_bucket("beta_rollout", &key).get() <= 50;
        prop_assert_eq!(reg::BETA_ROLLOUT.get_for(&Context::with_key(key.as_str())), expected);
        // Without a key, sessionId is the stickiness.
        let by_session = Context::new().attr("sessionId", key.as_str());
        prop_assert_eq!(reg::BETA_ROLLOUT.get_for(&by_session), expected);
        // The same through the ambient context, with a key and without.
        for ctx in [Context::with_key(key.as_str()), by_session] {
            let _ambient = ctx.enter();
            prop_assert_eq!(reg::BETA_ROLLOUT.get(), expected);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn variant_shares_follow_weights(w in proptest::collection::vec(0u32..=1000, 3)) {
        prop_assume!(w.iter().sum::<u32>() > 0);
        let weights: Vec<WeightedVariant> = w
            .iter()
            .enumerate()
            .map(|(i, &weight)| WeightedVariant {
                variant: i as u16,
                name: format!("v{i}"),
                weight,
                payload: None,
            })
            .collect();
        let rules = Rules { variants: weights, ..Rules::default() };
        let s = set(vec![FlagDef::variants("exp", &["v0", "v1", "v2"], "v0").rules(rules)])?;
        let n = 20_000u32;
        let mut counts = [0u32; 3];
        let mut key = String::new();
        for i in 0..n {
            key.clear();
            let _ = write!(key, "k{i}");
            match s.evaluate(0, &Context::with_key(key.as_str())).value {
                Value::Variant(v) => counts[usize::from(v)] += 1,
                Value::Bool(_) => return Err(TestCaseError::fail("a variant flag")),
            }
        }
        let total: u32 = w.iter().sum();
        for i in 0..3 {
            let share = f64::from(counts[i]) / f64::from(n);
            let target = f64::from(w[i]) / f64::from(total);
            prop_assert!((share - target).abs() <= 0.015, "variant {i}: {share} vs {target}");
            if w[i] == 0 {
                prop_assert_eq!(counts[i], 0);
            }
        }
    }
}

test_registry!(moving);

/// Reads with a keyed context take the cell's sticky form (group and percentage, no
/// snapshot) where they can; whatever the form, they must answer as the snapshot and
/// Unleash's bucketing do: through percentage changes from a source, a rollout in
/// another group, an override scope, counting, and contexts without a key.
#[test]
fn sticky_cells_answer_as_the_snapshot_does() {
    use flags_runtime::Layer;
    let keys: Vec<String> = (0..500).map(|i| format!("user-{i}@example.com")).collect();
    let check = |group: &str, percent: u8, what: &str| {
        for key in &keys {
            let ctx = Context::with_key(key.as_str());
            let expected = bucket::rollout_bucket(group, key).is_in_rollout(percent);
            assert_eq!(
                moving::BETA_ROLLOUT.get_for(&ctx),
                expected,
                "{what}: {key}"
            );
            assert_eq!(
                moving::REGISTRY
                    .snapshot()
                    .get_for(moving::BETA_ROLLOUT, &ctx),
                expected,
                "{what} (snapshot): {key}"
            );
        }
    };
    let index = common::BETA_ROLLOUT;
    // Explanations: the registry's (a sticky rollout's shortcut) as the snapshot's
    // general walk, bucket and layer included, and the key's alone as both.
    let explained = |what: &str, uniform: bool| {
        for key in &keys {
            let ctx = Context::with_key(key.as_str()).attr("country", "nz");
            let walked = moving::REGISTRY.snapshot().explain(index, &ctx);
            let walked = walked.map(|d| (d.value, d.reason, d.layer));
            let d = moving::REGISTRY.explain(index, &ctx);
            assert_eq!(Some((d.value, d.reason, d.layer)), walked, "{what}: {key}");
            // A flag with one value for everyone (0%) is not the key's to decide.
            let by_key = moving::REGISTRY.explain_key(index, key);
            let expected = if uniform { None } else { walked };
            assert_eq!(
                by_key.map(|d| (d.value, d.reason, d.layer)),
                expected,
                "{what}: {key}"
            );
        }
    };
    check("beta_rollout", 50, "the manifest's 50%");
    explained("the manifest's 50%", false);
    for percent in [0, 1, 37, 99] {
        moving::REGISTRY
            .set_layer(
                Layer::Remote,
                "test",
                vec![(index, rollout(percent, "beta_rollout"))],
            )
            .unwrap();
        check("beta_rollout", percent, "a source's percentage");
        explained("a source's percentage", percent == 0);
    }
    // Another group than the one the cell form was first built for.
    moving::REGISTRY
        .set_layer(
            Layer::Remote,
            "test",
            vec![(index, rollout(60, "elsewhere"))],
        )
        .unwrap();
    check("elsewhere", 60, "another group");
    explained("another group", false);
    moving::REGISTRY
        .set_layer(
            Layer::Remote,
            "test",
            vec![(index, rollout(20, "beta_rollout"))],
        )
        .unwrap();
    check("beta_rollout", 20, "back to the flag's group");
    // A scope anywhere: the scoped value on this thread, the rollout elsewhere.
    {
        let _scope = moving::REGISTRY
            .scoped_overrides()
            .set(moving::BETA_ROLLOUT, true);
        assert!(
            keys.iter()
                .all(|k| moving::BETA_ROLLOUT.get_for(&Context::with_key(k.as_str())))
        );
        // The key alone does not decide while a scope may override: the caller
        // builds the context, and the explanation is the override's.
        assert!(
            keys.iter()
                .all(|k| moving::REGISTRY.explain_key(index, k).is_none())
        );
        let d = moving::REGISTRY.explain(index, &Context::with_key("user-1@example.com"));
        assert_eq!(
            (d.value, d.reason, d.layer),
            (
                Value::Bool(true),
                flags_runtime::Reason::Override,
                Layer::Override
            )
        );
        std::thread::scope(|s| {
            s.spawn(|| check("beta_rollout", 20, "another thread while a scope is open"));
        });
    }
    // Counting on: the same answers, every read counted (the cell's and the
    // snapshot's), with the right values.
    moving::REGISTRY.set_counting(true);
    moving::REGISTRY.reset_counts();
    check("beta_rollout", 20, "counting");
    let on = keys
        .iter()
        .filter(|k| bucket::rollout_bucket("beta_rollout", k).is_in_rollout(20))
        .count() as u64;
    let counts = moving::REGISTRY.counts();
    assert_eq!(counts.get("beta_rollout", "on"), 2 * on);
    assert_eq!(counts.total("beta_rollout"), 2 * keys.len() as u64);
    moving::REGISTRY.set_counting(false);
    // Without a key, sessionId decides (the rules' own fallback).
    let by_session = Context::new().attr("sessionId", "user-7@example.com");
    assert_eq!(
        moving::BETA_ROLLOUT.get_for(&by_session),
        bucket::rollout_bucket("beta_rollout", "user-7@example.com").is_in_rollout(20)
    );
}
