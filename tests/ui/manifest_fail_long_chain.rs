//! A `requires` chain longer than the run time follows is an error.

flags_runtime::flags!("manifest_fail_long_chain.toml");

fn main() {}
