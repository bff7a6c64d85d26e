//! flags! needs a path.

flags_runtime::flags!();

fn main() {}
