//! Outcome metrics of a whole fleet from Prometheus's HTTP query API.
//!
//! # What is read
//!
//! Every instance exports, per flag and side (`side="treatment"` or `"control"`), a
//! counter [`METRIC_OUTCOMES`] split by `result="ok"|"error"`, and a latency histogram
//! [`METRIC_DURATION`] (`_bucket{le}`, `_sum`, `_count`, in seconds). One query per
//! read fetches the raw samples of all of them for one flag over the time since the
//! previous read: `{__name__=~"...",flag="F"}[Ns]`.
//!
//! # Sums across instances that restart, come and go
//!
//! A plain `sum(...)` of counters goes down when an instance restarts (its counters
//! start again at 0) and when an instance leaves, and a window taken as the difference
//! of two such sums would be wrong or negative. So the source keeps, per series (one
//! instance's counter), the last sample it has seen, and adds up increases the way
//! Prometheus's `increase()` does, without its extrapolation: between two consecutive
//! samples the increase is the difference, or the later value when it is smaller (a
//! restart). The totals it returns therefore only grow: an instance that leaves keeps
//! what it contributed, an instance that restarts adds what it served since. A series
//! first seen after the first read (a new instance) counts from its first sample on,
//! so at most one scrape interval of a new instance's traffic is missed; guessing that
//! it started at zero would count a long-lived series that was merely absent from one
//! read as a burst. Increases between the last scrape before a restart and the
//! restart are lost, as in Prometheus itself.
//!
//! The totals live in this process: a restarted controller starts its windows again
//! from its first read, like one using in-process recorders.
//!
//! # Latency
//!
//! The mean comes from `_sum` and the outcome counts, exactly. The variance the
//! latency checks need is approximated from the histogram: each bucket's requests are
//! placed at the bucket's midpoint (the last finite bound for `+Inf`). That spreads
//! requests over their bucket and so tends to overstate the variance (a check that is
//! slower to breach, never one that breaches on noise more often), by up to a twelfth
//! of the squared bucket width. Choose buckets no wider than the latency differences
//! that matter.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use flags_rollout::{Metrics, MetricsError, MetricsSource, SideMetrics};
use serde_json::Value;

use crate::http::{self, ConfigError};

/// The outcome counter every instance exports: `{flag, side, result}`.
pub const METRIC_OUTCOMES: &str = "flags_outcomes_total";
/// The latency histogram every instance exports: `{flag, side}` (and `le`).
pub const METRIC_DURATION: &str = "flags_outcome_duration_seconds";

/// What one series counts toward.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Part {
    Outcomes {
        treatment: bool,
        ok: bool,
    },
    LatencySum {
        treatment: bool,
    },
    /// `le` is the bound's `f64` bits: exporters write one bound as `1`, `1.0` or
    /// `1e0`, and they must count as one bucket.
    Bucket {
        treatment: bool,
        le: u64,
    },
}

/// The last sample seen of one series.
#[derive(Clone, Copy, Debug)]
struct Last {
    at: f64,
    value: f64,
}

/// The fleet-wide totals of one flag, built from successive query answers: what
/// [`PrometheusSource`] keeps per flag, public so that a simulation can feed it answers
/// shaped like Prometheus's (a `matrix` result: series with `metric` labels and
/// `values` pairs of time and value as text) and get the same sums.
///
/// ```
/// use flags_fleet::FleetTotals;
/// use serde_json::json;
///
/// let series = |instance: &str, t: f64, v: u64| json!({
///     "metric": {"__name__": "flags_outcomes_total", "flag": "f", "side": "treatment",
///                "result": "ok", "instance": instance},
///     "values": [[t, v.to_string()]]});
/// let mut totals = FleetTotals::default();
/// totals.absorb(&[series("a", 1.0, 100), series("b", 1.0, 40)]);
/// // `a` restarts and has served 5 since; `b` grows by 10.
/// totals.absorb(&[series("a", 2.0, 5), series("b", 2.0, 50)]);
/// assert_eq!(totals.metrics().treatment.samples(), 155);
/// ```
#[derive(Debug, Default)]
pub struct FleetTotals {
    series: HashMap<String, Last>,
    totals: BTreeMap<Part, f64>,
    absorbed: bool,
}

/// What the source keeps per flag.
#[derive(Debug, Default)]
struct Tally {
    totals: FleetTotals,
    last_read: Option<Instant>,
}

/// A [`MetricsSource`] over Prometheus's query API, summing every instance (see the
/// module docs for how restarts and departures are handled).
///
/// ```no_run
/// use flags_fleet::PrometheusSource;
/// use flags_rollout::MetricsSource;
///
/// let source = PrometheusSource::new("http://127.0.0.1:9090")?.selector(r#"job="checkout""#);
/// let m = source.metrics("new_checkout")?;
/// println!("{} treatment requests so far", m.treatment.samples());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct PrometheusSource {
    base: String,
    agent: ureq::Agent,
    selector: String,
    lookback: Duration,
    tallies: Mutex<BTreeMap<String, Tally>>,
}

impl PrometheusSource {
    /// A source querying the Prometheus server at `url` (`http://HOST:PORT`).
    pub fn new(url: &str) -> Result<PrometheusSource, ConfigError> {
        Ok(PrometheusSource {
            base: http::base_url(url)?,
            agent: http::agent(),
            selector: String::new(),
            lookback: Duration::from_secs(300),
            tallies: Mutex::new(BTreeMap::new()),
        })
    }

    /// Adds label matchers to every query (`job="checkout"`), to count only the
    /// fleet of one service.
    #[must_use]
    pub fn selector(mut self, matchers: &str) -> Self {
        self.selector = matchers.trim().trim_matches(',').to_owned();
        self
    }

    /// How far back the first read looks for series, and the longest range any read
    /// asks for (default 5 minutes). A read after a longer gap (an outage) still
    /// counts every increase, from the series' latest samples.
    #[must_use]
    pub fn lookback(mut self, lookback: Duration) -> Self {
        self.lookback = lookback.max(Duration::from_secs(1));
        self
    }

    fn query(&self, flag: &str, range: Duration) -> Result<Vec<Value>, MetricsError> {
        let unavailable = |detail: String| MetricsError::Unavailable {
            origin: self.base.clone(),
            detail,
        };
        let escaped = flag.replace('\\', "\\\\").replace('"', "\\\"");
        let extra = if self.selector.is_empty() {
            String::new()
        } else {
            format!(",{}", self.selector)
        };
        let q = format!(
            "{{__name__=~\"{METRIC_OUTCOMES}|{METRIC_DURATION}_sum|{METRIC_DURATION}_bucket\",flag=\"{escaped}\"{extra}}}[{}s]",
            range.as_secs().max(1)
        );
        let url = format!("{}/api/v1/query", self.base);
        let (status, body) = http::idempotent(|| self.agent.get(&url).query("query", &q).call())
            .map_err(|e| unavailable(format!("GET {url}: {e}")))?;
        let invalid = |detail: String| MetricsError::Invalid {
            origin: self.base.clone(),
            detail,
        };
        let json: Value = serde_json::from_str(&body).map_err(|e| {
            if status >= 500 || status == 429 {
                unavailable(format!("HTTP {status}"))
            } else {
                invalid(format!("HTTP {status}, not JSON: {e}"))
            }
        })?;
        if json["status"] != "success" {
            let why = format!(
                "HTTP {status}: {} {}",
                json["errorType"].as_str().unwrap_or(""),
                json["error"].as_str().unwrap_or("")
            );
            return Err(if status >= 500 || status == 429 {
                unavailable(why)
            } else {
                invalid(format!("{why} (query {q})"))
            });
        }
        match json["data"]["result"].as_array() {
            Some(result) if json["data"]["resultType"] == "matrix" => Ok(result.clone()),
            _ => Err(invalid("no matrix in the answer".to_owned())),
        }
    }
}

/// The part a series counts toward, from its labels; `None` for one to ignore.
fn part(labels: &serde_json::Map<String, Value>) -> Option<Part> {
    let treatment = match labels.get("side")?.as_str()? {
        "treatment" => true,
        "control" => false,
        _ => return None,
    };
    let name = labels.get("__name__")?.as_str()?;
    if name == METRIC_OUTCOMES {
        let ok = match labels.get("result")?.as_str()? {
            "ok" => true,
            "error" => false,
            _ => return None,
        };
        Some(Part::Outcomes { treatment, ok })
    } else if name.strip_prefix(METRIC_DURATION) == Some("_sum") {
        Some(Part::LatencySum { treatment })
    } else if name.strip_prefix(METRIC_DURATION) == Some("_bucket") {
        let le = labels.get("le")?.as_str()?;
        let bound: f64 = if le == "+Inf" {
            f64::INFINITY
        } else {
            le.parse().ok()?
        };
        Some(Part::Bucket {
            treatment,
            le: bound.to_bits(),
        })
    } else {
        None
    }
}

/// A series' samples as (time, value), in order; unparsable ones are left out.
fn samples(series: &Value) -> Vec<(f64, f64)> {
    series["values"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|pair| {
            let at = pair.get(0)?.as_f64()?;
            let value: f64 = pair.get(1)?.as_str()?.parse().ok()?;
            value.is_finite().then_some((at, value))
        })
        .collect()
}

impl FleetTotals {
    /// Adds the increases in `result` (a query answer's `data.result`) since the
    /// samples last seen; the first answer absorbed sets the starting totals.
    pub fn absorb(&mut self, result: &[Value]) {
        let first = !self.absorbed;
        self.absorbed = true;
        for series in result {
            let Some(labels) = series["metric"].as_object() else {
                continue;
            };
            let Some(part) = part(labels) else {
                continue;
            };
            // The labels in a fixed order identify the series.
            let key = serde_json::to_string(&labels.iter().collect::<BTreeMap<_, _>>())
                .unwrap_or_default();
            let points = samples(series);
            let Some(&(at0, v0)) = points.first() else {
                continue;
            };
            let mut increase = 0.0;
            let mut last = match self.series.get(&key) {
                Some(&last) => last,
                None => {
                    // First sight (the first read, or a new instance): a baseline.
                    if first {
                        *self.totals.entry(part.clone()).or_default() += v0;
                    }
                    Last { at: at0, value: v0 }
                }
            };
            for &(at, value) in &points {
                if at <= last.at {
                    continue;
                }
                increase += if value >= last.value {
                    value - last.value
                } else {
                    value
                };
                last = Last { at, value };
            }
            *self.totals.entry(part).or_default() += increase;
            self.series.insert(key, last);
        }
    }

    /// The totals as cumulative metrics of both sides.
    pub fn metrics(&self) -> Metrics {
        Metrics {
            treatment: self.side(true),
            control: self.side(false),
        }
    }

    fn side(&self, treatment: bool) -> SideMetrics {
        let get = |p: Part| self.totals.get(&p).copied().unwrap_or(0.0);
        let ok = get(Part::Outcomes {
            treatment,
            ok: true,
        })
        .round() as u64;
        let errors = get(Part::Outcomes {
            treatment,
            ok: false,
        })
        .round() as u64;
        let sum_us = (get(Part::LatencySum { treatment }) * 1e6).round() as u64;
        let mut buckets: Vec<(f64, f64)> = self
            .totals
            .iter()
            .filter_map(|(p, &count)| match p {
                Part::Bucket { treatment: t, le } if *t == treatment => {
                    Some((f64::from_bits(*le), count))
                }
                _ => None,
            })
            .collect();
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut squares = 0.0;
        let (mut lower, mut below) = (0.0_f64, 0.0_f64);
        for (upper, cumulative) in buckets {
            let count = (cumulative - below).max(0.0);
            let mid = if upper.is_finite() {
                (lower + upper) / 2.0
            } else {
                lower
            };
            squares += count * (mid * 1e6) * (mid * 1e6);
            if upper.is_finite() {
                lower = upper;
            }
            below = below.max(cumulative);
        }
        SideMetrics::from_sums(ok + errors, errors, sum_us, squares.round() as u128)
    }
}

impl MetricsSource for PrometheusSource {
    fn metrics(&self, flag: &str) -> Result<Metrics, MetricsError> {
        let since = {
            let tallies = self.tallies.lock().unwrap_or_else(PoisonError::into_inner);
            tallies
                .get(flag)
                .and_then(|t| t.last_read)
                .map(|at| at.elapsed())
        };
        // A margin of a few scrapes: samples already seen are skipped by time anyway.
        let range = since.map_or(self.lookback, |gap| {
            (gap + Duration::from_secs(30)).min(self.lookback)
        });
        let started = Instant::now();
        let result = self.query(flag, range)?;
        let mut tallies = self.tallies.lock().unwrap_or_else(PoisonError::into_inner);
        let tally = tallies.entry(flag.to_owned()).or_default();
        tally.totals.absorb(&result);
        tally.last_read = Some(started);
        Ok(tally.totals.metrics())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn series(
        name: &str,
        side: &str,
        extra: (&str, &str),
        instance: &str,
        points: &[(f64, f64)],
    ) -> Value {
        let mut metric = json!({"__name__": name, "flag": "f", "side": side, "instance": instance});
        metric[extra.0] = json!(extra.1);
        json!({"metric": metric, "values": points.iter().map(|(t, v)| json!([t, v.to_string()])).collect::<Vec<_>>()})
    }

    #[test]
    fn increases_survive_restarts_and_departures() {
        let mut tally = FleetTotals::default();
        let ok = |inst: &str, pts: &[(f64, f64)]| {
            series(METRIC_OUTCOMES, "treatment", ("result", "ok"), inst, pts)
        };
        tally.absorb(&[ok("a", &[(1.0, 100.0)]), ok("b", &[(1.0, 50.0)])]);
        assert_eq!(tally.side(true).samples(), 150);
        // a grows then restarts (10 after the restart); b leaves; c arrives at 7.
        tally.absorb(&[
            ok("a", &[(1.0, 100.0), (2.0, 120.0), (3.0, 10.0)]),
            ok("b", &[(1.0, 50.0), (2.0, 55.0)]),
            ok("c", &[(3.0, 7.0)]),
        ]);
        assert_eq!(tally.side(true).samples(), 150 + 20 + 10 + 5);
        tally.absorb(&[
            ok("a", &[(3.0, 10.0), (4.0, 15.0)]),
            ok("c", &[(3.0, 7.0), (4.0, 9.0)]),
        ]);
        assert_eq!(tally.side(true).samples(), 185 + 5 + 2);
    }

    #[test]
    fn latency_from_sum_and_buckets() {
        let mut tally = FleetTotals::default();
        let b = |le: &str, v: f64| {
            series(
                &format!("{METRIC_DURATION}_bucket"),
                "control",
                ("le", le),
                "a",
                &[(1.0, v)],
            )
        };
        tally.absorb(&[
            series(
                METRIC_OUTCOMES,
                "control",
                ("result", "ok"),
                "a",
                &[(1.0, 4.0)],
            ),
            series(
                &format!("{METRIC_DURATION}_sum"),
                "control",
                ("x", "y"),
                "a",
                &[(1.0, 0.1)],
            ),
            b("0.01", 2.0),
            b("0.05", 4.0),
            b("+Inf", 4.0),
        ]);
        let c = tally.side(false);
        assert_eq!(c.samples(), 4);
        assert_eq!(c.mean_latency_ms(), Some(25.0));
        // Two at 5 ms, two at 30 ms (midpoints), in µs².
        let expected = 2.0 * 5_000f64.powi(2) + 2.0 * 30_000f64.powi(2);
        // Kept in units of 2^24 µs² (SideMetrics::from_sums).
        let got = c.latency_sum_squares_us2() as f64;
        assert!(
            (got - expected).abs() <= f64::from(1u32 << 23),
            "{got} vs {expected}"
        );

        // Another instance (seen after the first read, so it counts from its first
        // sample) writes the same bounds another way: still one bucket each.
        let b2 = |le: &str, v: f64| {
            series(
                &format!("{METRIC_DURATION}_bucket"),
                "control",
                ("le", le),
                "b",
                &[(1.0, 0.0), (2.0, v)],
            )
        };
        tally.absorb(&[
            series(
                METRIC_OUTCOMES,
                "control",
                ("result", "ok"),
                "b",
                &[(1.0, 0.0), (2.0, 4.0)],
            ),
            series(
                &format!("{METRIC_DURATION}_sum"),
                "control",
                ("x", "y"),
                "b",
                &[(1.0, 0.0), (2.0, 0.1)],
            ),
            b2("1e-2", 2.0),
            b2("0.050", 4.0),
            b2("+Inf", 4.0),
        ]);
        let c = tally.side(false);
        assert_eq!(c.samples(), 8);
        let got = c.latency_sum_squares_us2() as f64;
        assert!(
            (got - 2.0 * expected).abs() <= f64::from(1u32 << 24),
            "{got} vs {}",
            2.0 * expected
        );
    }
}
