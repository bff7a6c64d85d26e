//! The rollout controller: takes each registered flag through its plan's stages,
//! advancing when a stage passes, rolling back to 0% when a check is breached, and
//! accepting manual advance, pause, resume and rollback. It owns the persisted state
//! and the audit log, reads outcomes from a [`MetricsSource`] (its own recorders by
//! default) and applies exposure through an [`ExposureTarget`] (the runtime's
//! [`Exposure`] by default).
//!
//! # One writer
//!
//! Before each tick's decisions the controller reads every running flag's percentage
//! back from the target. A value other than the one the state says is in force (or,
//! while a write of its own has not landed, the one before it) was set by someone else:
//! a person in a control plane's UI, or a second controller. The flag is then paused at
//! the percentage found, with an audit entry and an alert, and nothing is written.
//! Manual commands are a person's decision and are applied as asked. A target offers
//! no compare-and-set, so a change made between the read-back and the write of the
//! same tick (milliseconds apart) is not noticed.
//!
//! # Missing data
//!
//! While the metrics source fails, a running stage is held: no look, no advance, no
//! rollback, no pause for lack of traffic. The outage is logged (`warn` when it starts,
//! `info` when it ends) and reported by [`RolloutController::outages`]. Because reads
//! are cumulative, the window taken when data returns covers the outage too. The same
//! holds while the target cannot be read.
//!
//! # Shared state
//!
//! With a state file, every tick and manual command locks `STATE.lock` (an
//! inter-process lock), reloads the state file if another process saved a newer
//! revision (and reopens the audit log), acts, saves and unlocks. So `cargo flags
//! rollout pause` in another process reaches a running controller at its next tick:
//! the controller sees the new position and, if the command did not write the target
//! itself, applies its percentage.
//!
//! # Order of effects
//!
//! Every transition is written to the audit log (flushed) before the state file is
//! replaced (atomically, flushed) and the state file before exposure goes *up*: a crash
//! at any point leaves a log that records at least what the state says and a state
//! whose exposure is at least what is applied after a restart. Exposure going *down*
//! (rollback, or a pause after a changed plan) is applied first, before any I/O, and
//! still happens if the log or the state file cannot be written: safety over
//! bookkeeping. A change that raises exposure and cannot be saved does not take effect,
//! and a second audit entry says so.
//!
//! On start, audit entries written after the state's last save (a crash between the two)
//! are settled: one that lowered exposure had already been applied, so it is re-applied
//! to the state (a crash never undoes a rollback); any other is declared not applied in
//! a new entry. The state file records the audit log's head at every save, which is what
//! makes "after the last save" and lines missing from the log's end detectable.
//!
//! # Statuses
//!
//! | from \ action | tick (automatic)                    | advance        | pause  | resume                | rollback    |
//! |---------------|-------------------------------------|----------------|--------|-----------------------|-------------|
//! | Running       | next stage / Completed / RolledBack; Paused when traffic stalls | next stage or Completed | Paused | –        | RolledBack  |
//! | Paused        | nothing                             | next stage or Completed | – | Running (same stage, soak restarts) | RolledBack |
//! | RolledBack    | nothing                             | –              | –      | Running at stage 1    | –           |
//! | Completed     | nothing                             | –              | –      | –                     | RolledBack  |

mod builder;
mod exposure;
mod manual;
mod recovery;
mod registration;
mod shared;
mod tick;
mod ticker;
mod transition;

pub use builder::{ControllerBuilder, ControllerConfig};
pub use exposure::{
    Exposure, ExposureTarget, FnExposure, LocalExposure, MemoryExposure, TargetError,
};
pub use manual::Attribution;
pub use ticker::Ticker;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use flags_manifest::RolloutPlan;

use crate::audit::AuditLog;
use crate::clock::Clock;
use crate::decision::{Evidence, evaluate};
use crate::error::RolloutError;
use crate::metrics::{Metrics, Recorder};
use crate::source::{MetricsError, MetricsSource};
use crate::state::{RolloutState, StateFile, StateStore, Transition};

/// The actor named on automatic changes.
pub const CONTROLLER_ACTOR: &str = "controller";

/// A poisoned lock means a hook or exposure panicked mid-call; the data it guards is
/// still consistent (every mutation is completed before anything that can panic), so
/// carry on rather than take the process down.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

type Hook = Box<dyn Fn(&Transition) + Send + Sync>;

/// Drives guarded rollouts. Cheap to clone (shared state); safe to use from any thread.
///
/// ```
/// use flags_manifest::{Criteria, RolloutPlan};
/// use flags_rollout::{Attribution, ManualClock, MemoryExposure, Outcome, RolloutController, Side, Status, Timestamp};
/// use std::{sync::Arc, time::Duration};
///
/// let clock = ManualClock::new(Timestamp::from_millis(0));
/// let exposure = Arc::new(MemoryExposure::default());
/// let controller = RolloutController::builder(exposure.clone()).clock(clock.clone()).build()?;
/// let plan = RolloutPlan { stages: vec![10, 100], soak: Duration::from_secs(60),
///     min_samples: 50, criteria: Criteria::default() };
/// let recorder = controller.register("search_v2", plan)?;
/// assert_eq!(exposure.percent("search_v2"), Some(10));
///
/// for i in 0..1000u32 {
///     let on = i % 10 == 0;
///     recorder.record(Side::from_bool(on), Outcome::ok(Duration::from_millis(5)));
/// }
/// clock.advance(Duration::from_secs(61));
/// controller.tick();
/// assert_eq!(exposure.percent("search_v2"), Some(100));
///
/// controller.rollback("search_v2", Attribution::by("alice").because("customer reports"))?;
/// assert_eq!(exposure.percent("search_v2"), Some(0));
/// assert_eq!(controller.state("search_v2").unwrap().position.status, Status::RolledBack);
/// # Ok::<(), flags_rollout::RolloutError>(())
/// ```
#[derive(Clone)]
pub struct RolloutController {
    inner: Arc<Inner>,
}

struct Inner {
    target: Arc<dyn ExposureTarget>,
    /// `None`: the registered flags' own recorders.
    metrics: Option<Arc<dyn MetricsSource>>,
    /// Lock other processes' state changes out while acting (see the module docs).
    shared: bool,
    clock: Arc<dyn Clock>,
    config: ControllerConfig,
    store: Option<StateStore>,
    on_transition: Vec<Hook>,
    on_rollback: Vec<Hook>,
    core: Mutex<Core>,
}

struct Core {
    file: StateFile,
    audit: Option<AuditLog>,
    flags: BTreeMap<String, Live>,
    /// Rollouts whose saved state failed validation, with the error: not driven, and
    /// saved back as read, until rolled back.
    held: BTreeMap<String, String>,
    /// The file on disk is behind memory (a save failed); retried every tick.
    dirty: bool,
    /// Transitions another process saved, taken over but not yet told to the hooks.
    adopted: Vec<Transition>,
}

/// What the controller keeps in memory for a registered flag.
struct Live {
    plan: RolloutPlan,
    recorder: Arc<Recorder>,
    /// Counters at the start of the current window; `None` until the metrics source
    /// answers after the window began.
    baseline: Option<Metrics>,
    /// The smaller side's sample count at the last look of this window (0: none yet).
    last_look_n: u64,
    /// The percentage in force before a write of ours that has not landed (failed, or
    /// cut short by a crash, or left to this process by a command in another): finding
    /// it at the target is not someone else's change.
    pending_from: Option<u8>,
    /// The metrics source's error, while it fails.
    metrics_outage: Option<String>,
    /// The target's error, while it fails.
    target_outage: Option<String>,
    /// A foreign percentage already reported for a flag the controller does not drive.
    foreign: Option<Option<u8>>,
}

impl Live {
    fn new(plan: RolloutPlan, recorder: Arc<Recorder>) -> Live {
        Live {
            plan,
            recorder,
            baseline: None,
            last_look_n: 0,
            pending_from: None,
            metrics_outage: None,
            target_outage: None,
            foreign: None,
        }
    }
}

impl RolloutController {
    /// The recorder of a registered flag.
    pub fn recorder(&self, flag: &str) -> Option<Arc<Recorder>> {
        lock(&self.inner.core)
            .flags
            .get(flag)
            .map(|l| l.recorder.clone())
    }

    /// The state of `flag`'s rollout, if it has one (registered or only saved).
    pub fn state(&self, flag: &str) -> Option<RolloutState> {
        lock(&self.inner.core).file.rollouts.get(flag).cloned()
    }

    /// Every rollout's state, by flag name.
    pub fn states(&self) -> Vec<RolloutState> {
        lock(&self.inner.core)
            .file
            .rollouts
            .values()
            .cloned()
            .collect()
    }

    /// What a look at `flag`'s current window would conclude now, without counting it
    /// as a look or acting on it (for status displays).
    pub fn preview(&self, flag: &str) -> Result<Evidence, RolloutError> {
        let core = lock(&self.inner.core);
        let unknown = || RolloutError::UnknownFlag {
            flag: flag.to_owned(),
        };
        let live = core.flags.get(flag).ok_or_else(unknown)?;
        if let Some(problem) = core.held.get(flag) {
            return Err(held_error(flag, problem));
        }
        let state = core.file.rollouts.get(flag).ok_or_else(unknown)?;
        let now = self
            .read_metrics(flag, live)
            .map_err(|e| RolloutError::Metrics {
                flag: flag.to_owned(),
                source: e,
            })?;
        let window = match live.baseline {
            Some(base) if !now.went_back(&base) => now.since(&base),
            _ => Metrics::default(),
        };
        Ok(evaluate(
            &live.plan,
            state.position.stage,
            &window,
            state.looks + 1,
        ))
    }

    /// The flags whose metrics source or exposure target is failing, each with the
    /// error: their rollouts are held until it answers again.
    pub fn outages(&self) -> BTreeMap<String, String> {
        lock(&self.inner.core)
            .flags
            .iter()
            .filter_map(|(flag, live)| {
                let both: Vec<&str> = [&live.metrics_outage, &live.target_outage]
                    .into_iter()
                    .flatten()
                    .map(String::as_str)
                    .collect();
                (!both.is_empty()).then(|| (flag.clone(), both.join("; ")))
            })
            .collect()
    }

    /// Reads `flag`'s cumulative metrics from the configured source, or its recorder.
    fn read_metrics(&self, flag: &str, live: &Live) -> Result<Metrics, MetricsError> {
        match &self.inner.metrics {
            Some(source) => source.metrics(flag),
            None => Ok(live.recorder.snapshot()),
        }
    }

    /// The rollouts held because their saved state is invalid, with the error naming
    /// the file and the field.
    pub fn held(&self) -> BTreeMap<String, String> {
        lock(&self.inner.core).held.clone()
    }
}

fn held_error(flag: &str, problem: &str) -> RolloutError {
    RolloutError::Held {
        flag: flag.to_owned(),
        problem: problem.to_owned(),
    }
}
