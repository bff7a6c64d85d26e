//! The read path: values from the fast cells, else from the current snapshot through
//! a per-thread cache.

use std::cell::RefCell;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};

use arc_swap::{ArcSwap, Cache};

use crate::context::{self, Context};
use crate::eval::Outcome;
use crate::explain::{Detail, Layer};
use crate::gate::{Gate, GateCounts};
use crate::meta::Value;
use crate::snapshot::{SlotDecision, Snapshot, SnapshotData, View};

use super::cell::{COUNTED, PERCENT, SLOW, STICKY, VARIANT, decode};
use super::{Registry, State};

/// A per-thread cache of one registry state's current snapshot: `arc_swap`'s own
/// [`Cache`], which checks the shared pointer with one relaxed load and reloads only
/// when it moved.
type SnapshotCacheEntry = Cache<Arc<ArcSwap<SnapshotData>>, Arc<SnapshotData>>;

/// Per thread, a cache of each registry state's snapshot: the most recently used one
/// in `primary`, others (a process with several registries) in `others`, each keyed
/// by the state's uid. A thread keeps a reference to the snapshot it last used until
/// its next read of that registry, so an old snapshot may live a little longer; it is
/// never read once a newer one is published.
#[derive(Default)]
pub(super) struct SnapshotCache {
    pub(super) primary: Option<(u64, SnapshotCacheEntry)>,
    pub(super) others: Vec<(u64, SnapshotCacheEntry)>,
}

thread_local! {
    static CURRENT: RefCell<SnapshotCache> = RefCell::new(SnapshotCache::default());
}

/// Runs `f` on the current snapshot of `state`. `f` is passed by reference so that,
/// when the cache misses, it can still run on a freshly loaded snapshot.
#[inline]
pub(super) fn with_current<R>(state: &State, f: &impl Fn(&SnapshotData) -> R) -> R {
    match with_cached(state, f) {
        Some(r) => r,
        None => with_current_refresh(state, f),
    }
}

/// Runs `f` on this thread's cached snapshot of `state` (brought up to date by the
/// cache) if `state` is the primary entry; `None` (and `f` not run) otherwise.
#[inline(always)]
pub(super) fn with_cached<R>(state: &State, f: impl FnOnce(&SnapshotData) -> R) -> Option<R> {
    CURRENT
        .try_with(|cache| {
            let mut cache = cache.try_borrow_mut().ok()?;
            match &mut cache.primary {
                Some((uid, entry)) if *uid == state.uid => Some(f(entry.load())),
                _ => None,
            }
        })
        .ok()
        .flatten()
}

/// The cache missed: make `state` the primary entry (or, if thread-local storage is
/// unavailable, read the `ArcSwap` directly).
#[cold]
pub(super) fn with_current_refresh<R>(state: &State, f: &impl Fn(&SnapshotData) -> R) -> R {
    let refreshed = CURRENT.try_with(|cache| {
        // Evaluation never re-enters this function on the same thread, but if it
        // ever did, the borrow would fail and the fallback below would serve it.
        let mut cache = cache.try_borrow_mut().ok()?;
        let cache = &mut *cache;
        if let Some(previous) = cache.primary.take() {
            cache.others.push(previous);
        }
        let mut entry = match cache.others.iter().position(|(uid, _)| *uid == state.uid) {
            Some(pos) => cache.others.swap_remove(pos),
            None => (state.uid, Cache::new(state.snapshot.clone())),
        };
        let out = f(entry.1.load());
        cache.primary = Some(entry);
        Some(out)
    });
    match refreshed {
        Ok(Some(r)) => r,
        _ => f(&state.snapshot.load()),
    }
}

/// Flag `index` in `data` for `ctx` (the ambient context when `None`), with no scope,
/// counting or sampling in play.
#[inline(never)]
pub(super) fn read_data(
    state: &State,
    data: &SnapshotData,
    index: usize,
    ctx: Option<&Context>,
) -> Value {
    // Slots and metadata have the same length, checked by the caller; a missing slot
    // reads as off, like an unknown index.
    let Some(slot) = data.slots.get(index) else {
        return Value::Bool(false);
    };
    if let Some(v) = slot.uniform {
        return v;
    }
    if let (true, SlotDecision::Rules(rules, _)) = (slot.plain, &slot.decision) {
        if let Some(sticky) = &slot.sticky {
            let decide = |ctx: &Context| sticky.value(ctx).unwrap_or_else(|| rules.value(ctx));
            return match ctx {
                Some(ctx) => decide(ctx),
                None => context::with_ambient(decide),
            };
        }
        return match ctx {
            Some(ctx) => rules.value(ctx),
            None => context::with_ambient(|ctx| rules.value(ctx)),
        };
    }
    let view = View {
        statics: &state.statics,
        data,
        scoped: None,
    };
    match ctx {
        Some(ctx) => view.evaluate(index, ctx).value,
        None => context::with_ambient(|ctx| view.evaluate(index, ctx).value),
    }
}

/// Flag `index` in `data` explained for `ctx`, with `scoped` the registry's identity
/// when scoped overrides may be active.
#[inline(always)]
fn explain_data(
    state: &State,
    data: &SnapshotData,
    index: usize,
    ctx: &Context,
    scoped: Option<usize>,
) -> Outcome {
    // Slots and metadata have the same length; a missing slot would be an error,
    // never a panic.
    let Some(slot) = data.slots.get(index) else {
        return Outcome {
            value: Value::Bool(false),
            reason: crate::Reason::Error,
            layer: Layer::Manifest,
        };
    };
    // A sticky rollout decides a keyed context alone, as on the value path, unless
    // a scoped override may be in play.
    if scoped.is_none()
        && let (Some(sticky), SlotDecision::Rules(_, layer)) = (&slot.sticky, &slot.decision)
        && let Some((value, reason)) = sticky.explain(ctx)
    {
        return Outcome {
            value,
            reason,
            layer: *layer,
        };
    }
    View {
        statics: &state.statics,
        data,
        scoped,
    }
    .evaluate(index, ctx)
}

/// Flag `index` in `data` explained for any context of targeting key `key`, when
/// its sticky rollout on the key decides it (scoped overrides are the caller's to
/// rule out); `None` otherwise.
#[inline(always)]
fn explain_key_data(data: &SnapshotData, index: usize, key: &str) -> Option<Outcome> {
    let slot = data.slots.get(index)?;
    let (Some(sticky), SlotDecision::Rules(_, layer)) = (&slot.sticky, &slot.decision) else {
        return None;
    };
    let (value, reason) = sticky.explain_key(key);
    Some(Outcome {
        value,
        reason,
        layer: *layer,
    })
}

impl Registry {
    // ---- reading -------------------------------------------------------------------

    /// The current value of flag `index` in the ambient context.
    #[inline]
    pub(crate) fn value_at(&self, index: usize) -> Value {
        if let Some(cell) = self.cells.get(index) {
            let word = cell.0.load(Ordering::Acquire);
            if word & (SLOW | COUNTED) == 0 {
                return decode(word);
            }
            if word & SLOW == 0 {
                return self.value_counted(index, word);
            }
        }
        self.value_slow(index, None)
    }

    /// The current value of flag `index` for `ctx`.
    #[inline]
    pub(crate) fn value_for_at(&self, index: usize, ctx: &Context) -> Value {
        if let Some(cell) = self.cells.get(index) {
            let word = cell.0.load(Ordering::Acquire);
            if word & (SLOW | COUNTED) == 0 {
                return decode(word);
            }
            if word & SLOW == 0 {
                return self.value_counted(index, word);
            }
            if word & STICKY != 0 {
                return Value::Bool(self.is_on_sticky(index, word, ctx));
            }
        }
        self.value_slow(index, Some(ctx))
    }

    /// Whether flag `index` is on (`Value::Bool(true)`) in the ambient context, or for
    /// `ctx`: [`value`](Self::value) / [`value_for`](Self::value_for) compared with on,
    /// with the fast cell's word tested directly.
    #[inline]
    pub(crate) fn is_on(&self, index: usize, ctx: Option<&Context>) -> bool {
        if let Some(cell) = self.cells.get(index) {
            let word = cell.0.load(Ordering::Acquire);
            if word & (SLOW | COUNTED) == 0 {
                // On is a bool word with its low bit set (see `encode`).
                return word & (VARIANT | 1) == 1;
            }
            if word & SLOW == 0 {
                return self.is_on_counted(index, word);
            }
            if word & STICKY != 0
                && let Some(ctx) = ctx
            {
                return self.is_on_sticky(index, word, ctx);
            }
        }
        matches!(self.value_slow(index, ctx), Value::Bool(true))
    }

    /// The value of flag `index` for a `#[feature_gate]` call, counted for `gate` while
    /// counting is on (ambient context, or `ctx`).
    #[inline]
    pub(crate) fn route_at(
        &'static self,
        index: usize,
        ctx: Option<&Context>,
        gate: &'static Gate,
    ) -> Value {
        if let Some(cell) = self.cells.get(index) {
            let word = cell.0.load(Ordering::Acquire);
            if word & (SLOW | COUNTED) == 0 {
                return decode(word);
            }
        }
        self.route_slow(index, ctx, gate)
    }

    /// Out of line so that the inlined fast path of a gated call stays as small as a
    /// plain flag check.
    #[cold]
    #[inline(never)]
    pub(super) fn route_slow(
        &'static self,
        index: usize,
        ctx: Option<&Context>,
        gate: &'static Gate,
    ) -> Value {
        // A counted cell holds the value: no evaluation needed.
        let counted = self
            .cells
            .get(index)
            .map(|cell| cell.0.load(Ordering::Acquire))
            .filter(|word| word & SLOW == 0);
        let value = match counted {
            Some(word) => self.value_counted(index, word),
            None => self.value_slow(index, ctx),
        };
        if self.state().counting.load(Ordering::Relaxed) {
            gate.record(self, index, value);
        }
        value
    }

    /// How often each `#[feature_gate]` routing by this registry's flags went to each
    /// side, for gates that ran while counting was on.
    pub fn gate_counts(&'static self) -> Vec<GateCounts> {
        crate::gate::counts(self)
    }

    /// The registry's identity if scoped overrides may be active (a cheap gate before
    /// looking at thread-local frames).
    pub(crate) fn scoped_id(&self) -> Option<usize> {
        (self.state().scopes.load(Ordering::Relaxed) > 0).then(|| self.id())
    }

    /// A counted cell's read: the value is in the word; count it. Small, so that it
    /// costs little more than the call.
    #[inline(never)]
    pub(super) fn value_counted(&self, index: usize, word: u32) -> Value {
        self.count_word(index, word);
        decode(word)
    }

    /// [`value_counted`](Self::value_counted) for a caller that only wants to know
    /// whether the flag is on.
    #[inline(never)]
    pub(super) fn is_on_counted(&self, index: usize, word: u32) -> bool {
        self.count_word(index, word);
        word & (VARIANT | 1) == 1
    }

    /// A STICKY cell's read for a keyed context: the key's bucket in the flag's group
    /// against the percentage in the word, without the snapshot (counted when the word
    /// says so). A context without a key (the full rules fall back to other
    /// stickiness) takes the snapshot path, which counts on its own.
    #[inline(never)]
    pub(super) fn is_on_sticky(&self, index: usize, word: u32, ctx: &Context) -> bool {
        if let Some(key) = ctx.key_attr()
            && let Some(state) = self.state.get()
            && let Some(group) = state.sticky_groups.get(index).and_then(OnceLock::get)
        {
            // The percentage is at most 100, in the word's low 7 bits.
            let percent = (word & PERCENT) as u8;
            let on = group.rollout_bucket(key.text()).is_in_rollout(percent);
            if word & COUNTED != 0 {
                state.counters.count_offset(index, usize::from(on));
            }
            return on;
        }
        matches!(self.value_slow(index, Some(ctx)), Value::Bool(true))
    }

    #[inline(always)]
    fn count_word(&self, index: usize, word: u32) {
        if let Some(state) = self.state.get() {
            // The low 16 bits are the value's offset among the flag's values: the
            // bool's bit, or the variant's index (see `encode`).
            state.counters.count_offset(index, (word & 0xffff) as usize);
        }
    }

    #[inline(never)]
    pub(super) fn value_slow(&self, index: usize, ctx: Option<&Context>) -> Value {
        let state = self.state();
        if index >= self.meta.len() {
            return Value::Bool(false);
        }
        // One load tells whether anything but the rules matters (scopes, sampling):
        // if not, this is the plain evaluation.
        if state.instrumented.load(Ordering::Relaxed) {
            return self.value_instrumented(state, index, ctx);
        }
        // The cached snapshot, with a sticky rollout read for a keyed context decided
        // inline (the bucket alone) and everything else out of line, so that this
        // path stays small.
        let hit = with_cached(state, |data| {
            if let Some(ctx) = ctx
                && let Some(sticky) = data.slots.get(index).and_then(|s| s.sticky.as_ref())
                && let Some(value) = sticky.value(ctx)
            {
                return value;
            }
            read_data(state, data, index, ctx)
        });
        let value = match hit {
            Some(value) => value,
            None => with_current_refresh(state, &|data| read_data(state, data, index, ctx)),
        };
        if state.counting.load(Ordering::Relaxed) {
            state.counters.count(index, value);
        }
        value
    }

    /// Why flag `index` has its value for `ctx`: value, label, reason and deciding
    /// layer. Counted as a read while the registry counts (see
    /// [`Registry::set_counting`]).
    ///
    /// An index out of range explains as `off` with [`crate::Reason::Error`].
    pub(crate) fn explain_at(&self, index: usize, ctx: &Context) -> Detail {
        // This thread's cached snapshot (current, as every read's): no reference
        // count taken on the shared one, which `snapshot()` would do.
        let Some(meta) = self.meta.get(index) else {
            return self.explain_error();
        };
        let state = self.state();
        let scoped = self.scoped_id();
        // The cache's hit inline, its miss out of line, as on the value path (one
        // closure called from both comes back through memory, noticeably slower).
        let o = match with_cached(state, |data| explain_data(state, data, index, ctx, scoped)) {
            Some(o) => o,
            None => {
                with_current_refresh(state, &|data| explain_data(state, data, index, ctx, scoped))
            }
        };
        self.count_read(index, o.value);
        Detail::of(o, meta, self.meta)
    }

    /// [`explain_at`](Self::explain_at) for any context whose targeting key is
    /// `key`, when the flag is decided by the key alone (a sticky rollout on it, no
    /// scoped override in play); `None` otherwise.
    pub(crate) fn explain_key_at(&self, index: usize, key: &str) -> Option<Detail> {
        let meta = self.meta.get(index)?;
        if self.scoped_id().is_some() {
            return None;
        }
        let state = self.state();
        let o = match with_cached(state, |data| explain_key_data(data, index, key)) {
            Some(o) => o,
            None => with_current_refresh(state, &|data| explain_key_data(data, index, key)),
        }?;
        self.count_read(index, o.value);
        Some(Detail::of(o, meta, self.meta))
    }

    /// What an index out of range explains as.
    #[cold]
    fn explain_error(&self) -> Detail {
        Detail {
            value: Value::Bool(false),
            label: "off",
            reason: crate::Reason::Error,
            layer: Layer::Manifest,
            flag: "?",
            prerequisite: None,
        }
    }

    /// A consistent view of all flags: reads through it see one state of every flag,
    /// whatever updates happen meanwhile.
    ///
    /// # Examples
    ///
    /// ```
    /// # use flags_runtime::{__private::*, BoolFlag};
    /// # static META: [FlagMeta; 1] = [FlagMeta { name: "beta", index: 0, description: "",
    /// #     owner: "", kind: Kind::Ops, lifecycle: Lifecycle::Active, expires: None,
    /// #     variants: &[], default: Value::Bool(false), is_static: false, requires: &[],
    /// #     excludes: &[] }];
    /// # static CELLS: [FastCell; 1] = [const { FastCell::new() }; 1];
    /// # static REGISTRY: Registry = Registry::new(&META, &CELLS,
    /// #     "[flags.beta]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\n", "flags.toml");
    /// # const BETA: BoolFlag = BoolFlag::new(&REGISTRY, 0);
    /// let before = REGISTRY.snapshot();
    /// REGISTRY.set_override(BETA, true)?;
    /// assert!(!before.get(BETA));
    /// assert!(REGISTRY.snapshot().get(BETA));
    /// assert!(REGISTRY.snapshot().generation() > before.generation());
    /// # Ok::<(), flags_runtime::UpdateError>(())
    /// ```
    pub fn snapshot(&self) -> Snapshot<'_> {
        let state = self.state();
        Snapshot {
            registry: self,
            statics: &state.statics,
            data: state.snapshot.load_full(),
        }
    }
}
