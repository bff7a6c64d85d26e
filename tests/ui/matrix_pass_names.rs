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
    assert!(case.get("search_v2").is_some());
}

fn main() {
    every_argument();
}
