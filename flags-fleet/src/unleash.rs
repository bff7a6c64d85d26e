//! A toggle's gradual rollout in Unleash as the exposure target: every SDK connected
//! to that Unleash, in any language, follows the stage.
//!
//! Reads fetch the toggle (`GET /api/admin/projects/P/features/F`) and take, in one
//! environment, the `rollout` parameter of its gradual-rollout (`flexibleRollout`)
//! strategy; a toggle switched off in that environment reads as 0%, since that is what
//! every SDK serves, so a person switching it off mid-rollout pauses the controller
//! like any other change it did not make. Writes to a switched-off toggle are refused
//! (the percentage would not be in force). Writes
//! change that one parameter with a JSON Patch
//! (`PATCH .../strategies/ID`, `[{"op":"replace","path":"/parameters/rollout",...}]`),
//! so constraints, segments, stickiness, group and variants stay as they are. Both
//! need an admin or personal access token.
//!
//! A toggle with no enabled gradual-rollout strategy in the environment, or with
//! several (unless one is chosen with [`UnleashTarget::strategy_id`]), cannot be driven
//! and is reported as such; so is a refused token. A server that does not answer, or
//! answers 5xx, is an outage.

use flags_rollout::{ExposureTarget, TargetError};
use serde_json::{Value, json};

use crate::http::{self, ConfigError};

/// An [`ExposureTarget`] setting a toggle's gradual-rollout percentage in one
/// environment of an Unleash server.
///
/// ```no_run
/// use flags_fleet::UnleashTarget;
/// use flags_rollout::ExposureTarget;
///
/// let target = UnleashTarget::new("http://127.0.0.1:4242", "*:*.admin-token", "production")?;
/// target.write_exposure("new_checkout", 5)?;
/// assert_eq!(target.read_exposure("new_checkout")?, Some(5));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct UnleashTarget {
    base: String,
    token: String,
    environment: String,
    project: String,
    strategy_id: Option<String>,
    agent: ureq::Agent,
}

impl UnleashTarget {
    /// The toggles of project `default` in `environment` at the Unleash server at
    /// `url`, changed with `token` (an admin or personal access token).
    pub fn new(url: &str, token: &str, environment: &str) -> Result<UnleashTarget, ConfigError> {
        if token.trim().is_empty() {
            return Err(ConfigError::Empty {
                what: "the Unleash admin token",
            });
        }
        if environment.trim().is_empty() {
            return Err(ConfigError::Empty {
                what: "the Unleash environment",
            });
        }
        Ok(UnleashTarget {
            base: http::base_url(url)?,
            token: token.trim().to_owned(),
            environment: environment.trim().to_owned(),
            project: "default".to_owned(),
            strategy_id: None,
            agent: http::agent(),
        })
    }

    /// Uses project `project` instead of `default`.
    #[must_use]
    pub fn project(mut self, project: &str) -> Self {
        self.project = project.trim().to_owned();
        self
    }

    /// Drives the strategy with this id when a toggle has several gradual rollouts.
    #[must_use]
    pub fn strategy_id(mut self, id: &str) -> Self {
        self.strategy_id = Some(id.trim().to_owned());
        self
    }

    fn strategies_url(&self, flag: &str) -> String {
        format!(
            "{}/api/admin/projects/{}/features/{}/environments/{}/strategies",
            self.base,
            encode(&self.project),
            encode(flag),
            encode(&self.environment)
        )
    }

    fn unavailable(&self, detail: String) -> TargetError {
        TargetError::Unavailable {
            origin: self.describe(),
            detail,
        }
    }

    fn unusable(&self, flag: &str, detail: String) -> TargetError {
        TargetError::Unusable {
            origin: self.describe(),
            flag: flag.to_owned(),
            detail,
        }
    }

    /// Sorts an HTTP failure into an outage (no answer, 5xx, 429) or a problem a
    /// person must fix (401/403 token, 404 toggle or environment, other 4xx).
    fn status_error(&self, flag: &str, what: &str, status: u16, body: &str) -> TargetError {
        let message = serde_json::from_str::<Value>(body)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_owned))
            .unwrap_or_else(|| body.chars().take(200).collect());
        match status {
            401 | 403 => self.unusable(
                flag,
                format!("{what}: HTTP {status}: the token is refused; use an admin or personal access token ({message})"),
            ),
            404 => self.unusable(
                flag,
                format!("{what}: HTTP 404: {message}; create the toggle with a gradual rollout in environment `{}`", self.environment),
            ),
            429 | 500.. => self.unavailable(format!("{what}: HTTP {status}: {message}")),
            _ => self.unusable(flag, format!("{what}: HTTP {status}: {message}")),
        }
    }

    /// The gradual-rollout strategy to drive: its id, its current percentage, and
    /// whether the toggle is switched on in the environment.
    fn strategy(&self, flag: &str) -> Result<(String, Option<u8>, bool), TargetError> {
        let url = format!(
            "{}/api/admin/projects/{}/features/{}",
            self.base,
            encode(&self.project),
            encode(flag)
        );
        let (status, body) = http::idempotent(|| {
            self.agent
                .get(&url)
                .header("Authorization", &self.token)
                .call()
        })
        .map_err(|e| self.unavailable(format!("GET {url}: {e}")))?;
        if !(200..300).contains(&status) {
            return Err(self.status_error(flag, "reading the strategies", status, &body));
        }
        let feature: Value = serde_json::from_str(&body)
            .map_err(|e| self.unavailable(format!("GET {url}: not JSON: {e}")))?;
        let Some(environment) = feature["environments"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| e["name"] == self.environment.as_str())
        else {
            return Err(self.unusable(
                flag,
                format!("the toggle has no environment `{}`", self.environment),
            ));
        };
        let enabled = environment["enabled"] == true;
        let rollouts: Vec<&Value> = environment["strategies"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| s["name"] == "flexibleRollout" && s["disabled"] != true)
            .filter(|s| {
                self.strategy_id
                    .as_deref()
                    .is_none_or(|id| s["id"].as_str() == Some(id))
            })
            .collect();
        let chosen = match rollouts.as_slice() {
            [one] => *one,
            [] => {
                return Err(self.unusable(
                    flag,
                    match &self.strategy_id {
                        Some(id) => format!("no enabled gradual rollout with id {id}"),
                        None => format!(
                            "no enabled gradual rollout (flexibleRollout) strategy in environment `{}`; add one",
                            self.environment
                        ),
                    },
                ));
            }
            several => {
                let ids: Vec<&str> = several.iter().filter_map(|s| s["id"].as_str()).collect();
                return Err(self.unusable(
                    flag,
                    format!(
                        "{} gradual rollouts ({}); choose one with a strategy id",
                        several.len(),
                        ids.join(", ")
                    ),
                ));
            }
        };
        let Some(id) = chosen["id"].as_str().filter(|id| !id.is_empty()) else {
            return Err(self.unusable(
                flag,
                "the gradual rollout has no strategy id to change it by".to_owned(),
            ));
        };
        let id = id.to_owned();
        let rollout = &chosen["parameters"]["rollout"];
        let percent = match rollout {
            Value::Null => None,
            Value::String(s) => Some(
                s.trim()
                    .parse::<u8>()
                    .ok()
                    .filter(|p| *p <= 100)
                    .ok_or_else(|| {
                        self.unusable(
                            flag,
                            format!("the strategy's rollout `{s}` is not a percentage"),
                        )
                    })?,
            ),
            Value::Number(n) => Some(
                n.as_u64()
                    .and_then(|p| u8::try_from(p).ok())
                    .filter(|p| *p <= 100)
                    .ok_or_else(|| {
                        self.unusable(
                            flag,
                            format!("the strategy's rollout {n} is not a percentage"),
                        )
                    })?,
            ),
            other => {
                return Err(self.unusable(
                    flag,
                    format!("the strategy's rollout {other} is not a percentage"),
                ));
            }
        };
        Ok((id, percent, enabled))
    }
}

/// Percent-encodes a path segment (toggle names are mostly URL-safe already).
fn encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b':') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl ExposureTarget for UnleashTarget {
    fn describe(&self) -> String {
        format!(
            "unleash {} project {} environment {}",
            self.base, self.project, self.environment
        )
    }

    fn read_exposure(&self, flag: &str) -> Result<Option<u8>, TargetError> {
        let (_, percent, enabled) = self.strategy(flag)?;
        Ok(if enabled { percent } else { Some(0) })
    }

    fn write_exposure(&self, flag: &str, percent: u8) -> Result<(), TargetError> {
        let percent = percent.min(100);
        let (id, _, enabled) = self.strategy(flag)?;
        if !enabled {
            return Err(self.unusable(
                flag,
                format!(
                    "the toggle is switched off in environment `{}`, so no percentage is in force; switch it on",
                    self.environment
                ),
            ));
        }
        let url = format!("{}/{}", self.strategies_url(flag), encode(&id));
        let patch =
            json!([{"op": "replace", "path": "/parameters/rollout", "value": percent.to_string()}]);
        let (status, body) = http::idempotent(|| {
            self.agent
                .patch(&url)
                .header("Authorization", &self.token)
                .header("Content-Type", "application/json")
                .send(patch.to_string())
        })
        .map_err(|e| self.unavailable(format!("PATCH {url}: {e}")))?;
        if !(200..300).contains(&status) {
            return Err(self.status_error(flag, "changing the rollout", status, &body));
        }
        Ok(())
    }
}
