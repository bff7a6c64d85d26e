//! Scoped overrides: values forced for the current thread or async task only, so that
//! tests running in parallel never see each other's flags.
//!
//! Each thread keeps a stack of override frames. A guard ([`OverrideGuard`]) pushes a
//! frame and pops it when dropped; a future wrapper ([`WithOverrides`]) pushes its
//! frame around every poll, so the overrides follow a task across threads. While any
//! scope of a registry exists, that registry's fast cells send every read to the slow
//! path, which looks here first.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use crate::handle::FlagHandle;
use crate::meta::Value;
use crate::registry::{Registry, UpdateError};
use crate::scope::{Entries, Entry, add_entry, pop_frame, push_frame};

/// Keeps registries in "scoped overrides may exist" mode while alive.
struct Activation {
    registries: Vec<&'static Registry>,
}

impl Activation {
    fn new() -> Activation {
        Activation {
            registries: Vec::new(),
        }
    }

    fn add(&mut self, registry: &'static Registry) {
        if !self.registries.iter().any(|r| std::ptr::eq(*r, registry)) {
            registry.scope_opened();
            self.registries.push(registry);
        }
    }
}

impl Drop for Activation {
    fn drop(&mut self) {
        for r in self.registries.drain(..) {
            r.scope_closed();
        }
    }
}

/// Overrides in force on the current thread until dropped; see
/// [`Registry::scoped_overrides`].
///
/// Other threads (and other tests running in parallel) do not see them.
#[must_use = "the overrides are only in force while the guard lives"]
pub struct OverrideGuard {
    activation: Activation,
    frame: u64,
    /// The frame lives in this thread's stack: the guard must be dropped here.
    _not_send: PhantomData<*const ()>,
}

impl OverrideGuard {
    pub(crate) fn new(registry: &'static Registry) -> OverrideGuard {
        let mut activation = Activation::new();
        activation.add(registry);
        OverrideGuard {
            activation,
            frame: push_frame(Entries::Owned(Vec::new())),
            _not_send: PhantomData,
        }
    }

    fn push(&mut self, registry: &'static Registry, index: usize, value: Value) {
        self.activation.add(registry);
        let id = self.frame;
        let entry = Entry {
            registry: registry.id(),
            index,
            value,
        };
        add_entry(id, entry);
    }

    /// Forces `flag` to `value` in this scope (builder form).
    ///
    /// # Examples
    ///
    /// See [`Registry::scoped_overrides`].
    pub fn set<F: FlagHandle>(mut self, flag: F, value: F::Value) -> OverrideGuard {
        self.insert(flag, value);
        self
    }

    /// Forces `flag` to `value` in this scope.
    pub fn insert<F: FlagHandle>(&mut self, flag: F, value: F::Value) {
        self.push(flag.registry(), flag.index(), F::encode(value));
    }
}

impl crate::raw::GuardAccess for OverrideGuard {
    fn try_insert_value(&mut self, index: usize, value: Value) -> Result<(), UpdateError> {
        let Some(&registry) = self.activation.registries.first() else {
            return Err(UpdateError::UnknownFlag { index });
        };
        registry.check_value(index, value)?;
        self.push(registry, index, value);
        Ok(())
    }
}

impl Drop for OverrideGuard {
    fn drop(&mut self) {
        pop_frame(self.frame);
        // `activation` drops next, leaving slow-path mode once no scope remains.
    }
}

impl fmt::Debug for OverrideGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OverrideGuard")
            .field("frame", &self.frame)
            .finish_non_exhaustive()
    }
}

/// A set of overrides to install around a closure or a future; `Send`, so it can be
/// built on one thread and used by a task on another.
///
/// # Examples
///
/// ```
/// use flags_runtime::Overrides;
/// # use flags_runtime::{__private::*, BoolFlag};
/// # static META: [FlagMeta; 1] = [FlagMeta { name: "beta", index: 0, description: "",
/// #     owner: "", kind: Kind::Ops, lifecycle: Lifecycle::Active, expires: None,
/// #     variants: &[], default: Value::Bool(false), is_static: false, requires: &[],
/// #     excludes: &[] }];
/// # static CELLS: [FastCell; 1] = [const { FastCell::new() }; 1];
/// # static REGISTRY: Registry = Registry::new(&META, &CELLS,
/// #     "[flags.beta]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\n", "flags.toml");
/// # const BETA: BoolFlag = BoolFlag::new(&REGISTRY, 0);
///
/// let overrides = Overrides::new().set(BETA, true);
/// assert!(overrides.run(|| BETA.get()));
/// assert!(!BETA.get());
/// ```
#[derive(Clone, Default)]
pub struct Overrides {
    entries: Vec<(&'static Registry, usize, Value)>,
}

impl fmt::Debug for Overrides {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.entries.iter().map(|(_, i, v)| (i, v)))
            .finish()
    }
}

impl Overrides {
    /// No overrides yet.
    #[must_use]
    pub fn new() -> Overrides {
        Overrides::default()
    }

    /// Adds `flag = value`.
    #[must_use]
    pub fn set<F: FlagHandle>(mut self, flag: F, value: F::Value) -> Overrides {
        self.entries
            .push((flag.registry(), flag.index(), F::encode(value)));
        self
    }

    /// Adds flag `index` of `registry` = an untyped `value`, checked against the flag
    /// (for tools that work by name, such as matrix runners).
    pub fn try_set_value(
        mut self,
        registry: &'static Registry,
        index: usize,
        value: Value,
    ) -> Result<Overrides, UpdateError> {
        registry.check_value(index, value)?;
        self.entries.push((registry, index, value));
        Ok(self)
    }

    fn activation(&self) -> Activation {
        let mut a = Activation::new();
        for (r, _, _) in &self.entries {
            a.add(r);
        }
        a
    }

    fn shared(&self) -> Arc<[Entry]> {
        self.entries
            .iter()
            .map(|(r, index, value)| Entry {
                registry: r.id(),
                index: *index,
                value: *value,
            })
            .collect()
    }

    /// Puts the overrides in force on this thread until the guard is dropped.
    pub fn enter(&self) -> OverrideGuard {
        OverrideGuard {
            activation: self.activation(),
            frame: push_frame(Entries::Shared(self.shared())),
            _not_send: PhantomData,
        }
    }

    /// Runs `f` with the overrides in force.
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        let _guard = self.enter();
        f()
    }

    /// Wraps `future` so the overrides are in force whenever it is polled, on any
    /// thread and under any executor.
    pub fn scope<F: Future>(self, future: F) -> WithOverrides<F> {
        WithOverrides {
            _activation: self.activation(),
            entries: self.shared(),
            future,
        }
    }
}

pin_project_lite::pin_project! {
    /// A future with overrides in force on every poll; see [`Overrides::scope`].
    #[must_use = "futures do nothing unless polled"]
    pub struct WithOverrides<F> {
        // Keeps the registries in scoped mode for the future's whole life.
        _activation: Activation,
        entries: Arc<[Entry]>,
        #[pin]
        future: F,
    }
}

impl<F> fmt::Debug for WithOverrides<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WithOverrides")
            .field("overrides", &self.entries.len())
            .finish_non_exhaustive()
    }
}

impl<F: Future> Future for WithOverrides<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = self.project();
        struct Pop(u64);
        impl Drop for Pop {
            fn drop(&mut self) {
                pop_frame(self.0);
            }
        }
        let _pop = Pop(push_frame(Entries::Shared(this.entries.clone())));
        this.future.poll(cx)
    }
}

/// Scoped overrides of a registry.
impl Registry {
    /// Overrides in force on the current thread only, until the guard is dropped:
    /// parallel tests never see each other's. For async tasks use
    /// [`Overrides::scope`](crate::Overrides::scope).
    ///
    /// While any scope of this registry exists, reads of its flags take the slow
    /// path (everywhere, so that a scope can never be bypassed by a fast cell).
    ///
    /// # Examples
    ///
    /// ```
    /// # use flags_runtime::{__private::*, BoolFlag};
    /// # static META: [FlagMeta; 1] = [FlagMeta { name: "search_v2", index: 0, description: "",
    /// #     owner: "", kind: Kind::Ops, lifecycle: Lifecycle::Active, expires: None,
    /// #     variants: &[], default: Value::Bool(false), is_static: false, requires: &[],
    /// #     excludes: &[] }];
    /// # static CELLS: [FastCell; 1] = [const { FastCell::new() }; 1];
    /// # static REGISTRY: Registry = Registry::new(&META, &CELLS,
    /// #     "[flags.search_v2]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\n", "flags.toml");
    /// # const SEARCH_V2: BoolFlag = BoolFlag::new(&REGISTRY, 0);
    /// {
    ///     let _flags = REGISTRY.scoped_overrides().set(SEARCH_V2, true);
    ///     assert!(SEARCH_V2.get());
    ///     // Another thread does not see it.
    ///     assert!(!std::thread::spawn(|| SEARCH_V2.get()).join().unwrap());
    /// }
    /// assert!(!SEARCH_V2.get());
    /// ```
    pub fn scoped_overrides(&'static self) -> OverrideGuard {
        OverrideGuard::new(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::lookup;

    fn entry(registry: usize, index: usize, value: Value) -> Entry {
        Entry {
            registry,
            index,
            value,
        }
    }

    #[test]
    fn innermost_frame_and_latest_entry_win() {
        assert_eq!(lookup(1, 0), None);
        let outer = push_frame(Entries::Owned(vec![
            entry(1, 0, Value::Bool(true)),
            entry(1, 0, Value::Bool(false)),
            entry(2, 0, Value::Variant(3)),
        ]));
        assert_eq!(lookup(1, 0), Some(Value::Bool(false)), "latest entry");
        assert_eq!(lookup(2, 0), Some(Value::Variant(3)), "keyed by registry");
        assert_eq!(lookup(1, 1), None);
        let inner = push_frame(Entries::Shared(Arc::from(vec![entry(
            1,
            0,
            Value::Bool(true),
        )])));
        assert_eq!(lookup(1, 0), Some(Value::Bool(true)), "innermost frame");
        // Frames may be popped out of order; each removes only itself.
        pop_frame(outer);
        assert_eq!(lookup(1, 0), Some(Value::Bool(true)));
        assert_eq!(lookup(2, 0), None);
        pop_frame(inner);
        assert_eq!(lookup(1, 0), None);
        pop_frame(inner);
    }

    #[test]
    fn frames_are_per_thread() {
        let id = push_frame(Entries::Owned(vec![entry(9, 9, Value::Bool(true))]));
        let elsewhere = std::thread::spawn(|| lookup(9, 9))
            .join()
            .unwrap_or_else(|_| panic!("thread"));
        assert_eq!(elsewhere, None);
        assert_eq!(lookup(9, 9), Some(Value::Bool(true)));
        pop_frame(id);
    }
}
