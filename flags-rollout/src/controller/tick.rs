//! The automatic side: each tick looks at every running rollout and advances,
//! completes, rolls back or pauses it.

use std::collections::HashMap;
use std::time::Duration;

use super::{Core, RolloutController, lock};
use crate::clock::Timestamp;
use crate::decision::evaluate;
use crate::error::RolloutError;
use crate::source::MetricsError;
use crate::state::{Position, Status, Transition};

/// Metrics read before the lock, by flag.
type Readings = HashMap<String, Result<crate::metrics::Metrics, MetricsError>>;

/// What reading a flag's percentage back from the target found.
pub(super) enum TargetCheck {
    /// The percentage the state says (written now if it had not landed).
    InForce,
    /// The target cannot be read or written: hold the flag.
    Hold,
    /// Someone else changed it: the flag was paused by this transition.
    Conflict(Box<Transition>),
}

impl RolloutController {
    /// Evaluates every running rollout once and acts: advance, complete, roll back or
    /// pause. Returns the transitions made, after those another process saved in the
    /// shared state file since the last tick (taken over; hooks hear of both). Failures to write the state file or the
    /// audit log are logged at error level and retried on the next tick. Call it
    /// periodically, or let [`spawn_ticker`](Self::spawn_ticker) do it.
    pub fn tick(&self) -> Vec<Transition> {
        let mut done = Vec::new();
        let mut readings = self.prefetch_metrics();
        {
            let mut core = lock(&self.inner.core);
            let _lock = match self.enter(&mut core) {
                Ok(l) => l,
                Err(e) => {
                    tracing::error!(target: "flags::rollout", error = %e,
                        "shared rollout state unavailable; skipping this tick");
                    return done;
                }
            };
            done.append(&mut core.adopted);
            if core.dirty {
                self.save_or_mark(&mut core);
            }
            let now = self.inner.clock.now();
            let flags: Vec<String> = core.flags.keys().cloned().collect();
            let mut looked = false;
            for flag in flags {
                match self.tick_flag(&mut core, &flag, now, &mut looked, &mut readings) {
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

    /// The metrics of every running rollout, read from the metrics source before the
    /// controller's lock is taken: a slow or failing source must not hold up readers of
    /// the state (a dashboard) or a manual rollback. Empty with the in-process
    /// recorders, which are read in place.
    fn prefetch_metrics(&self) -> Readings {
        let Some(source) = &self.inner.metrics else {
            return Readings::new();
        };
        let running: Vec<String> = {
            let core = lock(&self.inner.core);
            core.file
                .rollouts
                .iter()
                .filter(|(flag, s)| {
                    s.position.status == Status::Running && core.flags.contains_key(*flag)
                })
                .map(|(flag, _)| flag.clone())
                .collect()
        };
        running
            .into_iter()
            .map(|flag| {
                let read = source.metrics(&flag);
                (flag, read)
            })
            .collect()
    }

    fn tick_flag(
        &self,
        core: &mut Core,
        flag: &str,
        now: Timestamp,
        looked: &mut bool,
        readings: &mut Readings,
    ) -> Result<Option<Transition>, RolloutError> {
        if core.held.contains_key(flag) {
            return Ok(None);
        }
        let (Some(live), Some(state)) = (core.flags.get(flag), core.file.rollouts.get(flag)) else {
            return Ok(None);
        };
        let running = state.position.status == Status::Running;
        if running || live.pending_from.is_some() {
            match self.check_target(core, flag)? {
                TargetCheck::InForce => {}
                TargetCheck::Hold => return Ok(None),
                TargetCheck::Conflict(t) => return Ok(Some(*t)),
            }
        }
        if !running {
            return Ok(None);
        }
        let Some(window) = self.window(core, flag, readings.remove(flag)) else {
            return Ok(None);
        };
        let (Some(live), Some(state)) =
            (core.flags.get_mut(flag), core.file.rollouts.get_mut(flag))
        else {
            return Ok(None);
        };
        let plan = &live.plan;
        let from = state.position;
        let stage = from.stage;
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

impl RolloutController {
    /// The current window of `flag`'s metrics (from `read`, the reading taken before
    /// the lock, or read now), or `None` while the source fails (the stage is held) or
    /// while a window is only starting.
    fn window(
        &self,
        core: &mut Core,
        flag: &str,
        read: Option<Result<crate::metrics::Metrics, MetricsError>>,
    ) -> Option<crate::metrics::Metrics> {
        let live = core.flags.get(flag)?;
        let read = read.unwrap_or_else(|| self.read_metrics(flag, live));
        let live = core.flags.get_mut(flag)?;
        let now = match read {
            Ok(m) => {
                if let Some(was) = live.metrics_outage.take() {
                    tracing::info!(target: "flags::rollout", flag, outage = %was,
                        "metrics source answers again; the stage resumes");
                }
                m
            }
            Err(e) => {
                let message = e.to_string();
                if live.metrics_outage.is_none() {
                    tracing::warn!(target: "flags::rollout", flag, error = %message,
                        "metrics source unavailable: the stage is held (no advance, no rollback) until it answers");
                }
                live.metrics_outage = Some(message);
                return None;
            }
        };
        let Some(base) = live.baseline else {
            live.baseline = Some(now);
            return None;
        };
        if now.went_back(&base) {
            tracing::warn!(target: "flags::rollout", flag,
                "the metrics source's totals went back (reset); the window starts again");
            live.baseline = Some(now);
            live.last_look_n = 0;
            return None;
        }
        Some(now.since(&base))
    }

    /// Reads `flag`'s percentage back from the target and compares it with the state's
    /// (see "One writer" in the module docs). A write of ours that has not landed is
    /// made now; someone else's change pauses a running flag without writing.
    pub(super) fn check_target(
        &self,
        core: &mut Core,
        flag: &str,
    ) -> Result<TargetCheck, RolloutError> {
        let (Some(live), Some(state)) = (core.flags.get(flag), core.file.rollouts.get(flag)) else {
            return Ok(TargetCheck::InForce);
        };
        let from = state.position;
        let want = from.percent;
        let pending = live.pending_from;
        let target = &self.inner.target;
        let current = match target.read_exposure(flag) {
            Ok(c) => c,
            Err(e) => {
                if let Some(live) = core.flags.get_mut(flag) {
                    if live.target_outage.is_none() {
                        tracing::warn!(target: "flags::rollout", flag, error = %e,
                            "exposure target unavailable: the flag is held until it answers");
                    }
                    live.target_outage = Some(e.to_string());
                }
                return Ok(TargetCheck::Hold);
            }
        };
        if current == Some(want) {
            if let Some(live) = core.flags.get_mut(flag) {
                live.pending_from = None;
                live.foreign = None;
                if live.target_outage.take().is_some() {
                    tracing::info!(target: "flags::rollout", flag,
                        target = %target.describe(), "exposure target answers again");
                }
            }
            return Ok(TargetCheck::InForce);
        }
        if current.is_none() || (pending.is_some() && current == pending) {
            self.apply(core, flag, pending.or(current), want);
            let failed = core
                .flags
                .get(flag)
                .is_some_and(|l| l.target_outage.is_some());
            return Ok(if failed {
                TargetCheck::Hold
            } else {
                TargetCheck::InForce
            });
        }
        // `current` is `Some` here: `None` was handled above.
        let found = current.unwrap_or(0);
        if from.status != Status::Running {
            if let Some(live) = core.flags.get_mut(flag)
                && live.foreign != Some(current)
            {
                tracing::warn!(target: "flags::rollout", flag, found, expected = want,
                    target = %target.describe(),
                    "exposure changed outside the controller; the rollout is {}, so it is left alone",
                    from.status);
                live.foreign = Some(current);
                live.pending_from = None;
            }
            return Ok(TargetCheck::InForce);
        }
        let reason = format!(
            "the percentage at {} is {found}%, not the {want}% this controller set: someone else changed it \
             (a person or a second controller); paused at {found}% without overwriting. Resume to continue \
             the stage at {want}%, or roll back",
            target.describe()
        );
        tracing::error!(target: "flags::rollout", flag, found, expected = want,
            target = %target.describe(), "exposure changed outside the controller; rollout paused");
        let to = Position {
            status: Status::Paused,
            percent: found,
            ..from
        };
        let t = self.observed(core, flag, from, to, reason)?;
        Ok(TargetCheck::Conflict(Box::new(t)))
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
