//! Stopping a run from outside: Ctrl-C (SIGINT), SIGTERM from a CI system cancelling a
//! job, or a caller's own [`Interrupt::trigger`]. The first request stops a run cleanly:
//! no new combinations start, running ones get SIGTERM and a grace period, and the
//! partial report is still printed and written. A second request skips the grace period.
//!
//! The signals are handled through `signal-hook`, which installs one process-wide
//! handler and chains the actions registered with it (so it coexists with other users
//! of the same crate, such as an async runtime's signal handling). The action only bumps
//! an atomic counter (the one thing a handler may safely do); the run polls it.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Signals received while a [`SignalGuard`] was installed.
static SIGNALS: AtomicUsize = AtomicUsize::new(0);

/// A request to stop a run, shared between the caller and the run.
///
/// ```
/// use flags_runner::Interrupt;
///
/// let interrupt = Interrupt::new();
/// let handle = interrupt.clone(); // e.g. moved to another thread
/// assert!(!interrupt.is_triggered());
/// handle.trigger();
/// assert!(interrupt.is_triggered());
/// assert!(!interrupt.is_forced());
/// handle.trigger();
/// assert!(interrupt.is_forced());
/// ```
#[derive(Clone, Debug, Default)]
pub struct Interrupt {
    requests: Arc<AtomicUsize>,
    signals: Option<Arc<SignalGuard>>,
    grace: Option<Duration>,
}

impl Interrupt {
    /// An interrupt only [`trigger`](Self::trigger) sets.
    pub fn new() -> Self {
        Self::default()
    }

    /// An interrupt that SIGINT (Ctrl-C) and SIGTERM also set, for as long as it or a
    /// clone of it lives; when the last clone is dropped, the signals take their default
    /// action again (they end the process). Only one such interrupt should exist at a
    /// time. A program that handles these signals itself should rather pass an
    /// [`Interrupt::new`] it triggers from its own handler. On platforms without Unix
    /// signals this is [`Interrupt::new`].
    pub fn on_signals() -> io::Result<Self> {
        Ok(Interrupt {
            requests: Arc::default(),
            signals: SignalGuard::install()?.map(Arc::new),
            grace: None,
        })
    }

    /// How long a running command gets to exit after SIGTERM before it is killed
    /// (3 s unless set): longer for commands that clean up, shorter to stop at once.
    ///
    /// ```
    /// use std::time::Duration;
    /// use flags_runner::Interrupt;
    ///
    /// let interrupt = Interrupt::new().with_grace(Duration::from_secs(10));
    /// assert_eq!(interrupt.grace(), Some(Duration::from_secs(10)));
    /// ```
    #[must_use]
    pub fn with_grace(mut self, grace: Duration) -> Self {
        self.grace = Some(grace);
        self
    }

    /// The grace period set with [`Interrupt::with_grace`], if any.
    pub fn grace(&self) -> Option<Duration> {
        self.grace
    }

    /// Asks the run to stop; asking twice also skips the grace period of running
    /// commands.
    pub fn trigger(&self) {
        self.requests.fetch_add(1, Ordering::SeqCst);
    }

    /// Whether a stop was requested.
    pub fn is_triggered(&self) -> bool {
        self.count() > 0
    }

    /// Whether a stop was requested twice: running commands are killed at once.
    pub fn is_forced(&self) -> bool {
        self.count() > 1
    }

    fn count(&self) -> usize {
        let signals = if self.signals.is_some() {
            SIGNALS.load(Ordering::SeqCst)
        } else {
            0
        };
        self.requests.load(Ordering::SeqCst) + signals
    }
}

/// SIGINT and SIGTERM actions, registered through `signal-hook`, that count signals in
/// [`SIGNALS`]; dropping the guard unregisters them and hands the signals back to their
/// default action.
pub(crate) struct SignalGuard {
    #[cfg(unix)]
    actions: Vec<signal_hook::SigId>,
}

impl fmt::Debug for SignalGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SignalGuard")
    }
}

/// True while no guard is installed: then SIGINT and SIGTERM take their default action
/// (they end the process). `signal-hook` keeps its handler installed once it has one, so
/// without this a signal arriving after a run would be swallowed.
#[cfg(unix)]
static IDLE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

#[cfg(unix)]
const HANDLED: [std::ffi::c_int; 2] = [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM];

impl SignalGuard {
    #[cfg(unix)]
    fn install() -> io::Result<Option<SignalGuard>> {
        static DEFAULTS: std::sync::OnceLock<io::Result<()>> = std::sync::OnceLock::new();
        // Once per process, before the counting actions: the default action, armed only
        // while no guard is installed.
        let defaults = DEFAULTS.get_or_init(|| {
            for signal in HANDLED {
                signal_hook::flag::register_conditional_default(signal, &IDLE)?;
            }
            Ok(())
        });
        if let Err(e) = defaults {
            return Err(io::Error::new(e.kind(), e.to_string()));
        }
        SIGNALS.store(0, Ordering::SeqCst);
        let mut guard = SignalGuard {
            actions: Vec::with_capacity(HANDLED.len()),
        };
        for signal in HANDLED {
            let count = || {
                SIGNALS.fetch_add(1, Ordering::SeqCst);
            };
            // SAFETY: `register` requires the action to be async-signal-safe: it only
            // adds to an atomic, without allocating, locking or blocking. Everything
            // else happens in the run's threads, which poll the count.
            let id = unsafe { signal_hook::low_level::register(signal, count) }?;
            // Dropping `guard` on an error unregisters the actions registered so far.
            guard.actions.push(id);
        }
        IDLE.store(false, Ordering::SeqCst);
        Ok(Some(guard))
    }

    #[cfg(not(unix))]
    fn install() -> io::Result<Option<SignalGuard>> {
        Ok(None)
    }
}

#[cfg(unix)]
impl Drop for SignalGuard {
    fn drop(&mut self) {
        for id in self.actions.drain(..) {
            signal_hook::low_level::unregister(id);
        }
        IDLE.store(true, Ordering::SeqCst);
    }
}
