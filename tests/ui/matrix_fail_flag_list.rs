//! A list that varies nothing, and a flag named twice.

flags_runtime::flags!("matrix_flags.toml");

#[flags_test::matrix(flags = [])]
#[test]
fn nothing() {}

#[flags_test::matrix(flags = [search_v2, checkout_layout, search_v2])]
#[test]
fn twice() {}

fn main() {}
