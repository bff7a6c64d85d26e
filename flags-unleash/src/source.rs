//! The live source: polls the client API and feeds the runtime's remote layer.
//!
//! Each poll (from [`flags_runtime::Registry::watch`]'s thread, never from an
//! evaluation) asks `GET /api/client/features` with the last ETag; `304` changes
//! nothing, a new payload is parsed, checked and mapped whole, written to the backup
//! file, and handed to the registry, which swaps its snapshot. A failure (network,
//! HTTP status, bad payload) is reported once per distinct problem; the last good
//! state stays in force and attempts back off exponentially with jitter. At start,
//! while the server cannot be reached, the backup file is served.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use flags_runtime::manifest::Rules;
use flags_runtime::{Layer, Registry, Source, SourceError, SourceWarning, Update};

use crate::binding::{Binding, Kept, bind};
use crate::config::{ConfigError, UnleashConfig};
use crate::http::{Fetched, Http};
use crate::payload::{ClientFeatures, PayloadError};
use crate::{TRACING_TARGET, backup};

/// While a fetch is in flight, how soon the watch polls again to pick up its answer.
const IN_FLIGHT_RECHECK: Duration = Duration::from_millis(20);

/// What reaches a waiting poll.
#[derive(Debug)]
pub(crate) enum Message {
    /// A fetch's outcome.
    Fetched(Result<Fetched, String>),
    /// The client is stopping.
    Stop,
}

/// The thread that talks to the server, so that a poll can stop waiting (at start,
/// or when the client stops) while a request hangs: the request goes on, and its
/// answer is picked up by a later poll or dropped.
#[derive(Debug)]
struct Fetcher {
    http: Http,
    asks: Option<Sender<Option<String>>>,
    answers: Sender<Message>,
    results: Receiver<Message>,
}

impl Fetcher {
    fn new(http: Http, shared: &Shared) -> Fetcher {
        let (answers, results) = mpsc::channel();
        *shared.wake.lock().unwrap_or_else(PoisonError::into_inner) = Some(answers.clone());
        Fetcher {
            http,
            asks: None,
            answers,
            results,
        }
    }

    /// Asks for the toggles (conditional on `etag`); `false` if the thread cannot be
    /// started.
    fn ask(&mut self, etag: Option<String>) -> bool {
        if self.asks.is_none() {
            let (asks, asked) = mpsc::channel::<Option<String>>();
            let (http, answers) = (self.http.clone(), self.answers.clone());
            let spawned = std::thread::Builder::new()
                .name("flags-unleash-fetch".to_owned())
                .spawn(move || {
                    // Ends when the source is dropped (its sender with it).
                    for etag in asked {
                        let fetched = http.features(etag.as_deref());
                        if answers.send(Message::Fetched(fetched)).is_err() {
                            break;
                        }
                    }
                });
            if spawned.is_err() {
                return false;
            }
            self.asks = Some(asks);
        }
        self.asks.as_ref().is_some_and(|a| a.send(etag).is_ok())
    }
}

/// Where the toggles in force came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The server.
    Server,
    /// The backup file, read while the server could not be reached.
    Backup(PathBuf),
}

/// The source's state, for health checks and tests.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Status {
    /// Where the toggles in force came from; `None` until the first load.
    pub origin: Option<Origin>,
    /// When the server last answered (a payload or `304`).
    pub last_contact: Option<SystemTime>,
    /// When a payload was last applied.
    pub last_update: Option<SystemTime>,
    /// Failed attempts since the last success.
    pub consecutive_failures: u32,
    /// The last problem, while it lasts.
    pub last_error: Option<String>,
    /// The ETag of the last payload.
    pub etag: Option<String>,
    /// Toggles in the payload in force.
    pub toggles: usize,
    /// How the payload's toggles match the manifest's flags.
    pub binding: Binding,
    /// Requests sent to the server.
    pub requests: u64,
    /// Payloads applied (from the server or the backup).
    pub updates: u64,
    /// Reports of a toggle that could not be bound to its flag (one per toggle per
    /// change of what is wrong with it; see [`Binding::unbindable`]).
    pub unbindable_reports: u64,
}

/// What the source shares with its handles: its status.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    status: Mutex<Status>,
    /// Wakes a poll waiting for a fetch, to stop.
    wake: Mutex<Option<Sender<Message>>>,
    /// Flags whose toggle in force has `impressionData: true`.
    impressions: Mutex<HashSet<usize>>,
}

impl Shared {
    /// Ends any wait of the source's poll at once and makes later polls do nothing.
    pub(crate) fn stop(&self) {
        if let Some(wake) = self
            .wake
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            let _ = wake.send(Message::Stop);
        }
    }

    /// Whether reads of flag `index` emit impression events.
    pub(crate) fn impressions(&self, index: usize) -> bool {
        self.impressions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&index)
    }

    pub(crate) fn status(&self) -> Status {
        self.status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn update_status(&self, f: impl FnOnce(&mut Status)) {
        f(&mut self.status.lock().unwrap_or_else(PoisonError::into_inner));
    }
}

/// A cheap handle on a source's [`Status`].
///
/// # Examples
///
/// ```
/// use flags_unleash::{UnleashConfig, UnleashSource};
///
/// let source = UnleashSource::new(UnleashConfig::new("http://127.0.0.1:1", "app"))?;
/// let status = source.status();
/// assert_eq!(status.get().requests, 0);
/// # Ok::<(), flags_unleash::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
pub struct StatusHandle(pub(crate) Arc<Shared>);

impl StatusHandle {
    /// A copy of the current status.
    #[must_use]
    pub fn get(&self) -> Status {
        self.0.status()
    }
}

/// Unleash's client API as the runtime's [`Layer::Remote`] source.
///
/// Give it to [`Registry::watch`] (or use [`crate::start`], which also sends usage
/// metrics). Evaluations never wait on it: they read the snapshot it last produced.
///
/// # Examples
///
/// ```no_run
/// # use flags_runtime::__private::*;
/// # static META: [FlagMeta; 0] = [];
/// # static CELLS: [FastCell; 0] = [];
/// # static REGISTRY: Registry = Registry::new(&META, &CELLS, "", "flags.toml");
/// use flags_unleash::{UnleashConfig, UnleashSource};
///
/// let config = UnleashConfig::new("http://unleash:4242", "checkout")
///     .token("default:production.abc123")
///     .backup_file("/var/lib/checkout/unleash.json");
/// let every = config.interval_value();
/// let _watch = REGISTRY.watch(UnleashSource::new(config)?, every);
/// # Ok::<(), flags_unleash::ConfigError>(())
/// ```
#[derive(Debug)]
pub struct UnleashSource {
    config: UnleashConfig,
    http: Http,
    origin: String,
    shared: Arc<Shared>,
    etag: Option<String>,
    next_attempt: Option<Instant>,
    failures: u32,
    reported: Option<String>,
    /// The ETag held is that of a refused payload (a `304` then means "still bad").
    etag_refused: bool,
    fetcher: Fetcher,
    /// A fetch was asked for and has not answered yet.
    in_flight: bool,
    /// The first poll's wait is over (answered or timed out).
    started: bool,
    /// The client was stopped: polls do nothing.
    stopping: bool,
    /// The wait before the next regular poll (jittered).
    next_wait: Duration,
    loaded: bool,
    /// When the server stopped answering, while it does not.
    unreachable_since: Option<Instant>,
    rng: u64,
    /// The rules each flag last took from a toggle that bound: kept while its toggle
    /// cannot be bound.
    last_good: HashMap<usize, Rules>,
    /// The warnings of the update in force: each is reported when it appears, not at
    /// every payload.
    warned: HashSet<String>,
}

impl UnleashSource {
    /// A source for `config` (checked now; no request is sent until the first poll).
    pub fn new(config: UnleashConfig) -> Result<UnleashSource, ConfigError> {
        config.validate()?;
        let shared = Arc::new(Shared::default());
        let fetcher = Fetcher::new(Http::new(&config), &shared);
        let interval = config.interval;
        let rng = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish()
            | 1;
        Ok(UnleashSource {
            http: Http::new(&config),
            origin: config.origin(),
            config,
            shared,
            etag: None,
            next_attempt: None,
            failures: 0,
            reported: None,
            etag_refused: false,
            fetcher,
            in_flight: false,
            started: false,
            stopping: false,
            next_wait: interval,
            loaded: false,
            unreachable_since: None,
            rng,
            last_good: HashMap::new(),
            warned: HashSet::new(),
        })
    }

    /// A handle on this source's status that outlives moving the source into a
    /// watch.
    #[must_use]
    pub fn status(&self) -> StatusHandle {
        StatusHandle(self.shared.clone())
    }

    pub(crate) fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    /// The wait before the next attempt after `failures` consecutive failures:
    /// `interval × 2^(failures-1)`, capped, with "equal jitter" (uniform in the upper
    /// half) so that many clients do not retry in step.
    fn backoff(&mut self) -> Duration {
        let cap = self.config.backoff_cap();
        let exp = self.failures.saturating_sub(1).min(20);
        let full = self.config.interval.saturating_mul(1 << exp).min(cap);
        full.mul_f64(0.5 + 0.5 * self.random())
    }

    /// A pseudo-random fraction in [0, 1) (xorshift; jitter needs no more).
    fn random(&mut self) -> f64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        // The top 53 bits as a fraction in [0, 1).
        (self.rng >> 11) as f64 / (1u64 << 53) as f64
    }

    fn succeeded(&mut self) {
        if let Some(since) = self.unreachable_since.take() {
            tracing::info!(
                target: TRACING_TARGET,
                source = %self.origin,
                failed_attempts = self.failures,
                "server reachable again after {:.0} s ({} failed attempts)",
                since.elapsed().as_secs_f64(),
                self.failures
            );
        }
        self.failures = 0;
        self.next_attempt = None;
        self.reported = None;
        self.shared.update_status(|s| {
            s.last_contact = Some(SystemTime::now());
            s.consecutive_failures = 0;
            s.last_error = None;
        });
    }

    /// Records a failure; `Err` to report it, `Ok(None)` when it was already reported.
    /// A server that could not be reached (or answered with an error status) is
    /// retried with backoff; one that sent a refused payload is asked again at the
    /// next interval (its ETag keeps the same content from being fetched again).
    fn failed(
        &mut self,
        message: String,
        cause: Option<PayloadError>,
        back_off: bool,
    ) -> Result<Option<Update>, SourceError> {
        // Status and the once-per-problem check read the whole story; the error
        // carries the cause as its source.
        let told = match &cause {
            Some(e) => format!("{message}: {e}"),
            None => message.clone(),
        };
        self.failures = self.failures.saturating_add(1);
        if back_off && self.unreachable_since.is_none() {
            self.unreachable_since = Some(Instant::now());
        }
        let wait = if back_off {
            self.backoff()
        } else {
            self.config.interval
        };
        self.next_attempt = back_off.then(|| Instant::now() + wait);
        let failures = self.failures;
        self.shared.update_status(|s| {
            s.consecutive_failures = failures;
            s.last_error = Some(told.clone());
        });
        if self.reported.as_deref() == Some(told.as_str()) {
            tracing::debug!(target: TRACING_TARGET, source = %self.origin, failures, retry_in = ?wait, "{told}");
            return Ok(None);
        }
        self.reported = Some(told.clone());
        if !self.loaded {
            // Nothing to keep: the runtime's "update rejected, last good state kept"
            // would be wrong, so the source says what holds instead.
            tracing::warn!(
                target: TRACING_TARGET,
                source = %self.origin,
                failures,
                "{told} (nothing loaded from the server yet: flags keep their lower layers, the manifest defaults unless a rule file or the environment says otherwise; next attempt in {:.1} s)",
                wait.as_secs_f64()
            );
            return Ok(None);
        }
        let message = format!(
            "{message} (the last good state stays; next attempt in {:.1} s)",
            wait.as_secs_f64()
        );
        Err(match cause {
            Some(e) => SourceError::with_source(&self.origin, message, e),
            None => SourceError::new(&self.origin, message),
        })
    }

    /// Binds `payload` to the registry's flags and records it as the state in force.
    fn load(&mut self, registry: &Registry, payload: &ClientFeatures, origin: Origin) -> Update {
        // Variant payloads travel in the rules themselves (`SnapshotAccess::payload`).
        let (mut update, mut binding, _) = bind(registry.flags(), payload).into_variants();
        for u in &mut binding.unbindable {
            if let Some(rules) = self.last_good.get(&u.index) {
                update.rules.push((u.index, rules.clone()));
                u.kept = Kept::LastGood;
            }
            update.warnings.push(u.warning());
        }
        self.last_good = update.rules.iter().cloned().collect();
        // Report what is new since the update in force, not every payload's warnings.
        let current: HashSet<String> = update.warnings.iter().map(ToString::to_string).collect();
        update
            .warnings
            .retain(|w| !self.warned.contains(&w.to_string()));
        let unbindable_reports = binding
            .unbindable
            .iter()
            .filter(|u| !self.warned.contains(&u.warning().to_string()))
            .count() as u64;
        self.warned = current;
        let Status {
            binding: previous,
            etag: previous_etag,
            ..
        } = self.shared.status();
        if (!self.loaded || previous.missing_on_server != binding.missing_on_server)
            && !binding.missing_on_server.is_empty()
        {
            tracing::warn!(
                target: TRACING_TARGET,
                source = %self.origin,
                flags = binding.missing_on_server.len(),
                "{} the Unleash server has no toggle for: {}: they keep their manifest defaults (help: create toggles of the same names)",
                count(binding.missing_on_server.len(), "manifest flag", "manifest flags"),
                summarise(&binding.missing_on_server)
            );
        }
        if (!self.loaded || previous.unknown_to_manifest != binding.unknown_to_manifest)
            && !binding.unknown_to_manifest.is_empty()
        {
            tracing::warn!(
                target: TRACING_TARGET,
                source = %self.origin,
                toggles = binding.unknown_to_manifest.len(),
                "{} not in the manifest: {}: ignored (help: declare them in flags.toml, or archive them in Unleash)",
                count(binding.unknown_to_manifest.len(), "Unleash toggle", "Unleash toggles"),
                summarise(&binding.unknown_to_manifest)
            );
        }
        let impressions: HashSet<usize> = registry
            .flags()
            .iter()
            .filter(|m| payload.feature(m.name).is_some_and(|f| f.impression_data))
            .map(|m| m.index)
            .collect();
        *self
            .shared
            .impressions
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = impressions;
        let toggles = payload.features.len();
        let etag = self.etag.clone();
        if origin == Origin::Server && (previous_etag != etag || !self.loaded) {
            tracing::info!(
                target: TRACING_TARGET,
                source = %self.origin,
                etag = etag.as_deref().unwrap_or("none"),
                toggles,
                "toggles in force: revision {} ({toggles} toggles)",
                etag.as_deref().unwrap_or("without an ETag")
            );
        }
        // Shown as the source's revision in the registry's source health.
        let revision = match &origin {
            Origin::Server => etag.clone(),
            Origin::Backup(path) => Some(format!("backup file {}", path.display())),
        };
        self.shared.update_status(|s| {
            s.origin = Some(origin);
            s.last_update = Some(SystemTime::now());
            s.toggles = toggles;
            s.binding = binding;
            s.etag = etag;
            s.updates += 1;
            s.unbindable_reports += unbindable_reports;
        });
        self.loaded = true;
        update.revision = revision;
        update
    }

    /// At start, with the server failing: the backup file, if there is a good one.
    fn serve_backup(&mut self, registry: &Registry, why: &str) -> Option<Update> {
        let path = self.config.backup_file.clone()?;
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(target: TRACING_TARGET, source = %self.origin, backup = %path.display(),
                    "the server failed ({why}) and the backup cannot be read: {e}");
                return None;
            }
        };
        match ClientFeatures::parse(&bytes) {
            Ok(payload) => {
                tracing::warn!(target: TRACING_TARGET, source = %self.origin, backup = %path.display(),
                    "serving the backup file until the server answers ({why})");
                let mut update = self.load(registry, &payload, Origin::Backup(path.clone()));
                update.warnings.push(SourceWarning::new(format!(
                    "serving backup {} until the server answers: {why}",
                    path.display()
                )));
                Some(update)
            }
            Err(e) => {
                tracing::warn!(target: TRACING_TARGET, source = %self.origin, backup = %path.display(),
                    "the server failed ({why}) and the backup is not a valid payload: {e}");
                None
            }
        }
    }
}

impl Source for UnleashSource {
    fn name(&self) -> &str {
        &self.origin
    }

    fn layer(&self) -> Layer {
        Layer::Remote
    }

    /// Always `Some`: the source times its own polls (the jittered interval, the
    /// backoff, or soon while a fetch is in flight); the watch caps it at its interval.
    fn settling(&self) -> Option<Duration> {
        if self.in_flight {
            return Some(IN_FLIGHT_RECHECK);
        }
        match self.next_attempt {
            Some(t) => Some(t.saturating_duration_since(Instant::now())),
            None => Some(self.next_wait),
        }
    }

    /// Healthy while no failure has happened since the last good answer.
    fn healthy(&self) -> bool {
        self.failures == 0
    }

    fn poll(&mut self, registry: &Registry) -> Result<Option<Update>, SourceError> {
        if self.next_attempt.is_some_and(|t| Instant::now() < t) {
            return Ok(None);
        }
        if self.stopping {
            return Ok(None);
        }
        if !self.in_flight {
            if !self.fetcher.ask(self.etag.clone()) {
                return self.failed("the fetch thread cannot be started".to_owned(), None, true);
            }
            self.in_flight = true;
            self.shared.update_status(|s| s.requests += 1);
        }
        // The first poll (inside `start`) waits at most `start_timeout`; later ones
        // wait for the fetch they started, which the HTTP timeout bounds. Either wait
        // ends at once when the client is stopped.
        let wait = if self.started {
            self.config.timeout + Duration::from_secs(1)
        } else {
            self.config.start_timeout
        };
        let fetched = match self.fetcher.results.recv_timeout(wait) {
            Ok(Message::Fetched(fetched)) => fetched,
            Ok(Message::Stop) | Err(RecvTimeoutError::Disconnected) => {
                self.stopping = true;
                return Ok(None);
            }
            Err(RecvTimeoutError::Timeout) => return Ok(self.still_waiting(registry)),
        };
        self.in_flight = false;
        self.started = true;
        self.next_wait = self.jittered_interval();
        match fetched {
            Ok(Fetched::NotModified) if self.etag_refused => {
                // Still the refused content: nothing new, nothing to report again.
                self.shared
                    .update_status(|s| s.last_contact = Some(SystemTime::now()));
                Ok(None)
            }
            Ok(Fetched::NotModified) => {
                self.succeeded();
                Ok(None)
            }
            Ok(Fetched::Body { bytes, etag }) => {
                // Remember the ETag even of a refused payload: the same bad content is
                // then neither downloaded nor reported again.
                self.etag = etag;
                match ClientFeatures::parse(&bytes) {
                    Ok(payload) => {
                        self.etag_refused = false;
                        self.succeeded();
                        if let Some(path) = &self.config.backup_file
                            && let Err(e) = backup::write_atomic(path, &bytes)
                        {
                            tracing::warn!(target: TRACING_TARGET, source = %self.origin, backup = %path.display(),
                                "cannot write the backup file: {e}");
                        }
                        Ok(Some(self.load(registry, &payload, Origin::Server)))
                    }
                    Err(e) => {
                        self.etag_refused = true;
                        let url = self.http.url("client/features");
                        let message = format!("refused payload from {url}");
                        self.fail_or_backup(registry, message, Some(e), false)
                    }
                }
            }
            Err(message) => self.fail_or_backup(registry, message, None, true),
        }
    }
}

impl UnleashSource {
    /// The fetch outlived the wait: at start, evaluation goes on from the backup (or
    /// the lower layers) and the fetch continues in the background; later, nothing.
    fn still_waiting(&mut self, registry: &Registry) -> Option<Update> {
        if self.started {
            return None;
        }
        self.started = true;
        let why = format!(
            "no answer from {} within {:.1} s",
            self.http.url("client/features"),
            self.config.start_timeout.as_secs_f64()
        );
        tracing::warn!(
            target: TRACING_TARGET,
            source = %self.origin,
            "{why}: starting from {} while the first fetch continues in the background",
            if self.config.backup_file.is_some() { "the backup file if there is one" } else { "the lower layers (no backup file)" }
        );
        self.serve_backup(registry, &why)
    }

    /// The next regular poll's wait: the interval, less up to a fifth at random, so
    /// that a fleet started together does not poll in step.
    fn jittered_interval(&mut self) -> Duration {
        self.config.interval.mul_f64(0.8 + 0.2 * self.random())
    }

    /// A failure: served from the backup if nothing was loaded yet and there is one,
    /// else reported (once per distinct problem).
    fn fail_or_backup(
        &mut self,
        registry: &Registry,
        message: String,
        cause: Option<PayloadError>,
        back_off: bool,
    ) -> Result<Option<Update>, SourceError> {
        let why = match &cause {
            Some(e) => format!("{message}: {e}"),
            None => message.clone(),
        };
        if !self.loaded
            && let Some(update) = self.serve_backup(registry, &why)
        {
            // Recorded for the status and backoff; the backup's warning tells why.
            let _ = self.failed(message, cause, back_off);
            return Ok(Some(update));
        }
        self.failed(message, cause, back_off)
    }
}

/// `1 manifest flag`, `40,000 Unleash toggles`.
fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{} {many}", thousands(n))
    }
}

/// `12345` as `12,345`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A list for a log line: the first few names, then how many more (`a, b, c … and
/// 39,997 more`), so that a long list never becomes one huge line.
pub(crate) fn summarise<T: std::fmt::Display>(items: &[T]) -> String {
    const SHOWN: usize = 3;
    let shown: Vec<String> = items.iter().take(SHOWN).map(ToString::to_string).collect();
    let shown = shown.join(", ");
    if items.len() > SHOWN {
        format!("{shown} … and {} more", thousands(items.len() - SHOWN))
    } else {
        shown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_polls_are_jittered_below_the_interval() {
        let config = UnleashConfig::new("http://127.0.0.1:1", "app")
            .interval(Duration::from_secs(10))
            .no_backup_file();
        let mut source = UnleashSource::new(config).unwrap_or_else(|e| panic!("{e}"));
        let mut waits: Vec<Duration> = (0..200).map(|_| source.jittered_interval()).collect();
        for w in &waits {
            assert!(
                *w >= Duration::from_secs(8) && *w <= Duration::from_secs(10),
                "{w:?}"
            );
        }
        waits.sort();
        waits.dedup();
        assert!(
            waits.len() > 150,
            "jittered: {} distinct waits",
            waits.len()
        );
    }

    #[test]
    fn long_lists_are_summarised() {
        let many: Vec<String> = (0..40_000).map(|i| format!("t{i}")).collect();
        assert_eq!(summarise(&many), "t0, t1, t2 … and 39,997 more");
        assert_eq!(summarise(&many[..3]), "t0, t1, t2");
        assert_eq!(summarise(&["a"]), "a");
        assert_eq!(count(40_000, "toggle", "toggles"), "40,000 toggles");
        assert_eq!(count(1, "toggle", "toggles"), "1 toggle");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        let config = UnleashConfig::new("http://127.0.0.1:1", "app")
            .interval(Duration::from_secs(10))
            .max_backoff(Duration::from_secs(60));
        let mut source = match UnleashSource::new(config) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        let mut seen = Vec::new();
        for failures in 1..=8u32 {
            source.failures = failures;
            let full =
                Duration::from_secs(10 * (1u64 << (failures - 1))).min(Duration::from_secs(60));
            for _ in 0..50 {
                let wait = source.backoff();
                assert!(
                    wait >= full / 2 && wait <= full,
                    "{failures}: {wait:?} vs {full:?}"
                );
                seen.push(wait);
            }
        }
        seen.sort();
        seen.dedup();
        assert!(
            seen.len() > 100,
            "jittered, not fixed: {} distinct waits",
            seen.len()
        );
    }
}
