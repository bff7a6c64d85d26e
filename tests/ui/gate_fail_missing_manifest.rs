//! The manifest named by `manifest = ...` does not exist.

use flags_runtime::feature_gate;

flags_runtime::flags!("gate_flags.toml");

#[feature_gate(search_v2, fallback = rank_v1, manifest = "gate_flagz.toml")]
fn rank(query: &str) -> usize {
    query.len() * 2
}

fn rank_v1(query: &str) -> usize {
    query.len()
}

fn main() {
    let _ = rank("abc");
}
