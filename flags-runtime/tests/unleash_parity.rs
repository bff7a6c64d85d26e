//! Same answers as the official Unleash SDK (Yggdrasil) for the same rules and
//! contexts: sticky rollouts, weighted variants and constraint operators.

mod common;

use common::unleash::{self, Feature};
use flags_runtime::manifest::{
    Constraint, Operator, Rules, Stickiness, Strategy, StrategyKind, Value, WeightedVariant,
};
use flags_runtime::{Context, FlagDef, RuleSet};

fn strategy(kind: StrategyKind, constraints: Vec<Constraint>) -> Strategy {
    Strategy {
        kind,
        constraints,
        variants: vec![],
        variant_stickiness: Stickiness::Default,
        pos: Default::default(),
    }
}

fn rollout(percent: u8, group: &str) -> StrategyKind {
    StrategyKind::Rollout {
        percent,
        stickiness: Stickiness::Default,
        group_id: group.to_owned(),
    }
}

fn set(defs: Vec<FlagDef>) -> RuleSet {
    RuleSet::new(defs).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn rollouts_admit_the_same_users() {
    for (percent, group) in [
        (0u8, "g"),
        (10, "beta"),
        (33, "beta"),
        (50, "checkout"),
        (99, "x.y-z"),
        (100, "g"),
    ] {
        let theirs = unleash::client(&unleash::flexible_rollout("beta", percent, group));
        let ours = set(vec![FlagDef::bool("beta", false).rules(Rules {
            strategies: vec![strategy(rollout(percent, group), vec![])],
            ..Rules::default()
        })]);
        let mut on = 0;
        for i in 0..2000 {
            let key = format!("user-{i}@example.com");
            let expected = theirs.is_enabled(Feature("beta"), Some(&unleash::context(&key)), false);
            let got = ours.evaluate(0, &Context::with_key(key.as_str())).value == Value::Bool(true);
            assert_eq!(got, expected, "{key} at {percent}% in group {group}");
            on += usize::from(got);
        }
        if percent == 0 {
            assert_eq!(on, 0);
        }
        if percent == 100 {
            assert_eq!(on, 2000);
        }
    }
}

#[test]
fn weighted_variants_pick_the_same_variant() {
    let json = r#"{"version":2,"features":[{"name":"pricing","enabled":true,
        "strategies":[{"name":"flexibleRollout","parameters":{"rollout":"100","stickiness":"default","groupId":"pricing"}}],
        "variants":[
            {"name":"a","weight":200,"weightType":"variable","stickiness":"default"},
            {"name":"b","weight":300,"weightType":"variable","stickiness":"default"},
            {"name":"c","weight":500,"weightType":"variable","stickiness":"default"}
        ]}]}"#;
    let theirs = unleash::client(json);
    let weights = [("a", 200), ("b", 300), ("c", 500)]
        .iter()
        .enumerate()
        .map(|(i, (name, weight))| WeightedVariant {
            variant: i as u16,
            name: (*name).to_owned(),
            weight: *weight,
            payload: None,
        })
        .collect();
    let ours = set(vec![
        FlagDef::variants("pricing", &["a", "b", "c"], "a").rules(Rules {
            strategies: vec![strategy(rollout(100, "pricing"), vec![])],
            variants: weights,
            ..Rules::default()
        }),
    ]);
    for i in 0..2000 {
        let key = format!("visitor-{i}");
        let expected = theirs
            .get_variant(Feature("pricing"), &unleash::context(&key))
            .name;
        let got = ours.evaluate(0, &Context::with_key(key.as_str())).value;
        assert_eq!(ours.label(0, got), expected, "{key}");
    }
}

fn constraint(attr: &str, op: Operator, values: &[&str], ci: bool, inverted: bool) -> Constraint {
    Constraint {
        attribute: attr.to_owned(),
        operator: op,
        values: values.iter().map(|v| (*v).to_owned()).collect(),
        inverted,
        case_insensitive: ci,
    }
}

#[test]
fn constraint_operators_agree() {
    // (unleash operator, ours, values, case insensitive, inverted)
    let cases: &[(&str, Operator, &[&str], bool, bool)] = &[
        ("IN", Operator::In, &["fr", "de"], false, false),
        ("NOT_IN", Operator::NotIn, &["fr"], false, false),
        ("IN", Operator::In, &["FR"], false, true),
        (
            "STR_ENDS_WITH",
            Operator::StrEndsWith,
            &["@EXAMPLE.COM"],
            true,
            false,
        ),
        (
            "STR_STARTS_WITH",
            Operator::StrStartsWith,
            &["ann"],
            false,
            false,
        ),
        (
            "STR_CONTAINS",
            Operator::StrContains,
            &["nn@ex"],
            false,
            false,
        ),
        ("NUM_GT", Operator::NumGt, &["30"], false, false),
        ("NUM_LTE", Operator::NumLte, &["30"], false, false),
        ("NUM_EQ", Operator::NumEq, &["30"], false, false),
        ("SEMVER_LT", Operator::SemverLt, &["2.4.1"], false, false),
        ("SEMVER_GT", Operator::SemverGt, &["2.4.0"], false, false),
        (
            "SEMVER_EQ",
            Operator::SemverEq,
            &["2.4.1-beta.2"],
            false,
            false,
        ),
        (
            "DATE_AFTER",
            Operator::DateAfter,
            &["2024-01-01T00:00:00.000Z"],
            false,
            false,
        ),
        (
            "DATE_BEFORE",
            Operator::DateBefore,
            &["2024-01-01T00:00:00.000Z"],
            false,
            false,
        ),
    ];
    let attribute = |op: &str| match op {
        "IN" | "NOT_IN" => "country",
        "NUM_GT" | "NUM_LTE" | "NUM_EQ" => "age",
        "SEMVER_LT" | "SEMVER_GT" | "SEMVER_EQ" => "version",
        "DATE_AFTER" | "DATE_BEFORE" => "signup",
        _ => "email",
    };
    let (mut trues, mut falses) = (0, 0);
    let contexts: &[(&str, &str, &str, &str, &str)] = &[
        // (country, email, age, version, signup)
        (
            "fr",
            "ann@example.com",
            "30",
            "2.4.1-beta.2",
            "2024-06-01T00:00:00Z",
        ),
        (
            "de",
            "Ann@Example.COM",
            "31",
            "2.4.1",
            "2023-06-01T00:00:00Z",
        ),
        (
            "us",
            "bob@example.org",
            "29.5",
            "1.0.0",
            "2024-01-01T00:00:00Z",
        ),
        ("FR", "annex@x.io", "x", "2.4", "garbage"),
    ];
    for (name, ours_op, values, ci, inverted) in cases {
        let attr = attribute(name);
        let values_json: Vec<String> = values.iter().map(|v| format!("\"{v}\"")).collect();
        let json = format!(
            r#"{{"version":2,"features":[{{"name":"f","enabled":true,"strategies":[{{"name":"default","parameters":{{}},
                "constraints":[{{"contextName":"{attr}","operator":"{name}","values":[{}],"value":"{}","caseInsensitive":{ci},"inverted":{inverted}}}]}}]}}]}}"#,
            values_json.join(","),
            values[0]
        );
        let theirs = unleash::client(&json);
        let ours = set(vec![FlagDef::bool("f", false).rules(Rules {
            strategies: vec![strategy(
                StrategyKind::All,
                vec![constraint(attr, *ours_op, values, *ci, *inverted)],
            )],
            ..Rules::default()
        })]);
        for (country, email, age, version, signup) in contexts {
            let mut their_ctx = unleash::context("u");
            for (k, v) in [
                ("country", country),
                ("email", email),
                ("age", age),
                ("version", version),
                ("signup", signup),
            ] {
                their_ctx.properties.insert(k.to_owned(), (*v).to_owned());
            }
            let our_ctx = Context::with_key("u")
                .attr("country", *country)
                .attr("email", *email)
                .attr("age", *age)
                .attr("version", *version)
                .attr("signup", *signup);
            let expected = theirs.is_enabled(Feature("f"), Some(&their_ctx), false);
            let got = ours.evaluate(0, &our_ctx).value == Value::Bool(true);
            assert_eq!(
                got,
                expected,
                "{name} {values:?} ci={ci} inv={inverted} on {attr}={:?}",
                our_ctx.get(attr)
            );
            if got {
                trues += 1;
            } else {
                falses += 1;
            }
        }
    }
    // Both outcomes occur, so agreement is not trivial.
    assert!(trues >= 15 && falses >= 15, "{trues} true, {falses} false");
}
