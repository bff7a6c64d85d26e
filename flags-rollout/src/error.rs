//! Errors of the state file, the audit log and the controller, each saying what went
//! wrong, where, and what to do about it.

use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::status::Status;

/// The state file could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// Reading, writing, syncing or renaming failed.
    #[error("rollout state {}: {source}", path.display())]
    Io {
        /// The state file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The file is not a valid state file. Saves are atomic, so this is not a torn
    /// write: something else wrote the file.
    #[error(
        "rollout state {} is not valid JSON state ({source}); move it aside to start over, \
         the audit log still has the history",
        path.display()
    )]
    Corrupt {
        /// The state file.
        path: PathBuf,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// A value in the file is out of range: no controller wrote it.
    #[error(
        "rollout state {}: `{field}` {why}; correct the value, or roll the flag back to reset \
         its rollout (`cargo flags rollout rollback FLAG`; the audit log keeps the history)",
        path.display()
    )]
    Invalid {
        /// The state file.
        path: PathBuf,
        /// The value's path in the file, such as `rollouts.search_v2.position.stage`.
        field: String,
        /// What is wrong with it.
        why: String,
    },
    /// The file was written by a newer format.
    #[error(
        "rollout state {} has format version {found}, this build reads version {}; upgrade flags-rollout",
        path.display(),
        supported
    )]
    Version {
        /// The state file.
        path: PathBuf,
        /// The version this build reads.
        supported: u32,
        /// The version found.
        found: u32,
    },
}

/// The audit log could not be opened, read or appended to.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// An I/O operation failed.
    #[error("audit log {}: {source}", path.display())]
    Io {
        /// The log file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A complete line fails verification: the log was altered or damaged, so it is not
    /// extended (a torn last line from a crash is repaired instead).
    #[error(
        "audit log {}:{line}: {problem}; inspect it with `cargo flags audit --verify`, \
         keep it as evidence and start a new log",
        path.display()
    )]
    Broken {
        /// The log file.
        path: PathBuf,
        /// The first bad line, 1-based.
        line: u64,
        /// What is wrong with it.
        problem: Problem,
    },
    /// An earlier append failed half way and the partial line could not be removed.
    #[error(
        "audit log {}: an earlier write failed and left a partial line that could not be \
         removed; reopen the log to repair it",
        path.display()
    )]
    NeedsRepair {
        /// The log file.
        path: PathBuf,
    },
}

/// A controller operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RolloutError {
    /// No rollout is registered for the flag.
    #[error("no rollout is registered for flag `{flag}`; register it with its plan first")]
    UnknownFlag {
        /// The flag asked for.
        flag: String,
    },
    /// The flag's plan cannot drive a rollout.
    #[error("flag `{flag}`: invalid rollout plan: {why}")]
    InvalidPlan {
        /// The flag.
        flag: String,
        /// What is wrong.
        why: String,
    },
    /// The operation does not apply in the rollout's current status.
    #[error("flag `{flag}`: cannot {action} a rollout that is {status}{hint}")]
    InvalidTransition {
        /// The flag.
        flag: String,
        /// What was asked: `advance`, `pause`, `resume`, `roll back`.
        action: &'static str,
        /// The current status.
        status: Status,
        /// A hint on what to do instead (starts with "; " when present).
        hint: &'static str,
    },
    /// The flag's saved state is invalid, so the controller holds it.
    #[error("flag `{flag}`: the rollout is held because its saved state is invalid: {problem}")]
    Held {
        /// The flag.
        flag: String,
        /// The validation error, naming the file and the field.
        problem: String,
    },
    /// The metrics source could not answer.
    #[error("flag `{flag}`: {source}")]
    Metrics {
        /// The flag.
        flag: String,
        /// What failed.
        source: crate::source::MetricsError,
    },
    /// The state file belongs to another environment.
    #[error(
        "rollout state {} is for environment `{found}`, not `{wanted}`; give each environment its own state file",
        path.display()
    )]
    Environment {
        /// The state file.
        path: std::path::PathBuf,
        /// The environment recorded in it.
        found: String,
        /// The controller's environment.
        wanted: String,
    },
    /// The inter-process lock on the state file could not be taken.
    #[error("cannot lock {}: {source}", path.display())]
    Lock {
        /// The lock file.
        path: std::path::PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The state file failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// The audit log failed.
    #[error(transparent)]
    Audit(#[from] AuditError),
}

/// Why a line fails verification.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// The line is empty.
    EmptyLine,
    /// The line is not UTF-8.
    NotUtf8,
    /// The line does not end with a well-formed `"hash":"<64 hex digits>"}`.
    MissingHash,
    /// The stored hash is not the hash of the line's content: the content was changed.
    HashMismatch {
        /// The hash written in the line.
        stored: String,
        /// The hash of the line as it is.
        computed: String,
    },
    /// The line is not a valid entry.
    NotAnEntry(String),
    /// `seq` is not the next number: lines were removed, duplicated or reordered.
    SequenceGap {
        /// The number expected.
        expected: u64,
        /// The number found.
        found: u64,
    },
    /// `prev` is not the previous line's hash: the line before was removed, replaced
    /// or reordered.
    ChainBroken {
        /// The previous line's hash.
        expected: String,
        /// The `prev` found.
        found: String,
    },
    /// The log ends before the anchored entry: lines were removed from its end.
    Truncated {
        /// The anchored entry.
        anchor_seq: u64,
        /// Entries present.
        entries: u64,
    },
    /// A value is out of range: no controller wrote it.
    OutOfRange {
        /// The field, such as `to.percent`.
        field: String,
        /// What is wrong with it.
        why: String,
    },
    /// The anchored entry has a different hash: the log was rewritten.
    AnchorMismatch {
        /// The anchored hash.
        expected: String,
        /// The hash found at that entry.
        found: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::EmptyLine => f.write_str("empty line"),
            Problem::NotUtf8 => f.write_str("not UTF-8"),
            Problem::MissingHash => {
                f.write_str("the line does not end with \"hash\":\"<64 lowercase hex digits>\"}")
            }
            Problem::HashMismatch { stored, computed } => write!(
                f,
                "content changed: stored hash {stored} but the line hashes to {computed}"
            ),
            Problem::NotAnEntry(why) => write!(f, "not an audit entry: {why}"),
            Problem::SequenceGap { expected, found } => write!(
                f,
                "entry number {found} where {expected} was expected: lines were removed, duplicated or reordered"
            ),
            Problem::ChainBroken { expected, found } => write!(
                f,
                "chain broken: prev is {found} but the previous line's hash is {expected}: the line before was removed or replaced"
            ),
            Problem::OutOfRange { field, why } => write!(f, "`{field}` {why}"),
            Problem::Truncated {
                anchor_seq,
                entries,
            } => write!(
                f,
                "the log has {entries} entries but entry {anchor_seq} was recorded: lines were removed from its end"
            ),
            Problem::AnchorMismatch { expected, found } => write!(
                f,
                "the recorded hash of this entry is {expected} but the log has {found}: the log was rewritten"
            ),
        }
    }
}
