//! A rollout with an empty group hashes `":key"`, as Unleash's legacy gradual rollouts
//! do when they have no `groupId`; it is not silently regrouped by the flag's name.

use flags_runtime::bucket::rollout_bucket;
use flags_runtime::manifest::{Rules, Stickiness, Strategy, StrategyKind, Value};
use flags_runtime::{Context, FlagDef, RuleSet};

fn rollout(group: &str, percent: u8) -> Rules {
    Rules {
        strategies: vec![Strategy {
            kind: StrategyKind::Rollout {
                percent,
                stickiness: Stickiness::Key,
                group_id: group.into(),
            },
            constraints: vec![],
            variants: vec![],
            variant_stickiness: Stickiness::Default,
            pos: Default::default(),
        }],
        ..Rules::default()
    }
}

#[test]
fn an_empty_group_buckets_by_colon_key() {
    let set = RuleSet::new(vec![
        FlagDef::bool("legacy", false).rules(rollout("", 30)),
        FlagDef::bool("named", false).rules(rollout("legacy", 30)),
    ])
    .unwrap();
    let (legacy, named) = (
        set.index_of("legacy").unwrap(),
        set.index_of("named").unwrap(),
    );
    let mut differ = 0;
    for i in 0..2_000 {
        let key = format!("user-{i}");
        let ctx = Context::with_key(key.as_str());
        let empty_in = rollout_bucket("", &key).get() <= 30;
        let named_in = rollout_bucket("legacy", &key).get() <= 30;
        assert_eq!(
            set.evaluate(legacy, &ctx).value,
            Value::Bool(empty_in),
            "{key}"
        );
        assert_eq!(
            set.evaluate(named, &ctx).value,
            Value::Bool(named_in),
            "{key}"
        );
        differ += usize::from(empty_in != named_in);
    }
    assert!(
        differ > 100,
        "the two groupings must really differ ({differ})"
    );
}
