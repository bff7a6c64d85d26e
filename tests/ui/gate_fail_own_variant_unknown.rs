//! `variant = "..."` names a variant the flag does not have.

use flags_runtime::feature_gate;

flags_runtime::flags!("gate_flags.toml");

#[feature_gate(
    checkout_layout,
    variant = "two_col",
    classic = layout_classic,
    one_page = layout_one,
    manifest = "gate_flags.toml"
)]
fn layout(items: usize) -> String {
    format!("two columns, {items} items")
}

fn layout_classic(items: usize) -> String {
    format!("classic, {items} items")
}

fn layout_one(items: usize) -> String {
    format!("one page, {items} items")
}

fn main() {
    let _ = layout(1);
}
