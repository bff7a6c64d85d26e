//! The rollout controller: takes each registered flag through its plan's stages,
//! advancing when a stage passes, rolling back to 0% when a check is breached, and
//! accepting manual advance, pause, resume and rollback. It owns the persisted state
//! and the audit log, and applies exposure through an [`Exposure`] the runtime
//! implements.
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

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use flags_manifest::{Manifest, RolloutPlan};

use crate::audit::AuditLog;
use crate::clock::{Clock, SystemClock};
use crate::decision::{Evidence, evaluate, validate_plan};
use crate::error::RolloutError;
use crate::metrics::{Metrics, Recorder};
use crate::state::{Position, RolloutState, Source, StateFile, StateStore, Status, Transition};

/// The actor named on automatic changes.
pub const CONTROLLER_ACTOR: &str = "controller";

/// Sets a flag's exposure: the share of targeting keys for which it is on. The runtime
/// implements it by updating the flag's rollout percentage.
///
/// The controller calls it while holding its own lock, so an implementation must not
/// call back into the controller.
///
/// ```
/// use flags_rollout::Exposure;
/// struct Log;
/// impl Exposure for Log {
///     fn set_exposure(&self, flag: &str, percent: u8) {
///         println!("{flag} -> {percent}%");
///     }
/// }
/// Log.set_exposure("search_v2", 5);
/// ```
pub trait Exposure: Send + Sync {
    /// Expose `flag` to `percent`% (0 to 100) of keys.
    fn set_exposure(&self, flag: &str, percent: u8);
}

impl<T: Exposure + ?Sized> Exposure for Arc<T> {
    fn set_exposure(&self, flag: &str, percent: u8) {
        (**self).set_exposure(flag, percent);
    }
}

/// An [`Exposure`] from a closure.
///
/// ```
/// use flags_rollout::{Exposure, FnExposure};
/// let e = FnExposure(|flag: &str, percent: u8| println!("{flag}: {percent}%"));
/// e.set_exposure("search_v2", 25);
/// ```
pub struct FnExposure<F>(pub F);

impl<F: Fn(&str, u8) + Send + Sync> Exposure for FnExposure<F> {
    fn set_exposure(&self, flag: &str, percent: u8) {
        (self.0)(flag, percent);
    }
}

/// An [`Exposure`] that only remembers the last percentage of each flag: for tests,
/// demos and simulations.
///
/// ```
/// use flags_rollout::{Exposure, MemoryExposure};
/// let e = MemoryExposure::default();
/// e.set_exposure("search_v2", 5);
/// assert_eq!(e.percent("search_v2"), Some(5));
/// assert_eq!(e.percent("other"), None);
/// ```
#[derive(Debug, Default)]
pub struct MemoryExposure {
    percents: Mutex<BTreeMap<String, u8>>,
}

impl MemoryExposure {
    /// The last exposure set for `flag`.
    pub fn percent(&self, flag: &str) -> Option<u8> {
        lock(&self.percents).get(flag).copied()
    }
}

impl Exposure for MemoryExposure {
    fn set_exposure(&self, flag: &str, percent: u8) {
        lock(&self.percents).insert(flag.to_owned(), percent);
    }
}

/// A poisoned lock means a hook or exposure panicked mid-call; the data it guards is
/// still consistent (every mutation is completed before anything that can panic), so
/// carry on rather than take the process down.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

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

type Hook = Box<dyn Fn(&Transition) + Send + Sync>;

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

/// Brings the state up to date with audit entries written after its last save: a crash
/// between logging a change and saving it leaves such an entry. A change that lowered
/// exposure was already applied before the crash, so it is re-applied to the state
/// (a rollback is never undone by a crash); any other change never took effect, so an
/// entry saying so is appended. Returns whether the state changed.
fn reconcile(
    file: &mut StateFile,
    log: &mut AuditLog,
    now: crate::clock::Timestamp,
) -> Result<bool, RolloutError> {
    let entries = log.entries()?;
    // Revisions stay unique across the log even when the state lags behind it.
    if let Some(max) = entries.iter().map(|e| e.revision).max() {
        file.revision = file.revision.max(max);
    }
    let Some(anchor) = file.audit_head.clone() else {
        return Ok(false);
    };
    let at_anchor = usize::try_from(anchor.seq)
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| entries.get(i));
    if at_anchor.is_none_or(|e| e.hash != anchor.hash) {
        tracing::error!(
            target: "flags::rollout",
            path = %log.path().display(),
            anchor_seq = anchor.seq,
            "the audit log does not contain the last entry the state file recorded: \
             lines were removed or the log was replaced; verify it with `cargo flags audit --verify`"
        );
        return Ok(false);
    }
    let tail = &entries[entries
        .len()
        .min(usize::try_from(anchor.seq).unwrap_or(usize::MAX))..];
    let mut changed = false;
    let mut i = 0;
    while i < tail.len() {
        let e = &tail[i];
        // An entry followed by its undoing (same revision and flag) is settled.
        if tail
            .get(i + 1)
            .is_some_and(|n| n.revision == e.revision && n.flag == e.flag)
        {
            i += 2;
            continue;
        }
        let lowers = e.from.is_some_and(|f| e.to.percent < f.percent);
        match file.rollouts.get_mut(&e.flag) {
            Some(state) if lowers && Some(state.position) == e.from => {
                state.position = e.to;
                state.since = e.at;
                state.reason = e.reason.clone();
                state.looks = 0;
                state.push_history(e.transition());
                tracing::warn!(
                    target: "flags::rollout",
                    flag = %e.flag,
                    seq = e.seq,
                    to = %e.to,
                    "re-applied a change the audit log recorded but the state file had not saved"
                );
            }
            _ => {
                let undo = Transition {
                    revision: e.revision,
                    at: now,
                    flag: e.flag.clone(),
                    from: Some(e.to),
                    to: e.from.unwrap_or(Position {
                        stage: 0,
                        percent: 0,
                        status: Status::Paused,
                    }),
                    reason: format!(
                        "not applied: the process stopped after logging entry #{} and before saving it",
                        e.seq
                    ),
                    actor: CONTROLLER_ACTOR.to_owned(),
                    source: Source::Automatic,
                    evidence: None,
                };
                log.append(&undo)?;
            }
        }
        changed = true;
        i += 1;
    }
    if changed {
        file.audit_head = log.head().cloned();
    }
    Ok(changed)
}

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
    exposure: Arc<dyn Exposure>,
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
}

/// What the controller keeps in memory for a registered flag.
struct Live {
    plan: RolloutPlan,
    recorder: Arc<Recorder>,
    /// Counters at the start of the current window.
    baseline: Metrics,
    /// The smaller side's sample count at the last look of this window (0: none yet).
    last_look_n: u64,
}

/// Who asks for a manual change and why, as the transition and the audit log record
/// them.
///
/// ```
/// use flags_rollout::Attribution;
///
/// let by = Attribution::by("alice").because("customer reports");
/// assert_eq!((by.actor(), by.reason()), ("alice", "customer reports"));
/// // No reason given: the log says what was done, "roll back by hand" for instance.
/// assert_eq!(Attribution::by("bob").reason(), "");
/// // A blank actor is recorded as `unknown`, never as an empty name.
/// assert_eq!(Attribution::by("  ").actor(), "unknown");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribution {
    actor: String,
    reason: String,
}

impl Attribution {
    /// A change asked for by `actor` (a person or a tool: `alice`, `deploy-bot`),
    /// trimmed; blank is recorded as `unknown`.
    pub fn by(actor: impl Into<String>) -> Attribution {
        let actor = actor.into();
        let trimmed = actor.trim();
        let actor = if trimmed.is_empty() {
            "unknown".to_owned()
        } else if trimmed.len() == actor.len() {
            actor
        } else {
            trimmed.to_owned()
        };
        Attribution {
            actor,
            reason: String::new(),
        }
    }

    /// The same request, giving `reason` (trimmed) for the record.
    #[must_use]
    pub fn because(self, reason: impl Into<String>) -> Attribution {
        Attribution {
            reason: reason.into().trim().to_owned(),
            ..self
        }
    }

    /// Who asked.
    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// Why, or empty when no reason was given.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// A manual action, for messages.
#[derive(Clone, Copy)]
enum Action {
    Advance,
    Pause,
    Resume,
    Rollback,
}

impl Action {
    fn verb(self) -> &'static str {
        match self {
            Action::Advance => "advance",
            Action::Pause => "pause",
            Action::Resume => "resume",
            Action::Rollback => "roll back",
        }
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

    /// Puts `flag` under the controller with `plan` and returns the recorder its
    /// outcomes go to.
    ///
    /// If the state file knows the flag, the rollout resumes where it was (same stage,
    /// status and soak start) and its exposure is applied again; if the plan's stages
    /// changed meanwhile, it moves to the highest new stage not above the saved
    /// exposure, recorded as a transition. Otherwise the rollout starts at the first
    /// stage. Registering again replaces the plan and keeps the recorder.
    pub fn register(&self, flag: &str, plan: RolloutPlan) -> Result<Arc<Recorder>, RolloutError> {
        validate_plan(&plan).map_err(|why| RolloutError::InvalidPlan {
            flag: flag.to_owned(),
            why,
        })?;
        let mut done = Vec::new();
        let recorder = {
            let mut core = lock(&self.inner.core);
            let recorder = core
                .flags
                .get(flag)
                .map_or_else(|| Arc::new(Recorder::new()), |l| l.recorder.clone());
            let baseline = recorder.snapshot();
            let stages = plan.stages.clone();
            core.flags.insert(
                flag.to_owned(),
                Live {
                    plan,
                    recorder: recorder.clone(),
                    baseline,
                    last_look_n: 0,
                },
            );
            if let Some(problem) = core.held.get(flag) {
                tracing::error!(
                    target: "flags::rollout",
                    flag,
                    error = %problem,
                    "rollout held, exposure left as it is: roll it back to reset it"
                );
                return Ok(recorder);
            }
            match core.file.rollouts.get(flag).cloned() {
                None => {
                    // `validate_plan` above guarantees at least one stage.
                    core.file.rollouts.insert(
                        flag.to_owned(),
                        RolloutState {
                            flag: flag.to_owned(),
                            stages: stages.clone(),
                            position: Position {
                                stage: 0,
                                percent: 0,
                                status: Status::Paused,
                            },
                            since: self.inner.clock.now(),
                            reason: String::new(),
                            looks: 0,
                            history: Vec::new(),
                        },
                    );
                    let to = Position {
                        stage: 0,
                        percent: stages[0],
                        status: Status::Running,
                    };
                    let started = self.automatic(
                        &mut core,
                        flag,
                        None,
                        to,
                        "rollout started".to_owned(),
                        None,
                    );
                    match started {
                        Ok(t) => done.push(t),
                        Err(e) => {
                            core.file.rollouts.remove(flag);
                            core.flags.remove(flag);
                            return Err(e);
                        }
                    }
                }
                Some(saved) if saved.stages == stages => {
                    self.inner
                        .exposure
                        .set_exposure(flag, saved.position.percent);
                    tracing::info!(
                        target: "flags::rollout",
                        flag,
                        position = %saved.position,
                        since = %saved.since,
                        "rollout resumed from saved state"
                    );
                }
                Some(saved) => {
                    match self.replan(&mut core, flag, &saved, &stages) {
                        Ok(t) => done.extend(t),
                        Err(e) => {
                            // The saved state still follows the old plan: leave the
                            // flag unregistered rather than drive it with the new one.
                            core.flags.remove(flag);
                            return Err(e);
                        }
                    }
                }
            }
            recorder
        };
        self.notify(&done);
        Ok(recorder)
    }

    /// Registers every flag of `manifest` that declares a rollout plan; returns their
    /// recorders by flag name.
    pub fn register_manifest(
        &self,
        manifest: &Manifest,
    ) -> Result<BTreeMap<String, Arc<Recorder>>, RolloutError> {
        let mut out = BTreeMap::new();
        for flag in &manifest.flags {
            if let Some(plan) = &flag.rollout {
                out.insert(flag.name.clone(), self.register(&flag.name, plan.clone())?);
            }
        }
        Ok(out)
    }

    /// Moves a saved rollout onto a plan whose stages changed.
    fn replan(
        &self,
        core: &mut Core,
        flag: &str,
        saved: &RolloutState,
        stages: &[u8],
    ) -> Result<Option<Transition>, RolloutError> {
        let from = saved.position;
        let old = format!("{:?}", saved.stages);
        let set_stages = |core: &mut Core| {
            if let Some(s) = core.file.rollouts.get_mut(flag) {
                s.stages = stages.to_vec();
            }
        };
        let to = if from.status == Status::RolledBack {
            None
        } else {
            match stages.iter().rposition(|&p| p <= from.percent) {
                Some(i) => {
                    let last = i + 1 == stages.len();
                    let status = match from.status {
                        Status::Completed if last && stages[i] == from.percent => Status::Completed,
                        Status::Completed => Status::Running,
                        s => s,
                    };
                    Some(Position {
                        stage: i,
                        percent: stages[i],
                        status,
                    })
                }
                None => Some(Position {
                    stage: 0,
                    percent: 0,
                    status: Status::Paused,
                }),
            }
        };
        match to {
            Some(to) if to != from => {
                set_stages(core);
                let reason = if to.percent == 0 {
                    format!(
                        "plan changed from stages {old} to {stages:?}: the saved exposure {}% is below the first stage; paused at 0%, resume to start",
                        from.percent
                    )
                } else {
                    format!("plan changed from stages {old} to {stages:?}")
                };
                let t = self.automatic(core, flag, Some(from), to, reason, None)?;
                Ok(Some(t))
            }
            _ => {
                set_stages(core);
                self.inner.exposure.set_exposure(flag, from.percent);
                self.save_or_mark(core);
                Ok(None)
            }
        }
    }

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
        let window = live.recorder.snapshot().since(&live.baseline);
        Ok(evaluate(
            &live.plan,
            state.position.stage,
            &window,
            state.looks + 1,
        ))
    }

    /// Evaluates every running rollout once and acts: advance, complete, roll back or
    /// pause. Returns the transitions made. Failures to write the state file or the
    /// audit log are logged at error level and retried on the next tick. Call it
    /// periodically, or let [`spawn_ticker`](Self::spawn_ticker) do it.
    pub fn tick(&self) -> Vec<Transition> {
        let mut done = Vec::new();
        {
            let mut core = lock(&self.inner.core);
            if core.dirty {
                self.save_or_mark(&mut core);
            }
            let now = self.inner.clock.now();
            let flags: Vec<String> = core.flags.keys().cloned().collect();
            let mut looked = false;
            for flag in flags {
                match self.tick_flag(&mut core, &flag, now, &mut looked) {
                    Ok(Some(t)) => done.push(t),
                    Ok(None) => {}
                    Err(e) => tracing::error!(
                        target: "flags::rollout",
                        flag = %flag,
                        error = %e,
                        "rollout decision could not be recorded; retrying next tick"
                    ),
                }
            }
            if looked {
                self.save_or_mark(&mut core);
            }
        }
        self.notify(&done);
        done
    }

    fn tick_flag(
        &self,
        core: &mut Core,
        flag: &str,
        now: crate::clock::Timestamp,
        looked: &mut bool,
    ) -> Result<Option<Transition>, RolloutError> {
        if core.held.contains_key(flag) {
            return Ok(None);
        }
        let (Some(live), Some(state)) =
            (core.flags.get_mut(flag), core.file.rollouts.get_mut(flag))
        else {
            return Ok(None);
        };
        if state.position.status != Status::Running {
            return Ok(None);
        }
        let plan = &live.plan;
        let from = state.position;
        let stage = from.stage;
        let window = live.recorder.snapshot().since(&live.baseline);
        let with_control = from.percent < 100;
        let (nt, nc) = (window.treatment.samples(), window.control.samples());
        let min = plan.min_samples.max(1);
        let enough = nt >= min && (!with_control || nc >= min);
        let elapsed = now.since(state.since);
        let soaked = elapsed >= plan.soak;
        if !enough {
            let stall = plan.soak.saturating_mul(self.inner.config.stall_soaks);
            if !stall.is_zero() && elapsed >= stall {
                let reason = format!(
                    "not enough traffic: {nt} treatment and {nc} control outcomes after {}, {min} of each needed; \
                     resume to watch again or advance by hand",
                    human(elapsed)
                );
                let to = Position {
                    status: Status::Paused,
                    ..from
                };
                return self
                    .automatic(core, flag, Some(from), to, reason, None)
                    .map(Some);
            }
            return Ok(None);
        }
        let n = if with_control { nt.min(nc) } else { nt };
        let due = live.last_look_n == 0
            || n as f64 >= live.last_look_n as f64 * self.inner.config.look_growth
            || soaked;
        if !due {
            return Ok(None);
        }
        let look = state.looks.saturating_add(1);
        let evidence = evaluate(plan, stage, &window, look);
        live.last_look_n = n;
        state.looks = look;
        let stages = plan.stages.clone();
        if let Some(check) = evidence.breach() {
            let reason = format!(
                "`{}` breached at look {look} of stage {} ({}%): {}; treatment {} req / {} err, control {} req / {} err",
                check.criterion.manifest_key(),
                stage + 1,
                from.percent,
                check.describe(),
                evidence.treatment.samples,
                evidence.treatment.errors,
                evidence.control.samples,
                evidence.control.errors,
            );
            let to = Position {
                stage,
                percent: 0,
                status: Status::RolledBack,
            };
            return self
                .automatic(core, flag, Some(from), to, reason, Some(evidence))
                .map(Some);
        }
        if !soaked {
            // The look count must survive a restart; a transition saves it anyway.
            *looked = true;
            return Ok(None);
        }
        let passed = format!(
            "stage {} ({}%) passed after {}: {nt} treatment and {nc} control outcomes, no check breached at look {look}",
            stage + 1,
            from.percent,
            human(elapsed)
        );
        let (to, reason) = match stages.get(stage + 1) {
            Some(&p) => (
                Position {
                    stage: stage + 1,
                    percent: p,
                    status: Status::Running,
                },
                passed,
            ),
            None => (
                Position {
                    status: Status::Completed,
                    ..from
                },
                format!("{passed}; every stage passed"),
            ),
        };
        self.automatic(core, flag, Some(from), to, reason, Some(evidence))
            .map(Some)
    }

    /// Moves `flag` to its next stage now, whatever the metrics say (or completes it
    /// at the last stage). Allowed while running or paused.
    pub fn advance(&self, flag: &str, by: Attribution) -> Result<Transition, RolloutError> {
        self.manual(flag, Action::Advance, by)
    }

    /// Holds `flag` at its current exposure; nothing automatic happens until it is
    /// resumed. Allowed while running.
    pub fn pause(&self, flag: &str, by: Attribution) -> Result<Transition, RolloutError> {
        self.manual(flag, Action::Pause, by)
    }

    /// Continues a paused rollout at its stage (its soak starts over), or restarts a
    /// rolled-back one at the first stage.
    pub fn resume(&self, flag: &str, by: Attribution) -> Result<Transition, RolloutError> {
        self.manual(flag, Action::Resume, by)
    }

    /// Sets `flag`'s exposure to 0 now. Allowed unless already rolled back.
    pub fn rollback(&self, flag: &str, by: Attribution) -> Result<Transition, RolloutError> {
        self.manual(flag, Action::Rollback, by)
    }

    fn manual(
        &self,
        flag: &str,
        action: Action,
        by: Attribution,
    ) -> Result<Transition, RolloutError> {
        let t = {
            let mut core = lock(&self.inner.core);
            let unknown = || RolloutError::UnknownFlag {
                flag: flag.to_owned(),
            };
            // Registered plans are validated: `stages` is never empty, so indexing the
            // first and the last stage below cannot fail.
            let stages = core
                .flags
                .get(flag)
                .ok_or_else(unknown)?
                .plan
                .stages
                .clone();
            if core.held.contains_key(flag) {
                drop(core);
                return self.reset_held(flag, action, by, stages);
            }
            let from = core.file.rollouts.get(flag).ok_or_else(unknown)?.position;
            let invalid = |hint: &'static str| RolloutError::InvalidTransition {
                flag: flag.to_owned(),
                action: action.verb(),
                status: from.status,
                hint,
            };
            use Status::*;
            let to = match (action, from.status) {
                (Action::Advance, Running | Paused) => match stages.get(from.stage + 1) {
                    Some(&p) => Position {
                        stage: from.stage + 1,
                        percent: p,
                        status: Running,
                    },
                    None => Position {
                        stage: from.stage,
                        percent: stages[from.stage.min(stages.len() - 1)],
                        status: Completed,
                    },
                },
                (Action::Advance, RolledBack) => {
                    return Err(invalid("; resume it to restart at the first stage"));
                }
                (Action::Advance, Completed) => return Err(invalid("; every stage has passed")),
                (Action::Pause, Running) => Position {
                    status: Paused,
                    ..from
                },
                (Action::Pause, _) => return Err(invalid("")),
                (Action::Resume, Paused) => {
                    let stage = from.stage.min(stages.len() - 1);
                    Position {
                        stage,
                        percent: stages[stage],
                        status: Running,
                    }
                }
                (Action::Resume, RolledBack) => Position {
                    stage: 0,
                    percent: stages[0],
                    status: Running,
                },
                (Action::Resume, Running) => return Err(invalid("; it is not paused")),
                (Action::Resume, Completed) => return Err(invalid("; every stage has passed")),
                (Action::Rollback, RolledBack) => return Err(invalid("; exposure is already 0")),
                (Action::Rollback, _) => Position {
                    percent: 0,
                    status: RolledBack,
                    ..from
                },
            };
            let reason = if by.reason().is_empty() {
                format!("{} by hand", action.verb())
            } else {
                by.reason().to_owned()
            };
            self.transition(
                &mut core,
                flag,
                Some(from),
                to,
                reason,
                by.actor(),
                Source::Manual,
                None,
            )?
        };
        self.notify(std::slice::from_ref(&t));
        Ok(t)
    }

    /// A manual action on a held rollout: a rollback replaces its invalid state with a
    /// fresh one at 0% (the audit log keeps the history); anything else is refused.
    fn reset_held(
        &self,
        flag: &str,
        action: Action,
        by: Attribution,
        stages: Vec<u8>,
    ) -> Result<Transition, RolloutError> {
        let t = {
            let mut core = lock(&self.inner.core);
            let Some(problem) = core.held.get(flag).cloned() else {
                drop(core);
                return self.manual(flag, action, by);
            };
            if !matches!(action, Action::Rollback) {
                return Err(held_error(flag, &problem));
            }
            let fresh = RolloutState {
                flag: flag.to_owned(),
                stages,
                position: Position {
                    stage: 0,
                    percent: 0,
                    status: Status::Paused,
                },
                since: self.inner.clock.now(),
                reason: String::new(),
                looks: 0,
                history: Vec::new(),
            };
            let saved = core.file.rollouts.insert(flag.to_owned(), fresh);
            core.held.remove(flag);
            let to = Position {
                stage: 0,
                percent: 0,
                status: Status::RolledBack,
            };
            let reason = format!(
                "{}; the saved state was invalid and is reset ({problem})",
                if by.reason().is_empty() {
                    "roll back by hand"
                } else {
                    by.reason()
                }
            );
            match self.transition(
                &mut core,
                flag,
                None,
                to,
                reason,
                by.actor(),
                Source::Manual,
                None,
            ) {
                Ok(t) => t,
                Err(e) => {
                    if let Some(saved) = saved {
                        core.file.rollouts.insert(flag.to_owned(), saved);
                    }
                    core.held.insert(flag.to_owned(), problem);
                    return Err(e);
                }
            }
        };
        self.notify(std::slice::from_ref(&t));
        Ok(t)
    }

    /// The rollouts held because their saved state is invalid, with the error naming
    /// the file and the field.
    pub fn held(&self) -> BTreeMap<String, String> {
        lock(&self.inner.core).held.clone()
    }

    /// A transition the controller decides on its own.
    fn automatic(
        &self,
        core: &mut Core,
        flag: &str,
        from: Option<Position>,
        to: Position,
        reason: String,
        evidence: Option<Evidence>,
    ) -> Result<Transition, RolloutError> {
        self.transition(
            core,
            flag,
            from,
            to,
            reason,
            CONTROLLER_ACTOR,
            Source::Automatic,
            evidence,
        )
    }

    /// Records and applies one transition; see the module docs for the order of effects.
    #[allow(clippy::too_many_arguments)]
    fn transition(
        &self,
        core: &mut Core,
        flag: &str,
        from: Option<Position>,
        to: Position,
        reason: String,
        actor: &str,
        source: Source,
        evidence: Option<Evidence>,
    ) -> Result<Transition, RolloutError> {
        let now = self.inner.clock.now();
        let lowers = from.is_some_and(|f| to.percent < f.percent);
        if lowers {
            self.inner.exposure.set_exposure(flag, to.percent);
        }
        let t = Transition {
            revision: core.file.revision + 1,
            at: now,
            flag: flag.to_owned(),
            from,
            to,
            reason,
            actor: actor.to_owned(),
            source,
            evidence,
        };
        if let Some(audit) = core.audit.as_mut() {
            match audit.append(&t) {
                Ok(_) => {}
                Err(e) if lowers => tracing::error!(
                    target: "flags::rollout",
                    flag,
                    error = %e,
                    "exposure lowered but the audit log could not be written"
                ),
                Err(e) => return Err(e.into()),
            }
        }
        let before = core.file.clone();
        let audit_head = core.audit.as_ref().and_then(|a| a.head().cloned());
        {
            let file = &mut core.file;
            file.revision = t.revision;
            file.audit_head = audit_head;
            let Some(state) = file.rollouts.get_mut(flag) else {
                return Err(RolloutError::UnknownFlag {
                    flag: flag.to_owned(),
                });
            };
            let new_window = from.is_none_or(|f| f.stage != to.stage)
                || (to.status == Status::Running
                    && from.is_some_and(|f| f.status == Status::RolledBack));
            state.position = to;
            state.since = now;
            state.reason = t.reason.clone();
            if new_window {
                state.looks = 0;
            }
            state.push_history(t.clone());
        }
        if to.status == Status::Running
            && let Some(live) = core.flags.get_mut(flag)
        {
            live.baseline = live.recorder.snapshot();
            live.last_look_n = 0;
        }
        if let Some(store) = &self.inner.store {
            if let Err(e) = store.save(&core.file) {
                if lowers {
                    core.dirty = true;
                    tracing::error!(
                        target: "flags::rollout",
                        flag,
                        error = %e,
                        "exposure lowered but the state file could not be saved; retrying next tick"
                    );
                } else {
                    // Undo the change but keep its revision used: the audit log already
                    // holds an entry with it, so the next transition must not reuse it.
                    core.file = before;
                    core.file.revision = core.file.revision.max(t.revision);
                    self.compensate(core, &t, &e);
                    return Err(e.into());
                }
            } else {
                core.dirty = false;
            }
        }
        if !lowers {
            self.inner.exposure.set_exposure(flag, to.percent);
        }
        emit(&t);
        Ok(t)
    }

    /// Writes an audit entry undoing `t`, which was logged but could not be saved.
    fn compensate(&self, core: &mut Core, t: &Transition, e: &crate::error::StateError) {
        let Some(audit) = core.audit.as_mut() else {
            return;
        };
        let undo = Transition {
            revision: t.revision,
            at: t.at,
            flag: t.flag.clone(),
            from: Some(t.to),
            to: t.from.unwrap_or(Position {
                stage: 0,
                percent: 0,
                status: Status::Paused,
            }),
            reason: format!("not applied: the state file could not be saved ({e})"),
            actor: CONTROLLER_ACTOR.to_owned(),
            source: Source::Automatic,
            evidence: None,
        };
        if let Err(e) = audit.append(&undo) {
            tracing::error!(target: "flags::rollout", flag = %t.flag, error = %e,
                "audit log could not record that a change was not applied");
        }
    }

    /// Saves the state file, or marks it dirty and logs.
    fn save_or_mark(&self, core: &mut Core) {
        let Some(store) = &self.inner.store else {
            return;
        };
        core.file.revision += 1;
        match store.save(&core.file) {
            Ok(()) => core.dirty = false,
            Err(e) => {
                core.dirty = true;
                tracing::error!(target: "flags::rollout", error = %e,
                    "rollout state could not be saved; retrying next tick");
            }
        }
    }

    fn notify(&self, done: &[Transition]) {
        for t in done {
            for hook in &self.inner.on_transition {
                hook(t);
            }
            if t.is_rollback() {
                for hook in &self.inner.on_rollback {
                    hook(t);
                }
            }
        }
    }

    /// Calls [`tick`](Self::tick) every `interval` on a background thread until the
    /// returned [`Ticker`] is stopped or dropped.
    pub fn spawn_ticker(&self, interval: Duration) -> std::io::Result<Ticker> {
        let (stop, rx) = mpsc::channel::<()>();
        let controller = self.clone();
        let handle = std::thread::Builder::new()
            .name("flags-rollout-ticker".to_owned())
            .spawn(move || {
                // A message or a dropped sender (the Ticker stopped) ends the loop.
                while let Err(RecvTimeoutError::Timeout) = rx.recv_timeout(interval) {
                    controller.tick();
                }
            })?;
        Ok(Ticker {
            stop: Some(stop),
            handle: Some(handle),
        })
    }
}

fn held_error(flag: &str, problem: &str) -> RolloutError {
    RolloutError::Held {
        flag: flag.to_owned(),
        problem: problem.to_owned(),
    }
}

/// Emits the tracing event for a transition: error for a rollback, warn for a pause,
/// info otherwise.
fn emit(t: &Transition) {
    let from = t
        .from
        .map_or_else(|| "not started".to_owned(), |p| p.to_string());
    let to = t.to.to_string();
    match t.to.status {
        Status::RolledBack => tracing::error!(
            target: "flags::rollout", flag = %t.flag, from = %from, to = %to,
            actor = %t.actor, source = %t.source, reason = %t.reason,
            "rollout rolled back"
        ),
        Status::Paused => tracing::warn!(
            target: "flags::rollout", flag = %t.flag, from = %from, to = %to,
            actor = %t.actor, source = %t.source, reason = %t.reason,
            "rollout paused"
        ),
        Status::Running | Status::Completed => tracing::info!(
            target: "flags::rollout", flag = %t.flag, from = %from, to = %to,
            actor = %t.actor, source = %t.source, reason = %t.reason,
            "rollout transition"
        ),
    }
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, s % 3600 / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{}.{:03}s", s, d.subsec_millis())
    }
}

/// The background thread of [`RolloutController::spawn_ticker`]; stops it when stopped
/// or dropped.
pub struct Ticker {
    stop: Option<mpsc::Sender<()>>,
    handle: Option<JoinHandle<()>>,
}

impl Ticker {
    /// Stops the thread and waits for it (at most one tick in progress).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(h) = self.handle.take() {
            // A panic in a tick (from a hook or exposure) ends the thread; there is
            // nothing more to stop.
            let _ = h.join();
        }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.shutdown();
    }
}
