//! Constraint operators on inputs that used to be slow, at growing sizes, so the
//! cost per byte can be read off: a case-insensitive `str_contains` with a long,
//! repetitive needle (the needle is a tenth of the value), and a `regex` with a wide
//! counted repeat. Time should grow linearly with `len`.

use divan::{Bencher, black_box};
use flags_runtime::manifest::{Constraint, Operator, Rules, Stickiness, Strategy, StrategyKind};
use flags_runtime::{Context, FlagDef, RuleSet};

fn main() {
    divan::main();
}

fn set(operator: Operator, value: &str, case_insensitive: bool) -> RuleSet {
    let rules = Rules {
        strategies: vec![Strategy {
            kind: StrategyKind::All,
            constraints: vec![Constraint {
                attribute: "v".to_owned(),
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

const LENS: &[usize] = &[1_000, 10_000, 100_000];

#[divan::bench(args = LENS)]
fn str_contains_ci_repetitive_needle(bencher: Bencher, len: usize) {
    let set = set(
        Operator::StrContains,
        &format!("{}B", "a".repeat(len / 10)),
        true,
    );
    let ctx = Context::new().attr("v", "A".repeat(len));
    bencher.bench_local(|| black_box(set.evaluate(0, black_box(&ctx))));
}

#[divan::bench(args = LENS)]
fn regex_wide_counted_repeat(bencher: Bencher, len: usize) {
    let set = set(Operator::Regex, "[a-z]{0,500}b", false);
    let ctx = Context::new().attr("v", "a".repeat(len));
    bencher.bench_local(|| black_box(set.evaluate(0, black_box(&ctx))));
}
