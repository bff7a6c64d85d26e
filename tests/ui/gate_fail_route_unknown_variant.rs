//! Routes naming variants the flag does not have, with the nearest suggested (quoted
//! when the variant is not an identifier).

use flags_runtime::feature_gate;

flags_runtime::flags!("gate_flags.toml");

#[feature_gate(
    checkout_layout,
    two_col = layout_two,
    one_pag = layout_one,
    sidebar = layout_sidebar,
    manifest = "gate_flags.toml"
)]
fn layout(items: usize) -> String {
    format!("classic, {items} items")
}

fn layout_two(items: usize) -> String {
    format!("two columns, {items} items")
}

fn layout_one(items: usize) -> String {
    format!("one page, {items} items")
}

fn layout_sidebar(items: usize) -> String {
    format!("sidebar, {items} items")
}

fn main() {
    let _ = layout(1);
}
