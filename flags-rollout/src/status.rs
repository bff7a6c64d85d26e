//! Where a rollout is in its life: plain data, with no dependency inside the crate, so
//! that the state file, the audit log and the errors share it without importing each
//! other.

use std::fmt;

use serde::{Deserialize, Serialize};

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
