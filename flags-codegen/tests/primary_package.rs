//! Expiry applies only to a primary package: the expansion reads cargo's
//! `CARGO_PRIMARY_PACKAGE` from the process, as the proc macro does, and a crate built
//! as someone's dependency compiles without a warning or an error about its flags'
//! dates. A plain `main` (no harness), so the environment is changed before any other
//! thread exists.

use flags_codegen::{CARGO_PRIMARY_PACKAGE, Env, FLAGS_TODAY, expand};

const MANIFEST: &str = r#"
[settings]
expiry = "error"
grace_days = 0

[flags.old_search]
description = "Long past its date"
owner = "search-team"
kind = "release"
expires = 2020-01-31
"#;

fn main() {
    let dir = std::env::temp_dir().join(format!("flags-codegen-primary-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("flags.toml"), MANIFEST).unwrap();

    let expand_here = || {
        let env = Env::from_process().with_manifest_dir(&dir);
        expand(quote::quote!("flags.toml"), &env).to_string()
    };

    // SAFETY: `set_var`/`remove_var` are unsound only while another thread may touch
    // the environment; this test has no harness, so `main` is the only thread.
    unsafe {
        std::env::set_var(FLAGS_TODAY, "2026-06-15");
        std::env::set_var(CARGO_PRIMARY_PACKAGE, "1");
    }
    assert!(Env::from_process().is_primary());
    let primary = expand_here();
    assert!(
        primary.contains("compile_error ! { \"flags.toml:6:8: `flags.old_search.expires`: flag `old_search` (owner: search-team) expired on 2020-01-31"),
        "{primary}"
    );

    // SAFETY: as above.
    unsafe {
        std::env::remove_var(CARGO_PRIMARY_PACKAGE);
    }
    assert!(!Env::from_process().is_primary());
    let dependency = expand_here();
    assert!(!dependency.contains("compile_error"), "{dependency}");
    assert!(!dependency.contains("deprecated"), "{dependency}");
    assert!(
        dependency.contains("pub fn old_search () -> bool"),
        "{dependency}"
    );

    std::fs::remove_dir_all(&dir).unwrap();
    println!("primary_package: ok (an error as a primary package, quiet as a dependency)");
}
