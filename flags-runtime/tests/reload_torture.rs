//! A watched rule file rewritten in place under concurrent readers: no reader ever sees
//! a state that no complete version of the file held.
//!
//! Every complete version sets `search_v2` and `beta_rollout` to the same value and
//! `layout` to `compact` when they are on, `wide` when they are off; the manifest
//! defaults (`search_v2` off, `layout` classic, `beta_rollout` a 50% rollout) fit no
//! version, so a reader can tell a prefix, an empty file or a reverted layer from a
//! real version. This thread writes the file and drives the polls itself (through
//! `Registry::apply`), so the interleaving of writes and reads is decided here, not by
//! the scheduler: between two steps of a write (truncation, each piece) it polls at
//! most once, which models a writer that pauses for less than the settle interval.

// Needs the `rule-files` feature: it watches rule files.
#![cfg(feature = "rule-files")]

mod common;

use flags_runtime::raw::SnapshotAccess as _;
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use common::Layout;
use flags_runtime::{Context, FileSource, Layer};
use flags_test_support::wait::wait_until;

test_registry!(reg);

/// Any two polls are further apart than this, so the test counts reads, not time.
const SETTLE: Duration = Duration::from_nanos(1);
const REWRITES: u64 = 1_000;

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("flags-torture-{}-{name}.toml", std::process::id()))
}

/// The text of version `k`.
fn version(k: u64) -> String {
    let on = k.is_multiple_of(2);
    let layout = if on { "compact" } else { "wide" };
    format!(
        "# version {k}\n[flags.search_v2]\nvalue = {on}\n\n[flags.beta_rollout]\nvalue = {on}\n\n\
         [flags.layout]\nvalue = \"{layout}\"\n"
    )
}

/// A small deterministic generator (xorshift64*), so a failure replays.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// What the readers check and report.
#[derive(Default)]
struct Watchers {
    stop: AtomicBool,
    reads: AtomicU64,
    bad: AtomicU64,
    first_bad: Mutex<Option<String>>,
}

impl Watchers {
    fn report(&self, what: String) {
        self.bad.fetch_add(1, Ordering::Relaxed);
        let mut first = self.first_bad.lock().unwrap_or_else(|e| e.into_inner());
        first.get_or_insert(what);
    }
}

/// One reader: checks every flag through its typed accessor, and the combination
/// through one snapshot (a reader taking three accessors in a row may straddle a swap,
/// so only a snapshot shows a combination).
fn read_until_stopped(w: &Watchers, id: u64) {
    let mut i = 0u64;
    while !w.stop.load(Ordering::Relaxed) {
        i += 1;
        let ctx = Context::with_key(format!("user-{id}-{i}"));
        let layout = reg::LAYOUT.get();
        if layout == Layout::Classic {
            w.report(format!("reader {id}: layout at its default"));
        }
        let snap = reg::REGISTRY.snapshot();
        let (a, b, l) = (
            snap.get(reg::SEARCH_V2),
            snap.get_for(reg::BETA_ROLLOUT, &ctx),
            snap.get(reg::LAYOUT),
        );
        let expected = if a { Layout::Compact } else { Layout::Wide };
        if a != b || l != expected {
            w.report(format!(
                "reader {id}: search_v2 {a}, beta_rollout {b}, layout {l:?}: no version holds this"
            ));
        }
        if snap.layer(common::LAYOUT) != Some(Layer::File) {
            w.report(format!("reader {id}: layout not decided by the file"));
        }
        w.reads.fetch_add(1, Ordering::Relaxed);
    }
}

/// The test's own hands on the file and the source.
struct Rig {
    path: PathBuf,
    source: FileSource,
    rng: Rng,
}

impl Rig {
    fn poll(&mut self) -> Result<bool, flags_runtime::UpdateError> {
        reg::REGISTRY.apply(&mut self.source)
    }

    /// Polls at most once (the writer's pause is shorter than the settle interval).
    fn maybe_poll(&mut self) {
        if self.rng.below(2) == 0 {
            let _ = self.poll();
        }
    }

    /// Rewrites the file in place with `text`: truncate, then a few pieces cut at
    /// random places (often at line ends, so prefixes parse), maybe polling between.
    fn write_in_place(&mut self, text: &str) {
        let mut f = open_truncated(&self.path);
        self.maybe_poll();
        self.write_pieces(&mut f, text);
    }

    fn write_pieces(&mut self, f: &mut File, text: &str) {
        let bytes = text.as_bytes();
        let mut at = 0;
        while at < bytes.len() {
            let rest = bytes.len() - at;
            let mut end = at + 1 + self.rng.below(rest as u64) as usize;
            if self.rng.below(2) == 0
                && let Some(nl) = bytes[at..end].iter().rposition(|&b| b == b'\n')
            {
                end = at + nl + 1;
            }
            f.write_all(&bytes[at..end])
                .unwrap_or_else(|e| panic!("write {}: {e}", self.path.display()));
            at = end;
            if at < bytes.len() {
                self.maybe_poll();
            }
        }
    }

    /// Polls until version `k` is applied: at most two polls once it is complete.
    fn settle_on(&mut self, k: u64) {
        let mut applied = false;
        for _ in 0..2 {
            applied |= self.poll() == Ok(true);
        }
        assert!(applied, "version {k} applied within two polls");
        assert_in_force(k);
    }
}

fn open_truncated(path: &Path) -> File {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()))
}

fn assert_in_force(k: u64) {
    let on = k.is_multiple_of(2);
    assert_eq!(reg::SEARCH_V2.get(), on, "version {k}");
    assert_eq!(
        reg::LAYOUT.get(),
        if on { Layout::Compact } else { Layout::Wide },
        "version {k}"
    );
}

#[test]
fn readers_never_see_a_state_no_complete_file_held() {
    let path = temp_path("in-place");
    std::fs::write(&path, version(0)).unwrap_or_else(|e| panic!("{e}"));
    let mut rig = Rig {
        source: FileSource::new(&path).settle(SETTLE),
        path: path.clone(),
        rng: Rng(0x9E37_79B9_7F4A_7C15),
    };
    assert_eq!(rig.poll(), Ok(true), "the first load applies version 0");
    assert_in_force(0);

    let watchers = Arc::new(Watchers::default());
    let readers: Vec<_> = (0..2)
        .map(|id| {
            let w = watchers.clone();
            std::thread::spawn(move || read_until_stopped(&w, id))
        })
        .collect();
    wait_until("the readers to start", || {
        watchers.reads.load(Ordering::Relaxed) > 0
    });

    // 1. In-place rewrites.
    let mut k = 0;
    for _ in 0..REWRITES {
        k += 1;
        rig.write_in_place(&version(k));
        rig.settle_on(k);
    }
    let errors = reg::REGISTRY.error_count();
    assert_eq!(errors, 0, "no half-written file was reported as invalid");

    // 2. Truncation: the file stays empty for up to two reads, then is written.
    for _ in 0..50 {
        k += 1;
        let mut f = open_truncated(&path);
        for _ in 0..1 + rig.rng.below(2) {
            assert_eq!(rig.poll(), Ok(false), "an empty read is not applied");
        }
        rig.write_pieces(&mut f, &version(k));
        drop(f);
        rig.settle_on(k);
    }

    // 3. Deletion: the rules stay, the absence is reported once.
    std::fs::remove_file(&path).unwrap_or_else(|e| panic!("{e}"));
    for _ in 0..20 {
        assert!(matches!(rig.poll(), Ok(false) | Err(_)));
    }
    assert_eq!(reg::REGISTRY.error_count(), errors + 1, "reported once");
    assert_in_force(k);
    // Back with the same content: nothing changes.
    std::fs::write(&path, version(k)).unwrap_or_else(|e| panic!("{e}"));
    for _ in 0..3 {
        assert_eq!(rig.poll(), Ok(false));
    }
    // A replacement by delete-then-rename: the gap is read at most once or for as
    // long as it lasts, and never reverts a flag.
    for _ in 0..20 {
        k += 1;
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, version(k)).unwrap_or_else(|e| panic!("{e}"));
        std::fs::remove_file(&path).unwrap_or_else(|e| panic!("{e}"));
        for _ in 0..rig.rng.below(4) {
            let _ = rig.poll();
        }
        std::fs::rename(&tmp, &path).unwrap_or_else(|e| panic!("{e}"));
        rig.settle_on(k);
    }

    let before = watchers.reads.load(Ordering::Relaxed);
    wait_until("the readers to keep reading", || {
        watchers.reads.load(Ordering::Relaxed) > before
    });
    watchers.stop.store(true, Ordering::Relaxed);
    for r in readers {
        r.join().unwrap_or_else(|_| panic!("a reader panicked"));
    }
    let reads = watchers.reads.load(Ordering::Relaxed);
    let bad = watchers.bad.load(Ordering::Relaxed);
    let first = watchers
        .first_bad
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    eprintln!("{reads} reads by 2 readers over {k} versions; {bad} unrealised states");
    assert_eq!(
        bad, 0,
        "{bad} reads saw a state no file held; first: {first:?}"
    );

    // 4. An empty file that persists is the deliberate "no rules": every flag goes back
    // to the manifest (checked after the readers stopped, as this state is real).
    drop(open_truncated(&path));
    assert_eq!(rig.poll(), Ok(false));
    assert_eq!(rig.poll(), Ok(false));
    assert_eq!(rig.poll(), Ok(true));
    assert_eq!(reg::LAYOUT.get(), Layout::Classic);
    assert!(!reg::SEARCH_V2.get());
    let _ = std::fs::remove_file(&path);
}
