//! Recording and applying one transition, in the order of effects the module docs of
//! the controller describe, and telling hooks and `tracing` about it.

use super::{CONTROLLER_ACTOR, Core, RolloutController};
use crate::decision::Evidence;
use crate::error::{RolloutError, StateError};
use crate::state::{Cause, Position, Status, Transition};

impl RolloutController {
    /// A transition the controller decides on its own.
    pub(super) fn automatic(
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
            Cause::Automatic,
            evidence,
        )
    }

    /// Writes `percent` for `flag` to the target. A failure is logged and remembered:
    /// the flag is held and the write retried at the next tick (see `check_target`).
    pub(super) fn apply(&self, core: &mut Core, flag: &str, from: Option<u8>, percent: u8) {
        let result = self.inner.target.write_exposure(flag, percent);
        let Some(live) = core.flags.get_mut(flag) else {
            if let Err(e) = result {
                tracing::error!(target: "flags::rollout", flag, percent, error = %e,
                    "rollout exposure not applied");
            }
            return;
        };
        match result {
            Ok(()) => {
                live.pending_from = None;
                if live.target_outage.take().is_some() {
                    tracing::info!(target: "flags::rollout", flag, percent,
                        target = %self.inner.target.describe(), "exposure target answers again");
                }
            }
            Err(e) => {
                tracing::error!(target: "flags::rollout", flag, percent, error = %e,
                    "rollout exposure not applied; the flag is held and the write retried next tick");
                if live.pending_from.is_none() {
                    live.pending_from = from;
                }
                live.target_outage = Some(e.to_string());
            }
        }
    }

    /// Records and applies one transition; see the module docs for the order of effects.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn transition(
        &self,
        core: &mut Core,
        flag: &str,
        from: Option<Position>,
        to: Position,
        reason: String,
        actor: &str,
        source: Cause,
        evidence: Option<Evidence>,
    ) -> Result<Transition, RolloutError> {
        self.record(core, flag, from, to, reason, actor, source, evidence, true)
    }

    /// Records a transition that writes nothing to the target: the percentage it
    /// records is the one found there (a change someone else made).
    pub(super) fn observed(
        &self,
        core: &mut Core,
        flag: &str,
        from: Position,
        to: Position,
        reason: String,
    ) -> Result<Transition, RolloutError> {
        self.record(
            core,
            flag,
            Some(from),
            to,
            reason,
            CONTROLLER_ACTOR,
            Cause::Automatic,
            None,
            false,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &self,
        core: &mut Core,
        flag: &str,
        from: Option<Position>,
        to: Position,
        reason: String,
        actor: &str,
        source: Cause,
        evidence: Option<Evidence>,
        write: bool,
    ) -> Result<Transition, RolloutError> {
        let now = self.inner.clock.now();
        let lowers = from.is_some_and(|f| to.percent < f.percent);
        let before_percent = from.map(|f| f.percent);
        if lowers && write {
            self.apply(core, flag, before_percent, to.percent);
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
            // A source that fails now leaves the baseline to its next answer.
            live.baseline = match &self.inner.metrics {
                Some(source) => source.metrics(flag).ok(),
                None => Some(live.recorder.snapshot()),
            };
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
        if !lowers && write {
            self.apply(core, flag, before_percent, to.percent);
        }
        emit(&t);
        Ok(t)
    }

    /// Writes an audit entry undoing `t`, which was logged but could not be saved.
    fn compensate(&self, core: &mut Core, t: &Transition, e: &StateError) {
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
            source: Cause::Automatic,
            evidence: None,
        };
        if let Err(e) = audit.append(&undo) {
            tracing::error!(target: "flags::rollout", flag = %t.flag, error = %e,
                "audit log could not record that a change was not applied");
        }
    }

    /// Saves the state file, or marks it dirty and logs.
    pub(super) fn save_or_mark(&self, core: &mut Core) {
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

    pub(super) fn notify(&self, done: &[Transition]) {
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
