//! Evaluation across flags: a flag's prerequisites (`requires`, `excludes`) are
//! evaluated first, in the same context, then the rules of the layer that decides it.
//!
//! The algorithm is written once over the [`Flags`] trait, which the registry's
//! snapshots and the standalone [`RuleSet`] both implement. [`RuleSet`] is the pure
//! form, a function of (rules, context) only, for rules that do not come from a
//! manifest (a conformance suite, a remote payload under test).

use std::collections::HashMap;
use std::fmt;

use flags_manifest::{Manifest, Rules, Value};

use crate::context::Context;
use crate::explain::{Explanation, Layer, Payload, Reason};
use crate::meta::Requirement;
use crate::rules::{CompiledRules, FlagShape, RuleError};

/// Deeper prerequisite chains than this are cut off with [`Reason::Error`]. A checked
/// manifest has no `requires` cycle and no chain longer than
/// [`flags_manifest::MAX_REQUIRES_DEPTH`]; an evaluation follows at most such a chain,
/// one exclusion, then the excluded flag's chain, so it never gets here. Rules from
/// elsewhere might.
pub(crate) const MAX_DEPTH: usize = 2 * flags_manifest::MAX_REQUIRES_DEPTH + 1;

/// `requires`/`excludes` resolved to a flag index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Prerequisite {
    pub(crate) flag: usize,
    /// The variant the flag must (not) be at; `None` means "on" (a bool flag) or "at a
    /// variant other than its default" (a variant flag).
    pub(crate) variant: Option<u16>,
    /// `excludes` rather than `requires`.
    pub(crate) excludes: bool,
}

impl Prerequisite {
    /// A build-time requirement (already resolved to indices) checked against the
    /// flags it names; `Err` says what does not exist.
    pub(crate) fn from_requirement<'v>(
        r: Requirement,
        excludes: bool,
        variants_of: impl Fn(usize) -> Option<&'v [&'v str]>,
    ) -> Result<Prerequisite, String> {
        let variants = variants_of(r.flag).ok_or_else(|| format!("no flag #{}", r.flag))?;
        if let Some(v) = r.variant
            && usize::from(v) >= variants.len()
        {
            return Err(format!("flag #{} has no variant #{v}", r.flag));
        }
        Ok(Prerequisite {
            flag: r.flag,
            variant: r.variant,
            excludes,
        })
    }

    /// Resolves a reference by name (`flag`, and a variant name for a variant flag)
    /// with `lookup` (name to index and variant names). `Err` names what does not
    /// exist.
    pub(crate) fn resolve<'v>(
        r: &NamedRef,
        excludes: bool,
        lookup: impl Fn(&str) -> Option<(usize, &'v [&'v str])>,
    ) -> Result<Prerequisite, String> {
        let name = r.flag.as_str();
        let (flag, variants) = lookup(name).ok_or_else(|| format!("no flag `{name}`"))?;
        let variant = match &r.variant {
            None => None,
            Some(v) => Some(
                variants
                    .iter()
                    .position(|n| n == v)
                    .and_then(|i| u16::try_from(i).ok())
                    .ok_or_else(|| format!("flag `{name}` has no variant `{v}`"))?,
            ),
        };
        Ok(Prerequisite {
            flag,
            variant,
            excludes,
        })
    }

    fn met_by(&self, value: Value, shape: &FlagShape<'_>) -> bool {
        let at = match self.variant {
            Some(v) => value == Value::Variant(v),
            None => match value {
                Value::Bool(b) => b,
                Value::Variant(_) => value != shape.off(),
            },
        };
        at != self.excludes
    }
}

/// What decides one flag in a given state.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Decision<'a> {
    /// No layer has rules: the manifest default.
    Default,
    /// A programmatic override: wins over everything, prerequisites included.
    Override(Value),
    /// Rules of a layer.
    Rules(&'a CompiledRules, Layer),
}

/// A table of flags evaluation can walk.
pub(crate) trait Flags {
    /// The flag's shape (name, variants, default).
    fn shape(&self, index: usize) -> FlagShape<'_>;
    /// Its resolved prerequisites.
    fn prerequisites(&self, index: usize) -> &[Prerequisite];
    /// What decides it.
    fn decision(&self, index: usize) -> Decision<'_>;
}

/// The result of evaluating one flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub(crate) value: Value,
    pub(crate) reason: Reason,
    pub(crate) layer: Layer,
}

/// Evaluates flag `index` of `flags` for `ctx`.
///
/// A `requires` is met by the required flag's final value (its own `requires` and
/// `excludes` included); an `excludes` is checked against the excluded flag's value
/// after its `requires` only, never through its own exclusions. So two flags may
/// exclude each other (both on: both off), and the recursion follows `requires` links,
/// which a checked manifest keeps acyclic.
#[inline]
pub(crate) fn evaluate<F: Flags + ?Sized>(
    flags: &F,
    index: usize,
    ctx: &Context,
    depth: usize,
) -> Outcome {
    evaluate_in(flags, index, ctx, depth, true)
}

/// [`evaluate`], with `with_excludes = false` for the value an exclusion is checked
/// against.
fn evaluate_in<F: Flags + ?Sized>(
    flags: &F,
    index: usize,
    ctx: &Context,
    depth: usize,
    with_excludes: bool,
) -> Outcome {
    let decision = flags.decision(index);
    if let Decision::Override(value) = decision {
        return Outcome {
            value,
            reason: Reason::Override,
            layer: Layer::Override,
        };
    }
    let shape = flags.shape(index);
    for p in flags.prerequisites(index) {
        if p.excludes && !with_excludes {
            continue;
        }
        if depth >= MAX_DEPTH {
            return Outcome {
                value: shape.off(),
                reason: Reason::Error,
                layer: Layer::Manifest,
            };
        }
        let parent = evaluate_in(flags, p.flag, ctx, depth + 1, with_excludes && !p.excludes);
        if parent.reason == Reason::Error {
            return Outcome {
                value: shape.off(),
                ..parent
            };
        }
        if !p.met_by(parent.value, &flags.shape(p.flag)) {
            return Outcome {
                value: shape.off(),
                reason: Reason::PrerequisiteFailed {
                    flag: u32::try_from(p.flag).unwrap_or(u32::MAX),
                },
                layer: Layer::Manifest,
            };
        }
    }
    match decision {
        Decision::Rules(rules, layer) => {
            let (value, reason) = rules.evaluate(ctx);
            Outcome {
                value,
                reason,
                layer,
            }
        }
        Decision::Default | Decision::Override(_) => Outcome {
            value: match shape.check_value(shape.default) {
                Ok(v) => v,
                Err(_) => shape.off(),
            },
            reason: Reason::Default,
            layer: Layer::Manifest,
        },
    }
}

/// Whether flag `index` has the same value for every context, counting its
/// prerequisites: `own_uniform(i)` says whether flag `i`'s own decision is.
pub(crate) fn is_uniform<F: Flags + ?Sized>(
    flags: &F,
    index: usize,
    own_uniform: &impl Fn(usize) -> bool,
    depth: usize,
) -> bool {
    uniform_in(flags, index, own_uniform, depth, true)
}

/// [`is_uniform`] following the same links as [`evaluate_in`].
fn uniform_in<F: Flags + ?Sized>(
    flags: &F,
    index: usize,
    own_uniform: &impl Fn(usize) -> bool,
    depth: usize,
    with_excludes: bool,
) -> bool {
    if matches!(flags.decision(index), Decision::Override(_)) {
        return true;
    }
    own_uniform(index)
        && depth < MAX_DEPTH
        && flags
            .prerequisites(index)
            .iter()
            .filter(|p| with_excludes || !p.excludes)
            .all(|p| {
                uniform_in(
                    flags,
                    p.flag,
                    own_uniform,
                    depth + 1,
                    with_excludes && !p.excludes,
                )
            })
}

/// A prerequisite of a [`FlagDef`], by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NamedRef {
    flag: String,
    variant: Option<String>,
}

impl fmt::Display for NamedRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.variant {
            Some(v) => write!(f, "{} at `{v}`", self.flag),
            None => f.write_str(&self.flag),
        }
    }
}

/// One flag of a [`RuleSet`]: its name, values, default and prerequisites, and
/// optionally its rules.
///
/// # Examples
///
/// ```
/// use flags_runtime::FlagDef;
///
/// let layout = FlagDef::variants("layout", &["classic", "compact"], "classic");
/// let beta = FlagDef::bool("beta", false).requires_variant("layout", "compact");
/// assert_eq!(beta.name(), "beta");
/// assert_eq!(layout.name(), "layout");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct FlagDef {
    name: String,
    variants: Vec<String>,
    default: Option<String>,
    default_on: bool,
    requires: Vec<NamedRef>,
    excludes: Vec<NamedRef>,
    rules: Rules,
}

impl FlagDef {
    /// An on/off flag with default `default`.
    #[must_use]
    pub fn bool(name: &str, default: bool) -> FlagDef {
        FlagDef {
            name: name.to_owned(),
            variants: Vec::new(),
            default: None,
            default_on: default,
            requires: Vec::new(),
            excludes: Vec::new(),
            rules: Rules::default(),
        }
    }

    /// A flag with `variants`, at `default` when nothing else decides.
    #[must_use]
    pub fn variants(name: &str, variants: &[&str], default: &str) -> FlagDef {
        FlagDef {
            variants: variants.iter().map(|v| (*v).to_owned()).collect(),
            default: Some(default.to_owned()),
            ..FlagDef::bool(name, false)
        }
    }

    /// Adds a prerequisite: `flag` must be on (or, for a variant flag, not at its
    /// default).
    #[must_use]
    pub fn requires(mut self, flag: &str) -> FlagDef {
        self.requires.push(NamedRef {
            flag: flag.to_owned(),
            variant: None,
        });
        self
    }

    /// Adds a prerequisite: variant flag `flag` must be at `variant`.
    #[must_use]
    pub fn requires_variant(mut self, flag: &str, variant: &str) -> FlagDef {
        self.requires.push(NamedRef {
            flag: flag.to_owned(),
            variant: Some(variant.to_owned()),
        });
        self
    }

    /// Adds an exclusion: the opposite of [`FlagDef::requires`].
    #[must_use]
    pub fn excludes(mut self, flag: &str) -> FlagDef {
        self.excludes.push(NamedRef {
            flag: flag.to_owned(),
            variant: None,
        });
        self
    }

    /// Adds an exclusion: the opposite of [`FlagDef::requires_variant`].
    #[must_use]
    pub fn excludes_variant(mut self, flag: &str, variant: &str) -> FlagDef {
        self.excludes.push(NamedRef {
            flag: flag.to_owned(),
            variant: Some(variant.to_owned()),
        });
        self
    }

    /// Sets the flag's rules.
    #[must_use]
    pub fn rules(mut self, rules: Rules) -> FlagDef {
        self.rules = rules;
        self
    }

    /// The flag's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A [`RuleSet`] that cannot be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RuleSetError {
    /// Two flags with one name.
    #[error("flag `{0}` is defined twice (help: give every flag a distinct name)")]
    Duplicate(String),
    /// A variant flag's default is not one of its variants, or it has no variants.
    #[error(
        "flag `{flag}`: default `{default}` is not one of its variants (help: name one of them)"
    )]
    BadDefault {
        /// The flag.
        flag: String,
        /// The default given.
        default: String,
    },
    /// A prerequisite names a flag or variant that does not exist.
    #[error("flag `{flag}`: prerequisite `{spec}`: {problem}")]
    Prerequisite {
        /// The flag.
        flag: String,
        /// The prerequisite as written.
        spec: String,
        /// What does not exist.
        problem: String,
    },
    /// Rules that do not fit their flag.
    #[error(transparent)]
    Rules(#[from] RuleError),
    /// No flag at this index.
    #[error("no flag #{0} in the rule set")]
    NoSuchFlag(usize),
}

#[derive(Clone, Debug)]
struct SetFlag {
    name: String,
    variants: Vec<String>,
    default: Value,
    prerequisites: Vec<Prerequisite>,
    rules: Option<CompiledRules>,
}

impl SetFlag {
    fn shape(&self) -> FlagShape<'_> {
        FlagShape {
            name: &self.name,
            variants: self.variants.len(),
            default: self.default,
        }
    }
}

/// Flags and their rules, evaluated as a pure function of (rules, context): no
/// layers, no overrides, no global state. The registry evaluates its snapshots with
/// the same algorithm.
///
/// # Examples
///
/// ```
/// use flags_runtime::{Context, FlagDef, Reason, RuleSet};
/// use flags_runtime::manifest::{Rules, Stickiness, Strategy, StrategyKind, Value};
///
/// let rollout = Rules {
///     strategies: vec![Strategy {
///         kind: StrategyKind::Rollout {
///             percent: 73,
///             stickiness: Stickiness::Default,
///             group_id: "gr1".into(),
///         },
///         constraints: vec![],
///         variants: vec![],
///         variant_stickiness: Stickiness::Default,
///         pos: Default::default(),
///     }],
///     ..Rules::default()
/// };
/// let set = RuleSet::new(vec![
///     FlagDef::bool("base", true),
///     FlagDef::bool("new_ui", false).requires("base").rules(rollout),
/// ])?;
/// let ui = set.index_of("new_ui").unwrap();
/// let eval = set.evaluate(ui, &Context::with_key("123"));
/// assert_eq!(eval.value, Value::Bool(true));
/// assert!(matches!(eval.reason, Reason::Rollout { percent: 73, .. }));
/// assert_eq!(set.label(ui, eval.value), "on");
/// # Ok::<(), flags_runtime::RuleSetError>(())
/// ```
#[derive(Clone, Debug)]
pub struct RuleSet {
    flags: Vec<SetFlag>,
    by_name: HashMap<String, usize>,
}

impl RuleSet {
    /// Builds a rule set from flag definitions; prerequisites may name any flag of
    /// the set.
    pub fn new(defs: Vec<FlagDef>) -> Result<RuleSet, RuleSetError> {
        let mut by_name = HashMap::new();
        for (i, d) in defs.iter().enumerate() {
            if by_name.insert(d.name.clone(), i).is_some() {
                return Err(RuleSetError::Duplicate(d.name.clone()));
            }
        }
        let variant_names: Vec<Vec<&str>> = defs
            .iter()
            .map(|d| d.variants.iter().map(String::as_str).collect())
            .collect();
        let lookup = |name: &str| by_name.get(name).map(|&i| (i, variant_names[i].as_slice()));
        let mut flags = Vec::with_capacity(defs.len());
        for d in &defs {
            let default = match &d.default {
                None => Value::Bool(d.default_on),
                Some(name) => d
                    .variants
                    .iter()
                    .position(|v| v == name)
                    .and_then(|i| u16::try_from(i).ok())
                    .map(Value::Variant)
                    .ok_or_else(|| RuleSetError::BadDefault {
                        flag: d.name.clone(),
                        default: name.clone(),
                    })?,
            };
            let mut prerequisites = Vec::new();
            for (refs, excludes) in [(&d.requires, false), (&d.excludes, true)] {
                for r in refs {
                    let p = Prerequisite::resolve(r, excludes, lookup).map_err(|problem| {
                        RuleSetError::Prerequisite {
                            flag: d.name.clone(),
                            spec: r.to_string(),
                            problem,
                        }
                    })?;
                    prerequisites.push(p);
                }
            }
            let mut flag = SetFlag {
                name: d.name.clone(),
                variants: d.variants.clone(),
                default,
                prerequisites,
                rules: None,
            };
            flag.rules = CompiledRules::compile(&d.rules, flag.shape())?;
            flags.push(flag);
        }
        Ok(RuleSet { flags, by_name })
    }

    /// The flags of a checked manifest with the rules declared in it.
    ///
    /// # Examples
    ///
    /// ```
    /// use flags_runtime::{Context, RuleSet};
    /// use flags_runtime::manifest::Value;
    ///
    /// let m = flags_runtime::manifest::parse_str(r#"
    /// [flags.beta]
    /// description = "d"
    /// owner = "o"
    /// kind = "ops"
    /// [[flags.beta.strategies]]
    /// type = "keys"
    /// keys = ["alice"]
    /// "#, "flags.toml").unwrap();
    /// let set = RuleSet::from_manifest(&m)?;
    /// assert_eq!(set.evaluate(0, &Context::with_key("alice")).value, Value::Bool(true));
    /// assert_eq!(set.evaluate(0, &Context::with_key("bob")).value, Value::Bool(false));
    /// # Ok::<(), flags_runtime::RuleSetError>(())
    /// ```
    pub fn from_manifest(manifest: &Manifest) -> Result<RuleSet, RuleSetError> {
        let defs = manifest
            .flags
            .iter()
            .map(|f| {
                let variants: Vec<&str> = f.variants().iter().map(String::as_str).collect();
                let mut def = match f.default {
                    Value::Bool(b) if variants.is_empty() => FlagDef::bool(&f.name, b),
                    value => FlagDef::variants(&f.name, &variants, &f.value_label(value)),
                };
                for (refs, list) in [
                    (&f.requires, &mut def.requires),
                    (&f.excludes, &mut def.excludes),
                ] {
                    list.extend(refs.iter().map(|r| NamedRef {
                        flag: r.flag.clone(),
                        variant: r.variant.clone(),
                    }));
                }
                def.rules(f.rules.clone())
            })
            .collect();
        RuleSet::new(defs)
    }

    /// Replaces the rules of flag `index`.
    pub fn set_rules(&mut self, index: usize, rules: &Rules) -> Result<(), RuleSetError> {
        let flag = self
            .flags
            .get_mut(index)
            .ok_or(RuleSetError::NoSuchFlag(index))?;
        flag.rules = CompiledRules::compile(rules, flag.shape())?;
        Ok(())
    }

    /// The index of flag `name`.
    #[must_use]
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// Number of flags.
    #[must_use]
    pub fn len(&self) -> usize {
        self.flags.len()
    }

    /// Whether the set has no flags.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.flags.is_empty()
    }

    /// `on`/`off` or the variant name of `value` for flag `index`.
    #[must_use]
    pub fn label(&self, index: usize, value: Value) -> &str {
        match value {
            Value::Bool(true) => "on",
            Value::Bool(false) => "off",
            Value::Variant(v) => self
                .flags
                .get(index)
                .and_then(|f| f.variants.get(usize::from(v)))
                .map_or("?", String::as_str),
        }
    }

    /// Evaluates flag `index` for `ctx`. An index out of range gives `off` with
    /// [`Reason::Error`].
    #[must_use]
    pub fn evaluate(&self, index: usize, ctx: &Context) -> Explanation<'_> {
        let Some(flag) = self.flags.get(index) else {
            return Explanation {
                value: Value::Bool(false),
                label: "off",
                reason: Reason::Error,
                layer: Layer::Manifest,
                flag: "?",
                prerequisite: None,
            };
        };
        let o = evaluate(self, index, ctx, 0);
        Explanation {
            value: o.value,
            label: self.label(index, o.value),
            reason: o.reason,
            layer: o.layer,
            flag: &flag.name,
            prerequisite: match o.reason {
                Reason::PrerequisiteFailed { flag } => {
                    self.flags.get(flag as usize).map(|f| f.name.as_str())
                }
                _ => None,
            },
        }
    }

    /// The payload of the variant `evaluation` (of flag `index`, from
    /// [`RuleSet::evaluate`]) chose, borrowed from these rules: the weighted variant's
    /// payload in the list that decided. `None` when no weighted list decided or the
    /// variant has no payload. Never allocates.
    #[must_use]
    pub fn payload(&self, index: usize, evaluation: &Explanation<'_>) -> Option<Payload<'_>> {
        self.flags
            .get(index)?
            .rules
            .as_ref()?
            .payload(evaluation.reason, evaluation.value)
    }
}

impl Flags for RuleSet {
    fn shape(&self, index: usize) -> FlagShape<'_> {
        self.flags[index].shape()
    }

    fn prerequisites(&self, index: usize) -> &[Prerequisite] {
        &self.flags[index].prerequisites
    }

    fn decision(&self, index: usize) -> Decision<'_> {
        match &self.flags[index].rules {
            Some(r) => Decision::Rules(r, Layer::Manifest),
            None => Decision::Default,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flags_manifest::{Pos, Stickiness, Strategy, StrategyKind};

    fn keys(list: &[&str]) -> Rules {
        Rules {
            strategies: vec![Strategy {
                kind: StrategyKind::Keys(list.iter().map(|k| (*k).to_owned()).collect()),
                constraints: vec![],
                variants: vec![],
                variant_stickiness: Stickiness::Default,
                pos: Pos::default(),
            }],
            ..Rules::default()
        }
    }

    fn set(defs: Vec<FlagDef>) -> RuleSet {
        match RuleSet::new(defs) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn requires_and_excludes() {
        let s = set(vec![
            FlagDef::bool("payments", false).rules(keys(&["alice", "bob"])),
            FlagDef::variants("layout", &["classic", "compact"], "classic").rules(Rules {
                value: Some(Value::Variant(1)),
                ..Rules::default()
            }),
            FlagDef::bool("checkout", true)
                .requires("payments")
                .requires_variant("layout", "compact")
                .excludes("legacy"),
            FlagDef::bool("legacy", false).rules(keys(&["bob"])),
        ]);
        let checkout = 2;
        assert_eq!(
            vr(s.evaluate(checkout, &Context::with_key("alice"))),
            (Value::Bool(true), Reason::Default)
        );
        assert_eq!(
            vr(s.evaluate(checkout, &Context::with_key("carol"))),
            (Value::Bool(false), Reason::PrerequisiteFailed { flag: 0 })
        );
        assert_eq!(
            vr(s.evaluate(checkout, &Context::with_key("bob"))),
            (Value::Bool(false), Reason::PrerequisiteFailed { flag: 3 })
        );
    }

    #[test]
    fn variant_prerequisite_without_variant_means_not_default() {
        let base = |value| {
            set(vec![
                FlagDef::variants("layout", &["classic", "compact"], "classic").rules(Rules {
                    value: Some(Value::Variant(value)),
                    ..Rules::default()
                }),
                FlagDef::bool("x", true).requires("layout"),
            ])
        };
        assert_eq!(
            base(1).evaluate(1, &Context::new()).value,
            Value::Bool(true)
        );
        assert_eq!(
            base(0).evaluate(1, &Context::new()).reason,
            Reason::PrerequisiteFailed { flag: 0 }
        );
    }

    /// Evaluates every flag of `s` with no context.
    fn values(s: &RuleSet) -> Vec<(Value, Reason)> {
        (0..s.len())
            .map(|i| vr(s.evaluate(i, &Context::new())))
            .collect()
    }

    /// The value and the reason of an evaluation.
    fn vr(e: Explanation<'_>) -> (Value, Reason) {
        (e.value, e.reason)
    }

    fn on(v: bool) -> Rules {
        Rules {
            value: Some(Value::Bool(v)),
            ..Rules::default()
        }
    }

    #[test]
    fn mutual_exclusion_is_decided_by_the_flags_own_values() {
        let pair = |a, b| {
            set(vec![
                FlagDef::bool("a", false).excludes("b").rules(on(a)),
                FlagDef::bool("b", false).excludes("a").rules(on(b)),
            ])
        };
        let value = |s: &RuleSet| -> Vec<Value> { values(s).iter().map(|e| e.0).collect() };
        assert_eq!(
            value(&pair(true, false)),
            [Value::Bool(true), Value::Bool(false)]
        );
        assert_eq!(
            value(&pair(false, true)),
            [Value::Bool(false), Value::Bool(true)]
        );
        assert_eq!(
            value(&pair(false, false)),
            [Value::Bool(false), Value::Bool(false)]
        );
        // Both asked for: each excludes the other, neither is an error.
        assert_eq!(
            values(&pair(true, true)),
            [
                (Value::Bool(false), Reason::PrerequisiteFailed { flag: 1 }),
                (Value::Bool(false), Reason::PrerequisiteFailed { flag: 0 }),
            ]
        );
    }

    #[test]
    fn an_exclusion_sees_the_excluded_flags_requires() {
        // b is on by its rules but off through its requires: a is not excluded.
        let s = set(vec![
            FlagDef::bool("a", true).excludes("b"),
            FlagDef::bool("b", true).requires("c"),
            FlagDef::bool("c", false),
        ]);
        assert_eq!(s.evaluate(0, &Context::new()).value, Value::Bool(true));
        assert_eq!(
            s.evaluate(1, &Context::new()).reason,
            Reason::PrerequisiteFailed { flag: 2 }
        );
    }

    #[test]
    fn long_chains_and_diamonds_never_end_in_error() {
        // 100 flags in a line, each requiring the next, and each also excluding a flag
        // that excludes it back.
        let n = 100;
        let mut defs = Vec::new();
        for i in 0..n {
            let mut d = FlagDef::bool(&format!("c{i}"), true).excludes(&format!("x{i}"));
            if i + 1 < n {
                d = d.requires(&format!("c{}", i + 1));
            }
            defs.push(d);
        }
        for i in 0..n {
            defs.push(FlagDef::bool(&format!("x{i}"), false).excludes(&format!("c{i}")));
        }
        let s = set(defs);
        for e in values(&s) {
            assert_ne!(e.1, Reason::Error);
        }
        assert_eq!(s.evaluate(0, &Context::new()).value, Value::Bool(true));
        // A chain as long as a checked manifest allows, through an exclusion, into
        // another chain as long: still no error.
        let m = flags_manifest::MAX_REQUIRES_DEPTH;
        let mut defs = Vec::new();
        for i in 0..=m {
            let mut d = FlagDef::bool(&format!("a{i}"), true);
            if i < m {
                d = d.requires(&format!("a{}", i + 1));
            } else {
                d = d.excludes("b0");
            }
            defs.push(d);
        }
        for i in 0..=m {
            let mut d = FlagDef::bool(&format!("b{i}"), true);
            if i < m {
                d = d.requires(&format!("b{}", i + 1));
            }
            defs.push(d);
        }
        let s = set(defs);
        assert_eq!(
            s.evaluate(0, &Context::new()).reason,
            Reason::PrerequisiteFailed { flag: 1 }
        );
        assert_eq!(
            s.evaluate(m, &Context::new()).reason,
            Reason::PrerequisiteFailed {
                flag: u32::try_from(m + 1).unwrap()
            }
        );
        // A diamond: d is required along two paths.
        let s = set(vec![
            FlagDef::bool("a", true).requires("b").requires("c"),
            FlagDef::bool("b", true).requires("d"),
            FlagDef::bool("c", true).requires("d"),
            FlagDef::bool("d", true),
        ]);
        assert_eq!(
            vr(s.evaluate(0, &Context::new())),
            (Value::Bool(true), Reason::Default)
        );
    }

    #[test]
    fn cycles_end_in_error() {
        let s = set(vec![
            FlagDef::bool("a", true).requires("b"),
            FlagDef::bool("b", true).requires("a"),
        ]);
        assert_eq!(
            vr(s.evaluate(0, &Context::new())),
            (Value::Bool(false), Reason::Error)
        );
        assert_eq!(s.evaluate(9, &Context::new()).reason, Reason::Error);
    }

    #[test]
    fn bad_definitions_are_refused() {
        assert_eq!(
            RuleSet::new(vec![FlagDef::bool("a", true), FlagDef::bool("a", false)]).err(),
            Some(RuleSetError::Duplicate("a".into()))
        );
        assert!(matches!(
            RuleSet::new(vec![FlagDef::variants("v", &["x", "y"], "z")]),
            Err(RuleSetError::BadDefault { .. })
        ));
        assert!(matches!(
            RuleSet::new(vec![FlagDef::bool("a", true).requires("nope")]),
            Err(RuleSetError::Prerequisite { .. })
        ));
        assert!(matches!(
            RuleSet::new(vec![
                FlagDef::variants("v", &["x", "y"], "x"),
                FlagDef::bool("a", true).requires_variant("v", "w"),
            ]),
            Err(RuleSetError::Prerequisite { .. })
        ));
        let mut s = set(vec![FlagDef::bool("a", true)]);
        assert_eq!(
            s.set_rules(4, &Rules::default()),
            Err(RuleSetError::NoSuchFlag(4))
        );
        assert!(s.set_rules(0, &keys(&["k"])).is_ok());
        assert_eq!(
            s.evaluate(0, &Context::with_key("k")).value,
            Value::Bool(true)
        );
        assert_eq!(s.label(0, Value::Bool(false)), "off");
        assert_eq!(s.len(), 1);
        assert!(!s.is_empty());
    }
}
