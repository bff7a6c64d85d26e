//! `flags!` reads `gate_config/flags.toml`; the gates name no manifest and use the same
//! one, found through the `flags!` call (also in the long form, by module name).

flags_runtime::flags!("gate_config/flags.toml");
flags_runtime::flags!(pub(crate) mod settings = "gate_config/flags.toml",);

#[flags_runtime::feature_gate(search_v2, fallback = rank_v1)]
fn rank(query: &str) -> usize {
    query.len() * 2
}

fn rank_v1(query: &str) -> usize {
    query.len()
}

#[flags_runtime::feature_gate(search_v2, fallback = rank_v1, module = crate::settings)]
fn rank_by_settings(query: &str) -> usize {
    query.len() * 3
}

fn main() {
    assert_eq!(rank("abc"), 3);
    assert_eq!(rank_by_settings("abc"), 3);
    let _on = flags::REGISTRY
        .scoped_overrides()
        .set(flags::SEARCH_V2, true);
    assert_eq!(rank("abc"), 6);
}
