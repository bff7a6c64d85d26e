//! Parameters bound by a pattern have no name to pass to the other implementation.

use flags_runtime::feature_gate;

flags_runtime::flags!("gate_flags.toml");

#[feature_gate(search_v2, fallback = add_v1, manifest = "gate_flags.toml")]
fn add((a, b): (u8, u8), _: u8) -> u8 {
    a + b
}

fn add_v1(pair: (u8, u8), _extra: u8) -> u8 {
    pair.0
}

#[feature_gate(search_v2, fallback = len_v1, manifest = "gate_flags.toml")]
fn len(ref text: String) -> usize {
    text.len()
}

fn len_v1(text: String) -> usize {
    text.len()
}

fn main() {
    let _ = (add((1, 2), 3), len(String::new()));
}
