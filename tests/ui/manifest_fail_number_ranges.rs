//! Numbers out of range say the real range of the key, not of the integer type.

flags_runtime::flags!("manifest_fail_number_ranges.toml");

fn main() {}
