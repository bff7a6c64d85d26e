//! The admin audit log: every write through the admin API, with its actor, as one JSON
//! object per line in an append-only file whose path the operator sets
//! ([`AdminBuilder::audit_log`](crate::AdminBuilder::audit_log)).
//!
//! A line is an [`AuditRecord`], for instance:
//!
//! ```text
//! {"at":"2026-12-02T13:49:48.123Z","actor":"alice","action":"override","flag":"beta","value":"on","before":"off","reason":""}
//! ```
//!
//! Each record is written with one `write` and flushed to disk (`fsync`) *before* the
//! change is applied, and the change is not applied when the record cannot be
//! written: the log never misses a change that took effect (it may, after a crash at
//! the wrong instant, hold a record of one that did not). Rollout commands are
//! recorded after the controller accepted them (it validates the transition), and the
//! controller also writes them to its own hash-chained log
//! ([`flags_rollout::AuditLog`]).
//!
//! Why a file of its own rather than flags-rollout's audit log: that log's entries
//! are rollout transitions (stage, percent and status before and after), validated
//! as such when it is read back; an override or a kill switch has none of those, and
//! forcing them in would make its entries lie.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use flags_runtime::manifest::UtcMillis;
use serde::{Deserialize, Serialize};

/// One write through the admin API, as a line of the audit log.
///
/// ```
/// use flags_admin::AuditRecord;
///
/// let line = r#"{"at":"2026-12-02T13:49:48.123Z","actor":"alice","action":"kill","flag":"beta","value":"off","before":"on","reason":"errors"}"#;
/// let record: AuditRecord = serde_json::from_str(line)?;
/// assert_eq!((record.actor.as_str(), record.action.as_str()), ("alice", "kill"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// When, in UTC, to the millisecond (`2026-12-02T13:49:48.123Z`).
    pub at: String,
    /// Who: the actor of the token that authorised it.
    pub actor: String,
    /// What: `override`, `clear_override`, `kill`, `pause`, `resume` or `rollback`.
    pub action: String,
    /// The flag.
    pub flag: String,
    /// The value forced (`on`, `off`, a variant), for overrides and kills.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The value in force before, when it was the same for everyone; the rollout's
    /// position before, for rollout commands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// Why, as the request said (empty when it did not).
    #[serde(default)]
    pub reason: String,
}

impl AuditRecord {
    pub(crate) fn now(actor: &str, action: &str, flag: &str, reason: &str) -> AuditRecord {
        AuditRecord {
            at: UtcMillis::from_system_time(SystemTime::now())
                .map(|t| t.to_string())
                .unwrap_or_default(),
            actor: actor.to_owned(),
            action: action.to_owned(),
            flag: flag.to_owned(),
            value: None,
            before: None,
            reason: reason.to_owned(),
        }
    }
}

/// The open log file.
pub(crate) struct AuditFile {
    path: PathBuf,
    file: Mutex<File>,
}

impl AuditFile {
    pub(crate) fn open(path: &Path) -> io::Result<AuditFile> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(AuditFile {
            path: path.to_owned(),
            file: Mutex::new(file),
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `record` as one line and flushes it to disk.
    pub(crate) fn append(&self, record: &AuditRecord) -> io::Result<()> {
        let mut line = serde_json::to_vec(record).map_err(io::Error::other)?;
        line.push(b'\n');
        // A write that fails part-way is cut back off, so no torn line is left for the
        // next record to follow; a poisoned lock is usable for the same reason.
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        let end = file.metadata()?.len();
        if let Err(e) = file.write_all(&line).and_then(|()| file.sync_data()) {
            let _ = file.set_len(end);
            return Err(e);
        }
        Ok(())
    }
}
