//! The argument types several subcommands share: the global options and where to scan.
//! A leaf module, so that the subcommands use them without importing the command line
//! that dispatches to them.

use std::path::PathBuf;

use clap::Args;
use flags_manifest::Date;

/// Arguments shared by the commands that scan Rust sources.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Directory to scan for `.rs` files. Default: the manifest's directory. Skipped:
    /// `target/`, hidden directories, and directories holding their own flags.toml.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Another name the generated module goes by (as in `flags!(mod NAME = ...)`);
    /// `flags` and names found in `flags!` invocations are always known.
    #[arg(long = "module", value_name = "NAME")]
    pub modules: Vec<String>,
    /// A directory or file under the root not to scan (repeatable), such as
    /// compile-fail tests that refer to missing flags on purpose.
    #[arg(long = "exclude", value_name = "PATH")]
    pub excludes: Vec<PathBuf>,
    /// Threads to scan with. Default: one per core.
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
}

/// The options every subcommand shares.
#[derive(Clone, Debug)]
pub struct Globals {
    /// `--manifest`, if given.
    pub manifest: Option<PathBuf>,
    /// `--today`, if given.
    pub today: Option<Date>,
}
