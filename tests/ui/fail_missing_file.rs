//! The manifest does not exist, neither under the crate root nor beside this file.

flags_runtime::flags!("fail_missing_file_nowhere.toml");

fn main() {}
