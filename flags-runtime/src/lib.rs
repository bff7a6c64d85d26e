//! Nanosecond flag evaluation for flags declared in `flags.toml`.
//!
//! The `flags!` macro (re-exported here) reads the manifest at build time and
//! generates a module of typed accessors backed by a [`Registry`]; this crate decides
//! their values at run time from layered sources.

pub mod bucket;
mod handle;
mod meta;
mod registry;

pub use flags_macros::flags;
pub use flags_manifest as manifest;
pub use handle::{BoolFlag, Variant, VariantFlag};
pub use meta::{FlagMeta, Kind, Lifecycle, Value};
pub use registry::{FastCell, Registry};

/// Items the generated code refers to; not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::handle::{BoolFlag, Variant, VariantFlag};
    pub use crate::meta::{FlagMeta, Kind, Lifecycle, Value};
    pub use crate::registry::{FastCell, Registry};
}
