//! A test manifest and hand-written statics of the shape `flags!` generates (see
//! notes/INTERFACE.md), so the runtime can be tested without the macro. Each test
//! declares its own registry with `test_registry!` so that process-wide changes in
//! one test never leak into another running in parallel.

#![allow(dead_code)]

pub mod capture;
pub mod unleash;

use flags_runtime::__private::{FlagMeta, Requirement, Value, Variant};

pub const MANIFEST: &str = r#"
[flags.search_v2]
description = "New search"
owner = "search"
kind = "ops"

[flags.layout]
description = "Page layout"
owner = "web"
kind = "ops"
variants = ["classic", "compact", "wide"]
default = "classic"

[flags.beta_rollout]
description = "Half of the users"
owner = "web"
kind = "ops"
[[flags.beta_rollout.strategies]]
type = "rollout"
percent = 50

[flags.checkout]
description = "New checkout, needs the new search"
owner = "shop"
kind = "ops"
default = true
requires = ["search_v2"]

[flags.pricing]
description = "Pricing page experiment"
owner = "growth"
kind = "ops"
variants = ["a", "b"]
default = "a"
variant_weights = { a = 500, b = 500 }
[[flags.pricing.strategies]]
type = "all"

[flags.killed]
description = "Switched off"
owner = "ops"
kind = "ops"
enabled = false
[[flags.killed.strategies]]
type = "all"

[flags.targeted]
description = "Alice in France, or pro plans"
owner = "web"
kind = "ops"
[[flags.targeted.strategies]]
type = "keys"
keys = ["alice"]
[[flags.targeted.strategies.constraints]]
attribute = "country"
operator = "in"
values = ["fr"]
[[flags.targeted.strategies]]
type = "all"
[[flags.targeted.strategies.constraints]]
attribute = "plan"
operator = "in"
values = ["pro"]

[flags.dark_mode]
description = "Compile-time only"
owner = "web"
kind = "ops"
static = true
"#;

pub const SEARCH_V2: usize = 0;
pub const LAYOUT: usize = 1;
pub const BETA_ROLLOUT: usize = 2;
pub const CHECKOUT: usize = 3;
pub const PRICING: usize = 4;
pub const KILLED: usize = 5;
pub const TARGETED: usize = 6;
pub const DARK_MODE: usize = 7;

const fn meta(
    name: &'static str,
    index: usize,
    variants: &'static [&'static str],
    default: Value,
    requires: &'static [Requirement],
    is_static: bool,
) -> FlagMeta {
    FlagMeta {
        default,
        requires,
        is_static,
        ..FlagMeta::bare(name, index, variants)
    }
}

pub static META: [FlagMeta; 8] = [
    meta("search_v2", 0, &[], Value::Bool(false), &[], false),
    meta(
        "layout",
        1,
        &["classic", "compact", "wide"],
        Value::Variant(0),
        &[],
        false,
    ),
    meta("beta_rollout", 2, &[], Value::Bool(false), &[], false),
    meta(
        "checkout",
        3,
        &[],
        Value::Bool(true),
        &[Requirement::on(0)],
        false,
    ),
    meta("pricing", 4, &["a", "b"], Value::Variant(0), &[], false),
    meta("killed", 5, &[], Value::Bool(false), &[], false),
    meta("targeted", 6, &[], Value::Bool(false), &[], false),
    meta("dark_mode", 7, &[], Value::Bool(false), &[], true),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layout {
    Classic,
    Compact,
    Wide,
}

impl Variant for Layout {
    fn from_index(index: u16) -> Self {
        match index {
            1 => Layout::Compact,
            2 => Layout::Wide,
            _ => Layout::Classic,
        }
    }
    fn index(self) -> u16 {
        self as u16
    }
    fn name(self) -> &'static str {
        ["classic", "compact", "wide"][self as usize]
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pricing {
    A,
    B,
}

impl Variant for Pricing {
    fn from_index(index: u16) -> Self {
        if index == 1 { Pricing::B } else { Pricing::A }
    }
    fn index(self) -> u16 {
        self as u16
    }
    fn name(self) -> &'static str {
        ["a", "b"][self as usize]
    }
}

/// Declares `mod $name` with its own cells and registry over [`META`] and typed
/// handles, as the `flags!` expansion would.
#[macro_export]
macro_rules! test_registry {
    ($name:ident) => {
        #[allow(dead_code)]
        mod $name {
            use flags_runtime::__private::{BoolFlag, FastCell, Registry, VariantFlag};
            use $crate::common::{Layout, MANIFEST, META, Pricing};

            static CELLS: [FastCell; 8] = [const { FastCell::new() }; 8];
            pub static REGISTRY: Registry = Registry::new(&META, &CELLS, MANIFEST, "flags.toml");

            pub const SEARCH_V2: BoolFlag = BoolFlag::new(&REGISTRY, 0);
            pub const LAYOUT: VariantFlag<Layout> = VariantFlag::new(&REGISTRY, 1);
            pub const BETA_ROLLOUT: BoolFlag = BoolFlag::new(&REGISTRY, 2);
            pub const CHECKOUT: BoolFlag = BoolFlag::new(&REGISTRY, 3);
            pub const PRICING: VariantFlag<Pricing> = VariantFlag::new(&REGISTRY, 4);
            pub const KILLED: BoolFlag = BoolFlag::new(&REGISTRY, 5);
            pub const TARGETED: BoolFlag = BoolFlag::new(&REGISTRY, 6);
        }
    };
}
