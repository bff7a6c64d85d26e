//! A state file shared between processes: the running controller and the
//! `cargo flags rollout` commands. Each operation holds an exclusive lock on
//! `STATE.lock` (the state file's name with `.lock` appended, never removed) and first
//! takes over what another process saved since (see the controller's module docs).

use std::fs::{File, OpenOptions};
use std::path::PathBuf;

use super::{Core, RolloutController};
use crate::audit::AuditLog;
use crate::error::RolloutError;
use crate::state::{StateStore, Status};

/// The lock file beside a state file.
fn lock_path(store: &StateStore) -> PathBuf {
    let mut name = store.path().as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Takes the exclusive lock of `store`'s state file, waiting for another process to
/// release it; dropping the file releases it.
pub(super) fn lock_file(store: &StateStore) -> Result<File, RolloutError> {
    let path = lock_path(store);
    let lock_err = |source| RolloutError::Lock {
        path: path.clone(),
        source,
    };
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(lock_err)?;
    }
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(lock_err)?;
    file.lock().map_err(lock_err)?;
    Ok(file)
}

impl RolloutController {
    /// Locks the shared state file (when shared) and takes over what another process
    /// saved since this one last read or wrote it. The lock lasts as long as the
    /// returned file. A lock that cannot be taken (the directory is gone or read-only)
    /// is logged and the operation goes on with the state in memory: its saves fail
    /// the same way, and a rollback must still lower exposure.
    pub(super) fn enter(&self, core: &mut Core) -> Result<Option<File>, RolloutError> {
        let Some(store) = self.inner.store.as_ref().filter(|_| self.inner.shared) else {
            return Ok(None);
        };
        let lock = match lock_file(store) {
            Ok(lock) => lock,
            Err(e) => {
                tracing::error!(target: "flags::rollout", error = %e,
                    "acting without the inter-process lock on the rollout state");
                return Ok(None);
            }
        };
        let audit_moved = core.audit.as_ref().is_some_and(|a| !a.is_current());
        let newer = match store.load() {
            Ok(Some(disk)) if disk.revision > core.file.revision => {
                // Someone replaced the file with another environment's: not ours to
                // take over (the builder refuses such a file the same way).
                if let (Some(found), Some(wanted)) = (&disk.environment, &core.file.environment)
                    && found != wanted
                {
                    return Err(RolloutError::Environment {
                        path: store.path().to_path_buf(),
                        found: found.clone(),
                        wanted: wanted.clone(),
                    });
                }
                Some(disk)
            }
            Ok(_) => None,
            Err(e) => {
                tracing::error!(target: "flags::rollout", error = %e,
                    "the shared state file cannot be read; acting on the state in memory");
                None
            }
        };
        if (audit_moved || newer.is_some())
            && let Some(audit) = core.audit.as_mut()
        {
            *audit = AuditLog::open(audit.path())?;
        }
        if let Some(disk) = newer {
            let seen = core.file.revision;
            for (flag, saved) in &disk.rollouts {
                let (Some(live), Some(mine)) =
                    (core.flags.get_mut(flag), core.file.rollouts.get(flag))
                else {
                    continue;
                };
                if mine.position == saved.position && mine.since == saved.since {
                    continue;
                }
                tracing::info!(
                    target: "flags::rollout",
                    flag = %flag,
                    from = %mine.position,
                    to = %saved.position,
                    reason = %saved.reason,
                    "rollout changed by another process; taking it over"
                );
                // The other process may not have written the target: finding the
                // percentage that was in force before is not a foreign change.
                if mine.position.percent != saved.position.percent {
                    live.pending_from = Some(mine.position.percent);
                }
                if saved.position.status == Status::Running {
                    live.baseline = None;
                    live.last_look_n = 0;
                }
                live.foreign = None;
                // Hooks (alerts) hear of changes made elsewhere too.
                core.adopted
                    .extend(saved.history.iter().filter(|t| t.revision > seen).cloned());
            }
            let environment = core.file.environment.clone();
            core.file = disk;
            if core.file.environment.is_none() {
                core.file.environment = environment;
            }
            core.dirty = false;
        }
        Ok(Some(lock))
    }
}
