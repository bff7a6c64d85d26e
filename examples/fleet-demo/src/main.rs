//! One instance of a service in a fleet, for watching a flag with Prometheus.
//!
//! It turns counting on, records the request outcomes given on its command line for
//! `new_checkout` (so many successes and errors with the flag on, the treatment, and
//! off, the control), then serves its flag metrics at `/metrics` on 127.0.0.1 until
//! it is stopped. The first line it prints is the address Prometheus should scrape.
//!
//! ```text
//! fleet-demo --treatment-ok 90 --treatment-errors 10 --control-ok 95 --control-errors 5
//! ```
//!
//! Run two or more with different numbers and point Prometheus at all of them: the
//! error rate by side across the fleet is
//! `sum by (side) (flags_outcomes_total{flag="new_checkout",result="error"}) /
//! sum by (side) (flags_outcomes_total{flag="new_checkout"})`.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use flags_observe::{CONTENT_TYPE, FlagMetrics};
use flags_runtime::{Outcome, Side};

flags_runtime::flags!("flags.toml");

/// Records outcomes for `new_checkout` and serves them at /metrics.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Requests that succeeded with the flag on (the treatment).
    #[arg(long, default_value_t = 0)]
    treatment_ok: u64,
    /// Requests that failed with the flag on.
    #[arg(long, default_value_t = 0)]
    treatment_errors: u64,
    /// Requests that succeeded with the flag off (the control).
    #[arg(long, default_value_t = 0)]
    control_ok: u64,
    /// Requests that failed with the flag off.
    #[arg(long, default_value_t = 0)]
    control_errors: u64,
    /// Latency recorded for every request, in milliseconds.
    #[arg(long, default_value_t = 5)]
    latency_ms: u64,
    /// Port to listen on, on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Exit when standard input closes: a parent that pipes it cannot leave this
    /// process behind, even when the parent is killed.
    #[arg(long)]
    exit_on_stdin_close: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    flags::REGISTRY.set_counting(true);
    record(&args);

    let server = match tiny_http::Server::http(("127.0.0.1", args.port)) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("fleet-demo: cannot listen on 127.0.0.1:{}: {e}", args.port);
            return ExitCode::FAILURE;
        }
    };
    let Some(addr) = server.server_addr().to_ip() else {
        eprintln!("fleet-demo: the server has no IP address");
        return ExitCode::FAILURE;
    };
    // The first line is for whoever started this process: where to scrape.
    println!("http://{addr}/metrics");
    let _ = std::io::stdout().flush();

    if args.exit_on_stdin_close {
        std::thread::spawn(|| {
            let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
            std::process::exit(0);
        });
    }

    let metrics = FlagMetrics::new(&flags::REGISTRY);
    for request in server.incoming_requests() {
        let response = respond(&metrics, request.method(), request.url());
        // A client that hung up is no reason to stop serving the others.
        let _ = request.respond(response);
    }
    ExitCode::SUCCESS
}

/// Records the outcomes the command line asks for, as the request path would.
fn record(args: &Args) {
    let latency = Duration::from_millis(args.latency_ms);
    let batches = [
        (Side::Treatment, Outcome::ok(latency), args.treatment_ok),
        (
            Side::Treatment,
            Outcome::error(latency),
            args.treatment_errors,
        ),
        (Side::Control, Outcome::ok(latency), args.control_ok),
        (Side::Control, Outcome::error(latency), args.control_errors),
    ];
    for (side, outcome, n) in batches {
        for _ in 0..n {
            flags::NEW_CHECKOUT.record_outcome(side, outcome);
        }
    }
}

/// `GET /metrics` is the exposition; any other path is 404, any other method 405.
fn respond(
    metrics: &FlagMetrics,
    method: &tiny_http::Method,
    url: &str,
) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let path = url.split('?').next().unwrap_or_default();
    let (status, body, content_type) = match (method, path) {
        (tiny_http::Method::Get, "/metrics") => (200, metrics.encode(), CONTENT_TYPE),
        (_, "/metrics") => (
            405,
            "only GET is served here\n".to_owned(),
            "text/plain; charset=utf-8",
        ),
        _ => (
            404,
            "not found: metrics are at /metrics\n".to_owned(),
            "text/plain; charset=utf-8",
        ),
    };
    let mut response = tiny_http::Response::from_string(body).with_status_code(status);
    if let Ok(header) = tiny_http::Header::from_bytes("Content-Type", content_type) {
        response = response.with_header(header);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn only_get_metrics_is_served() {
        let metrics = FlagMetrics::new(&flags::REGISTRY);
        let status = |m: tiny_http::Method, url: &str| respond(&metrics, &m, url).status_code().0;
        assert_eq!(status(tiny_http::Method::Get, "/metrics"), 200);
        assert_eq!(status(tiny_http::Method::Get, "/metrics?x=1"), 200);
        assert_eq!(status(tiny_http::Method::Post, "/metrics"), 405);
        assert_eq!(status(tiny_http::Method::Get, "/"), 404);
        let mut body = String::new();
        respond(&metrics, &tiny_http::Method::Get, "/metrics")
            .into_reader()
            .read_to_string(&mut body)
            .unwrap();
        assert!(body.contains("flags_info{flag=\"new_checkout\""), "{body}");
        assert!(body.ends_with("# EOF\n"), "{body}");
    }
}
