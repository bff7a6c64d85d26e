//! `cargo flags`: lint a `flags.toml`, find the code that refers to each flag, and
//! publish a report of every flag, from the same manifest model the `flags!` macro uses.
//!
//! Each subcommand is one module with a `run` function taking the shared [`Globals`]
//! and its own arguments and returning an [`Exit`]; `main` only parses the command line
//! and dispatches. `matrix` runs the flags-test whole-suite runner and exits with its own
//! codes (0, 1, 2, 130).

mod args;
mod cli;
mod expiry;
mod explain;
mod lint;
mod matrix;
mod outcome;
mod refs;
mod report;
mod retire;
mod rollout;
mod rollout_run;
mod rules_summary;
mod unleash;
mod workspace;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::args::Globals;
use crate::cli::{Cli, Command};
use crate::outcome::Exit;

fn main() -> ExitCode {
    let cli = Cli::parse_from(cli::strip_cargo_subcommand(std::env::args_os()));
    let globals = Globals::from(&cli);
    let result = match &cli.command {
        // The matrix exits with the runner's own codes (1 failed, 130 interrupted).
        Command::Matrix(args) => {
            return matrix::run(&globals, args).unwrap_or_else(|failure| {
                report_failure(failure);
                ExitCode::from(Exit::Errors as u8)
            });
        }
        Command::Lint(args) => lint::run(&globals, args),
        Command::Refs(args) => refs::run(&globals, args),
        Command::Report(args) => report::run(&globals, args),
        Command::Explain(args) => explain::run(&globals, args),
        Command::Rollout(args) => rollout::run_rollout(&globals, args),
        Command::Audit(args) => rollout::run_audit(&globals, args),
        Command::Unleash(args) => unleash::run(&globals, args),
        Command::Retire(args) => retire::run(&globals, args),
    };
    let exit = match result {
        Ok(exit) => exit,
        Err(failure) => {
            report_failure(failure);
            Exit::Errors
        }
    };
    ExitCode::from(exit as u8)
}

fn report_failure(failure: outcome::Failure) {
    let mut err = std::io::stderr().lock();
    for line in failure.into_lines() {
        // Nothing useful can be done when stderr itself is gone.
        let _ = writeln!(err, "{line}");
    }
}
