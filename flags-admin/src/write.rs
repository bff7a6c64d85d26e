//! The write API: overrides, the kill switch and rollout commands. Each request is
//! checked whole (body, flag, value) before anything is recorded or changed, so a bad
//! request leaves the registry, the controller and the audit log as they were.

use flags_rollout::{Attribution, RolloutError};
use flags_runtime::raw::{IndexAccess, SnapshotAccess};
use flags_runtime::{BoolFlag, FlagMeta, Layer, UpdateError, Value};
use http::StatusCode;
use serde::Deserialize;

use crate::audit::AuditRecord;
use crate::error::ApiError;
use crate::handler::Inner;

/// `POST /api/flags/{name}/override`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OverrideBody {
    /// `true`/`false` for an on/off flag, a variant name for a variant flag.
    value: serde_json::Value,
    #[serde(default)]
    reason: String,
}

/// The optional body of the other writes.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReasonBody {
    #[serde(default)]
    reason: String,
}

/// A flag write, by route.
#[derive(Clone, Copy, Debug)]
pub(crate) enum FlagAction {
    Override,
    ClearOverride,
    Kill,
}

/// A rollout command, by route.
#[derive(Clone, Copy, Debug)]
pub(crate) enum RolloutAction {
    Pause,
    Resume,
    Rollback,
}

impl RolloutAction {
    pub(crate) fn parse(verb: &str) -> Option<RolloutAction> {
        match verb {
            "pause" => Some(RolloutAction::Pause),
            "resume" => Some(RolloutAction::Resume),
            "rollback" => Some(RolloutAction::Rollback),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            RolloutAction::Pause => "pause",
            RolloutAction::Resume => "resume",
            RolloutAction::Rollback => "rollback",
        }
    }
}

fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let bad =
        |e: serde_json::Error| ApiError::bad_request(format!("the request body is not valid: {e}"));
    let value: Json = serde_json::from_slice(body).map_err(bad)?;
    // serde reads a struct from an array too (`[true]`); the API takes objects only.
    if !value.is_object() {
        return Err(ApiError::bad_request(format!(
            "the request body is not valid: a JSON object is expected, not {}",
            kind_of(&value)
        )));
    }
    serde_json::from_value(value).map_err(bad)
}

fn parse_reason(body: &[u8]) -> Result<ReasonBody, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(ReasonBody::default());
    }
    parse_json(body)
}

type Json = serde_json::Value;

impl Inner {
    fn flag(&self, name: &str) -> Result<(usize, &'static FlagMeta), ApiError> {
        let index = self
            .registry
            .index_of(name)
            .ok_or_else(|| ApiError::not_found(format!("no flag `{name}` in this registry")))?;
        let meta = &self.registry.flags()[index];
        if meta.is_static {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!(
                    "flag `{name}` is static: its value is fixed at build time and no write can change it"
                ),
            ));
        }
        Ok((index, meta))
    }

    /// The value a JSON `value` names for `meta`.
    fn value_of(meta: &FlagMeta, value: &Json) -> Result<Value, ApiError> {
        if meta.is_bool() {
            return match value {
                Json::Bool(b) => Ok(Value::Bool(*b)),
                other => Err(ApiError::unprocessable(format!(
                    "flag `{}` is on/off: `value` must be true or false, not {}",
                    meta.name,
                    kind_of(other)
                ))),
            };
        }
        let Json::String(name) = value else {
            return Err(ApiError::unprocessable(format!(
                "flag `{}` has variants: `value` must be one of their names ({}), not {}",
                meta.name,
                meta.variants.join(", "),
                kind_of(value)
            )));
        };
        meta.variants
            .iter()
            .position(|v| v == name)
            .and_then(|i| u16::try_from(i).ok())
            .map(Value::Variant)
            .ok_or_else(|| {
                ApiError::unprocessable(format!(
                    "flag `{}` has no variant `{name}` (variants: {})",
                    meta.name,
                    meta.variants.join(", ")
                ))
            })
    }

    fn record(&self, record: &AuditRecord) -> Result<(), ApiError> {
        let Some(audit) = &self.audit else {
            // `Admin::authorize` refuses writes without a log; kept as an error
            // rather than an assumption.
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "no audit log is configured",
            ));
        };
        tracing::info!(
            target: "flags::admin",
            actor = %record.actor, action = %record.action, flag = %record.flag,
            value = record.value.as_deref().unwrap_or(""), reason = %record.reason,
            "admin write"
        );
        audit.append(record).map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!(
                    "the audit log {} cannot be written ({e}); nothing was changed",
                    audit.path().display()
                ),
            )
        })
    }

    fn current(&self, index: usize, meta: &FlagMeta) -> Option<String> {
        self.registry
            .snapshot()
            .uniform_value(index)
            .map(|v| meta.label(v).to_owned())
    }

    fn flag_state(&self, index: usize, meta: &FlagMeta) -> Json {
        let snapshot = self.registry.snapshot();
        serde_json::json!({
            "flag": meta.name,
            "value": snapshot.uniform_value(index).map(|v| meta.label(v)),
            "layer": snapshot.layer(index).map(Layer::as_str),
        })
    }

    pub(crate) fn flag_write(
        &self,
        actor: &str,
        name: &str,
        action: FlagAction,
        body: &[u8],
    ) -> Result<Json, ApiError> {
        // The body first: a malformed one is refused whatever the flag.
        let (value_in, reason) = match action {
            FlagAction::Override => {
                let b: OverrideBody = parse_json(body)?;
                (Some(b.value), b.reason)
            }
            FlagAction::ClearOverride | FlagAction::Kill => (None, parse_reason(body)?.reason),
        };
        let (index, meta) = self.flag(name)?;
        let value = match (action, &value_in) {
            (FlagAction::Override, Some(v)) => Some(Self::value_of(meta, v)?),
            // The kill switch: off, or the manifest default for a variant flag (what
            // `enabled = false` means in rules).
            (FlagAction::Kill, _) => Some(if meta.is_bool() {
                Value::Bool(false)
            } else {
                meta.default
            }),
            _ => None,
        };
        let mut record = AuditRecord::now(
            actor,
            match action {
                FlagAction::Override => "override",
                FlagAction::ClearOverride => "clear_override",
                FlagAction::Kill => "kill",
            },
            meta.name,
            &reason,
        );
        record.value = value.map(|v| meta.label(v).to_owned());
        // One write at a time from here to the change (a panic elsewhere cannot leave
        // a half-done write behind this lock, so a poisoned one is usable).
        let _one = self
            .writes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        record.before = self.current(index, meta);
        self.record(&record)?;
        match value {
            Some(v) => self
                .registry
                .set_override_value(index, v)
                .map_err(update_error)?,
            None => self
                .registry
                .clear_override(BoolFlag::new(self.registry, index))
                .map_err(update_error)?,
        }
        Ok(self.flag_state(index, meta))
    }

    pub(crate) fn rollout_write(
        &self,
        actor: &str,
        flag: &str,
        action: RolloutAction,
        body: &[u8],
    ) -> Result<Json, ApiError> {
        let reason = parse_reason(body)?.reason;
        let Some(controller) = &self.controller else {
            return Err(ApiError::not_found(
                "no rollout controller is configured on this admin endpoint",
            ));
        };
        let before = controller.state(flag).map(|s| s.position.to_string());
        let by = Attribution::by(actor).because(reason.clone());
        let result = match action {
            RolloutAction::Pause => controller.pause(flag, by),
            RolloutAction::Resume => controller.resume(flag, by),
            RolloutAction::Rollback => controller.rollback(flag, by),
        };
        let t = result.map_err(rollout_error)?;
        let mut record = AuditRecord::now(actor, action.as_str(), flag, &reason);
        record.before = before;
        record.value = Some(t.to.to_string());
        self.record(&record).map_err(|e| {
            ApiError::new(
                e.status,
                format!(
                    "the rollout command was applied and is in the controller's own audit log, but: {}",
                    e.message
                ),
            )
        })?;
        Ok(serde_json::json!({
            "flag": flag,
            "status": t.to.status.to_string(),
            "percent": t.to.percent,
            "stage": t.to.stage.saturating_add(1),
        }))
    }
}

fn kind_of(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

fn update_error(e: UpdateError) -> ApiError {
    let status = match e {
        UpdateError::Static { .. } => StatusCode::CONFLICT,
        UpdateError::UnknownFlag { .. } => StatusCode::NOT_FOUND,
        UpdateError::Rules(_) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    ApiError::new(status, e.to_string())
}

fn rollout_error(e: RolloutError) -> ApiError {
    let status = match e {
        RolloutError::UnknownFlag { .. } => StatusCode::NOT_FOUND,
        RolloutError::InvalidTransition { .. } | RolloutError::Held { .. } => StatusCode::CONFLICT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    ApiError::new(status, e.to_string())
}
