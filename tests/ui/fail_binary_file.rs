//! A binary file (here a PNG header) is not UTF-8 text.

flags_runtime::flags!("fail_binary_file.toml");

fn main() {}
