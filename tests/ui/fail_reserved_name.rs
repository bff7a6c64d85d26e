//! Names the generated module uses for itself.

flags_runtime::flags!("fail_reserved_name.toml");

fn main() {}
