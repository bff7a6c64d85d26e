//! Variants that become the same enum variant.

flags_runtime::flags!("fail_variant_collision.toml");

fn main() {}
