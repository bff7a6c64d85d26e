//! A stale flag only warns: under the default policy, and under `expiry = "error"`
//! within the grace period. (The warning's text is checked by
//! `fail_expired_deny_deprecated.rs`.)

flags_runtime::flags!("pass_stale_warns.toml");
flags_runtime::flags!(mod grace = "pass_stale_within_grace.toml");

fn main() {
    assert!(!flags::stale_by_default());
    assert!(!grace::stale_in_grace());
}
