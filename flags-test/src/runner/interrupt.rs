//! Stopping a run from outside: Ctrl-C (SIGINT), SIGTERM from a CI system cancelling a
//! job, or a caller's own [`Interrupt::trigger`]. The first request stops a run cleanly:
//! no new combinations start, running ones get SIGTERM and a grace period, and the
//! partial report is still printed and written. A second request skips the grace period.
//!
//! The signal handler only bumps an atomic counter (the one thing a handler may safely
//! do); the run polls it.

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
/// use flags_test::runner::Interrupt;
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
    /// clone of it lives; the previous handlers come back when the last clone is dropped.
    /// Only one such interrupt should exist at a time. On platforms without Unix signals
    /// this is [`Interrupt::new`].
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
    /// use flags_test::runner::Interrupt;
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

/// SIGINT and SIGTERM handlers that count signals in [`SIGNALS`]; dropping it restores
/// the handlers that were there before.
pub(crate) struct SignalGuard {
    #[cfg(unix)]
    previous: Vec<(libc::c_int, libc::sigaction)>,
}

impl fmt::Debug for SignalGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SignalGuard")
    }
}

#[cfg(unix)]
extern "C" fn count_signal(_: libc::c_int) {
    // An atomic add is async-signal-safe; everything else happens in the run's threads.
    SIGNALS.fetch_add(1, Ordering::SeqCst);
}

impl SignalGuard {
    #[cfg(unix)]
    fn install() -> io::Result<Option<SignalGuard>> {
        SIGNALS.store(0, Ordering::SeqCst);
        let mut guard = SignalGuard {
            previous: Vec::new(),
        };
        for signal in [libc::SIGINT, libc::SIGTERM] {
            // SAFETY: `sigaction` is a plain C struct for which all-zero is a valid
            // value; the fields that matter are set below.
            let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
            let handler: extern "C" fn(libc::c_int) = count_signal;
            action.sa_sigaction = handler as libc::sighandler_t;
            // SA_RESTART: other threads' blocking calls are resumed rather than failing
            // with EINTR.
            action.sa_flags = libc::SA_RESTART;
            // SAFETY: `action.sa_mask` is a valid, writable sigset_t.
            unsafe { libc::sigemptyset(&mut action.sa_mask) };
            // SAFETY: as above, all-zero is a valid `sigaction` to receive the old one.
            let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
            // SAFETY: both pointers are valid for the call; the handler only touches an
            // atomic, which is async-signal-safe.
            if unsafe { libc::sigaction(signal, &action, &mut old) } != 0 {
                // Dropping `guard` restores the signals installed so far.
                return Err(io::Error::last_os_error());
            }
            guard.previous.push((signal, old));
        }
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
        for (signal, old) in self.previous.drain(..).rev() {
            // SAFETY: `old` is the action `sigaction` reported for this signal.
            unsafe { libc::sigaction(signal, &old, std::ptr::null_mut()) };
        }
    }
}
