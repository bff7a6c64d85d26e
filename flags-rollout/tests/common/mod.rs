//! Helpers shared by the integration tests: a seeded PRNG, scratch directories and a
//! tracing subscriber that remembers events.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use flags_manifest::{Criteria, RolloutPlan};

/// test-support's fixed-seed SplitMix64, with the draws a simulation needs.
pub struct Rng(flags_test_support::keys::SplitMix64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(flags_test_support::keys::SplitMix64(seed))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in (0, 1].
    pub fn f64_open0(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Exponential with the given mean.
    pub fn exp(&mut self, mean: f64) -> f64 {
        -mean * self.f64_open0().ln()
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// A fresh empty directory under cargo's scratch space for integration tests.
pub fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("flags-rollout")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn plan(stages: &[u8], soak_secs: u64, min_samples: u64, criteria: Criteria) -> RolloutPlan {
    RolloutPlan {
        stages: stages.to_vec(),
        soak: std::time::Duration::from_secs(soak_secs),
        min_samples,
        criteria,
    }
}

/// One recorded tracing event: level and the `message` and `flag` fields.
#[derive(Clone, Debug)]
pub struct Event {
    pub level: tracing::Level,
    pub message: String,
    pub flag: String,
}

/// The events of the current thread while [`Capture::during`] runs.
///
/// Events reach it through one process-wide subscriber installed once and never
/// removed: with per-thread subscribers that come and go, a callsite first hit on
/// another thread while none exists caches "never" and may stay so for a test that
/// installs one meanwhile. A global subscriber that always wants events leaves no
/// such window after the first rebuild.
#[derive(Clone, Default)]
pub struct Capture {
    pub events: Arc<Mutex<Vec<Event>>>,
}

thread_local! {
    static SINK: std::cell::RefCell<Option<Arc<Mutex<Vec<Event>>>>> =
        const { std::cell::RefCell::new(None) };
}

impl Capture {
    /// Runs `f` with this thread's events recorded here.
    pub fn during<R>(&self, f: impl FnOnce() -> R) -> R {
        static INSTALL: std::sync::Once = std::sync::Once::new();
        INSTALL.call_once(|| {
            // Fails only if another global subscriber exists; this binary sets none.
            let _ = tracing::subscriber::set_global_default(Global);
        });
        // Callsites hit before the global subscriber existed cached "never".
        tracing::callsite::rebuild_interest_cache();
        SINK.with(|s| *s.borrow_mut() = Some(self.events.clone()));
        let out = f();
        SINK.with(|s| *s.borrow_mut() = None);
        out
    }
}

/// The process-wide subscriber: hands each event to its thread's sink, if any.
struct Global;

struct Visit<'a>(&'a mut Event);

impl tracing::field::Visit for Visit<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => self.0.message = format!("{value:?}"),
            "flag" => self.0.flag = format!("{value:?}").trim_matches('"').to_owned(),
            _ => {}
        }
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        match field.name() {
            "message" => self.0.message = value.to_owned(),
            "flag" => self.0.flag = value.to_owned(),
            _ => {}
        }
    }
}

impl tracing::Subscriber for Global {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut e = Event {
            level: *event.metadata().level(),
            message: String::new(),
            flag: String::new(),
        };
        event.record(&mut Visit(&mut e));
        SINK.with(|s| {
            if let Some(events) = &*s.borrow() {
                events.lock().unwrap().push(e);
            }
        });
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}
