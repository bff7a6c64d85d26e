//! A payload evaluated offline, as a pure function of (toggles, context): Unleash's
//! `isEnabled` and `getVariant` answered through the same mapping as the live source
//! and the runtime's [`RuleSet`] evaluator. This is what the conformance suite runs,
//! and what a test can use to check a payload before it reaches a server.

use std::collections::{BTreeMap, HashMap};

use flags_runtime::manifest::Value;
use flags_runtime::{Context, FlagDef, RuleSet, RuleSetError};
use serde::Deserialize;

use crate::mapping::{MapError, Mapper, MappingNote, Target};
use crate::payload::{ClientFeatures, Payload};

/// The name standing for "no variant" in the variant rule set; not a name Unleash
/// allows, so it never collides with a real variant.
const NO_VARIANT: &str = "\u{0}disabled";

/// Every toggle of a payload, ready to evaluate.
///
/// # Examples
///
/// ```
/// use flags_unleash::{ClientFeatures, Toggles};
/// use flags_runtime::Context;
///
/// let payload = ClientFeatures::parse(br#"{"features":[{"name":"beta","enabled":true,
///   "strategies":[{"name":"userWithId","parameters":{"userIds":"alice, bob"}}],
///   "variants":[{"name":"blue","weight":1,"payload":{"type":"string","value":"b"}}]}]}"#)?;
/// let toggles = Toggles::new(&payload)?;
/// assert!(toggles.is_enabled("beta", &Context::with_key("bob")));
/// assert!(!toggles.is_enabled("beta", &Context::with_key("carol")));
/// let v = toggles.variant("beta", &Context::with_key("alice"));
/// assert_eq!((v.name.as_str(), v.enabled), ("blue", true));
/// assert_eq!(v.payload.map(|p| p.value), Some("b".to_owned()));
/// assert_eq!(toggles.variant("nope", &Context::new()).name, "disabled");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Toggles {
    bools: RuleSet,
    variants: RuleSet,
    names: Vec<Vec<String>>,
    notes: Vec<MappingNote>,
}

/// Unleash's `getVariant` answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VariantResult {
    /// The variant's name, `disabled` when none.
    pub name: String,
    /// Its payload.
    pub payload: Option<Payload>,
    /// Whether a variant was chosen.
    pub enabled: bool,
    /// Whether the toggle is on for the context.
    pub feature_enabled: bool,
}

impl VariantResult {
    fn disabled(feature_enabled: bool) -> VariantResult {
        VariantResult {
            name: "disabled".to_owned(),
            payload: None,
            enabled: false,
            feature_enabled,
        }
    }
}

/// Why a payload could not be prepared for evaluation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TogglesError {
    /// A toggle could not be mapped.
    #[error(transparent)]
    Map(#[from] MapError),
    /// The mapped rules were refused by the evaluator (a bug in the mapping).
    #[error(transparent)]
    Rules(#[from] RuleSetError),
}

impl Toggles {
    /// Maps every toggle of `payload` twice: as an on/off flag (for `isEnabled`) and
    /// as a variant flag whose variants are every name the toggle uses (for
    /// `getVariant`).
    pub fn new(payload: &ClientFeatures) -> Result<Toggles, TogglesError> {
        let mapper = Mapper::new(payload);
        let mut bools = Vec::with_capacity(payload.features.len());
        let mut variants = Vec::with_capacity(payload.features.len());
        let mut names = Vec::with_capacity(payload.features.len());
        let mut notes = Vec::new();
        for f in &payload.features {
            let mapped = mapper.map(f, Target::Bool, &|_| false)?;
            notes.extend(mapped.notes);
            bools.push(FlagDef::bool(&f.name, false).rules(mapped.rules));

            let mut list: Vec<String> = vec![NO_VARIANT.to_owned()];
            let every = f
                .variants
                .iter()
                .chain(f.strategies.iter().flat_map(|s| &s.variants));
            for v in every {
                if !list.contains(&v.name) {
                    list.push(v.name.clone());
                }
            }
            let refs: Vec<&str> = list.iter().map(String::as_str).collect();
            let mapped = mapper.map(f, Target::Variants(&refs), &|_| false)?;
            variants.push(FlagDef::variants(&f.name, &refs, NO_VARIANT).rules(mapped.rules));
            names.push(list);
        }
        Ok(Toggles {
            bools: RuleSet::new(bools)?,
            variants: RuleSet::new(variants)?,
            names,
            notes,
        })
    }

    /// Unleash's `isEnabled`: `false` for a toggle the payload lacks.
    #[must_use]
    pub fn is_enabled(&self, toggle: &str, ctx: &Context) -> bool {
        self.bools
            .index_of(toggle)
            .is_some_and(|i| self.bools.evaluate(i, ctx).value == Value::Bool(true))
    }

    /// Unleash's `getVariant`: `disabled` (not enabled) for a toggle the payload
    /// lacks, that is off, or that chose no variant.
    #[must_use]
    pub fn variant(&self, toggle: &str, ctx: &Context) -> VariantResult {
        let Some(i) = self.variants.index_of(toggle) else {
            return VariantResult::disabled(false);
        };
        let eval = self.variants.evaluate(i, ctx);
        let feature_enabled = eval.reason.is_match();
        match eval.value {
            Value::Variant(v) if v > 0 => {
                let name = self.names[i]
                    .get(usize::from(v))
                    .cloned()
                    .unwrap_or_default();
                let payload = self.variants.payload(i, &eval).map(|p| Payload {
                    kind: p.kind.as_str().to_owned(),
                    value: p.value.to_owned(),
                });
                VariantResult {
                    name,
                    payload,
                    enabled: true,
                    feature_enabled,
                }
            }
            _ => VariantResult::disabled(feature_enabled),
        }
    }

    /// What the mapping found worth a warning (unsupported strategies, unknown
    /// operators, dependencies it could not express).
    #[must_use]
    pub fn notes(&self) -> &[MappingNote] {
        &self.notes
    }
}

/// An Unleash context as SDKs and the client specification write it.
///
/// `userId` becomes the targeting key; `sessionId`, `remoteAddress`, `environment`,
/// `appName` and `currentTime` become attributes of those names; each property
/// becomes an attribute (a `null` property is absent).
///
/// # Examples
///
/// ```
/// use flags_unleash::UnleashContext;
///
/// let ctx: UnleashContext = serde_json::from_str(
///     r#"{"userId":"u1","environment":"prod","properties":{"plan":"pro","gone":null}}"#,
/// )?;
/// let ctx = ctx.to_context();
/// assert_eq!(ctx.targeting_key(), Some("u1"));
/// assert_eq!(ctx.get("environment"), Some("prod"));
/// assert_eq!(ctx.get("plan"), Some("pro"));
/// assert_eq!(ctx.get("gone"), None);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnleashContext {
    /// The user: our targeting key.
    pub user_id: Option<String>,
    /// The session.
    pub session_id: Option<String>,
    /// The client's IP address.
    pub remote_address: Option<String>,
    /// The environment.
    pub environment: Option<String>,
    /// The application.
    pub app_name: Option<String>,
    /// The time of evaluation (RFC 3339); now when absent.
    pub current_time: Option<String>,
    /// Custom fields.
    #[serde(default)]
    pub properties: BTreeMap<String, Option<String>>,
}

impl UnleashContext {
    /// The runtime's [`Context`] for this Unleash context.
    #[must_use]
    pub fn to_context(&self) -> Context {
        let mut ctx = Context::new();
        if let Some(user) = &self.user_id {
            ctx.set_key(user.as_str());
        }
        let fields = [
            ("sessionId", &self.session_id),
            ("remoteAddress", &self.remote_address),
            ("environment", &self.environment),
            ("appName", &self.app_name),
            ("currentTime", &self.current_time),
        ];
        let mut seen: HashMap<&str, ()> = HashMap::new();
        for (name, value) in fields {
            if let Some(v) = value {
                ctx.set_attr(name, v.as_str());
                seen.insert(name, ());
            }
        }
        for (name, value) in &self.properties {
            // A top-level field wins over a property of the same name, as in the SDKs.
            if let (Some(v), false) = (value, seen.contains_key(name.as_str())) {
                ctx.set_attr(name, v.as_str());
            }
        }
        ctx
    }
}
