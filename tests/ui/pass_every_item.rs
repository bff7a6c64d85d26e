//! Uses every item `flags!` generates, in both forms, with warnings denied.

#![deny(warnings, missing_docs)]

use flags_runtime::Variant;

flags_runtime::flags!("pass_every_item.toml");
flags_runtime::flags!(pub(crate) mod features = "pass_every_item.toml");

fn main() {
    // Accessors, returning the manifest defaults.
    let search: bool = flags::search_v2();
    let layout: flags::CheckoutLayout = flags::checkout_layout();
    let kill: bool = flags::kill_payments();
    assert!(!search);
    assert_eq!(layout, flags::CheckoutLayout::Classic);
    assert!(kill);

    // Handles.
    let h: flags_runtime::BoolFlag = flags::SEARCH_V2;
    assert!(!h.get());
    assert_eq!(h.meta().owner, "search-team");
    let v: flags_runtime::VariantFlag<flags::CheckoutLayout> = flags::CHECKOUT_LAYOUT;
    assert_eq!(v.get(), flags::CheckoutLayout::Classic);
    assert_eq!(v.meta().variants, ["classic", "two-col"]);
    assert!(flags::KILL_PAYMENTS.get());

    // The enum: Variant, Default, Display, Debug, Eq, Hash, Copy.
    let two = flags::CheckoutLayout::from_index(1);
    assert_eq!(two, flags::CheckoutLayout::TwoCol);
    assert_eq!((two.index(), two.name()), (1, "two-col"));
    assert_eq!(two.to_string(), "two-col");
    assert_eq!(format!("{two:?}"), "TwoCol");
    assert_eq!(
        flags::CheckoutLayout::default(),
        flags::CheckoutLayout::Classic
    );
    let set: std::collections::HashSet<_> = [two, two].into_iter().collect();
    assert_eq!(set.len(), 1);

    // Static flags: constants, usable in const context.
    const DARK: bool = flags::dark_mode();
    const DENSITY: flags::Density = flags::density();
    assert!(!DARK && !flags::DARK_MODE);
    assert_eq!(DENSITY, flags::Density::Comfortable);
    assert_eq!(flags::DENSITY, flags::Density::Comfortable);

    // Metadata and the registry.
    assert_eq!(flags::META.len(), 5);
    assert_eq!(
        flags::META[0].requires,
        [flags_runtime::Requirement::at(1, 1)]
    );
    assert_eq!(flags::META[2].excludes, [flags_runtime::Requirement::on(0)]);
    assert_eq!(flags::REGISTRY.flags().len(), 5);
    assert_eq!(flags::REGISTRY.manifest_source().0, "pass_every_item.toml");

    // The second module.
    assert_eq!(
        features::checkout_layout(),
        features::CheckoutLayout::Classic
    );
}
