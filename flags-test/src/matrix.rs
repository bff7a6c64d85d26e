//! The in-process matrix: one test body run under each combination of flag values, each
//! combination inside its own override scope, so that parallel tests never see each
//! other's values. Combinations come from the same planner as the whole-suite runner
//! (covering arrays, the manifest's `requires`/`excludes`, pins), and a failing
//! combination does not stop the others: the test fails at the end, naming every
//! combination that failed by its flag values.

use std::any::Any;
use std::cell::RefCell;
use std::fmt::Debug;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe, Location, catch_unwind};
use std::pin::Pin as StdPin;
use std::sync::Once;
use std::task::{Context as TaskContext, Poll};

use flags_runtime::{FlagHandle, Overrides, Registry, Value};
use thiserror::Error;

use crate::cover::Constraints;
use crate::plan::{self, FlagSelection, Mode, Pin, PlanError, PlanOptions, Rule};
use crate::setting::FlagSetting;

/// The variable that fixes the seed of a random matrix, to replay a failure.
pub const SEED_VAR: &str = "FLAGS_MATRIX_SEED";

/// A test body's matrix of flag combinations; see the [crate docs](crate).
///
/// ```
/// flags_runtime::flags!("benches/matrix.toml");
///
/// # fn main() {
/// flags_test::FlagMatrix::new(&flags::REGISTRY)
///     .flags(&[&flags::F0, &flags::F1, &flags::F2])
///     .exhaustive()
///     .run(|case| {
///         // Each combination is in force here, for this thread only.
///         assert_eq!(case.get(flags::F1), Some(flags::f1()));
///     });
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct FlagMatrix {
    registry: &'static Registry,
    opts: PlanOptions,
    bad_rules: Vec<String>,
    /// Flags given to [`FlagMatrix::flags`] or to a typed rule that belong to another
    /// registry.
    foreign: Vec<String>,
}

/// A flag a matrix can vary: any handle `flags!` generates (`flags::SEARCH_V2`, an
/// on/off flag, or `flags::CHECKOUT_LAYOUT`, a variant flag), whatever its value type,
/// so that handles of different types go in one list.
pub trait MatrixFlag {
    /// The flag's dense index in its registry.
    fn index(&self) -> usize;
    /// The registry the flag belongs to.
    fn registry(&self) -> &'static Registry;
}

impl<H: FlagHandle> MatrixFlag for H {
    fn index(&self) -> usize {
        FlagHandle::index(*self)
    }

    fn registry(&self) -> &'static Registry {
        FlagHandle::registry(*self)
    }
}

/// Why a [`FlagMatrix`] cannot run its combinations.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum MatrixError {
    /// No plan of combinations could be made (an unknown flag, a bad rule, ...).
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// A static flag cannot vary inside one test binary: it is a constant.
    #[error(
        "flag `{flag}` is static, so it cannot vary inside one test process (help: vary it with `cargo flags matrix`, which rebuilds per value)"
    )]
    StaticInProcess {
        /// The flag.
        flag: String,
    },
    /// The runtime refused a combination's value.
    #[error("cannot set `{flag}`: {message}")]
    Override {
        /// The flag.
        flag: String,
        /// The runtime's reason.
        message: String,
    },
    /// A flag given to [`FlagMatrix::flags`], [`FlagMatrix::requires`] or
    /// [`FlagMatrix::excludes`] is a handle of another registry.
    #[error(
        "flag `{flag}` belongs to another registry than the matrix's (help: give the matrix the registry of the module that declares it)"
    )]
    ForeignFlag {
        /// The flag.
        flag: String,
    },
    /// The registry has no manifest to plan from.
    #[error("the registry's embedded manifest {manifest} did not load")]
    NoManifest {
        /// The manifest's name.
        manifest: String,
    },
}

/// One combination: the flag values in force while the body runs.
#[derive(Clone, Debug)]
pub struct Case {
    /// Position in the plan, from 0.
    pub index: usize,
    /// `flag=value, flag=value`, in manifest order.
    pub label: String,
    registry: &'static Registry,
    values: Vec<CaseValue>,
    overrides: Overrides,
}

/// One varied flag's value in a [`Case`].
#[derive(Clone, Debug)]
struct CaseValue {
    index: usize,
    value: Value,
    name: String,
    label: String,
}

impl Case {
    /// The value of `flag` in this combination, typed as the flag's accessor returns
    /// it (`bool`, or the flag's variant enum), if the matrix varies it.
    ///
    /// ```
    /// flags_runtime::flags!("benches/matrix.toml");
    ///
    /// # fn main() {
    /// flags_test::FlagMatrix::new(&flags::REGISTRY)
    ///     .flags(&[&flags::F0])
    ///     .run(|case| {
    ///         assert_eq!(case.get(flags::F0), Some(flags::f0()));
    ///         assert_eq!(case.get(flags::F1), None); // not varied
    ///     });
    /// # }
    /// ```
    pub fn get<H: FlagHandle>(&self, flag: H) -> Option<H::Value> {
        if !std::ptr::eq(flag.registry(), self.registry) {
            return None;
        }
        self.values
            .iter()
            .find(|v| v.index == FlagHandle::index(flag))
            .map(|v| H::decode(v.value))
    }

    /// Each varied flag's name and value (`on`, `off` or the variant's name), in
    /// manifest order: what [`label`](Self::label) spells out.
    pub fn values(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values
            .iter()
            .map(|v| (v.name.as_str(), v.label.as_str()))
    }
}

impl FlagMatrix {
    /// A matrix over every dynamic flag of `registry`: pairwise, with the standard pins
    /// (defaults, all on, all off).
    pub fn new(registry: &'static Registry) -> FlagMatrix {
        FlagMatrix {
            registry,
            opts: PlanOptions::new(),
            bad_rules: Vec::new(),
            foreign: Vec::new(),
        }
    }

    /// Varies only these flags, given by their handles (of any value type: write
    /// `&[&flags::SEARCH_V2, &flags::CHECKOUT_LAYOUT]`); the others keep their values.
    #[must_use]
    pub fn flags(mut self, flags: &[&dyn MatrixFlag]) -> FlagMatrix {
        let mut names = Vec::with_capacity(flags.len());
        for flag in flags {
            let name = flag.registry().flags()[flag.index()].name.to_owned();
            if std::ptr::eq(flag.registry(), self.registry) {
                names.push(name);
            } else {
                self.foreign.push(name);
            }
        }
        self.opts.flags = FlagSelection::Named(names);
        self
    }

    /// Chooses combinations by `mode`.
    #[must_use]
    pub fn mode(mut self, mode: Mode) -> FlagMatrix {
        if let Mode::Random { count, seed: None } = mode {
            let seed = std::env::var(SEED_VAR)
                .ok()
                .and_then(|s| s.trim().parse().ok());
            self.opts.mode = Mode::Random { count, seed };
        } else {
            self.opts.mode = mode;
        }
        self
    }

    /// Every valid combination.
    #[must_use]
    pub fn exhaustive(self) -> FlagMatrix {
        self.mode(Mode::Exhaustive)
    }

    /// Every pair of values of every two flags, in as few combinations as possible.
    #[must_use]
    pub fn pairwise(self) -> FlagMatrix {
        self.mode(Mode::Pairwise)
    }

    /// Every `t`-tuple of values, in as few combinations as possible.
    #[must_use]
    pub fn t_wise(self, t: u8) -> FlagMatrix {
        self.mode(Mode::TWise(t))
    }

    /// `count` random valid combinations; the seed is printed, and `FLAGS_MATRIX_SEED`
    /// replays it.
    #[must_use]
    pub fn random(self, count: usize) -> FlagMatrix {
        self.mode(Mode::Random { count, seed: None })
    }

    /// Fixes the seed of a random matrix (see [`random`](Self::random)).
    #[must_use]
    pub fn seed(mut self, seed: u64) -> FlagMatrix {
        if let Mode::Random { count, .. } = self.opts.mode {
            self.opts.mode = Mode::Random {
                count,
                seed: Some(seed),
            };
        }
        self
    }

    /// The combinations always run (default: defaults, all on, all off).
    #[must_use]
    pub fn pins(mut self, pins: impl IntoIterator<Item = Pin>) -> FlagMatrix {
        self.opts.pins = pins.into_iter().collect();
        self
    }

    /// A constraint of the test's own: whenever `when` holds, `then` must. No generated
    /// combination breaks it. Both sides are typed by their handles (see
    /// [`FlagHandleExt::is`](crate::FlagHandleExt::is)); a handle of another registry
    /// is a [`MatrixError::ForeignFlag`], and a flag the matrix does not vary a
    /// [`PlanError::BadRule`], when the matrix plans.
    ///
    /// ```
    /// use flags_test::{FlagHandleExt, FlagMatrix};
    ///
    /// flags_runtime::flags!("tests/matrix.toml");
    ///
    /// # fn main() {
    /// let cases = FlagMatrix::new(&flags::REGISTRY)
    ///     .exhaustive()
    ///     // Prices in yen are only tested with the old tax engine.
    ///     .requires(flags::CURRENCY.is(flags::Currency::Jpy), flags::FAST_TAX.is(false))
    ///     .cases()
    ///     .unwrap();
    /// assert!(cases.iter().all(|c| {
    ///     c.get(flags::CURRENCY) != Some(flags::Currency::Jpy)
    ///         || c.get(flags::FAST_TAX) == Some(false)
    /// }));
    /// # }
    /// ```
    #[must_use]
    pub fn requires(self, when: FlagSetting, then: FlagSetting) -> FlagMatrix {
        self.typed_rule(when, then, Rule::Requires)
    }

    /// A constraint of the test's own: `a` and `b` never hold together. No generated
    /// combination breaks it; see [`requires`](Self::requires) for the errors.
    ///
    /// ```
    /// use flags_test::{FlagHandleExt, FlagMatrix};
    ///
    /// flags_runtime::flags!("tests/matrix.toml");
    ///
    /// # fn main() {
    /// FlagMatrix::new(&flags::REGISTRY)
    ///     .excludes(flags::CURRENCY.is(flags::Currency::Usd), flags::RECEIPTS_V2.is(true))
    ///     .run(|case| {
    ///         let usd = case.get(flags::CURRENCY) == Some(flags::Currency::Usd);
    ///         assert!(!(usd && case.get(flags::RECEIPTS_V2) == Some(true)));
    ///     });
    /// # }
    /// ```
    #[must_use]
    pub fn excludes(self, a: FlagSetting, b: FlagSetting) -> FlagMatrix {
        self.typed_rule(a, b, Rule::Excludes)
    }

    /// Adds a typed rule as the planner's [`Rule`], spelled as its string form would be,
    /// so both forms constrain the plan the same way.
    fn typed_rule(
        mut self,
        a: FlagSetting,
        b: FlagSetting,
        rule: fn(String, String) -> Rule,
    ) -> FlagMatrix {
        let mut own = true;
        for side in [a, b] {
            if !std::ptr::eq(side.registry(), self.registry) {
                self.foreign.push(side.name().to_owned());
                own = false;
            }
        }
        if own {
            self.opts.rules.push(rule(a.to_string(), b.to_string()));
        }
        self
    }

    /// A constraint of the test's own, written as text: `"a=on -> b=compact"`
    /// (requires) or `"a=on !& b=off"` (excludes). No generated combination breaks it.
    ///
    /// In Rust code prefer [`requires`](Self::requires) and
    /// [`excludes`](Self::excludes), whose flags and values the compiler checks; this
    /// form is the syntax of `cargo flags matrix --rule` and of the
    /// [`matrix`](crate::matrix) attribute's `rules = [...]`, kept for parity with them.
    /// A rule that does not parse, or names an unknown flag or value, is a
    /// [`PlanError::BadRule`] when the matrix plans.
    #[must_use]
    pub fn rule(mut self, rule: &str) -> FlagMatrix {
        match rule.parse::<Rule>() {
            Ok(r) => self.opts.rules.push(r),
            Err(e) => self.bad_rules.push(e.to_string()),
        }
        self
    }

    /// The combinations this matrix runs, in order.
    pub fn cases(&self) -> Result<Vec<Case>, MatrixError> {
        if let Some(flag) = self.foreign.first() {
            return Err(MatrixError::ForeignFlag { flag: flag.clone() });
        }
        if let Some(bad) = self.bad_rules.first() {
            return Err(MatrixError::Plan(PlanError::BadRule {
                rule: bad.clone(),
                side: "the rule as a whole".to_owned(),
            }));
        }
        let (file, _) = self.registry.manifest_source();
        let manifest = self
            .registry
            .manifest()
            .ok_or_else(|| MatrixError::NoManifest {
                manifest: file.to_owned(),
            })?;
        let matrix = plan::plan_manifest(manifest, file, &self.opts, &Constraints::new())?;
        if let Some(seed) = matrix.seed {
            eprintln!(
                "flags-test: random combinations, seed {seed} (replay with {SEED_VAR}={seed})"
            );
        }
        let mut cases = Vec::with_capacity(matrix.combinations.len());
        for c in matrix.combinations {
            let mut overrides = Overrides::new();
            let mut values = Vec::with_capacity(c.values.len());
            for v in c.values {
                let index = self.registry.index_of(&v.flag);
                let value = manifest.flag(&v.flag).and_then(|f| f.parse_value(&v.value));
                let (Some(index), Some(value)) = (index, value) else {
                    continue;
                };
                if v.is_static {
                    return Err(MatrixError::StaticInProcess { flag: v.flag });
                }
                overrides = overrides
                    .try_set_value(self.registry, index, value)
                    .map_err(|e| MatrixError::Override {
                        flag: v.flag.clone(),
                        message: e.to_string(),
                    })?;
                values.push(CaseValue {
                    index,
                    value,
                    name: v.flag,
                    label: v.value,
                });
            }
            cases.push(Case {
                index: c.index,
                label: c.label,
                registry: self.registry,
                values,
                overrides,
            });
        }
        Ok(cases)
    }

    #[track_caller]
    fn cases_or_panic(&self) -> Vec<Case> {
        match self.cases() {
            Ok(cases) => cases,
            Err(e) => panic!("flags-test: cannot plan the matrix: {e}"),
        }
    }

    /// Runs `body` once per combination, then fails listing every combination whose run
    /// panicked. The final failure is reported at the caller's location, and each failing
    /// combination names where its own panic happened.
    #[track_caller]
    pub fn run(self, mut body: impl FnMut(&Case)) {
        self.run_result(|case| {
            body(case);
            Ok::<(), NoError>(())
        });
    }

    /// Runs `body` once per combination; a combination fails when `body` panics or
    /// returns `Err`. Fails at the end listing every failing combination.
    #[track_caller]
    pub fn run_result<E: Debug>(self, mut body: impl FnMut(&Case) -> Result<(), E>) {
        let cases = self.cases_or_panic();
        record_panic_locations();
        // One scope for the whole run keeps the registry in scoped mode, so each case
        // only pushes its own values instead of switching every flag's fast path.
        let _outer = self.registry.scoped_overrides();
        let mut failures = Vec::new();
        for case in &cases {
            let outcome = case.overrides.run(|| catch_with_location(|| body(case)));
            if let Some(why) = failure(outcome) {
                failures.push((case.label.clone(), why));
            }
        }
        report(cases.len(), &failures, Location::caller());
    }

    /// [`run`](Self::run) for an async body: each combination's future runs inside
    /// its own override scope, which follows the future across threads.
    ///
    /// A plain function returning a future rather than an `async fn`, so that it can
    /// take the caller's location (`#[track_caller]` does not apply to `async fn`); the
    /// final failure's message names that location.
    #[track_caller]
    pub fn run_async<F, Fut>(self, mut body: F) -> impl Future<Output = ()>
    where
        F: FnMut(Case) -> Fut,
        Fut: Future<Output = ()>,
    {
        self.run_async_result(move |case| {
            let fut = body(case);
            async move {
                fut.await;
                Ok::<(), NoError>(())
            }
        })
    }

    /// [`run_result`](Self::run_result) for an async body.
    #[track_caller]
    pub fn run_async_result<F, Fut, E>(self, mut body: F) -> impl Future<Output = ()>
    where
        F: FnMut(Case) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: Debug,
    {
        let caller = Location::caller();
        let cases = self.cases_or_panic();
        record_panic_locations();
        async move {
            let total = cases.len();
            let mut failures = Vec::new();
            for case in cases {
                let label = case.label.clone();
                let overrides = case.overrides.clone();
                let fut = match catch_with_location(|| body(case)) {
                    Ok(fut) => fut,
                    Err(why) => {
                        failures.push((label, why.to_string()));
                        continue;
                    }
                };
                let outcome = CatchUnwind(Box::pin(overrides.scope(fut))).await;
                if let Some(why) = failure(outcome) {
                    failures.push((label, why));
                }
            }
            report(total, &failures, caller);
        }
    }
}

/// The error type of bodies that cannot fail other than by panicking.
#[derive(Debug)]
enum NoError {}

fn failure<E: Debug>(outcome: Result<Result<(), E>, Panicked>) -> Option<String> {
    match outcome {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(format!("returned Err({e:?})")),
        Err(panicked) => Some(panicked.to_string()),
    }
}

/// A caught panic: its message and, when the panic hook saw it, where it happened.
struct Panicked {
    message: Option<String>,
    location: Option<String>,
}

impl std::fmt::Display for Panicked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("panicked")?;
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        if let Some(location) = &self.location {
            write!(f, ", at {location}")?;
        }
        Ok(())
    }
}

thread_local! {
    /// Where the last panic on this thread happened, as the panic hook saw it: a caught
    /// payload carries only the message, and the location is what points at the line of
    /// the user's test that failed.
    static LAST_PANIC_AT: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Chains a panic hook, once per process, that notes each panic's location for
/// [`catch_with_location`] before handing over to the hook that was there (so the usual
/// "panicked at" line is still printed). Installed when a matrix first runs, never
/// while a panic is in progress.
fn record_panic_locations() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let at = info.location().map(|l| l.to_string());
            // `try_with`: a panic while this thread's locals are being destroyed has
            // nowhere to be noted, and must not panic again.
            let _ = LAST_PANIC_AT.try_with(|last| {
                if let Ok(mut last) = last.try_borrow_mut() {
                    *last = at;
                }
            });
            previous(info);
        }));
    });
}

/// `catch_unwind`, keeping the panic's location beside its message.
fn catch_with_location<T>(f: impl FnOnce() -> T) -> Result<T, Panicked> {
    clear_last_panic();
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| panicked(&payload))
}

fn clear_last_panic() {
    let _ = LAST_PANIC_AT.try_with(|last| last.borrow_mut().take());
}

fn panicked(payload: &Box<dyn Any + Send>) -> Panicked {
    let message = if let Some(s) = payload.downcast_ref::<&str>() {
        Some((*s).to_owned())
    } else {
        payload.downcast_ref::<String>().cloned()
    };
    let location = LAST_PANIC_AT
        .try_with(|last| last.borrow_mut().take())
        .ok()
        .flatten();
    Panicked { message, location }
}

/// Fails the test once, listing every failing combination. `caller` is where the user's
/// test called the matrix: the synchronous runs panic there (`#[track_caller]`), and an
/// async run, which cannot, names it in the message.
#[track_caller]
fn report(total: usize, failures: &[(String, String)], caller: &'static Location<'static>) {
    if failures.is_empty() {
        return;
    }
    let mut msg = format!("{} of {total} flag combinations failed:", failures.len());
    for (label, why) in failures {
        msg.push_str(&format!("\n  {label}: {why}"));
    }
    msg.push_str(&format!("\n(matrix run at {caller})"));
    panic!("{msg}");
}

/// A future whose panics are caught and returned, so that one failing combination
/// does not stop the others.
struct CatchUnwind<F>(StdPin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Panicked>;

    fn poll(mut self: StdPin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let fut = self.0.as_mut();
        match catch_with_location(move || fut.poll(cx)) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(panicked) => Poll::Ready(Err(panicked)),
        }
    }
}
