//! Rules in a few words: what a flag's rules in one layer do, as `report` and `explain`
//! print it (`killed (kill switch)`, `fixed: on`, `rollout 25% by key`).

use flags_manifest::{
    Constraint, Flag, Rules, Stickiness, Strategy, StrategyKind, WeightedVariant,
};

/// Lists longer than this are cut with `…` in a summary.
const MAX_LISTED: usize = 3;

/// What `rules` decide for `flag`, in one line. Empty rules leave the default.
pub fn summarize(flag: &Flag, rules: &Rules) -> String {
    if rules.enabled == Some(false) {
        return "killed (kill switch)".to_owned();
    }
    if let Some(value) = rules.value {
        return format!("fixed: {}", flag.value_label(value));
    }
    if !rules.strategies.is_empty() {
        let mut parts: Vec<String> = rules.strategies.iter().map(|s| strategy(flag, s)).collect();
        if !rules.variants.is_empty() {
            parts.push(format!("variants {}", weights(&rules.variants)));
        }
        return parts.join("; ");
    }
    if !rules.variants.is_empty() {
        return format!("variants {}", weights(&rules.variants));
    }
    if rules.enabled == Some(true) {
        return format!(
            "enabled, no strategies (default: {})",
            flag.value_label(flag.default)
        );
    }
    format!("default ({})", flag.value_label(flag.default))
}

fn strategy(flag: &Flag, s: &Strategy) -> String {
    let mut text = match &s.kind {
        StrategyKind::All => "everyone".to_owned(),
        StrategyKind::Keys(keys) => format!("keys {}", list(keys)),
        StrategyKind::Rollout {
            percent,
            stickiness,
            group_id,
        } => {
            let by = match stickiness {
                Stickiness::Default => "by default stickiness".to_owned(),
                Stickiness::Key => "by key".to_owned(),
                Stickiness::Random => "at random".to_owned(),
                Stickiness::Attribute(a) => format!("by {a}"),
            };
            // The group defaults to the flag's name; only a shared group is news.
            if *group_id == flag.name {
                format!("rollout {percent}% {by}")
            } else {
                format!("rollout {percent}% {by} (group {group_id})")
            }
        }
    };
    if !s.constraints.is_empty() {
        let conds: Vec<String> = s.constraints.iter().map(constraint).collect();
        text.push_str(&format!(" if {}", conds.join(" and ")));
    }
    if !s.variants.is_empty() {
        text.push_str(&format!(" → {}", weights(&s.variants)));
    }
    text
}

fn constraint(c: &Constraint) -> String {
    let op = flags_manifest::Operator::ALL
        .iter()
        .find(|(op, _, _)| *op == c.operator)
        .map_or("?", |(_, name, _)| name);
    let not = if c.inverted { "not " } else { "" };
    let values = if c.operator.takes_list() {
        list(&c.values)
    } else {
        c.values.first().cloned().unwrap_or_default()
    };
    format!("{} {not}{op} {values}", c.attribute)
}

fn list(items: &[String]) -> String {
    let shown: Vec<&str> = items.iter().take(MAX_LISTED).map(String::as_str).collect();
    let more = if items.len() > MAX_LISTED {
        ", …"
    } else {
        ""
    };
    format!("[{}{more}]", shown.join(", "))
}

fn weights(variants: &[WeightedVariant]) -> String {
    let total: u64 = variants.iter().map(|v| u64::from(v.weight)).sum();
    variants
        .iter()
        .map(|v| {
            let pct = if total == 0 {
                0.0
            } else {
                u64::from(v.weight) as f64 * 100.0 / total as f64
            };
            format!("{} {}%", v.name, trim_float(pct))
        })
        .collect::<Vec<_>>()
        .join(" / ")
}

fn trim_float(x: f64) -> String {
    let text = format!("{x:.1}");
    text.strip_suffix(".0").map_or(text.clone(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"
[flags.search]
description = "d"
owner = "o"
kind = "ops"

[flags.layout]
description = "d"
owner = "o"
kind = "ops"
variants = ["classic", "compact", "wide"]
default = "classic"
"#;

    fn summary_of(state: &str) -> Vec<String> {
        let m = flags_manifest::parse_str(MANIFEST, "flags.toml").unwrap();
        let rules = flags_manifest::parse_rules_str(state, "state.toml", &m).unwrap();
        rules
            .iter()
            .map(|(i, r)| summarize(&m.flags[*i], r))
            .collect()
    }

    #[test]
    fn kill_switch_wins_over_everything() {
        assert_eq!(
            summary_of("[flags.search]\nenabled = false\nvalue = true\n"),
            ["killed (kill switch)"]
        );
    }

    #[test]
    fn fixed_values_use_the_flag_spelling() {
        assert_eq!(
            summary_of("[flags.search]\nvalue = true\n[flags.layout]\nvalue = \"wide\"\n"),
            ["fixed: on", "fixed: wide"]
        );
    }

    #[test]
    fn strategies_are_described() {
        let state = r#"
[[flags.search.strategies]]
type = "rollout"
percent = 25
stickiness = "key"
constraints = [{ attribute = "country", operator = "in", values = ["de", "fr", "it", "es"] }]

[[flags.search.strategies]]
type = "keys"
keys = ["alice"]

[flags.layout]
variant_weights = { compact = 1, wide = 3 }
"#;
        assert_eq!(
            summary_of(state),
            [
                "rollout 25% by key if country in [de, fr, it, …]; keys [alice]",
                "variants compact 25% / wide 75%",
            ]
        );
    }

    #[test]
    fn empty_rules_leave_the_default() {
        let m = flags_manifest::parse_str(MANIFEST, "flags.toml").unwrap();
        assert_eq!(
            summarize(&m.flags[1], &Rules::default()),
            "default (classic)"
        );
    }
}
