//! Values of the wrong type, all reported at once.

flags_runtime::flags!("fail_wrong_types.toml");

fn main() {}
