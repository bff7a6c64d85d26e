//! A manifest with errors is reported once, by `flags!`: the three gates on it add
//! nothing, and the gated functions still compile as written.

use flags_runtime::feature_gate;

flags_runtime::flags!("gate_fail_invalid_manifest_once.toml");

#[feature_gate(search_v2, fallback = one_v1, manifest = "gate_fail_invalid_manifest_once.toml")]
fn one() -> u8 {
    2
}

#[feature_gate(search_v2, fallback = one_v1, manifest = "gate_fail_invalid_manifest_once.toml")]
fn two() -> u8 {
    2
}

#[feature_gate(search_v2, fallback = one_v1)]
fn three() -> u8 {
    2
}

fn one_v1() -> u8 {
    1
}

fn main() {
    let _ = (one(), two(), three(), one_v1());
}
