//! `cargo flags rollout` on a state file whose stage index is 2^64 - 1: `status`
//! refuses it with the file and the field (exit 2, no panic), and a rollback resets
//! the flag.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn workspace(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("cargo-flags-corrupt-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join(".flags")).unwrap();
    std::fs::write(dir.join("Cargo.toml"), "[package]\nname = \"x\"\n").unwrap();
    std::fs::write(
        dir.join("flags.toml"),
        "[flags.new_checkout]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\n\
         [flags.new_checkout.rollout]\nstages = [1, 10, 100]\nsoak = \"1m\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join(".flags/state.json"),
        r#"{"version":1,"revision":3,"rollouts":{"new_checkout":{"flag":"new_checkout",
"stages":[1,10,100],"position":{"stage":18446744073709551615,"percent":10,"status":"running"},
"since":0,"reason":"","looks":0,"history":[]}}}"#,
    )
    .unwrap();
    dir
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cargo-flags"))
        .current_dir(dir)
        .args(args)
        .env("USER", "alice")
        .output()
        .unwrap()
}

#[test]
fn status_refuses_an_impossible_stage_and_rollback_resets_it() {
    let dir = workspace("stage");
    let o = run(&dir, &["rollout", "status"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains("state.json"), "{stderr}");
    assert!(
        stderr.contains("`rollouts.new_checkout.position.stage` is 18446744073709551615"),
        "{stderr}"
    );

    // Other actions are refused while it is held; a rollback resets it.
    let o = run(&dir, &["rollout", "advance", "new_checkout"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("held"));
    let o = run(&dir, &["rollout", "rollback", "new_checkout"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = run(&dir, &["rollout", "status"]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("new_checkout: stage 1 at 0% (rolled back)"),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
