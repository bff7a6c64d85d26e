//! What a resolution says besides its value: the OpenFeature reason for the
//! runtime's [`Reason`], and the flag metadata (owner, kind, lifecycle, expiry and
//! the layer that decided).

use flags_runtime::{FlagMeta, Layer, Reason};
use open_feature::{EvaluationReason, FlagMetadata};

/// The OpenFeature reason for an evaluation of `meta` that reached `reason`.
///
/// The same mapping as the runtime's OpenTelemetry `feature_flag.result.reason`, so
/// that both name an evaluation alike, plus `STATIC` for every read of a static flag
/// (its value is compiled in and no layer can change it):
///
/// | flags reason | OpenFeature reason |
/// |---|---|
/// | static flag (any reason) | `STATIC` |
/// | [`Reason::Fixed`], [`Reason::Override`] | `STATIC` |
/// | [`Reason::Strategy`] | `TARGETING_MATCH` |
/// | [`Reason::Rollout`], [`Reason::Split`] | `SPLIT` |
/// | [`Reason::KillSwitch`] | `DISABLED` |
/// | [`Reason::Error`] | `ERROR` |
/// | [`Reason::Default`], no strategy matched, a failed constraint or prerequisite | `DEFAULT` |
///
/// # Examples
///
/// ```
/// use flags_openfeature::reason;
/// use flags_runtime::{FlagMeta, Reason};
/// use open_feature::EvaluationReason;
///
/// let dynamic = FlagMeta::bare("beta", 0, &[]);
/// assert_eq!(reason(&dynamic, Reason::KillSwitch), EvaluationReason::Disabled);
/// assert_eq!(reason(&dynamic, Reason::NoStrategyMatched), EvaluationReason::Default);
/// let fixed = FlagMeta { is_static: true, ..dynamic };
/// assert_eq!(reason(&fixed, Reason::Default), EvaluationReason::Static);
/// ```
#[must_use]
pub fn reason(meta: &FlagMeta, reason: Reason) -> EvaluationReason {
    if meta.is_static {
        return EvaluationReason::Static;
    }
    // The runtime's one mapping, shared with its OpenTelemetry events.
    match reason.feature_flag_reason() {
        "static" => EvaluationReason::Static,
        "targeting_match" => EvaluationReason::TargetingMatch,
        "split" => EvaluationReason::Split,
        "disabled" => EvaluationReason::Disabled,
        "error" => EvaluationReason::Error,
        _ => EvaluationReason::Default,
    }
}

/// Metadata keys, as the resolution details carry them.
pub mod keys {
    /// Who answers for the flag (the manifest's `owner`), when set.
    pub const OWNER: &str = "owner";
    /// Its kind: `release`, `experiment`, `ops` or `permission`.
    pub const KIND: &str = "kind";
    /// Its lifecycle: `planned`, `active`, `rolled_out` or `deprecated`.
    pub const LIFECYCLE: &str = "lifecycle";
    /// Its expiry date, `YYYY-MM-DD`, when it has one.
    pub const EXPIRES: &str = "expires";
    /// Whether it is a static (compile-time) flag.
    pub const STATIC: &str = "static";
    /// The layer that decided: `manifest`, `file`, `env`, `remote`, `rollout` or
    /// `override`.
    pub const LAYER: &str = "layer";
}

/// The metadata of `meta` when `layer` decides, built once per flag and layer so
/// that a resolution only clones it.
pub(crate) fn metadata(meta: &FlagMeta, layer: Layer) -> FlagMetadata {
    let mut m = FlagMetadata::default()
        .with_value(keys::LAYER, layer.as_str())
        .with_value(keys::KIND, meta.kind.as_str())
        .with_value(keys::LIFECYCLE, meta.lifecycle.as_str())
        .with_value(keys::STATIC, meta.is_static);
    if !meta.owner.is_empty() {
        m.add_value(keys::OWNER, meta.owner);
    }
    if let Some(date) = meta.expires {
        m.add_value(keys::EXPIRES, date.to_string());
    }
    m
}

/// Where `layer`'s metadata sits in a flag's row (the order of [`Layer::ALL`]).
pub(crate) fn slot(layer: Layer) -> usize {
    Layer::ALL.iter().position(|l| *l == layer).unwrap_or(0)
}
