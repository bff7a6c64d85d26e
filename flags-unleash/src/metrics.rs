//! Usage metrics, as Unleash's SDKs send them: the client registers once
//! (`POST /api/client/register`), then every interval posts a bucket of per-toggle
//! yes/no counts (`POST /api/client/metrics`), from a background thread.
//!
//! Counts come from the runtime's evaluation counters ([`Registry::counts`], turned on
//! with [`Registry::set_counting`]). The reporter sends the difference from what it
//! last sent successfully rather than resetting the counters, so no evaluation
//! between a read and a reset is lost, other readers of the counters are not
//! disturbed, and a failed post is simply included in the next bucket.
//!
//! For an on/off flag, `yes`/`no` are its `on`/`off` counts. For a variant flag,
//! `variants` has each variant's count, `no` is the count of the manifest default
//! (Unleash's "disabled") and `yes` the others'.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use flags_runtime::manifest::UtcMillis;
use flags_runtime::{Counts, Registry};
use serde::Serialize;

use crate::config::UnleashConfig;
use crate::http::Http;
use crate::source::Shared;
use crate::{SDK_VERSION, TRACING_TARGET};

/// How long stopping waits for the last metrics to be sent.
const LAST_SEND_WAIT: Duration = Duration::from_secs(1);

/// The strategies this client implements, as registration lists them.
pub const STRATEGIES: [&str; 8] = [
    "default",
    "userWithId",
    "flexibleRollout",
    "gradualRolloutUserId",
    "gradualRolloutSessionId",
    "gradualRolloutRandom",
    "remoteAddress",
    "applicationHostname",
];

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Registration<'a> {
    app_name: &'a str,
    instance_id: &'a str,
    sdk_version: &'a str,
    strategies: &'a [&'a str],
    started: String,
    interval: u128,
    #[serde(skip_serializing_if = "Option::is_none")]
    environment: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MetricsBody<'a> {
    app_name: &'a str,
    instance_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    environment: Option<&'a str>,
    bucket: MetricsBucket,
}

/// One metrics bucket: a time window and per-toggle counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MetricsBucket {
    /// Start of the window (RFC 3339, UTC).
    pub start: String,
    /// End of the window.
    pub stop: String,
    /// Counts by toggle name.
    pub toggles: BTreeMap<String, ToggleCounts>,
}

/// Evaluations of one toggle in a bucket.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ToggleCounts {
    /// Evaluations that found it on (or at a variant other than the default).
    pub yes: u64,
    /// Evaluations that found it off (or at the default variant).
    pub no: u64,
    /// Evaluations by variant name (variant flags only).
    pub variants: BTreeMap<String, u64>,
}

/// Counts per (flag, value label): a copy of the registry's counters.
type Totals = HashMap<(&'static str, &'static str), u64>;

fn totals(counts: &Counts) -> Totals {
    counts
        .flags
        .iter()
        .flat_map(|f| {
            f.values
                .iter()
                .map(move |(label, n)| ((f.flag, *label), *n))
        })
        .collect()
}

/// The bucket for evaluations counted since `sent` (what was last sent), for the
/// flags in `bound`; `None` when nothing was evaluated.
pub(crate) fn bucket(
    registry: &Registry,
    bound: &[usize],
    now: &Totals,
    sent: &Totals,
    start: SystemTime,
    stop: SystemTime,
) -> Option<MetricsBucket> {
    let mut toggles = BTreeMap::new();
    for &index in bound {
        let Some(meta) = registry.flags().get(index) else {
            continue;
        };
        let mut counts = ToggleCounts::default();
        let delta = |label: &'static str| {
            let n = now.get(&(meta.name, label)).copied().unwrap_or(0);
            let before = sent.get(&(meta.name, label)).copied().unwrap_or(0);
            // Below what was sent: someone reset the counters; all of `n` is new.
            if n >= before { n - before } else { n }
        };
        if meta.is_bool() {
            counts.yes = delta("on");
            counts.no = delta("off");
        } else {
            let default = meta.label(meta.default);
            // A variant flag's counters are labelled with the variant names.
            for name in meta.variants {
                let n = delta(name);
                if n == 0 {
                    continue;
                }
                if *name == default {
                    counts.no += n;
                } else {
                    counts.yes += n;
                }
                counts.variants.insert((*name).to_owned(), n);
            }
        }
        if counts.yes + counts.no > 0 {
            toggles.insert(meta.name.to_owned(), counts);
        }
    }
    (!toggles.is_empty()).then(|| MetricsBucket {
        start: rfc3339(start),
        stop: rfc3339(stop),
        toggles,
    })
}

/// The metrics thread; dropping it stops the thread after a last send.
#[derive(Debug)]
pub(crate) struct Metrics {
    stop: Option<Sender<()>>,
    /// Closed when the thread ends.
    done: Receiver<()>,
    thread: Option<JoinHandle<()>>,
    was_counting: bool,
    registry: &'static Registry,
}

struct Reporter {
    registry: &'static Registry,
    http: Http,
    shared: Arc<Shared>,
    config: UnleashConfig,
    started: SystemTime,
    registered: bool,
    sent: Totals,
    window_start: SystemTime,
    reported: Option<String>,
}

impl Metrics {
    pub(crate) fn start(
        registry: &'static Registry,
        config: &UnleashConfig,
        shared: Arc<Shared>,
        every: Duration,
    ) -> Metrics {
        let was_counting = registry.is_counting();
        registry.set_counting(true);
        let now = SystemTime::now();
        let mut reporter = Reporter {
            registry,
            http: Http::new(config),
            shared,
            config: config.clone(),
            started: now,
            registered: false,
            // Evaluations before the reporter started are not this client's to send.
            sent: totals(&registry.counts()),
            window_start: now,
            reported: None,
        };
        let (stop, stopped) = mpsc::channel::<()>();
        let (finished, done) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("flags-unleash-metrics".to_owned())
            .spawn(move || {
                let _finished = finished;
                reporter.register();
                loop {
                    match stopped.recv_timeout(every) {
                        Err(RecvTimeoutError::Timeout) => reporter.send(),
                        // Stop asked (or the handle is gone): a last send, then out.
                        _ => {
                            reporter.send();
                            break;
                        }
                    }
                }
            });
        let thread = match thread {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::warn!(target: TRACING_TARGET, "cannot start the metrics thread: {e}");
                None
            }
        };
        Metrics {
            stop: Some(stop),
            done,
            thread,
            was_counting,
            registry,
        }
    }

    fn shutdown(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            // The last send gets a bounded wait: against a server that never answers
            // the thread is left to end on its request's timeout.
            if let Err(RecvTimeoutError::Timeout) = self.done.recv_timeout(LAST_SEND_WAIT) {
                tracing::warn!(target: TRACING_TARGET,
                    "the last usage metrics were not sent within {LAST_SEND_WAIT:?}; stopping without them");
            } else {
                let _ = t.join();
            }
            self.registry.set_counting(self.was_counting);
        }
    }
}

impl Drop for Metrics {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Reporter {
    fn register(&mut self) {
        let body = Registration {
            app_name: &self.config.app_name,
            instance_id: &self.config.instance_id,
            sdk_version: SDK_VERSION,
            strategies: &STRATEGIES,
            started: rfc3339(self.started),
            interval: self.config.metrics_interval.unwrap_or_default().as_millis(),
            environment: self.config.environment.as_deref(),
        };
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        match self.http.post_json("client/register", &bytes) {
            Ok(()) => {
                self.registered = true;
                self.reported = None;
            }
            Err(e) => self.problem(format!("registering the client: {e}")),
        }
    }

    fn send(&mut self) {
        if !self.registered {
            self.register();
        }
        let now = SystemTime::now();
        let counts = totals(&self.registry.counts());
        let bound = self.shared.status().binding.bound;
        let Some(bucket) = bucket(
            self.registry,
            &bound,
            &counts,
            &self.sent,
            self.window_start,
            now,
        ) else {
            return;
        };
        let body = MetricsBody {
            app_name: &self.config.app_name,
            instance_id: &self.config.instance_id,
            environment: self.config.environment.as_deref(),
            bucket,
        };
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        match self.http.post_json("client/metrics", &bytes) {
            Ok(()) => {
                self.sent = counts;
                self.window_start = now;
                self.reported = None;
            }
            // Kept: the next bucket covers this window too.
            Err(e) => self.problem(format!("sending metrics: {e}")),
        }
    }

    fn problem(&mut self, message: String) {
        if self.reported.as_deref() != Some(message.as_str()) {
            tracing::warn!(target: TRACING_TARGET, "{message}");
            self.reported = Some(message);
        }
    }
}

/// `t` as RFC 3339 in UTC with milliseconds (`2024-05-01T12:00:00.000Z`); a time
/// outside years 1 to 9999 is written as the Unix epoch.
#[must_use]
pub fn rfc3339(t: SystemTime) -> String {
    UtcMillis::from_system_time(t)
        .map_or_else(|| "1970-01-01T00:00:00.000Z".to_owned(), |t| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn rfc3339_dates() {
        let at = |s: u64, ms: u64| UNIX_EPOCH + Duration::from_secs(s) + Duration::from_millis(ms);
        assert_eq!(rfc3339(at(0, 0)), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(at(951_782_400, 5)), "2000-02-29T00:00:00.005Z");
        assert_eq!(rfc3339(at(1_714_564_800, 123)), "2024-05-01T12:00:00.123Z");
        assert_eq!(rfc3339(at(4_102_444_799, 999)), "2099-12-31T23:59:59.999Z");
    }
}
