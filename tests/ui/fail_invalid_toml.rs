//! A string left open is a TOML syntax error, positioned.

flags_runtime::flags!("fail_invalid_toml.toml");

fn main() {}
