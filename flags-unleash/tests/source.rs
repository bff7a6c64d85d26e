//! The live source against a scripted Unleash server on loopback: ETags and headers,
//! chunked bodies, refused payloads, the backup file, backoff, hot flips through the
//! watch thread, registration and metrics, variant payloads.

mod common;

use std::time::Duration;

use common::{Held, Mock, dead_url, temp_dir};
use flags_runtime::{Context, Layer, Reason, Registry};
use flags_test_support::wait::wait_until;
use flags_unleash::{Kept, Origin, UnleashConfig, UnleashSource};

const ON: &str = r#"{"version":2,"features":[
  {"name":"new_search","enabled":true,"strategies":[{"name":"default"}]},
  {"name":"checkout_layout","enabled":true,
   "strategies":[{"name":"flexibleRollout","parameters":{"rollout":"100","stickiness":"default","groupId":"checkout_layout"}}],
   "variants":[{"name":"compact","weight":1000,"stickiness":"default","payload":{"type":"json","value":"{\"cols\":1}"}}]},
  {"name":"frozen","enabled":true},
  {"name":"only_on_server","enabled":true}]}"#;

const OFF: &str = r#"{"version":2,"features":[
  {"name":"new_search","enabled":false,"strategies":[{"name":"default"}]}]}"#;

fn config(url: &str) -> UnleashConfig {
    UnleashConfig::new(url, "flags-tests")
        .instance_id("instance-1")
        .token("default:development.secret")
        .metrics_interval(None)
        .timeout(flags_test_support::wait::patience())
        .start_timeout(flags_test_support::wait::patience())
        .no_backup_file()
}

fn source(config: UnleashConfig) -> UnleashSource {
    UnleashSource::new(config).unwrap_or_else(|e| panic!("{e}"))
}

/// The error with its causes, as a log line shows it.
fn apply(registry: &Registry, source: &mut UnleashSource) -> Result<bool, String> {
    registry.apply(source).map_err(|e| {
        let mut text = e.to_string();
        let mut cause = std::error::Error::source(&e);
        while let Some(c) = cause {
            text = format!("{text}: {c}");
            cause = c.source();
        }
        text
    })
}

mod etag_flags {
    flags_runtime::flags!(pub mod flags = "tests/flags.toml");
}

#[test]
fn polls_with_etag_headers_and_binding() {
    use etag_flags::flags;
    let mock = Mock::start(ON, "\"v1\"");
    let mut src = source(config(&mock.url));
    let status = src.status();
    let errors = flags::REGISTRY.error_count();
    assert_eq!(apply(&flags::REGISTRY, &mut src), Ok(true));
    assert!(flags::new_search());
    assert_eq!(flags::checkout_layout(), flags::CheckoutLayout::Compact);
    assert!(
        flags::dark_mode(),
        "not on the server: the manifest default"
    );
    let detail = flags::NEW_SEARCH.explain(&Context::new());
    assert_eq!(
        (detail.layer, detail.reason),
        (Layer::Remote, Reason::Strategy { index: 0 })
    );
    // The static flag's toggle is a warning (counted), not an error of the update.
    assert_eq!(flags::REGISTRY.error_count(), errors + 1);

    assert_eq!(
        apply(&flags::REGISTRY, &mut src),
        Ok(false),
        "304: nothing new"
    );
    let gets = mock.requests_to("/api/client/features");
    assert_eq!(gets.len(), 2);
    for g in &gets {
        assert_eq!(
            g.header("authorization"),
            Some("default:development.secret")
        );
        assert_eq!(g.header("unleash-appname"), Some("flags-tests"));
        assert_eq!(g.header("unleash-instanceid"), Some("instance-1"));
        assert_eq!(g.header("unleash-client-spec"), Some("6.1.0"));
        assert!(
            g.header("unleash-sdk")
                .is_some_and(|v| v.starts_with("flags-unleash:"))
        );
    }
    assert_eq!(gets[0].header("if-none-match"), None);
    assert_eq!(gets[1].header("if-none-match"), Some("\"v1\""));

    let s = status.get();
    assert_eq!(s.origin, Some(Origin::Server));
    assert_eq!(s.etag.as_deref(), Some("\"v1\""));
    assert_eq!(s.toggles, 4);
    assert_eq!(s.binding.missing_on_server, ["dark_mode"]);
    assert_eq!(s.binding.unknown_to_manifest, ["only_on_server"]);
    assert_eq!(s.binding.bound, [0, 1]);
    assert_eq!((s.requests, s.updates), (2, 1));

    mock.set(OFF, "\"v2\"");
    assert_eq!(apply(&flags::REGISTRY, &mut src), Ok(true));
    assert!(!flags::new_search());
    assert_eq!(
        flags::NEW_SEARCH.explain(&Context::new()).reason,
        Reason::KillSwitch
    );
    assert_eq!(
        flags::checkout_layout(),
        flags::CheckoutLayout::Classic,
        "gone from the server: back to the manifest default"
    );
}

mod chunked_flags {
    flags_runtime::flags!(pub mod flags = "tests/flags.toml");
}

#[test]
fn chunked_bodies_are_decoded() {
    use chunked_flags::flags;
    let mock = Mock::start(ON, "\"c1\"");
    mock.chunked(true);
    let mut src = source(config(&mock.url));
    assert_eq!(apply(&flags::REGISTRY, &mut src), Ok(true));
    assert!(flags::new_search());
    assert_eq!(flags::checkout_layout(), flags::CheckoutLayout::Compact);
}

mod refused_flags {
    flags_runtime::flags!(pub mod flags = "tests/flags.toml");
}

#[test]
fn a_bad_payload_is_refused_whole_and_reported_once() {
    use refused_flags::flags;
    let mock = Mock::start(ON, "\"good\"");
    let mut src = source(config(&mock.url));
    assert_eq!(apply(&flags::REGISTRY, &mut src), Ok(true));
    let generation = flags::REGISTRY.generation();
    let errors = flags::REGISTRY.error_count();

    // Its first toggle alone would turn new_search off; the second has no name.
    mock.set(
        r#"{"features":[{"name":"new_search","enabled":false},{"enabled":true}]}"#,
        "\"bad\"",
    );
    let err = apply(&flags::REGISTRY, &mut src).err().unwrap_or_default();
    assert!(
        err.contains("features[1]: a toggle without a name"),
        "{err}"
    );
    assert!(err.contains("the last good state stays"), "{err}");
    assert!(flags::new_search(), "the last good state stays");
    assert_eq!(flags::REGISTRY.generation(), generation);
    assert_eq!(flags::REGISTRY.error_count(), errors + 1);
    assert!(src.status().get().last_error.is_some());

    // The same bad content (same ETag) is neither fetched again nor reported again.
    assert_eq!(apply(&flags::REGISTRY, &mut src), Ok(false));
    assert_eq!(flags::REGISTRY.error_count(), errors + 1);

    mock.set_bytes(b"\xff\x00{\"features\":", "\"worse\"");
    let err = apply(&flags::REGISTRY, &mut src).err().unwrap_or_default();
    assert!(err.contains("invalid JSON"), "{err}");
    assert!(flags::new_search());
    assert_eq!(flags::REGISTRY.generation(), generation);

    mock.set(OFF, "\"fixed\"");
    assert_eq!(apply(&flags::REGISTRY, &mut src), Ok(true));
    assert!(!flags::new_search());
    assert_eq!(src.status().get().last_error, None);
}

mod null_features_flags {
    flags_runtime::flags!(pub mod flags = "tests/flags.toml");
}

#[test]
fn features_null_and_other_shapes_are_refused_and_the_last_good_state_stays() {
    use null_features_flags::flags;
    let mock = Mock::start(OFF, "\"good\"");
    let mut src = source(config(&mock.url));
    assert_eq!(apply(&flags::REGISTRY, &mut src), Ok(true));
    assert!(!flags::new_search(), "the server's kill switch");
    let generation = flags::REGISTRY.generation();
    let errors = flags::REGISTRY.error_count();

    // Read as "no toggles", this body would bring the disabled toggle back on (its
    // manifest default is off, but dark_mode's is on: every flag would revert).
    for (i, body) in [
        r#"{"version":2,"features":null}"#,
        r#"{"version":2}"#,
        r#"{"version":2,"features":{}}"#,
        r#"{"version":2,"features":[null]}"#,
        r#"{"version":2,"features":[],"segments":{}}"#,
    ]
    .into_iter()
    .enumerate()
    {
        mock.set(body, &format!("\"bad{i}\""));
        let err = apply(&flags::REGISTRY, &mut src).err().unwrap_or_default();
        assert!(err.contains("refused payload"), "{body}: {err}");
        assert!(err.contains("the last good state stays"), "{body}: {err}");
        assert!(!flags::new_search(), "{body}: the last good state stays");
        assert_eq!(flags::REGISTRY.generation(), generation, "{body}");
        // The same refused body is not reported again.
        assert_eq!(apply(&flags::REGISTRY, &mut src), Ok(false), "{body}");
    }
    assert_eq!(flags::REGISTRY.error_count(), errors + 5, "once per body");
    assert_eq!(src.status().get().origin, Some(Origin::Server));
}

mod unknown_variant_flags {
    flags_runtime::flags!(pub mod flags = "tests/flags.toml");
}

#[test]
fn a_toggle_that_never_fit_its_flag_leaves_it_to_lower_layers() {
    use unknown_variant_flags::flags;
    let mock = Mock::start(
        r#"{"features":[
          {"name":"new_search","enabled":true},
          {"name":"checkout_layout","enabled":true,"variants":[{"name":"huge","weight":1}]}]}"#,
        "\"u\"",
    );
    let mut src = source(config(&mock.url));
    let errors = flags::REGISTRY.error_count();
    assert_eq!(apply(&flags::REGISTRY, &mut src), Ok(true));
    assert!(flags::new_search(), "the rest of the payload applies");
    assert_eq!(flags::checkout_layout(), flags::CheckoutLayout::Classic);
    assert_eq!(
        flags::CHECKOUT_LAYOUT.explain(&Context::new()).layer,
        Layer::Manifest
    );
    assert_eq!(flags::REGISTRY.error_count(), errors + 1, "one warning");
    let s = src.status().get();
    assert_eq!(s.binding.bound, [0]);
    let [u] = &s.binding.unbindable[..] else {
        panic!("{:?}", s.binding)
    };
    assert_eq!((u.flag, u.kept), ("checkout_layout", Kept::LowerLayers));
    assert_eq!(s.unbindable_reports, 1);
}

mod added_variant_flags {
    flags_runtime::flags!(pub mod flags = "tests/flags.toml");
}

const LAYOUT_COMPACT: &str = r#"{"features":[
  {"name":"new_search","enabled":true},
  {"name":"checkout_layout","enabled":true,
   "variants":[{"name":"compact","weight":500},{"name":"wide","weight":500}]}]}"#;

#[test]
fn a_variant_added_in_unleash_keeps_the_last_good_definition_and_is_reported_once() {
    use added_variant_flags::flags;
    let mock = Mock::start(LAYOUT_COMPACT, "\"v1\"");
    let mut src = source(config(&mock.url));
    assert_eq!(apply(&flags::REGISTRY, &mut src), Ok(true));
    let users: Vec<Context> = (0..200)
        .map(|i| Context::with_key(format!("user-{i}").as_str()))
        .collect();
    let before: Vec<_> = users
        .iter()
        .map(|u| flags::CHECKOUT_LAYOUT.get_for(u))
        .collect();
    assert!(before.contains(&flags::CheckoutLayout::Compact));
    assert!(before.contains(&flags::CheckoutLayout::Wide));
    let errors = flags::REGISTRY.error_count();

    // The operator adds `purple`, which the manifest does not list.
    let purple = LAYOUT_COMPACT.replace(
        r#"{"name":"wide","weight":500}"#,
        r#"{"name":"wide","weight":400},{"name":"purple","weight":100}"#,
    );
    mock.set(&purple, "\"v2\"");
    assert_eq!(apply(&flags::REGISTRY, &mut src), Ok(true));
    let after: Vec<_> = users
        .iter()
        .map(|u| flags::CHECKOUT_LAYOUT.get_for(u))
        .collect();
    assert_eq!(
        after, before,
        "the experiment goes on with its last good split"
    );
    assert_eq!(
        flags::CHECKOUT_LAYOUT.explain(&users[0]).layer,
        Layer::Remote
    );
    assert_eq!(flags::REGISTRY.error_count(), errors + 1, "reported once");
    let s = src.status().get();
    let [u] = &s.binding.unbindable[..] else {
        panic!("{:?}", s.binding)
    };
    assert_eq!((u.flag, u.kept), ("checkout_layout", Kept::LastGood));
    assert!(
        u.problem.contains("toggle `checkout_layout`")
            && u.problem.contains("variant `purple`")
            && u.problem.contains("classic, compact, wide"),
        "{}",
        u.problem
    );
    assert!(s.binding.bound.contains(&0) && !s.binding.bound.contains(&1));
    assert_eq!(s.unbindable_reports, 1);

    // Another toggle changes; the same problem stays: applied, not reported again.
    mock.set(
        &purple.replace(
            r#"{"name":"new_search","enabled":true}"#,
            r#"{"name":"new_search","enabled":false}"#,
        ),
        "\"v3\"",
    );
    assert_eq!(apply(&flags::REGISTRY, &mut src), Ok(true));
    assert!(!flags::new_search());
    let still: Vec<_> = users
        .iter()
        .map(|u| flags::CHECKOUT_LAYOUT.get_for(u))
        .collect();
    assert_eq!(still, before);
    assert_eq!(flags::REGISTRY.error_count(), errors + 1, "not every poll");
    assert_eq!(src.status().get().unbindable_reports, 1);

    // Declared in Unleash as the manifest has it again: the server decides anew.
    mock.set(
        &LAYOUT_COMPACT.replace(
            r#""weight":500},{"name":"wide""#,
            r#""weight":0},{"name":"wide""#,
        ),
        "\"v4\"",
    );
    assert_eq!(apply(&flags::REGISTRY, &mut src), Ok(true));
    assert!(
        users
            .iter()
            .all(|u| flags::CHECKOUT_LAYOUT.get_for(u) == flags::CheckoutLayout::Wide)
    );
    assert!(src.status().get().binding.unbindable.is_empty());
}

mod backup_flags {
    flags_runtime::flags!(pub mod flags = "tests/flags.toml");
}
mod backup_restart_flags {
    flags_runtime::flags!(pub mod flags = "tests/flags.toml");
}

#[test]
fn the_backup_is_written_and_served_while_the_server_is_down_at_start() {
    let dir = temp_dir("backup");
    let path = dir.join("state").join("unleash.json");
    let mock = Mock::start(ON, "\"b1\"");
    let mut src = source(config(&mock.url).backup_file(&path));
    assert_eq!(apply(&backup_flags::flags::REGISTRY, &mut src), Ok(true));
    assert_eq!(std::fs::read(&path).unwrap_or_default(), ON.as_bytes());

    // A new process, the server failing: the backup serves, then the server again.
    use backup_restart_flags::flags;
    mock.fail_with(Some(503));
    mock.set(OFF, "\"b2\"");
    let mut src = source(
        config(&mock.url)
            .backup_file(&path)
            .interval(Duration::from_millis(20))
            .max_backoff(Duration::from_millis(40)),
    );
    let status = src.status();
    let errors = flags::REGISTRY.error_count();
    assert_eq!(apply(&flags::REGISTRY, &mut src), Ok(true));
    assert!(flags::new_search(), "served from the backup");
    let s = status.get();
    assert_eq!(s.origin, Some(Origin::Backup(path.clone())));
    assert_eq!(s.consecutive_failures, 1);
    assert!(
        s.last_error
            .as_deref()
            .unwrap_or_default()
            .contains("HTTP 503"),
        "{s:?}"
    );
    assert!(
        flags::REGISTRY.error_count() > errors,
        "serving the backup is reported"
    );

    mock.fail_with(None);
    wait_until("the server's state", || {
        let _ = flags::REGISTRY.apply(&mut src);
        !flags::new_search()
    });
    assert_eq!(status.get().origin, Some(Origin::Server));
    assert_eq!(std::fs::read(&path).unwrap_or_default(), OFF.as_bytes());
}

mod down_flags {
    flags_runtime::flags!(pub mod flags = "tests/flags.toml");
}

#[test]
fn server_down_without_backup_keeps_manifest_defaults_and_backs_off() {
    use down_flags::flags;
    let mut src = source(config(&dead_url()).interval(Duration::from_secs(60)));
    let status = src.status();
    let errors = flags::REGISTRY.error_count();
    let capture = Capture::default();
    tracing::subscriber::with_default(capture.clone(), || {
        tracing::callsite::rebuild_interest_cache();
        assert_eq!(apply(&flags::REGISTRY, &mut src), Ok(false));
    });
    assert!(
        !flags::new_search() && flags::dark_mode(),
        "manifest defaults"
    );
    // No "update rejected, last good state kept": there is no such state. The source
    // says what holds instead.
    let events = capture.take_all();
    assert!(
        events
            .iter()
            .all(|(_, _, t)| !t.contains("last good state")),
        "{events:?}"
    );
    let [(_, level, text)] = &events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(*level, tracing::Level::WARN);
    assert!(
        text.contains("nothing loaded from the server yet")
            && text.contains("manifest defaults")
            && text.contains("next attempt in"),
        "{text}"
    );
    assert_eq!(flags::REGISTRY.error_count(), errors);
    assert!(status.get().last_error.is_some());
    // Backing off: the next polls send nothing.
    for _ in 0..5 {
        assert_eq!(apply(&flags::REGISTRY, &mut src), Ok(false));
    }
    assert_eq!(status.get().requests, 1);
    assert_eq!(status.get().origin, None);
}

mod backoff_flags {
    flags_runtime::flags!(pub mod flags = "tests/flags.toml");
}

#[test]
fn failures_back_off_exponentially_and_are_reported_once() {
    use backoff_flags::flags;
    let mock = Mock::start(ON, "\"x\"");
    let mut src = source(
        config(&mock.url)
            .interval(Duration::from_millis(10))
            .max_backoff(Duration::from_millis(80)),
    );
    let status = src.status();
    assert_eq!(apply(&flags::REGISTRY, &mut src), Ok(true));
    mock.set(OFF, "\"y\"");
    mock.fail_with(Some(500));
    let loaded = mock.requests_to("/api/client/features").len();
    let errors = flags::REGISTRY.error_count();
    // Polls as a watch thread would, until the source has asked REQUESTS times: each
    // poll sends at most one request, so the loop ends at exactly REQUESTS.
    const REQUESTS: usize = 6;
    let mut polls = 0;
    wait_until("six failed requests", || {
        let _ = flags::REGISTRY.apply(&mut src);
        polls += 1;
        mock.requests_to("/api/client/features").len() >= loaded + REQUESTS
    });
    let requests = mock.requests_to("/api/client/features")[loaded..].to_vec();
    assert_eq!(requests.len(), REQUESTS, "{polls} polls");
    // After the k-th failure the source waits interval × 2^(k-1), capped, with equal
    // jitter: at least half of that. Each request starts after the previous one's
    // failure plus that wait, so the gaps bound the waits from below whatever the
    // machine's load (10, 20, 40, 80, 80 ms full: 5, 10, 20, 40, 40 ms at least).
    let gaps: Vec<Duration> = requests.windows(2).map(|w| w[1].at - w[0].at).collect();
    eprintln!("{polls} polls; gaps between requests: {gaps:?}");
    for (k, gap) in gaps.iter().enumerate() {
        let full = (Duration::from_millis(10) * (1 << k)).min(Duration::from_millis(80));
        assert!(*gap >= full / 2, "wait {k}: {gap:?} < half of {full:?}");
    }
    assert_eq!(
        flags::REGISTRY.error_count(),
        errors + 1,
        "the same failure is reported once, after {polls} polls"
    );
    assert_eq!(status.get().consecutive_failures as usize, REQUESTS);
    mock.fail_with(None);
    let capture = Capture::default();
    tracing::subscriber::with_default(capture.clone(), || {
        tracing::callsite::rebuild_interest_cache();
        wait_until("recovery", || flags::REGISTRY.apply(&mut src) == Ok(true));
    });
    assert!(!flags::new_search());
    let recovered: Vec<_> = capture
        .take()
        .into_iter()
        .filter(|(_, t)| t.contains("reachable again"))
        .collect();
    let [(level, text)] = &recovered[..] else {
        panic!("one recovery line: {recovered:?}")
    };
    assert_eq!(*level, tracing::Level::INFO);
    assert!(
        text.contains("server reachable again after") && text.contains("(6 failed attempts)"),
        "{text}"
    );
    assert_eq!(status.get().consecutive_failures, 0);
}

mod watch_flags {
    flags_runtime::flags!(pub mod flags = "tests/flags.toml");
}

#[test]
fn the_watch_thread_flips_accessors() {
    use watch_flags::flags;
    let interval = Duration::from_millis(100);
    let mock = Mock::start(ON, "\"w1\"");
    let watch = flags::REGISTRY.watch(source(config(&mock.url)), interval);
    assert!(
        flags::new_search(),
        "the first poll happens before watch returns"
    );
    mock.set(OFF, "\"w2\"");
    let took = wait_until("the flip", || !flags::new_search());
    eprintln!("flipped {took:?} after the change (poll interval {interval:?})");
    // `stop` joins the polling thread: once it returns nothing asks the server again,
    // so the last state stays and no request follows.
    watch.stop();
    let asked = mock.requests_to("/api/client/features").len();
    mock.set(ON, "\"w3\"");
    assert!(!flags::new_search(), "stopped: the last state stays");
    assert_eq!(mock.requests_to("/api/client/features").len(), asked);
}

mod hanging_flags {
    flags_runtime::flags!(pub mod flags = "tests/flags.toml");
}

/// Runs `f` on a thread and waits for it to return (with the shared generous
/// deadline, which only a hang reaches).
fn returns<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    let mut out = None;
    let took = wait_until(what, || {
        out = out.take().or_else(|| rx.try_recv().ok());
        out.is_some()
    });
    eprintln!("{what}: after {took:?}");
    out.unwrap_or_else(|| panic!("{what}"))
}

#[test]
fn start_and_stop_are_bounded_when_the_server_never_answers() {
    use hanging_flags::flags;
    let dir = temp_dir("hanging");
    let backup = dir.join("backup.json");
    std::fs::write(&backup, OFF).unwrap_or_else(|e| panic!("{e}"));
    // Accepts every connection and answers none until released.
    let held = Held::start(ON);
    let config = config(&held.url)
        .timeout(Duration::from_secs(3600))
        .interval(Duration::from_millis(100))
        .start_timeout(Duration::from_millis(200))
        .backup_file(&backup)
        .metrics_interval(Some(Duration::from_secs(3600)));
    let unleash = returns("start() against a server that never answers", move || {
        flags_unleash::start(&flags::REGISTRY, config).unwrap_or_else(|e| panic!("{e}"))
    });
    let status = unleash.status();
    assert_eq!(
        status.origin,
        Some(Origin::Backup(backup.clone())),
        "{status:?}"
    );
    assert!(!flags::new_search(), "the backup's state");
    assert!(
        flags::dark_mode(),
        "not in the backup: the manifest default"
    );

    // The first fetch goes on in the background and applies when it answers (the
    // registration's request may come first: both are let through).
    held.release();
    held.release();
    wait_until("the first fetch's answer", flags::new_search);
    assert_eq!(unleash.status().origin, Some(Origin::Server));

    // The next request hangs; stop() does not wait for it.
    wait_until("the next poll's request", || unleash.status().requests >= 2);
    returns("stop() while a request hangs", move || unleash.stop());
    assert!(flags::new_search(), "stopped: the last state stays");
}

mod metrics_flags {
    flags_runtime::flags!(pub mod flags = "tests/flags.toml");
}

#[test]
fn registers_and_sends_usage_metrics() {
    use metrics_flags::flags;
    let mock = Mock::start(ON, "\"m1\"");
    let unleash = flags_unleash::start(
        &flags::REGISTRY,
        config(&mock.url)
            .environment("test")
            .metrics_interval(Some(Duration::from_millis(100))),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(unleash.is_polling());
    assert!(flags::REGISTRY.is_counting());
    mock.wait_for("registration", |r| {
        r.iter().any(|r| r.path == "/api/client/register")
    });
    let register = &mock.requests_to("/api/client/register")[0];
    let body = register.json();
    assert_eq!(body["appName"], "flags-tests");
    assert_eq!(body["instanceId"], "instance-1");
    assert_eq!(body["interval"], 100);
    assert!(
        body["sdkVersion"]
            .as_str()
            .is_some_and(|v| v.starts_with("flags-unleash:"))
    );
    assert!(
        body["strategies"]
            .as_array()
            .is_some_and(|s| s.iter().any(|x| x == "flexibleRollout"))
    );
    assert_eq!(
        register.header("authorization"),
        Some("default:development.secret")
    );

    for _ in 0..7 {
        assert!(flags::new_search());
    }
    for _ in 0..3 {
        assert_eq!(flags::checkout_layout(), flags::CheckoutLayout::Compact);
    }
    for _ in 0..5 {
        assert!(flags::dark_mode());
    }
    mock.wait_for("metrics of every evaluation", |r| {
        common::metrics_sum(r, "new_search", "yes") == 7
            && common::metrics_sum(r, "checkout_layout", "yes") == 3
    });
    unleash.stop();
    assert!(!flags::REGISTRY.is_counting(), "counting restored");
    let posts = mock.requests_to("/api/client/metrics");
    let all = mock.requests();
    assert_eq!(common::metrics_sum(&all, "new_search", "no"), 0);
    assert_eq!(common::metrics_sum(&all, "checkout_layout", "no"), 0);
    let variants: u64 = posts
        .iter()
        .filter_map(|r| {
            r.json()["bucket"]["toggles"]["checkout_layout"]["variants"]["compact"].as_u64()
        })
        .sum();
    assert_eq!(variants, 3);
    for p in &posts {
        let body = p.json();
        assert_eq!(body["appName"], "flags-tests");
        assert_eq!(body["environment"], "test");
        let toggles = body["bucket"]["toggles"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        assert!(!toggles.is_empty(), "empty buckets are not sent");
        assert!(!toggles.contains_key("dark_mode"), "not a server toggle");
        for key in ["start", "stop"] {
            let t = body["bucket"][key].as_str().unwrap_or_default();
            assert!(t.len() == 24 && t.ends_with('Z'), "{key}: {t}");
        }
    }
}

mod payload_flags {
    flags_runtime::flags!(pub mod flags = "tests/flags.toml");
}

#[test]
fn variant_payloads_come_with_the_value() {
    use payload_flags::flags;
    let mock = Mock::start(ON, "\"p1\"");
    let unleash =
        flags_unleash::start(&flags::REGISTRY, config(&mock.url)).unwrap_or_else(|e| panic!("{e}"));
    let ctx = Context::with_key("user-1");
    let v = unleash.variant(flags::CHECKOUT_LAYOUT, &ctx);
    assert_eq!(v.detail.value, flags::CheckoutLayout::Compact);
    assert_eq!((v.detail.label, v.detail.layer), ("compact", Layer::Remote));
    let payload = v.payload.unwrap_or_default();
    assert_eq!(
        (payload.kind.as_str(), payload.value.as_str()),
        ("json", r#"{"cols":1}"#)
    );
    let b = unleash.variant(flags::NEW_SEARCH, &ctx);
    assert!(b.detail.value && b.payload.is_none());
    let d = unleash.variant(flags::DARK_MODE, &ctx);
    assert_eq!((d.detail.layer, d.payload), (Layer::Manifest, None));
}

mod counted_flags {
    flags_runtime::flags!(pub mod flags = "tests/flags.toml");
}

#[test]
fn variant_and_explain_reads_count_in_usage_metrics() {
    use counted_flags::flags;
    let mock = Mock::start(ON, "\"c1\"");
    let unleash = flags_unleash::start(
        &flags::REGISTRY,
        config(&mock.url).metrics_interval(Some(Duration::from_millis(100))),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let ctx = Context::with_key("user-1");
    for _ in 0..4 {
        assert_eq!(
            unleash.variant(flags::CHECKOUT_LAYOUT, &ctx).detail.value,
            flags::CheckoutLayout::Compact
        );
    }
    for _ in 0..2 {
        assert!(flags::NEW_SEARCH.explain(&ctx).value);
    }
    assert!(unleash.is_enabled(flags::NEW_SEARCH, &ctx));
    mock.wait_for("the variant() and explain() reads in metrics", |r| {
        common::metrics_sum(r, "checkout_layout", "yes") == 4
            && common::metrics_sum(r, "new_search", "yes") == 3
    });
    unleash.stop();
}

/// Captures `tracing` events of this crate's target on the current thread.
#[derive(Clone, Default)]
struct Capture(std::sync::Arc<std::sync::Mutex<Vec<(String, tracing::Level, String)>>>);

impl Capture {
    /// This crate's own events (not impressions), level and text.
    fn take(&self) -> Vec<(tracing::Level, String)> {
        self.take_all()
            .into_iter()
            .filter(|(target, _, _)| target == flags_unleash::TRACING_TARGET)
            .map(|(_, level, text)| (level, text))
            .collect()
    }

    /// Every event of the runtime's and this crate's targets: target, level and text.
    fn take_all(&self) -> Vec<(String, tracing::Level, String)> {
        std::mem::take(
            &mut *self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        struct Text(String);
        impl tracing::field::Visit for Text {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                self.0.push_str(&format!("{}={value:?} ", field.name()));
            }
        }
        // The runtime's own target (`flags`) too: a test can tell that it said nothing.
        let target = event.metadata().target();
        if target == "flags" || target.starts_with("flags::") {
            let mut text = Text(String::new());
            event.record(&mut text);
            self.0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push((target.to_owned(), *event.metadata().level(), text.0));
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

mod impression_flags {
    flags_runtime::flags!(pub mod flags = "tests/flags.toml");
}

#[test]
fn toggles_with_impression_data_emit_impression_events() {
    use impression_flags::flags;
    let body = ON.replacen(
        r#""enabled":true,"strategies":[{"name":"default"}]"#,
        r#""enabled":true,"impressionData":true,"strategies":[{"name":"default"}]"#,
        1,
    );
    assert_ne!(body, ON);
    let mock = Mock::start(&body, "\"i1\"");
    let unleash =
        flags_unleash::start(&flags::REGISTRY, config(&mock.url)).unwrap_or_else(|e| panic!("{e}"));
    let capture = Capture::default();
    let ctx = Context::with_key("user-7").attr("sessionId", "s-1");
    tracing::subscriber::with_default(capture.clone(), || {
        tracing::callsite::rebuild_interest_cache();
        assert!(unleash.is_enabled(flags::NEW_SEARCH, &ctx));
        let _ = unleash.variant(flags::NEW_SEARCH, &ctx);
        // No impressionData on this toggle: no event.
        let _ = unleash.variant(flags::CHECKOUT_LAYOUT, &ctx);
    });
    let events: Vec<String> = capture
        .take_all()
        .into_iter()
        .filter(|(target, _, _)| target == flags_unleash::IMPRESSION_TARGET)
        .map(|(_, _, text)| text)
        .collect();
    assert_eq!(events.len(), 2, "{events:?}");
    for (event, kind) in events.iter().zip(["isEnabled", "getVariant"]) {
        for field in [
            "feature=\"new_search\"",
            &format!("event_type=\"{kind}\""),
            "enabled=true",
            "user_id=\"user-7\"",
            "session_id=\"s-1\"",
        ] {
            assert!(event.contains(field), "{field} in {event}");
        }
    }
    unleash.stop();
}

mod tracing_flags {
    flags_runtime::flags!(pub mod flags = "tests/flags.toml");
}

#[test]
fn the_binding_is_reported_at_start_and_when_it_changes() {
    use tracing_flags::flags;
    let capture = Capture::default();
    let mock = Mock::start(ON, "\"t1\"");
    let mut src = source(config(&mock.url));
    tracing::subscriber::with_default(capture.clone(), || {
        // Another test thread may have hit the same callsites, without a subscriber, while
        // this one was being installed, and cached "never" for them: recompute.
        tracing::callsite::rebuild_interest_cache();
        assert_eq!(apply(&flags::REGISTRY, &mut src), Ok(true));
        let events = capture.take();
        let warns: Vec<&String> = events
            .iter()
            .filter(|(l, _)| *l == tracing::Level::WARN)
            .map(|(_, t)| t)
            .collect();
        assert_eq!(warns.len(), 2, "{events:?}");
        assert!(
            warns[0].contains("1 manifest flag the Unleash server has no toggle for: dark_mode:"),
            "{}",
            warns[0]
        );
        assert!(
            warns[1].contains("1 Unleash toggle not in the manifest: only_on_server:"),
            "{}",
            warns[1]
        );
        let revisions: Vec<_> = events
            .iter()
            .filter(|(l, t)| *l == tracing::Level::INFO && t.contains("toggles in force"))
            .collect();
        assert_eq!(revisions.len(), 1, "{events:?}");
        assert!(
            revisions[0].1.contains(r#"revision "t1" (4 toggles)"#),
            "{revisions:?}"
        );
        // 304: nothing new, nothing logged.
        assert_eq!(apply(&flags::REGISTRY, &mut src), Ok(false));
        assert!(capture.take().is_empty());

        // The same binding again (a new payload): not reported again; the new
        // revision is.
        mock.set(
            &ON.replace("\"default\"}]}", "\"default\"}],\"x\":1}"),
            "\"t2\"",
        );
        assert_eq!(apply(&flags::REGISTRY, &mut src), Ok(true));
        let events = capture.take();
        let [(level, text)] = &events[..] else {
            panic!("{events:?}")
        };
        assert_eq!(*level, tracing::Level::INFO);
        assert!(text.contains(r#"revision "t2""#), "{text}");

        // A changed binding: reported.
        mock.set(OFF, "\"t3\"");
        assert_eq!(apply(&flags::REGISTRY, &mut src), Ok(true));
        let events = capture.take();
        assert!(
            events.iter().any(|(l, t)| *l == tracing::Level::WARN
                && t.contains("3 manifest flags the Unleash server has no toggle for: checkout_layout, dark_mode, frozen:")),
            "{events:?}"
        );

        // A long list is summarised, never one huge line.
        let many: Vec<String> = (0..40_000)
            .map(|i| format!(r#"{{"name":"extra_{i:05}","enabled":true}}"#))
            .collect();
        mock.set(
            &format!(r#"{{"version":2,"features":[{}]}}"#, many.join(",")),
            "\"t4\"",
        );
        assert_eq!(apply(&flags::REGISTRY, &mut src), Ok(true));
        let events = capture.take();
        let unknown: Vec<_> = events
            .iter()
            .filter(|(_, t)| t.contains("not in the manifest"))
            .collect();
        let [(_, text)] = &unknown[..] else {
            panic!("{events:?}")
        };
        assert!(
            text.contains(
                "40,000 Unleash toggles not in the manifest: extra_00000, extra_00001, extra_00002 … and 39,997 more"
            ),
            "{text}"
        );
        assert!(text.len() < 1_000, "{} bytes", text.len());
    });
}
