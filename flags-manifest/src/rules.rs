//! The rule model: how a flag's value is decided at run time from a context. It is
//! modelled on Unleash's concepts (strategies, constraints, weighted variants with
//! stickiness) so that an Unleash payload maps onto it one to one, and it is the same
//! in the manifest and in rule files loaded at run time.

use crate::model::Value;
use crate::pos::Pos;

/// The rules of one flag in one layer.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Rules {
    /// `false` is the kill switch: the flag is off (or at its default variant) whatever
    /// else the rules say.
    pub enabled: Option<bool>,
    /// A fixed value from this layer (rule files and environment only).
    pub value: Option<Value>,
    /// Strategies, tried in order; the first that matches decides. With strategies and
    /// none matching, a bool flag is off and a variant flag at its default.
    pub strategies: Vec<Strategy>,
    /// Flag-level weighted variants, used when a matching strategy has none of its own.
    pub variants: Vec<WeightedVariant>,
    /// Stickiness of the flag-level variants.
    pub variant_stickiness: Stickiness,
    /// Prerequisites of this layer alone (Unleash's feature dependencies): each names
    /// a parent flag and carries the parent's rules in the same layer, checked one
    /// level deep before the strategies. Distinct from the manifest's `requires` and
    /// `excludes`, which hold across layers.
    pub prerequisites: Vec<LayerPrerequisite>,
}

/// A prerequisite of one layer's rules, with Unleash's one-level semantics: the
/// parent is evaluated by its own rules in the same layer (its own prerequisites are
/// not followed: a parent that has some never satisfies one).
#[derive(Clone, Debug, PartialEq)]
pub struct LayerPrerequisite {
    /// The parent flag's name.
    pub flag: String,
    /// Whether the parent must be on (`true`) or off (`false`).
    pub enabled: bool,
    /// When not empty, the variant the parent's rules pick must be one of these
    /// (checked only when the parent's rules pick a variant at all).
    pub variants: Vec<String>,
    /// The parent's rules in this layer, with its variant names; `None` when the
    /// layer has no such parent, or the parent has prerequisites of its own: then
    /// the prerequisite never holds.
    pub parent: Option<Box<ParentRules>>,
}

/// The rules of a [`LayerPrerequisite`]'s parent.
#[derive(Clone, Debug, PartialEq)]
pub struct ParentRules {
    /// The parent's variant names, by index; empty for an on/off parent.
    pub variants: Vec<String>,
    /// The parent's rules, shaped for those variants.
    pub rules: Rules,
    /// The rules that pick the parent's variant, when they differ from `rules`
    /// (`None`: `rules` pick it). Unleash resolves a parent's variant whether or not
    /// any of its strategies match, variant overrides included, so a parent whose
    /// variants have overrides carries them here, after its strategies.
    pub variant_rules: Option<Rules>,
}

impl Rules {
    /// Whether these rules say anything at all (an empty rule set leaves the decision
    /// to lower layers).
    pub fn is_empty(&self) -> bool {
        self.enabled.is_none()
            && self.value.is_none()
            && self.strategies.is_empty()
            && self.variants.is_empty()
            && self.prerequisites.is_empty()
    }

    /// Whether the outcome can depend on the evaluation context (targeting, rollout
    /// or weighted variants), as opposed to being one value for everyone.
    pub fn is_contextual(&self) -> bool {
        self.enabled != Some(false)
            && self.value.is_none()
            && (!self.strategies.is_empty() || !self.prerequisites.is_empty())
    }
}

/// One strategy: a way for a flag to be on for some contexts.
#[derive(Clone, Debug, PartialEq)]
pub struct Strategy {
    /// What the strategy does.
    pub kind: StrategyKind,
    /// Conditions on context attributes; all must hold.
    pub constraints: Vec<Constraint>,
    /// Weighted variants this strategy assigns when it matches.
    pub variants: Vec<WeightedVariant>,
    /// Stickiness of this strategy's variants.
    pub variant_stickiness: Stickiness,
    /// Where it is written.
    pub pos: Pos,
}

/// What a strategy matches.
#[derive(Clone, Debug, PartialEq)]
pub enum StrategyKind {
    /// Everyone (Unleash's `default`).
    All,
    /// Contexts whose targeting key is listed (Unleash's `userWithId`).
    Keys(Vec<String>),
    /// A sticky percentage (Unleash's `flexibleRollout`).
    Rollout {
        /// 0 to 100.
        percent: u8,
        /// What the bucket is computed from.
        stickiness: Stickiness,
        /// The hash group; by default the flag's name, so different flags bucket the
        /// same user independently.
        group_id: String,
    },
}

/// What a sticky bucket is computed from.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Stickiness {
    /// The targeting key, else the `sessionId` attribute, else random (Unleash's
    /// `default`).
    #[default]
    Default,
    /// The context's targeting key.
    Key,
    /// A fresh random bucket on each evaluation (not sticky).
    Random,
    /// A named context attribute.
    Attribute(String),
}

impl Stickiness {
    /// Reads the manifest spelling: `default`, `key`, `userId` (same as key),
    /// `random`, or any attribute name.
    pub fn parse(text: &str) -> Stickiness {
        match text {
            "default" => Stickiness::Default,
            "key" | "userId" => Stickiness::Key,
            "random" => Stickiness::Random,
            other => Stickiness::Attribute(other.to_owned()),
        }
    }
}

/// A variant with its weight (weights of a list add up to the list's total, usually
/// 1000 as in Unleash, but any positive total works).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeightedVariant {
    /// Index into the flag's variants.
    pub variant: u16,
    /// The variant's name.
    pub name: String,
    /// Its share.
    pub weight: u32,
    /// The data this variant carries to the application (Unleash's variant payload),
    /// if any.
    pub payload: Option<VariantPayload>,
}

/// The data a variant carries to the application, as Unleash's variant payloads:
/// a type and a text value.
///
/// # Examples
///
/// ```
/// use flags_manifest::{PayloadKind, VariantPayload};
///
/// let p = VariantPayload::new(PayloadKind::Json, r#"{"cols": 2}"#).unwrap();
/// assert_eq!(p.kind.as_str(), "json");
/// assert!(VariantPayload::new(PayloadKind::Number, "two").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VariantPayload {
    /// How the value is to be read.
    pub kind: PayloadKind,
    /// The value, as text.
    pub value: String,
}

impl VariantPayload {
    /// A payload of `kind` with `value`, checked: a `json` value must parse as JSON
    /// and a `number` as a number. Needs the `parse` feature (for the JSON check);
    /// without it, build the struct directly.
    #[cfg(feature = "parse")]
    pub fn new(kind: PayloadKind, value: impl Into<String>) -> Result<VariantPayload, String> {
        let value = value.into();
        kind.check(&value)?;
        Ok(VariantPayload { kind, value })
    }
}

/// The type of a [`VariantPayload`], Unleash's four.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PayloadKind {
    /// Plain text.
    String,
    /// A JSON document.
    Json,
    /// Comma-separated values.
    Csv,
    /// A number (as text).
    Number,
}

impl PayloadKind {
    /// Every kind, in Unleash's spelling order.
    pub const ALL: [PayloadKind; 4] = [
        PayloadKind::String,
        PayloadKind::Json,
        PayloadKind::Csv,
        PayloadKind::Number,
    ];

    /// The kind Unleash names `text` (`string`, `json`, `csv`, `number`).
    #[must_use]
    pub fn parse(text: &str) -> Option<PayloadKind> {
        PayloadKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// Unleash's name of the kind.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            PayloadKind::String => "string",
            PayloadKind::Json => "json",
            PayloadKind::Csv => "csv",
            PayloadKind::Number => "number",
        }
    }

    /// Whether `value` is a value of this kind; the error says why not. Needs the
    /// `parse` feature (it reads JSON with `serde_json`).
    #[cfg(feature = "parse")]
    pub fn check(self, value: &str) -> Result<(), String> {
        match self {
            PayloadKind::Json => serde_json::from_str::<serde::de::IgnoredAny>(value)
                .map(|_| ())
                .map_err(|e| format!("not JSON: {e}")),
            PayloadKind::Number => match value.trim().parse::<f64>() {
                Ok(n) if n.is_finite() => Ok(()),
                _ => Err(format!("`{value}` is not a number")),
            },
            PayloadKind::String | PayloadKind::Csv => Ok(()),
        }
    }
}

/// A condition on one context attribute.
#[derive(Clone, Debug, PartialEq)]
pub struct Constraint {
    /// The attribute's name (`key` is the targeting key).
    pub attribute: String,
    /// How the attribute is compared.
    pub operator: Operator,
    /// The operand(s): a list for `in`/`not_in` and the string operators, one value
    /// otherwise.
    pub values: Vec<String>,
    /// Negates the result.
    pub inverted: bool,
    /// String comparisons ignore case.
    pub case_insensitive: bool,
}

/// A constraint operator; the names are Unleash's, in snake_case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operator {
    /// Attribute is one of the values.
    In,
    /// Attribute is none of the values (a missing attribute counts as none).
    NotIn,
    /// Attribute contains one of the values.
    StrContains,
    /// Attribute starts with one of the values.
    StrStartsWith,
    /// Attribute ends with one of the values.
    StrEndsWith,
    /// Numerically equal.
    NumEq,
    /// Numerically greater.
    NumGt,
    /// Numerically greater or equal.
    NumGte,
    /// Numerically less.
    NumLt,
    /// Numerically less or equal.
    NumLte,
    /// Date-time after the value (RFC 3339).
    DateAfter,
    /// Date-time before the value (RFC 3339).
    DateBefore,
    /// Semantic version equal.
    SemverEq,
    /// Semantic version greater.
    SemverGt,
    /// Semantic version less.
    SemverLt,
    /// Semantic version greater or equal.
    SemverGte,
    /// Semantic version less or equal.
    SemverLte,
    /// Matches a regular expression (RE2 syntax, unanchored search).
    Regex,
    /// An IP address inside one of the listed addresses or CIDR ranges.
    InCidr,
}

impl Operator {
    /// Every operator with its manifest spelling and Unleash's.
    pub const ALL: [(Operator, &'static str, &'static str); 19] = [
        (Operator::In, "in", "IN"),
        (Operator::NotIn, "not_in", "NOT_IN"),
        (Operator::StrContains, "str_contains", "STR_CONTAINS"),
        (
            Operator::StrStartsWith,
            "str_starts_with",
            "STR_STARTS_WITH",
        ),
        (Operator::StrEndsWith, "str_ends_with", "STR_ENDS_WITH"),
        (Operator::NumEq, "num_eq", "NUM_EQ"),
        (Operator::NumGt, "num_gt", "NUM_GT"),
        (Operator::NumGte, "num_gte", "NUM_GTE"),
        (Operator::NumLt, "num_lt", "NUM_LT"),
        (Operator::NumLte, "num_lte", "NUM_LTE"),
        (Operator::DateAfter, "date_after", "DATE_AFTER"),
        (Operator::DateBefore, "date_before", "DATE_BEFORE"),
        (Operator::SemverEq, "semver_eq", "SEMVER_EQ"),
        (Operator::SemverGt, "semver_gt", "SEMVER_GT"),
        (Operator::SemverLt, "semver_lt", "SEMVER_LT"),
        (Operator::SemverGte, "semver_gte", "SEMVER_GTE"),
        (Operator::SemverLte, "semver_lte", "SEMVER_LTE"),
        (Operator::Regex, "regex", "REGEX"),
        (Operator::InCidr, "in_cidr", "IN_CIDR"),
    ];

    /// Parses the manifest spelling (`str_contains`) or Unleash's (`STR_CONTAINS`).
    pub fn parse(text: &str) -> Option<Operator> {
        Operator::ALL
            .iter()
            .find(|(_, ours, theirs)| *ours == text || *theirs == text)
            .map(|(op, _, _)| *op)
    }

    /// Whether the operator takes a list of values rather than one.
    pub fn takes_list(self) -> bool {
        matches!(
            self,
            Operator::In
                | Operator::NotIn
                | Operator::StrContains
                | Operator::StrStartsWith
                | Operator::StrEndsWith
                | Operator::InCidr
        )
    }
}
