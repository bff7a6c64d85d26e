//! A new crate outside the workspace, set up from the README alone: the Installation
//! section's dependency lines, the manifest example as its `flags.toml`, the "Typed
//! flags" example as its `main.rs`, and the `#[feature_gate]` and "Testing under every
//! combination" examples as its tests. It must build, run and pass its tests.
//!
//! The dependency lines are the README's crates.io lines, verbatim; a
//! `[patch.crates-io]` section maps each of them to this workspace's crate of that name,
//! which is what a crates.io release of this tree would contain. Everything is read from
//! README.md at test time, so the README cannot drift from what works.

use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn readme() -> String {
    std::fs::read_to_string(format!("{ROOT}/README.md")).unwrap()
}

/// The code blocks of one language in the README section under `heading`.
fn blocks(readme: &str, heading: &str, lang: &str) -> Vec<String> {
    let start = readme
        .find(&format!("\n## {heading}\n"))
        .unwrap_or_else(|| panic!("README has no section {heading:?}"))
        + 1;
    let section = &readme[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    let fence = format!("```{lang}\n");
    let mut out = Vec::new();
    let mut rest = section;
    while let Some(at) = rest.find(&fence) {
        let body = &rest[at + fence.len()..];
        let end = body.find("```").unwrap();
        out.push(body[..end].to_owned());
        rest = &body[end..][3..];
    }
    assert!(!out.is_empty(), "no {lang} block under {heading:?}");
    out
}

fn cargo(dir: &Path, args: &[&str]) {
    let out = Command::new(env!("CARGO"))
        .args(args)
        .arg("--offline")
        .current_dir(dir)
        // Its own target directory (the one running this test is locked), kept under the
        // workspace's so that later runs reuse the built dependencies.
        .env("CARGO_TARGET_DIR", format!("{ROOT}/target/newcomer"))
        // The README's manifest has real expiry dates under `expiry = "error"`: fix
        // "today" so that the test does not change with the calendar.
        .env("FLAGS_TODAY", "2026-01-01")
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo {args:?} in {} failed:\n{}\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn fresh_dir() -> PathBuf {
    let dir = PathBuf::from(format!("{ROOT}/target/tmp/newcomer-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::create_dir_all(dir.join("tests")).unwrap();
    dir
}

#[test]
fn a_crate_set_up_from_the_readme_builds_runs_and_tests() {
    let readme = readme();
    let install = blocks(&readme, "Installation", "toml");
    let crates_io = &install[0];
    assert!(
        crates_io.contains("flags-runtime = \"0.1\"") && crates_io.contains("flags-test = \"0.1\""),
        "the first Installation block is the crates.io one:\n{crates_io}"
    );
    // The git block names the same crates, at the repository the workspace declares.
    let git = &install[1];
    let workspace = std::fs::read_to_string(format!("{ROOT}/Cargo.toml")).unwrap();
    let repository = workspace
        .lines()
        .find_map(|l| l.strip_prefix("repository = "))
        .unwrap()
        .trim_matches('"');
    for name in ["flags-runtime", "flags-unleash", "flags-test"] {
        assert!(
            git.contains(&format!("{name} = {{ git = \"{repository}\" }}")),
            "{name} in the git block:\n{git}"
        );
    }

    let mut patch = String::from("\n[patch.crates-io]\n");
    for name in [
        "flags-manifest",
        "flags-codegen",
        "flags-macros",
        "flags-runtime",
        "flags-rollout",
        "flags-unleash",
        "flags-test",
    ] {
        patch.push_str(&format!("{name} = {{ path = \"{ROOT}/{name}\" }}\n"));
    }
    let dir = fresh_dir();
    let tests = blocks(&readme, "`#[feature_gate]`", "rust")
        .into_iter()
        .chain(blocks(&readme, "Testing under every combination", "rust"))
        .collect::<Vec<_>>();
    let mut test_targets = String::new();
    for (i, code) in tests.iter().enumerate() {
        std::fs::write(dir.join(format!("tests/readme_{i}.rs")), code).unwrap();
        // The README's examples are programs with a `main`; each runs as one test.
        test_targets.push_str(&format!(
            "\n[[test]]\nname = \"readme_{i}\"\nharness = false\n"
        ));
    }
    let manifest = format!(
        "[package]\nname = \"newcomer\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\
         publish = false\n\n[workspace]\n\n{crates_io}{test_targets}{patch}"
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    let flags_toml = &blocks(&readme, "The manifest", "toml")[0];
    std::fs::write(dir.join("flags.toml"), flags_toml).unwrap();
    let main = &blocks(&readme, "Typed flags", "rust")[0];
    std::fs::write(dir.join("src/main.rs"), main).unwrap();

    cargo(&dir, &["build"]);
    cargo(&dir, &["run", "--quiet"]);
    cargo(&dir, &["test"]);
    let _ = std::fs::remove_dir_all(&dir);
}
