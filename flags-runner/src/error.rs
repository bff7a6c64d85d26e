//! Why a matrix run could not start or could not write its report. A run whose command
//! fails for some combination is not an error: that is a [`RunReport`](crate::RunReport)
//! that is not a success.

use std::io;
use std::path::PathBuf;

use flags_test::plan::PlanError;
use thiserror::Error;

/// Why a matrix run could not start, or could not write its JUnit report.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RunError {
    /// No plan of combinations could be made: the manifest, the flags, a rule, a pin.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// No command was given.
    #[error("no command to run; give the test command, e.g. `cargo test`")]
    EmptyCommand,
    /// A random partitioned run without a seed: the shards would draw different
    /// combinations.
    #[error(
        "a partitioned random run needs an explicit seed, so that every shard draws the same combinations; use random:{count}:SEED"
    )]
    SeedRequired {
        /// The number of combinations asked for.
        count: usize,
    },
    /// The log directory could not be created.
    #[error("cannot create the log directory {}: {source}", path.display())]
    LogDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The JUnit report could not be written.
    #[error("cannot write the JUnit report {}: {source}", path.display())]
    Junit {
        /// The report's path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The Ctrl-C handler could not be installed.
    #[error("cannot install the Ctrl-C handler: {0}")]
    Signals(#[source] io::Error),
}
