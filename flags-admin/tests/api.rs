//! The admin endpoint over real loopback HTTP: reads, authorisation, writes read back
//! through `/flags.json`, the audit log, and every bad request refused with a 4xx that
//! changes nothing.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{ALICE, BOB, HOSTILE, get, send, start, start_with};
use flags_admin::Admin;
use flags_test_support::wait;

#[test]
fn flags_json_shows_every_flag_with_its_state() {
    let fx = start();
    let json = fx.flags_json();
    let flags = json["flags"].as_array().expect("flags");
    let names: Vec<&str> = flags.iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["beta", "layout", "frozen", "checkout_v2"]);
    assert_eq!(json["today"], "2026-12-01");
    assert_eq!(json["manifest"], "flags.toml");
    assert_eq!(json["writes"], true);

    let beta = &flags[0];
    assert_eq!(beta["description"], HOSTILE);
    assert_eq!(beta["kind"], "release");
    assert_eq!(beta["owner"], "web");
    assert_eq!(beta["expires"], "2020-01-01");
    assert_eq!(beta["expiry"]["state"], "stale");
    assert_eq!(beta["value"], "off");
    assert_eq!(beta["uniform"], true);
    assert_eq!(beta["layer"], "manifest");
    assert_eq!(beta["counts"], serde_json::json!({"off": 0, "on": 0}));

    let layout = &flags[1];
    assert_eq!(
        layout["variants"],
        serde_json::json!(["classic", "compact"])
    );
    assert_eq!(
        layout["expiry"],
        serde_json::json!({"state": "expiring", "days_left": 9})
    );
    assert_eq!(layout["value"], "classic");
    assert_eq!(flags[2]["static"], true);
    assert_eq!(flags[2]["expiry"]["state"], "permanent");

    // The controller started checkout_v2's rollout at its first stage: the rollout
    // layer decides, and the value varies by key.
    let checkout = &flags[3];
    assert_eq!(checkout["rollout"]["stage"], 1);
    assert_eq!(checkout["rollout"]["percent"], 10);
    assert_eq!(checkout["rollout"]["status"], "running");
    assert_eq!(
        checkout["rollout"]["stages"],
        serde_json::json!([10, 50, 100])
    );
    assert_eq!(checkout["layer"], "rollout");
    assert_eq!(checkout["uniform"], false);
    assert_eq!(checkout["value"], serde_json::Value::Null);
    assert_eq!(checkout["manifest_rules"], "2 listed keys");
    let layers: Vec<&str> = checkout["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["layer"].as_str().unwrap())
        .collect();
    assert_eq!(layers, ["manifest", "rollout"]);
    assert_eq!(beta["manifest_rules"], serde_json::Value::Null);
}

#[test]
fn layers_and_sources_say_who_decides_and_how_sources_fare() {
    let fx = start();
    common::flaky_remote(fx.registry);
    let json = fx.flags_json();
    let beta = &json["flags"][0];
    assert_eq!(
        (beta["value"].as_str(), beta["layer"].as_str()),
        (Some("on"), Some("remote"))
    );
    assert_eq!(
        beta["layers"],
        serde_json::json!([{"layer": "remote", "origin": "https://flags.example/api", "rules": "on"}])
    );
    let sources = json["sources"].as_array().expect("sources");
    let remote = sources
        .iter()
        .find(|s| s["origin"] == "https://flags.example/api")
        .unwrap_or_else(|| panic!("no remote source in {sources:?}"));
    assert_eq!(remote["revision"], "rev-7");
    assert_eq!(remote["failing"], true);
    assert_eq!(remote["consecutive_failures"], 1);
    assert_eq!(remote["updates"], 1);
    assert!(
        remote["last_error"].as_str().unwrap().contains("HTTP 503"),
        "{remote}"
    );
    assert!(remote["last_success"].as_str().unwrap().ends_with('Z'));

    // An override sits above the remote layer; both are listed, lowest first.
    let r = send(
        "POST",
        &fx.url("/api/flags/beta/override"),
        Some(ALICE),
        Some(r#"{"value": false}"#),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let beta = fx.flag("beta");
    let layers: Vec<&str> = beta["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["layer"].as_str().unwrap())
        .collect();
    assert_eq!(layers, ["remote", "override"]);
    assert_eq!(
        (beta["value"].as_str(), beta["layer"].as_str()),
        (Some("off"), Some("override"))
    );
    assert_eq!(fx.audit_records()[0].before.as_deref(), Some("on"));
}

#[test]
fn counts_follow_evaluations_and_reading_the_view_counts_nothing() {
    let fx = start();
    fx.registry.set_counting(true);
    use flags_runtime::raw::IndexAccess;
    for _ in 0..3 {
        let _ = fx.registry.value(0);
    }
    for _ in 0..5 {
        let _ = fx.flags_json();
    }
    let beta = fx.flag("beta");
    assert_eq!(beta["counts"]["off"], 3, "{beta}");
    assert_eq!(beta["counts"]["on"], 0);
}

#[test]
fn dashboard_is_one_self_contained_page() {
    let fx = start();
    let r = get(&fx.url("/"));
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type.as_deref(), Some("text/html; charset=utf-8"));
    assert!(r.body.contains("<title>flags admin</title>"));
    assert!(
        !r.body.contains("innerHTML"),
        "data goes in through textContent"
    );
    for outside in ["http://", "https://", "src=\"//", "<link"] {
        assert!(
            !r.body.contains(outside),
            "the page loads nothing from elsewhere: {outside}"
        );
    }
}

#[test]
fn metrics_are_the_flags_metrics_or_the_hooks() {
    let fx = start();
    let r = get(&fx.url("/metrics"));
    assert_eq!(r.status, 200);
    assert!(
        r.content_type
            .as_deref()
            .unwrap()
            .starts_with("text/plain; version=0.0.4"),
        "{:?}",
        r.content_type
    );
    assert!(r.body.contains("flags_info{"), "{}", r.body);
    assert!(r.body.contains("flags_counting_enabled"), "{}", r.body);

    let fx = start_with(|b| {
        b.metrics("text/plain; version=0.0.4; charset=utf-8", || {
            "flags_up 1\n".to_owned()
        })
    });
    let r = get(&fx.url("/metrics"));
    assert_eq!(r.status, 200);
    assert_eq!(r.body, "flags_up 1\n");
    assert!(r.content_type.unwrap().starts_with("text/plain"));
}

#[test]
fn metrics_are_openmetrics_when_the_scraper_asks() {
    let admin = Admin::builder(common::registry()).build().unwrap();
    let req = http::Request::get("/metrics")
        .header(
            "accept",
            "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
        )
        .body(Vec::new())
        .unwrap();
    let resp = admin.handle(req);
    assert_eq!(resp.status(), 200);
    let content_type = resp.headers()["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let body = String::from_utf8(resp.into_body()).unwrap();
    assert!(body.ends_with("# EOF\n"), "{body}");
    assert!(body.contains("flags_info{"), "{body}");
}

#[test]
fn override_is_read_back_and_audited_with_its_actor() {
    let fx = start();
    let r = send(
        "POST",
        &fx.url("/api/flags/beta/override"),
        Some(ALICE),
        Some(r#"{"value": true, "reason": "demo"}"#),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["value"], "on");
    let beta = fx.flag("beta");
    assert_eq!(
        (beta["value"].as_str(), beta["layer"].as_str()),
        (Some("on"), Some("override"))
    );

    let r = send(
        "POST",
        &fx.url("/api/flags/layout/override"),
        Some(BOB),
        Some(r#"{"value": "compact"}"#),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(fx.flag("layout")["value"], "compact");

    let records = fx.audit_records();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].actor, "alice");
    assert_eq!(records[0].action, "override");
    assert_eq!(records[0].flag, "beta");
    assert_eq!(records[0].value.as_deref(), Some("on"));
    assert_eq!(records[0].before.as_deref(), Some("off"));
    assert_eq!(records[0].reason, "demo");
    assert!(records[0].at.starts_with("20") && records[0].at.ends_with('Z'));
    assert_eq!(
        (records[1].actor.as_str(), records[1].value.as_deref()),
        ("bob", Some("compact"))
    );
}

#[test]
fn kill_switch_forces_off_or_the_default_variant_until_cleared() {
    let fx = start();
    let on = send(
        "POST",
        &fx.url("/api/flags/beta/override"),
        Some(ALICE),
        Some(r#"{"value":true}"#),
    );
    assert_eq!(on.status, 200);
    let r = send("POST", &fx.url("/api/flags/beta/kill"), Some(ALICE), None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(fx.flag("beta")["value"], "off");
    assert_eq!(fx.flag("beta")["layer"], "override");

    send(
        "POST",
        &fx.url("/api/flags/layout/override"),
        Some(ALICE),
        Some(r#"{"value":"compact"}"#),
    );
    let r = send(
        "POST",
        &fx.url("/api/flags/layout/kill"),
        Some(BOB),
        Some(r#"{"reason":"broken"}"#),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(fx.flag("layout")["value"], "classic");

    // The kill switch also wins over a running rollout.
    let r = send(
        "POST",
        &fx.url("/api/flags/checkout_v2/kill"),
        Some(BOB),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let checkout = fx.flag("checkout_v2");
    assert_eq!(
        (checkout["value"].as_str(), checkout["uniform"].as_bool()),
        (Some("off"), Some(true))
    );

    let r = send(
        "DELETE",
        &fx.url("/api/flags/beta/override"),
        Some(ALICE),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let beta = fx.flag("beta");
    assert_eq!(
        (beta["value"].as_str(), beta["layer"].as_str()),
        (Some("off"), Some("manifest"))
    );

    let actions: Vec<(String, String, Option<String>)> = fx
        .audit_records()
        .into_iter()
        .map(|r| (r.actor, r.action, r.value))
        .collect();
    let expected = [
        ("alice", "override", Some("on")),
        ("alice", "kill", Some("off")),
        ("alice", "override", Some("compact")),
        ("bob", "kill", Some("classic")),
        ("bob", "kill", Some("off")),
        ("alice", "clear_override", None),
    ];
    let expected: Vec<(String, String, Option<String>)> = expected
        .iter()
        .map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), c.map(str::to_owned)))
        .collect();
    assert_eq!(actions, expected);
}

#[test]
fn rollout_pause_resume_rollback_through_the_controller() {
    let fx = start();
    let url = |verb: &str| fx.url(&format!("/api/rollouts/checkout_v2/{verb}"));
    let r = send(
        "POST",
        &url("pause"),
        Some(ALICE),
        Some(r#"{"reason":"incident 42"}"#),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let rollout = fx.flag("checkout_v2")["rollout"].clone();
    assert_eq!(rollout["status"], "paused");
    let last = rollout["transitions"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (last["actor"].as_str(), last["reason"].as_str()),
        (Some("alice"), Some("incident 42"))
    );

    // Pausing twice is a conflict and changes nothing.
    let before = fx.state();
    let r = send("POST", &url("pause"), Some(ALICE), None);
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.error().contains("cannot pause"), "{}", r.body);
    assert_eq!(fx.state(), before);

    assert_eq!(send("POST", &url("resume"), Some(BOB), None).status, 200);
    assert_eq!(fx.flag("checkout_v2")["rollout"]["status"], "running");
    assert_eq!(send("POST", &url("rollback"), Some(BOB), None).status, 200);
    let checkout = fx.flag("checkout_v2");
    assert_eq!(checkout["rollout"]["status"], "rolled_back");
    assert_eq!(checkout["rollout"]["percent"], 0);
    assert_eq!(
        checkout["rollout"]["transitions"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()["rollback"],
        true
    );

    let ours: Vec<(String, String)> = fx
        .audit_records()
        .into_iter()
        .map(|r| (r.actor, r.action))
        .collect();
    assert_eq!(
        ours,
        [("alice", "pause"), ("bob", "resume"), ("bob", "rollback")]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    // The controller's own log names the actors too.
    let theirs = std::fs::read_to_string(&fx.rollout_audit).unwrap();
    assert!(
        theirs.contains("\"actor\":\"alice\"") && theirs.contains("\"actor\":\"bob\""),
        "{theirs}"
    );

    let r = send(
        "POST",
        &fx.url("/api/rollouts/beta/pause"),
        Some(ALICE),
        None,
    );
    assert_eq!(r.status, 404, "{}", r.body);
}

#[test]
fn writes_need_a_valid_bearer_token() {
    let fx = start();
    let before = fx.state();
    let url = fx.url("/api/flags/beta/override");
    let body = Some(r#"{"value": true}"#);
    let r = send("POST", &url, None, body);
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(r.error().contains("Authorization"), "{}", r.body);
    let r = send("POST", &url, Some("not-a-token"), body);
    assert_eq!(r.status, 401);
    assert!(r.error().contains("not valid"));
    let r = send("POST", &url, Some(&ALICE[..ALICE.len() - 1]), body);
    assert_eq!(r.status, 401, "a prefix of a secret is not the secret");
    // Basic authentication is not bearer.
    let basic = {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        agent
            .post(&url)
            .header("Authorization", format!("Basic {ALICE}"))
            .send(r#"{"value": true}"#)
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(basic, 401);
    for path in ["/api/rollouts/checkout_v2/pause", "/api/flags/beta/kill"] {
        assert_eq!(
            send("POST", &fx.url(path), None, None).status,
            401,
            "{path}"
        );
    }
    assert_eq!(send("DELETE", &url, Some("nope"), None).status, 401);
    assert_eq!(fx.state(), before);
}

#[test]
fn without_a_token_or_an_audit_log_every_write_is_refused() {
    let registry = common::registry();
    let server = Admin::builder(registry)
        .bind("127.0.0.1:0")
        .start()
        .expect("server");
    let base = format!("http://{}", server.local_addr());
    let r = send(
        "POST",
        &format!("{base}/api/flags/beta/override"),
        Some(ALICE),
        Some(r#"{"value":true}"#),
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.error().contains("no token is configured"), "{}", r.body);
    assert_eq!(get(&format!("{base}/flags.json")).json()["writes"], false);

    let dir = flags_test_support::scratch::ScratchDir::new("no-audit");
    let _ = dir.path();
    let server = Admin::builder(registry)
        .token("alice", ALICE)
        .bind("127.0.0.1:0")
        .start()
        .expect("server");
    let base = format!("http://{}", server.local_addr());
    let r = send(
        "POST",
        &format!("{base}/api/flags/beta/kill"),
        Some(ALICE),
        None,
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.error().contains("no audit log"), "{}", r.body);
    assert_eq!(registry.generation(), 0, "nothing changed");
}

/// Sends `body` to `path` as alice and checks the status, that the error message
/// contains `says`, and that nothing changed.
fn refused(
    fx: &common::Fixture,
    method: &str,
    path: &str,
    body: Option<&str>,
    status: u16,
    says: &str,
) {
    let before = fx.state();
    let r = send(method, &fx.url(path), Some(ALICE), body);
    assert_eq!(r.status, status, "{method} {path} {body:?}: {}", r.body);
    let error = r.error();
    assert!(
        error.contains(says),
        "{method} {path}: `{error}` should say `{says}`"
    );
    assert_eq!(
        fx.state(),
        before,
        "{method} {path} {body:?} changed something"
    );
}

#[test]
fn bad_writes_are_refused_and_change_nothing() {
    let fx = start();
    let ovr = "/api/flags/beta/override";
    refused(&fx, "POST", ovr, Some(r#"{"value": tru"#), 400, "not valid");
    refused(&fx, "POST", ovr, Some("not json"), 400, "not valid");
    refused(&fx, "POST", ovr, Some(""), 400, "not valid");
    refused(
        &fx,
        "POST",
        ovr,
        Some(r#"{}"#),
        400,
        "missing field `value`",
    );
    refused(
        &fx,
        "POST",
        ovr,
        Some(r#"{"value": true, "colour": "red"}"#),
        400,
        "unknown field `colour`",
    );
    refused(&fx, "POST", ovr, Some(r#"[true]"#), 400, "not valid");
    refused(
        &fx,
        "POST",
        "/api/flags/beta/kill",
        Some(r#"{"why": "x"}"#),
        400,
        "unknown field `why`",
    );
    refused(
        &fx,
        "POST",
        "/api/rollouts/checkout_v2/pause",
        Some("{"),
        400,
        "not valid",
    );
    // Wrong value types and unknown variants.
    refused(
        &fx,
        "POST",
        ovr,
        Some(r#"{"value": "on"}"#),
        422,
        "must be true or false, not a string",
    );
    refused(
        &fx,
        "POST",
        ovr,
        Some(r#"{"value": 1}"#),
        422,
        "not a number",
    );
    refused(
        &fx,
        "POST",
        ovr,
        Some(r#"{"value": null}"#),
        422,
        "not null",
    );
    refused(
        &fx,
        "POST",
        "/api/flags/layout/override",
        Some(r#"{"value": true}"#),
        422,
        "classic, compact",
    );
    refused(
        &fx,
        "POST",
        "/api/flags/layout/override",
        Some(r#"{"value": "wide"}"#),
        422,
        "no variant `wide`",
    );
    // Unknown flags, static flags.
    refused(
        &fx,
        "POST",
        "/api/flags/nope/override",
        Some(r#"{"value": true}"#),
        404,
        "no flag `nope`",
    );
    refused(
        &fx,
        "POST",
        "/api/flags/nope/kill",
        None,
        404,
        "no flag `nope`",
    );
    refused(
        &fx,
        "DELETE",
        "/api/flags/nope/override",
        None,
        404,
        "no flag `nope`",
    );
    refused(
        &fx,
        "POST",
        "/api/flags/frozen/override",
        Some(r#"{"value": true}"#),
        409,
        "static",
    );
    refused(&fx, "POST", "/api/flags/frozen/kill", None, 409, "static");
    refused(
        &fx,
        "DELETE",
        "/api/flags/frozen/override",
        None,
        409,
        "static",
    );
    // Wrong methods and unknown paths.
    refused(
        &fx,
        "PUT",
        ovr,
        Some(r#"{"value": true}"#),
        405,
        "POST, DELETE",
    );
    refused(&fx, "GET", "/api/flags/beta/kill", None, 405, "POST");
    refused(&fx, "POST", "/flags.json", Some("{}"), 405, "GET");
    refused(&fx, "DELETE", "/", None, 405, "GET");
    refused(
        &fx,
        "POST",
        "/api/flags/beta/explode",
        None,
        404,
        "no such path",
    );
    refused(
        &fx,
        "POST",
        "/api/rollouts/checkout_v2/launch",
        None,
        404,
        "no such path",
    );
    refused(&fx, "GET", "/nope", None, 404, "no such path");
    refused(
        &fx,
        "POST",
        "/api/flags//override",
        Some(r#"{"value": true}"#),
        404,
        "no such path",
    );

    let r = send("PUT", &fx.url(ovr), Some(ALICE), Some("{}"));
    assert_eq!(r.allow.as_deref(), Some("POST, DELETE"));
    assert!(fx.audit_records().is_empty());
}

#[test]
fn bodies_over_the_limit_are_refused_with_413() {
    let fx = start_with(|b| b.body_limit(1024));
    let before = fx.state();
    let big = format!(r#"{{"value": true, "reason": "{}"}}"#, "x".repeat(2000));
    let r = send(
        "POST",
        &fx.url("/api/flags/beta/override"),
        Some(ALICE),
        Some(&big),
    );
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.error().contains("1024 bytes"), "{}", r.body);
    // A huge announced body is refused from its Content-Length, before it is sent.
    let head = format!(
        "POST /api/flags/beta/override HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {ALICE}\r\n\
         Content-Length: 10000000000\r\n\r\n"
    );
    let reply = raw(&fx.server.local_addr(), head.as_bytes());
    assert!(reply.starts_with("HTTP/1.1 413 "), "{reply}");
    // A chunked body is refused as soon as it passes the limit.
    let chunk = "x".repeat(800);
    let chunked = format!(
        "POST /api/flags/beta/kill HTTP/1.1\r\nAuthorization: Bearer {ALICE}\r\n\
         Transfer-Encoding: chunked\r\n\r\n320\r\n{chunk}\r\n320\r\n{chunk}\r\n0\r\n\r\n"
    );
    let reply = raw(&fx.server.local_addr(), chunked.as_bytes());
    assert!(reply.starts_with("HTTP/1.1 413 "), "{reply}");
    assert_eq!(fx.state(), before);
}

#[test]
fn the_mounted_handler_checks_the_body_limit_too() {
    let registry = common::registry();
    let admin = Admin::builder(registry)
        .token("alice", ALICE)
        .body_limit(16)
        .build()
        .expect("admin");
    let req = http::Request::post("/api/flags/beta/override")
        .header("Authorization", format!("Bearer {ALICE}"))
        .body(br#"{"value": true, "reason": "long enough"}"#.to_vec())
        .unwrap();
    let res = admin.handle(req);
    assert_eq!(res.status(), 413);
    assert_eq!(registry.generation(), 0);
}

/// Writes `request` on a fresh connection and reads the reply until the server closes.
fn raw(addr: &std::net::SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(wait::patience())).unwrap();
    stream.write_all(request).expect("write");
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply);
    String::from_utf8_lossy(&reply).into_owned()
}

#[test]
fn malformed_http_is_answered_not_served() {
    let fx = start();
    let addr = fx.server.local_addr();
    let reply = raw(&addr, b"NOT HTTP AT ALL\r\n\r\n");
    assert!(reply.starts_with("HTTP/1.1 400 "), "{reply}");
    let chunked = format!(
        "POST /api/flags/beta/kill HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {ALICE}\r\n\
         Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    );
    let reply = raw(&addr, chunked.as_bytes());
    assert!(
        reply.starts_with("HTTP/1.1 200 "),
        "a chunked (empty) body is read: {reply}"
    );
    let bad_chunk = format!(
        "POST /api/flags/beta/kill HTTP/1.1\r\nAuthorization: Bearer {ALICE}\r\n\
         Transfer-Encoding: chunked\r\n\r\nzz\r\n{{}}\r\n0\r\n\r\n"
    );
    let reply = raw(&addr, bad_chunk.as_bytes());
    assert!(reply.starts_with("HTTP/1.1 400 "), "{reply}");
    assert!(reply.contains("malformed chunked body"), "{reply}");
    let gzip = "POST /api/flags/beta/kill HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n";
    let reply = raw(&addr, gzip.as_bytes());
    assert!(reply.starts_with("HTTP/1.1 501 "), "{reply}");
    let headers: String = (0..100).map(|i| format!("X-H{i}: v\r\n")).collect();
    let reply = raw(&addr, format!("GET / HTTP/1.1\r\n{headers}\r\n").as_bytes());
    assert!(reply.starts_with("HTTP/1.1 431 "), "{reply}");
    // Only the well-formed chunked kill went through.
    let records = fx.audit_records();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].action, "kill");
}

#[test]
fn on_loopback_only_requests_for_an_ip_or_localhost_are_answered() {
    let fx = start();
    let addr = fx.server.local_addr();
    let port = addr.port();
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        "localhost".to_owned(),
        "[::1]:1".to_owned(),
    ] {
        let reply = raw(
            &addr,
            format!("GET /flags.json HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes(),
        );
        assert!(reply.starts_with("HTTP/1.1 200 "), "{host}: {reply}");
    }
    let reply = raw(
        &addr,
        format!("GET /flags.json HTTP/1.1\r\nHost: evil.example:{port}\r\n\r\n").as_bytes(),
    );
    assert!(reply.starts_with("HTTP/1.1 403 "), "{reply}");
    assert!(reply.contains("Host header"), "{reply}");

    // A name the operator allows is answered; others still are not.
    let fx = start_with(|b| b.allow_host("admin.internal"));
    let addr = fx.server.local_addr();
    let reply = raw(
        &addr,
        format!("GET /flags.json HTTP/1.1\r\nHost: ADMIN.internal:{port}\r\n\r\n").as_bytes(),
    );
    assert!(reply.starts_with("HTTP/1.1 200 "), "{reply}");
    let reply = raw(
        &addr,
        b"GET /flags.json HTTP/1.1\r\nHost: evil.example\r\n\r\n",
    );
    assert!(reply.starts_with("HTTP/1.1 403 "), "{reply}");
}

#[test]
fn connections_beyond_the_maximum_are_answered_503() {
    let fx = start_with(|b| b.max_connections(1));
    let addr = fx.server.local_addr();
    // The first connection holds the one slot (it sends nothing; its thread waits
    // for the request until the timeout); the accept loop counts it before it
    // accepts the next one.
    let _held = TcpStream::connect(addr).expect("connect");
    let reply = raw(
        &addr,
        b"GET /flags.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    );
    assert!(reply.starts_with("HTTP/1.1 503 "), "{reply}");
}

#[test]
fn a_request_that_never_completes_times_out_with_408() {
    let fx = start_with(|b| b.timeout(Duration::from_millis(300)));
    // Half a request head, then silence: the server answers 408 and closes.
    let reply = raw(
        &fx.server.local_addr(),
        b"GET /flags.json HTTP/1.1\r\nHost: 127.0.0.1\r\n",
    );
    assert!(reply.starts_with("HTTP/1.1 408 "), "{reply}");
    // A body that never arrives.
    let head = format!(
        "POST /api/flags/beta/kill HTTP/1.1\r\nAuthorization: Bearer {ALICE}\r\nContent-Length: 10\r\n\r\n{{"
    );
    let reply = raw(&fx.server.local_addr(), head.as_bytes());
    assert!(reply.starts_with("HTTP/1.1 408 "), "{reply}");
    assert_eq!(fx.flag("beta")["value"], "off");
    assert!(fx.audit_records().is_empty());
}

#[test]
fn the_server_binds_loopback_by_default_and_stops() {
    let registry = common::registry();
    assert_eq!(flags_admin::DEFAULT_BIND, "127.0.0.1:9440");
    let err = Admin::builder(registry)
        .bind("localhost")
        .start()
        .unwrap_err();
    assert!(
        err.to_string().contains("not an IP address and port"),
        "{err}"
    );
    let err = Admin::builder(registry)
        .token("a", "same")
        .token("b", "same")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("same secret"), "{err}");
    assert!(Admin::builder(registry).token(" ", "s").build().is_err());
    assert!(Admin::builder(registry).token("a", "").build().is_err());

    let server = Admin::builder(registry)
        .bind("127.0.0.1:0")
        .start()
        .expect("server");
    let addr = server.local_addr();
    assert!(addr.ip().is_loopback());
    assert_eq!(get(&format!("http://{addr}/flags.json")).status, 200);
    server.stop();
    assert!(
        TcpStream::connect_timeout(&addr, Duration::from_secs(5)).is_err(),
        "nothing listens after stop"
    );
}
