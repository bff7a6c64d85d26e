//! A flag named like a Rust keyword could not be called.

flags_runtime::flags!("fail_keyword_name.toml");

fn main() {}
