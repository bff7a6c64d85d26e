//! A static flag is a constant of the build: no override can vary it in process.

flags_runtime::flags!("matrix_flags.toml");

#[flags_test::matrix(flags = [search_v2, dark_mode])]
#[test]
fn themed() {}

fn main() {}
