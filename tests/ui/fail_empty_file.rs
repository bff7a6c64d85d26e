//! An empty manifest declares no flags.

flags_runtime::flags!("fail_empty_file.toml");

fn main() {}
