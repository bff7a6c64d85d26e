//! requires names a variant the flag does not have.

flags_runtime::flags!("fail_requires_missing_variant.toml");

fn main() {}
