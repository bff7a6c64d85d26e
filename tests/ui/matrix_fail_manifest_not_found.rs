//! `flags!` is called through a macro of the user's, where the matrix cannot see which
//! manifest it reads, and there is no `flags.toml`: the error says how to name it.

macro_rules! app_flags {
    () => {
        flags_runtime::flags!("matrix_flags.toml");
    };
}

app_flags!();

#[flags_test::matrix(flags = [search_v2])]
#[test]
fn ranks() {}

#[flags_test::matrix(flags = [search_v2], manifest = "matrix_flagz.toml")]
#[test]
fn misnamed() {}

fn main() {}
