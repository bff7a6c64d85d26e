//! Flags as an [OpenFeature](https://openfeature.dev) provider: code written against
//! the `open-feature` SDK's client (`client.get_bool_value("search_v2", ..)`) reads a
//! flags [`Registry`], so it can move onto flags before its call sites move onto the
//! typed accessors.
//!
//! ```no_run
//! use flags_openfeature::FlagsProvider;
//! use open_feature::{EvaluationContext, OpenFeature};
//!
//! // In your crate: `flags_runtime::flags!("flags.toml");`
//! # flags_runtime::flags!("tests/flags.toml");
//!
//! # async fn run() {
//! let mut api = OpenFeature::singleton_mut().await;
//! api.set_provider(FlagsProvider::new(&flags::REGISTRY)).await;
//! let client = api.create_client();
//! drop(api);
//!
//! let user = EvaluationContext::default().with_targeting_key("user-42");
//! let on = client.get_bool_value("search_v2", Some(&user), None).await.unwrap_or(false);
//! # let _ = on;
//! # }
//! ```
//!
//! # What each type reads
//!
//! | OpenFeature type | from | otherwise |
//! |---|---|---|
//! | bool | an on/off flag | a variant flag: `TYPE_MISMATCH` |
//! | string | a variant flag: the chosen variant's name | an on/off flag: `TYPE_MISMATCH` |
//! | int, float | the chosen variant's `number` (or `json` number) payload | no such payload: `TYPE_MISMATCH`; text that does not parse: `PARSE_ERROR` |
//! | struct | the chosen variant's `json` object payload | likewise |
//!
//! A name the registry does not know is `FLAG_NOT_FOUND`; a resolution before the
//! provider is initialised, `PROVIDER_NOT_READY`. Errors come back as the SDK's
//! `Err`, so the caller's default applies (`.unwrap_or(default)`): the SDK's 0.3
//! client API takes no default value of its own, the Rust form of the specification's
//! "return the default on error".
//!
//! Every successful resolution carries the variant (`on`/`off` or the variant name),
//! an OpenFeature reason ([`reason`]) and flag metadata ([`keys`]): owner, kind,
//! lifecycle, expiry, whether the flag is static, and the layer that decided.
//!
//! # Cost and telemetry
//!
//! A resolution is one evaluation of the registry's current snapshot
//! ([`Snapshot::explain`](flags_runtime::Snapshot::explain)): counted once in
//! [`Registry::counts`] while counting is on, however many OpenFeature hooks run
//! around it. The runtime emits no exposure event for it: telemetry of OpenFeature
//! evaluations is the hooks' job, so nothing is reported twice.
//!
//! # Lifecycle
//!
//! The provider is `NOT_READY` until the SDK initialises it (which `set_provider`
//! does), and `READY` after: initialising builds the registry's state (manifest rules,
//! environment). The SDK's 0.3 provider trait has no events, so configuration changes
//! are not signalled; every resolution reads the snapshot current at that moment, so a
//! change (a source update, an override) is seen by the next evaluation.
//!
//! # The specification's provider requirements
//!
//! Section 2 ("Provider") of the OpenFeature specification, as the SDK's 0.3 trait
//! lets a provider meet it; the unit tests are named after the requirements.
//!
//! | requirement | |
//! |---|---|
//! | 2.1.1 metadata with a name | met: `flags` |
//! | 2.2.1 resolution by key, default and context | met as the SDK defines it: key and context in, resolution details out; the default stays with the caller |
//! | 2.2.2.1 typed resolution | met: bool, int, float, string, structure |
//! | 2.2.3 value | met |
//! | 2.2.4 variant | met: `on`/`off` or the variant's name |
//! | 2.2.5 reason | met: see [`reason`] |
//! | 2.2.6 no error code on success | met (a success has no error field) |
//! | 2.2.7 errors with a code and a message | met: `FLAG_NOT_FOUND`, `TYPE_MISMATCH`, `PARSE_ERROR`, `PROVIDER_NOT_READY`, `GENERAL` |
//! | 2.2.8.1 generic resolution details | met (the SDK's `ResolutionDetails<T>`) |
//! | 2.2.9, 2.2.10 flag metadata of bools, strings, numbers | met: see [`keys`] |
//! | 2.3.1 provider hooks | met: [`FlagsProvider::with_hook`] |
//! | 2.3.2 no error message on success | met (a success has no message field) |
//! | 2.3.3 error messages | met: each says which flag and what was wrong |
//! | 2.4.1 initialize with the global context | met |
//! | 2.4.2.1 failing initialization terminates abnormally | not applicable: initializing cannot fail (bad sources are reported and skipped, the last good state kept), and the SDK's `initialize` returns nothing |
//! | status READY after initialize, error before (2.4.3, 2.4.5 of the revision the SDK's trait quotes) | met |
//! | 2.5.1, 2.5.2 shutdown | not applicable: the SDK's trait has no shutdown; the provider holds no resource but a `&'static` registry |
//! | 2.6.1 on context changed | not applicable: not in the SDK's trait, and contexts are read per evaluation |
//! | 2.7.1 tracking | not applicable: not in the SDK's 0.3 trait |
//! | 5.x provider events | not applicable: not in the SDK's 0.3 trait |

mod context;
mod details;
mod payload;
#[cfg(test)]
mod tests;

use flags_runtime::{Detail, FlagMeta, Layer, Reason, Registry, Snapshot};
use open_feature::provider::{
    FeatureProvider, ProviderMetadata, ProviderStatus, ResolutionDetails,
};
use open_feature::{
    EvaluationContext, EvaluationErrorCode, EvaluationResult, FlagMetadata, Hook, HookWrapper,
    StructValue,
};

pub use context::to_context;
pub use details::{keys, reason};

use payload::error;

/// The provider's name in its metadata (and in OpenTelemetry's
/// `feature_flag.provider.name`, which the runtime's own events use too).
pub const PROVIDER_NAME: &str = "flags";

/// How many layers there are ([`Layer::ALL`]).
const LAYERS: usize = Layer::ALL.len();

/// An OpenFeature provider over a flags [`Registry`]; see the [crate docs](crate).
///
/// # Examples
///
/// ```
/// use flags_openfeature::FlagsProvider;
/// use open_feature::provider::{FeatureProvider, ProviderStatus};
/// # use flags_runtime::__private::{FastCell, FlagMeta, Registry};
/// # static META: [FlagMeta; 1] = [FlagMeta::bare("beta", 0, &[])];
/// # static CELLS: [FastCell; 1] = [const { FastCell::new() }; 1];
/// # static REGISTRY: Registry = Registry::new(&META, &CELLS,
/// #     "[flags.beta]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\n", "flags.toml");
///
/// // `REGISTRY` is the registry `flags!` generates (`flags::REGISTRY`).
/// let provider = FlagsProvider::new(&REGISTRY);
/// assert_eq!(provider.metadata().name, "flags");
/// assert_eq!(provider.status(), ProviderStatus::NotReady);
/// ```
pub struct FlagsProvider {
    registry: &'static Registry,
    about: ProviderMetadata,
    ready: bool,
    /// Flag names with their dense indexes, sorted by name: a binary search costs a
    /// few string comparisons, less than hashing the name.
    index: Box<[(&'static str, usize)]>,
    /// Each flag's metadata for each deciding layer, built once; `None` when the
    /// provider was asked to leave metadata out.
    metadata: Option<Box<[[FlagMetadata; LAYERS]]>>,
    hooks: Vec<HookWrapper>,
}

impl std::fmt::Debug for FlagsProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlagsProvider")
            .field("manifest", &self.registry.manifest_source().0)
            .field("flags", &self.index.len())
            .field("ready", &self.ready)
            .field("hooks", &self.hooks.len())
            .finish()
    }
}

/// What a resolution asks of a flag's shape.
#[derive(Clone, Copy)]
enum Shape {
    /// An on/off flag.
    Bool,
    /// A variant flag.
    Variants,
}

impl FlagsProvider {
    /// A provider over `registry`, not ready until initialised (the SDK's
    /// `set_provider` initialises it).
    #[must_use]
    pub fn new(registry: &'static Registry) -> FlagsProvider {
        let flags = registry.flags();
        let mut index: Box<[(&'static str, usize)]> =
            flags.iter().map(|m| (m.name, m.index)).collect();
        index.sort_unstable();
        FlagsProvider {
            registry,
            about: ProviderMetadata::new(PROVIDER_NAME),
            ready: false,
            index,
            metadata: Some(
                flags
                    .iter()
                    .map(|m| Layer::ALL.map(|layer| details::metadata(m, layer)))
                    .collect(),
            ),
            hooks: Vec::new(),
        }
    }

    /// Leaves flag metadata out of resolutions. Metadata is a map of owned strings
    /// that the SDK's types make every resolution clone (and the SDK clones again
    /// for its `after` hooks), the largest part of our cost per evaluation; hot
    /// paths that never read it can drop it.
    ///
    /// # Examples
    ///
    /// ```
    /// # use flags_runtime::__private::{FastCell, FlagMeta, Registry};
    /// # static META: [FlagMeta; 1] = [FlagMeta::bare("beta", 0, &[])];
    /// # static CELLS: [FastCell; 1] = [const { FastCell::new() }; 1];
    /// # static REGISTRY: Registry = Registry::new(&META, &CELLS,
    /// #     "[flags.beta]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\n", "flags.toml");
    /// use flags_openfeature::FlagsProvider;
    ///
    /// let lean = FlagsProvider::new(&REGISTRY).without_flag_metadata();
    /// # let _ = lean;
    /// ```
    #[must_use]
    pub fn without_flag_metadata(mut self) -> FlagsProvider {
        self.metadata = None;
        self
    }

    /// Adds a provider hook: it runs around every evaluation through this provider,
    /// after the API's, client's and invocation's `before` hooks and first among the
    /// `after`, `error` and `finally` ones.
    #[must_use]
    pub fn with_hook(mut self, hook: impl Hook) -> FlagsProvider {
        self.hooks.push(HookWrapper::new(hook));
        self
    }

    /// The registry it reads.
    #[must_use]
    pub fn registry(&self) -> &'static Registry {
        self.registry
    }

    /// Resolves `flag_key` for `ctx`: checks readiness, the name and the flag's
    /// shape, evaluates once, and reads the value with `read`.
    fn resolve<T>(
        &self,
        flag_key: &str,
        ctx: &EvaluationContext,
        shape: Shape,
        read: impl FnOnce(&Snapshot<'_>, &FlagMeta, &Detail) -> EvaluationResult<T>,
    ) -> EvaluationResult<ResolutionDetails<T>> {
        if !self.ready {
            return Err(error(
                EvaluationErrorCode::ProviderNotReady,
                "the flags provider is not initialised yet".to_owned(),
            ));
        }
        let found = self
            .index
            .binary_search_by(|(name, _)| (*name).cmp(flag_key))
            .ok()
            .and_then(|at| self.index.get(at));
        let Some(&(_, index)) = found else {
            return Err(error(
                EvaluationErrorCode::FlagNotFound,
                format!(
                    "no flag `{flag_key}` in {}",
                    self.registry.manifest_source().0
                ),
            ));
        };
        let meta = &self.registry.flags()[index];
        match shape {
            Shape::Bool if !meta.is_bool() => {
                return Err(error(
                    EvaluationErrorCode::TypeMismatch,
                    format!(
                        "flag `{flag_key}` has variants ({}): read it as a string",
                        meta.variants.join(", ")
                    ),
                ));
            }
            Shape::Variants if meta.is_bool() => {
                return Err(error(
                    EvaluationErrorCode::TypeMismatch,
                    format!("flag `{flag_key}` is an on/off flag: read it as a bool"),
                ));
            }
            _ => {}
        }
        let snapshot = self.registry.snapshot();
        // A flag with one value for everyone is explained without the context, so
        // the context is not converted for it.
        static ANONYMOUS: flags_runtime::Context = flags_runtime::Context::anonymous();
        let explained = if snapshot.uniform_value(index).is_some() {
            snapshot.explain(index, &ANONYMOUS)
        } else {
            snapshot.explain(index, &context::convert(ctx))
        };
        let Some(detail) = explained else {
            // The index came from the registry's own table.
            return Err(error(
                EvaluationErrorCode::FlagNotFound,
                format!("no flag `{flag_key}` in the registry's snapshot"),
            ));
        };
        if detail.reason == Reason::Error {
            return Err(error(
                EvaluationErrorCode::General("GENERAL".to_owned()),
                format!("flag `{flag_key}`: {}", detail.reason),
            ));
        }
        let value = read(&snapshot, meta, &detail)?;
        Ok(ResolutionDetails {
            value,
            variant: Some(detail.label.to_owned()),
            reason: Some(reason(meta, detail.reason)),
            flag_metadata: self
                .metadata
                .as_ref()
                .and_then(|m| m.get(index))
                .map(|row| row[details::slot(detail.layer)].clone()),
        })
    }

    /// Resolves a variant flag's payload with `parse`.
    fn resolve_payload<T>(
        &self,
        flag_key: &str,
        ctx: &EvaluationContext,
        wanted: &str,
        parse: impl FnOnce(&str, &str, &flags_runtime::Payload<'_>) -> EvaluationResult<T>,
    ) -> EvaluationResult<ResolutionDetails<T>> {
        self.resolve(
            flag_key,
            ctx,
            Shape::Variants,
            |snapshot, meta, detail| match snapshot.payload(meta.index, detail) {
                Some(p) => parse(meta.name, detail.label, &p),
                None => Err(error(
                    EvaluationErrorCode::TypeMismatch,
                    format!(
                        "flag `{}`: variant `{}` carries no payload to read as {wanted} \
                         (decided by: {}; layer {})",
                        meta.name, detail.label, detail.reason, detail.layer
                    ),
                )),
            },
        )
    }
}

#[open_feature::async_trait]
impl FeatureProvider for FlagsProvider {
    /// Builds the registry's state (manifest rules, environment) now rather than at
    /// the first resolution, and marks the provider ready. The global evaluation
    /// context needs no preparation: contexts are read per evaluation.
    async fn initialize(&mut self, _context: &EvaluationContext) {
        self.registry.init();
        self.ready = true;
    }

    fn status(&self) -> ProviderStatus {
        if self.ready {
            ProviderStatus::Ready
        } else {
            ProviderStatus::NotReady
        }
    }

    fn metadata(&self) -> &ProviderMetadata {
        &self.about
    }

    fn hooks(&self) -> &[HookWrapper] {
        &self.hooks
    }

    async fn resolve_bool_value(
        &self,
        flag_key: &str,
        evaluation_context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<bool>> {
        self.resolve(flag_key, evaluation_context, Shape::Bool, |_, _, d| {
            Ok(d.value == flags_runtime::manifest::Value::Bool(true))
        })
    }

    async fn resolve_int_value(
        &self,
        flag_key: &str,
        evaluation_context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<i64>> {
        self.resolve_payload(flag_key, evaluation_context, "an integer", payload::int)
    }

    async fn resolve_float_value(
        &self,
        flag_key: &str,
        evaluation_context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<f64>> {
        self.resolve_payload(flag_key, evaluation_context, "a float", payload::float)
    }

    async fn resolve_string_value(
        &self,
        flag_key: &str,
        evaluation_context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<String>> {
        self.resolve(flag_key, evaluation_context, Shape::Variants, |_, _, d| {
            Ok(d.label.to_owned())
        })
    }

    async fn resolve_struct_value(
        &self,
        flag_key: &str,
        evaluation_context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<StructValue>> {
        self.resolve_payload(
            flag_key,
            evaluation_context,
            "a structure",
            payload::structure,
        )
    }
}
