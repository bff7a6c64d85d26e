//! A flag's manifest rules in a few words, for `/flags.json` and the dashboard
//! (`kill switch`, `fixed: on`, `rollout 25% by key; keys 3`).

use flags_runtime::manifest::{Flag, Rules, Stickiness, StrategyKind, WeightedVariant};

/// What `rules` decide for `flag`, in one line; `None` when they say nothing.
pub(crate) fn summarize(flag: &Flag, rules: &Rules) -> Option<String> {
    if rules.is_empty() {
        return None;
    }
    if rules.enabled == Some(false) {
        return Some("kill switch (enabled = false)".to_owned());
    }
    if let Some(value) = rules.value {
        return Some(format!("fixed: {}", flag.value_label(value)));
    }
    let mut parts: Vec<String> = Vec::new();
    for p in &rules.prerequisites {
        parts.push(format!(
            "requires {} {}",
            p.flag,
            if p.enabled { "on" } else { "off" }
        ));
    }
    for s in &rules.strategies {
        let mut text = match &s.kind {
            StrategyKind::All => "everyone".to_owned(),
            StrategyKind::Keys(keys) => format!("keys ({})", keys.len()),
            StrategyKind::Rollout {
                percent,
                stickiness,
                ..
            } => format!("rollout {percent}% {}", by(stickiness)),
        };
        if !s.constraints.is_empty() {
            text.push_str(&format!(" if {} constraint(s)", s.constraints.len()));
        }
        if !s.variants.is_empty() {
            text.push_str(&format!(" → {}", weights(&s.variants)));
        }
        parts.push(text);
    }
    if !rules.variants.is_empty() {
        parts.push(format!("variants {}", weights(&rules.variants)));
    }
    if parts.is_empty() {
        parts.push("enabled".to_owned());
    }
    Some(parts.join("; "))
}

fn by(stickiness: &Stickiness) -> String {
    match stickiness {
        Stickiness::Default => "by default stickiness".to_owned(),
        Stickiness::Key => "by key".to_owned(),
        Stickiness::Random => "at random".to_owned(),
        Stickiness::Attribute(a) => format!("by {a}"),
    }
}

fn weights(variants: &[WeightedVariant]) -> String {
    variants
        .iter()
        .map(|v| format!("{} {}", v.name, v.weight))
        .collect::<Vec<_>>()
        .join(" / ")
}
