//! What the scanner looks for: the names the `flags!` macro generates for each flag
//! (accessor, handle const, enum), the flags' own names for `#[feature_gate]`, and the
//! names the generated module goes by.

use std::collections::{HashMap, HashSet};

use flags_manifest::{Manifest, to_upper_camel};

/// Which generated item a reference goes through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RefKind {
    /// The accessor function, `flags::search_v2()`.
    Accessor,
    /// The handle const, `flags::SEARCH_V2.get_for(..)`.
    Handle,
    /// The enum of a variant flag, `flags::CheckoutLayout::TwoCol`.
    Enum,
    /// A `use` of one of those items.
    Import,
    /// A `#[feature_gate(..)]` attribute.
    Attribute,
}

impl RefKind {
    /// The kind in one word.
    pub fn as_str(self) -> &'static str {
        match self {
            RefKind::Accessor => "accessor",
            RefKind::Handle => "handle",
            RefKind::Enum => "enum",
            RefKind::Import => "import",
            RefKind::Attribute => "attribute",
        }
    }
}

/// What the scanner looks for, built once from the manifest and shared by every
/// thread.
#[derive(Clone, Debug)]
pub struct Names {
    /// Accessor, handle and enum names, to the flag index and the kind of item.
    pub(super) items: HashMap<String, (usize, RefKind)>,
    /// Manifest names and accessor names, to the flag index (for attributes).
    pub(super) flags: HashMap<String, usize>,
    /// Names the generated module goes by (`flags` and any `flags!(mod NAME = ..)`).
    pub modules: HashSet<String>,
}

impl Names {
    /// The names of `manifest`'s generated items, with the module names to treat as
    /// the generated module.
    pub fn new(manifest: &Manifest, modules: impl IntoIterator<Item = String>) -> Names {
        let mut items = HashMap::new();
        let mut flags = HashMap::new();
        for flag in &manifest.flags {
            items.insert(flag.ident.clone(), (flag.index, RefKind::Accessor));
            items.insert(flag.ident.to_uppercase(), (flag.index, RefKind::Handle));
            if !flag.variants().is_empty() {
                items.insert(to_upper_camel(&flag.ident), (flag.index, RefKind::Enum));
            }
            flags.insert(flag.name.clone(), flag.index);
            flags.insert(flag.ident.clone(), flag.index);
        }
        let mut all_modules: HashSet<String> = modules.into_iter().collect();
        all_modules.insert("flags".to_owned());
        Names {
            items,
            flags,
            modules: all_modules,
        }
    }
}
