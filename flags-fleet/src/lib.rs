//! Guarded rollouts decided once for a fleet. A
//! [`RolloutController`](flags_rollout::RolloutController) running once (for example
//! `cargo flags rollout run`) reads the outcomes of every instance and sets the
//! percentage where every instance, in any language, reads it:
//!
//! - [`PrometheusSource`]: a [`MetricsSource`](flags_rollout::MetricsSource) over
//!   Prometheus's HTTP query API, summing the per-side outcome counters and latency
//!   histograms that every instance exports, across instance restarts and instances
//!   that come and go;
//! - [`UnleashTarget`]: an [`ExposureTarget`](flags_rollout::ExposureTarget) that sets
//!   the `rollout` of a toggle's gradual-rollout strategy in one environment through
//!   Unleash's Admin API, keeping its constraints and other parameters, so every SDK
//!   connected to that Unleash follows the stage;
//! - [`RuleFileTarget`]: the same for a rule file every instance watches (the
//!   runtime's file layer), written atomically;
//! - [`Webhook`]: a JSON POST on every transition and rollback, for stakeholders.
//!
//! ```no_run
//! use flags_fleet::{PrometheusSource, UnleashTarget, Webhook};
//! use flags_rollout::RolloutController;
//!
//! let metrics = PrometheusSource::new("http://127.0.0.1:9090")?;
//! let target = UnleashTarget::new("http://127.0.0.1:4242", "*:*.admin-token", "production")?;
//! let webhook = Webhook::new("http://127.0.0.1:8000/hooks/rollouts")?;
//! let controller = RolloutController::with_target(target)
//!     .metrics(metrics)
//!     .environment("production")
//!     .state_file(".flags/production/state.json")
//!     .audit_log(".flags/production/audit.jsonl")
//!     .on_transition(move |t| webhook.send(t))
//!     .build()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod http;
mod prometheus;
mod rule_file;
mod unleash;
mod webhook;

pub use http::ConfigError;
pub use prometheus::{FleetTotals, METRIC_DURATION, METRIC_OUTCOMES, PrometheusSource};
pub use rule_file::RuleFileTarget;
pub use unleash::UnleashTarget;
pub use webhook::Webhook;
