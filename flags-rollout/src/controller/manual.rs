//! Manual commands: advance, pause, resume and roll back, each attributed to who asked
//! and why.

use super::{RolloutController, held_error, lock};
use crate::error::RolloutError;
use crate::state::{Cause, Position, RolloutState, Status, Transition};

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
            let guard = self.enter(&mut core)?;
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
                // The file lock is not reentrant (another open of the lock file waits).
                drop(guard);
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
                Cause::Manual,
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
            let guard = self.enter(&mut core)?;
            let Some(problem) = core.held.get(flag).cloned() else {
                // The file lock is not reentrant (another open of the lock file waits).
                drop(guard);
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
                Cause::Manual,
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
}
