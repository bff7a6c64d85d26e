//! Typed handles on one flag of a registry: what the generated constants are.

use crate::meta::{FlagMeta, Value};
use crate::registry::Registry;

/// A generated variant enum: converts between the enum and a variant index.
pub trait Variant: Copy + 'static {
    /// The variant at `index` of the manifest's list.
    fn from_index(index: u16) -> Self;
    /// This variant's index in the manifest's list.
    fn index(self) -> u16;
    /// The variant's name as written in the manifest.
    fn name(self) -> &'static str;
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

    /// Whether the flag is on in the ambient context.
    #[inline]
    pub fn get(self) -> bool {
        matches!(self.registry.value(self.index), Value::Bool(true))
    }

    /// The flag's metadata.
    pub fn meta(self) -> &'static FlagMeta {
        &self.registry.flags()[self.index]
    }
}

/// A multi-variant flag of a registry, typed by its generated enum.
#[derive(Debug)]
pub struct VariantFlag<E> {
    registry: &'static Registry,
    index: usize,
    _enum: std::marker::PhantomData<fn() -> E>,
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
            _enum: std::marker::PhantomData,
        }
    }

    /// The flag's variant in the ambient context.
    #[inline]
    pub fn get(self) -> E {
        match self.registry.value(self.index) {
            Value::Variant(i) => E::from_index(i),
            Value::Bool(_) => E::from_index(0),
        }
    }

    /// The flag's metadata.
    pub fn meta(self) -> &'static FlagMeta {
        &self.registry.flags()[self.index]
    }
}
