//! The command line: global options, one argument struct per subcommand, and the help
//! text that documents exit codes for CI.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use flags_manifest::Date;

use crate::args::{Globals, ScanArgs};

const EXIT_CODES: &str = "\
Exit codes (for CI):
  0  clean: nothing to act on (notes allowed)
  1  warnings, when asked to fail on them (lint --deny-warnings, refs --deny-unused)
  2  errors: invalid manifest or state file, a flag past its grace period under
     expiry = \"error\", code referring to a flag that does not exist, an unknown
     flag name, bad usage";

const LINT_EXIT_CODES: &str = "\
Exit codes:
  0  no errors; notes (flags expiring soon) and, without --deny-warnings, warnings
     (stale flags) are printed but do not fail
  1  warnings and --deny-warnings
  2  errors: the manifest is invalid (the same messages as the flags! macro), or a
     flag is past its grace period under expiry = \"error\"";

const REFS_EXIT_CODES: &str = "\
Exit codes:
  0  every reference names a declared flag
  1  --deny-unused and some declared flag is never referenced
  2  code refers to a flag that does not exist, or the manifest is invalid";

const REPORT_EXIT_CODES: &str = "\
Exit codes:
  0  the report was written
  2  the manifest or state file is invalid, or the output could not be written";

const EXPLAIN_EXIT_CODES: &str = "\
Exit codes:
  0  the flag was found and explained
  2  no such flag (with a did-you-mean), or the manifest or state file is invalid";

/// `cargo flags`: lint, references and reports for a flags.toml manifest.
#[derive(Debug, Parser)]
#[command(
    name = "cargo-flags",
    bin_name = "cargo flags",
    version,
    about = "Lint flags.toml, find the code that uses each flag, and report on every flag",
    after_help = EXIT_CODES
)]
pub struct Cli {
    /// The manifest. Default: flags.toml in the current directory, else the nearest
    /// parent directory holding both Cargo.toml and flags.toml.
    #[arg(long, global = true, value_name = "PATH")]
    pub manifest: Option<PathBuf>,

    /// The day expiry is judged on. Default: FLAGS_TODAY, else SOURCE_DATE_EPOCH, else
    /// the system clock (the same rule as the flags! macro).
    #[arg(long, global = true, value_name = "YYYY-MM-DD")]
    pub today: Option<Date>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands. `matrix` (the flags-test suite runner) joins here once it lands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the manifest: errors, stale and soon-expiring flags (with their owners).
    #[command(after_help = LINT_EXIT_CODES)]
    Lint(LintArgs),
    /// Find every reference to every flag in the workspace's Rust sources.
    #[command(after_help = REFS_EXIT_CODES)]
    Refs(crate::refs::RefsArgs),
    /// Write one page describing every flag, as Markdown or self-contained HTML.
    #[command(after_help = REPORT_EXIT_CODES)]
    Report(ReportArgs),
    /// Everything known about one flag, with its `requires` tree and dependents.
    #[command(after_help = EXPLAIN_EXIT_CODES)]
    Explain(ExplainArgs),
    /// Run a test command once per flag combination (pairwise by default) and report.
    #[command(after_help = crate::matrix::MATRIX_EXIT_CODES)]
    Matrix(crate::matrix::MatrixArgs),
    /// A guarded rollout's state: status, or a manual advance / pause / resume / rollback.
    #[command(after_help = crate::rollout::ROLLOUT_EXIT_CODES)]
    Rollout(crate::rollout::RolloutArgs),
    /// Print the rollout audit log, or `verify` its hash chain.
    #[command(after_help = crate::rollout::AUDIT_EXIT_CODES)]
    Audit(crate::rollout::AuditArgs),
    /// Compare the manifest with a live Unleash server (`unleash diff`).
    Unleash(crate::unleash::UnleashArgs),
    /// Remove a finished flag from the code and the manifest, keeping one side.
    #[command(after_help = crate::retire::RETIRE_EXIT_CODES)]
    Retire(crate::retire::RetireArgs),
}

/// Arguments of `cargo flags lint`.
#[derive(Debug, Args)]
pub struct LintArgs {
    /// Output format: `github` prints workflow annotations (::error file=...).
    #[arg(long, value_enum, default_value_t = LintFormat::Human)]
    pub format: LintFormat,
    /// Exit with 1 when there are warnings (stale flags) but no errors.
    #[arg(long)]
    pub deny_warnings: bool,
}

/// Output formats of `lint`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    /// One line per finding, as the flags! macro prints them.
    Human,
    /// One JSON document.
    Json,
    /// GitHub Actions workflow commands (annotations on flags.toml).
    Github,
}

/// Arguments of `cargo flags report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A state (rule) file whose rules describe each flag's current state.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// A guarded-rollout state file (`cargo flags rollout`'s `state.json`): fills
    /// the rollout stage column.
    #[arg(long, value_name = "FILE")]
    pub rollouts: Option<PathBuf>,
    /// Output format. Default: html when --out ends in .html or .htm, else md.
    #[arg(long, value_enum)]
    pub format: Option<ReportFormat>,
    /// Write here instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Where to count references.
    #[command(flatten)]
    pub scan: ScanArgs,
}

/// Output formats of `report`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// A Markdown table, for docs.
    Md,
    /// A self-contained HTML page with sortable columns.
    Html,
}

/// Arguments of `cargo flags explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The flag: its manifest name, accessor, handle const or enum name.
    pub name: String,
    /// A state (rule) file to show the flag's current rules from.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Where to look for references.
    #[command(flatten)]
    pub scan: ScanArgs,
}

impl From<&Cli> for Globals {
    fn from(cli: &Cli) -> Globals {
        Globals {
            manifest: cli.manifest.clone(),
            today: cli.today,
        }
    }
}

/// Drops the `flags` argument cargo inserts when it runs `cargo-flags` for
/// `cargo flags ...`, so both `cargo flags lint` and `cargo-flags lint` work.
pub fn strip_cargo_subcommand(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut args: Vec<OsString> = args.into_iter().collect();
    if args.get(1).is_some_and(|a| a == "flags") {
        args.remove(1);
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn cargo_inserted_subcommand_name_is_dropped() {
        assert_eq!(
            strip_cargo_subcommand(os(&["cargo-flags", "flags", "lint"])),
            os(&["cargo-flags", "lint"])
        );
        assert_eq!(
            strip_cargo_subcommand(os(&["cargo-flags", "lint"])),
            os(&["cargo-flags", "lint"])
        );
        // Only the first argument: a flag called `flags` can still be explained.
        assert_eq!(
            strip_cargo_subcommand(os(&["cargo-flags", "flags", "explain", "flags"])),
            os(&["cargo-flags", "explain", "flags"])
        );
    }

    #[test]
    fn command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn today_is_validated_by_the_parser() {
        assert!(Cli::try_parse_from(["cargo-flags", "--today", "2026-02-30", "lint"]).is_err());
        let cli = Cli::try_parse_from(["cargo-flags", "lint", "--today", "2026-02-28"]);
        assert_eq!(
            cli.ok().and_then(|c| c.today).map(|d| d.to_string()),
            Some("2026-02-28".to_owned())
        );
    }
}
