//! Why a matrix run could not start or could not write its report. A run whose command
//! fails for some combination is not an error: that is a [`RunReport`](super::RunReport)
//! that is not a success.

use std::io;
use std::path::PathBuf;

use flags_manifest::ManifestError;
use thiserror::Error;

use crate::cover::CoverError;

/// Why a matrix run could not start, or could not write its JUnit report.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RunError {
    /// The manifest could not be read or is invalid.
    #[error("{0}")]
    Manifest(#[source] ManifestError),
    /// A user rule names a flag that is not varied or a value it does not have.
    #[error(
        "rule `{rule}`: `{side}` is not a value of a varied flag (write flag=value with a selected flag, e.g. search_v2=on)"
    )]
    BadRule {
        /// The rule as written.
        rule: String,
        /// The side that does not resolve.
        side: String,
    },
    /// A static flag cannot vary inside one test binary: it is a constant.
    #[error(
        "flag `{flag}` is static, so it cannot vary inside one test process (help: vary it with `cargo flags matrix`, which rebuilds per value)"
    )]
    StaticInProcess {
        /// The flag.
        flag: String,
    },
    /// The runtime refused a combination's value.
    #[error("cannot set `{flag}`: {message}")]
    Override {
        /// The flag.
        flag: String,
        /// The runtime's reason.
        message: String,
    },
    /// The registry has no manifest to plan from.
    #[error("the registry's embedded manifest {manifest} did not load")]
    NoManifest {
        /// The manifest's name.
        manifest: String,
    },
    /// No command was given.
    #[error("no command to run; give the test command, e.g. `cargo test`")]
    EmptyCommand,
    /// A flag named in the selection is not declared in the manifest.
    #[error("flag `{name}` is not declared in {manifest}{}", suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    UnknownFlag {
        /// The name given.
        name: String,
        /// The manifest searched.
        manifest: String,
        /// The closest declared name, if one is close.
        suggestion: Option<String>,
    },
    /// The selection contains no flag, so there is nothing to vary.
    #[error(
        "no flags to vary: {manifest} declares no {what}; name the flags to vary, or include static flags"
    )]
    NoFlags {
        /// The manifest.
        manifest: String,
        /// What was looked for ("dynamic flags", "flags").
        what: &'static str,
    },
    /// A pinned state file could not be read.
    #[error("cannot read the state file {}: {source}", path.display())]
    StateFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// A pinned state file does not fit the manifest.
    #[error("{0}")]
    StateFileInvalid(#[source] ManifestError),
    /// No set of combinations fits the request.
    #[error("cannot choose the combinations: {0}")]
    Plan(#[from] CoverError),
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
