//! Where a controller's decisions take effect: the [`Exposure`] a runtime implements,
//! and two small ones for closures and tests.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use super::lock;

/// Sets a flag's exposure: the share of targeting keys for which it is on. The runtime
/// implements it by updating the flag's rollout percentage.
///
/// The controller calls it while holding its own lock, so an implementation must not
/// call back into the controller.
///
/// ```
/// use flags_rollout::Exposure;
/// struct Log;
/// impl Exposure for Log {
///     fn set_exposure(&self, flag: &str, percent: u8) {
///         println!("{flag} -> {percent}%");
///     }
/// }
/// Log.set_exposure("search_v2", 5);
/// ```
pub trait Exposure: Send + Sync {
    /// Expose `flag` to `percent`% (0 to 100) of keys.
    fn set_exposure(&self, flag: &str, percent: u8);
}

impl<T: Exposure + ?Sized> Exposure for Arc<T> {
    fn set_exposure(&self, flag: &str, percent: u8) {
        (**self).set_exposure(flag, percent);
    }
}

/// An [`Exposure`] from a closure.
///
/// ```
/// use flags_rollout::{Exposure, FnExposure};
/// let e = FnExposure(|flag: &str, percent: u8| println!("{flag}: {percent}%"));
/// e.set_exposure("search_v2", 25);
/// ```
pub struct FnExposure<F>(pub F);

impl<F: Fn(&str, u8) + Send + Sync> Exposure for FnExposure<F> {
    fn set_exposure(&self, flag: &str, percent: u8) {
        (self.0)(flag, percent);
    }
}

/// An [`Exposure`] that only remembers the last percentage of each flag: for tests,
/// demos and simulations.
///
/// ```
/// use flags_rollout::{Exposure, MemoryExposure};
/// let e = MemoryExposure::default();
/// e.set_exposure("search_v2", 5);
/// assert_eq!(e.percent("search_v2"), Some(5));
/// assert_eq!(e.percent("other"), None);
/// ```
#[derive(Debug, Default)]
pub struct MemoryExposure {
    percents: Mutex<BTreeMap<String, u8>>,
}

impl MemoryExposure {
    /// The last exposure set for `flag`.
    pub fn percent(&self, flag: &str) -> Option<u8> {
        lock(&self.percents).get(flag).copied()
    }
}

impl Exposure for MemoryExposure {
    fn set_exposure(&self, flag: &str, percent: u8) {
        lock(&self.percents).insert(flag.to_owned(), percent);
    }
}
