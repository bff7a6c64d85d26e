//! Sources of rules above the manifest: a rule/state file, the environment, a remote
//! service. A [`Source`] produces whole-layer updates; the registry checks each one and
//! either applies it entirely or rejects it entirely, keeping the last good state.

mod env;
#[cfg(feature = "rule-files")]
mod file;
mod health;
mod watch;

pub use env::{EnvProblem, EnvSource};
#[cfg(feature = "rule-files")]
pub use file::{DEFAULT_SETTLE, FileSource};
pub use health::SourceHealth;
pub(crate) use health::{Contact, HealthBook};
pub use watch::{DEFAULT_POLL_INTERVAL, Watch};

use std::fmt;
use std::sync::Arc;

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

    /// Whether the source's last contact with what it reads succeeded (the server
    /// answered, the file was read and is valid), for [`SourceHealth`]. A poll that
    /// returns `Ok(None)` while the source waits out a back-off, or after a failure it
    /// has already reported, is not a success: such a source answers `false` until it
    /// succeeds again. `true` by default.
    fn healthy(&self) -> bool {
        true
    }

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
    /// Parts of the input that were ignored.
    pub warnings: Vec<SourceWarning>,
    /// The source's name for this state (an ETag, a version, a file's digest), shown
    /// in [`SourceHealth::revision`]; `None` when it has none.
    pub revision: Option<String>,
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
            revision: None,
        }
    }

    /// The same update, naming its revision (see [`Update::revision`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let update = flags_runtime::Update::new(vec![]).with_revision("W/\"42\"");
    /// assert_eq!(update.revision.as_deref(), Some("W/\"42\""));
    /// ```
    #[must_use]
    pub fn with_revision(mut self, revision: impl Into<String>) -> Update {
        self.revision = Some(revision.into());
        self
    }
}

/// A part of a source's input that was skipped while the rest applies (a toggle the
/// flag cannot take, a misspelt variable): counted and reported through `tracing`.
///
/// # Examples
///
/// ```
/// use flags_runtime::SourceWarning;
///
/// let w = SourceWarning::about("beta", "variant `wide` is not declared; the flag keeps its lower layers");
/// assert_eq!(w.flag, Some("beta"));
/// assert_eq!(w.to_string(), "flag `beta`: variant `wide` is not declared; the flag keeps its lower layers");
/// assert_eq!(SourceWarning::new("serving the backup").to_string(), "serving the backup");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceWarning {
    /// The flag of the manifest it concerns, when it concerns one.
    pub flag: Option<&'static str>,
    /// What was skipped and why, naming where it was.
    pub message: String,
}

impl SourceWarning {
    /// A warning about the input as a whole.
    pub fn new(message: impl Into<String>) -> SourceWarning {
        SourceWarning {
            flag: None,
            message: message.into(),
        }
    }

    /// A warning about `flag`'s part of the input.
    pub fn about(flag: &'static str, message: impl Into<String>) -> SourceWarning {
        SourceWarning {
            flag: Some(flag),
            message: message.into(),
        }
    }
}

impl fmt::Display for SourceWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.flag {
            Some(flag) => write!(f, "flag `{flag}`: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Why a source could not produce an update. When it wraps another error (a parse
/// error, an I/O error), that error is its [`source`](std::error::Error::source) and
/// is not repeated in its `Display`; [`SourceError::detail`] gives both.
///
/// # Examples
///
/// ```
/// use std::error::Error;
///
/// let e = flags_runtime::SourceError::new("state.toml", "cannot read: not found");
/// assert_eq!(e.to_string(), "state.toml: cannot read: not found");
/// assert!(e.source().is_none());
///
/// let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
/// let e = flags_runtime::SourceError::with_source("state.toml", "cannot read", io);
/// assert_eq!(e.to_string(), "state.toml: cannot read");
/// assert_eq!(e.source().unwrap().to_string(), "no such file");
/// assert_eq!(e.detail(), "cannot read: no such file");
/// ```
#[derive(Clone, Debug, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct SourceError {
    /// The source (a path, `env`, a URL).
    pub origin: String,
    /// What was wrong and how to fix it.
    pub message: String,
    /// The error underneath, if any.
    #[source]
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl SourceError {
    /// An error of `origin`.
    pub fn new(origin: impl Into<String>, message: impl Into<String>) -> SourceError {
        SourceError {
            origin: origin.into(),
            message: message.into(),
            source: None,
        }
    }

    /// An error of `origin` caused by `source`, which `message` does not repeat.
    pub fn with_source(
        origin: impl Into<String>,
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> SourceError {
        SourceError {
            origin: origin.into(),
            message: message.into(),
            source: Some(Arc::new(source)),
        }
    }

    /// The message followed by every underlying cause, `: `-separated, as logs print
    /// it (without the origin, which logs carry as a field).
    #[must_use]
    pub fn detail(&self) -> String {
        let mut out = self.message.clone();
        let mut cause = std::error::Error::source(self);
        while let Some(c) = cause {
            out.push_str(": ");
            out.push_str(&c.to_string());
            cause = c.source();
        }
        out
    }
}

/// Equal when origin, message and the causes' messages are: errors are compared in
/// tests and in [`UpdateError`](crate::UpdateError), never by identity.
impl PartialEq for SourceError {
    fn eq(&self, other: &SourceError) -> bool {
        self.origin == other.origin
            && self.message == other.message
            && self.detail() == other.detail()
    }
}

impl Eq for SourceError {}
