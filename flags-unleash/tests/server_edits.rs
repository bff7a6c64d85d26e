//! Operator edits on a real Unleash server, with Unleash's official Python SDK as the
//! referee: after each edit both clients evaluate the same toggles for 10,000 user ids
//! and must agree, except where this crate deliberately keeps the last good
//! definition (a variant the manifest does not declare).
//!
//! Needs the server (`eval "$(scripts/unleash-server.sh start)"`) and the SDK
//! (`TEST_UNLEASH_PYTHON`, a Python with `UnleashClient` installed; `scripts/test.sh`
//! makes one). Without them the test says "skipped: ..." and passes, unless
//! `TEST_REQUIRE_SERVICES=1`.
//!
//! The toggles: `flags_ed_parent` (a 50% rollout), `flags_ed_child` (on for everyone,
//! depending in Unleash on the parent; the manifest declares no dependency),
//! `flags_ed_env` (constrained on `appName` and `environment`), `flags_ed_colour`
//! (weighted variants) and `flags_ed_counted` (read only through `variant()`).

mod live;

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use flags_runtime::Context;
use flags_test_support::service;
use flags_unleash::{Kept, Unleash};
use live::{Server, wait, wait_on_server};

mod ed {
    flags_runtime::flags!(pub mod flags = "tests/server_edits_flags.toml");
}
use ed::flags;

const PARENT: &str = "flags_ed_parent";
const CHILD: &str = "flags_ed_child";
const ENV: &str = "flags_ed_env";
const COLOUR: &str = "flags_ed_colour";
const COUNTED: &str = "flags_ed_counted";
const TOGGLES: [&str; 4] = [PARENT, CHILD, ENV, COLOUR];
const USERS: usize = 10_000;
const ENVIRONMENT: &str = "staging";

/// One answer: enabled, and the variant's name (`disabled` when none), as Unleash's
/// SDKs report them.
type Answer = (bool, String);

fn rollout(group: &str, percent: u8) -> serde_json::Value {
    serde_json::json!({"name": "flexibleRollout", "constraints": [],
        "parameters": {"rollout": percent.to_string(), "stickiness": "default", "groupId": group}})
}

fn colour_strategy(variants: &[&str]) -> serde_json::Value {
    let variants: Vec<serde_json::Value> = variants
        .iter()
        .map(|v| {
            serde_json::json!({"name": v, "weight": 1000 / variants.len(),
                "weightType": "variable", "stickiness": "default"})
        })
        .collect();
    let mut s = rollout(COLOUR, 100);
    s["variants"] = serde_json::Value::Array(variants);
    s
}

/// User ids of many shapes: UUID-like, e-mail, short and numeric.
fn user_ids() -> Vec<String> {
    (0..USERS)
        .map(|i| match i % 4 {
            0 => format!(
                "{:08x}-4e1c-4a7b-9c2d-{:012x}",
                i * 2_654_435_761,
                i * 40_503
            ),
            1 => format!("user{i}@example.com"),
            2 => format!("u{i}"),
            _ => (i * 7919).to_string(),
        })
        .collect()
}

/// This crate's answers, read through the Unleash handle (bool flags: `is_enabled`
/// and Unleash's `disabled` variant; variant flags: the variant, `disabled` for the
/// default one, which stands for "off").
fn ours(unleash: &Unleash, ids: &[String]) -> BTreeMap<&'static str, Vec<Answer>> {
    let mut out = BTreeMap::new();
    for toggle in TOGGLES {
        let answers = ids
            .iter()
            .map(|id| {
                let ctx = Context::with_key(id.as_str());
                match toggle {
                    PARENT => bool_answer(unleash.is_enabled(flags::FLAGS_ED_PARENT, &ctx)),
                    CHILD => bool_answer(unleash.is_enabled(flags::FLAGS_ED_CHILD, &ctx)),
                    ENV => bool_answer(unleash.is_enabled(flags::FLAGS_ED_ENV, &ctx)),
                    _ => {
                        let v = unleash.variant(flags::FLAGS_ED_COLOUR, &ctx);
                        if v.detail.value == flags::FlagsEdColour::None {
                            (false, "disabled".to_owned())
                        } else {
                            (true, v.detail.label.to_owned())
                        }
                    }
                }
            })
            .collect();
        out.insert(toggle, answers);
    }
    out
}

fn bool_answer(on: bool) -> Answer {
    (on, "disabled".to_owned())
}

/// The Python SDK's answers, from a fresh client (one fetch).
fn theirs(
    python: &str,
    server: &Server,
    app: &str,
    ids: &[String],
) -> BTreeMap<String, Vec<Answer>> {
    let job = serde_json::json!({
        "url": format!("{}/api", server.url),
        "token": server.client,
        "app": app,
        "environment": ENVIRONMENT,
        "toggles": TOGGLES,
        "user_ids": ids,
    });
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/evaluate.py");
    let mut child = Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("{python} {script}: {e}"));
    child
        .stdin
        .take()
        .map(|mut stdin| stdin.write_all(job.to_string().as_bytes()))
        .transpose()
        .unwrap_or_else(|e| panic!("writing the job: {e}"));
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("{python}: {e}"));
    assert!(out.status.success(), "{python} {script}: {}", out.status);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("the Python SDK's answers: {e}"))
}

/// The toggles (of `toggles`) on which the two disagree, with the first user id
/// that shows it and both answers.
fn disagreements(
    ours: &BTreeMap<&'static str, Vec<Answer>>,
    theirs: &BTreeMap<String, Vec<Answer>>,
    ids: &[String],
    toggles: &[&str],
) -> Vec<String> {
    let mut out = Vec::new();
    for toggle in toggles {
        let (a, b) = (&ours[toggle], &theirs[*toggle]);
        let differ = a.iter().zip(b).filter(|(x, y)| x != y).count();
        if let Some(i) = (0..ids.len()).find(|&i| a[i] != b[i]) {
            out.push(format!(
                "{toggle}: {differ} of {} differ; first: user `{}`: ours {:?}, Python {:?}",
                ids.len(),
                ids[i],
                a[i],
                b[i]
            ));
        }
    }
    out
}

fn share_on(answers: &[Answer]) -> f64 {
    answers.iter().filter(|a| a.0).count() as f64 / answers.len() as f64
}

#[test]
fn operator_edits_agree_with_unleash_python_sdk() {
    let Some(server) = Server::from_env() else {
        return;
    };
    let Some(python) = service::from_env(
        "TEST_UNLEASH_PYTHON",
        "Unleash's Python SDK",
        "scripts/test.sh (it installs UnleashClient into a virtual environment)",
    ) else {
        return;
    };
    for t in TOGGLES.iter().chain([&COUNTED]) {
        server.remove(t);
    }
    let app = format!("flags-unleash-edits-{}", std::process::id());
    server.create(PARENT, rollout(PARENT, 50));
    server.create(CHILD, rollout(CHILD, 100));
    server.ok(
        "POST",
        &format!("/api/admin/projects/default/features/{CHILD}/dependencies"),
        Some(serde_json::json!({"feature": PARENT, "enabled": true})),
    );
    let mut env = rollout(ENV, 100);
    env["constraints"] = serde_json::json!([
        {"contextName": "appName", "operator": "IN", "values": [app]},
        {"contextName": "environment", "operator": "IN", "values": [ENVIRONMENT]},
    ]);
    server.create(ENV, env);
    let colour_id = server.create(COLOUR, colour_strategy(&["red", "green"]));
    let mut counted = rollout(COUNTED, 100);
    counted["variants"] = serde_json::json!([{"name": "on", "weight": 1000,
        "weightType": "variable", "stickiness": "default"}]);
    server.create(COUNTED, counted);
    for t in TOGGLES.iter().chain([&COUNTED]) {
        server.switch(t, true);
    }

    let unleash = flags_unleash::start(
        &flags::REGISTRY,
        server
            .config(&app)
            .environment(ENVIRONMENT)
            .no_backup_file()
            .metrics_interval(Some(Duration::from_secs(1))),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    wait("every toggle bound", || {
        unleash.status().binding.bound.len() == 5
    });

    // 1. As created: the two agree on every toggle, the parent is on for about half,
    // the child only where the parent is, and the environment toggle for everyone
    // (both clients send this app's name and the `staging` environment).
    let ids = user_ids();
    let before = theirs(&python, &server, &app, &ids);
    let mine = ours(&unleash, &ids);
    assert_eq!(
        disagreements(&mine, &before, &ids, &TOGGLES),
        Vec::<String>::new()
    );
    let parent = share_on(&mine[PARENT]);
    assert!((0.45..0.55).contains(&parent), "parent on for {parent}");
    assert!(
        mine[CHILD]
            .iter()
            .zip(&mine[PARENT])
            .all(|(c, p)| c.0 == p.0)
    );
    assert_eq!(share_on(&mine[ENV]), 1.0);
    eprintln!(
        "as created: {} toggles agree on {USERS} users",
        TOGGLES.len()
    );

    // 2. The operator adds `purple`, which the manifest does not declare: the flag
    // keeps its last good definition (the Python SDK starts serving purple), and says
    // so; every other toggle still agrees.
    let mut edited = colour_strategy(&["red", "green", "purple"]);
    edited["id"] = serde_json::Value::String(colour_id.clone());
    server.ok(
        "PUT",
        &format!(
            "/api/admin/projects/default/features/{COLOUR}/environments/development/strategies/{colour_id}"
        ),
        Some(edited),
    );
    wait("the added variant to be reported", || {
        unleash
            .status()
            .binding
            .unbindable
            .iter()
            .any(|u| u.flag == COLOUR && u.kept == Kept::LastGood)
    });
    let after = theirs(&python, &server, &app, &ids);
    let mine = ours(&unleash, &ids);
    assert!(
        after[COLOUR].iter().any(|a| a.1 == "purple"),
        "the Python SDK serves the new variant"
    );
    assert_eq!(
        disagreements(&mine, &after, &ids, &[PARENT, CHILD, ENV]),
        Vec::<String>::new()
    );
    assert_eq!(
        mine[COLOUR], before[COLOUR],
        "the last good definition stays in force"
    );
    eprintln!("after adding a variant: the others agree, {COLOUR} kept its last good definition");

    // 3. The operator removes the dependency: the child is on for everyone, as the
    // Python SDK says.
    server.ok(
        "DELETE",
        &format!("/api/admin/projects/default/features/{CHILD}/dependencies/{PARENT}"),
        None,
    );
    wait("the child to be on without its parent", || {
        ids.iter()
            .take(200)
            .all(|id| unleash.is_enabled(flags::FLAGS_ED_CHILD, &Context::with_key(id.as_str())))
    });
    let after = theirs(&python, &server, &app, &ids);
    let mine = ours(&unleash, &ids);
    assert_eq!(
        disagreements(&mine, &after, &ids, &[PARENT, CHILD, ENV]),
        Vec::<String>::new()
    );
    assert_eq!(share_on(&mine[CHILD]), 1.0);
    eprintln!("after removing the dependency: the child agrees on {USERS} users");

    // 4. Reads through variant() are counted in the usage metrics the server keeps.
    const READS: u64 = 25;
    for i in 0..READS {
        let v = unleash.variant(flags::FLAGS_ED_COUNTED, &Context::with_key(format!("c{i}")));
        assert_eq!(v.detail.label, "on");
    }
    wait_on_server("the variant() reads in the server's metrics", || {
        server.yes_count(COUNTED, &app) >= READS
    });
    unleash.stop();
    // The toggles stay: deleting a toggle while the server still files usage metrics
    // for it can crash Unleash 6 (a foreign-key error it does not handle), and a later
    // run removes leftovers before it starts.
}
