//! Inputs that once took far longer than their size suggests run in time linear in
//! their size now. No wall-clock bound is asserted (the machine may be loaded): each
//! case must complete with the right answer, on inputs large enough that a quadratic
//! algorithm would not finish in any test run (10^5 × 10^4 character comparisons
//! per evaluation, evaluated many times).

use flags_runtime::manifest::{Constraint, Operator, Rules, Stickiness, Strategy, StrategyKind};
use flags_runtime::{Context, FlagDef, RuleSet, Value};

fn set(attribute: &str, operator: Operator, value: &str, case_insensitive: bool) -> RuleSet {
    let rules = Rules {
        strategies: vec![Strategy {
            kind: StrategyKind::All,
            constraints: vec![Constraint {
                attribute: attribute.to_owned(),
                operator,
                values: vec![value.to_owned()],
                inverted: false,
                case_insensitive,
            }],
            variants: vec![],
            variant_stickiness: Stickiness::Default,
            pos: Default::default(),
        }],
        ..Rules::default()
    };
    RuleSet::new(vec![FlagDef::bool("f", false).rules(rules)]).unwrap_or_else(|e| panic!("{e}"))
}

fn holds(set: &RuleSet, ctx: &Context) -> bool {
    set.evaluate(0, ctx).value == Value::Bool(true)
}

const RUNS: usize = 20;

#[test]
fn case_insensitive_contains_with_a_long_repetitive_needle() {
    // The needle almost matches at every position of the value: a naive search
    // compares ~10^4 characters at each of 10^5 positions.
    let needle = format!("{}B", "a".repeat(10_000));
    let ascii = "A".repeat(100_000);
    let unicode = format!("Ä{}", "A".repeat(100_000));
    for op in [
        Operator::StrContains,
        Operator::StrStartsWith,
        Operator::StrEndsWith,
    ] {
        let set = set("v", op, &needle, true);
        for value in [&ascii, &unicode] {
            let ctx = Context::new().attr("v", value.as_str());
            for _ in 0..RUNS {
                assert!(!holds(&set, &ctx), "{op:?}");
            }
        }
    }
    let set = set("v", Operator::StrContains, &needle, true);
    let ctx = Context::new().attr(
        "v",
        format!("{}{}b", "A".repeat(100_000), "a".repeat(10_000)),
    );
    assert!(holds(&set, &ctx));
}

#[test]
fn regex_with_wide_counted_repeats_on_a_long_value() {
    let value = "a".repeat(100_000);
    for (pattern, case_insensitive) in [
        ("[a-z]{0,500}b", false),
        ("[a-z]{0,500}b", true),
        ("(a|aa){0,200}c$", false),
        (r"\p{L}{0,300}\d", false),
    ] {
        let set = set("v", Operator::Regex, pattern, case_insensitive);
        let ctx = Context::new().attr("v", value.as_str());
        for _ in 0..RUNS {
            assert!(!holds(&set, &ctx), "{pattern}");
        }
    }
    let set = set("v", Operator::Regex, "[a-z]{0,500}b", false);
    assert!(holds(&set, &Context::new().attr("v", format!("{value}b"))));
}

#[test]
fn a_pattern_over_the_size_limit_is_refused_quickly_and_never_matches() {
    // Compiling this would need far more than the size limit; it is refused while
    // being compiled, and the constraint never matches (as in Yggdrasil).
    for pattern in [
        "(?:[a-z]{0,1000}){0,1000}",
        "((((a{100}){100}){100}){100})",
        &"(".repeat(300),
    ] {
        let set = set("v", Operator::Regex, pattern, false);
        assert!(
            !holds(&set, &Context::new().attr("v", "a".repeat(1000))),
            "{pattern}"
        );
    }
}

#[test]
fn every_operator_on_a_megabyte_value() {
    let value = "9".repeat(1 << 20);
    let cases = [
        (Operator::In, "9"),
        (Operator::NotIn, "9"),
        (Operator::StrContains, "x"),
        (Operator::StrStartsWith, "x"),
        (Operator::StrEndsWith, "x"),
        (Operator::NumEq, "9"),
        (Operator::NumGt, "9"),
        (Operator::NumGte, "9"),
        (Operator::NumLt, "9"),
        (Operator::NumLte, "9"),
        (Operator::DateAfter, "2020-01-01T00:00:00Z"),
        (Operator::DateBefore, "2020-01-01T00:00:00Z"),
        (Operator::SemverEq, "1.0.0"),
        (Operator::SemverGt, "1.0.0"),
        (Operator::SemverGte, "1.0.0"),
        (Operator::SemverLt, "1.0.0"),
        (Operator::SemverLte, "1.0.0"),
        (Operator::Regex, "^9+x$"),
        (Operator::InCidr, "10.0.0.0/8"),
    ];
    assert_eq!(cases.len(), Operator::ALL.len(), "every operator");
    let ctx = Context::new().attr("v", value.as_str());
    for (op, operand) in cases {
        for ci in [false, true] {
            let set = set("v", op, operand, ci);
            // A megabyte of nines is a (huge) number: only the numeric comparisons
            // and `not_in` hold.
            let expected = matches!(op, Operator::NotIn | Operator::NumGt | Operator::NumGte);
            assert_eq!(holds(&set, &ctx), expected, "{op:?} ci={ci}");
        }
    }
}
