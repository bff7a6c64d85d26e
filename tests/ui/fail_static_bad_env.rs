//! ui.rs sets FLAGS_STATIC_UI_BAD_STATIC=sideways, not a value of the flag.

flags_runtime::flags!("fail_static_bad_env.toml");

fn main() {}
