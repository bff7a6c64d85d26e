//! Why a flag has its value: the [`Reason`] an evaluation reached, the [`Layer`] that
//! decided it, and the [`Detail`] that `explain` returns with both.

use std::fmt;

use crate::bucket::Bucket;
use crate::meta::{FlagMeta, Value};

/// Where a decision came from, lowest to highest precedence: for each flag the
/// highest layer that has something to say decides.
///
/// # Examples
///
/// ```
/// use flags_runtime::Layer;
///
/// assert!(Layer::Manifest < Layer::File);
/// assert!(Layer::Env < Layer::Remote && Layer::Remote < Layer::Override);
/// assert_eq!(Layer::Remote.as_str(), "remote");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Layer {
    /// The manifest: its defaults and the rules declared in it.
    Manifest,
    /// A rule/state file loaded at run time.
    File,
    /// Environment variables (`FLAGS_<NAME>`, `FLAGS`).
    Env,
    /// A remote source (a flag service).
    Remote,
    /// A guarded rollout's exposure, set by its controller
    /// ([`IndexAccess::set_rollout_percent`](crate::raw::IndexAccess::set_rollout_percent)).
    Rollout,
    /// Programmatic overrides: process-wide, or scoped to a thread or task.
    Override,
}

impl Layer {
    /// Every layer, lowest first.
    pub const ALL: [Layer; 6] = [
        Layer::Manifest,
        Layer::File,
        Layer::Env,
        Layer::Remote,
        Layer::Rollout,
        Layer::Override,
    ];

    /// The layer's name in telemetry and `explain` output: `manifest`, `file`, `env`,
    /// `remote`, `rollout` or `override`.
    ///
    /// # Examples
    ///
    /// ```
    /// use flags_runtime::Layer;
    ///
    /// assert_eq!(Layer::Env.as_str(), "env");
    /// assert_eq!(Layer::Rollout.as_str(), "rollout");
    /// ```
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Layer::Manifest => "manifest",
            Layer::File => "file",
            Layer::Env => "env",
            Layer::Remote => "remote",
            Layer::Rollout => "rollout",
            Layer::Override => "override",
        }
    }

    pub(crate) const fn slot(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an evaluation produced its value.
///
/// Small on purpose (8 bytes, positions as `u16`/`u32`): with the value it is
/// returned in registers, which keeps evaluation free of memory round trips.
///
/// # Examples
///
/// ```
/// use flags_runtime::Reason;
///
/// assert!(Reason::Strategy { index: 0 }.is_match());
/// assert!(!Reason::NoStrategyMatched.is_match());
/// assert_eq!(Reason::KillSwitch.to_string(), "kill switch (enabled = false)");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// No layer has rules for the flag: the manifest default.
    Default,
    /// A fixed value: a rule file's `value`, an environment variable, or rules that
    /// enable the flag without strategies.
    Fixed,
    /// A programmatic override (process-wide or scoped).
    Override,
    /// Strategy `index` (an `all` or `keys` strategy) matched.
    Strategy {
        /// Position of the strategy in its rules.
        index: u16,
    },
    /// Rollout strategy `index` matched: the context's bucket is within the percent.
    Rollout {
        /// Position of the strategy in its rules.
        index: u16,
        /// The context's bucket, 1 to 100.
        bucket: Bucket,
        /// The rollout's percentage.
        percent: u8,
    },
    /// The flag has weighted variants and no strategies: the context's sticky point
    /// picked the variant.
    Split,
    /// The rules have strategies and none matched: off, or the default variant.
    NoStrategyMatched,
    /// No strategy matched, and at least one failed on a constraint: the first such
    /// strategy and its first failing constraint.
    ConstraintFailed {
        /// Position of the strategy.
        strategy: u16,
        /// Position of the failing constraint within it.
        constraint: u16,
    },
    /// A `requires` was not met or an `excludes` was: off, or the default variant.
    PrerequisiteFailed {
        /// Dense index of the prerequisite flag.
        flag: u32,
    },
    /// A prerequisite of the deciding layer's own rules (an Unleash feature
    /// dependency) did not hold: off, or the default variant.
    LayerPrerequisiteFailed {
        /// Position of the prerequisite in those rules.
        index: u16,
    },
    /// `enabled = false`: off, or the default variant, whatever else the rules say.
    KillSwitch,
    /// Evaluation could not complete (prerequisites nested too deep, which only rules
    /// from outside a checked manifest can cause): the safe value, off or default.
    Error,
}

impl Reason {
    /// Whether the flag's rules enabled it for the context (Unleash's `enabled`): a
    /// strategy matched, a rollout admitted it, a split picked a variant, or it is
    /// fixed, overridden or at its default.
    #[must_use]
    pub const fn is_match(self) -> bool {
        !matches!(
            self,
            Reason::NoStrategyMatched
                | Reason::ConstraintFailed { .. }
                | Reason::PrerequisiteFailed { .. }
                | Reason::LayerPrerequisiteFailed { .. }
                | Reason::KillSwitch
                | Reason::Error
        )
    }
}

impl Reason {
    /// The reason in the vocabulary OpenFeature and OpenTelemetry's feature-flag
    /// conventions share: `static` (a fixed value or an override), `targeting_match`
    /// (a strategy matched), `split` (a percentage rollout or weighted variants),
    /// `disabled` (a kill switch), `error`, and `default` (no rule matched, or a
    /// prerequisite did not hold: the flag's off value). A static flag is `static`
    /// whatever its reason; callers that know the flag say so.
    ///
    /// # Examples
    ///
    /// ```
    /// use flags_runtime::Reason;
    /// assert_eq!(Reason::KillSwitch.feature_flag_reason(), "disabled");
    /// assert_eq!(Reason::NoStrategyMatched.feature_flag_reason(), "default");
    /// ```
    #[must_use]
    pub const fn feature_flag_reason(self) -> &'static str {
        match self {
            Reason::Fixed | Reason::Override => "static",
            Reason::Strategy { .. } => "targeting_match",
            Reason::Rollout { .. } | Reason::Split => "split",
            Reason::KillSwitch => "disabled",
            Reason::Error => "error",
            _ => "default",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Default => f.write_str("manifest default"),
            Reason::Fixed => f.write_str("fixed value"),
            Reason::Override => f.write_str("override"),
            Reason::Strategy { index } => write!(f, "strategy {index} matched"),
            Reason::Rollout {
                index,
                bucket,
                percent,
            } => write!(
                f,
                "rollout strategy {index}: bucket {bucket} within {percent}%"
            ),
            Reason::Split => f.write_str("weighted variant split"),
            Reason::NoStrategyMatched => f.write_str("no strategy matched"),
            Reason::ConstraintFailed {
                strategy,
                constraint,
            } => write!(
                f,
                "no strategy matched (strategy {strategy}: constraint {constraint} failed)"
            ),
            Reason::PrerequisiteFailed { flag } => write!(f, "prerequisite flag #{flag} failed"),
            Reason::LayerPrerequisiteFailed { index } => {
                write!(f, "dependency {index} of the deciding rules failed")
            }
            Reason::KillSwitch => f.write_str("kill switch (enabled = false)"),
            Reason::Error => f.write_str("evaluation error"),
        }
    }
}

/// The payload of the variant a flag chose (Unleash's variant payload), borrowed from
/// the rules that chose it.
///
/// # Examples
///
/// ```
/// use flags_runtime::manifest::{PayloadKind, Rules, VariantPayload, WeightedVariant};
/// use flags_runtime::{Context, FlagDef, Payload, RuleSet};
///
/// let rules = Rules {
///     variants: vec![WeightedVariant {
///         variant: 1,
///         name: "wide".into(),
///         weight: 1,
///         payload: Some(VariantPayload::new(PayloadKind::Json, r#"{"cols":3}"#).unwrap()),
///     }],
///     ..Rules::default()
/// };
/// let set = RuleSet::new(vec![FlagDef::variants("layout", &["narrow", "wide"], "narrow").rules(rules)]).unwrap();
/// let e = set.evaluate(0, &Context::with_key("u"));
/// assert_eq!(
///     set.payload(0, &e),
///     Some(Payload { kind: PayloadKind::Json, value: r#"{"cols":3}"# })
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Payload<'a> {
    /// How to read the value (`string`, `json`, `csv`, `number`).
    pub kind: flags_manifest::PayloadKind,
    /// The value, as text.
    pub value: &'a str,
}

/// What an evaluation decided and why: the value, its label (`on`, `off` or the
/// variant's name), the [`Reason`], the [`Layer`] that decided and the flag's name.
/// The one result type of every evaluation: a registry's (as [`Detail`], whose names
/// live as long as the program) and a [`RuleSet`](crate::RuleSet)'s, whose names are
/// borrowed from the set.
///
/// `T` is the flag's typed value (`bool` or its variant enum) from a typed handle's
/// `explain`, or the untyped [`Value`].
#[derive(Clone, Copy)]
pub struct Explanation<'a, T = Value> {
    /// The value.
    pub value: T,
    /// `on`/`off` or the variant's name.
    pub label: &'a str,
    /// Why.
    pub reason: Reason,
    /// Which layer decided.
    pub layer: Layer,
    /// The flag's name.
    pub flag: &'a str,
    /// The failed prerequisite's name, for [`Reason::PrerequisiteFailed`].
    pub(crate) prerequisite: Option<&'a str>,
}

/// A registry's [`Explanation`]: the names are the manifest's, for the whole program.
pub type Detail<T = Value> = Explanation<'static, T>;

impl Detail {
    /// The detail of evaluation `o` of flag `meta`, one of the registry's `flags`.
    pub(crate) fn of(
        o: crate::eval::Outcome,
        meta: &'static FlagMeta,
        flags: &'static [FlagMeta],
    ) -> Detail {
        Explanation {
            value: o.value,
            label: meta.label(o.value),
            reason: o.reason,
            layer: o.layer,
            flag: meta.name,
            prerequisite: match o.reason {
                Reason::PrerequisiteFailed { flag } => flags.get(flag as usize).map(|m| m.name),
                _ => None,
            },
        }
    }
}

impl<'a, T> Explanation<'a, T> {
    /// The name of the prerequisite that failed, for [`Reason::PrerequisiteFailed`].
    #[must_use]
    pub fn prerequisite(&self) -> Option<&'a str> {
        self.prerequisite
    }

    /// The same explanation with its value converted, as a typed handle turns the
    /// registry's [`Value`] into its own type.
    #[must_use]
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Explanation<'a, U> {
        Explanation {
            value: f(self.value),
            label: self.label,
            reason: self.reason,
            layer: self.layer,
            flag: self.flag,
            prerequisite: self.prerequisite,
        }
    }
}

impl<T: PartialEq> PartialEq for Explanation<'_, T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
            && self.label == other.label
            && self.reason == other.reason
            && self.layer == other.layer
            && self.flag == other.flag
    }
}

impl<T: fmt::Debug> fmt::Debug for Explanation<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Explanation")
            .field("flag", &self.flag)
            .field("value", &self.value)
            .field("label", &self.label)
            .field("reason", &self.reason)
            .field("layer", &self.layer)
            .finish()
    }
}

impl<T> fmt::Display for Explanation<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} = {} (", self.flag, self.label)?;
        match self.prerequisite() {
            Some(name) => write!(f, "prerequisite `{name}` failed")?,
            None => write!(f, "{}", self.reason)?,
        }
        write!(f, "; layer {})", self.layer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_are_ordered_lowest_first() {
        let mut sorted = Layer::ALL;
        sorted.sort();
        assert_eq!(sorted, Layer::ALL);
        let names: Vec<String> = Layer::ALL.iter().map(ToString::to_string).collect();
        assert_eq!(
            names,
            ["manifest", "file", "env", "remote", "rollout", "override"]
        );
        for (i, l) in Layer::ALL.iter().enumerate() {
            assert_eq!(l.slot(), i);
        }
    }

    #[test]
    fn reasons_read_as_sentences() {
        let bucket = match Bucket::new(42) {
            Some(b) => b,
            None => panic!("42 is a bucket"),
        };
        let cases = [
            (Reason::Default, "manifest default", true),
            (Reason::Fixed, "fixed value", true),
            (Reason::Override, "override", true),
            (Reason::Strategy { index: 1 }, "strategy 1 matched", true),
            (
                Reason::Rollout {
                    index: 0,
                    bucket,
                    percent: 50,
                },
                "rollout strategy 0: bucket 42 within 50%",
                true,
            ),
            (Reason::Split, "weighted variant split", true),
            (Reason::NoStrategyMatched, "no strategy matched", false),
            (
                Reason::ConstraintFailed {
                    strategy: 2,
                    constraint: 1,
                },
                "no strategy matched (strategy 2: constraint 1 failed)",
                false,
            ),
            (
                Reason::PrerequisiteFailed { flag: 3 },
                "prerequisite flag #3 failed",
                false,
            ),
            (Reason::KillSwitch, "kill switch (enabled = false)", false),
            (Reason::Error, "evaluation error", false),
        ];
        for (reason, text, matched) in cases {
            assert_eq!(reason.to_string(), text);
            assert_eq!(reason.is_match(), matched, "{reason:?}");
        }
        assert!(std::mem::size_of::<Reason>() <= 8, "kept small on purpose");
    }
}
