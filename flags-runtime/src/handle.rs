//! Typed handles on one flag of a registry: what the generated constants are.
//!
//! A handle is a registry reference and an index; reading it is one acquire atomic
//! load when the flag has one value for everyone, and a context-aware evaluation
//! otherwise. [`FlagHandle`] lets overrides take the flag's own value type.

use std::marker::PhantomData;

use crate::context::Context;
use crate::explain::{Detail, Payload};
use crate::gate::Gate;
use crate::meta::{FlagMeta, Value};
use crate::raw::{IndexAccess, SnapshotAccess};
use crate::registry::{Registry, UpdateError};
use crate::snapshot::Snapshot;

/// A generated variant enum: converts between the enum and a variant index.
pub trait Variant: Copy + 'static {
    /// The variant at `index` of the manifest's list.
    fn from_index(index: u16) -> Self;
    /// This variant's index in the manifest's list.
    fn index(self) -> u16;
    /// The variant's name as written in the manifest.
    fn name(self) -> &'static str;
}

/// A typed flag of a registry: what overrides and snapshots accept.
///
/// # Examples
///
/// ```
/// use flags_runtime::{BoolFlag, FlagHandle};
/// use flags_runtime::manifest::Value;
///
/// assert_eq!(BoolFlag::encode(true), Value::Bool(true));
/// assert!(!BoolFlag::decode(Value::Bool(false)));
/// ```
pub trait FlagHandle: Copy {
    /// The flag's value type: `bool` or its variant enum.
    type Value: Copy;
    /// The flag's dense index in its registry.
    fn index(self) -> usize;
    /// The registry the flag belongs to.
    fn registry(self) -> &'static Registry;
    /// The untyped form of a value.
    fn encode(value: Self::Value) -> Value;
    /// The typed form of an untyped value (a mismatched value reads as off, or the
    /// first variant).
    fn decode(value: Value) -> Self::Value;
}

/// An on/off flag of a registry.
#[derive(Clone, Copy, Debug)]
pub struct BoolFlag {
    registry: &'static Registry,
    index: usize,
}

impl BoolFlag {
    /// The handle on flag `index` of `registry`.
    pub const fn new(registry: &'static Registry, index: usize) -> Self {
        BoolFlag { registry, index }
    }

    /// Whether the flag is on in the ambient context (anonymous when none is set).
    #[inline]
    pub fn get(self) -> bool {
        self.registry.is_on(self.index, None)
    }

    /// Whether the flag is on for `ctx`.
    #[inline]
    pub fn get_for(self, ctx: &Context) -> bool {
        self.registry.is_on(self.index, Some(ctx))
    }

    /// [`get`](Self::get) for a `#[feature_gate]` call: also counts the side for
    /// `gate` while the registry counts evaluations.
    #[inline]
    pub fn route(self, gate: &'static Gate) -> bool {
        matches!(
            self.registry.route_at(self.index, None, gate),
            Value::Bool(true)
        )
    }

    /// [`get_for`](Self::get_for) for a `#[feature_gate]` call.
    #[inline]
    pub fn route_for(self, ctx: &Context, gate: &'static Gate) -> bool {
        matches!(
            self.registry.route_at(self.index, Some(ctx), gate),
            Value::Bool(true)
        )
    }

    /// Records one request's outcome for this flag's guarded rollout, on the `side`
    /// that served it (see [`IndexAccess::attach_outcomes`](crate::raw::IndexAccess::attach_outcomes)). No lock, no allocation;
    /// ignored when nothing is attached.
    #[inline]
    pub fn record_outcome(self, side: crate::Side, outcome: crate::Outcome) {
        self.registry.record_outcome(self.index, side, outcome);
    }

    /// The value for `ctx` with the reason and the deciding layer.
    pub fn explain(self, ctx: &Context) -> Detail<bool> {
        self.registry
            .explain_at(self.index, ctx)
            .map(|v| v == Value::Bool(true))
    }

    /// The flag's metadata.
    pub fn meta(self) -> &'static FlagMeta {
        &self.registry.flags()[self.index]
    }

    /// The flag's name.
    pub fn name(self) -> &'static str {
        self.meta().name
    }
}

impl FlagHandle for BoolFlag {
    type Value = bool;

    fn index(self) -> usize {
        self.index
    }

    fn registry(self) -> &'static Registry {
        self.registry
    }

    fn encode(value: bool) -> Value {
        Value::Bool(value)
    }

    fn decode(value: Value) -> bool {
        value == Value::Bool(true)
    }
}

/// A multi-variant flag of a registry, typed by its generated enum.
#[derive(Debug)]
pub struct VariantFlag<E> {
    registry: &'static Registry,
    index: usize,
    _enum: PhantomData<fn() -> E>,
}

impl<E> Clone for VariantFlag<E> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<E> Copy for VariantFlag<E> {}

impl<E: Variant> VariantFlag<E> {
    /// The handle on flag `index` of `registry`.
    pub const fn new(registry: &'static Registry, index: usize) -> Self {
        VariantFlag {
            registry,
            index,
            _enum: PhantomData,
        }
    }

    /// The flag's variant in the ambient context (anonymous when none is set).
    #[inline]
    pub fn get(self) -> E {
        Self::decode(self.registry.value_at(self.index))
    }

    /// The flag's variant for `ctx`.
    #[inline]
    pub fn get_for(self, ctx: &Context) -> E {
        Self::decode(self.registry.value_for_at(self.index, ctx))
    }

    /// [`get`](Self::get) for a `#[feature_gate]` call: also counts the side for
    /// `gate` while the registry counts evaluations.
    #[inline]
    pub fn route(self, gate: &'static Gate) -> E {
        Self::decode(self.registry.route_at(self.index, None, gate))
    }

    /// [`get_for`](Self::get_for) for a `#[feature_gate]` call.
    #[inline]
    pub fn route_for(self, ctx: &Context, gate: &'static Gate) -> E {
        Self::decode(self.registry.route_at(self.index, Some(ctx), gate))
    }

    /// The variant for `ctx` with the reason and the deciding layer.
    pub fn explain(self, ctx: &Context) -> Detail<E> {
        self.registry.explain_at(self.index, ctx).map(Self::decode)
    }

    /// The variant for `ctx` and its payload (the manifest's `payloads`, or the
    /// remote layer's, as Unleash's `getVariant().payload`), handed to `f` borrowed
    /// from the rules in force, so reading it allocates nothing. The payload is `None`
    /// when no weighted variants decided or the variant has none. Counted in usage
    /// counts, like every read.
    ///
    /// # Examples
    ///
    /// ```
    /// use flags_runtime::{Context, Variant, VariantFlag};
    ///
    /// # #[derive(Clone, Copy)] enum Layout { Classic }
    /// # impl Variant for Layout {
    /// #     fn from_index(_: u16) -> Self { Layout::Classic }
    /// #     fn index(self) -> u16 { 0 }
    /// #     fn name(self) -> &'static str { "classic" }
    /// # }
    /// // `layout` is a handle `flags!` generates, such as `flags::CHECKOUT_LAYOUT`.
    /// fn columns(layout: VariantFlag<Layout>, user: &Context) -> usize {
    ///     layout.with_payload_for(user, |_variant, payload| {
    ///         payload.map_or(1, |p| p.value.parse().unwrap_or(1))
    ///     })
    /// }
    /// ```
    pub fn with_payload_for<R>(
        self,
        ctx: &Context,
        f: impl FnOnce(E, Option<Payload<'_>>) -> R,
    ) -> R {
        let snapshot = self.registry.snapshot();
        match snapshot.explain(self.index, ctx) {
            Some(detail) => f(
                Self::decode(detail.value),
                snapshot.payload(self.index, &detail),
            ),
            None => f(
                Self::decode(self.registry.value_for_at(self.index, ctx)),
                None,
            ),
        }
    }

    /// The flag's metadata.
    pub fn meta(self) -> &'static FlagMeta {
        &self.registry.flags()[self.index]
    }

    /// The flag's name.
    pub fn name(self) -> &'static str {
        self.meta().name
    }
}

impl<E: Variant> FlagHandle for VariantFlag<E> {
    type Value = E;

    fn index(self) -> usize {
        self.index
    }

    fn registry(self) -> &'static Registry {
        self.registry
    }

    fn encode(value: E) -> Value {
        Value::Variant(value.index())
    }

    #[inline]
    fn decode(value: Value) -> E {
        match value {
            Value::Variant(i) => E::from_index(i),
            Value::Bool(_) => E::from_index(0),
        }
    }
}

/// Programmatic overrides by typed handle (the override layer).
impl Registry {
    /// Forces `flag` to `value` for the whole process until cleared; wins over every
    /// source and over prerequisites. For tests prefer
    /// [`Registry::scoped_overrides`], which other threads do not see.
    ///
    /// # Errors
    ///
    /// [`UpdateError::ForeignFlag`] when `flag` is a handle of another registry
    /// (another `flags!` module), [`UpdateError::Static`] for a static flag.
    ///
    /// # Examples
    ///
    /// See [`Registry::snapshot`].
    pub fn set_override<F: FlagHandle>(&self, flag: F, value: F::Value) -> Result<(), UpdateError> {
        self.own(&flag)?;
        self.set_override_at(flag.index(), F::encode(value))
    }

    /// Removes the process-wide override of `flag`.
    ///
    /// # Errors
    ///
    /// [`UpdateError::ForeignFlag`] when `flag` is a handle of another registry.
    pub fn clear_override<F: FlagHandle>(&self, flag: F) -> Result<(), UpdateError> {
        self.own(&flag)?;
        self.clear_override_at(flag.index());
        Ok(())
    }

    /// `Ok` when `flag` is a handle of this registry.
    fn own<F: FlagHandle>(&self, flag: &F) -> Result<(), UpdateError> {
        if std::ptr::eq(flag.registry(), self) {
            Ok(())
        } else {
            Err(UpdateError::ForeignFlag {
                flag: flag.registry().flags()[flag.index()].name,
            })
        }
    }
}

/// Typed reads of a snapshot.
impl Snapshot<'_> {
    /// A typed flag's value in the ambient context.
    #[must_use]
    pub fn get<F: FlagHandle>(&self, flag: F) -> F::Value {
        F::decode(self.value(flag.index()))
    }

    /// A typed flag's value for `ctx`.
    #[must_use]
    pub fn get_for<F: FlagHandle>(&self, flag: F, ctx: &Context) -> F::Value {
        F::decode(self.value_for(flag.index(), ctx))
    }
}
