//! An on/off flag needs the implementation for when it is off.

use flags_runtime::feature_gate;

flags_runtime::flags!("gate_flags.toml");

#[feature_gate(search_v2, manifest = "gate_flags.toml")]
fn rank(query: &str) -> usize {
    query.len() * 2
}

fn main() {
    let _ = rank("abc");
}
