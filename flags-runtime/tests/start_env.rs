//! A registry that starts with flags set in the environment reports each change from
//! the manifest as a "flag changed" event, and one whose flags the environment does not
//! set reports none. This binary holds one test, so no other thread reads the
//! environment while it is set.

mod common;

use common::capture::Capture;

flags_runtime::flags!(mod set = "tests/start_env.toml");
flags_runtime::flags!(mod untouched = "tests/macro_flags.toml");

/// The `manifest`, `flag`, `from`, `to` and `layer` of every "flag changed" event.
fn changes(capture: &Capture) -> Vec<Vec<String>> {
    capture
        .events()
        .iter()
        .filter(|e| e.field("message").starts_with("flag changed"))
        .map(|e| {
            ["manifest", "flag", "from", "to", "layer"]
                .map(|name| e.field(name).to_owned())
                .to_vec()
        })
        .collect()
}

#[test]
fn changes_from_the_environment_at_start_are_reported() {
    let capture = Capture::default();
    tracing::subscriber::set_global_default(capture.clone()).unwrap();
    // SAFETY: the only test of this binary, run before any registry starts; no other
    // thread reads or writes the environment meanwhile.
    unsafe {
        std::env::set_var("FLAGS_START_SEARCH", "on");
    }
    assert!(set::start_search());
    assert!(!set::start_other());
    assert_eq!(
        changes(&capture),
        [[
            "tests/start_env.toml",
            "start_search",
            "off (default) [manifest]",
            "on [env]",
            "env"
        ]]
    );

    untouched::REGISTRY.init();
    assert_eq!(
        changes(&capture).len(),
        1,
        "no flag of the other manifest is set"
    );
}
