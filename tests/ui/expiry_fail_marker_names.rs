//! A flag named like another flag's expiry marker (`old_search_expired_2026_06_14`
//! beside an expired `old_search`), and a flag named `stale`: no clash, and the one
//! expired flag warns in a sentence. `deny(deprecated)` makes the warning an error so
//! that its text is checked here. FLAGS_TODAY is 2026-06-15.

#![deny(deprecated)]

flags_runtime::flags!("expiry_fail_marker_names.toml");

fn main() {
    let _ = flags::old_search();
    let _ = flags::old_search_expired_2026_06_14();
    let _ = flags::stale();
}
