//! A `regex` operand is compiled when the manifest is read.

flags_runtime::flags!("manifest_fail_bad_regex.toml");

fn main() {}
