//! The dashboard in a real browser: headless Chromium, driven by playwright-core
//! (tests/dashboard.mjs), loads `/` from a started admin server and checks one row per
//! flag, live updates without a reload after a write through the API, a write
//! without the token refused, the hostile description shown as text, sorting and
//! filtering; it saves a screenshot under target/.
//!
//! Needs Chromium (`apt-get install -y chromium`), Node.js and playwright-core
//! (`eval "$(scripts/playwright.sh)"` sets TEST_PLAYWRIGHT_DIR). Without them the test
//! says "skipped: ..." and passes, unless `TEST_REQUIRE_SERVICES=1` (set by
//! `scripts/test.sh`, which installs all three) makes it mandatory.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{ALICE, send, start};
use flags_test_support::{service, wait};

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    if path.is_file() {
        return Some(path);
    }
    service::absent(
        &format!("headless Chromium ({})", path.display()),
        "`apt-get install -y chromium` (or set CHROMIUM to the browser)",
    );
    None
}

fn node() -> Option<()> {
    let found = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        service::absent("Node.js (`node`)", "`apt-get install -y nodejs npm`");
        return None;
    }
    Some(())
}

fn playwright() -> Option<PathBuf> {
    let dir = service::from_env(
        "TEST_PLAYWRIGHT_DIR",
        "playwright-core (npm)",
        "`eval \"$(scripts/playwright.sh)\"`",
    )?;
    let dir = PathBuf::from(dir);
    if !dir
        .join("node_modules/playwright-core/package.json")
        .is_file()
    {
        service::absent(
            &format!("playwright-core in {}", dir.display()),
            "`eval \"$(scripts/playwright.sh)\"`",
        );
        return None;
    }
    Some(dir)
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    )
}

#[test]
fn dashboard_in_headless_chromium() {
    let (Some(browser), Some(()), Some(playwright)) = (chromium(), node(), playwright()) else {
        return;
    };
    let fx = start();
    // A rolled-back rollout for the page to mark.
    let r = send(
        "POST",
        &fx.url("/api/rollouts/checkout_v2/rollback"),
        Some(ALICE),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);

    // A failing source for the page to mark. Its one good update set beta on; the
    // page starts from beta off, so the remote layer is emptied again (the source's
    // health stays on record).
    common::flaky_remote(fx.registry);
    fx.registry
        .clear_layer(flags_runtime::Layer::Remote)
        .expect("clear remote");

    let _ = std::fs::create_dir_all(target_dir());
    let target = std::fs::canonicalize(target_dir()).unwrap_or_else(|_| target_dir());
    let screenshot = target.join("flags-admin-dashboard.png");
    let _ = std::fs::remove_file(&screenshot);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dashboard.mjs");
    let mut child = Command::new("node")
        .arg(&script)
        .env("ADMIN_URL", &fx.base)
        .env("ADMIN_TOKEN", ALICE)
        .env("CHROMIUM", &browser)
        .env("SCREENSHOT", &screenshot)
        .env("TEST_PLAYWRIGHT_DIR", &playwright)
        .env("TIMEOUT_MS", wait::patience().as_millis().to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node starts");
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_string(&mut text);
            }
            text
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let status = wait::wait_for_exit(&mut child, "the dashboard script", 4);
    let out = out.join().unwrap_or_default();
    let err = err.join().unwrap_or_default();
    println!("{out}");
    eprintln!("{err}");
    assert!(
        status.success(),
        "dashboard.mjs failed ({status}):\n{out}\n{err}"
    );
    assert!(out.contains("ok: window.__pwned is undefined"), "{out}");
    assert!(
        screenshot.is_file(),
        "no screenshot at {}",
        screenshot.display()
    );
    println!("dashboard screenshot: {}", screenshot.display());

    // What the page did went through the API, as alice, into the audit log.
    let records = fx.audit_records();
    let actions: Vec<(&str, &str, Option<&str>)> = records
        .iter()
        .map(|r| (r.actor.as_str(), r.action.as_str(), r.value.as_deref()))
        .collect();
    assert!(
        actions.contains(&("alice", "override", Some("on"))),
        "{actions:?}"
    );
    assert!(
        actions.contains(&("alice", "override", Some("compact"))),
        "{actions:?}"
    );
    assert_eq!(fx.flag("layout")["value"], "compact");
}
