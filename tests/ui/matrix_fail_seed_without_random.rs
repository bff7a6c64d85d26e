//! `seed` fixes a random matrix; the other modes choose the same combinations on every
//! run, so a seed there is a mistake (told by the mode itself, not by the arguments'
//! text: the rule below mentions `random`).

flags_runtime::flags!("matrix_flags.toml");

#[flags_test::matrix(pairwise, seed = 7, rules = ["search_v2=on -> checkout_layout=random"])]
#[test]
fn seeded() {}

fn main() {}
