//! The default must be one of the variants.

flags_runtime::flags!("fail_default_not_variant.toml");

fn main() {}
