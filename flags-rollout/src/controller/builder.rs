//! Building a controller: its tuning, where state and the audit log live, and hooks.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use super::exposure::{Exposure, ExposureTarget, LocalExposure};
use super::recovery::reconcile;
use super::{Core, Hook, Inner, RolloutController};
use crate::audit::AuditLog;
use crate::clock::{Clock, SystemClock};
use crate::error::RolloutError;
use crate::source::MetricsSource;
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
    target: Arc<dyn ExposureTarget>,
    metrics: Option<Arc<dyn MetricsSource>>,
    environment: Option<String>,
    shared: bool,
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

    /// Reads outcomes from `source` (for example Prometheus, summed over a fleet)
    /// instead of the registered flags' own recorders.
    pub fn metrics(mut self, source: impl MetricsSource + 'static) -> Self {
        self.metrics = Some(Arc::new(source));
        self
    }

    /// Names the environment the rollouts run in: recorded in the state file, and a
    /// state file of another environment is refused. Default: none named.
    pub fn environment(mut self, environment: impl Into<String>) -> Self {
        self.environment = Some(environment.into());
        self
    }

    /// Whether the state file is shared with other processes (default `true`): each
    /// tick and command then takes an inter-process lock on `STATE.lock` and picks up
    /// changes saved by others (`cargo flags rollout pause`, for instance). `false`
    /// suits a state file this controller alone ever touches.
    pub fn shared(mut self, shared: bool) -> Self {
        self.shared = shared;
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
        let shared = self.shared && store.is_some();
        let _lock = match &store {
            Some(s) if shared => Some(super::shared::lock_file(s)?),
            _ => None,
        };
        let (mut file, invalid) = match &store {
            Some(s) => s.load_checked()?,
            None => None,
        }
        .unwrap_or_default();
        match (&file.environment, &self.environment) {
            (Some(found), Some(wanted)) if found != wanted => {
                return Err(RolloutError::Environment {
                    path: store
                        .as_ref()
                        .map(|s| s.path().to_path_buf())
                        .unwrap_or_default(),
                    found: found.clone(),
                    wanted: wanted.clone(),
                });
            }
            (None, Some(wanted)) => file.environment = Some(wanted.clone()),
            _ => {}
        }
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
                target: self.target,
                metrics: self.metrics,
                shared,
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
                    adopted: Vec::new(),
                }),
            }),
        })
    }
}

impl RolloutController {
    /// Starts building a controller that applies exposure through `exposure`, this
    /// process's own (wrapped in a [`LocalExposure`]).
    pub fn builder(exposure: impl Exposure + 'static) -> ControllerBuilder {
        RolloutController::with_target(LocalExposure::new(exposure))
    }

    /// Starts building a controller that sets exposure where a fleet reads it (a
    /// shared rule file, a control plane) and reads it back before each write.
    ///
    /// ```
    /// use flags_rollout::{MemoryExposure, RolloutController};
    /// use std::sync::Arc;
    /// let target = Arc::new(MemoryExposure::default());
    /// let controller = RolloutController::with_target(target.clone()).build()?;
    /// # Ok::<(), flags_rollout::RolloutError>(())
    /// ```
    pub fn with_target(target: impl ExposureTarget + 'static) -> ControllerBuilder {
        ControllerBuilder {
            target: Arc::new(target),
            metrics: None,
            environment: None,
            shared: true,
            clock: Arc::new(SystemClock),
            state_file: None,
            audit_log: None,
            config: ControllerConfig::default(),
            on_transition: Vec::new(),
            on_rollback: Vec::new(),
        }
    }
}
