//! A static flag is fixed at compile time: no run-time rules.

flags_runtime::flags!("fail_static_with_rules.toml");

fn main() {}
