//! Flags the manifest does not declare, each reported at its name, with the nearest
//! declared name when there is one.

flags_runtime::flags!("matrix_flags.toml");

#[flags_test::matrix(flags = [serch_v2, checkout_layout], exhaustive)]
#[test]
fn misspelt() {}

#[flags_test::matrix(flags = [search_v2, "nothing-like-it"])]
#[test]
fn unrelated() {}

fn main() {}
