//! Compiled rules: one flag's [`flags_manifest::Rules`] checked against the flag and
//! prepared for evaluation (operands parsed and case-folded, group ids pre-hashed,
//! weights accumulated), and their evaluation against a [`Context`].
//!
//! Semantics follow Unleash's client specification: a kill switch wins; strategies are
//! tried in order and the first that matches decides; constraints must all hold;
//! a rollout admits a context whose bucket is at most the percentage; variants come
//! from the matching strategy, else from the flag. Evaluation reads the context in
//! place and never allocates.

use std::cmp::Ordering;
use std::fmt;

use flags_manifest::{
    Constraint, LayerPrerequisite, Operator, PayloadKind, Rules, Stickiness, Strategy,
    StrategyKind, Value,
};

use crate::bucket::{Bucket, BucketGroup};
use crate::context::{Attr, Context};
use crate::explain::{Payload, Reason};
use crate::operator::{self, Cidr, Instant, Pattern, Version};
use flags_manifest::operand::{SemVer, parse_number};

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

#[derive(Clone, Debug, PartialEq)]
struct CConstraint {
    attribute: Box<str>,
    test: Test,
    inverted: bool,
}

#[derive(Clone, Debug, PartialEq)]
enum Test {
    In(Box<[Box<str>]>),
    NotIn(Box<[Box<str>]>),
    Str {
        op: StrOp,
        /// Case-folded when `case_insensitive`.
        values: Box<[Box<str>]>,
        case_insensitive: bool,
    },
    Num {
        op: Operator,
        value: f64,
    },
    Date {
        after: bool,
        at: Instant,
    },
    Semver {
        op: Operator,
        /// The operand, parsed once when the rules are compiled.
        value: SemVer,
    },
    Regex(Pattern),
    Cidr(Box<[Cidr]>),
    /// An operand that does not parse for its operator: never true (before `inverted`),
    /// as in Unleash.
    Never,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum StrOp {
    Contains,
    StartsWith,
    EndsWith,
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

impl CConstraint {
    #[inline]
    fn holds(&self, ctx: &Context) -> bool {
        let attr = ctx.lookup(&self.attribute);
        if attr.is_none() && &*self.attribute == "currentTime" {
            // Yggdrasil reads a missing `currentTime` as the time of evaluation, in
            // whole seconds, for every operator (dates, strings, lists).
            let now = operator::now();
            return match operator::TimeText::new(now) {
                Some(text) => self.holds_on(Some(text.as_str()), None, Some(now)),
                None => self.holds_on(None, None, None),
            };
        }
        self.holds_on(attr.map(Attr::text), attr.and_then(Attr::number), None)
    }

    /// The test on a value given as text, its number (when it is one) and, for a
    /// defaulted `currentTime`, the instant it stands for.
    #[inline]
    fn holds_on(&self, text: Option<&str>, number: Option<f64>, now: Option<Instant>) -> bool {
        let result = match &self.test {
            Test::In(values) => text.is_some_and(|t| values.iter().any(|v| **v == *t)),
            Test::NotIn(values) => !text.is_some_and(|t| values.iter().any(|v| **v == *t)),
            Test::Str {
                op,
                values,
                case_insensitive,
            } => text.is_some_and(|value| {
                // Linear in the value and the operands: `str::contains` is two-way.
                let test = |text: &str| {
                    values.iter().any(|v| match op {
                        StrOp::Contains => text.contains(&**v),
                        StrOp::StartsWith => text.starts_with(&**v),
                        StrOp::EndsWith => text.ends_with(&**v),
                    })
                };
                if *case_insensitive {
                    operator::with_folded(value, test)
                } else {
                    test(value)
                }
            }),
            Test::Num { op, value } => number.is_some_and(|n| match op {
                // Within an epsilon, as Yggdrasil compares.
                Operator::NumEq => (n - *value).abs() < f64::EPSILON,
                Operator::NumGt => n > *value,
                Operator::NumGte => n >= *value,
                Operator::NumLt => n < *value,
                Operator::NumLte => n <= *value,
                _ => false,
            }),
            Test::Date { after, at } => {
                let when = now.or_else(|| text.and_then(operator::parse_datetime));
                when.is_some_and(|t| if *after { t > *at } else { t < *at })
            }
            Test::Semver { op, value } => match text.and_then(Version::parse) {
                Some(have) => {
                    let ord = have.cmp(&value.as_version());
                    match op {
                        Operator::SemverEq => ord == Ordering::Equal,
                        Operator::SemverGt => ord == Ordering::Greater,
                        Operator::SemverGte => ord != Ordering::Less,
                        Operator::SemverLt => ord == Ordering::Less,
                        Operator::SemverLte => ord != Ordering::Greater,
                        _ => false,
                    }
                }
                _ => false,
            },
            Test::Regex(re) => text.is_some_and(|t| re.is_match(t)),
            Test::Cidr(ranges) => text.is_some_and(|t| ranges.iter().any(|r| r.contains(t))),
            Test::Never => false,
        };
        result != self.inverted
    }
}

fn boxed_list(values: &[String]) -> Box<[Box<str>]> {
    values.iter().map(|v| Box::from(v.as_str())).collect()
}

fn compile_constraint(c: &Constraint) -> CConstraint {
    let single = || match c.values.as_slice() {
        [one] => Some(one.as_str()),
        _ => None,
    };
    let test = match c.operator {
        Operator::In => Test::In(boxed_list(&c.values)),
        Operator::NotIn => Test::NotIn(boxed_list(&c.values)),
        Operator::StrContains | Operator::StrStartsWith | Operator::StrEndsWith => Test::Str {
            op: match c.operator {
                Operator::StrContains => StrOp::Contains,
                Operator::StrStartsWith => StrOp::StartsWith,
                _ => StrOp::EndsWith,
            },
            values: if c.case_insensitive {
                c.values
                    .iter()
                    .map(|v| operator::fold(v).into_boxed_str())
                    .collect()
            } else {
                boxed_list(&c.values)
            },
            case_insensitive: c.case_insensitive,
        },
        Operator::NumEq
        | Operator::NumGt
        | Operator::NumGte
        | Operator::NumLt
        | Operator::NumLte => match single().and_then(parse_number) {
            Some(value) => Test::Num {
                op: c.operator,
                value,
            },
            _ => Test::Never,
        },
        Operator::DateAfter | Operator::DateBefore => {
            match single().and_then(operator::parse_datetime) {
                Some(at) => Test::Date {
                    after: c.operator == Operator::DateAfter,
                    at,
                },
                None => Test::Never,
            }
        }
        Operator::SemverEq
        | Operator::SemverGt
        | Operator::SemverGte
        | Operator::SemverLt
        | Operator::SemverLte => match single().and_then(SemVer::parse) {
            Some(value) => Test::Semver {
                op: c.operator,
                value,
            },
            None => Test::Never,
        },
        Operator::Regex => match single().and_then(|p| Pattern::new(p, c.case_insensitive)) {
            Some(re) => Test::Regex(re),
            None => Test::Never,
        },
        Operator::InCidr => {
            // Unparsable entries are skipped; the others still apply.
            let ranges: Box<[Cidr]> = c.values.iter().filter_map(|v| Cidr::parse(v)).collect();
            if ranges.is_empty() {
                Test::Never
            } else {
                Test::Cidr(ranges)
            }
        }
    };
    CConstraint {
        attribute: Box::from(c.attribute.as_str()),
        test,
        inverted: c.inverted,
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
mod tests {
    use super::*;
    use crate::bucket::{rollout_bucket, variant_bucket};
    use flags_manifest::{Pos, WeightedVariant};

    const BOOL: FlagShape<'static> = FlagShape {
        name: "beta",
        variants: 0,
        default: Value::Bool(false),
    };
    const LAYOUT: FlagShape<'static> = FlagShape {
        name: "layout",
        variants: 3,
        default: Value::Variant(0),
    };

    fn strategy(kind: StrategyKind, constraints: Vec<Constraint>) -> Strategy {
        Strategy {
            kind,
            constraints,
            variants: Vec::new(),
            variant_stickiness: Stickiness::Default,
            pos: Pos::default(),
        }
    }

    fn rollout(percent: u8, stickiness: Stickiness, group: &str) -> StrategyKind {
        StrategyKind::Rollout {
            percent,
            stickiness,
            group_id: group.to_owned(),
        }
    }

    fn rules(strategies: Vec<Strategy>) -> Rules {
        Rules {
            strategies,
            ..Rules::default()
        }
    }

    fn compile(r: &Rules, flag: FlagShape<'_>) -> CompiledRules {
        match CompiledRules::compile(r, flag) {
            Ok(Some(c)) => c,
            other => panic!("rules compile: {other:?}"),
        }
    }

    fn constraint(attr: &str, op: Operator, values: &[&str]) -> Constraint {
        Constraint {
            attribute: attr.to_owned(),
            operator: op,
            values: values.iter().map(|v| (*v).to_owned()).collect(),
            inverted: false,
            case_insensitive: false,
        }
    }

    fn holds(c: Constraint, ctx: &Context) -> bool {
        compile_constraint(&c).holds(ctx)
    }

    #[test]
    fn empty_rules_compile_to_nothing() {
        assert_eq!(CompiledRules::compile(&Rules::default(), BOOL), Ok(None));
    }

    #[test]
    fn kill_switch_beats_everything() {
        let mut r = rules(vec![strategy(StrategyKind::All, vec![])]);
        r.enabled = Some(false);
        r.value = Some(Value::Bool(true));
        let c = compile(&r, BOOL);
        assert_eq!(
            c.evaluate(&Context::with_key("u")),
            (Value::Bool(false), Reason::KillSwitch)
        );
        let c = compile(&r_variant_kill(), LAYOUT);
        assert_eq!(
            c.evaluate(&Context::new()),
            (Value::Variant(0), Reason::KillSwitch)
        );
        assert!(c.is_uniform());
    }

    fn r_variant_kill() -> Rules {
        Rules {
            enabled: Some(false),
            ..Rules::default()
        }
    }

    #[test]
    fn fixed_and_enabled_without_strategies() {
        let r = Rules {
            value: Some(Value::Variant(2)),
            ..Rules::default()
        };
        assert_eq!(
            compile(&r, LAYOUT).evaluate(&Context::new()),
            (Value::Variant(2), Reason::Fixed)
        );
        let r = Rules {
            enabled: Some(true),
            ..Rules::default()
        };
        assert_eq!(
            compile(&r, BOOL).evaluate(&Context::new()),
            (Value::Bool(true), Reason::Fixed)
        );
    }

    #[test]
    fn wrong_values_are_rejected() {
        let r = Rules {
            value: Some(Value::Variant(3)),
            ..Rules::default()
        };
        assert!(matches!(
            CompiledRules::compile(&r, LAYOUT),
            Err(RuleError::VariantOutOfRange { index: 3, .. })
        ));
        assert!(matches!(
            CompiledRules::compile(&r, BOOL),
            Err(RuleError::WrongValueType { .. })
        ));
        let r = Rules {
            variants: vec![WeightedVariant {
                variant: 0,
                name: "a".into(),
                weight: 1,
                payload: None,
            }],
            ..Rules::default()
        };
        assert!(matches!(
            CompiledRules::compile(&r, BOOL),
            Err(RuleError::VariantsOnBool { .. })
        ));
        let r = rules(vec![strategy(
            rollout(101, Stickiness::Default, "g"),
            vec![],
        )]);
        assert!(matches!(
            CompiledRules::compile(&r, BOOL),
            Err(RuleError::Percent { percent: 101, .. })
        ));
        let err = RuleError::Percent {
            flag: "x".into(),
            percent: 101,
        };
        assert!(err.to_string().contains("from 0 to 100"));
    }

    #[test]
    fn first_matching_strategy_decides() {
        let r = rules(vec![
            strategy(
                StrategyKind::Keys(vec!["alice".into()]),
                vec![constraint("country", Operator::In, &["fr"])],
            ),
            strategy(StrategyKind::Keys(vec!["bob".into()]), vec![]),
        ]);
        let c = compile(&r, BOOL);
        assert!(!c.is_uniform());
        let alice_fr = Context::with_key("alice").attr("country", "fr");
        assert_eq!(
            c.evaluate(&alice_fr),
            (Value::Bool(true), Reason::Strategy { index: 0 })
        );
        assert_eq!(
            c.evaluate(&Context::with_key("bob")),
            (Value::Bool(true), Reason::Strategy { index: 1 })
        );
        assert_eq!(
            c.evaluate(&Context::with_key("alice")),
            (
                Value::Bool(false),
                Reason::ConstraintFailed {
                    strategy: 0,
                    constraint: 0
                }
            )
        );
        let c = compile(
            &rules(vec![strategy(StrategyKind::Keys(vec!["x".into()]), vec![])]),
            BOOL,
        );
        assert_eq!(
            c.evaluate(&Context::with_key("carol")),
            (Value::Bool(false), Reason::NoStrategyMatched)
        );
        assert_eq!(
            c.evaluate(&Context::new()),
            (Value::Bool(false), Reason::NoStrategyMatched)
        );
    }

    #[test]
    fn sticky_rollout_is_the_rules_for_keyed_contexts() {
        let reduced = [
            rules(vec![strategy(
                rollout(50, Stickiness::Default, "gr1"),
                vec![],
            )]),
            rules(vec![strategy(rollout(30, Stickiness::Key, "g"), vec![])]),
            rules(vec![strategy(
                rollout(70, Stickiness::Attribute("userId".to_owned()), "beta"),
                vec![],
            )]),
        ];
        for r in &reduced {
            let c = compile(r, BOOL);
            let Some(sticky) = c.sticky_rollout() else {
                panic!("a lone key rollout reduces: {r:?}");
            };
            let mut inside = 0;
            for i in 0..2_000 {
                let ctx = Context::with_key(format!("user-{i}")).attr("sessionId", "s");
                let value = sticky.value(&ctx);
                assert_eq!(value, Some(c.value(&ctx)), "key user-{i}");
                inside += usize::from(value == Some(Value::Bool(true)));
            }
            assert!((200..1_800).contains(&inside), "{inside} of 2000 inside");
            let empty = Context::with_key("");
            assert_eq!(sticky.value(&empty), Some(c.value(&empty)));
            // Without a key the rules decide (session id, random or nobody).
            assert_eq!(sticky.value(&Context::new().attr("sessionId", "s")), None);
        }
        let kept = [
            rules(vec![strategy(
                rollout(50, Stickiness::Attribute("sessionId".to_owned()), "g"),
                vec![],
            )]),
            rules(vec![strategy(rollout(50, Stickiness::Random, "g"), vec![])]),
            rules(vec![strategy(
                rollout(50, Stickiness::Default, "g"),
                vec![constraint("country", Operator::In, &["fr"])],
            )]),
            rules(vec![
                strategy(rollout(50, Stickiness::Default, "g"), vec![]),
                strategy(rollout(10, Stickiness::Default, "h"), vec![]),
            ]),
            rules(vec![strategy(StrategyKind::All, vec![])]),
        ];
        for r in &kept {
            assert!(compile(r, BOOL).sticky_rollout().is_none(), "{r:?}");
        }
    }

    #[test]
    fn rollout_uses_unleash_buckets_and_group() {
        let c = compile(
            &rules(vec![strategy(
                rollout(73, Stickiness::Default, "gr1"),
                vec![],
            )]),
            BOOL,
        );
        // gr1:123 is bucket 73 in every Unleash SDK.
        let bucket = rollout_bucket("gr1", "123");
        assert_eq!(bucket.get(), 73);
        assert_eq!(
            c.evaluate(&Context::with_key("123")),
            (
                Value::Bool(true),
                Reason::Rollout {
                    index: 0,
                    bucket,
                    percent: 73
                }
            )
        );
        let c = compile(
            &rules(vec![strategy(
                rollout(72, Stickiness::Default, "gr1"),
                vec![],
            )]),
            BOOL,
        );
        assert_eq!(
            c.evaluate(&Context::with_key("123")),
            (Value::Bool(false), Reason::NoStrategyMatched)
        );
        // Default stickiness falls back to sessionId.
        assert_eq!(
            compile(
                &rules(vec![strategy(
                    rollout(73, Stickiness::Default, "gr1"),
                    vec![]
                )]),
                BOOL
            )
            .evaluate(&Context::new().attr("sessionId", "123"))
            .0,
            Value::Bool(true)
        );
    }

    #[test]
    fn rollout_stickiness_variants() {
        let by_key = compile(
            &rules(vec![strategy(rollout(100, Stickiness::Key, "g"), vec![])]),
            BOOL,
        );
        assert!(!by_key.is_uniform());
        assert_eq!(by_key.evaluate(&Context::new()).0, Value::Bool(false));
        assert_eq!(
            by_key.evaluate(&Context::with_key("k")).0,
            Value::Bool(true)
        );

        let by_attr = compile(
            &rules(vec![strategy(
                rollout(100, Stickiness::Attribute("tenant".into()), "g"),
                vec![],
            )]),
            BOOL,
        );
        assert_eq!(
            by_attr.evaluate(&Context::with_key("k")).0,
            Value::Bool(false)
        );
        assert_eq!(
            by_attr.evaluate(&Context::new().attr("tenant", "t1")).0,
            Value::Bool(true)
        );

        // 100% with default stickiness admits everybody, anonymous included.
        let everyone = compile(
            &rules(vec![strategy(
                rollout(100, Stickiness::Default, "g"),
                vec![],
            )]),
            BOOL,
        );
        assert!(everyone.is_uniform());
        assert_eq!(everyone.evaluate(&Context::new()).0, Value::Bool(true));
        let nobody = compile(
            &rules(vec![strategy(rollout(0, Stickiness::Default, "g"), vec![])]),
            BOOL,
        );
        assert!(nobody.is_uniform());
        assert_eq!(
            nobody.evaluate(&Context::with_key("k")).0,
            Value::Bool(false)
        );

        // Random stickiness: about half of the evaluations of one key are in.
        let random = compile(
            &rules(vec![strategy(rollout(50, Stickiness::Random, "g"), vec![])]),
            BOOL,
        );
        let ctx = Context::with_key("same");
        let on = (0..10_000)
            .filter(|_| random.evaluate(&ctx).0 == Value::Bool(true))
            .count();
        assert!((4_000..6_000).contains(&on), "{on}");
    }

    fn weighted(weights: &[(u16, u32)]) -> Vec<WeightedVariant> {
        weights
            .iter()
            .map(|&(variant, weight)| WeightedVariant {
                variant,
                name: format!("v{variant}"),
                weight,
                payload: None,
            })
            .collect()
    }

    #[test]
    fn variants_strategy_first_then_flag_level() {
        let mut s = strategy(StrategyKind::Keys(vec!["k".into()]), vec![]);
        s.variants = weighted(&[(2, 1)]);
        let r = Rules {
            strategies: vec![s, strategy(StrategyKind::All, vec![])],
            variants: weighted(&[(1, 1)]),
            ..Rules::default()
        };
        let c = compile(&r, LAYOUT);
        assert_eq!(
            c.evaluate(&Context::with_key("k")),
            (Value::Variant(2), Reason::Strategy { index: 0 })
        );
        assert_eq!(
            c.evaluate(&Context::with_key("other")),
            (Value::Variant(1), Reason::Strategy { index: 1 })
        );
    }

    #[test]
    fn payload_comes_from_the_list_that_decided() {
        use flags_manifest::{PayloadKind, VariantPayload};
        let with = |list: Vec<WeightedVariant>, text: &str| -> Vec<WeightedVariant> {
            list.into_iter()
                .map(|mut w| {
                    w.payload = Some(VariantPayload {
                        kind: PayloadKind::String,
                        value: format!("{text}-{}", w.variant),
                    });
                    w
                })
                .collect()
        };
        let mut keyed = strategy(StrategyKind::Keys(vec!["k".into()]), vec![]);
        keyed.variants = with(weighted(&[(2, 1)]), "strategy");
        let r = Rules {
            strategies: vec![keyed, strategy(StrategyKind::All, vec![])],
            variants: with(weighted(&[(1, 1)]), "flag"),
            ..Rules::default()
        };
        let c = compile(&r, LAYOUT);
        let payload = |key: &str| {
            let (value, reason) = c.evaluate(&Context::with_key(key));
            c.payload(reason, value)
                .map(|p| (p.kind, p.value.to_owned()))
        };
        assert_eq!(
            payload("k"),
            Some((PayloadKind::String, "strategy-2".into()))
        );
        assert_eq!(
            payload("other"),
            Some((PayloadKind::String, "flag-1".into()))
        );
        // The same variant from another list, or no list, has no payload here.
        assert_eq!(
            c.payload(Reason::Strategy { index: 1 }, Value::Variant(2)),
            None
        );
        assert_eq!(c.payload(Reason::Fixed, Value::Variant(1)), None);
        assert_eq!(c.payload(Reason::KillSwitch, Value::Variant(0)), None);
        assert_eq!(
            c.payload(Reason::Strategy { index: 9 }, Value::Variant(1)),
            None
        );

        // Flag-level split only; a list whose weights are all zero chose nothing.
        let split = compile(
            &Rules {
                variants: with(weighted(&[(1, 1), (2, 1)]), "split"),
                ..Rules::default()
            },
            LAYOUT,
        );
        let (value, reason) = split.evaluate(&Context::with_key("a"));
        let Value::Variant(v) = value else {
            panic!("{value:?}")
        };
        assert_eq!(
            split.payload(reason, value).map(|p| p.value),
            Some(format!("split-{v}").as_str())
        );
        let zero = compile(
            &Rules {
                variants: with(weighted(&[(0, 0), (2, 0)]), "zero"),
                ..Rules::default()
            },
            LAYOUT,
        );
        let (value, reason) = zero.evaluate(&Context::with_key("a"));
        assert_eq!(
            (value, zero.payload(reason, value)),
            (Value::Variant(0), None)
        );
    }

    #[test]
    fn variant_split_matches_bucket_line() {
        let r = Rules {
            variants: weighted(&[(0, 300), (1, 0), (2, 700)]),
            ..Rules::default()
        };
        let c = compile(&r, LAYOUT);
        assert!(!c.is_uniform());
        for key in ["a", "b", "c", "user-1", "user-2", "user-3"] {
            let point = variant_bucket("layout", key, 1000);
            let expected = if point <= 300 { 0 } else { 2 };
            assert_eq!(
                c.evaluate(&Context::with_key(key)),
                (Value::Variant(expected), Reason::Split),
                "{key} at {point}"
            );
        }
        // Zero total: no variant, so the default.
        let zero = compile(
            &Rules {
                variants: weighted(&[(1, 0), (2, 0)]),
                ..Rules::default()
            },
            LAYOUT,
        );
        assert_eq!(
            zero.evaluate(&Context::with_key("a")),
            (Value::Variant(0), Reason::Split)
        );
    }

    #[test]
    fn variant_stickiness_fallbacks() {
        let mut r = Rules {
            variants: weighted(&[(1, 1), (2, 1)]),
            ..Rules::default()
        };
        let c = compile(&r, LAYOUT);
        let via_session = Context::new().attr("sessionId", "s-1");
        let point = variant_bucket("layout", "s-1", 2);
        for _ in 0..10 {
            assert_eq!(
                c.evaluate(&via_session).0,
                Value::Variant(if point == 1 { 1 } else { 2 })
            );
        }
        // `remoteAddress` is no seed (as in Yggdrasil): the pick is random.
        let via_address = Context::new().attr("remoteAddress", "10.0.0.1");
        let picks: std::collections::HashSet<Value> =
            (0..200).map(|_| c.evaluate(&via_address).0).collect();
        assert_eq!(picks.len(), 2, "{picks:?}");
        // An empty value is a seed like any other.
        let empty = Context::with_key("");
        let point = variant_bucket("layout", "", 2);
        for _ in 0..10 {
            assert_eq!(
                c.evaluate(&empty).0,
                Value::Variant(if point == 1 { 1 } else { 2 })
            );
        }
        r.variant_stickiness = Stickiness::Attribute("tenant".into());
        let c = compile(&r, LAYOUT);
        let tenant = Context::with_key("ignored").attr("tenant", "acme");
        let point = variant_bucket("layout", "acme", 2);
        for _ in 0..10 {
            assert_eq!(
                c.evaluate(&tenant).0,
                Value::Variant(if point == 1 { 1 } else { 2 })
            );
        }
    }

    #[test]
    fn empty_key_and_empty_group_are_values() {
        // Yggdrasil buckets `userId: ""` and hashes `groupId: ""` as ":key".
        for (group, key) in [("g", ""), ("", "user-1"), ("", "")] {
            let bucket = rollout_bucket(group, key).get();
            for stickiness in [Stickiness::Default, Stickiness::Key] {
                let c = compile(
                    &rules(vec![strategy(
                        rollout(bucket, stickiness.clone(), group),
                        vec![],
                    )]),
                    BOOL,
                );
                assert_eq!(c.evaluate(&Context::with_key(key)).0, Value::Bool(true));
                if bucket > 1 {
                    let c = compile(
                        &rules(vec![strategy(
                            rollout(bucket - 1, stickiness, group),
                            vec![],
                        )]),
                        BOOL,
                    );
                    assert_eq!(c.evaluate(&Context::with_key(key)).0, Value::Bool(false));
                }
            }
        }
    }

    #[test]
    fn string_operators() {
        let ctx = Context::with_key("u").attr("email", "Ann@Example.com");
        assert!(holds(
            constraint("email", Operator::StrEndsWith, &["@example.com", "@x.org"]),
            &Context::new().attr("email", "bob@example.com")
        ));
        assert!(!holds(
            constraint("email", Operator::StrEndsWith, &["@example.com"]),
            &ctx
        ));
        let mut ci = constraint("email", Operator::StrEndsWith, &["@EXAMPLE.COM"]);
        ci.case_insensitive = true;
        assert!(holds(ci, &ctx));
        assert!(holds(
            constraint("email", Operator::StrStartsWith, &["Ann"]),
            &ctx
        ));
        assert!(holds(
            constraint("email", Operator::StrContains, &["@Ex"]),
            &ctx
        ));
        let mut ci = constraint("email", Operator::StrContains, &["ANN@"]);
        ci.case_insensitive = true;
        assert!(holds(ci, &ctx));
        // Missing attribute: false, inverted: true.
        assert!(!holds(
            constraint("nope", Operator::StrContains, &[""]),
            &ctx
        ));
        let mut inv = constraint("nope", Operator::StrContains, &["x"]);
        inv.inverted = true;
        assert!(holds(inv, &ctx));
    }

    #[test]
    fn in_and_not_in() {
        let ctx = Context::with_key("alice").attr("country", "FR");
        assert!(holds(
            constraint("country", Operator::In, &["DE", "FR"]),
            &ctx
        ));
        // `in` is case-sensitive, as in Unleash, even with case_insensitive.
        let mut ci = constraint("country", Operator::In, &["fr"]);
        ci.case_insensitive = true;
        assert!(!holds(ci, &ctx));
        assert!(holds(constraint("key", Operator::In, &["alice"]), &ctx));
        assert!(holds(constraint("userId", Operator::In, &["alice"]), &ctx));
        assert!(!holds(
            constraint("country", Operator::NotIn, &["FR"]),
            &ctx
        ));
        // A missing attribute is in no list.
        assert!(holds(constraint("plan", Operator::NotIn, &["pro"]), &ctx));
        assert!(!holds(constraint("plan", Operator::In, &["pro"]), &ctx));
        let mut inv = constraint("country", Operator::In, &["FR"]);
        inv.inverted = true;
        assert!(!holds(inv, &ctx));
    }

    #[test]
    fn numeric_operators() {
        let ctx = Context::new()
            .attr("age", 30)
            .attr("score", "7.5")
            .attr("bad", "x");
        let t = |attr: &str, op, v: &str| holds(constraint(attr, op, &[v]), &ctx);
        assert!(t("age", Operator::NumEq, "30"));
        assert!(t("age", Operator::NumEq, "30.0"));
        assert!(t("age", Operator::NumGt, "29.9"));
        assert!(!t("age", Operator::NumGt, "30"));
        assert!(t("age", Operator::NumGte, "30"));
        assert!(t("age", Operator::NumLt, "31"));
        assert!(t("age", Operator::NumLte, "30"));
        assert!(!t("age", Operator::NumLte, "29"));
        assert!(t("score", Operator::NumGt, "7"));
        assert!(!t("bad", Operator::NumLt, "100"));
        assert!(!t("missing", Operator::NumLt, "100"));
        // An operand that is not a number never matches.
        assert!(!t("age", Operator::NumEq, "thirty"));
        let mut inv = constraint("age", Operator::NumEq, &["thirty"]);
        inv.inverted = true;
        assert!(holds(inv, &ctx));
    }

    #[test]
    fn date_operators() {
        let ctx = Context::new().attr("signup", "2025-06-01T12:00:00+02:00");
        let t = |attr: &str, op, v: &str| holds(constraint(attr, op, &[v]), &ctx);
        assert!(t("signup", Operator::DateAfter, "2025-06-01T09:59:59Z"));
        assert!(!t("signup", Operator::DateAfter, "2025-06-01T10:00:00Z"));
        assert!(t("signup", Operator::DateBefore, "2025-06-01T10:00:01Z"));
        assert!(!t("signup", Operator::DateBefore, "2025-06-01T10:00:00Z"));
        assert!(!t("signup", Operator::DateBefore, "garbage"));
        assert!(!t("missing", Operator::DateBefore, "2999-01-01T00:00:00Z"));
        // currentTime defaults to now.
        assert!(t(
            "currentTime",
            Operator::DateAfter,
            "2020-01-01T00:00:00Z"
        ));
        assert!(t(
            "currentTime",
            Operator::DateBefore,
            "9999-01-01T00:00:00Z"
        ));
        let past = Context::new().attr("currentTime", "2001-01-01T00:00:00Z");
        assert!(!holds(
            constraint(
                "currentTime",
                Operator::DateAfter,
                &["2020-01-01T00:00:00Z"]
            ),
            &past
        ));
    }

    #[test]
    fn semver_operators() {
        let ctx = Context::new().attr("version", "2.4.1-beta.2");
        let t = |op, v: &str| holds(constraint("version", op, &[v]), &ctx);
        assert!(t(Operator::SemverGt, "2.4.1-beta.1"));
        assert!(t(Operator::SemverLt, "2.4.1"));
        assert!(t(Operator::SemverEq, "2.4.1-beta.2"));
        assert!(!t(Operator::SemverEq, "2.4.1"));
        assert!(!t(Operator::SemverGt, "not.a.version"));
        assert!(t(Operator::SemverGte, "2.4.1-beta.2"));
        assert!(t(Operator::SemverGte, "2.4.0"));
        assert!(!t(Operator::SemverGte, "2.4.1"));
        assert!(t(Operator::SemverLte, "2.4.1-beta.2"));
        assert!(t(Operator::SemverLte, "3.0.0"));
        assert!(!t(Operator::SemverLte, "2.4.1-beta.1"));
        let bad = Context::new().attr("version", "2.4");
        assert!(!holds(
            constraint("version", Operator::SemverLt, &["9.0.0"]),
            &bad
        ));
    }

    #[test]
    fn regex_and_cidr_operators() {
        let ctx = Context::new()
            .attr("email", "Ann@Example.com")
            .attr("ip", "10.1.2.3");
        assert!(holds(
            constraint("email", Operator::Regex, &[r"^[a-z]+@example\.com$"]),
            &Context::new().attr("email", "ann@example.com")
        ));
        assert!(!holds(
            constraint("email", Operator::Regex, &[r"^[a-z]+@example\.com$"]),
            &ctx
        ));
        let mut ci = constraint("email", Operator::Regex, &[r"^[a-z]+@example\.com$"]);
        ci.case_insensitive = true;
        assert!(holds(ci, &ctx));
        // An invalid pattern never matches.
        assert!(!holds(
            constraint("email", Operator::Regex, &["(unclosed"]),
            &ctx
        ));
        assert!(!holds(constraint("missing", Operator::Regex, &["."]), &ctx));
        assert!(holds(
            constraint("ip", Operator::InCidr, &["192.168.0.0/16", "10.0.0.0/8"]),
            &ctx
        ));
        assert!(!holds(
            constraint("ip", Operator::InCidr, &["192.168.0.0/16", "junk"]),
            &ctx
        ));
        assert!(!holds(constraint("ip", Operator::InCidr, &["junk"]), &ctx));
        assert!(!holds(
            constraint("email", Operator::InCidr, &["0.0.0.0/0"]),
            &ctx
        ));
    }

    #[test]
    fn uniformity() {
        let all = compile(&rules(vec![strategy(StrategyKind::All, vec![])]), BOOL);
        assert!(all.is_uniform());
        let constrained = compile(
            &rules(vec![strategy(
                StrategyKind::All,
                vec![constraint("a", Operator::In, &["b"])],
            )]),
            BOOL,
        );
        assert!(!constrained.is_uniform());
        let never_then_all = compile(
            &rules(vec![
                strategy(StrategyKind::Keys(vec![]), vec![]),
                strategy(rollout(0, Stickiness::Key, "g"), vec![]),
                strategy(StrategyKind::All, vec![]),
            ]),
            BOOL,
        );
        assert!(never_then_all.is_uniform());
        assert_eq!(
            never_then_all.evaluate(&Context::new()),
            (Value::Bool(true), Reason::Strategy { index: 2 })
        );
    }

    #[test]
    fn random_below_stays_in_range() {
        for n in [1u32, 2, 7, 100, 1000] {
            for _ in 0..1000 {
                assert!(random_below(n) < n);
            }
        }
    }
}
