//! A static flag's gated-out branch is absent from the optimised code: the probe is
//! built in release mode with each value of `legacy_mode`, and the binary holds the
//! marker string of a branch exactly when the flag selects it.

use std::path::{Path, PathBuf};
use std::process::Command;

fn build_probe(legacy: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let status = Command::new(env!("CARGO"))
        .current_dir(&root)
        .args(["build", "--release", "--quiet", "-p", "static-probe"])
        .env("FLAGS_STATIC_LEGACY_MODE", legacy)
        .status()
        .unwrap();
    assert!(status.success(), "building the probe failed");
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    target.join("release").join("static-probe")
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn the_dead_branch_is_not_in_the_release_binary() {
    let binary = std::fs::read(build_probe("off")).unwrap();
    assert!(
        contains(&binary, "STATIC-PROBE-FAST-19c2"),
        "the live branch is kept"
    );
    assert!(
        !contains(&binary, "STATIC-PROBE-LEGACY-7f3a"),
        "the dead branch is gone"
    );

    let binary = std::fs::read(build_probe("on")).unwrap();
    assert!(
        contains(&binary, "STATIC-PROBE-LEGACY-7f3a"),
        "turned on at build time, it is there"
    );
    assert!(contains(&binary, "STATIC-PROBE-FAST-19c2"));
}
