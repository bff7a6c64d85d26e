//! The default naming style is snake_case.

flags_runtime::flags!("fail_not_snake_case.toml");

fn main() {}
