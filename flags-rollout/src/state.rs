//! Rollout state that survives restarts: where each flag's rollout stands and how it
//! got there, kept in one JSON file that is replaced atomically.
//!
//! A save writes the whole file to a temporary file in the same directory, flushes it
//! to disk (`fsync`), renames it over the old file and flushes the directory, so that
//! after a crash at any instant the file is either the old state or the new one, never
//! a mixture or a truncated file. One process should own a state file at a time.
//!
//! # Validation on load
//!
//! A file that parses can still hold values no controller wrote: a stage past the end
//! of the plan, an exposure above 100%, a revision or a timestamp so large that the
//! next step would overflow. Every value is checked on load against the ranges below
//! ([`MAX_REVISION`], [`MAX_TIMESTAMP`], [`MAX_STAGES`], percentages 0 to 100), and a
//! file that fails is reported with its path and the field
//! ([`StateError::Invalid`]). [`StateStore::load`] refuses the whole file;
//! [`StateStore::load_checked`] refuses only a file whose top-level values are wrong
//! and returns the rollouts that fail on their own, which the controller holds:
//! it neither drives them nor changes their exposure until they are rolled back.

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
pub use crate::status::Status;

/// How many transitions each flag's state keeps; the audit log keeps all of them.
pub const HISTORY_LIMIT: usize = 100;

/// The largest revision (and audit entry number) a loaded file may hold: 2^53, the
/// largest integer every JSON reader holds exactly, and far from overflowing on the
/// next save.
pub const MAX_REVISION: u64 = 1 << 53;

/// The latest timestamp a loaded file may hold: 9999-12-31T23:59:59.999Z.
pub const MAX_TIMESTAMP: Timestamp = Timestamp::from_millis(253_402_300_799_999);

/// The most stages a plan can have: strictly increasing percentages from 1 to 100.
pub const MAX_STAGES: usize = 100;

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
            // A position read from a damaged file may hold any index.
            self.stage.saturating_add(1),
            self.percent,
            self.status
        )
    }
}

/// Who or what caused a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// The controller, from metrics or its own rules.
    Automatic,
    /// A person or tool through the controller's API.
    Manual,
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Cause::Automatic => "automatic",
            Cause::Manual => "manual",
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
    pub source: Cause,
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
    /// The environment whose rollouts these are (`production`, `staging`), when the
    /// controller that writes it names one: state is kept per flag and environment,
    /// one file per environment, and a controller refuses a file of another one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
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
            environment: None,
            rollouts: BTreeMap::new(),
        }
    }
}

/// A state file as read, and the rollouts in it whose values are out of range (by flag
/// name, each with the error naming the field).
pub type CheckedState = (StateFile, Vec<(String, StateError)>);

/// A value out of range: the field's path in the file and why.
type Invalid = (String, String);

fn check_revision(field: &str, revision: u64) -> Result<(), Invalid> {
    if revision > MAX_REVISION {
        return Err((
            field.to_owned(),
            format!("is {revision}, above the largest revision {MAX_REVISION}"),
        ));
    }
    Ok(())
}

fn check_time(field: &str, at: Timestamp) -> Result<(), Invalid> {
    if at > MAX_TIMESTAMP {
        return Err((
            field.to_owned(),
            format!(
                "is {} ms after 1970, later than {MAX_TIMESTAMP}",
                at.as_millis()
            ),
        ));
    }
    Ok(())
}

fn check_percent(field: &str, percent: u8) -> Result<(), Invalid> {
    if percent > 100 {
        return Err((
            field.to_owned(),
            format!("is {percent}, not a percentage from 0 to 100"),
        ));
    }
    Ok(())
}

/// A position recorded in history or the audit log, whose plan may since have changed:
/// only the ranges every plan shares are checked.
pub(crate) fn check_position(field: &str, p: &Position) -> Result<(), Invalid> {
    if p.stage >= MAX_STAGES {
        return Err((
            format!("{field}.stage"),
            format!(
                "is {}, past the last stage any plan can have ({MAX_STAGES})",
                p.stage
            ),
        ));
    }
    check_percent(&format!("{field}.percent"), p.percent)
}

/// Checks a transition as recorded in a state's history or the audit log.
pub(crate) fn check_transition(field: &str, t: &Transition) -> Result<(), Invalid> {
    check_revision(&format!("{field}.revision"), t.revision)?;
    check_time(&format!("{field}.at"), t.at)?;
    if let Some(from) = &t.from {
        check_position(&format!("{field}.from"), from)?;
    }
    check_position(&format!("{field}.to"), &t.to)?;
    if let Some(e) = &t.evidence {
        check_position(
            &format!("{field}.evidence"),
            &Position {
                stage: e.stage,
                percent: e.percent,
                status: Status::Running,
            },
        )?;
    }
    Ok(())
}

impl RolloutState {
    /// Checks every value against the ranges in the module docs; `key` is the
    /// rollout's name in the file.
    fn check(&self, key: &str) -> Result<(), Invalid> {
        let at = format!("rollouts.{key}");
        if self.flag != key {
            return Err((
                format!("{at}.flag"),
                format!("is `{}`, not the name it is filed under", self.flag),
            ));
        }
        if self.stages.is_empty() || self.stages.len() > MAX_STAGES {
            return Err((
                format!("{at}.stages"),
                format!("has {} stages, not 1 to {MAX_STAGES}", self.stages.len()),
            ));
        }
        for (i, &p) in self.stages.iter().enumerate() {
            check_percent(&format!("{at}.stages[{i}]"), p)?;
        }
        let p = &self.position;
        if p.stage >= self.stages.len() {
            return Err((
                format!("{at}.position.stage"),
                format!(
                    "is {}, but the plan has {} stages (0 to {})",
                    p.stage,
                    self.stages.len(),
                    self.stages.len() - 1
                ),
            ));
        }
        check_percent(&format!("{at}.position.percent"), p.percent)?;
        if p.status == Status::RolledBack && p.percent != 0 {
            return Err((
                format!("{at}.position.percent"),
                format!("is {}, but a rolled-back rollout is at 0%", p.percent),
            ));
        }
        check_time(&format!("{at}.since"), self.since)?;
        if self.history.len() > HISTORY_LIMIT {
            return Err((
                format!("{at}.history"),
                format!(
                    "has {} transitions, more than the {HISTORY_LIMIT} kept",
                    self.history.len()
                ),
            ));
        }
        for (i, t) in self.history.iter().enumerate() {
            check_transition(&format!("{at}.history[{i}]"), t)?;
        }
        Ok(())
    }
}

impl StateFile {
    /// Checks the values outside the rollouts.
    fn check_top(&self) -> Result<(), Invalid> {
        check_revision("revision", self.revision)?;
        if let Some(a) = &self.audit_head {
            check_revision("audit_head.seq", a.seq)?;
            if a.hash.len() != 64 || !a.hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err((
                    "audit_head.hash".to_owned(),
                    "is not 64 hexadecimal digits".to_owned(),
                ));
            }
        }
        Ok(())
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

    /// The saved state; `None` if there is no file yet. A value out of range anywhere
    /// in the file is an error naming the field ([`StateError::Invalid`]).
    pub fn load(&self) -> Result<Option<StateFile>, StateError> {
        let Some((state, invalid)) = self.load_checked()? else {
            return Ok(None);
        };
        match invalid.into_iter().next() {
            Some((_, e)) => Err(e),
            None => Ok(Some(state)),
        }
    }

    /// The saved state, and the rollouts in it whose values are out of range (by flag
    /// name, with the error naming the field); those stay in the returned state as
    /// read, so that saving it again keeps them for inspection. Top-level values out of
    /// range are an error for the whole file. `None` if there is no file yet.
    pub fn load_checked(&self) -> Result<Option<CheckedState>, StateError> {
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
        let (state, invalid) = self.parse(&bytes)?;
        Ok(Some((state, invalid)))
    }

    /// Parses and checks state file content as [`load_checked`](Self::load_checked)
    /// does, without reading the file (for tests and fuzzing).
    #[doc(hidden)]
    pub fn parse(&self, bytes: &[u8]) -> Result<CheckedState, StateError> {
        let state: StateFile =
            serde_json::from_slice(bytes).map_err(|source| StateError::Corrupt {
                path: self.path.clone(),
                source,
            })?;
        if state.version != STATE_VERSION {
            return Err(StateError::Version {
                path: self.path.clone(),
                found: state.version,
                supported: STATE_VERSION,
            });
        }
        state
            .check_top()
            .map_err(|(field, why)| self.invalid(field, why))?;
        let invalid = state
            .rollouts
            .iter()
            .filter_map(|(key, r)| {
                r.check(key)
                    .err()
                    .map(|(field, why)| (key.clone(), self.invalid(field, why)))
            })
            .collect();
        Ok((state, invalid))
    }

    fn invalid(&self, field: String, why: String) -> StateError {
        StateError::Invalid {
            path: self.path.clone(),
            field,
            why,
        }
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
            source: Cause::Automatic,
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
            environment: None,
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

    /// `sample_state` as JSON with `edit` applied to its value.
    fn edited(edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
        let mut v = serde_json::to_value(sample_state()).unwrap();
        edit(&mut v);
        serde_json::to_vec(&v).unwrap()
    }

    fn invalid_field(store: &StateStore, bytes: &[u8]) -> String {
        fs::write(store.path(), bytes).unwrap();
        match store.load() {
            Err(StateError::Invalid { path, field, why }) => {
                assert_eq!(path, store.path());
                let text = store.load().unwrap_err().to_string();
                assert!(text.contains(&field) && text.contains(&why), "{text}");
                assert!(text.contains(&store.path().display().to_string()), "{text}");
                field
            }
            other => panic!("refused as invalid: {other:?}"),
        }
    }

    #[test]
    fn out_of_range_values_are_refused_with_the_field() {
        let dir = temp_dir("invalid");
        let store = StateStore::new(dir.join("state.json"));
        const R: &str = "/rollouts/search_v2";
        type Edit = Box<dyn FnOnce(&mut serde_json::Value)>;
        let cases: Vec<(Edit, &str)> = vec![
            (
                Box::new(|v| {
                    v.pointer_mut(&format!("{R}/position")).unwrap()["stage"] = u64::MAX.into()
                }),
                "rollouts.search_v2.position.stage",
            ),
            (
                Box::new(|v| v.pointer_mut(&format!("{R}/position")).unwrap()["stage"] = 3.into()),
                "rollouts.search_v2.position.stage",
            ),
            (
                Box::new(|v| {
                    v.pointer_mut(&format!("{R}/position")).unwrap()["percent"] = 200.into()
                }),
                "rollouts.search_v2.position.percent",
            ),
            (
                Box::new(|v| v.pointer_mut(R).unwrap()["stages"] = serde_json::json!([1, 150])),
                "rollouts.search_v2.stages[1]",
            ),
            (
                Box::new(|v| v.pointer_mut(R).unwrap()["stages"] = serde_json::json!([])),
                "rollouts.search_v2.stages",
            ),
            (
                Box::new(|v| v.pointer_mut(R).unwrap()["since"] = u64::MAX.into()),
                "rollouts.search_v2.since",
            ),
            (
                Box::new(|v| v.pointer_mut(R).unwrap()["flag"] = "other".into()),
                "rollouts.search_v2.flag",
            ),
            (
                Box::new(|v| {
                    v.pointer_mut(&format!("{R}/history/0")).unwrap()["revision"] = u64::MAX.into()
                }),
                "rollouts.search_v2.history[0].revision",
            ),
            (
                Box::new(|v| {
                    v.pointer_mut(&format!("{R}/history/0/to")).unwrap()["stage"] = u64::MAX.into()
                }),
                "rollouts.search_v2.history[0].to.stage",
            ),
            (Box::new(|v| v["revision"] = u64::MAX.into()), "revision"),
            (
                Box::new(|v| v["audit_head"] = serde_json::json!({"seq": u64::MAX, "hash": "00"})),
                "audit_head.seq",
            ),
        ];
        for (edit, field) in cases {
            assert_eq!(invalid_field(&store, &edited(edit)), field);
        }
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn load_checked_separates_bad_rollouts_from_a_bad_file() {
        let dir = temp_dir("checked");
        let store = StateStore::new(dir.join("state.json"));
        fs::write(
            store.path(),
            edited(|v| v["rollouts"]["search_v2"]["position"]["stage"] = u64::MAX.into()),
        )
        .unwrap();
        let (state, invalid) = store.load_checked().unwrap().unwrap();
        assert_eq!(invalid.len(), 1);
        assert_eq!(invalid[0].0, "search_v2");
        // Kept as read, and printable without overflow.
        let p = state.rollouts["search_v2"].position;
        assert_eq!(p.stage, usize::MAX);
        assert!(
            p.to_string()
                .starts_with("stage 18446744073709551615 at 5%"),
            "{p}"
        );
        fs::write(store.path(), edited(|v| v["revision"] = u64::MAX.into())).unwrap();
        assert!(matches!(
            store.load_checked(),
            Err(StateError::Invalid { ref field, .. }) if field == "revision"
        ));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_saved_state_passes_its_own_checks() {
        let dir = temp_dir("own");
        let store = StateStore::new(dir.join("state.json"));
        let mut s = sample_state();
        s.revision = MAX_REVISION;
        store.save(&s).unwrap();
        assert_eq!(store.load().unwrap(), Some(s));
        fs::remove_dir_all(dir).unwrap();
    }
}
