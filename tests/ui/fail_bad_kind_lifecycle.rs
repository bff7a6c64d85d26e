//! Unknown kind and lifecycle, with suggestions.

flags_runtime::flags!("fail_bad_kind_lifecycle.toml");

fn main() {}
