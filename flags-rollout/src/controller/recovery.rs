//! Recovery at start: audit entries written after the state's last save are settled.

use super::CONTROLLER_ACTOR;
use crate::audit::AuditLog;
use crate::error::RolloutError;
use crate::state::{Cause, Position, StateFile, Status, Transition};

/// Brings the state up to date with audit entries written after its last save: a crash
/// between logging a change and saving it leaves such an entry. A change that lowered
/// exposure was already applied before the crash, so it is re-applied to the state
/// (a rollback is never undone by a crash); any other change never took effect, so an
/// entry saying so is appended. Returns whether the state changed.
pub(super) fn reconcile(
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
                    source: Cause::Automatic,
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
