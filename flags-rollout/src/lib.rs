//! Guarded gradual rollouts: a flag's exposure goes through the stages of its plan
//! (`[flags.NAME.rollout]` in `flags.toml`), each watched for a soak period while the
//! outcomes of requests with the flag on and off are compared; a significant
//! degradation sends exposure back to 0 at once, and only a clean stage advances.
//!
//! The pieces:
//!
//! - [`Recorder`]: lock-free outcome counters per flag, split into [`Side::Treatment`]
//!   and [`Side::Control`]; the request path calls [`Recorder::record`].
//! - [`decision`]: the statistical tests, and why they ignore noise (read its docs).
//! - [`RolloutController`]: ticks, advances, rolls back, takes manual commands, calls
//!   hooks and emits `tracing` events; exposure goes out through [`Exposure`].
//! - [`StateStore`]: the rollout state, saved atomically so a restart resumes at the
//!   same stage.
//! - [`AuditLog`]: an append-only, hash-chained JSON Lines record of every transition.
//!
//! It drives a flags-runtime [`Registry`](flags_runtime::Registry): the registry is an
//! [`Exposure`] (setting the flag's rollout percentage), and
//! [`RolloutController::attach`] routes the outcomes it records (by hand with
//! `record_outcome`, or by `#[feature_gate(.., measure)]`) to the recorders that
//! [`RolloutController::register`] returns.
//!
//! ```
//! use flags_manifest::{Criteria, RolloutPlan};
//! use flags_rollout::{ManualClock, MemoryExposure, Outcome, RolloutController, Side, Timestamp};
//! use std::{sync::Arc, time::Duration};
//!
//! let clock = ManualClock::new(Timestamp::from_millis(0));
//! let exposure = Arc::new(MemoryExposure::default());
//! let controller = RolloutController::builder(exposure.clone()).clock(clock.clone()).build()?;
//! let plan = RolloutPlan {
//!     stages: vec![5, 50, 100],
//!     soak: Duration::from_secs(300),
//!     min_samples: 100,
//!     criteria: Criteria { max_error_rate_increase: Some(0.0), ..Criteria::default() },
//! };
//! let recorder = controller.register("new_checkout", plan)?;
//!
//! // The new code fails 30% of the time: the first look rolls it back.
//! for i in 0..4_000u32 {
//!     let on = i % 20 == 0;
//!     let failed = on && i % 60 == 0;
//!     let outcome = if failed { Outcome::error(Duration::from_millis(8)) }
//!                   else { Outcome::ok(Duration::from_millis(8)) };
//!     recorder.record(Side::from_bool(on), outcome);
//! }
//! let transitions = controller.tick();
//! assert!(transitions[0].is_rollback());
//! assert_eq!(exposure.percent("new_checkout"), Some(0));
//! # Ok::<(), flags_rollout::RolloutError>(())
//! ```

pub mod audit;
mod clock;
mod controller;
pub mod decision;
mod error;
mod metrics;
mod registry;
mod source;
mod state;
mod stats;
mod status;

pub use audit::{AuditAnchor, AuditEntry, AuditLog, Problem, Repair, Verification, format_entry};
pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use controller::{
    Attribution, CONTROLLER_ACTOR, ControllerBuilder, ControllerConfig, Exposure, ExposureTarget,
    FnExposure, LocalExposure, MemoryExposure, RolloutController, TargetError, Ticker,
};
pub use decision::{Check, Criterion, Evidence, SideSummary, look_alpha, validate_plan};
pub use error::{AuditError, RolloutError, StateError};
pub use metrics::{Metrics, Outcome, Recorder, Side, SideMetrics};
pub use source::{FnMetrics, MetricsError, MetricsSource};
pub use state::{
    Cause, CheckedState, HISTORY_LIMIT, MAX_REVISION, MAX_STAGES, MAX_TIMESTAMP, Position,
    RolloutState, STATE_VERSION, StateFile, StateStore, Status, Transition,
};
