//! Compiled rules: one flag's [`flags_manifest::Rules`] checked against the flag and
//! prepared for evaluation (operands parsed and case-folded, group ids pre-hashed,
//! weights accumulated), and their evaluation against a [`Context`].
//!
//! Semantics follow Unleash's client specification: a kill switch wins; strategies are
//! tried in order and the first that matches decides; constraints must all hold;
//! a rollout admits a context whose bucket is at most the percentage; variants come
//! from the matching strategy, else from the flag. Evaluation reads the context in
//! place and never allocates.

mod constraint;

use crate::bucket::{Bucket, BucketGroup};
use crate::context::{Attr, Context};
use crate::explain::{Payload, Reason};
use constraint::{CConstraint, boxed_list, compile_constraint};
use flags_manifest::{
    LayerPrerequisite, PayloadKind, Rules, Stickiness, Strategy, StrategyKind, Value,
};
use std::fmt;

/// Rules that cannot apply to their flag; the update carrying them is rejected whole.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RuleError {
    /// A value of the wrong kind (a bool for a variant flag, or the reverse).
    #[error("flag `{flag}`: {found} is not a value of this flag (help: use {expected})")]
    WrongValueType {
        /// The flag.
        flag: String,
        /// What was given.
        found: String,
        /// What the flag takes.
        expected: &'static str,
    },
    /// A variant index beyond the flag's variants.
    #[error(
        "flag `{flag}`: variant #{index} does not exist (help: the flag has {count} variants, numbered from 0)"
    )]
    VariantOutOfRange {
        /// The flag.
        flag: String,
        /// The index given.
        index: u16,
        /// How many variants the flag has.
        count: usize,
    },
    /// Weighted variants on an on/off flag.
    #[error(
        "flag `{flag}`: an on/off flag cannot have weighted variants (help: declare variants on the flag, or drop the weights)"
    )]
    VariantsOnBool {
        /// The flag.
        flag: String,
    },
    /// A rollout above 100%.
    #[error("flag `{flag}`: rollout of {percent}% (help: use a percentage from 0 to 100)")]
    Percent {
        /// The flag.
        flag: String,
        /// The percentage given.
        percent: u8,
    },
    /// Weights whose total overflows.
    #[error("flag `{flag}`: the variant weights add up to more than 4294967295")]
    WeightOverflow {
        /// The flag.
        flag: String,
    },
}

/// What compiling and evaluating rules needs to know about their flag.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FlagShape<'a> {
    /// The flag's name: the default group id of its rollouts and variant splits.
    pub(crate) name: &'a str,
    /// Number of variants; 0 for an on/off flag.
    pub(crate) variants: usize,
    /// The manifest default.
    pub(crate) default: Value,
}

impl FlagShape<'_> {
    /// The value when a flag is off: `false`, or the default variant.
    pub(crate) fn off(&self) -> Value {
        match (self.variants, self.default) {
            (0, _) => Value::Bool(false),
            (_, v @ Value::Variant(i)) if usize::from(i) < self.variants => v,
            _ => Value::Variant(0),
        }
    }

    /// The value when a flag is on without a variant decision: `true`, or the
    /// default variant.
    pub(crate) fn on(&self) -> Value {
        match self.variants {
            0 => Value::Bool(true),
            _ => self.off(),
        }
    }

    pub(crate) fn check_value(&self, value: Value) -> Result<Value, RuleError> {
        match (self.variants, value) {
            (0, Value::Bool(_)) => Ok(value),
            (0, Value::Variant(i)) => Err(RuleError::WrongValueType {
                flag: self.name.to_owned(),
                found: format!("variant #{i}"),
                expected: "true or false",
            }),
            (_, Value::Bool(b)) => Err(RuleError::WrongValueType {
                flag: self.name.to_owned(),
                found: b.to_string(),
                expected: "one of the flag's variants",
            }),
            (n, Value::Variant(i)) if usize::from(i) >= n => Err(RuleError::VariantOutOfRange {
                flag: self.name.to_owned(),
                index: i,
                count: n,
            }),
            _ => Ok(value),
        }
    }
}

/// One flag's rules in one layer, ready to evaluate.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CompiledRules {
    kill: bool,
    fixed: Option<Value>,
    /// This layer's own prerequisites (Unleash's dependencies), checked in order.
    prerequisites: Box<[CPrerequisite]>,
    strategies: Box<[CStrategy]>,
    split: Option<Split>,
    off: Value,
    on: Value,
}

/// A [`LayerPrerequisite`] with its parent's rules compiled.
#[derive(Clone, Debug, PartialEq)]
struct CPrerequisite {
    enabled: bool,
    /// The parent's variants that satisfy it; `None` when any does.
    variants: Option<Box<[u16]>>,
    /// `None`: the parent is missing, or has prerequisites of its own: never holds.
    parent: Option<Box<CompiledRules>>,
    /// The rules that pick the parent's variant, when not `parent`'s own.
    picker: Option<Box<CompiledRules>>,
}

impl CPrerequisite {
    fn compile(p: &LayerPrerequisite) -> Result<CPrerequisite, RuleError> {
        let (parent, picker) = match p.parent.as_deref() {
            Some(parent) if parent.rules.prerequisites.is_empty() => {
                let shape = FlagShape {
                    name: &p.flag,
                    variants: parent.variants.len(),
                    default: if parent.variants.is_empty() {
                        Value::Bool(false)
                    } else {
                        Value::Variant(0)
                    },
                };
                // Rules that say nothing leave the parent off (and pick no variant).
                let compile = |rules: &Rules| -> Result<Box<CompiledRules>, RuleError> {
                    Ok(Box::new(
                        CompiledRules::compile(rules, shape)?
                            .unwrap_or_else(|| CompiledRules::off(shape)),
                    ))
                };
                let picker = match &parent.variant_rules {
                    Some(rules) if rules.prerequisites.is_empty() => Some(compile(rules)?),
                    _ => None,
                };
                (Some(compile(&parent.rules)?), picker)
            }
            _ => (None, None),
        };
        let variants = (!p.variants.is_empty()).then(|| {
            let names = p.parent.as_deref().map_or(&[][..], |r| &r.variants[..]);
            names
                .iter()
                .enumerate()
                .filter(|(_, n)| p.variants.contains(n))
                .filter_map(|(i, _)| u16::try_from(i).ok())
                .collect()
        });
        Ok(CPrerequisite {
            enabled: p.enabled,
            variants,
            parent,
            picker,
        })
    }

    /// Unleash's check: the parent's enabled state is the expected one and, when
    /// variants are listed and the parent's rules pick a variant (whether or not the
    /// parent is enabled), it is one of them.
    #[inline]
    fn holds(&self, ctx: &Context) -> bool {
        let Some(parent) = &self.parent else {
            return false;
        };
        if let Some(wanted) = &self.variants
            && let Some(v) = self.picker.as_deref().unwrap_or(parent).picked_variant(ctx)
            && !wanted.contains(&v)
        {
            return false;
        }
        parent.evaluate(ctx).1.is_match() == self.enabled
    }
}

#[derive(Clone, Debug, PartialEq)]
struct CStrategy {
    kind: CKind,
    constraints: Box<[CConstraint]>,
    split: Option<Split>,
}

#[derive(Clone, Debug, PartialEq)]
enum CKind {
    All,
    Keys(Box<[Box<str>]>),
    Rollout {
        percent: u8,
        stickiness: CStickiness,
        group: Group,
    },
}

/// A group id hashed once; compared by its text.
#[derive(Clone)]
struct Group {
    id: Box<str>,
    hashed: BucketGroup,
}

impl Group {
    fn new(id: &str) -> Group {
        Group {
            id: Box::from(id),
            hashed: BucketGroup::new(id),
        }
    }
}

impl PartialEq for Group {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl fmt::Debug for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.id, f)
    }
}

#[derive(Clone, Debug, PartialEq)]
enum CStickiness {
    Default,
    Key,
    Random,
    Attribute(Box<str>),
}

impl From<&Stickiness> for CStickiness {
    fn from(s: &Stickiness) -> Self {
        match s {
            Stickiness::Default => CStickiness::Default,
            Stickiness::Key => CStickiness::Key,
            Stickiness::Random => CStickiness::Random,
            // Unleash's spellings of the built-in fields, as a rule from a remote
            // payload would write them.
            Stickiness::Attribute(a) if a == "userId" => CStickiness::Key,
            Stickiness::Attribute(a) => CStickiness::Attribute(Box::from(a.as_str())),
        }
    }
}

/// A weighted variant's payload: its kind and value.
type CPayload = (PayloadKind, Box<str>);

/// Weighted variants: the end of each variant's range on the `1..=total` line.
#[derive(Clone, Debug, PartialEq)]
struct Split {
    ends: Box<[(u16, u32)]>,
    /// Each entry's payload, beside `ends`; empty when no entry has one. Read only
    /// after a decision, to report the chosen variant's payload.
    payloads: Box<[Option<CPayload>]>,
    total: u32,
    stickiness: CStickiness,
    group: Group,
}

impl CompiledRules {
    /// Checks `rules` against the flag and prepares them. `None` for rules that say
    /// nothing (the decision falls to a lower layer).
    pub(crate) fn compile(
        rules: &Rules,
        flag: FlagShape<'_>,
    ) -> Result<Option<CompiledRules>, RuleError> {
        if rules.is_empty() {
            return Ok(None);
        }
        let fixed = rules.value.map(|v| flag.check_value(v)).transpose()?;
        let strategies = rules
            .strategies
            .iter()
            .map(|s| compile_strategy(s, flag))
            .collect::<Result<Box<[_]>, _>>()?;
        let split = compile_split(&rules.variants, &rules.variant_stickiness, flag.name, flag)?;
        let prerequisites = rules
            .prerequisites
            .iter()
            .map(CPrerequisite::compile)
            .collect::<Result<Box<[_]>, _>>()?;
        Ok(Some(CompiledRules {
            kill: rules.enabled == Some(false),
            fixed,
            prerequisites,
            strategies,
            split,
            off: flag.off(),
            on: flag.on(),
        }))
    }

    /// Rules that keep the flag off for everyone.
    fn off(flag: FlagShape<'_>) -> CompiledRules {
        CompiledRules {
            kill: true,
            fixed: None,
            prerequisites: Box::new([]),
            strategies: Box::new([]),
            split: None,
            off: flag.off(),
            on: flag.on(),
        }
    }

    /// Rules that fix `value` for everyone (environment values, overrides).
    pub(crate) fn fixed(value: Value, flag: FlagShape<'_>) -> Result<CompiledRules, RuleError> {
        Ok(CompiledRules {
            kill: false,
            fixed: Some(flag.check_value(value)?),
            prerequisites: Box::new([]),
            strategies: Box::new([]),
            split: None,
            off: flag.off(),
            on: flag.on(),
        })
    }

    /// The value these rules fix for everyone, if they do (an override's value).
    pub(crate) fn fixed_value(&self) -> Option<Value> {
        if self.kill {
            return Some(self.off);
        }
        self.fixed
    }

    /// Whether the outcome is the same for every context, so the value can be served
    /// from the fast cell.
    pub(crate) fn is_uniform(&self) -> bool {
        if self.kill || self.fixed.is_some() {
            return true;
        }
        if !self.prerequisites.is_empty() {
            return false;
        }
        if self.strategies.is_empty() {
            return self.split.is_none();
        }
        for s in self.strategies.iter() {
            let never = match &s.kind {
                CKind::Rollout { percent: 0, .. } => true,
                CKind::Keys(keys) => keys.is_empty(),
                _ => false,
            };
            if never {
                continue;
            }
            let always = s.constraints.is_empty()
                && match &s.kind {
                    CKind::All => true,
                    CKind::Rollout {
                        percent,
                        stickiness,
                        ..
                    } => {
                        *percent >= 100
                            && matches!(stickiness, CStickiness::Default | CStickiness::Random)
                    }
                    CKind::Keys(_) => false,
                };
            return always && s.split.is_none() && self.split.is_none();
        }
        true
    }

    /// The rules in a few words, for people: a fixed value, a kill switch, or the
    /// strategies with their rollout percentages.
    pub(crate) fn summary(&self, meta: &crate::meta::FlagMeta) -> String {
        if self.kill {
            return "kill switch".to_owned();
        }
        if let Some(v) = self.fixed {
            return meta.label(v).to_owned();
        }
        let mut parts: Vec<String> = self
            .strategies
            .iter()
            .map(|s| {
                let kind = match &s.kind {
                    CKind::All => "everyone".to_owned(),
                    CKind::Keys(keys) if keys.is_empty() => "nobody".to_owned(),
                    CKind::Keys(keys) => format!("{} listed keys", keys.len()),
                    CKind::Rollout { percent, .. } => format!("{percent}% rollout"),
                };
                match s.constraints.len() {
                    0 => kind,
                    1 => format!("{kind} if 1 constraint"),
                    n => format!("{kind} if {n} constraints"),
                }
            })
            .collect();
        if !self.prerequisites.is_empty() {
            parts.push(format!("{} prerequisites", self.prerequisites.len()));
        }
        if self.split.is_some() || self.strategies.iter().any(|s| s.split.is_some()) {
            parts.push("weighted variants".to_owned());
        }
        if parts.is_empty() {
            return "no strategy: off".to_owned();
        }
        parts.join("; ")
    }

    /// Short description for telemetry: the fixed value or the rule shape.
    pub(crate) fn describe(&self) -> RulesSummary {
        RulesSummary {
            strategies: self.strategies.len(),
            split: self.split.is_some(),
        }
    }

    /// Evaluates the rules for `ctx`: the value and why.
    #[inline]
    pub(crate) fn evaluate(&self, ctx: &Context) -> (Value, Reason) {
        self.decide(ctx)
    }

    /// Evaluates the rules for `ctx`: the value only (what accessors need; the
    /// reason is never built).
    #[inline]
    pub(crate) fn value(&self, ctx: &Context) -> Value {
        self.decide(ctx)
    }

    /// The rules as a [`StickyRollout`] when that is all they are: one rollout on the
    /// targeting key (`default` or key stickiness), with no constraints, variants,
    /// prerequisites, kill switch or fixed value.
    pub(crate) fn sticky_rollout(&self) -> Option<StickyRollout> {
        if self.kill || self.fixed.is_some() || !self.prerequisites.is_empty() {
            return None;
        }
        let [strategy] = &*self.strategies else {
            return None;
        };
        if !strategy.constraints.is_empty() || strategy.split.is_some() || self.split.is_some() {
            return None;
        }
        match &strategy.kind {
            CKind::Rollout {
                percent,
                stickiness: CStickiness::Default | CStickiness::Key,
                group,
            } => Some(StickyRollout {
                group: group.hashed,
                percent: *percent,
                on: self.on,
                off: self.off,
            }),
            _ => None,
        }
    }

    /// The evaluation, written once for both result shapes.
    #[inline]
    fn decide<V: Verdict>(&self, ctx: &Context) -> V {
        if self.kill {
            return V::of(self.off, || Reason::KillSwitch);
        }
        if let Some(v) = self.fixed {
            return V::of(v, || Reason::Fixed);
        }
        for (i, p) in self.prerequisites.iter().enumerate() {
            if !p.holds(ctx) {
                return V::of(self.off, || Reason::LayerPrerequisiteFailed {
                    index: u16::try_from(i).unwrap_or(u16::MAX),
                });
            }
        }
        if self.strategies.is_empty() {
            return match &self.split {
                Some(split) => V::of(split.pick(ctx).unwrap_or(self.on), || Reason::Split),
                None => V::of(self.on, || Reason::Fixed),
            };
        }
        let mut failed_constraint = None;
        for (i, s) in self.strategies.iter().enumerate() {
            if let Some(c) = s.constraints.iter().position(|c| !c.holds(ctx)) {
                failed_constraint.get_or_insert((i, c));
                continue;
            }
            // Positions saturate: no real rule set has 65535 strategies.
            let index = u16::try_from(i).unwrap_or(u16::MAX);
            let reason = match s.kind.admits(ctx) {
                Admit::No => continue,
                Admit::Yes => Reason::Strategy { index },
                Admit::Bucket(bucket, percent) => Reason::Rollout {
                    index,
                    bucket,
                    percent,
                },
            };
            let value = s
                .split
                .as_ref()
                .or(self.split.as_ref())
                .and_then(|split| split.pick(ctx))
                .unwrap_or(self.on);
            return V::of(value, || reason);
        }
        V::of(self.off, || match failed_constraint {
            Some((strategy, constraint)) => Reason::ConstraintFailed {
                strategy: u16::try_from(strategy).unwrap_or(u16::MAX),
                constraint: u16::try_from(constraint).unwrap_or(u16::MAX),
            },
            None => Reason::NoStrategyMatched,
        })
    }
}

impl CompiledRules {
    /// The payload of variant `value` as these rules gave it for `reason` (from
    /// [`CompiledRules::evaluate`]): the weighted list of the strategy that decided,
    /// else the flag's list. `None` when no weighted list chose the value (a kill
    /// switch, a fixed value, a split whose weights are all zero) or it has no
    /// payload. Borrows, never allocates.
    pub(crate) fn payload(&self, reason: Reason, value: Value) -> Option<Payload<'_>> {
        let Value::Variant(v) = value else {
            return None;
        };
        let split = match reason {
            Reason::Split if self.strategies.is_empty() => self.split.as_ref()?,
            Reason::Strategy { index } | Reason::Rollout { index, .. } => {
                let s = self.strategies.get(usize::from(index))?;
                s.split.as_ref().or(self.split.as_ref())?
            }
            _ => return None,
        };
        split.payload(v)
    }

    /// The variant these rules pick for `ctx` whether or not they enable the flag, as
    /// Unleash reads a parent's variant for a dependency: the first strategy that
    /// matches (constraints and kind) gives its variants, else the flag's; `None` when
    /// no variants apply.
    fn picked_variant(&self, ctx: &Context) -> Option<u16> {
        let matched = self.strategies.iter().find(|s| {
            s.constraints.iter().all(|c| c.holds(ctx)) && s.kind.admits(ctx) != Admit::No
        });
        let split = matched
            .and_then(|s| s.split.as_ref())
            .or(self.split.as_ref())?;
        match split.pick(ctx)? {
            Value::Variant(v) => Some(v),
            Value::Bool(_) => None,
        }
    }
}

/// Rules that are one sticky rollout on the targeting key, reduced to what deciding
/// needs: [`decide`](CompiledRules::decide) gives the same value for every context with
/// a key (its single strategy admits exactly the keys whose bucket is within the
/// percentage, and no variants apply), without walking the rules.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StickyRollout {
    group: BucketGroup,
    percent: u8,
    on: Value,
    off: Value,
}

impl StickyRollout {
    /// Its group and percentage when it is an on/off rollout (on inside, off
    /// outside): what a fast cell can carry (the percentage) beside a per-flag group.
    pub(crate) fn on_off(&self) -> Option<(BucketGroup, u8)> {
        (self.on == Value::Bool(true) && self.off == Value::Bool(false))
            .then_some((self.group, self.percent))
    }

    /// The value for `ctx`, or `None` when it has no targeting key: the full rules
    /// decide then (`default` stickiness falls back to `sessionId`, then random).
    #[inline(always)]
    pub(crate) fn value(&self, ctx: &Context) -> Option<Value> {
        let key = ctx.key_attr()?;
        let inside = self
            .group
            .rollout_bucket(key.text())
            .is_in_rollout(self.percent);
        Some(if inside { self.on } else { self.off })
    }

    /// [`value`](Self::value) with the reason [`CompiledRules::evaluate`] gives for
    /// it: the rollout (strategy 0) with the key's bucket inside the percentage, no
    /// strategy matched outside; `None` without a targeting key.
    #[inline(always)]
    pub(crate) fn explain(&self, ctx: &Context) -> Option<(Value, Reason)> {
        ctx.key_attr().map(|key| self.explain_key(key.text()))
    }

    /// [`explain`](Self::explain) for a context whose targeting key is `key`: its
    /// other attributes play no part.
    #[inline(always)]
    pub(crate) fn explain_key(&self, key: &str) -> (Value, Reason) {
        let bucket = self.group.rollout_bucket(key);
        if bucket.is_in_rollout(self.percent) {
            let reason = Reason::Rollout {
                index: 0,
                bucket,
                percent: self.percent,
            };
            (self.on, reason)
        } else {
            (self.off, Reason::NoStrategyMatched)
        }
    }
}

/// Whether a strategy's kind admits a context.
#[derive(Clone, Copy, PartialEq)]
enum Admit {
    No,
    Yes,
    /// A rollout admitted it with this bucket and percentage.
    Bucket(Bucket, u8),
}

impl CKind {
    #[inline(always)]
    fn admits(&self, ctx: &Context) -> Admit {
        match self {
            CKind::All => Admit::Yes,
            CKind::Keys(keys) => match ctx.key_attr() {
                Some(key) if keys.iter().any(|k| **k == *key.text()) => Admit::Yes,
                _ => Admit::No,
            },
            CKind::Rollout {
                percent,
                stickiness,
                group,
            } => {
                let bucket = match rollout_key(stickiness, ctx) {
                    Sticky::Key(k) => group.hashed.rollout_bucket(k),
                    Sticky::Random => random_bucket(),
                    Sticky::Missing => return Admit::No,
                };
                if bucket.is_in_rollout(*percent) {
                    Admit::Bucket(bucket, *percent)
                } else {
                    Admit::No
                }
            }
        }
    }
}

/// The result shape of an evaluation: the value alone, or with its reason (built
/// only when asked for).
trait Verdict {
    fn of(value: Value, reason: impl FnOnce() -> Reason) -> Self;
}

impl Verdict for Value {
    #[inline(always)]
    fn of(value: Value, _reason: impl FnOnce() -> Reason) -> Self {
        value
    }
}

impl Verdict for (Value, Reason) {
    #[inline(always)]
    fn of(value: Value, reason: impl FnOnce() -> Reason) -> Self {
        (value, reason())
    }
}

/// A compact, printable description of compiled rules.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct RulesSummary {
    strategies: usize,
    split: bool,
}

impl RulesSummary {
    pub(crate) fn strategies(&self) -> usize {
        self.strategies
    }
    pub(crate) fn split(&self) -> bool {
        self.split
    }
}

enum Sticky<'c> {
    Key(&'c str),
    Random,
    Missing,
}

/// A present value, empty text included: Yggdrasil buckets `""` like any other
/// value.
#[inline(always)]
fn present(attr: Option<&Attr>) -> Option<&str> {
    attr.map(Attr::text)
}

/// The stickiness value of a rollout (Unleash's `flexibleRollout`): `default` is the
/// key, else `sessionId`, else random; a named attribute that is missing admits nobody.
#[inline(always)]
fn rollout_key<'c>(stickiness: &CStickiness, ctx: &'c Context) -> Sticky<'c> {
    match stickiness {
        CStickiness::Default => present(ctx.key_attr())
            .or_else(|| present(ctx.lookup("sessionId")))
            .map_or(Sticky::Random, Sticky::Key),
        CStickiness::Key => present(ctx.key_attr()).map_or(Sticky::Missing, Sticky::Key),
        CStickiness::Random => Sticky::Random,
        CStickiness::Attribute(name) => {
            present(ctx.lookup(name)).map_or(Sticky::Missing, Sticky::Key)
        }
    }
}

/// The stickiness value of a variant split (Unleash's variant seed): `default` is the
/// key, else `sessionId`, else random (Yggdrasil; some SDKs also try
/// `remoteAddress`); a missing named attribute is random.
#[inline]
fn variant_key<'c>(stickiness: &CStickiness, ctx: &'c Context) -> Option<&'c str> {
    match stickiness {
        CStickiness::Default => {
            present(ctx.key_attr()).or_else(|| present(ctx.lookup("sessionId")))
        }
        CStickiness::Key => present(ctx.key_attr()),
        CStickiness::Random => None,
        CStickiness::Attribute(name) => present(ctx.lookup(name)),
    }
}

impl Split {
    /// The payload of variant `v` in this list (`None` when the weights add up to
    /// zero: the list chose nothing).
    fn payload(&self, v: u16) -> Option<Payload<'_>> {
        if self.total == 0 {
            return None;
        }
        let at = self.ends.iter().position(|(variant, _)| *variant == v)?;
        let (kind, value) = self.payloads.get(at)?.as_ref()?;
        Some(Payload { kind: *kind, value })
    }

    /// The variant for `ctx`; `None` when the weights add up to zero.
    #[inline]
    fn pick(&self, ctx: &Context) -> Option<Value> {
        if self.total == 0 {
            return None;
        }
        let point = match variant_key(&self.stickiness, ctx) {
            Some(key) => self.group.hashed.variant_bucket(key, self.total),
            None => random_below(self.total) + 1,
        };
        self.ends
            .iter()
            .find(|(_, end)| point <= *end)
            .map(|(v, _)| Value::Variant(*v))
    }
}

fn compile_strategy(s: &Strategy, flag: FlagShape<'_>) -> Result<CStrategy, RuleError> {
    let (kind, group_id) = match &s.kind {
        StrategyKind::All => (CKind::All, flag.name),
        StrategyKind::Keys(keys) => (CKind::Keys(boxed_list(keys)), flag.name),
        StrategyKind::Rollout {
            percent,
            stickiness,
            group_id,
        } => {
            if *percent > 100 {
                return Err(RuleError::Percent {
                    flag: flag.name.to_owned(),
                    percent: *percent,
                });
            }
            // Taken as given, empty included: Unleash's legacy gradual rollouts hash
            // ":key" when they have no group (the manifest itself defaults the group to
            // the flag's name when parsing).
            let group_id = group_id.as_str();
            (
                CKind::Rollout {
                    percent: *percent,
                    stickiness: stickiness.into(),
                    group: Group::new(group_id),
                },
                group_id,
            )
        }
    };
    Ok(CStrategy {
        kind,
        constraints: s.constraints.iter().map(compile_constraint).collect(),
        split: compile_split(&s.variants, &s.variant_stickiness, group_id, flag)?,
    })
}

fn compile_split(
    variants: &[flags_manifest::WeightedVariant],
    stickiness: &Stickiness,
    group_id: &str,
    flag: FlagShape<'_>,
) -> Result<Option<Split>, RuleError> {
    if variants.is_empty() {
        return Ok(None);
    }
    if flag.variants == 0 {
        return Err(RuleError::VariantsOnBool {
            flag: flag.name.to_owned(),
        });
    }
    let mut total = 0u32;
    let mut ends = Vec::with_capacity(variants.len());
    for v in variants {
        flag.check_value(Value::Variant(v.variant))?;
        total = total
            .checked_add(v.weight)
            .ok_or_else(|| RuleError::WeightOverflow {
                flag: flag.name.to_owned(),
            })?;
        ends.push((v.variant, total));
    }
    let payloads: Box<[_]> = if variants.iter().any(|v| v.payload.is_some()) {
        variants
            .iter()
            .map(|v| {
                v.payload
                    .as_ref()
                    .map(|p| (p.kind, Box::from(p.value.as_str())))
            })
            .collect()
    } else {
        Box::default()
    };
    Ok(Some(Split {
        ends: ends.into_boxed_slice(),
        payloads,
        total,
        stickiness: stickiness.into(),
        group: Group::new(group_id),
    }))
}

thread_local! {
    static RNG: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// A uniform number in `0..n` from a per-thread xorshift generator (for `random`
/// stickiness, which is not sticky by design). `n` must be positive.
pub(crate) fn random_below(n: u32) -> u32 {
    let x = RNG
        .try_with(|cell| {
            let mut x = cell.get();
            if x == 0 {
                use std::hash::{BuildHasher, Hasher};
                // A process-random seed without allocating; `| 1` keeps it non-zero.
                let mut h = std::collections::hash_map::RandomState::new().build_hasher();
                h.write_usize(cell as *const _ as usize);
                x = h.finish() | 1;
            }
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            cell.set(x);
            x
        })
        .unwrap_or(0x9e37_79b9_7f4a_7c15);
    // Multiply-shift maps the 64-bit value onto 0..n without modulo bias worth noting.
    ((u128::from(x) * u128::from(n)) >> 64) as u32
}

fn random_bucket() -> Bucket {
    // `random_below(100)` is below 100, so the bucket is in 1..=100.
    Bucket::new(random_below(100) as u8 + 1).unwrap_or(Bucket::MAX)
}

#[cfg(test)]
mod tests;
