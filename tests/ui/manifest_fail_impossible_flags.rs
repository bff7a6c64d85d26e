//! A flag that `requires` and `excludes` make impossible is an error naming the links.

flags_runtime::flags!("manifest_fail_impossible_flags.toml");

fn main() {}
