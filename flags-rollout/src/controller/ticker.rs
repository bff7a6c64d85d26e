//! Ticking on a background thread.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use super::RolloutController;

impl RolloutController {
    /// Calls [`tick`](Self::tick) every `interval` on a background thread until the
    /// returned [`Ticker`] is stopped or dropped.
    pub fn spawn_ticker(&self, interval: Duration) -> std::io::Result<Ticker> {
        let (stop, rx) = mpsc::channel::<()>();
        let controller = self.clone();
        let handle = std::thread::Builder::new()
            .name("flags-rollout-ticker".to_owned())
            .spawn(move || {
                // A message or a dropped sender (the Ticker stopped) ends the loop.
                while let Err(RecvTimeoutError::Timeout) = rx.recv_timeout(interval) {
                    controller.tick();
                }
            })?;
        Ok(Ticker {
            stop: Some(stop),
            handle: Some(handle),
        })
    }
}

/// The background thread of [`RolloutController::spawn_ticker`]; stops it when stopped
/// or dropped.
pub struct Ticker {
    stop: Option<mpsc::Sender<()>>,
    handle: Option<JoinHandle<()>>,
}

impl Ticker {
    /// Stops the thread and waits for it (at most one tick in progress).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(h) = self.handle.take() {
            // A panic in a tick (from a hook or exposure) ends the thread; there is
            // nothing more to stop.
            let _ = h.join();
        }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.shutdown();
    }
}
