//! An argument given twice and two modes are errors, all reported in one build, each at
//! the argument that repeats.

flags_runtime::flags!("matrix_flags.toml");

#[flags_test::matrix(flags = [search_v2], exhaustive, flags = [checkout_layout], case = c, case = d)]
#[test]
fn given_twice() {}

#[flags_test::matrix(exhaustive, random = 10)]
#[test]
fn two_modes() {}

fn main() {}
