//! The rule tables of a flag (strategies, constraints, weights, payloads), read into
//! the rule model with every operand checked by the parsers evaluation uses.

use super::value::{
    as_array, as_scalar_string, as_string, as_table, as_u32, check_keys, read_bool, read_string,
    read_strings, read_u32,
};
use crate::error::{Ctxt, did_you_mean};
use crate::model::FlagType;
use crate::operand;
use crate::rules::{
    Constraint, Operator, PayloadKind, Rules, Stickiness, Strategy, StrategyKind, VariantPayload,
    WeightedVariant,
};
use std::ops::Range;
use toml::Spanned;
use toml::de::DeTable;

/// The largest variant weight. Weights are relative (a variant gets its weight over the
/// sum), so this bound only keeps the sum of many weights far from overflow.
pub(super) const MAX_WEIGHT: u32 = 1_000_000;

pub(super) const PAYLOAD_KEYS: &[&str] = &["type", "value"];

pub(super) const STRATEGY_KEYS: &[&str] = &[
    "type",
    "keys",
    "percent",
    "stickiness",
    "group_id",
    "constraints",
    "variants",
    "variant_stickiness",
];

pub(super) const CONSTRAINT_KEYS: &[&str] = &[
    "attribute",
    "operator",
    "values",
    "value",
    "inverted",
    "case_insensitive",
];

pub(super) fn read_rules(
    cx: &mut Ctxt<'_>,
    t: &DeTable<'_>,
    path: &str,
    flag: &str,
    ty: &FlagType,
) -> Rules {
    let mut rules = Rules::default();
    if let Some(v) = t.get("enabled") {
        rules.enabled = read_bool(cx, v, &format!("{path}.enabled"));
    }
    if let Some(v) = t.get("variant_stickiness")
        && let Some((s, _)) = as_string(cx, v, &format!("{path}.variant_stickiness"))
    {
        rules.variant_stickiness = Stickiness::parse(&s);
    }
    rules.variants = read_weights(cx, t, "variant_weights", path, ty);
    if let Some(v) = t.get("strategies") {
        let key = format!("{path}.strategies");
        if let Some(items) = as_array(cx, v, &key) {
            for (i, item) in items.iter().enumerate() {
                let key = format!("{key}[{i}]");
                if let Some(st) = as_table(cx, item, &key)
                    && let Some(s) = read_strategy(cx, st, item.span(), &key, flag, ty)
                {
                    rules.strategies.push(s);
                }
            }
        }
    }
    let payloads = read_payloads(cx, t, path, ty);
    if !payloads.is_empty() {
        // A variant's payload goes with it wherever it is weighted, as Unleash keeps
        // the payload on each weighted variant.
        let lists = std::iter::once(&mut rules.variants)
            .chain(rules.strategies.iter_mut().map(|s| &mut s.variants));
        for list in lists {
            for w in list.iter_mut() {
                if let Some((_, p)) = payloads.iter().find(|(i, _)| *i == w.variant) {
                    w.payload = Some(p.clone());
                }
            }
        }
    }
    rules
}

/// `payloads = { <variant> = { type = "json", value = "..." } }`: the payload each
/// variant carries, by variant index. A `json` value must parse as JSON and a
/// `number` as a number.
pub(super) fn read_payloads(
    cx: &mut Ctxt<'_>,
    t: &DeTable<'_>,
    path: &str,
    ty: &FlagType,
) -> Vec<(u16, VariantPayload)> {
    let Some((table, names, path)) = variant_table(cx, t, "payloads", path, ty, "variant payloads")
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, entry) in table.iter() {
        let key = format!("{path}.{}", name.get_ref());
        let Some(index) = variant_index(cx, name, &key, names) else {
            continue;
        };
        let Some(e) = as_table(cx, entry, &key) else {
            continue;
        };
        check_keys(cx, e, &key, PAYLOAD_KEYS);
        let kinds = || {
            PayloadKind::ALL
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let kind = match e.get("type") {
            Some(k) => match as_string(cx, k, &format!("{key}.type")) {
                Some((text, span)) => match PayloadKind::parse(&text) {
                    Some(kind) => Some(kind),
                    None => {
                        cx.error_help(
                            span,
                            &format!("{key}.type"),
                            format!("unknown payload type `{text}`"),
                            did_you_mean(&text, PayloadKind::ALL.iter().map(|k| k.as_str()))
                                .map_or_else(
                                    || format!("payload types are: {}", kinds()),
                                    |s| format!("did you mean `{s}`?"),
                                ),
                        );
                        None
                    }
                },
                None => None,
            },
            None => {
                cx.error_help(
                    entry.span(),
                    &key,
                    "a payload needs a `type`",
                    format!("add type = \"...\", one of: {}", kinds()),
                );
                None
            }
        };
        let value = match e.get("value") {
            Some(v) => as_string(cx, v, &format!("{key}.value")),
            None => {
                cx.error_help(
                    entry.span(),
                    &key,
                    "a payload needs a `value`",
                    "add value = \"...\" (the payload as text, whatever its type)",
                );
                None
            }
        };
        if let (Some(kind), Some((value, span))) = (kind, value) {
            match VariantPayload::new(kind, value) {
                Ok(p) => out.push((index as u16, p)),
                Err(why) => cx.error_help(
                    span,
                    &format!("{key}.value"),
                    format!("this `{}` payload is invalid: {why}", kind.as_str()),
                    match kind {
                        PayloadKind::Json => {
                            "write a JSON document in a TOML string, e.g. value = '{\"cols\": 2}'"
                        }
                        _ => "write a number as text, e.g. value = \"2.5\"",
                    },
                ),
            }
        }
    }
    out
}

pub(super) fn read_strategy(
    cx: &mut Ctxt<'_>,
    t: &DeTable<'_>,
    span: Range<usize>,
    path: &str,
    flag: &str,
    ty: &FlagType,
) -> Option<Strategy> {
    check_keys(cx, t, path, STRATEGY_KEYS);
    let kind = match read_string(cx, t, "type", &format!("{path}.type")) {
        None => {
            if !t.contains_key("type") {
                cx.error_help(
                    span.clone(),
                    &format!("{path}.type"),
                    "strategy has no `type`",
                    "add type = \"all\", \"keys\" or \"rollout\"",
                );
            }
            None
        }
        Some((ty_name, ty_span)) => match ty_name.as_str() {
            "all" => Some(StrategyKind::All),
            "keys" => {
                let keys = read_strings(cx, t, "keys", &format!("{path}.keys"));
                if !t.contains_key("keys") {
                    cx.error_help(
                        span.clone(),
                        &format!("{path}.keys"),
                        "a `keys` strategy needs a `keys` list",
                        "add keys = [\"user-1\", \"user-2\"]",
                    );
                }
                Some(StrategyKind::Keys(
                    keys.into_iter().map(|(k, _)| k).collect(),
                ))
            }
            "rollout" => {
                let percent = match read_u32(
                    cx,
                    t,
                    "percent",
                    &format!("{path}.percent"),
                    100,
                    "a percentage",
                ) {
                    Some(p) => u8::try_from(p).ok(),
                    None => {
                        if !t.contains_key("percent") {
                            cx.error_help(
                                span.clone(),
                                &format!("{path}.percent"),
                                "a `rollout` strategy needs a `percent`",
                                "add percent = 10",
                            );
                        }
                        None
                    }
                };
                let stickiness = read_string(cx, t, "stickiness", &format!("{path}.stickiness"))
                    .map_or(Stickiness::Default, |(s, _)| Stickiness::parse(&s));
                let group_id = read_string(cx, t, "group_id", &format!("{path}.group_id"))
                    .map_or_else(|| flag.to_owned(), |(g, _)| g);
                percent.map(|percent| StrategyKind::Rollout {
                    percent,
                    stickiness,
                    group_id,
                })
            }
            other => {
                cx.error_help(
                    ty_span,
                    &format!("{path}.type"),
                    format!("unknown strategy type `{other}`"),
                    did_you_mean(other, ["all", "keys", "rollout"]).map_or_else(
                        || "use \"all\", \"keys\" or \"rollout\"".to_owned(),
                        |s| format!("did you mean \"{s}\"?"),
                    ),
                );
                None
            }
        },
    };
    let mut constraints = Vec::new();
    if let Some(v) = t.get("constraints") {
        let key = format!("{path}.constraints");
        if let Some(items) = as_array(cx, v, &key) {
            for (i, item) in items.iter().enumerate() {
                let key = format!("{key}[{i}]");
                if let Some(ct) = as_table(cx, item, &key)
                    && let Some(c) = read_constraint(cx, ct, item.span(), &key)
                {
                    constraints.push(c);
                }
            }
        }
    }
    let variants = read_weights(cx, t, "variants", path, ty);
    let variant_stickiness = read_string(
        cx,
        t,
        "variant_stickiness",
        &format!("{path}.variant_stickiness"),
    )
    .map_or(Stickiness::Default, |(s, _)| Stickiness::parse(&s));
    Some(Strategy {
        kind: kind?,
        constraints,
        variants,
        variant_stickiness,
        pos: cx.pos(span),
    })
}

pub(super) fn read_constraint(
    cx: &mut Ctxt<'_>,
    t: &DeTable<'_>,
    span: Range<usize>,
    path: &str,
) -> Option<Constraint> {
    check_keys(cx, t, path, CONSTRAINT_KEYS);
    let attribute = read_string(cx, t, "attribute", &format!("{path}.attribute"));
    if attribute.is_none() && !t.contains_key("attribute") {
        cx.error_help(
            span.clone(),
            &format!("{path}.attribute"),
            "constraint has no `attribute`",
            "add attribute = \"country\"",
        );
    }
    let operator = match read_string(cx, t, "operator", &format!("{path}.operator")) {
        Some((op, op_span)) => {
            let parsed = Operator::parse(&op);
            if parsed.is_none() {
                let names = Operator::ALL.iter().map(|(_, s, _)| *s);
                cx.error_help(
                    op_span,
                    &format!("{path}.operator"),
                    format!("unknown operator `{op}`"),
                    did_you_mean(&op, names).map_or_else(
                        || "use one of in, not_in, str_contains, str_starts_with, str_ends_with, num_eq, num_gt, num_gte, num_lt, num_lte, date_after, date_before, semver_eq, semver_gt, semver_gte, semver_lt, semver_lte, regex, in_cidr".to_owned(),
                        |s| format!("did you mean `{s}`?"),
                    ),
                );
            }
            parsed
        }
        None => {
            if !t.contains_key("operator") {
                cx.error_help(
                    span.clone(),
                    &format!("{path}.operator"),
                    "constraint has no `operator`",
                    "add operator = \"in\"",
                );
            }
            None
        }
    };
    let mut values: Vec<(String, Range<usize>)> =
        read_strings(cx, t, "values", &format!("{path}.values"));
    if let Some(v) = t.get("value")
        && let Some(s) = as_scalar_string(cx, v, &format!("{path}.value"))
    {
        values.push(s);
    }
    let operator = operator?;
    let case_insensitive = t
        .get("case_insensitive")
        .and_then(|v| read_bool(cx, v, &format!("{path}.case_insensitive")))
        .unwrap_or(false);
    if operator.takes_list() {
        if values.is_empty() {
            cx.error_help(
                span.clone(),
                &format!("{path}.values"),
                "constraint has no values to compare with",
                "add values = [\"...\"]",
            );
        }
    } else if values.len() != 1 {
        cx.error_help(
            span.clone(),
            &format!("{path}.value"),
            "this operator compares with exactly one value",
            "write value = \"...\" (one value)",
        );
    } else {
        let (v, vspan) = &values[0];
        let ok = match operator {
            Operator::NumEq
            | Operator::NumGt
            | Operator::NumGte
            | Operator::NumLt
            | Operator::NumLte => operand::parse_number(v).is_some(),
            Operator::SemverEq
            | Operator::SemverGt
            | Operator::SemverLt
            | Operator::SemverGte
            | Operator::SemverLte => operand::Version::parse(v).is_some(),
            Operator::DateAfter | Operator::DateBefore => operand::parse_datetime(v).is_some(),
            Operator::Regex => match operand::check_regex(v, case_insensitive) {
                Ok(()) => true,
                Err(problem) => {
                    cx.error_help(
                        vspan.clone(),
                        &format!("{path}.value"),
                        format!("`{v}` is not a valid regular expression: {problem}"),
                        "write a pattern in the `regex` crate's syntax (it has no look-around and no backreferences)",
                    );
                    true
                }
            },
            _ => true,
        };
        if !ok {
            cx.error_help(
                vspan.clone(),
                &format!("{path}.value"),
                format!("`{v}` is not a valid operand for this operator"),
                "numeric operators take a number, semver operators a version like 1.2.3, date operators an RFC 3339 date-time like 2027-01-31T00:00:00Z",
            );
        }
    }
    if operator == Operator::InCidr {
        for (v, vspan) in &values {
            if operand::Cidr::parse(v).is_none() {
                cx.error_help(
                    vspan.clone(),
                    &format!("{path}.values"),
                    format!("`{v}` is not an IP address or CIDR range"),
                    "write an address like 10.0.0.1 or a range like 10.0.0.0/8 or 2001:db8::/32",
                );
            }
        }
    }
    let inverted = t
        .get("inverted")
        .and_then(|v| read_bool(cx, v, &format!("{path}.inverted")))
        .unwrap_or(false);
    Some(Constraint {
        attribute: attribute?.0,
        operator,
        values: values.into_iter().map(|(v, _)| v).collect(),
        inverted,
        case_insensitive,
    })
}

/// The table under `key` of a flag whose entries are keyed by variant name (weights,
/// payloads), with the flag's variants and the table's path; `None` (reported when
/// present) when it is absent, not a table, or the flag has no variants.
pub(super) fn variant_table<'a, 'i>(
    cx: &mut Ctxt<'_>,
    t: &'a DeTable<'i>,
    key: &str,
    path: &str,
    ty: &'a FlagType,
    what: &str,
) -> Option<(&'a DeTable<'i>, &'a [String], String)> {
    let v = t.get(key)?;
    let path = format!("{path}.{key}");
    let FlagType::Variants(names) = ty else {
        cx.error_help(
            v.span(),
            &path,
            format!("only a variant flag can have {what}"),
            "declare variants = [...] on the flag, or remove this key",
        );
        return None;
    };
    let table = as_table(cx, v, &path)?;
    Some((table, names, path))
}

/// The index of variant `name` among `names`, or an error at `name` with a
/// did-you-mean.
pub(super) fn variant_index(
    cx: &mut Ctxt<'_>,
    name: &Spanned<std::borrow::Cow<'_, str>>,
    key: &str,
    names: &[String],
) -> Option<usize> {
    let found = names.iter().position(|n| n == name.get_ref());
    if found.is_none() {
        cx.error_help(
            name.span(),
            key,
            format!("`{}` is not a variant of this flag", name.get_ref()),
            did_you_mean(name.get_ref(), names.iter().map(String::as_str)).map_or_else(
                || format!("variants are: {}", names.join(", ")),
                |s| format!("did you mean `{s}`?"),
            ),
        );
    }
    found
}

pub(super) fn read_weights(
    cx: &mut Ctxt<'_>,
    t: &DeTable<'_>,
    key: &str,
    path: &str,
    ty: &FlagType,
) -> Vec<WeightedVariant> {
    let Some((table, names, path)) = variant_table(cx, t, key, path, ty, "weighted variants")
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut bad = false;
    for (name, w) in table.iter() {
        let key = format!("{path}.{}", name.get_ref());
        let Some(index) = variant_index(cx, name, &key, names) else {
            continue;
        };
        match as_u32(cx, w, &key, MAX_WEIGHT, "a weight in range") {
            Some(weight) => out.push(WeightedVariant {
                variant: index as u16,
                name: name.get_ref().to_string(),
                weight,
                payload: None,
            }),
            None => bad = true,
        }
    }
    // Weights are relative: only their sum being zero leaves nothing to choose from.
    if let Some(v) = t
        .get(key)
        .filter(|_| !bad && !out.is_empty() && out.iter().all(|w| w.weight == 0))
    {
        cx.error_help(
            v.span(),
            &path,
            "every weight is zero",
            "give at least one variant a positive weight",
        );
    }
    out
}
