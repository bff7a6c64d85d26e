//! `flags!` on a real manifest (tests/flags.toml): the generated accessors, handles,
//! enums, static constants and metadata agree with the manifest as flags-manifest reads it.

use flags_runtime::Variant;
use flags_runtime::manifest::{Kind, Lifecycle, Value};

flags_runtime::flags!("flags.toml");
flags_runtime::flags!(pub(crate) mod feature = "flags.toml");

const SOURCE: &str = include_str!("../flags.toml");

fn manifest() -> flags_runtime::manifest::Manifest {
    flags_runtime::manifest::parse_str(SOURCE, "flags.toml").expect("tests/flags.toml is valid")
}

#[test]
fn accessors_return_manifest_defaults() {
    assert!(!flags::search_v2());
    assert_eq!(flags::checkout_layout(), flags::CheckoutLayout::TwoCol);
    assert!(flags::kill_payments());
    assert!(!flags::beta_access());
    // Handles read the same values.
    assert!(!flags::SEARCH_V2.get());
    assert_eq!(flags::CHECKOUT_LAYOUT.get(), flags::CheckoutLayout::TwoCol);
    assert!(flags::KILL_PAYMENTS.get());
    // The second form generates the same flags under another name.
    assert_eq!(feature::checkout_layout(), feature::CheckoutLayout::TwoCol);
    assert_eq!(feature::META.len(), flags::META.len());
}

#[test]
fn meta_matches_the_manifest() {
    let m = manifest();
    assert_eq!(flags::META.len(), m.flags.len());
    assert_eq!(flags::META.len(), 6);
    for (meta, flag) in flags::META.iter().zip(&m.flags) {
        assert_eq!(meta.name, flag.name);
        assert_eq!(meta.index, flag.index);
        assert_eq!(meta.description, flag.description);
        assert_eq!(meta.owner, flag.owner);
        assert_eq!(meta.kind, flag.kind);
        assert_eq!(meta.lifecycle, flag.lifecycle);
        assert_eq!(meta.expires, flag.expires);
        // Prerequisites by index, and by variant index for variant flags.
        for (typed, written) in [
            (meta.requires, &flag.requires),
            (meta.excludes, &flag.excludes),
        ] {
            let named: Vec<(String, Option<String>)> = typed
                .iter()
                .map(|r| {
                    let target = &flags::META[r.flag];
                    let variant = r
                        .variant
                        .map(|v| target.variants[usize::from(v)].to_owned());
                    (target.name.to_owned(), variant)
                })
                .collect();
            let expected: Vec<(String, Option<String>)> = written
                .iter()
                .map(|r| (r.flag.clone(), r.variant.clone()))
                .collect();
            assert_eq!(named, expected, "flag `{}`", flag.name);
        }
        assert_eq!(meta.variants, flag.variants());
        assert_eq!(meta.default, flag.default);
        assert_eq!(meta.is_static, flag.is_static);
    }
}

#[test]
fn meta_contents() {
    let names: Vec<&str> = flags::META.iter().map(|m| m.name).collect();
    assert_eq!(
        names,
        [
            "search_v2",
            "checkout_layout",
            "kill_payments",
            "beta_access",
            "dark_mode",
            "density"
        ]
    );
    let indices: Vec<usize> = flags::META.iter().map(|m| m.index).collect();
    assert_eq!(indices, [0, 1, 2, 3, 4, 5]);
    let owners: Vec<&str> = flags::META.iter().map(|m| m.owner).collect();
    assert_eq!(
        owners,
        [
            "search-team",
            "checkout-team",
            "payments-oncall",
            "growth",
            "ui-team",
            "ui-team"
        ]
    );
    let layout = &flags::META[1];
    assert_eq!(layout.variants, ["classic", "two-col", "one_page"]);
    assert_eq!(layout.default, Value::Variant(1));
    assert_eq!(layout.kind, Kind::Experiment);
    assert_eq!(
        layout.expires.map(|d| d.to_string()).as_deref(),
        Some("2099-12-31")
    );
    assert_eq!(layout.label(layout.default), "two-col");
    let search = &flags::META[0];
    assert_eq!(search.requires, [flags_runtime::Requirement::at(1, 1)]);
    assert!(search.is_bool());
    assert_eq!(search.default, Value::Bool(false));
    let kill = &flags::META[2];
    assert_eq!(kill.excludes, [flags_runtime::Requirement::on(0)]);
    assert_eq!(kill.expires, None);
    assert_eq!(kill.default, Value::Bool(true));
    assert_eq!(flags::META[3].lifecycle, Lifecycle::RolledOut);
    assert_eq!(flags::META[5].lifecycle, Lifecycle::Planned);
    assert!(flags::META[4].is_static && flags::META[5].is_static);
    assert!(!flags::META[0].is_static);

    // Handles and the registry point at the same table.
    assert_eq!(flags::SEARCH_V2.meta().name, "search_v2");
    assert_eq!(flags::CHECKOUT_LAYOUT.meta().index, 1);
    assert_eq!(flags::REGISTRY.flags().len(), 6);
    assert!(std::ptr::eq(flags::REGISTRY.flags(), &flags::META[..]));
    let (path, source) = flags::REGISTRY.manifest_source();
    assert_eq!(path, "flags.toml");
    assert_eq!(source, SOURCE);
}

#[test]
fn enum_conversions() {
    use flags::CheckoutLayout as L;
    let all = [L::Classic, L::TwoCol, L::OnePage];
    for (i, v) in all.iter().enumerate() {
        assert_eq!(v.index(), i as u16);
        assert_eq!(L::from_index(i as u16), *v);
        assert_eq!(v.name(), flags::META[1].variants[i]);
        assert_eq!(v.to_string(), v.name());
    }
    assert_eq!(L::default(), L::TwoCol);
    // Out of range falls back to the manifest default, never panics.
    assert_eq!(L::from_index(3), L::TwoCol);
    assert_eq!(L::from_index(u16::MAX), L::TwoCol);
    assert_eq!(format!("{:?}", L::OnePage), "OnePage");
    assert_eq!(flags::Density::default(), flags::Density::Comfortable);
}

#[test]
fn static_flags_are_constants() {
    // Usable in const context: the compiler can remove the dead branch.
    const DARK: bool = flags::dark_mode();
    const DENSITY: flags::Density = flags::density();
    assert_eq!(DARK, flags::DARK_MODE);
    assert_eq!(DENSITY, flags::DENSITY);
    // Unless the build set FLAGS_STATIC_*, the values are the manifest defaults.
    if option_env!("FLAGS_STATIC_DARK_MODE").is_none() {
        assert_eq!(DARK, flags::META[4].default == Value::Bool(true));
        assert!(flags::META[4].default == Value::Bool(true));
    }
    if option_env!("FLAGS_STATIC_DENSITY").is_none() {
        assert_eq!(DENSITY, flags::Density::Comfortable);
    }
}
