//! Expiry on the other side of the date: a flag on its last day (FLAGS_TODAY is
//! 2026-06-15) and an expired flag under `expiry = "off"` compile without warnings.

#![deny(deprecated)]

flags_runtime::flags!("pass_expiry_edges.toml");
flags_runtime::flags!(mod off = "pass_expiry_off.toml");

fn main() {
    assert!(!flags::last_day());
    assert!(!off::long_gone());
}
