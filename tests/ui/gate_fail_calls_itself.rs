//! The fallback must be another function: naming the gated one would loop.

use flags_runtime::feature_gate;

flags_runtime::flags!("gate_flags.toml");

#[feature_gate(search_v2, fallback = rank, manifest = "gate_flags.toml")]
fn rank(query: &str) -> usize {
    query.len() * 2
}

fn main() {
    let _ = rank("abc");
}
