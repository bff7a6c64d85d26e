//! Two names that become the same accessor.

flags_runtime::flags!("fail_case_collision.toml");

fn main() {}
