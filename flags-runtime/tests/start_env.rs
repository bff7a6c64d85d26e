//! A registry that starts with flags set in the environment reports each change from
//! the manifest as a "flag changed" event, and one whose flags the environment does not
//! set reports none. This binary holds one test, so no other thread reads the
//! environment while it is set.

use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

flags_runtime::flags!(mod set = "tests/start_env.toml");
flags_runtime::flags!(mod untouched = "tests/macro_flags.toml");

/// The `flag` field of every "flag changed" event, with its `from`, `to` and `layer`.
#[derive(Clone, Default)]
struct Changes(Arc<Mutex<Vec<Vec<String>>>>);

struct Fields(Vec<(String, String)>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name().to_owned(), value.to_owned()));
    }
}

impl Subscriber for Changes {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields(Vec::new());
        event.record(&mut fields);
        let field = |name: &str| {
            fields
                .0
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        if field("message").starts_with("flag changed") {
            let change = ["manifest", "flag", "from", "to", "layer"]
                .map(field)
                .to_vec();
            self.0.lock().unwrap().push(change);
        }
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[test]
fn changes_from_the_environment_at_start_are_reported() {
    let changes = Changes::default();
    tracing::subscriber::set_global_default(changes.clone()).unwrap();
    // SAFETY: the only test of this binary, run before any registry starts; no other
    // thread reads or writes the environment meanwhile.
    unsafe {
        std::env::set_var("FLAGS_START_SEARCH", "on");
    }
    assert!(set::start_search());
    assert!(!set::start_other());
    let seen = changes.0.lock().unwrap().clone();
    assert_eq!(
        seen,
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
        changes.0.lock().unwrap().len(),
        1,
        "no flag of the other manifest is set"
    );
}
