//! Both missing keys are reported in one build.

flags_runtime::flags!("fail_missing_description_owner.toml");

fn main() {}
