//! A variant flag needs at least two variants.

flags_runtime::flags!("fail_too_few_variants.toml");

fn main() {}
