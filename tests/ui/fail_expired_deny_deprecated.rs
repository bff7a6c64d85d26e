//! A flag one day past its date warns; `deny(deprecated)` makes the warning an error. FLAGS_TODAY is 2026-06-15.

#![deny(deprecated)]

flags_runtime::flags!("fail_expired_deny_deprecated.toml");

fn main() {
    let _ = flags::old_search();
    let _ = flags::new_search();
}
