//! Polling a [`Source`] on a background thread: hot reload for rule files and any
//! other source that can only be asked, not listened to. The [`Watch`] handle stops
//! the thread when dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use super::Source;
use crate::registry::Registry;

/// How often a watched file is polled unless told otherwise.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// The shortest wait between polls of a source that is settling a change, so that a
/// zero hint cannot make the thread spin.
const MIN_SETTLING_WAIT: Duration = Duration::from_millis(1);

/// A source being polled in the background; dropping it stops the polling (the
/// layer keeps the last rules it applied).
///
/// # Examples
///
/// See [`Registry::watch_file`].
#[must_use = "the source is only polled while the Watch lives"]
#[derive(Debug)]
pub struct Watch {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
    /// Polls completed (applied, found nothing new, or reported), the first included:
    /// lets a test wait for a known number of polls instead of for a duration.
    polls: Arc<AtomicU64>,
}

impl Watch {
    /// Polls `source` once now (so its first state, or its first error, is in effect
    /// or reported when this returns), then every `interval` on a thread, or sooner
    /// while the source is settling a change ([`Source::settling`]).
    pub(crate) fn start<S: Source + 'static>(
        registry: &'static Registry,
        mut source: S,
        interval: Duration,
    ) -> Watch {
        let _ = registry.apply(&mut source);
        let polls = Arc::new(AtomicU64::new(1));
        let (stop, stopped) = mpsc::channel::<()>();
        let name = format!("flags-watch:{}", source.name());
        let layer = source.layer();
        let counter = polls.clone();
        let thread = std::thread::Builder::new().name(name).spawn(move || {
            // Any message or a dropped sender ends the loop; only the timeout polls.
            loop {
                let wait = source.settling().map_or(interval, |w| {
                    w.clamp(MIN_SETTLING_WAIT, interval.max(MIN_SETTLING_WAIT))
                });
                if let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(wait) {
                    let _ = registry.apply(&mut source);
                    // Release: whoever sees the new count also sees what the poll
                    // applied or reported.
                    counter.fetch_add(1, Ordering::Release);
                } else {
                    break;
                }
            }
        });
        match thread {
            Ok(thread) => Watch {
                stop: Some(stop),
                thread: Some(thread),
                polls,
            },
            Err(e) => {
                registry.report_error(
                    layer,
                    "watch",
                    &format!("cannot start the polling thread: {e}"),
                );
                Watch {
                    stop: None,
                    thread: None,
                    polls,
                }
            }
        }
    }

    /// Whether the polling thread is running.
    #[must_use]
    pub fn is_running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// How many polls have completed, the one made before the watch started included.
    /// For tests: a "nothing changed" check is only meaningful after a known number of
    /// polls, however slowly the machine runs.
    #[doc(hidden)]
    #[must_use]
    pub fn polls(&self) -> u64 {
        self.polls.load(Ordering::Acquire)
    }

    /// Stops polling and waits for the thread to end.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.shutdown();
    }
}
