//! The demo service as a fleet would run it: scraped over HTTP on its own, and two
//! instances scraped by a real Prometheus whose query API sums them by side. The two
//! serve through flags-admin, in Prometheus's classic text format; a third instance,
//! inside this test, serves flags-observe's OpenMetrics text, so that Prometheus
//! parses both formats.
//!
//! The Prometheus test needs Prometheus (`apt-get install -y prometheus`) named by
//! `TEST_PROMETHEUS` (the binary, `/usr/bin/prometheus` from Debian's package). Without
//! it the test prints "skipped: ..." and passes, unless `TEST_REQUIRE_SERVICES=1` (set
//! by `scripts/test.sh`, which installs Prometheus) makes it mandatory.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use flags_observe::FlagMetrics;
use flags_runtime::{Outcome, Side};
use flags_test_support::scratch::ScratchDir;
use flags_test_support::{service, wait};

// The demo's manifest, for the instance this test serves itself.
flags_runtime::flags!("../flags.toml");

/// Outcomes one instance records: (ok, errors) with the flag on, then off.
#[derive(Clone, Copy, Debug)]
struct Load {
    treatment: (u64, u64),
    control: (u64, u64),
}

/// A running process, killed when dropped, so that a failing test leaves none behind.
struct Running {
    child: Child,
    what: &'static str,
    /// Held open: the demo exits when it closes (`--exit-on-stdin-close`), which is
    /// what happens if this test process dies without running `drop`.
    _stdin: Option<ChildStdin>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        eprintln!("stopped {}", self.what);
    }
}

/// Starts one demo instance and returns it with its `/metrics` address.
fn start_demo(load: Load) -> (Running, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fleet-demo"))
        .args(["--port", "0", "--exit-on-stdin-close"])
        .args(["--treatment-ok", &load.treatment.0.to_string()])
        .args(["--treatment-errors", &load.treatment.1.to_string()])
        .args(["--control-ok", &load.control.0.to_string()])
        .args(["--control-errors", &load.control.1.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start fleet-demo: {e}"));
    let stdout = child.stdout.take().expect("stdout is piped");
    let running = Running {
        _stdin: child.stdin.take(),
        child,
        what: "fleet-demo",
    };
    // The first line is the address; read on a thread so that a demo that never
    // prints cannot hang the test past its deadline.
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(wait::patience()).unwrap_or_else(|_| {
        panic!(
            "fleet-demo printed no address within {:?}",
            wait::patience()
        )
    });
    let url = line.trim().to_owned();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/metrics"),
        "fleet-demo's first line is not its address: {line:?}"
    );
    (running, url)
}

fn http() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(wait::patience()))
        .http_status_as_error(false)
        .build()
        .into()
}

/// GET `url`: status, `Content-Type` and body.
fn get(agent: &ureq::Agent, url: &str) -> (u16, String, String) {
    let mut response = agent
        .get(url)
        .call()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    (response.status().as_u16(), content_type, body)
}

#[test]
fn one_instance_serves_its_outcomes() {
    let load = Load {
        treatment: (7, 3),
        control: (11, 2),
    };
    let (_demo, url) = start_demo(load);
    let agent = http();
    let (status, content_type, body) = get(&agent, &url);
    assert_eq!(status, 200, "{body}");
    assert_eq!(content_type, flags_observe::PROMETHEUS_TEXT_CONTENT_TYPE);
    for line in [
        "flags_outcomes_total{flag=\"new_checkout\",side=\"treatment\",result=\"ok\"} 7",
        "flags_outcomes_total{flag=\"new_checkout\",side=\"treatment\",result=\"error\"} 3",
        "flags_outcomes_total{flag=\"new_checkout\",side=\"control\",result=\"ok\"} 11",
        "flags_outcomes_total{flag=\"new_checkout\",side=\"control\",result=\"error\"} 2",
        "flags_counting_enabled 1",
        "# TYPE flags_outcomes_total counter",
    ] {
        assert!(
            body.lines().any(|l| l == line),
            "no line {line:?} in\n{body}"
        );
    }
    let (status, _, _) = get(&agent, &url.replace("/metrics", "/nothing"));
    assert_eq!(status, 404);
}

/// A port that was free a moment ago (the listener is closed before returning).
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// Runs `query` against Prometheus's HTTP API; the vector's samples as (the value of
/// label `by`, value), or why there are none yet.
fn query(
    agent: &ureq::Agent,
    base: &str,
    query: &str,
    by: &str,
) -> Result<Vec<(String, f64)>, String> {
    let url = format!("{base}/api/v1/query");
    let mut response = agent
        .get(&url)
        .query("query", query)
        .call()
        .map_err(|e| format!("GET {url}: {e}"))?;
    let body = response
        .body_mut()
        .read_to_string()
        .map_err(|e| format!("reading {url}: {e}"))?;
    let json: serde_json::Value =
        serde_json::from_str(&body).map_err(|e| format!("{url}: not JSON ({e}): {body}"))?;
    if json["status"] != "success" {
        return Err(format!("{query}: {body}"));
    }
    let samples = json["data"]["result"]
        .as_array()
        .ok_or_else(|| format!("{query}: no result vector: {body}"))?;
    samples
        .iter()
        .map(|s| {
            let label = s["metric"][by].as_str().unwrap_or_default().to_owned();
            let value = s["value"][1]
                .as_str()
                .and_then(|v| v.parse::<f64>().ok())
                .ok_or_else(|| format!("{query}: sample without a number: {s}"))?;
            Ok((label, value))
        })
        .collect()
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// Records `load` into this process's registry and serves its metrics as OpenMetrics
/// text on a free loopback port, from a thread that lives as long as the test binary;
/// returns `host:port`.
fn serve_openmetrics(load: Load) -> String {
    flags::REGISTRY.set_counting(true);
    let latency = Duration::from_millis(5);
    let batches = [
        (Side::Treatment, Outcome::ok(latency), load.treatment.0),
        (Side::Treatment, Outcome::error(latency), load.treatment.1),
        (Side::Control, Outcome::ok(latency), load.control.0),
        (Side::Control, Outcome::error(latency), load.control.1),
    ];
    for (side, outcome, n) in batches {
        for _ in 0..n {
            flags::NEW_CHECKOUT.record_outcome(side, outcome);
        }
    }
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            answer_scrape(stream);
        }
    });
    addr.to_string()
}

/// Answers one scrape (whatever the request) with the metrics and closes: a fixture
/// just large enough for Prometheus's scraper, not a server.
fn answer_scrape(mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(wait::patience()));
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let body = FlagMetrics::new(&flags::REGISTRY).encode();
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        flags_observe::CONTENT_TYPE,
        body.len()
    );
}

#[test]
fn prometheus_sums_the_fleet_by_side() {
    let Some(prometheus) = service::from_env(
        "TEST_PROMETHEUS",
        "Prometheus",
        "`apt-get install -y prometheus` and TEST_PROMETHEUS=/usr/bin/prometheus",
    ) else {
        return;
    };
    assert!(
        Path::new(&prometheus).is_file(),
        "TEST_PROMETHEUS={prometheus} is not a file"
    );
    let loads = [
        Load {
            treatment: (90, 10),
            control: (196, 4),
        },
        Load {
            treatment: (30, 20),
            control: (97, 3),
        },
        // This test's own instance, in OpenMetrics.
        Load {
            treatment: (25, 5),
            control: (94, 6),
        },
    ];
    let demos: Vec<(Running, String)> = loads[..2].iter().map(|l| start_demo(*l)).collect();
    let mut targets: Vec<String> = demos
        .iter()
        .map(|(_, url)| {
            let host = url
                .trim_start_matches("http://")
                .trim_end_matches("/metrics");
            format!("'{host}'")
        })
        .collect();
    targets.push(format!("'{}'", serve_openmetrics(loads[2])));

    let dir = ScratchDir::new("prometheus");
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
             scrape_configs:\n  - job_name: fleet-demo\n    static_configs:\n      \
             - targets: [{}]\n",
            targets.join(", ")
        ),
    )
    .expect("write prometheus.yml");
    let port = free_port();
    let log_path = dir.join("prometheus.log");
    let log = std::fs::File::create(&log_path).expect("create prometheus.log");
    let child = Command::new(&prometheus)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("clone log handle"))
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {prometheus}: {e}"));
    let _prometheus = Running {
        child,
        what: "prometheus",
        _stdin: None,
    };
    let base = format!("http://127.0.0.1:{port}");
    let agent = http();

    // The error share by side across the fleet, from the counters' current totals
    // (not rate(): totals give exact ratios).
    let ratio = "sum by (side) (flags_outcomes_total{flag=\"new_checkout\",result=\"error\"}) \
                 / sum by (side) (flags_outcomes_total{flag=\"new_checkout\"})";
    // Every instance is in the sums only once each has been scraped.
    let scraped = "count by (side) (flags_outcomes_total{flag=\"new_checkout\",result=\"error\"})";

    let limit = wait::scaled(Duration::from_secs(60));
    let started = Instant::now();
    let mut last;
    let found = loop {
        let both_scraped = query(&agent, &base, scraped, "side")
            .map(|v| v.len() == 2 && v.iter().all(|(_, n)| *n == 3.0));
        match both_scraped {
            Ok(true) => match query(&agent, &base, ratio, "side") {
                Ok(v) if v.len() == 2 => break v,
                Ok(v) => last = format!("ratio query gave {v:?}"),
                Err(e) => last = e,
            },
            Ok(false) => last = "not every instance scraped yet".to_owned(),
            Err(e) => last = e,
        }
        if started.elapsed() > limit {
            let targets = get(&agent, &format!("{base}/api/v1/targets")).2;
            panic!(
                "no per-side error ratio after {limit:?} (raise TEST_TIME_SCALE on a slow \
                 machine); last: {last}\ntargets: {targets}\nprometheus log:\n{}",
                log_tail(&log_path)
            );
        }
        // A pause between two checks of the condition, not synchronisation.
        std::thread::sleep(Duration::from_millis(200));
    };
    eprintln!(
        "Prometheus had all three instances after {:?}",
        started.elapsed()
    );

    let expected = |side: fn(&Load) -> (u64, u64)| {
        let errors: u64 = loads.iter().map(|l| side(l).1).sum();
        let total: u64 = loads.iter().map(|l| side(l).0 + side(l).1).sum();
        errors as f64 / total as f64
    };
    let got = |side: &str| {
        found
            .iter()
            .find(|(s, _)| s == side)
            .map(|(_, v)| *v)
            .unwrap_or_else(|| panic!("no {side} in {found:?}"))
    };
    // 35 / 180 and 13 / 400: the same IEEE division on both ends, so exactly equal.
    assert_eq!(got("treatment"), expected(|l| l.treatment), "{found:?}");
    assert_eq!(got("control"), expected(|l| l.control), "{found:?}");
    assert_eq!(got("control"), 0.0325);

    // Each instance's own totals arrived as recorded, side by side.
    let per_instance = query(
        &agent,
        &base,
        "flags_outcomes_total{flag=\"new_checkout\",side=\"treatment\",result=\"error\"}",
        "instance",
    )
    .expect("per-instance query");
    let mut errors: Vec<f64> = per_instance.iter().map(|(_, v)| *v).collect();
    errors.sort_by(f64::total_cmp);
    assert_eq!(errors, [5.0, 10.0, 20.0], "{per_instance:?}");

    // Both formats' info metric and histogram arrived: one flag per instance, and
    // every treatment request within the 5 ms bucket.
    let info = query(
        &agent,
        &base,
        "count(flags_info{flag=\"new_checkout\",owner=\"checkout-team\"})",
        "",
    )
    .expect("flags_info query");
    assert_eq!(
        info.iter().map(|(_, v)| *v).collect::<Vec<_>>(),
        [3.0],
        "{info:?}"
    );
    let within = query(
        &agent,
        &base,
        "sum(flags_outcome_duration_seconds_bucket{flag=\"new_checkout\",side=\"treatment\",le=\"0.005\"})",
        "",
    )
    .expect("histogram query");
    let treatment_total: u64 = loads.iter().map(|l| l.treatment.0 + l.treatment.1).sum();
    assert_eq!(
        within.iter().map(|(_, v)| *v).collect::<Vec<_>>(),
        [treatment_total as f64],
        "{within:?}"
    );
}
