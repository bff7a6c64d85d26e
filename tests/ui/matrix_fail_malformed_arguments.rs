//! Arguments that do not parse, each reported at the offending token.

flags_runtime::flags!("matrix_flags.toml");

#[flags_test::matrix(flag = [search_v2])]
#[test]
fn unknown_argument() {}

#[flags_test::matrix(exhaustive = true)]
#[test]
fn switch_with_value() {}

#[flags_test::matrix(random)]
#[test]
fn no_value() {}

#[flags_test::matrix(t_wise = 1)]
#[test]
fn weak() {}

#[flags_test::matrix(random = 0)]
#[test]
fn no_combinations() {}

#[flags_test::matrix(flags = search_v2)]
#[test]
fn not_a_list() {}

#[flags_test::matrix(pins = [sometimes])]
#[test]
fn unknown_pin() {}

#[flags_test::matrix(rules = [search_v2])]
#[test]
fn rule_not_a_string() {}

fn main() {}
