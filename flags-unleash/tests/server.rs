//! Against a real Unleash server (npm unleash-server 6.x with PostgreSQL), started by
//! `scripts/unleash-server.sh start`, which prints `TEST_UNLEASH_URL` and the tokens:
//!
//! ```sh
//! eval "$(scripts/unleash-server.sh start)"
//! cargo test -p flags-unleash --test server
//! scripts/unleash-server.sh stop
//! ```
//!
//! Without `TEST_UNLEASH_URL` this test prints "skipped: ..." with that command and
//! passes, unless `TEST_REQUIRE_SERVICES=1` (set by `scripts/test.sh`) makes it
//! mandatory.
//!
//! The test creates toggles through the admin API, sees the accessors follow at the
//! next polls, stops the server (the accessors keep the last state through several
//! failed polls; a second client started meanwhile serves the backup file), restarts
//! it and sees polling resume, and finds its usage metrics and registration on the
//! server. Every wait is for a condition, with a generous deadline
//! (`TEST_TIME_SCALE` scales it); the times measured are printed, not asserted.

mod live;

use std::process::Command;
use std::time::{Duration, Instant};

use flags_runtime::{Context, Layer};
use flags_unleash::Origin;
use live::{Server, wait, wait_on_server};

mod client_flags {
    flags_runtime::flags!(pub mod flags = "tests/server_flags.toml");
}
mod backup_flags {
    flags_runtime::flags!(pub mod flags = "tests/server_flags.toml");
}

const SEARCH: &str = "flags_it_search";
const LAYOUT: &str = "flags_it_layout";
use live::INTERVAL;

/// Restarts Unleash if the test stopped it and then failed.
struct Restart<'a>(&'a Server, bool);

impl Drop for Restart<'_> {
    fn drop(&mut self) {
        if self.1 {
            let _ = Command::new("bash")
                .arg(&self.0.script)
                .arg("node-start")
                .status();
        }
    }
}

#[test]
fn follows_a_real_unleash_server() {
    let Some(server) = Server::from_env() else {
        return;
    };
    use client_flags::flags;
    server.remove(SEARCH);
    server.remove(LAYOUT);
    let dir = flags_test_support::scratch::ScratchDir::new("unleash-server");
    let backup = dir.join("unleash-backup.json");

    let app = format!("flags-unleash-it-{}", std::process::id());
    let unleash = flags_unleash::start(
        &flags::REGISTRY,
        server
            .config(&app)
            .backup_file(&backup)
            .metrics_interval(Some(Duration::from_secs(1))),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let status = unleash.status();
    assert_eq!(status.origin, Some(Origin::Server), "{status:?}");
    assert!(
        !flags::flags_it_search(),
        "no toggle yet: the manifest default"
    );
    assert!(flags::flags_it_absent());
    for name in [SEARCH, LAYOUT, "flags_it_absent"] {
        assert!(
            status.binding.missing_on_server.contains(&name),
            "{status:?}"
        );
    }

    // Created and switched on through the admin API: the accessor follows at a next
    // poll (every INTERVAL).
    server.create(
        SEARCH,
        serde_json::json!({"name": "flexibleRollout", "constraints": [],
            "parameters": {"rollout": "100", "stickiness": "default", "groupId": SEARCH}}),
    );
    server.create(
        LAYOUT,
        serde_json::json!({"name": "flexibleRollout", "constraints": [],
            "parameters": {"rollout": "100", "stickiness": "default", "groupId": LAYOUT},
            "variants": [{"name": "compact", "weight": 1000, "weightType": "variable",
                          "stickiness": "default", "payload": {"type": "string", "value": "one column"}}]}),
    );
    let switched = Instant::now();
    server.switch(SEARCH, true);
    server.switch(LAYOUT, true);
    wait("the accessor to flip on", flags::flags_it_search);
    eprintln!(
        "flip seen {:.0} ms after the switch began (poll interval {INTERVAL:?})",
        switched.elapsed().as_secs_f64() * 1000.0
    );
    wait("the variant flag", || {
        flags::flags_it_layout() == flags::FlagsItLayout::Compact
    });
    let v = unleash.variant(flags::FLAGS_IT_LAYOUT, &Context::with_key("u1"));
    assert_eq!((v.detail.label, v.detail.layer), ("compact", Layer::Remote));
    assert_eq!(v.payload.map(|p| p.value).as_deref(), Some("one column"));
    let bound = unleash.status().binding;
    assert_eq!(bound.missing_on_server, ["flags_it_absent"]);

    // Usage metrics reach the server.
    for _ in 0..5 {
        assert!(flags::flags_it_search());
    }
    wait_on_server("usage metrics on the server", || {
        server.yes_count(SEARCH, &app) >= 5
    });
    wait_on_server("the registration", || {
        server
            .admin(
                "GET",
                &format!("/api/admin/metrics/applications/{app}"),
                None,
            )
            .0
            == 200
    });

    // The server goes down: the last state stays, through several failed polls.
    let mut restart = Restart(&server, true);
    server.script("node-stop");
    wait("three failed polls", || {
        unleash.status().consecutive_failures >= 3
    });
    assert!(
        flags::flags_it_search(),
        "the last state stays while the server is down"
    );
    assert!(unleash.status().last_error.is_some());

    // A second client starting now serves the backup file.
    {
        use backup_flags::flags as b;
        let second = flags_unleash::start(
            &b::REGISTRY,
            server
                .config("flags-unleash-it-backup")
                .backup_file(&backup)
                .metrics_interval(None),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(second.status().origin, Some(Origin::Backup(backup.clone())));
        assert!(b::flags_it_search(), "served from the backup");
        assert_eq!(b::flags_it_layout(), b::FlagsItLayout::Compact);
    }

    // Back up: polling resumes and follows a change.
    server.script("node-start");
    restart.1 = false;
    wait("polling to resume", || {
        unleash.status().consecutive_failures == 0
    });
    server.switch(SEARCH, false);
    wait("the accessor to flip off", || !flags::flags_it_search());

    unleash.stop();
    // The toggles stay (see server_edits.rs): a later run removes leftovers first.
}
