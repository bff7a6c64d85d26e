//! Alerts as a JSON POST to a webhook on every transition (and so every rollback),
//! telling stakeholders what changed, when, why and by whom.
//!
//! The body:
//!
//! ```json
//! {"flag": "new_checkout", "event": "rollback", "from": "stage 2 at 5% (running)",
//!  "to": "stage 2 at 0% (rolled back)", "percent": 0, "status": "rolled_back",
//!  "reason": "...", "actor": "controller", "source": "automatic",
//!  "at": "2026-04-14T09:30:00.000Z", "revision": 12}
//! ```
//!
//! `event` is `rollback`, `pause`, `advance`, `complete`, `resume` or `start`. A POST
//! that fails is logged (`tracing`, error level) and not retried: the audit log is the
//! record, the webhook a notification.

use flags_rollout::{Status, Transition};
use serde_json::json;

use crate::http::{self, ConfigError};

/// A webhook to POST transitions to; call [`send`](Webhook::send) from a controller's
/// `on_transition` hook.
///
/// ```no_run
/// use flags_fleet::Webhook;
/// use flags_rollout::{MemoryExposure, RolloutController};
/// use std::sync::Arc;
///
/// let hook = Webhook::new("http://127.0.0.1:8000/rollouts")?;
/// let controller = RolloutController::with_target(Arc::new(MemoryExposure::default()))
///     .on_transition(move |t| hook.send(t))
///     .build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Webhook {
    url: String,
    agent: ureq::Agent,
}

impl Webhook {
    /// A webhook at `url` (`http://...`).
    pub fn new(url: &str) -> Result<Webhook, ConfigError> {
        http::base_url(url)?;
        Ok(Webhook {
            url: url.trim().to_owned(),
            agent: http::agent(),
        })
    }

    /// The JSON body sent for `t`.
    pub fn body(t: &Transition) -> serde_json::Value {
        let event = match (t.from, t.to.status) {
            (_, Status::RolledBack) => "rollback",
            (_, Status::Paused) => "pause",
            (_, Status::Completed) => "complete",
            (None, _) => "start",
            (Some(f), Status::Running) if f.status == Status::Running => "advance",
            (Some(_), Status::Running) => "resume",
        };
        json!({
            "flag": t.flag,
            "event": event,
            "from": t.from.map(|p| p.to_string()),
            "to": t.to.to_string(),
            "percent": t.to.percent,
            "status": t.to.status,
            "reason": t.reason,
            "actor": t.actor,
            "source": t.source,
            "at": t.at.to_string(),
            "revision": t.revision,
        })
    }

    /// POSTs `t`; a failure is logged, not returned (hooks have no one to return to).
    pub fn send(&self, t: &Transition) {
        let body = Webhook::body(t).to_string();
        let sent = http::read(
            self.agent
                .post(&self.url)
                .header("Content-Type", "application/json")
                .send(body),
        );
        match sent {
            Ok((status, _)) if (200..300).contains(&status) => {}
            Ok((status, text)) => tracing::error!(target: "flags::rollout", url = %self.url,
                status, body = %text.chars().take(200).collect::<String>(), flag = %t.flag,
                "rollout webhook refused the alert"),
            Err(e) => tracing::error!(target: "flags::rollout", url = %self.url, error = %e,
                flag = %t.flag, "rollout webhook unreachable"),
        }
    }
}
