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
//!   attribute (entries that are neither an address nor a range are dropped);
//!   **`applicationHostname`** is decided once, against this machine's host name;
//! - **variant overrides** become, before each strategy that uses the toggle's
//!   variants, one copy of the strategy per override with an `IN` constraint and that
//!   single variant;
//! - **dependencies** become the rules' own prerequisites ([`LayerPrerequisite`]),
//!   each carrying its parent's mapped rules, so the remote layer checks them with
//!   Unleash's one-level semantics (the parent's enabled state and, when listed, the
//!   variant its rules pick, even when it is off), rollouts and splits included.

use std::collections::HashMap;

use flags_runtime::manifest::{
    Constraint, LayerPrerequisite, Operator, ParentRules, Pos, Rules, Stickiness, Strategy,
    StrategyKind, WeightedVariant,
};

use crate::payload::{self, ClientFeatures, Dependency, Feature, Segment, Variant};

/// Upper bound on the strategies one toggle may expand into (variant overrides
/// multiply them); beyond it the toggle is refused with a warning.
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
    /// express).
    pub notes: Vec<MappingNote>,
}

/// Part of a toggle that the rule model cannot express, so it is left out (a strategy
/// that then never matches, for instance): worth a warning.
///
/// # Examples
///
/// ```
/// use flags_unleash::MappingNote;
///
/// let note = MappingNote::new("beta", "strategy `custom` is not supported, so it never matches");
/// assert_eq!(note.toggle, "beta");
/// assert_eq!(note.to_string(), "toggle `beta`: strategy `custom` is not supported, so it never matches");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MappingNote {
    /// The toggle's name.
    pub toggle: String,
    /// What was left out and what that means for the toggle.
    pub message: String,
}

impl MappingNote {
    /// A note on `toggle`.
    pub fn new(toggle: impl Into<String>, message: impl Into<String>) -> MappingNote {
        MappingNote {
            toggle: toggle.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for MappingNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "toggle `{}`: {}", self.toggle, self.message)
    }
}

/// A toggle that cannot be mapped onto its flag; the flag keeps its lower layers.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
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
        "toggle `{toggle}`: expands into more than {MAX_STRATEGIES} strategies (strategies × variant overrides) (help: use fewer variant overrides)"
    )]
    TooLarge {
        /// The toggle.
        toggle: String,
    },
}

/// A mapped toggle's Unleash variant definitions, to find the payload of the variant an
/// evaluation chose: the deciding strategy (from the evaluation's [`Reason`]) says
/// which list the variant came from.
///
/// The runtime's rules carry the payloads themselves now ([`SnapshotAccess::payload`],
/// [`RuleSet::payload`]), which is what [`Unleash::variant`](crate::Unleash::variant)
/// reads; this view stays for callers that want Unleash's own variant definitions.
///
/// [`Reason`]: flags_runtime::Reason
/// [`SnapshotAccess::payload`]: flags_runtime::raw::SnapshotAccess::payload
/// [`RuleSet::payload`]: flags_runtime::RuleSet::payload
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

    /// Maps `feature` onto a flag of shape `target`. Dependencies become the rules'
    /// own prerequisites ([`LayerPrerequisite`]), exact for every parent, so
    /// `_declared` (whether the manifest declares the same prerequisite) no longer
    /// changes the result; it stays for callers written against the earlier form.
    pub fn map(
        &self,
        feature: &'p Feature,
        target: Target<'_>,
        _declared: &dyn Fn(&Dependency) -> bool,
    ) -> Result<Mapped, MapError> {
        self.map_as(feature, target, &feature.name)
    }

    /// [`Mapper::map`], with `rollout_group` as the group of `flexibleRollout`s that
    /// name none.
    fn map_as(
        &self,
        feature: &'p Feature,
        target: Target<'_>,
        rollout_group: &str,
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
        let mut alts = self.alternatives(feature, rollout_group, &mut notes);
        let plain = feature.strategies.is_empty();
        if with_variants {
            alts = with_overrides(alts, feature);
        }
        let expanded = alts.len() > 1;
        let prerequisites: Vec<LayerPrerequisite> = feature
            .dependencies
            .iter()
            .map(|dep| self.prerequisite(dep, &feature.name))
            .collect::<Result<_, _>>()?;
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
        if plain && !expanded {
            // On for everyone, with the feature's variants: no strategy needed.
            return Ok(Mapped {
                rules: Rules {
                    enabled: Some(true),
                    variants,
                    variant_stickiness,
                    prerequisites,
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
                prerequisites,
            },
            sources,
            notes,
        })
    }

    /// The alternatives of a toggle's strategies, in order (one `All` when it has
    /// none), without overrides.
    fn alternatives(
        &self,
        feature: &'p Feature,
        rollout_group: &str,
        notes: &mut Vec<MappingNote>,
    ) -> Vec<Alt<'p>> {
        if feature.strategies.is_empty() {
            return vec![Alt {
                kind: StrategyKind::All,
                constraints: Vec::new(),
                variants: AltVariants::Inherit,
            }];
        }
        let mut alts = Vec::new();
        for (i, s) in feature.strategies.iter().enumerate() {
            alts.extend(self.strategy(feature, i, s, rollout_group, notes));
        }
        alts
    }

    /// One Unleash strategy as alternatives; empty when it can never match.
    fn strategy(
        &self,
        feature: &'p Feature,
        index: usize,
        s: &'p payload::FeatureStrategy,
        rollout_group: &str,
        notes: &mut Vec<MappingNote>,
    ) -> Vec<Alt<'p>> {
        let mut constraints = Vec::with_capacity(s.constraints.len());
        for c in &s.constraints {
            match constraint(c) {
                Some(c) => constraints.push(c),
                None => {
                    notes.push(MappingNote::new(
                        &feature.name,
                        format!(
                            "strategy #{index} has a constraint with unknown operator `{}`, so it never matches",
                            c.operator
                        ),
                    ));
                    return Vec::new();
                }
            }
        }
        for id in &s.segments {
            let Some(segment) = self.segments.get(id) else {
                notes.push(MappingNote::new(
                    &feature.name,
                    format!(
                        "strategy #{index} uses segment {id}, which the payload lacks, so it never matches"
                    ),
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
        // An empty `groupId` is a group id (Yggdrasil hashes ":key"); only a missing
        // one defaults to the toggle's name.
        let group = param("groupId");
        let variants = if s.variants.iter().any(|v| v.weight > 0) {
            AltVariants::Own {
                strategy: index,
                list: &s.variants,
                // Strategy variants are sticky on their strategy's `stickiness`, not
                // on their own field (Yggdrasil overwrites it).
                stickiness: param("stickiness").map_or(Stickiness::Default, stickiness),
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
            "userWithId" => match param("userIds") {
                Some(ids) => vec![alt(StrategyKind::Keys(split_list(ids)), None)],
                None => Vec::new(),
            },
            "flexibleRollout" => rollout(
                percent(param("rollout")),
                param("stickiness").map_or(Stickiness::Default, stickiness),
                group.unwrap_or(rollout_group),
            ),
            // The legacy rollouts need their `groupId` (empty is fine): Yggdrasil
            // never matches one without it.
            "gradualRolloutUserId" => match group {
                Some(group) => rollout(percent(param("percentage")), Stickiness::Key, group),
                None => Vec::new(),
            },
            "gradualRolloutSessionId" => match group {
                Some(group) => rollout(
                    percent(param("percentage")),
                    Stickiness::Attribute("sessionId".to_owned()),
                    group,
                ),
                None => Vec::new(),
            },
            "gradualRolloutRandom" => rollout(
                percent(param("percentage")),
                Stickiness::Random,
                &feature.name,
            ),
            "remoteAddress" => {
                // Entries that are neither an address nor a range are dropped, as
                // in Yggdrasil.
                let ips: Vec<String> = split_list(param("IPs").unwrap_or_default())
                    .into_iter()
                    .filter(|e| is_address_or_range(e))
                    .collect();
                if ips.is_empty() {
                    Vec::new()
                } else {
                    vec![alt(
                        StrategyKind::All,
                        Some(Constraint {
                            attribute: "remoteAddress".to_owned(),
                            operator: Operator::InCidr,
                            values: ips,
                            inverted: false,
                            case_insensitive: false,
                        }),
                    )]
                }
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
                notes.push(MappingNote::new(
                    &feature.name,
                    format!(
                        "strategy `{other}` is not supported, so it never matches (as in Unleash's SDKs without a custom strategy)"
                    ),
                ));
                Vec::new()
            }
        }
    }

    /// A dependency as a prerequisite of this layer, carrying the parent's rules
    /// (shaped for the parent's variants, its kill switch kept apart from its
    /// strategies: Unleash reads a parent's variant even when the parent is off).
    ///
    /// A parent's `flexibleRollout` without a `groupId` is bucketed under the
    /// dependent toggle's name, not the parent's: Yggdrasil evaluates the parent with
    /// the child's name in its context (its variants keep the parent's name).
    fn prerequisite(&self, dep: &Dependency, child: &str) -> Result<LayerPrerequisite, MapError> {
        let parent = match self.by_name.get(dep.feature.as_str()).copied() {
            // Unleash follows one level only: a parent with dependencies of its own
            // never satisfies one.
            Some(parent) if parent.dependencies.is_empty() => {
                let names = variant_names(parent);
                let refs: Vec<&str> = names.iter().map(String::as_str).collect();
                let on = Feature {
                    enabled: true,
                    ..parent.clone()
                };
                let mut rules = self.map_as(&on, Target::Variants(&refs), child)?.rules;
                if !parent.enabled {
                    rules.enabled = Some(false);
                }
                // Unleash picks the parent's variant from its toggle-level variants,
                // overrides first, when no strategy matches. Without overrides the
                // rules' own fallback does the same; with them, the picker ends in a
                // strategy for everyone, with the override copies placed before it.
                let variant_rules = if parent.variants.iter().any(|v| !v.overrides.is_empty()) {
                    let mut strategies = parent.strategies.clone();
                    strategies.push(payload::FeatureStrategy {
                        name: "default".to_owned(),
                        ..payload::FeatureStrategy::default()
                    });
                    let picker = Feature { strategies, ..on };
                    Some(self.map_as(&picker, Target::Variants(&refs), child)?.rules)
                } else {
                    None
                };
                Some(Box::new(ParentRules {
                    variants: names,
                    rules,
                    variant_rules,
                }))
            }
            _ => None,
        };
        Ok(LayerPrerequisite {
            flag: dep.feature.clone(),
            enabled: dep.enabled.unwrap_or(true),
            variants: dep.variants.clone(),
            parent,
        })
    }
}

/// Stands for "no variant" at index 0 of a parent's variant names; not a name
/// Unleash allows, so it never equals a real one.
const NO_VARIANT: &str = "\u{0}none";

/// Every variant name a toggle uses, after [`NO_VARIANT`].
fn variant_names(f: &Feature) -> Vec<String> {
    let mut names = vec![NO_VARIANT.to_owned()];
    for v in f
        .variants
        .iter()
        .chain(f.strategies.iter().flat_map(|s| &s.variants))
    {
        if !names.contains(&v.name) {
            names.push(v.name.clone());
        }
    }
    names
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
                    let values = o.values.clone();
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
            // A rollout's own group is the same as its variants' (both its `groupId`,
            // else the toggle's name) except in a dependency's parent without a
            // `groupId`, where the rollout takes the dependent's name: the bucket
            // decides whether the parent is on, so the rollout keeps its group and its
            // variants are split under it too.
            let same_group = match &kind {
                StrategyKind::Rollout { .. } => true,
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
                kind = StrategyKind::Rollout {
                    percent: 100,
                    stickiness: Stickiness::Random,
                    group_id: group,
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
                payload: variant.payload.as_ref().map(payload::Payload::to_rules),
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
                payload: v.payload.as_ref().map(payload::Payload::to_rules),
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

/// A rollout percentage as Yggdrasil reads it: a whole number written in digits
/// only (no sign, space or fraction), compared as `bucket <= percent`; anything else
/// admits nobody. Above 100 is 100 (Yggdrasil refuses such a toggle whole; Unleash's
/// server never sends one).
fn percent(text: Option<&str>) -> u8 {
    match text.and_then(|t| t.parse::<u64>().ok().filter(|_| !t.starts_with('+'))) {
        Some(p) => u8::try_from(p.min(100)).unwrap_or(100),
        None => 0,
    }
}

/// A comma-separated parameter list, entries trimmed; an empty entry stays (it
/// matches an empty value, as in Yggdrasil).
fn split_list(text: &str) -> Vec<String> {
    text.split(',').map(|s| s.trim().to_owned()).collect()
}

/// An Unleash constraint in the model; `None` for an operator it does not know.
fn constraint(c: &payload::Constraint) -> Option<Constraint> {
    let operator = Operator::ALL
        .iter()
        .find(|(_, _, unleash)| *unleash == c.operator)
        .map(|(op, _, _)| *op)?;
    // List operands are taken verbatim (not trimmed, empty ones kept), as Yggdrasil
    // compares them.
    let values = if operator.takes_list() {
        c.values.clone()
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

/// An IP address, or a CIDR range `address/prefix`: what the `in_cidr` operator's
/// one parser accepts, so a range mapped from the server matches as the manifest's do.
fn is_address_or_range(text: &str) -> bool {
    flags_runtime::manifest::operand::Cidr::parse(text).is_some()
}

/// This machine's host name, lower-cased, as `applicationHostname` compares it: the
/// `hostname` environment variable (lower-case name, as Yggdrasil reads it), else the
/// system's (`gethostname` on Unix, `GetComputerNameExW` on Windows, through the
/// `hostname` crate, as Yggdrasil's own lookup).
fn hostname() -> Option<String> {
    std::env::var("hostname")
        .ok()
        .filter(|h| !h.trim().is_empty())
        .or_else(system_hostname)
        .map(|h| h.trim().to_lowercase())
        .filter(|h| !h.is_empty())
}

/// The operating system's host name, `None` when it cannot be read or is not UTF-8.
pub(crate) fn system_hostname() -> Option<String> {
    ::hostname::get().ok()?.into_string().ok()
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
            (Some(" 50.9 "), 0),
            (Some("50.9"), 0),
            (Some("+50"), 0),
            (Some("050"), 50),
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
            ("10.0.0.0/+8", false),
            ("10.0.0.0/", false),
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
    fn dependencies_become_layer_prerequisites_with_the_parents_rules() {
        let p = payload(
            r#"{"features":[
            {"name":"parent","enabled":true,"strategies":[{"name":"flexibleRollout","parameters":{"rollout":"30"}}]},
            {"name":"child","enabled":true,"dependencies":[{"feature":"parent"},{"feature":"gone","enabled":false}]}]}"#,
        );
        let m = map(&p, "child", Target::Bool);
        assert_eq!(m.rules.enabled, Some(true));
        assert!(m.notes.is_empty(), "{:?}", m.notes);
        let [on, gone] = &m.rules.prerequisites[..] else {
            panic!("{:?}", m.rules.prerequisites)
        };
        assert_eq!((on.flag.as_str(), on.enabled), ("parent", true));
        let parent = on
            .parent
            .as_deref()
            .unwrap_or_else(|| panic!("no parent rules"));
        // Yggdrasil buckets a parent's rollout without `groupId` under the child's name.
        assert!(matches!(
            &parent.rules.strategies[0].kind,
            StrategyKind::Rollout { percent: 30, group_id, .. } if group_id == "child"
        ));
        assert_eq!((gone.enabled, gone.parent.is_none()), (false, true));
        // A dependency on a toggle the payload lacks never holds, as in Yggdrasil.
        let toggles = crate::Toggles::new(&p).unwrap_or_else(|e| panic!("{e}"));
        assert!(!toggles.is_enabled("child", &flags_runtime::Context::with_key("user-2")));

        let p = payload(
            r#"{"features":[
            {"name":"parent","enabled":true,"strategies":[{"name":"flexibleRollout","parameters":{"rollout":"30"}}]},
            {"name":"child","enabled":true,"dependencies":[{"feature":"parent"}]}]}"#,
        );
        let toggles = crate::Toggles::new(&p).unwrap_or_else(|e| panic!("{e}"));
        for i in 0..300 {
            let user = format!("user-{i}");
            let in_parent = flags_runtime::bucket::rollout_bucket("child", &user).get() <= 30;
            assert_eq!(
                toggles.is_enabled("child", &flags_runtime::Context::with_key(user.as_str())),
                in_parent,
                "{user}"
            );
        }
    }

    #[test]
    fn a_parent_with_dependencies_never_satisfies_one() {
        let p = payload(
            r#"{"features":[
            {"name":"root","enabled":true},
            {"name":"parent","enabled":true,"dependencies":[{"feature":"root"}]},
            {"name":"child","enabled":true,"dependencies":[{"feature":"parent"}]}]}"#,
        );
        let m = map(&p, "child", Target::Bool);
        assert!(m.rules.prerequisites[0].parent.is_none());
        let toggles = crate::Toggles::new(&p).unwrap_or_else(|e| panic!("{e}"));
        let ctx = flags_runtime::Context::with_key("u");
        assert!(toggles.is_enabled("parent", &ctx));
        assert!(!toggles.is_enabled("child", &ctx));
    }

    #[test]
    fn a_parent_whose_strategies_miss_still_honours_variant_overrides() {
        // The parent is off for everyone (a 0% rollout), yet Unleash resolves its
        // variant from the toggle-level variants, overrides first: `bob` gets `red`.
        let p = payload(
            r#"{"features":[
            {"name":"parent","enabled":true,
             "strategies":[{"name":"flexibleRollout","parameters":{"rollout":"0"}}],
             "variants":[
               {"name":"red","weight":0,"stickiness":"userId",
                "overrides":[{"contextName":"userId","values":["bob"]}]},
               {"name":"green","weight":1000}]},
            {"name":"child","enabled":true,
             "dependencies":[{"feature":"parent","enabled":false,"variants":["red"]}]}]}"#,
        );
        let toggles = crate::Toggles::new(&p).unwrap_or_else(|e| panic!("{e}"));
        let bob = flags_runtime::Context::new().attr("userId", "bob");
        assert!(!toggles.is_enabled("parent", &bob));
        assert!(toggles.is_enabled("child", &bob));
        // Everyone else lands on `green` (all the weight).
        let alice = flags_runtime::Context::new().attr("userId", "alice");
        assert!(!toggles.is_enabled("child", &alice));
    }

    #[test]
    fn a_disabled_parent_still_picks_a_variant() {
        // Unleash reads the parent's variant even when the parent is off.
        let p = payload(
            r#"{"features":[
            {"name":"parent","enabled":false,"variants":[{"name":"blue","weight":1}]},
            {"name":"child","enabled":true,"dependencies":[{"feature":"parent","enabled":false,"variants":["blue"]}]},
            {"name":"other","enabled":true,"dependencies":[{"feature":"parent","enabled":false,"variants":["red"]}]}]}"#,
        );
        let toggles = crate::Toggles::new(&p).unwrap_or_else(|e| panic!("{e}"));
        let ctx = flags_runtime::Context::with_key("u");
        assert!(toggles.is_enabled("child", &ctx));
        assert!(!toggles.is_enabled("other", &ctx));
    }
}
