//! Strategy type, percent and constraint operator, all reported at once.

flags_runtime::flags!("fail_bad_strategy.toml");

fn main() {}
