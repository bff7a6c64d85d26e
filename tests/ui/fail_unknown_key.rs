//! A misspelt key is refused with a suggestion.

flags_runtime::flags!("fail_unknown_key.toml");

fn main() {}
