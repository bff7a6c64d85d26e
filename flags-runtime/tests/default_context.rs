//! Process-wide default attributes (`Context::set_defaults`), in a process of their
//! own so that no other test sees them: they apply to every context that lacks them,
//! in constraints and stickiness alike, and a context's own value wins.

use flags_runtime::manifest::{Constraint, Operator, Rules, Stickiness, Strategy, StrategyKind};
use flags_runtime::{Context, FlagDef, RuleSet, Value};

#[test]
fn defaults_fill_in_missing_attributes() {
    let rules = Rules {
        strategies: vec![Strategy {
            kind: StrategyKind::All,
            constraints: vec![Constraint {
                attribute: "environment".to_owned(),
                operator: Operator::In,
                values: vec!["prod".to_owned()],
                inverted: false,
                case_insensitive: false,
            }],
            variants: vec![],
            variant_stickiness: Stickiness::Default,
            pos: Default::default(),
        }],
        ..Rules::default()
    };
    let set = RuleSet::new(vec![FlagDef::bool("f", false).rules(rules)])
        .unwrap_or_else(|e| panic!("{e}"));
    let on = |ctx: &Context| set.evaluate(0, ctx).value == Value::Bool(true);
    let user = Context::with_key("u");
    assert!(!on(&user));
    assert!(!on(&Context::anonymous()));

    Context::set_defaults(&Context::with_key("ignored").attr("environment", "prod"));
    assert!(on(&user));
    assert!(on(&Context::anonymous()));
    assert_eq!(user.targeting_key(), Some("u"));
    assert_eq!(
        Context::anonymous().targeting_key(),
        None,
        "a default key is not taken"
    );
    assert!(
        !on(&Context::with_key("u").attr("environment", "dev")),
        "own value wins"
    );

    Context::set_defaults(&Context::new().attr("environment", "dev"));
    assert!(!on(&user), "replaced");
    Context::set_defaults(&Context::new());
    assert!(!on(&user), "cleared");
}
