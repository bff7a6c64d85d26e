//! Workspace integration tests live in `tests/tests/`, compile-fail cases in
//! `tests/ui/`. The README's Rust examples are this crate's doc tests (against
//! `tests/flags.toml`), so they are compiled and run with the suite.
#![doc = include_str!("../README.md")]
