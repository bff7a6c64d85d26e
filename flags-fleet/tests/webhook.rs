//! Webhook alerts: each transition is POSTed as JSON to a loopback listener, and a
//! webhook that does not answer does not stop the controller.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use flags_fleet::Webhook;
use flags_manifest::{Criteria, RolloutPlan};
use flags_rollout::{Attribution, MemoryExposure, RolloutController};
use serde_json::Value;

/// Accepts POSTs and sends each body to the returned channel.
fn listener() -> (String, mpsc::Receiver<Value>) {
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hooks/rollouts", server.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for conn in server.incoming() {
            let Ok(conn) = conn else { continue };
            let mut reader = BufReader::new(conn);
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                continue;
            }
            let _ = reader
                .get_mut()
                .write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
            if tx
                .send(serde_json::from_slice(&body).unwrap_or(Value::Null))
                .is_err()
            {
                break;
            }
        }
    });
    (url, rx)
}

fn plan() -> RolloutPlan {
    RolloutPlan {
        stages: vec![1, 5],
        soak: Duration::from_secs(60),
        min_samples: 10,
        criteria: Criteria::default(),
    }
}

#[test]
fn every_transition_is_posted() {
    let (url, bodies) = listener();
    let hook = Webhook::new(&url).unwrap();
    let c = RolloutController::with_target(Arc::new(MemoryExposure::default()))
        .on_transition(move |t| hook.send(t))
        .build()
        .unwrap();
    c.register("search_v2", plan()).unwrap();
    c.rollback("search_v2", Attribution::by("alice").because("pager"))
        .unwrap();
    let wait = flags_test_support::wait::patience();
    let start = bodies.recv_timeout(wait).unwrap();
    assert_eq!(start["flag"], "search_v2");
    assert_eq!(start["event"], "start");
    assert_eq!(start["percent"], 1);
    let rollback = bodies.recv_timeout(wait).unwrap();
    assert_eq!(rollback["event"], "rollback");
    assert_eq!(rollback["percent"], 0);
    assert_eq!(rollback["actor"], "alice");
    assert_eq!(rollback["reason"], "pager");
    assert_eq!(rollback["status"], "rolled_back");
}

#[test]
fn an_unreachable_webhook_does_not_stop_the_controller() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let hook = Webhook::new(&format!("http://{port}/x")).unwrap();
    let exposure = Arc::new(MemoryExposure::default());
    let c = RolloutController::with_target(exposure.clone())
        .on_transition(move |t| hook.send(t))
        .build()
        .unwrap();
    c.register("search_v2", plan()).unwrap();
    c.rollback("search_v2", Attribution::by("alice")).unwrap();
    assert_eq!(exposure.percent("search_v2"), Some(0));
    assert!(Webhook::new("ftp://x").is_err());
}
