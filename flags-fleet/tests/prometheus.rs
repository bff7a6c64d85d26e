//! PrometheusSource against a real Prometheus scraping three fake instances every
//! second: fleet sums, an instance that restarts (its counters start again), one that
//! leaves, latency from the histogram, and an outage reported as an error.

use flags_fleet::{METRIC_DURATION, METRIC_OUTCOMES, PrometheusSource};
use flags_rollout::{MetricsError, MetricsSource};
use flags_test_support::prometheus::{Exporter, Prometheus};
use flags_test_support::wait;

/// What one instance has counted for flag `f` (cumulative since it started).
#[derive(Clone, Copy, Default)]
struct Counts {
    t_ok: u64,
    t_err: u64,
    c_ok: u64,
}

/// The exposition text of an instance; every request took 20 ms.
fn text(c: Counts) -> String {
    let mut out = format!("# TYPE {METRIC_OUTCOMES} counter\n");
    for (side, result, n) in [
        ("treatment", "ok", c.t_ok),
        ("treatment", "error", c.t_err),
        ("control", "ok", c.c_ok),
        ("control", "error", 0),
    ] {
        out +=
            &format!("{METRIC_OUTCOMES}{{flag=\"f\",side=\"{side}\",result=\"{result}\"}} {n}\n");
    }
    out += &format!("# TYPE {METRIC_DURATION} histogram\n");
    for (side, n) in [("treatment", c.t_ok + c.t_err), ("control", c.c_ok)] {
        for (le, k) in [("0.01", 0), ("0.025", n), ("0.1", n), ("+Inf", n)] {
            out += &format!(
                "{METRIC_DURATION}_bucket{{flag=\"f\",side=\"{side}\",le=\"{le}\"}} {k}\n"
            );
        }
        out += &format!(
            "{METRIC_DURATION}_sum{{flag=\"f\",side=\"{side}\"}} {}\n",
            n as f64 * 0.02
        );
        out += &format!("{METRIC_DURATION}_count{{flag=\"f\",side=\"{side}\"}} {n}\n");
    }
    out
}

#[test]
fn fleet_sums_survive_restarts_departures_and_outages() {
    let instances: Vec<Exporter> = (0..3).map(|_| Exporter::start()).collect();
    let counts = [
        Counts {
            t_ok: 100,
            t_err: 1,
            c_ok: 900,
        },
        Counts {
            t_ok: 50,
            t_err: 0,
            c_ok: 450,
        },
        Counts {
            t_ok: 10,
            t_err: 0,
            c_ok: 90,
        },
    ];
    for (i, c) in instances.iter().zip(counts) {
        i.set(text(c));
    }
    let addrs: Vec<_> = instances.iter().map(Exporter::addr).collect();
    let Some(mut prom) = Prometheus::start(&addrs) else {
        return;
    };
    // All three scraped before the first read, which is then the sum of their totals
    // (a series first seen later counts from its first sample on).
    let http: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let series = |q: &str| -> Option<String> {
        let mut r = http
            .get(format!("{}/api/v1/query", prom.url))
            .query("query", q)
            .call()
            .ok()?;
        r.body_mut().read_to_string().ok()
    };
    wait::wait_until("three instances scraped", || {
        series(&format!("count({METRIC_OUTCOMES})")).is_some_and(|body| body.contains("\"12\""))
    });
    let source = PrometheusSource::new(&prom.url).unwrap();
    let treatment = |s: &PrometheusSource| s.metrics("f").ok().map(|m| m.treatment.samples());
    assert_eq!(treatment(&source), Some(161));
    let first = source.metrics("f").unwrap();
    assert_eq!(first.control.samples(), 1440);
    assert_eq!(first.treatment.errors(), 1);

    // 0 grows by 40; 1 restarts and has served 7 since; 2 leaves after growing by 5.
    instances[0].set(text(Counts {
        t_ok: 140,
        t_err: 1,
        c_ok: 1300,
    }));
    instances[1].set(text(Counts {
        t_ok: 7,
        t_err: 2,
        c_ok: 60,
    }));
    instances[2].set(text(Counts {
        t_ok: 15,
        t_err: 0,
        c_ok: 130,
    }));
    // Read while the changes arrive so the source sees the restart's drop.
    wait::wait_until("the growth, the restart and the last samples seen", || {
        treatment(&source) == Some(161 + 40 + 9 + 5)
    });
    instances[2].down(true);
    let m = source.metrics("f").unwrap();
    assert_eq!(
        m.treatment.samples(),
        215,
        "nothing lost when an instance leaves"
    );
    assert_eq!(m.treatment.errors(), 3);
    assert_eq!(m.control.samples(), 1440 + 400 + 60 + 40);
    let mean = m.since(&first).treatment.mean_latency_ms().unwrap();
    assert!((mean - 20.0).abs() < 0.01, "{mean}");
    let var = m.since(&first).treatment.latency_variance_ms2().unwrap();
    // Every request sits in the (10 ms, 25 ms] bucket: placed at 17.5 ms, so the
    // approximation gives a small variance (2.5² ms² off the true mean), not 0 or huge.
    assert!(var < 10.0, "{var}");

    // An outage is an error, never zeros; data coming back continues the totals.
    prom.stop();
    match source.metrics("f") {
        Err(MetricsError::Unavailable { .. }) => {}
        other => panic!("expected an outage, got {other:?}"),
    }
    instances[0].set(text(Counts {
        t_ok: 160,
        t_err: 1,
        c_ok: 1500,
    }));
    prom.restart();
    wait::wait_until("growth after the outage counted", || {
        treatment(&source) == Some(235)
    });
    assert!(
        treatment(&source) == Some(235),
        "{}",
        prom.log()
            .lines()
            .rev()
            .take(5)
            .collect::<Vec<_>>()
            .join("\n")
    );
}
