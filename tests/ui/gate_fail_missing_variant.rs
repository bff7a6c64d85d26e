//! Every variant needs an implementation: `two-col` and `one_page` have none here.

use flags_runtime::feature_gate;

flags_runtime::flags!("gate_flags.toml");

#[feature_gate(checkout_layout, manifest = "gate_flags.toml")]
fn layout(items: usize) -> String {
    format!("classic, {items} items")
}

// One of two is still missing.
#[feature_gate(checkout_layout, one_page = width_one_page, manifest = "gate_flags.toml")]
fn width() -> u32 {
    100
}

fn width_one_page() -> u32 {
    300
}

fn main() {
    let _ = (layout(1), width());
}
