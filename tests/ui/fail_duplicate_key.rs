//! A key written twice in one table.

flags_runtime::flags!("fail_duplicate_key.toml");

fn main() {}
