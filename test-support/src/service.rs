//! Tests that need something outside the workspace: an Unleash server, Unleash's
//! client specification, a headless browser. A plain `cargo test` on a fresh checkout
//! passes without them: such a test prints `skipped: ...` with the command that
//! provides the service, and returns. `scripts/test.sh` provides every service and
//! sets `TEST_REQUIRE_SERVICES=1`, which turns each skip into a failure, so CI can
//! never skip one silently.

/// Set to `1` to make every test that needs an external service mandatory.
pub const REQUIRE_VAR: &str = "TEST_REQUIRE_SERVICES";

/// Whether `TEST_REQUIRE_SERVICES=1`.
pub fn required() -> bool {
    std::env::var(REQUIRE_VAR).is_ok_and(|v| v.trim() == "1")
}

/// The service `what` is absent: prints `skipped: ...` naming `start` (how to provide
/// it), or panics saying the same when [`required`]. The caller returns after this.
#[track_caller]
pub fn absent(what: &str, start: &str) {
    assert!(
        !required(),
        "{what} is needed ({REQUIRE_VAR}=1) but absent: start it with {start}"
    );
    eprintln!(
        "skipped: {what} is absent; start it with {start} \
         (scripts/test.sh does, and sets {REQUIRE_VAR}=1 to make this test mandatory)"
    );
}

/// The value of environment variable `var`, which locates the service `what`; `None`
/// after [`absent`] when it is unset.
#[track_caller]
pub fn from_env(var: &str, what: &str, start: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(value) if !value.trim().is_empty() => Some(value),
        _ => {
            absent(&format!("{what} ({var} is not set)"), start);
            None
        }
    }
}
