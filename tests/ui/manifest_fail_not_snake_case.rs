//! A name that is not snake_case gets a valid proposal, or what a valid name looks like.

flags_runtime::flags!("manifest_fail_not_snake_case.toml");

fn main() {}
