//! The fast-cell publication protocol, model-checked with loom over every
//! interleaving and every memory ordering the C++/Rust model allows.
//!
//! The registry (`registry/cell.rs`, `registry/instrument.rs`) keeps, per flag, one
//! word that readers load with `Acquire`: a value served to everyone (marked COUNTED
//! while counting is on), a STICKY word (an on/off sticky rollout's percentage, read
//! with the flag's bucketing group kept beside the cells), or `SLOW`. Value and
//! STICKY words are the "fast" words a reader trusts. Three rules make it safe, and
//! this file models them with loom's types, step for step:
//!
//! 1. **Publication under the writer lock.** Every snapshot swap and every change of a
//!    switch (override scopes, counting, sampling) republishes the cells while holding
//!    one mutex, reading the switches inside it. So once a scope is open, no writer can
//!    store a value word that a reader on the scope's thread would trust: the scope's
//!    override is never bypassed.
//! 2. **Release stores, Acquire loads.** A reader that sees a new word also sees the
//!    snapshot published before it, so reads never go back to an older state.
//! 3. **A STICKY word comes after its group.** The flag's group is set (a `OnceLock`)
//!    before the first STICKY word is stored with Release, so a reader that sees the
//!    word finds the group.
//!
//! Each rule also has its negative control: the same model with the rule broken must
//! fail, which shows that the checks can fail.

use loom::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use loom::sync::{Arc, Mutex};
use loom::thread;

/// The word of a cell that readers must not trust.
const SLOW: u32 = 1 << 31;
/// A value word (the flag "on", uniform for everyone).
const ON: u32 = 1;
/// Marks a STICKY word (with SLOW, so that readers not looking for it slow down).
const STICKY: u32 = 1 << 28;
/// A STICKY word: a 30% rollout.
const STICKY_30: u32 = SLOW | STICKY | 30;

/// The shared state of one registry with one flag.
struct Model {
    /// The writer lock (the registry's `Mutex<Writer>`).
    writer: Mutex<()>,
    /// Live override scopes.
    scopes: AtomicUsize,
    /// The flag's fast cell.
    cell: AtomicU32,
    /// The generation of the snapshot in force.
    generation: AtomicU64,
    /// The word publication stores when nothing forces SLOW: a value or STICKY word.
    fast: u32,
}

impl Model {
    fn new() -> Arc<Model> {
        Model::with_fast(ON)
    }

    fn with_fast(fast: u32) -> Arc<Model> {
        Arc::new(Model {
            writer: Mutex::new(()),
            scopes: AtomicUsize::new(0),
            cell: AtomicU32::new(fast),
            generation: AtomicU64::new(0),
            fast,
        })
    }

    /// The word for the switches as they are: the fast word, or SLOW under a scope.
    fn word(&self) -> u32 {
        if self.scopes.load(Ordering::Relaxed) == 0 {
            self.fast
        } else {
            SLOW
        }
    }

    /// `publish_locked`: the switches are read, then the cell stored. With `locked`
    /// false, the lock is skipped (the negative control).
    fn publish(&self, locked: bool) {
        let _w = locked.then(|| self.writer.lock().unwrap_or_else(|e| e.into_inner()));
        self.cell.store(self.word(), Ordering::Release);
    }

    /// `commit`: a new snapshot (generation) swapped in, then the cells published.
    fn commit(&self, locked: bool) {
        let _w = locked.then(|| self.writer.lock().unwrap_or_else(|e| e.into_inner()));
        self.generation.fetch_add(1, Ordering::Release);
        self.cell.store(self.word(), Ordering::Release);
    }

    /// `scope_opened`: counted, and the cells republished (all SLOW now).
    fn open_scope(&self) {
        let _w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        self.scopes.fetch_add(1, Ordering::Relaxed);
        self.cell.store(self.word(), Ordering::Release);
    }
}

/// A writer commits while another thread opens a scope and then reads: the read after
/// the scope is open must never see a value word.
fn scope_is_never_bypassed(writer_locked: bool, fast: u32) {
    loom::model(move || {
        let m = Model::with_fast(fast);
        let w = {
            let m = m.clone();
            thread::spawn(move || m.commit(writer_locked))
        };
        m.open_scope();
        let word = m.cell.load(Ordering::Acquire);
        assert_eq!(
            word, SLOW,
            "a read inside an open scope trusted the fast cell"
        );
        w.join().unwrap_or_else(|_| panic!("writer"));
        // After both, the cell is still SLOW: the scope is still open.
        assert_eq!(m.cell.load(Ordering::Acquire), SLOW);
    });
}

#[test]
fn an_open_scope_is_never_bypassed_by_a_concurrent_commit() {
    scope_is_never_bypassed(true, ON);
}

#[test]
fn an_open_scope_is_never_bypassed_by_a_sticky_word() {
    scope_is_never_bypassed(true, STICKY_30);
}

#[test]
fn without_the_writer_lock_a_commit_can_bypass_a_scope() {
    // The negative control: skipping the lock must let loom find the interleaving in
    // which the writer read "no scope", the scope opened and marked the cell SLOW, and
    // the writer then stored a value word over it.
    let failed = std::panic::catch_unwind(|| scope_is_never_bypassed(false, ON)).is_err();
    assert!(
        failed,
        "loom found no bypass without the lock: the model checks nothing"
    );
}

/// A reader that sees the word the writer published after a new snapshot also sees
/// that snapshot's generation.
fn reads_never_go_back(store: Ordering, load: Ordering) {
    loom::model(move || {
        let m = Model::new();
        m.cell.store(SLOW, Ordering::Relaxed);
        let w = {
            let m = m.clone();
            thread::spawn(move || {
                m.generation.store(1, Ordering::Relaxed);
                m.cell.store(ON, store);
            })
        };
        if m.cell.load(load) == ON {
            assert_eq!(
                m.generation.load(Ordering::Relaxed),
                1,
                "the new word was seen with the old snapshot"
            );
        }
        w.join().unwrap_or_else(|_| panic!("writer"));
    });
}

#[test]
fn a_new_word_comes_with_its_snapshot() {
    reads_never_go_back(Ordering::Release, Ordering::Acquire);
}

#[test]
fn relaxed_publication_can_show_a_new_word_with_an_old_snapshot() {
    let failed =
        std::panic::catch_unwind(|| reads_never_go_back(Ordering::Relaxed, Ordering::Relaxed))
            .is_err();
    assert!(
        failed,
        "loom found no reordering with relaxed stores: the model checks nothing"
    );
}

#[test]
fn closing_the_last_scope_restores_value_words_whatever_the_order() {
    loom::model(|| {
        let m = Model::new();
        let w = {
            let m = m.clone();
            thread::spawn(move || m.publish(true))
        };
        m.open_scope();
        {
            let _w = m.writer.lock().unwrap_or_else(|e| e.into_inner());
            m.scopes.fetch_sub(1, Ordering::Relaxed);
            let fast = m.scopes.load(Ordering::Relaxed) == 0;
            m.cell
                .store(if fast { ON } else { SLOW }, Ordering::Release);
        }
        w.join().unwrap_or_else(|_| panic!("writer"));
        // No scope is open and every publication saw that under the lock: the last
        // store, whichever thread made it, is a value word.
        assert_eq!(m.cell.load(Ordering::Acquire), ON);
    });
}

/// A reader that sees a STICKY word finds the flag's group, which the writer set
/// before storing the word.
fn sticky_word_comes_with_its_group(store: Ordering, load: Ordering) {
    loom::model(move || {
        let cell = Arc::new(AtomicU32::new(SLOW));
        // The group, 0 until set (the registry's `OnceLock<BucketGroup>`).
        let group = Arc::new(AtomicU64::new(0));
        let w = {
            let (cell, group) = (cell.clone(), group.clone());
            thread::spawn(move || {
                group.store(0x5eed, Ordering::Relaxed);
                cell.store(STICKY_30, store);
            })
        };
        if cell.load(load) & STICKY != 0 {
            assert_eq!(
                group.load(Ordering::Relaxed),
                0x5eed,
                "a STICKY word was seen without its group"
            );
        }
        w.join().unwrap_or_else(|_| panic!("writer"));
    });
}

#[test]
fn a_sticky_word_comes_with_its_group() {
    sticky_word_comes_with_its_group(Ordering::Release, Ordering::Acquire);
}

#[test]
fn relaxed_publication_can_show_a_sticky_word_without_its_group() {
    let failed = std::panic::catch_unwind(|| {
        sticky_word_comes_with_its_group(Ordering::Relaxed, Ordering::Relaxed)
    })
    .is_err();
    assert!(
        failed,
        "loom found no reordering with relaxed stores: the model checks nothing"
    );
}
