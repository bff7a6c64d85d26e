//! Rollout state that survives restarts: where each flag's rollout stands and how it
//! got there, kept in one JSON file that is replaced atomically.
//!
//! A save writes the whole file to a temporary file in the same directory, flushes it
//! to disk (`fsync`), renames it over the old file and flushes the directory, so that
//! after a crash at any instant the file is either the old state or the new one, never
//! a mixture or a truncated file. One process should own a state file at a time.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::audit::AuditAnchor;
use crate::clock::Timestamp;
use crate::decision::Evidence;
use crate::error::StateError;

/// How many transitions each flag's state keeps; the audit log keeps all of them.
pub const HISTORY_LIMIT: usize = 100;

/// Where a rollout is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Watched by the controller, advancing when a stage passes.
    Running,
    /// Held at its exposure; nothing automatic happens until it is resumed.
    Paused,
    /// Exposure set to 0 after a breach or by hand.
    RolledBack,
    /// Every stage passed; exposure stays at the last stage.
    Completed,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Running => "running",
            Status::Paused => "paused",
            Status::RolledBack => "rolled back",
            Status::Completed => "completed",
        })
    }
}

/// A rollout's position: stage, exposure and status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Position {
    /// Index into the plan's stages (for a rollback: the stage it was rolled back from).
    pub stage: usize,
    /// Exposure in percent.
    pub percent: u8,
    /// Status.
    pub status: Status,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "stage {} at {}% ({})",
            self.stage + 1,
            self.percent,
            self.status
        )
    }
}

/// Who or what caused a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The controller, from metrics or its own rules.
    Automatic,
    /// A person or tool through the controller's API.
    Manual,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Automatic => "automatic",
            Source::Manual => "manual",
        })
    }
}

/// One change of a rollout's position, with why and by whom.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    /// The state file revision that recorded it.
    pub revision: u64,
    /// When it happened.
    pub at: Timestamp,
    /// The flag.
    pub flag: String,
    /// The position before; `None` when the rollout started.
    pub from: Option<Position>,
    /// The position after.
    pub to: Position,
    /// Why, in a sentence.
    pub reason: String,
    /// Who: `controller` for automatic changes, else the name given to the API.
    pub actor: String,
    /// Automatic or manual.
    pub source: Source,
    /// The look that decided it, for automatic decisions on metrics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
}

impl Transition {
    /// Whether it set exposure to 0 after a breach or by hand.
    pub fn is_rollback(&self) -> bool {
        self.to.status == Status::RolledBack
            && self.from.is_none_or(|f| f.status != Status::RolledBack)
    }
}

/// The persisted state of one flag's rollout.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RolloutState {
    /// The flag.
    pub flag: String,
    /// The plan's stages when this state was written (to notice a changed plan).
    pub stages: Vec<u8>,
    /// Where it stands.
    pub position: Position,
    /// When the current stage (or pause, rollback, completion) began.
    pub since: Timestamp,
    /// Why it is where it is.
    pub reason: String,
    /// Looks already spent on the current stage: a restart continues the count so the
    /// error budget of [`crate::decision`] still holds.
    pub looks: u32,
    /// The latest transitions, oldest first, at most [`HISTORY_LIMIT`].
    pub history: Vec<Transition>,
}

impl RolloutState {
    pub(crate) fn push_history(&mut self, t: Transition) {
        self.history.push(t);
        if self.history.len() > HISTORY_LIMIT {
            let excess = self.history.len() - HISTORY_LIMIT;
            self.history.drain(..excess);
        }
    }
}

/// The whole state file. The default is an empty state of the current version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StateFile {
    /// Format version, 1.
    pub version: u32,
    /// Incremented on every save.
    pub revision: u64,
    /// The audit log's last entry when this state was saved, if there is a log: a log
    /// that lost whole lines at its end no longer reaches it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_head: Option<AuditAnchor>,
    /// Every rollout, by flag name.
    pub rollouts: BTreeMap<String, RolloutState>,
}

/// The current format version of [`StateFile`].
pub const STATE_VERSION: u32 = 1;

impl Default for StateFile {
    fn default() -> Self {
        StateFile {
            version: STATE_VERSION,
            revision: 0,
            audit_head: None,
            rollouts: BTreeMap::new(),
        }
    }
}

/// Reads and atomically replaces a state file.
///
/// ```
/// use flags_rollout::{StateFile, StateStore};
/// let dir = std::env::temp_dir().join(format!("flags-rollout-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let store = StateStore::new(dir.join("rollouts.json"));
/// let state = StateFile { revision: 7, ..StateFile::default() };
/// store.save(&state)?;
/// assert_eq!(store.load()?.map(|s| s.revision), Some(7));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct StateStore {
    path: PathBuf,
}

impl StateStore {
    /// A store for the file at `path` (created on the first save).
    pub fn new(path: impl Into<PathBuf>) -> StateStore {
        StateStore { path: path.into() }
    }

    /// The state file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn temp_path(&self) -> PathBuf {
        let mut name = self
            .path
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_default();
        name.push(".tmp");
        self.path.with_file_name(name)
    }

    /// The saved state; `None` if there is no file yet.
    pub fn load(&self) -> Result<Option<StateFile>, StateError> {
        let bytes = match fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(StateError::Io {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        let state: StateFile =
            serde_json::from_slice(&bytes).map_err(|source| StateError::Corrupt {
                path: self.path.clone(),
                source,
            })?;
        if state.version != STATE_VERSION {
            return Err(StateError::Version {
                path: self.path.clone(),
                found: state.version,
            });
        }
        Ok(Some(state))
    }

    /// Replaces the file with `state`, atomically and durably: when this returns `Ok`,
    /// the new state is on disk and a crash cannot take it back.
    pub fn save(&self, state: &StateFile) -> Result<(), StateError> {
        let io_err = |source| StateError::Io {
            path: self.path.clone(),
            source,
        };
        let mut bytes =
            serde_json::to_vec_pretty(state).map_err(|e| io_err(io::Error::other(e)))?;
        bytes.push(b'\n');
        let tmp = self.temp_path();
        {
            let mut f = File::create(&tmp).map_err(io_err)?;
            f.write_all(&bytes).map_err(io_err)?;
            f.sync_all().map_err(io_err)?;
        }
        fs::rename(&tmp, &self.path).map_err(io_err)?;
        sync_dir(&self.path).map_err(io_err)
    }
}

/// Flushes the directory holding `path`, making a rename or a new file in it durable.
pub(crate) fn sync_dir(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        // Directories cannot be opened as files elsewhere; the rename is as durable as
        // the platform makes it.
        let _ = path;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("flags-rollout-state-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn sample_state() -> StateFile {
        let position = Position {
            stage: 1,
            percent: 5,
            status: Status::Running,
        };
        let t = Transition {
            revision: 3,
            at: Timestamp::from_millis(1_000),
            flag: "search_v2".into(),
            from: Some(Position {
                stage: 0,
                percent: 1,
                status: Status::Running,
            }),
            to: position,
            reason: "stage passed".into(),
            actor: "controller".into(),
            source: Source::Automatic,
            evidence: None,
        };
        let mut rollouts = BTreeMap::new();
        rollouts.insert(
            "search_v2".to_owned(),
            RolloutState {
                flag: "search_v2".into(),
                stages: vec![1, 5, 100],
                position,
                since: Timestamp::from_millis(1_000),
                reason: "stage passed".into(),
                looks: 2,
                history: vec![t],
            },
        );
        StateFile {
            version: STATE_VERSION,
            revision: 3,
            audit_head: None,
            rollouts,
        }
    }

    #[test]
    fn round_trips_and_replaces() {
        let dir = temp_dir("roundtrip");
        let store = StateStore::new(dir.join("state.json"));
        assert_eq!(store.load().unwrap(), None);
        let mut s = sample_state();
        store.save(&s).unwrap();
        assert_eq!(store.load().unwrap(), Some(s.clone()));
        s.revision = 4;
        store.save(&s).unwrap();
        assert_eq!(store.load().unwrap().unwrap().revision, 4);
        assert!(!store.temp_path().exists(), "temp file left behind");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn corrupt_and_future_files_are_errors_not_resets() {
        let dir = temp_dir("corrupt");
        let store = StateStore::new(dir.join("state.json"));
        fs::write(store.path(), b"{\"version\":1,\"revis").unwrap();
        assert!(matches!(store.load(), Err(StateError::Corrupt { .. })));
        fs::write(
            store.path(),
            b"{\"version\":9,\"revision\":0,\"rollouts\":{}}",
        )
        .unwrap();
        assert!(matches!(
            store.load(),
            Err(StateError::Version { found: 9, .. })
        ));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn history_is_bounded() {
        let mut s = sample_state().rollouts.remove("search_v2").unwrap();
        let t = s.history[0].clone();
        for i in 0..(HISTORY_LIMIT as u64 + 20) {
            let mut t = t.clone();
            t.revision = i;
            s.push_history(t);
        }
        assert_eq!(s.history.len(), HISTORY_LIMIT);
        assert_eq!(
            s.history.last().unwrap().revision,
            HISTORY_LIMIT as u64 + 19
        );
    }
}
