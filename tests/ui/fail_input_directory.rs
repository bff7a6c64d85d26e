//! A directory is not a manifest ("." is the crate root).

flags_runtime::flags!(".");

fn main() {}
