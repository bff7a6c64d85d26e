//! The same toggles written as `flags.toml`: each toggle's mapped rules rendered as
//! TOML, parsed back through `flags-manifest` and evaluated by the runtime, so the
//! manifest path and the Unleash path cannot drift apart.
//!
//! What `flags.toml` cannot say, and is therefore left out of this path (counted):
//! - **dependencies**: layer prerequisites carry their parent's rules, which the
//!   manifest has no syntax for (its `requires`/`excludes` hold across layers and
//!   have other semantics);
//! - **toggle names that are not manifest names** (letters, digits, `_`, `-`,
//!   starting with a letter): a flag's name is the group of its flag-level variant
//!   split, so such a toggle cannot be renamed.
//!
//! Everything else is written out: strategies, constraints (an empty `in`/`not_in`
//! list and a `regex` operand that does not compile, which the manifest refuses, are
//! written as [`NEVER`], a `regex` that compiles and never holds, inverted as needed:
//! the runtime reads an operand that does not compile as never holding too; `in_cidr` entries that are not ranges,
//! which the manifest refuses and the runtime skips, are left out), rollouts with their group (empty included),
//! stickiness, strategy and flag-level weighted variants, and variant overrides (as
//! the strategies the mapping makes of them).

use std::fmt::Write;

use flags_runtime::manifest::{Constraint, Operator, Rules, Stickiness, StrategyKind};
use flags_runtime::{Context, RuleSet, Value};
use flags_unleash::{ClientFeatures, Feature, Mapper, Target, ToggleVariants};

/// A pattern that compiles and matches nothing (`^` only matches at the start).
const NEVER: &str = "a^";

/// Stands for "no variant" in the variant flags (not a name the generator uses).
const NONE: &str = "none";

fn quote(s: &str) -> String {
    // A JSON string is a valid TOML basic string (same escapes, `\uXXXX` included).
    serde_json::to_string(s).unwrap_or_default()
}

fn is_manifest_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphabetic()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-')
}

/// Whether a toggle can be written as a manifest flag.
pub fn expressible(f: &Feature) -> bool {
    f.dependencies.is_empty() && is_manifest_name(&f.name)
}

fn stickiness(s: &Stickiness) -> String {
    match s {
        Stickiness::Default => "default".to_owned(),
        Stickiness::Key => "key".to_owned(),
        Stickiness::Random => "random".to_owned(),
        Stickiness::Attribute(a) => a.clone(),
    }
}

fn constraint(out: &mut String, c: &Constraint) {
    let (operator, values, inverted): (&str, Vec<String>, bool) =
        match (c.operator, c.values.is_empty()) {
            (Operator::In, true) => ("regex", vec![NEVER.to_owned()], c.inverted),
            (Operator::NotIn, true) => ("regex", vec![NEVER.to_owned()], !c.inverted),
            (Operator::Regex, _)
                if c.values.len() != 1
                    || flags_runtime::manifest::check_regex(&c.values[0], c.case_insensitive)
                        .is_err() =>
            {
                ("regex", vec![NEVER.to_owned()], c.inverted)
            }
            // The manifest refuses an entry that is not a range; the runtime skips
            // such entries, and never matches when none is left.
            (Operator::InCidr, _) => {
                let ranges: Vec<String> =
                    c.values.iter().filter(|v| is_range(v)).cloned().collect();
                if ranges.is_empty() {
                    ("regex", vec![NEVER.to_owned()], c.inverted)
                } else {
                    ("in_cidr", ranges, c.inverted)
                }
            }
            (op, _) => {
                let name = Operator::ALL
                    .iter()
                    .find(|(o, _, _)| *o == op)
                    .map_or("in", |(_, ours, _)| ours);
                (name, c.values.clone(), c.inverted)
            }
        };
    let values: Vec<String> = values.iter().map(|v| quote(v)).collect();
    let _ = write!(
        out,
        "{{ attribute = {}, operator = {}, values = [{}], inverted = {inverted}, case_insensitive = {} }}",
        quote(&c.attribute),
        quote(operator),
        values.join(", "),
        c.case_insensitive
    );
}

/// An address or a range, as the manifest accepts for `in_cidr`.
fn is_range(text: &str) -> bool {
    let (addr, prefix) = text.split_once('/').unwrap_or((text, ""));
    addr.parse::<std::net::IpAddr>().is_ok_and(|ip| {
        let max = if ip.is_ipv4() { 32 } else { 128 };
        text.split_once('/').is_none()
            || prefix.bytes().all(|b| b.is_ascii_digit())
                && prefix.parse::<u8>().is_ok_and(|p| p <= max)
    })
}

fn weights(list: &[flags_runtime::manifest::WeightedVariant]) -> String {
    let items: Vec<String> = list
        .iter()
        .map(|w| format!("{} = {}", quote(&w.name), w.weight))
        .collect();
    format!("{{ {} }}", items.join(", "))
}

fn flag(out: &mut String, name: &str, variants: Option<&[String]>, rules: &Rules) {
    let _ = writeln!(out, "\n[flags.{}]", quote(name));
    out.push_str("description = \"generated\"\nowner = \"test\"\nkind = \"ops\"\n");
    if let Some(names) = variants {
        let list: Vec<String> = names.iter().map(|n| quote(n)).collect();
        let _ = writeln!(
            out,
            "variants = [{}]\ndefault = {}",
            list.join(", "),
            quote(NONE)
        );
    }
    if let Some(enabled) = rules.enabled {
        let _ = writeln!(out, "enabled = {enabled}");
    }
    if !rules.variants.is_empty() {
        let _ = writeln!(out, "variant_weights = {}", weights(&rules.variants));
        let _ = writeln!(
            out,
            "variant_stickiness = {}",
            quote(&stickiness(&rules.variant_stickiness))
        );
    }
    if rules.strategies.is_empty() {
        return;
    }
    out.push_str("strategies = [\n");
    for s in &rules.strategies {
        out.push_str("  { ");
        match &s.kind {
            StrategyKind::All => out.push_str("type = \"all\""),
            StrategyKind::Keys(keys) => {
                let keys: Vec<String> = keys.iter().map(|k| quote(k)).collect();
                let _ = write!(out, "type = \"keys\", keys = [{}]", keys.join(", "));
            }
            StrategyKind::Rollout {
                percent,
                stickiness: st,
                group_id,
            } => {
                let _ = write!(
                    out,
                    "type = \"rollout\", percent = {percent}, stickiness = {}, group_id = {}",
                    quote(&stickiness(st)),
                    quote(group_id)
                );
            }
        }
        if !s.constraints.is_empty() {
            out.push_str(", constraints = [");
            for (i, c) in s.constraints.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                constraint(out, c);
            }
            out.push(']');
        }
        if !s.variants.is_empty() {
            let _ = write!(
                out,
                ", variants = {}, variant_stickiness = {}",
                weights(&s.variants),
                quote(&stickiness(&s.variant_stickiness))
            );
        }
        out.push_str(" },\n");
    }
    out.push_str("]\n");
}

/// Every variant name a toggle uses, after [`NONE`].
fn names(f: &Feature) -> Vec<String> {
    let mut names = vec![NONE.to_owned()];
    for v in f
        .variants
        .iter()
        .chain(f.strategies.iter().flat_map(|s| &s.variants))
    {
        if !names.contains(&v.name) {
            names.push(v.name.clone());
        }
    }
    if names.len() < 2 {
        // A variant flag has at least two variants; this one is never picked.
        names.push("unused".to_owned());
    }
    names
}

/// (enabled, variant, variant enabled, feature enabled, payload (type, value)).
pub type TomlAnswer = (bool, String, bool, bool, Option<(String, String)>);

/// The expressible toggles of a payload, written as two manifests (on/off flags and
/// variant flags, each named as its toggle), parsed and ready to evaluate.
pub struct FromToml {
    pub bools: RuleSet,
    pub variants: RuleSet,
    names: Vec<(String, Vec<String>, ToggleVariants)>,
    /// The TOML text, for a reproducer.
    pub text: String,
}

impl FromToml {
    pub fn new(payload: &ClientFeatures) -> Result<FromToml, String> {
        let mapper = Mapper::new(payload);
        let header = "[settings.naming]\nstyle = \"any\"\n";
        let (mut bools, mut variants) = (header.to_owned(), header.to_owned());
        let mut all = Vec::new();
        for f in payload.features.iter().filter(|f| expressible(f)) {
            let m = mapper
                .map(f, Target::Bool, &|_| false)
                .map_err(|e| e.to_string())?;
            flag(&mut bools, &f.name, None, &m.rules);
            let list = names(f);
            let refs: Vec<&str> = list.iter().map(String::as_str).collect();
            let m = mapper
                .map(f, Target::Variants(&refs), &|_| false)
                .map_err(|e| e.to_string())?;
            flag(&mut variants, &f.name, Some(&list), &m.rules);
            all.push((f.name.clone(), list, ToggleVariants::new(f, m.sources)));
        }
        let parse = |text: &str| {
            if all.is_empty() {
                // The manifest wants at least one flag.
                return RuleSet::new(Vec::new()).map_err(|e| e.to_string());
            }
            flags_runtime::manifest::parse_str(text, "flags.toml")
                .map_err(|e| format!("{e}\n{text}"))
                .and_then(|m| RuleSet::from_manifest(&m).map_err(|e| format!("{e}\n{text}")))
        };
        Ok(FromToml {
            bools: parse(&bools)?,
            variants: parse(&variants)?,
            names: all,
            text: format!("# on/off flags\n{bools}\n# variant flags\n{variants}"),
        })
    }

    /// The answer for an expressible toggle: (enabled, variant, variant enabled,
    /// feature enabled, payload).
    pub fn answer(&self, toggle: &str, ctx: &Context) -> Option<TomlAnswer> {
        let (_, names, definitions) = self.names.iter().find(|(n, _, _)| n == toggle)?;
        let enabled =
            self.bools.evaluate(self.bools.index_of(toggle)?, ctx).value == Value::Bool(true);
        let e = self.variants.evaluate(self.variants.index_of(toggle)?, ctx);
        let feature_enabled = e.reason.is_match();
        Some(match e.value {
            Value::Variant(v) if v > 0 => {
                let name = names.get(usize::from(v)).cloned().unwrap_or_default();
                let payload = definitions
                    .definition(e.reason, &name)
                    .and_then(|d| d.payload.clone())
                    .map(|p| (p.kind, p.value));
                (enabled, name, true, feature_enabled, payload)
            }
            _ => (enabled, "disabled".to_owned(), false, feature_enabled, None),
        })
    }
}
