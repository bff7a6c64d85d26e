//! What a run found: the outcome of every combination of this shard, and the table and
//! summary printed at the end.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use flags_test::plan::Combination;

use crate::options::Partition;

/// The exit code for an interrupted run, as shells use for SIGINT (128 + 2).
pub const EXIT_INTERRUPTED: i32 = 130;

/// How one combination ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The command exited with status 0.
    Passed,
    /// The command exited with another status, or was killed by a signal it was not sent
    /// by the runner.
    Failed {
        /// The exit code, when it exited.
        code: Option<i32>,
        /// The signal that killed it, when one did.
        signal: Option<i32>,
    },
    /// The command could not be started (or its log could not be written).
    Error {
        /// What went wrong.
        message: String,
    },
    /// The command ran, but the program did not see the combination: the runtime
    /// reported values it could not realise (a `requires` not met, an `excludes` met).
    /// Whatever the command's exit status, this combination was not tested.
    NotRealisable {
        /// What was not realised, one line each, as the runtime wrote it.
        unrealised: Vec<String>,
    },
    /// It was running when the run was interrupted, and was stopped.
    Stopped,
    /// It never started.
    NotRun {
        /// Why not.
        reason: NotRunReason,
    },
}

/// Why a combination never started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotRunReason {
    /// The run was interrupted first.
    Interrupted,
    /// An earlier combination failed and fail-fast was on.
    FailFast,
}

impl Outcome {
    /// `PASS`, `FAIL`, `ERROR`, `UNREALISABLE`, `STOPPED` or `NOT RUN`.
    ///
    /// ```
    /// use flags_runner::Outcome;
    /// assert_eq!(Outcome::Failed { code: Some(1), signal: None }.status(), "FAIL");
    /// ```
    pub fn status(&self) -> &'static str {
        match self {
            Outcome::Passed => "PASS",
            Outcome::Failed { .. } => "FAIL",
            Outcome::Error { .. } => "ERROR",
            Outcome::NotRealisable { .. } => "UNREALISABLE",
            Outcome::Stopped => "STOPPED",
            Outcome::NotRun { .. } => "NOT RUN",
        }
    }

    /// Whether the command ran and passed.
    pub fn is_pass(&self) -> bool {
        matches!(self, Outcome::Passed)
    }

    /// Whether the combination failed, could not be started, or was not the
    /// combination in force.
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            Outcome::Failed { .. } | Outcome::Error { .. } | Outcome::NotRealisable { .. }
        )
    }

    /// Whether the combination did not run to the end (stopped or never started).
    pub fn is_skipped(&self) -> bool {
        matches!(self, Outcome::Stopped | Outcome::NotRun { .. })
    }

    /// The exit column of the table: the code, the signal, or `-`.
    pub fn exit(&self) -> String {
        match self {
            Outcome::Passed => "0".to_owned(),
            Outcome::Failed {
                code: Some(code), ..
            } => code.to_string(),
            Outcome::Failed {
                code: None,
                signal: Some(signal),
            } => format!("sig {signal}"),
            _ => "-".to_owned(),
        }
    }

    /// A sentence for reports, e.g. `exit code 1`.
    pub fn describe(&self) -> String {
        match self {
            Outcome::Passed => "passed".to_owned(),
            Outcome::Failed {
                code: Some(code), ..
            } => format!("exit code {code}"),
            Outcome::Failed {
                signal: Some(signal),
                ..
            } => format!("killed by signal {signal}"),
            Outcome::Failed { .. } => "failed".to_owned(),
            Outcome::Error { message } => message.clone(),
            Outcome::NotRealisable { unrealised } => {
                format!("not realisable: {}", unrealised.join("; "))
            }
            Outcome::Stopped => "stopped by an interrupt while running".to_owned(),
            Outcome::NotRun {
                reason: NotRunReason::Interrupted,
            } => "not run: the run was interrupted".to_owned(),
            Outcome::NotRun {
                reason: NotRunReason::FailFast,
            } => "not run: an earlier combination failed (fail-fast)".to_owned(),
        }
    }
}

/// One combination's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CombinationResult {
    /// The combination.
    pub combination: Combination,
    /// How it ended.
    pub outcome: Outcome,
    /// How long the command ran (zero if it did not).
    pub duration: Duration,
    /// Its log: the command's stdout and stderr (`None` if it did not run).
    pub log: Option<PathBuf>,
}

/// What a run found. [`RunReport::exit_code`] is what the CLI exits with.
///
/// Its `Display` is the table and summary the run prints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunReport {
    /// Every combination of this shard, in plan order.
    pub results: Vec<CombinationResult>,
    /// The number of combinations in the whole plan (all shards).
    pub total: usize,
    /// The shard this run took.
    pub partition: Option<Partition>,
    /// How the combinations were chosen, e.g. `pairwise over 5 flags`.
    pub description: String,
    /// The seed of a random run; repeat the run with it to get the same combinations.
    pub seed: Option<u64>,
    /// Whether the run was interrupted.
    pub interrupted: bool,
    /// How many combinations ran at a time.
    pub jobs: usize,
    /// Where the logs are.
    pub log_dir: PathBuf,
    /// Where the JUnit report was written.
    pub junit: Option<PathBuf>,
    /// Things the user should know (pins left out, and the like).
    pub warnings: Vec<flags_test::plan::PlanWarning>,
    /// Wall-clock time of the run.
    pub elapsed: Duration,
}

impl RunReport {
    /// Whether every combination ran and passed (an empty shard passes).
    pub fn success(&self) -> bool {
        !self.interrupted && self.results.iter().all(|r| r.outcome.is_pass())
    }

    /// 0 on success, [`EXIT_INTERRUPTED`] (130) when interrupted, else 1.
    pub fn exit_code(&self) -> i32 {
        if self.interrupted {
            EXIT_INTERRUPTED
        } else if self.success() {
            0
        } else {
            1
        }
    }

    /// The combinations that failed or could not be started.
    pub fn failures(&self) -> impl Iterator<Item = &CombinationResult> {
        self.results.iter().filter(|r| r.outcome.is_failure())
    }

    /// The result of the combination labelled `label`.
    pub fn result(&self, label: &str) -> Option<&CombinationResult> {
        self.results.iter().find(|r| r.combination.label == label)
    }

    /// How many results have `status` ([`Outcome::status`]).
    pub fn count(&self, status: &str) -> usize {
        self.results
            .iter()
            .filter(|r| r.outcome.status() == status)
            .count()
    }

    /// The table: one line per combination with its number in the plan, result,
    /// duration, exit code and label (and the pins it stands for).
    pub fn table(&self) -> String {
        let mut out = String::new();
        let width = self.total.max(1).to_string().len().max(1);
        out.push_str(&format!(
            "{:>width$}  {:<7}  {:>8}  {:>6}  COMBINATION\n",
            "#", "RESULT", "TIME", "EXIT"
        ));
        for r in &self.results {
            let time = if r.log.is_some() {
                format_duration(r.duration)
            } else {
                "-".to_owned()
            };
            out.push_str(&format!(
                "{:>width$}  {:<7}  {:>8}  {:>6}  {}",
                r.combination.index + 1,
                r.outcome.status(),
                time,
                r.outcome.exit(),
                r.combination.label
            ));
            if !r.combination.pinned_as.is_empty() {
                out.push_str(&format!("  [{}]", r.combination.pinned_as.join(", ")));
            }
            out.push('\n');
        }
        out
    }

    /// The closing summary: counts, shard, failing combinations with their logs.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let n = self.results.len();
        let mut counts = Vec::new();
        for (status, word) in [
            ("PASS", "passed"),
            ("FAIL", "failed"),
            ("ERROR", "could not start"),
            ("UNREALISABLE", "not realisable"),
            ("STOPPED", "stopped"),
            ("NOT RUN", "not run"),
        ] {
            let c = self.count(status);
            if c > 0 || status == "PASS" {
                counts.push(format!("{c} {word}"));
            }
        }
        let shard = match self.partition {
            Some(p) => format!("; shard {p} of {} combinations", self.total),
            None => String::new(),
        };
        out.push_str(&format!(
            "{n} combination{} ({}{shard}): {} in {}\n",
            if n == 1 { "" } else { "s" },
            self.description,
            counts.join(", "),
            format_duration(self.elapsed)
        ));
        let failures: Vec<_> = self.failures().collect();
        if !failures.is_empty() {
            out.push_str("failing combinations:\n");
            for r in failures {
                out.push_str(&format!(
                    "    {}  ({})",
                    r.combination.label,
                    r.outcome.describe()
                ));
                if let Some(log) = &r.log {
                    out.push_str(&format!("  log: {}", log.display()));
                }
                out.push('\n');
            }
        }
        if let Some(seed) = self.seed {
            out.push_str(&format!(
                "random seed: {seed} (give it again to rerun the same combinations)\n"
            ));
        }
        if self.interrupted {
            out.push_str("interrupted: combinations marked STOPPED or NOT RUN have no verdict\n");
        }
        out
    }
}

impl fmt::Display for RunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.table())?;
        f.write_str(&self.summary())
    }
}

/// `0.42s`, `12.30s`, `3m05s`.
pub(crate) fn format_duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        format!("{secs:.2}s")
    } else {
        let whole = d.as_secs();
        format!("{}m{:02}s", whole / 60, whole % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(format_duration(Duration::from_millis(420)), "0.42s");
        assert_eq!(format_duration(Duration::from_secs(185)), "3m05s");
    }

    #[test]
    fn exit_column() {
        let killed = Outcome::Failed {
            code: None,
            signal: Some(9),
        };
        assert_eq!(killed.exit(), "sig 9");
        assert_eq!(killed.describe(), "killed by signal 9");
        assert_eq!(Outcome::Stopped.exit(), "-");
    }
}
