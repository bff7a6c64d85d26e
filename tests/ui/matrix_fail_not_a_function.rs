//! The attribute rewrites a test function; on anything else it says so.

flags_runtime::flags!("matrix_flags.toml");

#[flags_test::matrix(exhaustive)]
struct Fixture;

fn main() {}
