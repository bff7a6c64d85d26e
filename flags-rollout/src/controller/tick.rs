//! The automatic side: each tick looks at every running rollout and advances,
//! completes, rolls back or pauses it.

use std::time::Duration;

use super::{Core, RolloutController, lock};
use crate::clock::Timestamp;
use crate::decision::evaluate;
use crate::error::RolloutError;
use crate::state::{Position, Status, Transition};

impl RolloutController {
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
        now: Timestamp,
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
