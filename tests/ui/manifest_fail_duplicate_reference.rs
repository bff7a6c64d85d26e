//! A reference listed twice in `requires` or `excludes`.

flags_runtime::flags!("manifest_fail_duplicate_reference.toml");

fn main() {}
