//! Sources of rules above the manifest: a rule/state file, the environment, a remote
//! service. A [`Source`] produces whole-layer updates; the registry checks each one and
//! either applies it entirely or rejects it entirely, keeping the last good state.

mod env;
mod file;
mod watch;

pub use env::{EnvProblem, EnvSource};
pub use file::{DEFAULT_SETTLE, FileSource};
pub use watch::{DEFAULT_POLL_INTERVAL, Watch};

use flags_manifest::Rules;

use crate::explain::Layer;
use crate::registry::Registry;

/// A provider of one layer's rules.
///
/// Each successful poll that returns an [`Update`] replaces the layer whole: flags the
/// update does not mention fall back to lower layers. An Unleash client, for
/// instance, implements this as the [`Layer::Remote`] source, building [`Rules`] from
/// its payload and resolving flag names with [`Registry::index_of`].
///
/// # Examples
///
/// ```
/// use flags_runtime::{Layer, Registry, Source, SourceError, Update};
/// use flags_runtime::manifest::{Rules, Value};
///
/// /// Turns every flag on, once.
/// struct AllOn(bool);
///
/// impl Source for AllOn {
///     fn name(&self) -> &str { "all-on" }
///     fn layer(&self) -> Layer { Layer::Remote }
///     fn poll(&mut self, registry: &Registry) -> Result<Option<Update>, SourceError> {
///         if std::mem::replace(&mut self.0, true) {
///             return Ok(None); // nothing new
///         }
///         let rules = registry.flags().iter()
///             .filter(|m| m.is_bool())
///             .map(|m| (m.index, Rules { value: Some(Value::Bool(true)), ..Rules::default() }))
///             .collect();
///         Ok(Some(Update::new(rules)))
///     }
/// }
/// # let _ = AllOn(false);
/// ```
pub trait Source: Send {
    /// How telemetry and errors name the source (a path, `env`, a URL).
    fn name(&self) -> &str;

    /// The layer the source feeds.
    fn layer(&self) -> Layer;

    /// Fetches the source's current state: `Ok(None)` when nothing changed since the
    /// last poll, `Err` when what it found is unusable (it is reported and the last
    /// good state stays).
    fn poll(&mut self, registry: &Registry) -> Result<Option<Update>, SourceError>;

    /// `Some(wait)` while the source has seen a change it has not confirmed yet (a file
    /// still being written): a [`Watch`] polls again after `wait` rather than after
    /// its usual interval. `None` (the default) when there is nothing to confirm.
    fn settling(&self) -> Option<std::time::Duration> {
        None
    }
}

/// A whole-layer update: rules by flag index, and problems the source chose to skip
/// (reported as warnings).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Update {
    /// Rules by dense flag index; flags absent here have no rules in the layer.
    pub rules: Vec<(usize, Rules)>,
    /// Parts of the input that were ignored, each a sentence naming where it was.
    pub warnings: Vec<String>,
}

impl Update {
    /// An update with `rules` and no warnings.
    ///
    /// # Examples
    ///
    /// ```
    /// let update = flags_runtime::Update::new(vec![]);
    /// assert!(update.rules.is_empty() && update.warnings.is_empty());
    /// ```
    #[must_use]
    pub fn new(rules: Vec<(usize, Rules)>) -> Update {
        Update {
            rules,
            warnings: Vec::new(),
        }
    }
}

/// Why a source could not produce an update.
///
/// # Examples
///
/// ```
/// let e = flags_runtime::SourceError::new("state.toml", "cannot read: not found");
/// assert_eq!(e.to_string(), "state.toml: cannot read: not found");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct SourceError {
    /// The source (a path, `env`, a URL).
    pub origin: String,
    /// What was wrong and how to fix it.
    pub message: String,
}

impl SourceError {
    /// An error of `origin`.
    pub fn new(origin: impl Into<String>, message: impl Into<String>) -> SourceError {
        SourceError {
            origin: origin.into(),
            message: message.into(),
        }
    }
}
