//! The registry: the static table of a crate's flags and their current state.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::meta::{FlagMeta, Value};

/// Bit set in a [`FastCell`] when the value cannot be read from the cell alone.
const SLOW: u32 = 1 << 31;

/// One flag's fast-path word: its value for everyone, or a mark that evaluation must
/// take the slow path (rules in force, an override scope, counting on).
#[derive(Debug)]
pub struct FastCell(AtomicU32);

impl FastCell {
    /// A cell that sends the first read down the slow path, which initialises it.
    pub const fn new() -> Self {
        FastCell(AtomicU32::new(SLOW))
    }
}

impl Default for FastCell {
    fn default() -> Self {
        Self::new()
    }
}

/// The flags of one manifest and the state that decides their values.
#[derive(Debug)]
pub struct Registry {
    meta: &'static [FlagMeta],
    cells: &'static [FastCell],
    manifest_src: &'static str,
    manifest_path: &'static str,
}

impl Registry {
    /// Builds the registry the generated code puts in a `static`.
    pub const fn new(
        meta: &'static [FlagMeta],
        cells: &'static [FastCell],
        manifest_src: &'static str,
        manifest_path: &'static str,
    ) -> Self {
        Registry {
            meta,
            cells,
            manifest_src,
            manifest_path,
        }
    }

    /// The metadata of every flag, by index.
    pub fn flags(&self) -> &'static [FlagMeta] {
        self.meta
    }

    /// The manifest text the registry was built from.
    pub fn manifest_source(&self) -> (&'static str, &'static str) {
        (self.manifest_path, self.manifest_src)
    }

    /// The current value of flag `index` in the ambient context.
    #[inline]
    pub fn value(&self, index: usize) -> Value {
        let word = self.cells[index].0.load(Ordering::Relaxed);
        if word & SLOW == 0 {
            return decode(word);
        }
        self.value_slow(index)
    }

    #[cold]
    fn value_slow(&self, index: usize) -> Value {
        self.meta[index].default
    }
}

fn decode(word: u32) -> Value {
    if word & (1 << 30) != 0 {
        Value::Variant((word & 0xffff) as u16)
    } else {
        Value::Bool(word & 1 != 0)
    }
}
