//! Written as a TOML date, 2026-02-30 is already a TOML error.

flags_runtime::flags!("fail_impossible_date_bare.toml");

fn main() {}
