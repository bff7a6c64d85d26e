//! Testing under flag combinations, in process.
//!
//! - [`FlagMatrix`] (and the [`matrix`] attribute) runs one test body under each
//!   combination of flag values, in process, each inside its own override scope, never
//!   breaking the test's own rules ([`FlagMatrix::requires`] and
//!   [`FlagMatrix::excludes`] on [`FlagSetting`]s such as `flags::SEARCH_V2.is(true)`);
//! - [`plan`] chooses the combinations for a manifest: the flags to vary, the mode, the
//!   pins and the constraints, as the in-process matrix and the whole-suite runner
//!   (`flags-runner`, behind `cargo flags matrix`) both use it;
//! - [`cover`] generates them: exhaustive, t-wise covering arrays as small as known
//!   constructions allow, or seeded random samples, never breaking a constraint.

pub mod cover;
mod matrix;
pub mod plan;
mod setting;

pub use flags_macros::matrix;
pub use matrix::{Case, FlagMatrix, MatrixError, MatrixFlag, SEED_VAR};
pub use plan::{Mode, Pin};
pub use setting::{FlagHandleExt, FlagSetting};
