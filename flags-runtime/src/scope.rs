//! The per-thread stack of override frames behind scoped overrides: what a guard or a
//! wrapped future pushes, and what the slow path of a read looks up first. It sits
//! below the registry and the snapshots, which read it, and the override API
//! ([`crate::Overrides`], [`crate::OverrideGuard`]), which writes it.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::meta::Value;

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Entry {
    pub(crate) registry: usize,
    pub(crate) index: usize,
    pub(crate) value: Value,
}

#[derive(Debug)]
pub(crate) enum Entries {
    Owned(Vec<Entry>),
    Shared(Arc<[Entry]>),
}

impl Entries {
    fn as_slice(&self) -> &[Entry] {
        match self {
            Entries::Owned(v) => v,
            Entries::Shared(v) => v,
        }
    }
}

#[derive(Debug)]
struct Frame {
    id: u64,
    entries: Entries,
}

thread_local! {
    static FRAMES: RefCell<Vec<Frame>> = const { RefCell::new(Vec::new()) };
}

static NEXT_FRAME: AtomicU64 = AtomicU64::new(1);

pub(crate) fn push_frame(entries: Entries) -> u64 {
    let id = NEXT_FRAME.fetch_add(1, Ordering::Relaxed);
    let _ = FRAMES.try_with(|f| {
        if let Ok(mut f) = f.try_borrow_mut() {
            f.push(Frame { id, entries });
        }
    });
    id
}

pub(crate) fn pop_frame(id: u64) {
    let _ = FRAMES.try_with(|f| {
        if let Ok(mut f) = f.try_borrow_mut()
            && let Some(pos) = f.iter().rposition(|fr| fr.id == id)
        {
            f.remove(pos);
        }
    });
}

/// The scoped override of flag `index` of registry `registry` on this thread, the
/// innermost scope winning.
#[inline]
pub(crate) fn lookup(registry: usize, index: usize) -> Option<Value> {
    FRAMES
        .try_with(|f| {
            let frames = f.try_borrow().ok()?;
            frames.iter().rev().find_map(|fr| {
                fr.entries
                    .as_slice()
                    .iter()
                    .rev()
                    .find(|e| e.registry == registry && e.index == index)
                    .map(|e| e.value)
            })
        })
        .ok()
        .flatten()
}

/// Adds `entry` to frame `id` of this thread, if it is still on the stack.
pub(crate) fn add_entry(id: u64, entry: Entry) {
    let _ = FRAMES.try_with(|f| {
        if let Ok(mut f) = f.try_borrow_mut()
            && let Some(fr) = f.iter_mut().rfind(|fr| fr.id == id)
        {
            match &mut fr.entries {
                Entries::Owned(v) => v.push(entry),
                Entries::Shared(v) => {
                    let mut owned = v.to_vec();
                    owned.push(entry);
                    fr.entries = Entries::Owned(owned);
                }
            }
        }
    });
}
