//! `fallback` is for on/off flags; a variant flag routes each variant by name.

use flags_runtime::feature_gate;

flags_runtime::flags!("gate_flags.toml");

#[feature_gate(
    checkout_layout,
    fallback = layout_old,
    "two-col" = layout_old,
    one_page = layout_old,
    manifest = "gate_flags.toml"
)]
fn layout(items: usize) -> String {
    format!("classic, {items} items")
}

fn layout_old(items: usize) -> String {
    format!("old, {items} items")
}

fn main() {
    let _ = layout(1);
}
