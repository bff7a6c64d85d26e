//! Arguments that do not parse, each reported at the offending token.

use flags_runtime::feature_gate;

flags_runtime::flags!("gate_flags.toml");

fn v1() -> u8 {
    1
}

#[feature_gate]
fn no_flag() -> u8 {
    2
}

#[feature_gate(search_v2, fallback, manifest = "gate_flags.toml")]
fn no_value() -> u8 {
    2
}

#[feature_gate(search_v2, fallback = 1, manifest = "gate_flags.toml")]
fn not_a_path() -> u8 {
    2
}

#[feature_gate(search_v2 fallback = v1, manifest = "gate_flags.toml")]
fn no_comma() -> u8 {
    2
}

#[feature_gate(checkout_layout, variant = two_col, manifest = "gate_flags.toml")]
fn variant_not_a_string() -> u8 {
    2
}

#[feature_gate(search_v2, fallback = v1, fallback = v1, manifest = "gate_flags.toml")]
fn repeated() -> u8 {
    2
}

#[feature_gate(42, fallback = v1, manifest = "gate_flags.toml")]
fn flag_not_a_name() -> u8 {
    2
}

#[feature_gate(checkout_layout, "two-col", manifest = "gate_flags.toml")]
fn string_key_without_value() -> u8 {
    2
}

#[feature_gate(search_v2, some::path = v1, manifest = "gate_flags.toml")]
fn key_not_a_name() -> u8 {
    2
}

#[feature_gate(search_v2 = v1, manifest = "gate_flags.toml")]
fn flag_with_a_value() -> u8 {
    2
}

fn main() {}
