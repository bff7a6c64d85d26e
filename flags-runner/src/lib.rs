//! The whole-suite runner for CI, behind `cargo flags matrix`: runs a test command once
//! per flag combination and reports which combinations break it.
//!
//! A run reads the manifest, chooses the combinations of the selected flags ([`plan`],
//! through `flags-test`'s planner, as the in-process matrix does: exhaustive, pairwise,
//! t-wise or random, with the manifest's `requires`/`excludes` as constraints and pinned
//! combinations first), takes this machine's shard of them ([`Partition`]), and runs the
//! command for each, `jobs` at a time. The command gets every flag of the combination in
//! the variable the flag is read from ([`env_var`]: `FLAGS_<NAME>` for the runtime,
//! `FLAGS_STATIC_<NAME>` for the `flags!` macro at build time) and the combination's
//! label in `FLAGS_COMBINATION` ([`COMBINATION_VAR`]). Its output goes to a log per
//! combination. The runtime checks that each value it was given is in force and writes
//! those it could not realise to the file named in `FLAGS_MATRIX_REPORT`
//! ([`REPORT_VAR`]); such a combination is reported as not realisable, never as passed.
//! The run prints a table of results, can write a JUnit report, and stops cleanly on
//! Ctrl-C ([`Interrupt`]).
//!
//! ```no_run
//! use flags_runner::{self as runner, Mode, RunOptions};
//!
//! let mut opts = RunOptions::new("flags.toml", ["cargo", "test", "--workspace"]);
//! opts.plan.mode = Mode::Pairwise;
//! opts.jobs = 2;
//! opts.junit = Some("target/flags-matrix/junit.xml".into());
//! let report = runner::run(&opts)?;
//! std::process::exit(report.exit_code());
//! # Ok::<(), runner::RunError>(())
//! ```

mod error;
mod exec;
mod interrupt;
mod junit;
mod options;
mod report;

use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Instant;

pub use error::RunError;
pub use flags_test::plan::{
    Combination, FlagSelection, FlagValue, Matrix, Mode, ParseOptionError, Pin, PlanError,
    PlanOptions, Rule, env_var,
};
pub use interrupt::Interrupt;
pub use junit::{junit_xml, write_junit, xml_escape};
pub use options::{Partition, RunOptions};
pub use report::{CombinationResult, EXIT_INTERRUPTED, NotRunReason, Outcome, RunReport};

/// The variable a combination's label is passed in.
pub const COMBINATION_VAR: &str = "FLAGS_COMBINATION";

/// The variable naming the file where the runtime writes the values of a combination it
/// could not realise (a `requires` not met, an `excludes` met). The runner sets it per
/// combination and reports a combination with such values as not realisable.
pub const REPORT_VAR: &str = "FLAGS_MATRIX_REPORT";

/// Chooses the combinations `opts` asks for, without running anything (what [`run`]
/// will run, for a dry run or a listing).
///
/// ```no_run
/// use flags_runner::{plan, RunOptions};
///
/// let matrix = plan(&RunOptions::new("flags.toml", ["cargo", "test"]))?;
/// for c in &matrix.combinations {
///     println!("{:>3}  {}", c.index + 1, c.label);
/// }
/// # Ok::<(), flags_runner::RunError>(())
/// ```
pub fn plan(opts: &RunOptions) -> Result<Matrix, RunError> {
    if let (Mode::Random { count, seed: None }, Some(_)) = (opts.plan.mode, opts.partition) {
        return Err(RunError::SeedRequired { count });
    }
    let manifest = flags_manifest::parse_file(&opts.manifest).map_err(PlanError::Manifest)?;
    let file = opts.manifest.display().to_string();
    let constraints = flags_test::cover::Constraints::new();
    Ok(flags_test::plan::plan_manifest(
        &manifest,
        &file,
        &opts.plan,
        &constraints,
    )?)
}

/// The combinations of `matrix` in `partition` (all of them for `None`), in plan order.
pub fn shard(matrix: &Matrix, partition: Option<Partition>) -> Vec<&Combination> {
    matrix
        .combinations
        .iter()
        .filter(|c| partition.is_none_or(|p| p.contains(c.index)))
        .collect()
}

/// The variables the command gets for `combination`: one per flag, then
/// [`COMBINATION_VAR`].
pub fn combination_env(combination: &Combination) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = combination
        .values
        .iter()
        .map(|v| (v.var.clone(), v.value.clone()))
        .collect();
    env.push((COMBINATION_VAR.to_owned(), combination.label.clone()));
    env
}

/// Runs the matrix `opts` describes, printing progress, the table and the summary to
/// stdout; Ctrl-C (SIGINT) or SIGTERM stops it cleanly. See [`run_with`].
pub fn run(opts: &RunOptions) -> Result<RunReport, RunError> {
    let interrupt = Interrupt::on_signals().map_err(RunError::Signals)?;
    run_with(opts, &interrupt, &mut io::stdout())
}

/// Runs the matrix `opts` describes, printing to `out`, until done or `interrupt`.
///
/// An interrupted run still returns its report: combinations that were running are
/// [`Outcome::Stopped`], the rest [`Outcome::NotRun`], the table and the JUnit report
/// say so, and [`RunReport::exit_code`] is 130. A failing combination is a report that
/// is not a [`success`](RunReport::success), not an error; errors are for runs that
/// cannot start (bad manifest, no command, impossible plan) or a JUnit report that
/// cannot be written.
///
/// ```no_run
/// use flags_runner::{run_with, Interrupt, RunOptions};
///
/// let opts = RunOptions::new("flags.toml", ["sh", "-c", "cargo test"]);
/// let interrupt = Interrupt::new();
/// let stop = interrupt.clone();
/// std::thread::spawn(move || {
///     std::thread::sleep(std::time::Duration::from_secs(600));
///     stop.trigger(); // a time limit
/// });
/// let report = run_with(&opts, &interrupt, &mut std::io::stderr())?;
/// println!("{} failing combinations", report.failures().count());
/// # Ok::<(), flags_runner::RunError>(())
/// ```
pub fn run_with(
    opts: &RunOptions,
    interrupt: &Interrupt,
    out: &mut dyn Write,
) -> Result<RunReport, RunError> {
    if opts.command.is_empty() {
        return Err(RunError::EmptyCommand);
    }
    let started = Instant::now();
    let matrix = plan(opts)?;
    let shard = shard(&matrix, opts.partition);
    let work_dir = opts.work_dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let jobs = match opts.jobs {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    };
    let target_dir = exec::target_dir(&work_dir);
    let log_dir = opts
        .log_dir
        .clone()
        .unwrap_or_else(|| target_dir.join("flags-matrix").join("logs"));
    std::fs::create_dir_all(&log_dir).map_err(|source| RunError::LogDir {
        path: log_dir.clone(),
        source,
    })?;
    let own_target_dirs = jobs > 1
        && opts
            .command
            .first()
            .is_some_and(|program| exec::is_cargo(program))
        && exec::static_flags_vary(&shard);
    let setup = exec::Setup {
        command: opts.command.clone(),
        work_dir,
        log_dir: log_dir.clone(),
        jobs,
        fail_fast: opts.fail_fast,
        job_target_dirs: own_target_dirs.then(|| target_dir.join("flags-matrix")),
    };

    let mut intro = format!(
        "flags matrix: {} combination{} ({})",
        matrix.combinations.len(),
        if matrix.combinations.len() == 1 {
            ""
        } else {
            "s"
        },
        matrix.description
    );
    if let Some(p) = opts.partition {
        intro.push_str(&format!("; shard {p} runs {}", shard.len()));
    }
    intro.push_str(&format!("; {jobs} job{}", if jobs == 1 { "" } else { "s" }));
    say(out, &intro);
    if let Some(seed) = matrix.seed {
        say(
            out,
            &format!("random seed: {seed} (use random:N:{seed} to rerun these combinations)"),
        );
    }
    for warning in &matrix.warnings {
        say(out, &format!("warning: {warning}"));
    }
    if let Some(dir) = &setup.job_target_dirs {
        say(
            out,
            &format!(
                "static flags vary: each job builds in its own target directory ({}/job-N)",
                dir.display()
            ),
        );
    }
    say(out, &format!("logs: {}", log_dir.display()));

    let (results, interrupted) = exec::run_all(&setup, &shard, interrupt, out);
    let report = RunReport {
        results,
        total: matrix.combinations.len(),
        partition: opts.partition,
        description: matrix.description,
        seed: matrix.seed,
        interrupted,
        jobs,
        log_dir,
        junit: opts.junit.clone(),
        warnings: matrix.warnings,
        elapsed: started.elapsed(),
    };
    let _ = write!(out, "\n{report}");
    if let Some(path) = &opts.junit {
        write_junit(path, &report).map_err(|source| RunError::Junit {
            path: path.clone(),
            source,
        })?;
        say(out, &format!("JUnit report: {}", path.display()));
    }
    Ok(report)
}

/// Writes a line of output; a closed or full output must not stop the run.
fn say(out: &mut dyn Write, text: &str) {
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}
