//! `cargo flags matrix`: the whole-suite runner (`flags-runner`) on the command line. It runs
//! a test command once per flag combination (dynamic flags through `FLAGS_<NAME>`,
//! static ones through `FLAGS_STATIC_<NAME>`, which rebuilds), prints a table, writes
//! JUnit if asked, and exits 0 only when every combination passed.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use flags_runner::{self as runner, FlagSelection, Mode, Partition, Pin, Rule, RunOptions};

use crate::args::Globals;
use crate::outcome::Failure;
use crate::workspace;

/// Exit codes of `matrix`, shown in its help.
pub const MATRIX_EXIT_CODES: &str = "Exit codes: 0 every combination passed; 1 some combination failed; \
2 the run could not start (bad manifest, unknown flag, bad option); 130 interrupted (Ctrl-C).";

/// Arguments of `cargo flags matrix`.
#[derive(Debug, Args)]
pub struct MatrixArgs {
    /// Flags to vary, by name (repeat or comma-separate); default: every dynamic flag.
    #[arg(long = "flag", value_delimiter = ',')]
    pub flags: Vec<String>,
    /// Vary static (compile-time) flags too; each of their combinations rebuilds.
    #[arg(long, conflicts_with = "flags")]
    pub all: bool,
    /// exhaustive | pairwise | N-wise (e.g. 3-wise) | random:N | random:N:SEED.
    #[arg(long, default_value = "pairwise")]
    pub mode: Mode,
    /// Combinations always run: defaults, all-on, all-off, state:PATH (default: the
    /// first three).
    #[arg(long = "pin", value_delimiter = ',')]
    pub pins: Vec<Pin>,
    /// Run no pinned combination.
    #[arg(long, conflicts_with = "pins")]
    pub no_pins: bool,
    /// A constraint of your own: `a=on -> b=compact` or `a=on !& b=off` (repeatable).
    #[arg(long = "rule")]
    pub rules: Vec<Rule>,
    /// Combinations run at the same time (0: one per CPU).
    #[arg(long, short = 'j', default_value_t = 1)]
    pub jobs: usize,
    /// This machine's share, M/N (1-based), for splitting a run across CI machines.
    #[arg(long)]
    pub partition: Option<Partition>,
    /// Write a JUnit XML report here.
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Stop starting combinations after the first failure.
    #[arg(long)]
    pub fail_fast: bool,
    /// The most combinations `exhaustive` may produce.
    #[arg(long, default_value_t = 1024)]
    pub max_combinations: usize,
    /// Where each combination's output is logged.
    #[arg(long)]
    pub log_dir: Option<PathBuf>,
    /// Print the combinations and run nothing.
    #[arg(long)]
    pub list: bool,
    /// The test command, after `--` (default: `cargo test`).
    #[arg(last = true)]
    pub command: Vec<OsString>,
}

/// Runs the matrix and returns the process exit code.
pub fn run(globals: &Globals, args: &MatrixArgs) -> Result<ExitCode, Failure> {
    let file = workspace::locate(globals.manifest.as_deref())?;
    let command = if args.command.is_empty() {
        vec![OsString::from("cargo"), OsString::from("test")]
    } else {
        args.command.clone()
    };
    let mut opts = RunOptions::new(&file.path, command);
    opts.plan.flags = if args.all {
        FlagSelection::All
    } else if args.flags.is_empty() {
        FlagSelection::Dynamic
    } else {
        FlagSelection::Named(args.flags.clone())
    };
    opts.plan.mode = args.mode;
    if args.no_pins {
        opts.plan.pins.clear();
    } else if !args.pins.is_empty() {
        opts.plan.pins = args.pins.clone();
    }
    opts.plan.rules = args.rules.clone();
    opts.jobs = args.jobs;
    opts.partition = args.partition;
    opts.junit = args.junit.clone();
    opts.fail_fast = args.fail_fast;
    opts.plan.max_combinations = args.max_combinations;
    opts.log_dir = args.log_dir.clone();

    if args.list {
        let matrix = runner::plan(&opts).map_err(|e| Failure::msg(e.to_string()))?;
        println!(
            "{}: {} combinations",
            matrix.description,
            matrix.combinations.len()
        );
        for w in &matrix.warnings {
            println!("warning: {w}");
        }
        for c in runner::shard(&matrix, opts.partition) {
            println!("{:>4}  {}", c.index + 1, c.label);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let report = runner::run(&opts).map_err(|e| Failure::msg(e.to_string()))?;
    Ok(ExitCode::from(
        u8::try_from(report.exit_code()).unwrap_or(1),
    ))
}
