//! Compile-time tests of `flags!` (trybuild): `ui/fail_*.rs` each hold one class of bad
//! manifest or bad macro input, with the compiler's exact messages in the `.stderr`
//! beside them; `ui/pass_*.rs` must compile and run. Each case keeps its manifest
//! beside it (`ui/<case>.toml`), found through the macro's second lookup place, the
//! directory of the invoking file.
//!
//! Run with `cargo test -p flags-tests --test ui`; after changing a message on purpose,
//! `TRYBUILD=overwrite` rewrites the `.stderr` files (then read them).
//!
//! The `.stderr` files hold one compiler's wording, so the compile-fail cases are pinned
//! to the rustc that wrote them, named in `ui/RUSTC_VERSION`: under another rustc they
//! are skipped, saying so, and a compiler release cannot fail the build over a changed
//! note or column. The `pass` cases run under any rustc. `TRYBUILD=overwrite` runs
//! every case and re-pins to the rustc in use.

use std::path::Path;
use std::process::Command;

/// The build date every case sees, so expiry messages do not change with the calendar.
const TODAY: &str = "2026-06-15";

fn main() {
    // SAFETY: `set_var` and `remove_var` are unsound only while another thread may read
    // or write the environment. This test has no harness (`harness = false` in
    // Cargo.toml), so `main` is the process's only thread here: trybuild spawns its
    // cargo processes, which inherit this environment, only below.
    unsafe {
        std::env::set_var("FLAGS_TODAY", TODAY);
        std::env::remove_var("SOURCE_DATE_EPOCH");
        // `fail_static_bad_env.rs`: not a value of that on/off flag.
        std::env::set_var("FLAGS_STATIC_UI_BAD_STATIC", "sideways");
        // `pass_static_env.rs`: override the manifest defaults.
        std::env::set_var("FLAGS_STATIC_UI_STATIC_FROM_ENV", "on");
        std::env::set_var("FLAGS_STATIC_UI_LAYOUT_FROM_ENV", "wide");
        // `fail_static_env_misspelt.rs`: one letter off its static flag's variable.
        std::env::set_var("FLAGS_STATIC_UI_MISSPELT_STATC", "on");
    }
    write_if_changed(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/pass_thousand_flags.toml"),
        &thousand_flags(),
    );

    let pin_file = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/RUSTC_VERSION");
    let pinned = std::fs::read_to_string(&pin_file)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", pin_file.display()));
    let pinned = pinned.trim();
    let rustc = rustc_version();
    let overwrite = std::env::var_os("TRYBUILD").is_some_and(|v| v == "overwrite");
    let compile_fail = overwrite || rustc == pinned;

    let t = trybuild::TestCases::new();
    t.pass("ui/pass_*.rs");
    t.pass("ui/manifest_pass_*.rs");
    t.pass("ui/gate_pass_*.rs");
    t.pass("ui/matrix_pass_*.rs");
    if compile_fail {
        t.compile_fail("ui/fail_*.rs");
        // Manifest checks: dependencies between flags, positions and help texts.
        t.compile_fail("ui/manifest_fail_*.rs");
        // `#[feature_gate]`: its cases share `ui/gate_flags.toml`.
        t.compile_fail("ui/gate_fail_*.rs");
        // `#[flags_test::matrix]`: its cases share `ui/matrix_flags.toml`.
        t.compile_fail("ui/matrix_fail_*.rs");
        // Expiry warnings and errors, their text and their names.
        t.compile_fail("ui/expiry_fail_*.rs");
    } else {
        println!(
            "ui: skipped: the compile-fail cases hold the messages of rustc {pinned} \
             (ui/RUSTC_VERSION) and this is rustc {rustc}; run them under rustc {pinned}, or \
             re-pin with TRYBUILD=overwrite and read the .stderr files that change"
        );
    }
    // The cases run when `t` is dropped; a failure panics there.
    drop(t);
    if overwrite && rustc != pinned {
        std::fs::write(&pin_file, format!("{rustc}\n"))
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", pin_file.display()));
        println!("ui: re-pinned to rustc {rustc} (was {pinned})");
    }
}

/// The version of the rustc that cargo compiles the cases with (`1.95.0`,
/// `1.97.0-nightly`): `$RUSTC` when set, as cargo takes it, else `rustc` on the path.
fn rustc_version() -> String {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(&rustc)
        .arg("--version")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} --version: {e}", rustc.to_string_lossy()));
    let text = String::from_utf8_lossy(&out.stdout);
    // `rustc 1.95.0 (59807616e 2026-04-14)`
    match text.split_whitespace().nth(1) {
        Some(version) if out.status.success() => version.to_owned(),
        _ => panic!(
            "unexpected answer from {} --version: {text}",
            rustc.to_string_lossy()
        ),
    }
}

/// A manifest of 1,000 flags mixing every shape: on/off, variants, static, expiring
/// (far ahead of [`TODAY`]), with `requires` and rules.
fn thousand_flags() -> String {
    let mut s = String::from(
        "# Written by tests/tests/ui.rs (`thousand_flags`); edit the generator, not this file.\n\n",
    );
    for i in 0..1000 {
        s.push_str(&format!(
            "[flags.flag_{i:04}]\ndescription = \"Flag number {i}\"\nowner = \"team-{}\"\n",
            i % 17
        ));
        match i % 4 {
            0 => s.push_str("kind = \"release\"\nexpires = 2099-06-30\n"),
            1 => s.push_str(
                "kind = \"experiment\"\nexpires = 2099-03-31\nvariants = [\"control\", \"treatment-a\", \"treatment-b\"]\ndefault = \"control\"\n",
            ),
            2 => s.push_str("kind = \"ops\"\nstatic = true\ndefault = true\n"),
            _ => s.push_str(&format!(
                "kind = \"permission\"\nrequires = [\"flag_{:04}\"]\n[[flags.flag_{i:04}.strategies]]\ntype = \"rollout\"\npercent = 25\n",
                i - 3
            )),
        }
        s.push('\n');
    }
    s
}

/// Writes `content` unless the file already holds it, so a clean checkout stays clean.
fn write_if_changed(path: &Path, content: &str) {
    if std::fs::read_to_string(path).ok().as_deref() != Some(content) {
        std::fs::write(path, content)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }
}
