//! Unleash's toggles onto the flags rule model ([`Rules`]): one toggle, one flag.
//!
//! Most of Unleash maps one to one (strategies, constraints, rollouts with the same
//! bucketing, weighted variants with stickiness). The rest is rewritten into the same
//! model so that evaluation stays the runtime's snapshot path:
//!
//! - **segments** are expanded into the constraints of the strategies that use them;
//!   a strategy naming a segment the payload lacks never matches;
//! - **unknown operators and strategies** make their strategy never match;
//! - **`remoteAddress`** becomes an `IN_CIDR` constraint on the `remoteAddress`
//!   attribute (entries that are not addresses are compared as text);
//!   **`applicationHostname`** is decided once, against this machine's host name;
//! - **variant overrides** become, before each strategy that uses the toggle's
//!   variants, one copy of the strategy per override with an `IN` constraint and that
//!   single variant;
//! - **dependencies** become constraints: a parent's "enabled" is the disjunction of
//!   its strategies' conditions, which is exact when those strategies are constraint
//!   sets (`default`, `userWithId`, 100% rollouts), and the child's strategies are
//!   crossed with it. A parent whose decision hangs on a rollout bucket cannot be
//!   written as constraints: if the manifest declares the same prerequisite the
//!   runtime enforces it; otherwise the child is turned off and a warning says why.

use std::collections::HashMap;
use std::net::IpAddr;

use flags_runtime::manifest::{
    Constraint, Operator, Pos, Rules, Stickiness, Strategy, StrategyKind, WeightedVariant,
};

use crate::payload::{self, ClientFeatures, Dependency, Feature, Segment, Variant};

/// Upper bound on the strategies one toggle may expand into (overrides and
/// dependencies multiply them); beyond it the toggle is refused with a warning.
pub const MAX_STRATEGIES: usize = 256;

/// What a toggle is mapped onto: an on/off flag, or a flag with these variants (by
/// index; Unleash variants are matched by name).
#[derive(Clone, Copy, Debug)]
pub enum Target<'a> {
    /// An on/off flag: Unleash's `isEnabled`; variants are ignored.
    Bool,
    /// A variant flag with these variant names: Unleash's `getVariant`, with the
    /// manifest default standing for Unleash's `disabled`.
    Variants(&'a [&'a str]),
}

/// Where the variants of one mapped strategy come from, to find a variant's payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VariantSource {
    /// The toggle's strategy at this position (its own variants).
    Strategy(usize),
    /// The toggle's feature-level variants.
    Feature,
    /// The feature variant at this position, chosen by an override.
    Override(usize),
}

/// A toggle mapped onto the rule model.
#[derive(Clone, Debug, PartialEq)]
pub struct Mapped {
    /// The flag's rules.
    pub rules: Rules,
    /// For each strategy of `rules`, where its variants come from.
    pub sources: Vec<VariantSource>,
    /// Things worth a warning (an unsupported strategy, a dependency the model cannot
    /// express), each a sentence naming the toggle.
    pub notes: Vec<String>,
}

/// A toggle that cannot be mapped onto its flag; the flag keeps its lower layers.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    /// A variant the flag does not declare.
    #[error(
        "toggle `{toggle}`: variant `{variant}` is not one of the flag's variants ({known}) (help: declare it in the manifest, or rename it in Unleash)"
    )]
    UnknownVariant {
        /// The toggle.
        toggle: String,
        /// The variant.
        variant: String,
        /// The flag's variants, comma-separated.
        known: String,
    },
    /// Overrides and dependencies would expand into too many strategies.
    #[error(
        "toggle `{toggle}`: expands into more than {MAX_STRATEGIES} strategies (overrides × dependencies) (help: simplify its dependencies)"
    )]
    TooLarge {
        /// The toggle.
        toggle: String,
    },
}

/// A mapped toggle's variant definitions, to find the payload of the variant an
/// evaluation chose: the deciding strategy (from the evaluation's [`Reason`]) says
/// which list the variant came from.
///
/// [`Reason`]: flags_runtime::Reason
#[derive(Clone, Debug, PartialEq)]
pub struct ToggleVariants {
    feature: Feature,
    sources: Vec<VariantSource>,
}

impl ToggleVariants {
    /// The variants of `feature` as mapped into strategies with `sources`.
    #[must_use]
    pub fn new(feature: &Feature, sources: Vec<VariantSource>) -> ToggleVariants {
        ToggleVariants {
            feature: feature.clone(),
            sources,
        }
    }

    /// The definition of variant `name` chosen for `reason`: from the deciding
    /// strategy's own variants, an override, or the toggle's variants.
    #[must_use]
    pub fn definition(&self, reason: flags_runtime::Reason, name: &str) -> Option<&Variant> {
        use flags_runtime::Reason;
        let list: &[Variant] = match reason {
            Reason::Strategy { index } | Reason::Rollout { index, .. } => {
                match self.sources.get(usize::from(index))? {
                    VariantSource::Strategy(i) => &self.feature.strategies.get(*i)?.variants,
                    VariantSource::Feature => &self.feature.variants,
                    VariantSource::Override(i) => {
                        std::slice::from_ref(self.feature.variants.get(*i)?)
                    }
                }
            }
            Reason::Split | Reason::Fixed => &self.feature.variants,
            _ => return None,
        };
        list.iter().find(|v| v.name == name)
    }
}

/// Maps the toggles of one payload.
///
/// # Examples
///
/// ```
/// use flags_unleash::{ClientFeatures, Mapper, Target};
/// use flags_runtime::manifest::StrategyKind;
///
/// let payload = ClientFeatures::parse(br#"{"features":[{"name":"beta","enabled":true,
///   "strategies":[{"name":"flexibleRollout","parameters":{"rollout":"25","stickiness":"default"}}]}]}"#)?;
/// let mapper = Mapper::new(&payload);
/// let mapped = mapper.map(&payload.features[0], Target::Bool, &|_| false)?;
/// assert!(matches!(mapped.rules.strategies[0].kind, StrategyKind::Rollout { percent: 25, .. }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Mapper<'p> {
    by_name: HashMap<&'p str, &'p Feature>,
    segments: HashMap<u64, &'p Segment>,
    hostname: Option<String>,
}

/// One alternative of a toggle: a strategy of the model, with where its variants come
/// from. An Unleash strategy becomes zero (never matches), one or more alternatives.
#[derive(Clone, Debug)]
struct Alt<'p> {
    kind: StrategyKind,
    constraints: Vec<Constraint>,
    variants: AltVariants<'p>,
}

#[derive(Clone, Debug)]
enum AltVariants<'p> {
    /// The toggle's feature variants (and their overrides).
    Inherit,
    /// The strategy's own variants.
    Own {
        strategy: usize,
        list: &'p [Variant],
        stickiness: Stickiness,
        group: String,
    },
    /// One feature variant, chosen by an override.
    Forced { index: usize, variant: &'p Variant },
}

/// Disjunctive normal form: OR of ANDs of constraints. `[]` is false, `[[]]` true.
type Dnf = Vec<Vec<Constraint>>;

/// Most terms a dependency condition may have before it is given up on.
const MAX_TERMS: usize = 64;

impl<'p> Mapper<'p> {
    /// A mapper over `payload`'s toggles and segments.
    #[must_use]
    pub fn new(payload: &'p ClientFeatures) -> Mapper<'p> {
        Mapper {
            by_name: payload
                .features
                .iter()
                .map(|f| (f.name.as_str(), f))
                .collect(),
            segments: payload.segment_index(),
            hostname: hostname(),
        }
    }

    /// Maps `feature` onto a flag of shape `target`. `declared(dependency)` says
    /// whether the manifest already declares the same prerequisite on the flag (used
    /// only for dependencies that constraints cannot express).
    pub fn map(
        &self,
        feature: &'p Feature,
        target: Target<'_>,
        declared: &dyn Fn(&Dependency) -> bool,
    ) -> Result<Mapped, MapError> {
        let mut notes = Vec::new();
        if !feature.enabled {
            return Ok(Mapped {
                rules: Rules {
                    enabled: Some(false),
                    ..Rules::default()
                },
                sources: Vec::new(),
                notes,
            });
        }
        let with_variants = matches!(target, Target::Variants(_));
        let mut alts = self.alternatives(feature, &mut notes);
        let plain = feature.strategies.is_empty();
        if with_variants {
            alts = with_overrides(alts, feature);
        }
        let expanded = alts.len() > 1;
        let mut crossed = false;
        let mut condition: Dnf = vec![Vec::new()];
        for dep in &feature.dependencies {
            match self.dependency(dep) {
                Ok(d) => {
                    condition = and(&condition, &d).ok_or_else(|| MapError::TooLarge {
                        toggle: feature.name.clone(),
                    })?;
                    crossed = true;
                }
                Err(why) if declared(dep) => notes.push(format!(
                    "toggle `{}`: its dependency on `{}` is enforced by the manifest's prerequisite, not by Unleash's rules ({why})",
                    feature.name, dep.feature
                )),
                Err(why) => {
                    notes.push(format!(
                        "toggle `{}`: its dependency on `{}` cannot be expressed ({why}); the flag is off until the dependency is simplified or declared in the manifest (`requires`/`excludes`)",
                        feature.name, dep.feature
                    ));
                    condition = Vec::new();
                    crossed = true;
                }
            }
        }
        if condition.is_empty() {
            // A dependency that can never hold: off, as Unleash evaluates it.
            return Ok(Mapped {
                rules: Rules {
                    enabled: Some(false),
                    ..Rules::default()
                },
                sources: Vec::new(),
                notes,
            });
        }
        if crossed && condition != [Vec::<Constraint>::new()] {
            if alts.len().saturating_mul(condition.len()) > MAX_STRATEGIES {
                return Err(MapError::TooLarge {
                    toggle: feature.name.clone(),
                });
            }
            alts = alts
                .iter()
                .flat_map(|a| {
                    condition.iter().map(move |term| {
                        let mut a = a.clone();
                        a.constraints.extend(term.iter().cloned());
                        a
                    })
                })
                .collect();
        } else {
            crossed = false;
        }
        if alts.len() > MAX_STRATEGIES {
            return Err(MapError::TooLarge {
                toggle: feature.name.clone(),
            });
        }
        let (variants, variant_stickiness) = match target {
            Target::Bool => (Vec::new(), Stickiness::Default),
            Target::Variants(names) => (
                weighted(&feature.variants, names, &feature.name)?,
                feature
                    .variants
                    .first()
                    .and_then(|v| v.stickiness.as_deref())
                    .map_or(Stickiness::Default, stickiness),
            ),
        };
        if plain && !expanded && !crossed {
            // On for everyone, with the feature's variants: no strategy needed.
            return Ok(Mapped {
                rules: Rules {
                    enabled: Some(true),
                    variants,
                    variant_stickiness,
                    ..Rules::default()
                },
                sources: Vec::new(),
                notes,
            });
        }
        let mut strategies = Vec::with_capacity(alts.len().max(1));
        let mut sources = Vec::with_capacity(alts.len().max(1));
        for alt in alts {
            let (strategy, source) = to_strategy(alt, target, feature)?;
            strategies.push(strategy);
            sources.push(source);
        }
        if strategies.is_empty() {
            // Every strategy was one that never matches: keep one such, so the flag
            // is off rather than "no strategies = on for everyone".
            strategies.push(never());
            sources.push(VariantSource::Feature);
        }
        Ok(Mapped {
            rules: Rules {
                enabled: Some(true),
                value: None,
                strategies,
                variants,
                variant_stickiness,
            },
            sources,
            notes,
        })
    }

    /// The alternatives of a toggle's strategies, in order (one `All` when it has
    /// none), without overrides.
    fn alternatives(&self, feature: &'p Feature, notes: &mut Vec<String>) -> Vec<Alt<'p>> {
        if feature.strategies.is_empty() {
            return vec![Alt {
                kind: StrategyKind::All,
                constraints: Vec::new(),
                variants: AltVariants::Inherit,
            }];
        }
        let mut alts = Vec::new();
        for (i, s) in feature.strategies.iter().enumerate() {
            alts.extend(self.strategy(feature, i, s, notes));
        }
        alts
    }

    /// One Unleash strategy as alternatives; empty when it can never match.
    fn strategy(
        &self,
        feature: &'p Feature,
        index: usize,
        s: &'p payload::Strategy,
        notes: &mut Vec<String>,
    ) -> Vec<Alt<'p>> {
        let mut constraints = Vec::with_capacity(s.constraints.len());
        for c in &s.constraints {
            match constraint(c) {
                Some(c) => constraints.push(c),
                None => {
                    notes.push(format!(
                        "toggle `{}`: strategy #{index} has a constraint with unknown operator `{}`, so it never matches",
                        feature.name, c.operator
                    ));
                    return Vec::new();
                }
            }
        }
        for id in &s.segments {
            let Some(segment) = self.segments.get(id) else {
                notes.push(format!(
                    "toggle `{}`: strategy #{index} uses segment {id}, which the payload lacks, so it never matches",
                    feature.name
                ));
                return Vec::new();
            };
            for c in &segment.constraints {
                match constraint(c) {
                    Some(c) => constraints.push(c),
                    None => return Vec::new(),
                }
            }
        }
        let param = |name: &str| s.parameters.get(name).map(String::as_str);
        let group = param("groupId").filter(|g| !g.is_empty());
        let variants = if s.variants.iter().any(|v| v.weight > 0) {
            AltVariants::Own {
                strategy: index,
                list: &s.variants,
                stickiness: s
                    .variants
                    .first()
                    .and_then(|v| v.stickiness.as_deref())
                    .or(param("stickiness"))
                    .map_or(Stickiness::Default, stickiness),
                group: group.unwrap_or(&feature.name).to_owned(),
            }
        } else {
            AltVariants::Inherit
        };
        let alt = |kind: StrategyKind, extra: Option<Constraint>| Alt {
            kind,
            constraints: constraints.iter().cloned().chain(extra).collect(),
            variants: variants.clone(),
        };
        let rollout = |percent: u8, stickiness: Stickiness, group_id: &str| {
            if percent == 0 {
                Vec::new()
            } else {
                vec![alt(
                    StrategyKind::Rollout {
                        percent,
                        stickiness,
                        group_id: group_id.to_owned(),
                    },
                    None,
                )]
            }
        };
        match s.name.as_str() {
            "default" => vec![alt(StrategyKind::All, None)],
            "userWithId" => {
                let ids = split_list(param("userIds").unwrap_or_default());
                if ids.is_empty() {
                    Vec::new()
                } else {
                    vec![alt(StrategyKind::Keys(ids), None)]
                }
            }
            "flexibleRollout" => rollout(
                percent(param("rollout")),
                param("stickiness").map_or(Stickiness::Default, stickiness),
                group.unwrap_or(&feature.name),
            ),
            "gradualRolloutUserId" => rollout(
                percent(param("percentage")),
                Stickiness::Key,
                group.unwrap_or_default(),
            ),
            "gradualRolloutSessionId" => rollout(
                percent(param("percentage")),
                Stickiness::Attribute("sessionId".to_owned()),
                group.unwrap_or_default(),
            ),
            "gradualRolloutRandom" => rollout(
                percent(param("percentage")),
                Stickiness::Random,
                &feature.name,
            ),
            "remoteAddress" => {
                let (ips, other): (Vec<String>, Vec<String>) =
                    split_list(param("IPs").unwrap_or_default())
                        .into_iter()
                        .partition(|e| is_address_or_range(e));
                let mut alts = Vec::new();
                for (operator, values) in [(Operator::InCidr, ips), (Operator::In, other)] {
                    if !values.is_empty() {
                        alts.push(alt(
                            StrategyKind::All,
                            Some(Constraint {
                                attribute: "remoteAddress".to_owned(),
                                operator,
                                values,
                                inverted: false,
                                case_insensitive: false,
                            }),
                        ));
                    }
                }
                alts
            }
            "applicationHostname" => {
                let names = split_list(param("hostNames").unwrap_or_default());
                let here = self.hostname.as_deref().unwrap_or_default();
                if !here.is_empty() && names.iter().any(|n| n.to_lowercase() == here) {
                    vec![alt(StrategyKind::All, None)]
                } else {
                    Vec::new()
                }
            }
            other => {
                notes.push(format!(
                    "toggle `{}`: strategy `{other}` is not supported, so it never matches (as in Unleash's SDKs without a custom strategy)",
                    feature.name
                ));
                Vec::new()
            }
        }
    }

    /// The condition under which `dep` holds, as constraints; `Err` says why it
    /// cannot be written so.
    fn dependency(&self, dep: &Dependency) -> Result<Dnf, String> {
        let Some(parent) = self.by_name.get(dep.feature.as_str()).copied() else {
            return Ok(Vec::new());
        };
        if !parent.dependencies.is_empty() {
            // Unleash follows one level only: a parent with parents never satisfies.
            return Ok(Vec::new());
        }
        if dep.enabled == Some(false) {
            let enabled = self.enabled_condition(parent)?;
            return not(&enabled).ok_or_else(|| too_many(&parent.name));
        }
        if dep.variants.is_empty() {
            return self.enabled_condition(parent);
        }
        self.variant_condition(parent, &dep.variants)
    }

    /// When `parent` is enabled, as constraints.
    fn enabled_condition(&self, parent: &'p Feature) -> Result<Dnf, String> {
        if !parent.enabled {
            return Ok(Vec::new());
        }
        let mut terms = Vec::new();
        for alt in self.alternatives(parent, &mut Vec::new()) {
            let term = condition(&alt, &parent.name)?;
            let always = term.is_empty();
            terms.push(term);
            if always {
                break;
            }
        }
        Ok(terms)
    }

    /// When `parent` is enabled with one of `wanted` as its variant (Unleash's
    /// `disabled` when it has none), as constraints. Each alternative's variant must
    /// be the same for every context (one variant with weight, or none).
    fn variant_condition(&self, parent: &'p Feature, wanted: &[String]) -> Result<Dnf, String> {
        if !parent.enabled {
            return Ok(Vec::new());
        }
        let alts = with_overrides(self.alternatives(parent, &mut Vec::new()), parent);
        let mut result: Dnf = Vec::new();
        let mut none_before: Dnf = vec![Vec::new()];
        for alt in alts {
            let term = condition(&alt, &parent.name)?;
            let name = uniform_variant(&alt, parent)?;
            if wanted.iter().any(|w| w == name) {
                let here = and(std::slice::from_ref(&term), &none_before)
                    .ok_or_else(|| too_many(&parent.name))?;
                result.extend(here);
                if result.len() > MAX_TERMS {
                    return Err(too_many(&parent.name));
                }
            }
            if term.is_empty() {
                break;
            }
            none_before = and(
                &none_before,
                &not(&[term]).ok_or_else(|| too_many(&parent.name))?,
            )
            .ok_or_else(|| too_many(&parent.name))?;
        }
        Ok(result)
    }
}

fn too_many(parent: &str) -> String {
    format!("the condition on parent `{parent}` has more than {MAX_TERMS} terms")
}

/// The constraints under which `alt` matches; `Err` when it depends on a bucket.
fn condition(alt: &Alt<'_>, parent: &str) -> Result<Vec<Constraint>, String> {
    let mut term = alt.constraints.clone();
    match &alt.kind {
        StrategyKind::All => {}
        StrategyKind::Keys(keys) => term.push(Constraint {
            attribute: "userId".to_owned(),
            operator: Operator::In,
            values: keys.clone(),
            inverted: false,
            case_insensitive: false,
        }),
        StrategyKind::Rollout {
            percent: 100,
            stickiness,
            ..
        } => match stickiness {
            Stickiness::Default | Stickiness::Random => {}
            // 100% of those who have the attribute: it must be present and not empty.
            Stickiness::Key => term.push(present("userId")),
            Stickiness::Attribute(a) => term.push(present(a)),
        },
        StrategyKind::Rollout { percent, .. } => {
            return Err(format!(
                "parent `{parent}` has a {percent}% rollout, which depends on a bucket that constraints cannot express"
            ));
        }
    }
    Ok(term)
}

/// `attribute` is present and not empty.
fn present(attribute: &str) -> Constraint {
    Constraint {
        attribute: attribute.to_owned(),
        operator: Operator::Regex,
        values: vec![".".to_owned()],
        inverted: false,
        case_insensitive: false,
    }
}

/// The variant name `alt` gives everyone it matches.
fn uniform_variant<'a>(alt: &'a Alt<'_>, parent: &'a Feature) -> Result<&'a str, String> {
    let list: &[Variant] = match &alt.variants {
        AltVariants::Forced { variant, .. } => return Ok(&variant.name),
        AltVariants::Own { list, .. } => list,
        AltVariants::Inherit => &parent.variants,
    };
    let mut weighted = list.iter().filter(|v| v.weight > 0);
    match (weighted.next(), weighted.next()) {
        (None, _) => Ok("disabled"),
        (Some(v), None) => Ok(&v.name),
        (Some(_), Some(_)) => Err(format!(
            "parent `{}` splits between several variants, which depends on a bucket",
            parent.name
        )),
    }
}

/// `a AND b`; `None` past [`MAX_TERMS`].
fn and(a: &[Vec<Constraint>], b: &[Vec<Constraint>]) -> Option<Dnf> {
    if a.len().saturating_mul(b.len()) > MAX_TERMS {
        return None;
    }
    Some(
        a.iter()
            .flat_map(|x| {
                b.iter().map(move |y| {
                    let mut t = x.clone();
                    t.extend(y.iter().cloned());
                    t
                })
            })
            .collect(),
    )
}

/// `NOT a`: every term fails, i.e. one of its constraints fails (its inversion holds).
fn not(a: &[Vec<Constraint>]) -> Option<Dnf> {
    let mut result: Dnf = vec![Vec::new()];
    for term in a {
        let negated: Dnf = term
            .iter()
            .map(|c| {
                vec![Constraint {
                    inverted: !c.inverted,
                    ..c.clone()
                }]
            })
            .collect();
        result = and(&result, &negated)?;
    }
    Some(result)
}

/// Inserts, before every alternative that uses the feature's variants, one copy per
/// variant override that forces that variant.
fn with_overrides<'p>(alts: Vec<Alt<'p>>, feature: &'p Feature) -> Vec<Alt<'p>> {
    if feature.variants.iter().all(|v| v.overrides.is_empty()) {
        return alts;
    }
    let mut out = Vec::with_capacity(alts.len() * 2);
    for alt in alts {
        if matches!(alt.variants, AltVariants::Inherit) {
            for (index, variant) in feature.variants.iter().enumerate() {
                for o in &variant.overrides {
                    let values = clean(&o.values);
                    if values.is_empty() {
                        continue;
                    }
                    let mut copy = alt.clone();
                    copy.constraints.push(Constraint {
                        attribute: o.context_name.clone(),
                        operator: Operator::In,
                        values,
                        inverted: false,
                        case_insensitive: false,
                    });
                    copy.variants = AltVariants::Forced { index, variant };
                    out.push(copy);
                }
            }
        }
        out.push(alt);
    }
    out
}

/// A strategy that never matches.
fn never() -> Strategy {
    Strategy {
        kind: StrategyKind::Keys(Vec::new()),
        constraints: Vec::new(),
        variants: Vec::new(),
        variant_stickiness: Stickiness::Default,
        pos: Pos::default(),
    }
}

fn to_strategy(
    alt: Alt<'_>,
    target: Target<'_>,
    feature: &Feature,
) -> Result<(Strategy, VariantSource), MapError> {
    let Alt {
        mut kind,
        mut constraints,
        variants,
    } = alt;
    let (list, variant_stickiness, source) = match (target, variants) {
        (Target::Bool, _) | (_, AltVariants::Inherit) => {
            (Vec::new(), Stickiness::Default, VariantSource::Feature)
        }
        (
            Target::Variants(names),
            AltVariants::Own {
                strategy,
                list,
                stickiness,
                group,
            },
        ) => {
            // The runtime splits a strategy's variants with its rollout's group, or
            // the flag's name for other kinds: a different `groupId` needs a rollout.
            let same_group = match &kind {
                StrategyKind::Rollout { group_id, .. } => *group_id == group,
                _ => group == feature.name,
            };
            if !same_group {
                if let StrategyKind::Keys(keys) = &kind {
                    constraints.push(Constraint {
                        attribute: "userId".to_owned(),
                        operator: Operator::In,
                        values: keys.clone(),
                        inverted: false,
                        case_insensitive: false,
                    });
                }
                kind = match kind {
                    StrategyKind::Rollout {
                        percent,
                        stickiness,
                        ..
                    } => StrategyKind::Rollout {
                        percent,
                        stickiness,
                        group_id: group,
                    },
                    _ => StrategyKind::Rollout {
                        percent: 100,
                        stickiness: Stickiness::Random,
                        group_id: group,
                    },
                };
            }
            (
                weighted(list, names, &feature.name)?,
                stickiness,
                VariantSource::Strategy(strategy),
            )
        }
        (Target::Variants(names), AltVariants::Forced { index, variant }) => (
            vec![WeightedVariant {
                variant: variant_index(names, &variant.name, &feature.name)?,
                name: variant.name.clone(),
                weight: 1,
            }],
            Stickiness::Default,
            VariantSource::Override(index),
        ),
    };
    Ok((
        Strategy {
            kind,
            constraints,
            variants: list,
            variant_stickiness,
            pos: Pos::default(),
        },
        source,
    ))
}

fn variant_index(names: &[&str], name: &str, toggle: &str) -> Result<u16, MapError> {
    names
        .iter()
        .position(|n| *n == name)
        .and_then(|i| u16::try_from(i).ok())
        .ok_or_else(|| MapError::UnknownVariant {
            toggle: toggle.to_owned(),
            variant: name.to_owned(),
            known: names.join(", "),
        })
}

fn weighted(
    list: &[Variant],
    names: &[&str],
    toggle: &str,
) -> Result<Vec<WeightedVariant>, MapError> {
    list.iter()
        .map(|v| {
            Ok(WeightedVariant {
                variant: variant_index(names, &v.name, toggle)?,
                name: v.name.clone(),
                weight: v.weight,
            })
        })
        .collect()
}

/// Unleash's stickiness spelling.
fn stickiness(text: &str) -> Stickiness {
    match text {
        "" | "default" => Stickiness::Default,
        "userId" => Stickiness::Key,
        "random" => Stickiness::Random,
        other => Stickiness::Attribute(other.to_owned()),
    }
}

/// A rollout percentage as Unleash reads it: a number, compared as `bucket <=
/// percent`, so fractions round down; not a number admits nobody.
fn percent(text: Option<&str>) -> u8 {
    match text.map(str::trim).and_then(|t| t.parse::<f64>().ok()) {
        Some(p) if p >= 100.0 => 100,
        // In range 0..100 after the check above, so the cast is exact.
        Some(p) if p > 0.0 => p.floor() as u8,
        _ => 0,
    }
}

/// A comma-separated parameter list, entries trimmed, empty ones dropped.
fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Constraint values as Unleash's SDKs use them: trimmed, empty ones dropped.
fn clean(values: &[String]) -> Vec<String> {
    values
        .iter()
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect()
}

/// An Unleash constraint in the model; `None` for an operator it does not know.
fn constraint(c: &payload::Constraint) -> Option<Constraint> {
    let operator = Operator::ALL
        .iter()
        .find(|(_, _, unleash)| *unleash == c.operator)
        .map(|(op, _, _)| *op)?;
    let values = if operator.takes_list() {
        clean(&c.values)
    } else {
        c.value.iter().cloned().collect()
    };
    Some(Constraint {
        attribute: c.context_name.clone(),
        operator,
        values,
        inverted: c.inverted,
        case_insensitive: c.case_insensitive,
    })
}

/// An IP address, or a CIDR range `address/prefix`.
fn is_address_or_range(text: &str) -> bool {
    let (addr, prefix) = match text.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (text, None),
    };
    let Ok(ip) = addr.parse::<IpAddr>() else {
        return false;
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    prefix.is_none_or(|p| p.parse::<u8>().is_ok_and(|p| p <= max))
}

/// This machine's host name, lower-cased, as `applicationHostname` compares it.
fn hostname() -> Option<String> {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.trim().is_empty())
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_lowercase())
        .filter(|h| !h.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(json: &str) -> ClientFeatures {
        ClientFeatures::parse(json.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn map(p: &ClientFeatures, name: &str, target: Target<'_>) -> Mapped {
        let f = p.feature(name).unwrap_or_else(|| panic!("no {name}"));
        Mapper::new(p)
            .map(f, target, &|_| false)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn percentages_round_down_and_clamp() {
        for (text, expected) in [
            (Some("50"), 50),
            (Some(" 50.9 "), 50),
            (Some("150"), 100),
            (Some("-3"), 0),
            (Some("NaN"), 0),
            (Some("x"), 0),
            (None, 0),
        ] {
            assert_eq!(percent(text), expected, "{text:?}");
        }
    }

    #[test]
    fn addresses_and_ranges() {
        for (text, ok) in [
            ("127.0.0.1", true),
            ("10.0.0.0/8", true),
            ("::1", true),
            ("2001:db8::/32", true),
            ("10.0.0.0/33", false),
            ("192.invalid", false),
            ("localhost", false),
        ] {
            assert_eq!(is_address_or_range(text), ok, "{text}");
        }
    }

    #[test]
    fn disabled_toggle_is_a_kill_switch() {
        let p = payload(
            r#"{"features":[{"name":"a","enabled":false,"strategies":[{"name":"default"}]}]}"#,
        );
        assert_eq!(map(&p, "a", Target::Bool).rules.enabled, Some(false));
    }

    #[test]
    fn strategies_that_never_match_keep_the_flag_off() {
        let p = payload(
            r#"{"features":[{"name":"a","enabled":true,"strategies":[
            {"name":"custom"},{"name":"default","constraints":[{"contextName":"x","operator":"NOPE","values":["1"]}]},
            {"name":"default","segments":[9]},{"name":"flexibleRollout","parameters":{"rollout":"0"}}]}]}"#,
        );
        let m = map(&p, "a", Target::Bool);
        assert_eq!(m.rules.strategies, vec![never()]);
        assert_eq!(m.notes.len(), 3, "{:?}", m.notes);
    }

    #[test]
    fn unknown_variant_is_refused() {
        let p = payload(
            r#"{"features":[{"name":"a","enabled":true,"variants":[{"name":"blue","weight":1}]}]}"#,
        );
        let f = &p.features[0];
        let err = Mapper::new(&p).map(f, Target::Variants(&["red", "green"]), &|_| false);
        assert!(
            matches!(&err, Err(MapError::UnknownVariant { variant, .. }) if variant == "blue"),
            "{err:?}"
        );
        assert!(Mapper::new(&p).map(f, Target::Bool, &|_| false).is_ok());
    }

    #[test]
    fn dnf_negation_inverts_each_constraint() {
        let c = |a: &str| Constraint {
            attribute: a.to_owned(),
            operator: Operator::In,
            values: vec!["x".to_owned()],
            inverted: false,
            case_insensitive: false,
        };
        // NOT ((a AND b) OR c) = (!a OR !b) AND !c = (!a AND !c) OR (!b AND !c)
        let n = not(&[vec![c("a"), c("b")], vec![c("c")]]).unwrap_or_default();
        let shape: Vec<Vec<(String, bool)>> = n
            .iter()
            .map(|t| {
                t.iter()
                    .map(|c| (c.attribute.clone(), c.inverted))
                    .collect()
            })
            .collect();
        assert_eq!(
            shape,
            [
                vec![("a".to_owned(), true), ("c".to_owned(), true)],
                vec![("b".to_owned(), true), ("c".to_owned(), true)]
            ]
        );
        assert_eq!(not(&[]), Some(vec![vec![]]), "NOT false = true");
        assert_eq!(not(&[vec![]]), Some(vec![]), "NOT true = false");
    }

    #[test]
    fn bucket_dependent_parent_turns_the_child_off_unless_declared() {
        let p = payload(
            r#"{"features":[
            {"name":"parent","enabled":true,"strategies":[{"name":"flexibleRollout","parameters":{"rollout":"30"}}]},
            {"name":"child","enabled":true,"dependencies":[{"feature":"parent"}]}]}"#,
        );
        let child = &p.features[1];
        let m = Mapper::new(&p)
            .map(child, Target::Bool, &|_| false)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.rules.enabled, Some(false));
        assert!(m.notes[0].contains("30% rollout"), "{:?}", m.notes);
        let m = Mapper::new(&p)
            .map(child, Target::Bool, &|d| d.feature == "parent")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.rules.enabled, Some(true));
        assert!(
            m.notes[0].contains("enforced by the manifest"),
            "{:?}",
            m.notes
        );
    }

    #[test]
    fn too_many_dependency_terms_is_refused() {
        // Negating a parent with 8 strategies of 2 constraints each gives 2^8 terms.
        let strategies: Vec<String> = (0..8)
            .map(|i| {
                format!(
                    r#"{{"name":"default","constraints":[{{"contextName":"a{i}","operator":"IN","values":["x"]}},{{"contextName":"b{i}","operator":"IN","values":["y"]}}]}}"#
                )
            })
            .collect();
        let json = format!(
            r#"{{"features":[{{"name":"p","enabled":true,"strategies":[{}]}},
            {{"name":"c","enabled":true,"dependencies":[{{"feature":"p","enabled":false}}]}}]}}"#,
            strategies.join(",")
        );
        let p = payload(&json);
        let m = map(&p, "c", Target::Bool);
        assert_eq!(m.rules.enabled, Some(false));
        assert!(m.notes[0].contains("more than 64 terms"), "{:?}", m.notes);
    }
}
