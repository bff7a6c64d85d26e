//! Testing under flag combinations.
//!
//! - [`FlagMatrix`] (and the [`matrix`] attribute) runs one test body under each
//!   combination of flag values, in process, each inside its own override scope;
//! - [`runner`] runs a whole test command once per combination, for CI
//!   (`cargo flags matrix`);
//! - [`cover`] chooses the combinations: exhaustive, t-wise covering arrays as small as
//!   known constructions allow, or seeded random samples, never breaking a constraint.

pub mod cover;
mod matrix;
pub mod runner;

pub use flags_macros::matrix;
pub use matrix::{Case, FlagMatrix, SEED_VAR};
pub use runner::{Mode, Pin};
