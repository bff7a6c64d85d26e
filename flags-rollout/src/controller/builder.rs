//! Building a controller: its tuning, where state and the audit log live, and hooks.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use super::exposure::Exposure;
use super::recovery::reconcile;
use super::{Core, Hook, Inner, RolloutController};
use crate::audit::AuditLog;
use crate::clock::{Clock, SystemClock};
use crate::error::RolloutError;
use crate::state::{StateStore, Transition};

/// Tuning of the controller beyond what a plan says.
#[derive(Clone, Debug, PartialEq)]
pub struct ControllerConfig {
    /// A stage is looked at again only when its smaller side has grown by this factor
    /// since the previous look (and once more when the soak ends). Larger values mean
    /// fewer looks, each with a larger share of the error budget, and slower reaction.
    /// Default 1.5.
    pub look_growth: f64,
    /// A running stage that still lacks `min_samples` after this many soak periods is
    /// paused (a warning: traffic is too low for the plan). 0 never pauses. Default 4.
    pub stall_soaks: u32,
}

impl Default for ControllerConfig {
    fn default() -> Self {
        ControllerConfig {
            look_growth: 1.5,
            stall_soaks: 4,
        }
    }
}

/// Builds a [`RolloutController`].
///
/// ```
/// use flags_rollout::{ManualClock, MemoryExposure, RolloutController, Timestamp};
/// use std::sync::Arc;
/// let exposure = Arc::new(MemoryExposure::default());
/// let controller = RolloutController::builder(exposure.clone())
///     .clock(ManualClock::new(Timestamp::from_millis(0)))
///     .on_rollback(|t| eprintln!("ALERT {}: {}", t.flag, t.reason))
///     .build()?;
/// # Ok::<(), flags_rollout::RolloutError>(())
/// ```
pub struct ControllerBuilder {
    exposure: Arc<dyn Exposure>,
    clock: Arc<dyn Clock>,
    state_file: Option<PathBuf>,
    audit_log: Option<PathBuf>,
    config: ControllerConfig,
    on_transition: Vec<Hook>,
    on_rollback: Vec<Hook>,
}

impl ControllerBuilder {
    /// Reads time from `clock` (default: [`SystemClock`]).
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Persists state in the JSON file at `path` and resumes from it (default: state
    /// lives in memory only).
    pub fn state_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.state_file = Some(path.into());
        self
    }

    /// Records every transition in the audit log at `path` (default: no log).
    pub fn audit_log(mut self, path: impl Into<PathBuf>) -> Self {
        self.audit_log = Some(path.into());
        self
    }

    /// Replaces the tuning.
    pub fn config(mut self, config: ControllerConfig) -> Self {
        self.config = config;
        self
    }

    /// Calls `hook` after every transition, outside the controller's lock.
    pub fn on_transition(mut self, hook: impl Fn(&Transition) + Send + Sync + 'static) -> Self {
        self.on_transition.push(Box::new(hook));
        self
    }

    /// Calls `hook` after every rollback (automatic or manual), outside the lock: the
    /// place to page someone.
    pub fn on_rollback(mut self, hook: impl Fn(&Transition) + Send + Sync + 'static) -> Self {
        self.on_rollback.push(Box::new(hook));
        self
    }

    /// Loads the state file and opens the audit log (repairing a torn last line).
    ///
    /// A state file whose top-level values are out of range is an error. A rollout in
    /// it with a value out of range is held: logged with the file and the field, never
    /// driven, its exposure left alone, until it is rolled back (which resets it).
    pub fn build(self) -> Result<RolloutController, RolloutError> {
        let store = self.state_file.map(StateStore::new);
        let (mut file, invalid) = match &store {
            Some(s) => s.load_checked()?,
            None => None,
        }
        .unwrap_or_default();
        let mut held = BTreeMap::new();
        for (flag, e) in invalid {
            tracing::error!(
                target: "flags::rollout",
                flag = %flag,
                error = %e,
                "rollout held: its saved state is invalid"
            );
            held.insert(flag, e.to_string());
        }
        let mut audit = self.audit_log.map(AuditLog::open).transpose()?;
        if let Some(log) = audit.as_mut()
            && reconcile(&mut file, log, self.clock.now())?
            && let Some(store) = &store
        {
            file.revision += 1;
            store.save(&file)?;
        }
        Ok(RolloutController {
            inner: Arc::new(Inner {
                exposure: self.exposure,
                clock: self.clock,
                config: self.config,
                store,
                on_transition: self.on_transition,
                on_rollback: self.on_rollback,
                core: Mutex::new(Core {
                    file,
                    audit,
                    flags: BTreeMap::new(),
                    held,
                    dirty: false,
                }),
            }),
        })
    }
}

impl RolloutController {
    /// Starts building a controller that applies exposure through `exposure`.
    pub fn builder(exposure: impl Exposure + 'static) -> ControllerBuilder {
        ControllerBuilder {
            exposure: Arc::new(exposure),
            clock: Arc::new(SystemClock),
            state_file: None,
            audit_log: None,
            config: ControllerConfig::default(),
            on_transition: Vec::new(),
            on_rollback: Vec::new(),
        }
    }
}
