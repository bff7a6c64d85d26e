//! Sixty flags without an owner: the first fifty problems are reported, then one line
//! says how many more there are and where to see them all.

flags_runtime::flags!("fail_error_cap.toml");

fn main() {}
