//! The exact exposition of hand-written registries: every line a scrape returns.

use flags_observe::FlagMetrics;
use flags_runtime::__private::{Date, FastCell, Kind, Lifecycle, Registry};
use flags_runtime::{BoolFlag, FlagMeta};

static META: [FlagMeta; 2] = [
    FlagMeta {
        owner: "search-team",
        kind: Kind::Release,
        expires: Some(Date::ymd(2099, 12, 31)),
        ..FlagMeta::bare("new_search", 0, &[])
    },
    FlagMeta {
        owner: "web",
        lifecycle: Lifecycle::Deprecated,
        kind: Kind::Experiment,
        ..FlagMeta::bare("layout", 1, &["classic", "compact"])
    },
];
static CELLS: [FastCell; 2] = [const { FastCell::new() }; 2];
static REGISTRY: Registry = Registry::new(&META, &CELLS, "", "flags.toml");
const NEW_SEARCH: BoolFlag = BoolFlag::new(&REGISTRY, 0);

#[test]
fn print() {
    REGISTRY.set_counting(true);
    for _ in 0..3 {
        let _ = NEW_SEARCH.get();
    }
    println!("{}", FlagMetrics::new(&REGISTRY).encode());
}
