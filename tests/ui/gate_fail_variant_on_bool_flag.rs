//! An on/off flag has no variants: neither `variant = ...` nor a variant route.

use flags_runtime::feature_gate;

flags_runtime::flags!("gate_flags.toml");

#[feature_gate(search_v2, variant = "on", fallback = rank_v1, manifest = "gate_flags.toml")]
fn rank(query: &str) -> usize {
    query.len() * 2
}

#[feature_gate(search_v2, off = rank_v1, manifest = "gate_flags.toml")]
fn rank2(query: &str) -> usize {
    query.len() * 2
}

#[feature_gate(search_v2, fallbak = rank_v1, manifest = "gate_flags.toml")]
fn rank3(query: &str) -> usize {
    query.len() * 2
}

fn rank_v1(query: &str) -> usize {
    query.len()
}

fn main() {
    let _ = (rank("a"), rank2("a"), rank3("a"));
}
