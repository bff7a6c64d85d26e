//! A `const fn` cannot be routed by a value known only at run time.

use flags_runtime::feature_gate;

flags_runtime::flags!("gate_flags.toml");

#[feature_gate(search_v2, fallback = limit_v1, manifest = "gate_flags.toml")]
const fn limit() -> usize {
    20
}

const fn limit_v1() -> usize {
    10
}

fn main() {
    let _ = limit();
}
