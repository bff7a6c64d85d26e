//! Unknown expiry policy, grace_days without it, bad naming style.

flags_runtime::flags!("fail_bad_settings.toml");

fn main() {}
