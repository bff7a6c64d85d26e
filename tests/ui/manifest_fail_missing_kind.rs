//! A flag without `kind` is a release flag; the error about `expires` says so.

flags_runtime::flags!("manifest_fail_missing_kind.toml");

fn main() {}
