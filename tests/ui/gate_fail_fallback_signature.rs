//! A fallback whose signature differs from the gated function's: each error points at
//! the fallback's path in the attribute.

use flags_runtime::feature_gate;

flags_runtime::flags!("gate_flags.toml");

// The return type differs.
#[feature_gate(search_v2, fallback = rank_v1, manifest = "gate_flags.toml")]
fn rank(query: &str) -> usize {
    query.len() * 2
}

fn rank_v1(query: &str) -> u32 {
    query.len() as u32
}

// A parameter's type differs.
#[feature_gate(search_v2, fallback = score_v1, manifest = "gate_flags.toml")]
fn score(query: &str, boost: u8) -> usize {
    query.len() + usize::from(boost)
}

fn score_v1(query: &str, boost: bool) -> usize {
    query.len() + usize::from(boost)
}

// A parameter is missing.
#[feature_gate(search_v2, fallback = limit_v1, manifest = "gate_flags.toml")]
fn limit(query: &str, max: usize) -> usize {
    query.len().min(max)
}

fn limit_v1(query: &str) -> usize {
    query.len()
}

// The gated function is `async`, the fallback is not.
#[feature_gate(search_v2, fallback = fetch_v1, manifest = "gate_flags.toml")]
async fn fetch(id: u32) -> u32 {
    id * 2
}

fn fetch_v1(id: u32) -> u32 {
    id
}

fn main() {
    let _ = (rank("a"), score("a", 1), limit("a", 1), fetch(1));
}
