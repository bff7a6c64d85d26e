//! With expiry = "error", a flag 14 days past its date (grace 7) fails the build. FLAGS_TODAY is 2026-06-15.

flags_runtime::flags!("fail_expiry_past_grace.toml");

fn main() {}
