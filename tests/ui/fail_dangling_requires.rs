//! requires names a flag that does not exist.

flags_runtime::flags!("fail_dangling_requires.toml");

fn main() {}
