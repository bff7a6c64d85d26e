//! Where a controller's decisions take effect. An [`ExposureTarget`] sets a flag's
//! percentage and reads back the one in force, which is what lets a controller notice
//! a change it did not make (a person in a control plane's UI, a second controller)
//! and stop rather than fight it. [`Exposure`] is the write-only interface a runtime
//! implements for its own process; [`LocalExposure`] makes one a target whose
//! read-back is what this controller last set (in one process it is the only writer).
//! Targets shared by a fleet (a rule file, Unleash) live in the `flags-fleet` crate.

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

/// Why an [`ExposureTarget`] could not read or set a percentage.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// The target did not answer or answered with an error (an outage): try again later.
    #[error("exposure target {origin} is unavailable: {detail}")]
    Unavailable {
        /// Which target (an address, a file).
        origin: String,
        /// What went wrong.
        detail: String,
    },
    /// The target cannot hold this flag's percentage as asked (no such toggle, no
    /// rollout strategy to change, a refused token): a person must fix it.
    #[error("exposure target {origin} cannot serve flag `{flag}`: {detail}")]
    Unusable {
        /// Which target.
        origin: String,
        /// The flag.
        flag: String,
        /// What is wrong and how to fix it.
        detail: String,
    },
}

/// Sets a flag's exposure where the instances read it, and reads back the percentage
/// in force there.
///
/// The controller reads back before it writes: a value that is neither what it last
/// wrote nor what it is about to write means someone else changed it, and the
/// controller pauses the flag instead of overwriting. Reads and writes may fail (a
/// remote control plane); the controller then holds the flag and retries.
///
/// ```
/// use flags_rollout::{ExposureTarget, TargetError};
/// use std::{collections::BTreeMap, sync::Mutex};
///
/// #[derive(Default)]
/// struct Table(Mutex<BTreeMap<String, u8>>);
/// impl ExposureTarget for Table {
///     fn describe(&self) -> String { "a table".into() }
///     fn read_exposure(&self, flag: &str) -> Result<Option<u8>, TargetError> {
///         Ok(self.0.lock().unwrap().get(flag).copied())
///     }
///     fn write_exposure(&self, flag: &str, percent: u8) -> Result<(), TargetError> {
///         self.0.lock().unwrap().insert(flag.to_owned(), percent);
///         Ok(())
///     }
/// }
/// let t = Table::default();
/// t.write_exposure("search_v2", 5)?;
/// assert_eq!(t.read_exposure("search_v2")?, Some(5));
/// # Ok::<(), TargetError>(())
/// ```
pub trait ExposureTarget: Send + Sync {
    /// Where it writes, for messages and alerts (`unleash http://host env production`).
    fn describe(&self) -> String;

    /// The percentage in force for `flag`, `None` when the target holds none for it
    /// yet (the controller then sets it without suspecting anyone).
    fn read_exposure(&self, flag: &str) -> Result<Option<u8>, TargetError>;

    /// Sets `flag` to `percent`% (0 to 100) of keys.
    fn write_exposure(&self, flag: &str, percent: u8) -> Result<(), TargetError>;
}

impl<T: ExposureTarget + ?Sized> ExposureTarget for Arc<T> {
    fn describe(&self) -> String {
        (**self).describe()
    }
    fn read_exposure(&self, flag: &str) -> Result<Option<u8>, TargetError> {
        (**self).read_exposure(flag)
    }
    fn write_exposure(&self, flag: &str, percent: u8) -> Result<(), TargetError> {
        (**self).write_exposure(flag, percent)
    }
}

/// An [`Exposure`] of this process (the runtime's rollout layer) as a target: writes
/// go to it, and the read-back is what was last written through this wrapper, since
/// in one process the controller is the layer's only writer.
/// [`RolloutController::builder`](crate::RolloutController::builder) wraps its
/// exposure in one.
///
/// ```
/// use flags_rollout::{ExposureTarget, LocalExposure, MemoryExposure};
/// let local = LocalExposure::new(MemoryExposure::default());
/// assert_eq!(local.read_exposure("search_v2")?, None);
/// local.write_exposure("search_v2", 5)?;
/// assert_eq!(local.read_exposure("search_v2")?, Some(5));
/// assert_eq!(local.inner().percent("search_v2"), Some(5));
/// # Ok::<(), flags_rollout::TargetError>(())
/// ```
pub struct LocalExposure<E> {
    exposure: E,
    written: Mutex<BTreeMap<String, u8>>,
}

impl<E: Exposure> LocalExposure<E> {
    /// Wraps `exposure`.
    pub fn new(exposure: E) -> LocalExposure<E> {
        LocalExposure {
            exposure,
            written: Mutex::new(BTreeMap::new()),
        }
    }

    /// The wrapped exposure.
    pub fn inner(&self) -> &E {
        &self.exposure
    }
}

impl<E: Exposure> ExposureTarget for LocalExposure<E> {
    fn describe(&self) -> String {
        "this process's rollout layer".to_owned()
    }
    fn read_exposure(&self, flag: &str) -> Result<Option<u8>, TargetError> {
        Ok(lock(&self.written).get(flag).copied())
    }
    fn write_exposure(&self, flag: &str, percent: u8) -> Result<(), TargetError> {
        self.exposure.set_exposure(flag, percent);
        lock(&self.written).insert(flag.to_owned(), percent);
        Ok(())
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

/// A memory target: reads back what anyone set, so a test can play the person who
/// changes a percentage behind the controller's back.
impl ExposureTarget for MemoryExposure {
    fn describe(&self) -> String {
        "memory".to_owned()
    }
    fn read_exposure(&self, flag: &str) -> Result<Option<u8>, TargetError> {
        Ok(self.percent(flag))
    }
    fn write_exposure(&self, flag: &str, percent: u8) -> Result<(), TargetError> {
        self.set_exposure(flag, percent);
        Ok(())
    }
}
