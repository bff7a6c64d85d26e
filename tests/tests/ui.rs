//! Compile-time tests of `flags!` (trybuild): `ui/fail_*.rs` each hold one class of bad
//! manifest or bad macro input, with the compiler's exact messages in the `.stderr`
//! beside them; `ui/pass_*.rs` must compile and run. Each case keeps its manifest
//! beside it (`ui/<case>.toml`), found through the macro's second lookup place, the
//! directory of the invoking file.
//!
//! Run with `cargo test -p flags-tests --test ui`; after changing a message on purpose,
//! `TRYBUILD=overwrite` rewrites the `.stderr` files (then read them).

use std::path::Path;

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
    }
    write_if_changed(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/pass_thousand_flags.toml"),
        &thousand_flags(),
    );

    let t = trybuild::TestCases::new();
    t.compile_fail("ui/fail_*.rs");
    t.pass("ui/pass_*.rs");
    // Manifest checks: dependencies between flags, positions and help texts.
    t.compile_fail("ui/manifest_fail_*.rs");
    t.pass("ui/manifest_pass_*.rs");
    // `#[feature_gate]`: its cases share `ui/gate_flags.toml`.
    t.compile_fail("ui/gate_fail_*.rs");
    t.pass("ui/gate_pass_*.rs");
    // `#[flags_test::matrix]`: its cases share `ui/matrix_flags.toml`.
    t.compile_fail("ui/matrix_fail_*.rs");
    t.pass("ui/matrix_pass_*.rs");
    // Expiry warnings and errors, their text and their names.
    t.compile_fail("ui/expiry_fail_*.rs");
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
