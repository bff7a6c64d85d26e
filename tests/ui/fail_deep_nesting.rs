//! Absurd nesting is refused before parsing, without overflowing the stack.

flags_runtime::flags!("fail_deep_nesting.toml");

fn main() {}
