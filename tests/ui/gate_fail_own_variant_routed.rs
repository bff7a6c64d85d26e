//! The body's own variant cannot also be routed elsewhere, nor a variant twice.

use flags_runtime::feature_gate;

flags_runtime::flags!("gate_flags.toml");

#[feature_gate(
    checkout_layout,
    variant = "one_page",
    one_page = layout_old,
    classic = layout_old,
    "two-col" = layout_old,
    manifest = "gate_flags.toml"
)]
fn layout(items: usize) -> String {
    format!("one page, {items} items")
}

// Without `variant`, the body implements the manifest default, `classic`.
#[feature_gate(
    checkout_layout,
    classic = layout_old,
    "two-col" = layout_old,
    one_page = layout_old,
    one_page = layout_old,
    manifest = "gate_flags.toml"
)]
fn layout2(items: usize) -> String {
    format!("classic, {items} items")
}

fn layout_old(items: usize) -> String {
    format!("old, {items} items")
}

fn main() {
    let _ = (layout(1), layout2(1));
}
