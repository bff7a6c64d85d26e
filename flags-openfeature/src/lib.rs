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
//! A resolution is one evaluation of the registry's current snapshot, read through
//! the thread's cached view of it
//! ([`IndexAccess::explain`](flags_runtime::raw::IndexAccess::explain)): counted
//! once in [`Registry::counts`] while counting is on, however many OpenFeature hooks
//! run around it. The runtime emits no exposure event for it: telemetry of
//! OpenFeature evaluations is the hooks' job, so nothing is reported twice.
//!
//! The OpenFeature context becomes a flags context only when the flag's rules read
//! more than the targeting key: a sticky rollout on the key is explained from the key
//! alone ([`IndexAccess::explain_key`](flags_runtime::raw::IndexAccess::explain_key)),
//! whatever custom fields the context has, and a flag with one value for everyone
//! without the context. A context of a key alone re-keys a flags context kept per
//! thread; one with custom fields is converted afresh ([`to_context`]). Integer,
//! float and structure resolutions take one snapshot for both the evaluation and the
//! payload it chose.
//!
//! The SDK's types make every resolution allocate: a boxed future (the trait is an
//! `async_trait`), an owned variant string and, unless left out
//! ([`FlagsProvider::without_flag_metadata`]), the metadata map, whose keys and
//! values are owned strings: the provider clones a map built once per flag and layer,
//! and the SDK clones it again for its `after` hooks. The map is most of what this
//! provider adds to an evaluation through the SDK's client; the README gives the
//! figures.
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
mod names;
mod payload;
#[cfg(test)]
mod tests;

use flags_runtime::raw::{IndexAccess as _, SnapshotAccess as _};
use flags_runtime::{Detail, FlagMeta, Layer, Reason, Registry};
use open_feature::provider::{
    FeatureProvider, ProviderMetadata, ProviderStatus, ResolutionDetails,
};
use open_feature::{
    EvaluationContext, EvaluationError, EvaluationErrorCode, EvaluationResult, FlagMetadata, Hook,
    HookWrapper, StructValue,
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
    /// Flag names with their dense indexes.
    names: names::Names,
    /// Each flag's metadata for each deciding layer, built once; `None` when the
    /// provider was asked to leave metadata out.
    metadata: Option<Box<[[FlagMetadata; LAYERS]]>>,
    hooks: Vec<HookWrapper>,
}

impl std::fmt::Debug for FlagsProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlagsProvider")
            .field("manifest", &self.registry.manifest_source().0)
            .field("flags", &self.names.len())
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
        FlagsProvider {
            registry,
            about: ProviderMetadata::new(PROVIDER_NAME),
            ready: false,
            names: names::Names::new(flags.iter().map(|m| (m.name, m.index))),
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
    /// for its `after` hooks), the largest part of our cost per evaluation (about
    /// 600 ns through the SDK's client on this project's machine, where the rest of
    /// a resolution is under 50 ns); hot paths whose callers and hooks never read
    /// `flag_metadata` can drop it. Kept by default: it is the only place the
    /// OpenFeature API shows owner, lifecycle, expiry and the deciding layer.
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

    /// The flag named `flag_key`, once the provider is ready and the flag has the
    /// `shape` a resolution asks for; `None` otherwise ([`refusal`](Self::refusal)
    /// says why).
    #[inline]
    fn find(&self, flag_key: &str, shape: Shape) -> Option<&'static FlagMeta> {
        if !self.ready {
            return None;
        }
        let meta = self.registry.flags().get(self.names.get(flag_key)?)?;
        match shape {
            Shape::Bool if !meta.is_bool() => None,
            Shape::Variants if meta.is_bool() => None,
            _ => Some(meta),
        }
    }

    /// Why [`find`](Self::find) found no flag to resolve.
    #[cold]
    fn refusal(&self, flag_key: &str, shape: Shape) -> EvaluationError {
        if !self.ready {
            return error(
                EvaluationErrorCode::ProviderNotReady,
                "the flags provider is not initialised yet".to_owned(),
            );
        }
        let found = self
            .names
            .get(flag_key)
            .and_then(|index| self.registry.flags().get(index));
        let Some(meta) = found else {
            return error(
                EvaluationErrorCode::FlagNotFound,
                format!(
                    "no flag `{flag_key}` in {}",
                    self.registry.manifest_source().0
                ),
            );
        };
        match shape {
            Shape::Bool => error(
                EvaluationErrorCode::TypeMismatch,
                format!(
                    "flag `{flag_key}` has variants ({}): read it as a string",
                    meta.variants.join(", ")
                ),
            ),
            Shape::Variants => error(
                EvaluationErrorCode::TypeMismatch,
                format!("flag `{flag_key}` is an on/off flag: read it as a bool"),
            ),
        }
    }

    /// The resolution details of `detail` (an evaluation of `meta`) with `value`, or
    /// the error an evaluation that could not complete is.
    fn details<T>(
        &self,
        meta: &FlagMeta,
        detail: &Detail,
        value: impl FnOnce() -> EvaluationResult<T>,
    ) -> EvaluationResult<ResolutionDetails<T>> {
        if detail.reason == Reason::Error {
            return Err(error(
                EvaluationErrorCode::General("GENERAL".to_owned()),
                format!("flag `{}`: {}", meta.name, detail.reason),
            ));
        }
        Ok(ResolutionDetails {
            value: value()?,
            variant: Some(detail.label.to_owned()),
            reason: Some(reason(meta, detail.reason)),
            flag_metadata: self
                .metadata
                .as_ref()
                .and_then(|m| m.get(meta.index))
                .map(|row| row[details::slot(detail.layer)].clone()),
        })
    }

    /// Resolves flag `flag_key` of `shape` for `ctx` and reads its value from the
    /// evaluation with `read`: one evaluation of the current snapshot, through this
    /// thread's cached copy of it.
    fn resolve<T>(
        &self,
        flag_key: &str,
        ctx: &EvaluationContext,
        shape: Shape,
        read: impl FnOnce(&Detail) -> T,
    ) -> EvaluationResult<ResolutionDetails<T>> {
        let Some(meta) = self.find(flag_key, shape) else {
            return Err(self.refusal(flag_key, shape));
        };
        let index = meta.index;
        // The context is converted only when the evaluation reads it: a sticky
        // rollout on the key is explained with the key alone (whatever custom fields
        // the context has), a flag served from its fast cell has one value for
        // everyone and is explained without it.
        let keyed = || {
            let key = ctx.targeting_key.as_deref()?;
            self.registry.explain_key(index, key)
        };
        let detail = if let Some(detail) = keyed() {
            detail
        } else if self.registry.fast_value(index).is_some() {
            self.registry.explain(index, &ANONYMOUS)
        } else {
            context::with_converted(ctx, |c| self.registry.explain(index, c))
        };
        self.details(meta, &detail, || Ok(read(&detail)))
    }

    /// Resolves a variant flag's payload with `parse`: the evaluation and the payload
    /// it chose come from one snapshot.
    fn resolve_payload<T>(
        &self,
        flag_key: &str,
        ctx: &EvaluationContext,
        wanted: &str,
        parse: impl FnOnce(&str, &str, &flags_runtime::Payload<'_>) -> EvaluationResult<T>,
    ) -> EvaluationResult<ResolutionDetails<T>> {
        let Some(meta) = self.find(flag_key, Shape::Variants) else {
            return Err(self.refusal(flag_key, Shape::Variants));
        };
        let index = meta.index;
        let snapshot = self.registry.snapshot();
        let explained = if snapshot.uniform_value(index).is_some() {
            snapshot.explain(index, &ANONYMOUS)
        } else {
            context::with_converted(ctx, |c| snapshot.explain(index, c))
        };
        let Some(detail) = explained else {
            // The index came from the registry's own table.
            return Err(error(
                EvaluationErrorCode::FlagNotFound,
                format!("no flag `{flag_key}` in the registry's snapshot"),
            ));
        };
        self.details(meta, &detail, || match snapshot.payload(index, &detail) {
            Some(p) => parse(meta.name, detail.label, &p),
            None => Err(error(
                EvaluationErrorCode::TypeMismatch,
                format!(
                    "flag `{}`: variant `{}` carries no payload to read as {wanted} \
                     (decided by: {}; layer {})",
                    meta.name, detail.label, detail.reason, detail.layer
                ),
            )),
        })
    }
}

/// The anonymous context, for flags explained without the caller's.
static ANONYMOUS: flags_runtime::Context = flags_runtime::Context::anonymous();

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
        self.resolve(flag_key, evaluation_context, Shape::Bool, |d| {
            d.value == flags_runtime::manifest::Value::Bool(true)
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
        self.resolve(flag_key, evaluation_context, Shape::Variants, |d| {
            d.label.to_owned()
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
