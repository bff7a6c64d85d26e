//! The client API's payload (`GET /api/client/features`): toggles, their strategies,
//! constraints, segments, variants and dependencies, parsed and checked whole.
//!
//! The payload's own shape is checked as documented: an object whose `features` is an
//! array of objects (`{"features": null}`, a missing or non-array `features`, a toggle
//! that is not an object are refused). Inside a toggle, parsing is tolerant where
//! Unleash servers differ (a `null` where a list is expected is an empty list,
//! parameters may be numbers, unknown fields are ignored) and strict
//! where a mistake would change a decision (a toggle without a name, a negative
//! weight, a constraint without an operator): such a payload is refused whole with the
//! JSON path of the first problem, so the last good state stays in force.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};

/// A client-API payload: every toggle of the environment and the segments they use.
///
/// # Examples
///
/// ```
/// use flags_unleash::ClientFeatures;
///
/// let payload = ClientFeatures::parse(br#"{"version":2,"features":[
///     {"name":"beta","enabled":true,"strategies":[{"name":"default"}]}]}"#)?;
/// assert_eq!(payload.features[0].name, "beta");
/// assert!(ClientFeatures::parse(br#"{"features":[{"enabled":true}]}"#).is_err());
/// # Ok::<(), flags_unleash::PayloadError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClientFeatures {
    /// The payload format's version (2 for current servers).
    #[serde(default)]
    pub version: u32,
    /// The toggles: an array, as documented. `null` or anything else is refused, as
    /// Unleash's own SDKs refuse it, rather than read as "no toggles" (which would
    /// send every flag back to its lower layers).
    #[serde(deserialize_with = "required_list")]
    pub features: Vec<Feature>,
    /// Segments, referenced by id from strategies.
    #[serde(default, deserialize_with = "list")]
    pub segments: Vec<Segment>,
}

/// One toggle.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Feature {
    /// Its name, unique in the payload.
    #[serde(default)]
    pub name: String,
    /// `false` turns it off whatever its strategies say.
    #[serde(default)]
    pub enabled: bool,
    /// Strategies, tried in order; none at all means on for everyone.
    #[serde(default, deserialize_with = "list")]
    pub strategies: Vec<FeatureStrategy>,
    /// Feature-level variants.
    #[serde(default, deserialize_with = "list")]
    pub variants: Vec<Variant>,
    /// Parent toggles this one depends on.
    #[serde(default, deserialize_with = "list")]
    pub dependencies: Vec<Dependency>,
    /// Reads of it emit impression events ([`crate::IMPRESSION_TARGET`]).
    #[serde(default, deserialize_with = "opt_bool")]
    pub impression_data: bool,
}

/// One strategy of a toggle.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FeatureStrategy {
    /// Its name (`default`, `flexibleRollout`, `userWithId`, …).
    #[serde(default)]
    pub name: String,
    /// Its parameters, as text (`"rollout": "50"`).
    #[serde(default, deserialize_with = "parameters")]
    pub parameters: BTreeMap<String, String>,
    /// Constraints; all must hold.
    #[serde(default, deserialize_with = "list")]
    pub constraints: Vec<Constraint>,
    /// Ids of segments whose constraints also apply.
    #[serde(default, deserialize_with = "list")]
    pub segments: Vec<u64>,
    /// Strategy variants: chosen from when this strategy decides.
    #[serde(default, deserialize_with = "list")]
    pub variants: Vec<Variant>,
}

/// A constraint on one context field.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Constraint {
    /// The context field (`userId`, `environment`, or a custom property).
    #[serde(default)]
    pub context_name: String,
    /// The operator, in Unleash's spelling (`IN`, `STR_CONTAINS`, `SEMVER_GT`, …).
    #[serde(default)]
    pub operator: String,
    /// Operands of the list operators.
    #[serde(default, deserialize_with = "string_list")]
    pub values: Vec<String>,
    /// Operand of the single-value operators (numbers, dates, versions, regex).
    #[serde(default, deserialize_with = "opt_string")]
    pub value: Option<String>,
    /// Negates the result.
    #[serde(default, deserialize_with = "opt_bool")]
    pub inverted: bool,
    /// String comparisons ignore case.
    #[serde(default, deserialize_with = "opt_bool")]
    pub case_insensitive: bool,
}

/// A named, reusable list of constraints.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    /// Its id, referenced from strategies.
    pub id: u64,
    /// Its name (informational).
    #[serde(default, deserialize_with = "opt_string")]
    pub name: Option<String>,
    /// Its constraints.
    #[serde(default, deserialize_with = "list")]
    pub constraints: Vec<Constraint>,
}

/// A weighted variant.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// Its share (Unleash's weights add up to 1000 per list).
    #[serde(default)]
    pub weight: u32,
    /// Data delivered with it.
    #[serde(default)]
    pub payload: Option<Payload>,
    /// What the split is sticky on (`default`, `userId`, a property…).
    #[serde(default, deserialize_with = "opt_string")]
    pub stickiness: Option<String>,
    /// Contexts that always get this variant (feature variants only).
    #[serde(default, deserialize_with = "list")]
    pub overrides: Vec<Override>,
}

/// The data of a variant: a type (`string`, `json`, `csv`, `number`) and its text.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    /// `string`, `json`, `csv` or `number`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The value, always as text (`"1.2"` for a number).
    #[serde(default, deserialize_with = "string_or_number")]
    pub value: String,
}

impl Payload {
    /// The payload in the rule model. The value is taken as sent, unchecked, as
    /// Unleash's engine passes it through; a type other than Unleash's four (which its
    /// server does not produce) is read as `string`.
    #[must_use]
    pub fn to_rules(&self) -> flags_runtime::manifest::VariantPayload {
        flags_runtime::manifest::VariantPayload {
            kind: flags_runtime::manifest::PayloadKind::parse(&self.kind)
                .unwrap_or(flags_runtime::manifest::PayloadKind::String),
            value: self.value.clone(),
        }
    }
}

/// Contexts whose field `context_name` is one of `values` get the variant.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Override {
    /// The context field.
    #[serde(default)]
    pub context_name: String,
    /// The values that select the variant.
    #[serde(default, deserialize_with = "string_list")]
    pub values: Vec<String>,
}

/// A dependency on a parent toggle.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Dependency {
    /// The parent's name.
    #[serde(default)]
    pub feature: String,
    /// `false`: the parent must be off; absent or `true`: on.
    #[serde(default, deserialize_with = "opt_bool_option")]
    pub enabled: Option<bool>,
    /// When not empty, the parent's variant must be one of these.
    #[serde(default, deserialize_with = "string_list")]
    pub variants: Vec<String>,
}

/// A payload that was refused: where (a JSON path, or line and column) and what.
///
/// # Examples
///
/// ```
/// let e = flags_unleash::ClientFeatures::parse(b"{").unwrap_err();
/// assert!(e.to_string().starts_with("invalid JSON"), "{e}");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PayloadError {
    /// Not JSON, or not the payload's shape.
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    Json {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What serde_json said.
        message: String,
    },
    /// Well-formed, but a value that would change decisions is wrong.
    #[error("{path}: {message}")]
    Invalid {
        /// Where, as a JSON path (`features[2].strategies[0].constraints[1]`).
        path: String,
        /// What is wrong.
        message: String,
    },
}

impl PayloadError {
    fn invalid(path: impl fmt::Display, message: impl Into<String>) -> PayloadError {
        PayloadError::Invalid {
            path: path.to_string(),
            message: message.into(),
        }
    }

    fn json(e: &serde_json::Error) -> PayloadError {
        PayloadError::Json {
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        }
    }
}

impl ClientFeatures {
    /// Parses and checks a payload. Never panics, whatever the bytes.
    pub fn parse(bytes: &[u8]) -> Result<ClientFeatures, PayloadError> {
        let payload: ClientFeatures =
            serde_json::from_slice(bytes).map_err(|e| PayloadError::json(&e))?;
        payload.check()?;
        Ok(payload)
    }

    /// The payload as JSON (what the backup file holds).
    ///
    /// # Examples
    ///
    /// ```
    /// use flags_unleash::ClientFeatures;
    ///
    /// let p = ClientFeatures::parse(br#"{"features":[{"name":"a","enabled":true}]}"#)?;
    /// assert_eq!(ClientFeatures::parse(&p.to_json())?, p);
    /// # Ok::<(), flags_unleash::PayloadError>(())
    /// ```
    #[must_use]
    pub fn to_json(&self) -> Vec<u8> {
        // Serialising plain structs of strings, numbers and maps with string keys
        // cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The toggle named `name`.
    #[must_use]
    pub fn feature(&self, name: &str) -> Option<&Feature> {
        self.features.iter().find(|f| f.name == name)
    }

    /// Every check a payload must pass, first problem reported.
    fn check(&self) -> Result<(), PayloadError> {
        let mut names = HashSet::new();
        for (i, f) in self.features.iter().enumerate() {
            let at = format!("features[{i}]");
            if f.name.is_empty() {
                return Err(PayloadError::invalid(at, "a toggle without a name"));
            }
            if !names.insert(f.name.as_str()) {
                return Err(PayloadError::invalid(
                    at,
                    format!("toggle `{}` appears twice", f.name),
                ));
            }
            for (j, s) in f.strategies.iter().enumerate() {
                let at = format!("{at}.strategies[{j}]");
                if s.name.is_empty() {
                    return Err(PayloadError::invalid(at, "a strategy without a name"));
                }
                check_constraints(&s.constraints, &at)?;
                check_variants(&s.variants, &format!("{at}.variants"), false)?;
            }
            check_variants(&f.variants, &format!("{at}.variants"), true)?;
            for (j, d) in f.dependencies.iter().enumerate() {
                if d.feature.is_empty() {
                    return Err(PayloadError::invalid(
                        format!("{at}.dependencies[{j}]"),
                        "a dependency without a parent `feature`",
                    ));
                }
            }
        }
        let mut ids = HashSet::new();
        for (i, s) in self.segments.iter().enumerate() {
            let at = format!("segments[{i}]");
            if !ids.insert(s.id) {
                return Err(PayloadError::invalid(
                    at,
                    format!("segment id {} appears twice", s.id),
                ));
            }
            check_constraints(&s.constraints, &at)?;
        }
        Ok(())
    }

    /// Segments by id.
    pub(crate) fn segment_index(&self) -> HashMap<u64, &Segment> {
        self.segments.iter().map(|s| (s.id, s)).collect()
    }

    /// Applies delta-API events in order (`hydration` replaces everything,
    /// `feature-updated` / `segment-updated` insert or replace, `feature-removed` /
    /// `segment-removed` delete), then checks the result; on error `self` is
    /// unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use flags_unleash::{ClientFeatures, DeltaEvent};
    ///
    /// let mut state = ClientFeatures::default();
    /// let events = DeltaEvent::parse_events(br#"{"events":[
    ///   {"eventId":1,"type":"feature-updated","feature":{"name":"a","enabled":true}},
    ///   {"eventId":2,"type":"feature-removed","featureName":"a","project":"default"}]}"#)?;
    /// state.apply_delta(&events)?;
    /// assert!(state.features.is_empty());
    /// # Ok::<(), flags_unleash::PayloadError>(())
    /// ```
    pub fn apply_delta(&mut self, events: &[DeltaEvent]) -> Result<(), PayloadError> {
        let mut next = self.clone();
        for e in events {
            match e {
                DeltaEvent::Hydration { features, segments } => {
                    next.features.clone_from(features);
                    next.segments.clone_from(segments);
                }
                DeltaEvent::FeatureUpdated { feature } => {
                    match next.features.iter_mut().find(|f| f.name == feature.name) {
                        Some(slot) => slot.clone_from(feature),
                        None => next.features.push(feature.clone()),
                    }
                }
                DeltaEvent::FeatureRemoved { feature_name } => {
                    next.features.retain(|f| f.name != *feature_name);
                }
                DeltaEvent::SegmentUpdated { segment } => {
                    match next.segments.iter_mut().find(|s| s.id == segment.id) {
                        Some(slot) => slot.clone_from(segment),
                        None => next.segments.push(segment.clone()),
                    }
                }
                DeltaEvent::SegmentRemoved { segment_id } => {
                    next.segments.retain(|s| s.id != *segment_id);
                }
            }
        }
        next.check()?;
        *self = next;
        Ok(())
    }
}

/// One event of Unleash's delta API (`/api/client/delta`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum DeltaEvent {
    /// The whole state.
    Hydration {
        /// Every toggle.
        #[serde(default, deserialize_with = "list")]
        features: Vec<Feature>,
        /// Every segment.
        #[serde(default, deserialize_with = "list")]
        segments: Vec<Segment>,
    },
    /// A toggle added or changed.
    FeatureUpdated {
        /// The toggle.
        feature: Feature,
    },
    /// A toggle deleted.
    #[serde(rename_all = "camelCase")]
    FeatureRemoved {
        /// Its name.
        feature_name: String,
    },
    /// A segment added or changed.
    SegmentUpdated {
        /// The segment.
        segment: Segment,
    },
    /// A segment deleted.
    #[serde(rename_all = "camelCase")]
    SegmentRemoved {
        /// Its id.
        segment_id: u64,
    },
}

impl DeltaEvent {
    /// Parses `{"events": [...]}`. Never panics, whatever the bytes.
    pub fn parse_events(bytes: &[u8]) -> Result<Vec<DeltaEvent>, PayloadError> {
        #[derive(Deserialize)]
        struct Events {
            #[serde(deserialize_with = "required_list")]
            events: Vec<DeltaEvent>,
        }
        let e: Events = serde_json::from_slice(bytes).map_err(|e| PayloadError::json(&e))?;
        Ok(e.events)
    }
}

fn check_constraints(constraints: &[Constraint], at: &str) -> Result<(), PayloadError> {
    for (k, c) in constraints.iter().enumerate() {
        let at = format!("{at}.constraints[{k}]");
        if c.context_name.is_empty() {
            return Err(PayloadError::invalid(
                at,
                "a constraint without `contextName`",
            ));
        }
        if c.operator.is_empty() {
            return Err(PayloadError::invalid(at, "a constraint without `operator`"));
        }
    }
    Ok(())
}

fn check_variants(variants: &[Variant], at: &str, overrides: bool) -> Result<(), PayloadError> {
    let mut total = 0u64;
    for (k, v) in variants.iter().enumerate() {
        let at = format!("{at}[{k}]");
        if v.name.is_empty() {
            return Err(PayloadError::invalid(at, "a variant without a name"));
        }
        total += u64::from(v.weight);
        if !overrides && !v.overrides.is_empty() {
            return Err(PayloadError::invalid(
                at,
                "overrides are only allowed on feature variants",
            ));
        }
        for (o, ov) in v.overrides.iter().enumerate() {
            if ov.context_name.is_empty() {
                return Err(PayloadError::invalid(
                    format!("{at}.overrides[{o}]"),
                    "an override without `contextName`",
                ));
            }
        }
    }
    if total > u64::from(u32::MAX) {
        return Err(PayloadError::invalid(
            at,
            format!("variant weights add up to {total}, more than 4294967295"),
        ));
    }
    Ok(())
}

// ---- tolerant field readers --------------------------------------------------------

/// A list that may be `null`.
fn list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// A list that must be there and be a list: `null` is refused, not read as empty.
fn required_list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<Vec<T>>::deserialize(d)?
        .ok_or_else(|| de::Error::custom("expected an array, found null"))
}

/// A scalar as text: strings as they are, numbers and bools printed.
#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Scalar {
    fn text(self) -> String {
        match self {
            Scalar::Str(s) => s,
            Scalar::Int(n) => n.to_string(),
            Scalar::Float(n) => n.to_string(),
            Scalar::Bool(b) => b.to_string(),
        }
    }
}

fn parameters<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    let raw = Option::<BTreeMap<String, Option<Scalar>>>::deserialize(d)?.unwrap_or_default();
    Ok(raw
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v.text())))
        .collect())
}

fn string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let raw = Option::<Vec<Option<Scalar>>>::deserialize(d)?.unwrap_or_default();
    Ok(raw.into_iter().flatten().map(Scalar::text).collect())
}

fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<Scalar>::deserialize(d)?.map(Scalar::text))
}

fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => Ok(String::new()),
        Some(serde_json::Value::String(s)) => Ok(s),
        Some(serde_json::Value::Number(n)) => Ok(n.to_string()),
        Some(serde_json::Value::Bool(b)) => Ok(b.to_string()),
        // A JSON payload sent as a structure rather than as text: keep its JSON text.
        Some(other) => serde_json::to_string(&other).map_err(de::Error::custom),
    }
}

fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(d)?.unwrap_or(false))
}

fn opt_bool_option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Option::<bool>::deserialize(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ClientFeatures, PayloadError> {
        ClientFeatures::parse(text.as_bytes())
    }

    #[test]
    fn tolerant_where_servers_differ() {
        let p = parse(
            r#"{"version":2,"features":[{"name":"a","enabled":true,"description":null,
            "strategies":[{"name":"flexibleRollout","parameters":{"rollout":50,"groupId":"a","x":null},
              "constraints":null,"segments":null,"variants":null}],
            "variants":null,"dependencies":null,"impressionData":false}],
            "segments":null,"query":{"environment":"development"},"meta":{"etag":"x"}}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let s = &p.features[0].strategies[0];
        assert_eq!(s.parameters.get("rollout").map(String::as_str), Some("50"));
        assert!(!s.parameters.contains_key("x"));
        assert!(s.constraints.is_empty() && p.segments.is_empty());
    }

    #[test]
    fn strict_where_decisions_change() {
        let cases = [
            (r#"{"features":[{"enabled":true}]}"#, "features[0]"),
            (
                r#"{"features":[{"name":"a"},{"name":"a"}]}"#,
                "features[1]: toggle `a` appears twice",
            ),
            (
                r#"{"features":[{"name":"a","strategies":[{"parameters":{}}]}]}"#,
                "features[0].strategies[0]",
            ),
            (
                r#"{"features":[{"name":"a","strategies":[{"name":"default","constraints":[{"operator":"IN"}]}]}]}"#,
                "features[0].strategies[0].constraints[0]: a constraint without `contextName`",
            ),
            (
                r#"{"features":[{"name":"a","variants":[{"name":"x","weight":4294967295},{"name":"y","weight":1}]}]}"#,
                "more than 4294967295",
            ),
            (
                r#"{"features":[],"segments":[{"id":1},{"id":1}]}"#,
                "segment id 1 appears twice",
            ),
            (
                r#"{"features":[{"name":"a","dependencies":[{"enabled":true}]}]}"#,
                "dependencies[0]",
            ),
        ];
        for (text, expected) in cases {
            let err = parse(text).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains(expected), "{text}: {err}");
        }
        for text in [
            r#"{"features":[{"name":"a","variants":[{"name":"x","weight":-1}]}]}"#,
            r#"{"features":{}}"#,
            r#"{"features":null}"#,
            r#"{"version":2,"features":null,"segments":[]}"#,
            r#"{"features":[null]}"#,
            r#"{"features":[1]}"#,
            r#"{"features":"[]"}"#,
            r#"{"features":[],"segments":{}}"#,
            r#"{"features":[],"version":"2"}"#,
            r#"{}"#,
            r#"[]"#,
            "",
        ] {
            assert!(
                matches!(parse(text), Err(PayloadError::Json { .. })),
                "{text}"
            );
        }
    }

    #[test]
    fn payload_values_stay_text() {
        let p = parse(
            r#"{"features":[{"name":"a","variants":[
            {"name":"n","weight":1,"payload":{"type":"number","value":1.5}},
            {"name":"j","weight":1,"payload":{"type":"json","value":{"k":[1]}}}]}]}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let v = &p.features[0].variants;
        assert_eq!(v[0].payload.as_ref().map(|p| p.value.as_str()), Some("1.5"));
        assert_eq!(
            v[1].payload.as_ref().map(|p| p.value.as_str()),
            Some(r#"{"k":[1]}"#)
        );
    }

    #[test]
    fn delta_events_apply_in_order_or_not_at_all() {
        let mut state = parse(r#"{"features":[{"name":"old","enabled":true}]}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        let events = DeltaEvent::parse_events(
            br#"{"events":[
            {"eventId":1,"type":"hydration","features":[{"name":"a","enabled":true}],"segments":[{"id":1,"constraints":[]}]},
            {"eventId":2,"type":"feature-updated","feature":{"name":"a","enabled":false}},
            {"eventId":3,"type":"feature-updated","feature":{"name":"b","enabled":true}},
            {"eventId":4,"type":"segment-removed","segmentId":1},
            {"eventId":5,"type":"segment-updated","segment":{"id":2,"constraints":[]}}]}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        state.apply_delta(&events).unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<_> = state
            .features
            .iter()
            .map(|f| (f.name.as_str(), f.enabled))
            .collect();
        assert_eq!(names, [("a", false), ("b", true)]);
        assert_eq!(state.segments.len(), 1);
        assert_eq!(state.segments[0].id, 2);
        let before = state.clone();
        let bad = DeltaEvent::parse_events(
            br#"{"events":[{"type":"feature-removed","featureName":"a"},{"type":"feature-updated","feature":{"name":""}}]}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(state.apply_delta(&bad).is_err());
        assert_eq!(state, before, "a refused delta changes nothing");
        assert!(DeltaEvent::parse_events(br#"{"events":[{"type":"nope"}]}"#).is_err());
    }
}
