//! requires must not loop back.

flags_runtime::flags!("fail_requires_cycle.toml");

fn main() {}
