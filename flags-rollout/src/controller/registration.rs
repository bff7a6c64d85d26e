//! Putting flags under the controller, and moving saved rollouts onto changed plans.

use std::collections::BTreeMap;
use std::sync::Arc;

use flags_manifest::{Manifest, RolloutPlan};

use super::tick::TargetCheck;
use super::{Core, Live, RolloutController, lock};
use crate::decision::validate_plan;
use crate::error::RolloutError;
use crate::metrics::Recorder;
use crate::state::{Position, RolloutState, Status, Transition};

impl RolloutController {
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
            let _lock = self.enter(&mut core)?;
            let stages = plan.stages.clone();
            let mut live = Live::new(plan, recorder.clone());
            live.baseline = self.read_metrics(flag, &live).ok();
            core.flags.insert(flag.to_owned(), live);
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
                    // A crash between saving a change and writing it leaves the
                    // target at the percentage before it.
                    if let (Some(live), Some(last)) =
                        (core.flags.get_mut(flag), saved.history.last())
                        && last.to == saved.position
                        && let Some(before) = last.from
                    {
                        live.pending_from = Some(before.percent);
                    }
                    if let TargetCheck::Conflict(t) = self.check_target(&mut core, flag)? {
                        done.push(*t);
                    }
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
                let checked = self.check_target(core, flag)?;
                self.save_or_mark(core);
                Ok(match checked {
                    TargetCheck::Conflict(t) => Some(*t),
                    _ => None,
                })
            }
        }
    }
}
