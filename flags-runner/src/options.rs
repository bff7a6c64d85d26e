//! What a run is asked to do besides the plan of combinations: the command, how many
//! run at once, which shard this machine takes, and where logs and reports go.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use flags_test::plan::{ParseOptionError, PlanOptions};

/// Everything [`run`](crate::run) needs. Build it with [`RunOptions::new`] and change
/// the fields that differ from the defaults.
///
/// ```
/// use flags_runner::{FlagSelection, Mode, Partition, RunOptions};
///
/// let mut opts = RunOptions::new("flags.toml", ["cargo", "test", "--workspace"]);
/// opts.plan.flags = FlagSelection::Named(vec!["search_v2".into(), "checkout_layout".into()]);
/// opts.plan.mode = "3-wise".parse()?;
/// opts.partition = Some("2/4".parse()?);
/// opts.jobs = 2;
/// assert_eq!(opts.plan.mode, Mode::TWise(3));
/// assert_eq!(opts.partition, Some(Partition::new(2, 4)?));
/// # Ok::<(), flags_runner::ParseOptionError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunOptions {
    /// The manifest (`flags.toml`) declaring the flags.
    pub manifest: PathBuf,
    /// Which combinations to run: the flags that vary, the mode, the pins, the rules.
    pub plan: PlanOptions,
    /// How many combinations run at the same time; 0 means one per available CPU.
    pub jobs: usize,
    /// The share of the combinations this machine runs; `None` runs them all.
    pub partition: Option<Partition>,
    /// Where to write a JUnit XML report, if anywhere.
    pub junit: Option<PathBuf>,
    /// Stop starting new combinations after the first failure. Off by default: a CI run
    /// is most useful when it reports every failing combination at once.
    pub fail_fast: bool,
    /// The command run once per combination: program and arguments.
    pub command: Vec<OsString>,
    /// The directory the command runs in; `None` is the current directory.
    pub work_dir: Option<PathBuf>,
    /// Where each combination's output is logged; `None` is `flags-matrix/logs` in the
    /// cargo target directory (`$CARGO_TARGET_DIR`, else `target` in the working
    /// directory).
    pub log_dir: Option<PathBuf>,
}

impl RunOptions {
    /// Options with the defaults: the [default plan](PlanOptions::new) (every dynamic
    /// flag, pairwise, the standard pins), one job, no partition, no JUnit report, no
    /// fail-fast, the current directory.
    pub fn new<I, S>(manifest: impl Into<PathBuf>, command: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        RunOptions {
            manifest: manifest.into(),
            plan: PlanOptions::new(),
            jobs: 1,
            partition: None,
            junit: None,
            fail_fast: false,
            command: command.into_iter().map(Into::into).collect(),
            work_dir: None,
            log_dir: None,
        }
    }
}

/// Shard `index` of `count` (1-based): the combinations whose position in the plan
/// (0-based) is `index - 1` modulo `count`. Every combination falls in exactly one shard,
/// and dealing them round-robin spreads the pinned combinations over the first shards.
///
/// ```
/// use flags_runner::Partition;
///
/// let p: Partition = "2/3".parse()?;
/// assert_eq!((p.index(), p.count()), (2, 3));
/// let mine: Vec<usize> = (0..8).filter(|&i| p.contains(i)).collect();
/// assert_eq!(mine, [1, 4, 7]);
/// assert!("0/3".parse::<Partition>().is_err());
/// assert!("4/3".parse::<Partition>().is_err());
/// # Ok::<(), flags_runner::ParseOptionError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Partition {
    index: usize,
    count: usize,
}

impl Partition {
    /// Shard `index` of `count`; `1 <= index <= count` or an error.
    pub fn new(index: usize, count: usize) -> Result<Self, ParseOptionError> {
        if count == 0 || index == 0 || index > count {
            return Err(ParseOptionError::new(
                "partition",
                &format!("{index}/{count}"),
                "use M/N with 1 <= M <= N, e.g. 1/4",
            ));
        }
        Ok(Partition { index, count })
    }

    /// The shard's number, from 1.
    pub fn index(self) -> usize {
        self.index
    }

    /// How many shards there are.
    pub fn count(self) -> usize {
        self.count
    }

    /// Whether the combination at `position` (0-based, in plan order) is in this shard.
    pub fn contains(self, position: usize) -> bool {
        position % self.count == self.index - 1
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Partition {
    type Err = ParseOptionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || ParseOptionError::new("partition", text, "use M/N, e.g. 1/4");
        let (m, n) = text.trim().split_once('/').ok_or_else(bad)?;
        let m = m.trim().parse::<usize>().map_err(|_| bad())?;
        let n = n.trim().parse::<usize>().map_err(|_| bad())?;
        Partition::new(m, n).map_err(|_| {
            ParseOptionError::new("partition", text, "use M/N with 1 <= M <= N, e.g. 1/4")
        })
    }
}
