//! `enabled` on a static flag is reported at `enabled`, saying what to write instead.

flags_runtime::flags!("manifest_fail_static_enabled.toml");

fn main() {}
