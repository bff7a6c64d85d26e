//! 2026-02-30 is not a day of the calendar.

flags_runtime::flags!("fail_impossible_date.toml");

fn main() {}
