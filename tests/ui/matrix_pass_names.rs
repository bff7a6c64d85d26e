//! Names the manifest declares pass, by manifest name or accessor, with every argument.

flags_runtime::flags!("matrix_flags.toml");

#[flags_test::matrix(
    flags = [search_v2, "checkout_layout"],
    random = 3,
    seed = 7,
    pins = [defaults, all_on],
    rules = ["search_v2=on -> checkout_layout=classic"],
    case = case,
    manifest = "matrix_flags.toml",
    registry = crate::flags::REGISTRY,
)]
fn every_argument() {
    assert_eq!(case.get(flags::SEARCH_V2), Some(flags::search_v2()));
    assert_eq!(case.get(flags::CHECKOUT_LAYOUT), Some(flags::checkout_layout()));
}

fn main() {
    every_argument();
}
