//! A release flag is temporary and must say when it expires.

flags_runtime::flags!("fail_temporary_without_expires.toml");

fn main() {}
