//! End-to-end tests: the built `cargo-flags` binary run on fixture workspaces
//! (copied from `tests/fixtures/` to a temporary directory), checking output text, JSON
//! shape and exit codes of every subcommand.

#[path = "../common/mod.rs"]
mod common;

mod bad_input;
mod explain;
mod lint;
mod refs;
mod report;
mod retire;
