//! Domain prefix and lifecycle suffix conventions.

flags_runtime::flags!("fail_naming_convention.toml");

fn main() {}
