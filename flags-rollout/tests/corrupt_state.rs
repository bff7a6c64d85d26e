//! A state file with values no controller wrote (a stage index of 2^64 - 1, an
//! exposure of 200%) is refused with its path and field: the controller holds that
//! flag (never drives it, leaves its exposure alone) and keeps driving the others; a
//! rollback resets it. A file whose top-level values are out of range stops the
//! controller from starting at all.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::{plan, scratch};
use flags_manifest::Criteria;
use flags_rollout::{
    Attribution, ManualClock, MemoryExposure, RolloutController, RolloutError, StateError,
    StateStore, Status, Timestamp,
};

const START: u64 = 1_776_159_000_000;

/// A saved state with two rollouts: `good` at stage 2, and `bad` as given.
fn state_json(bad_position: &str) -> String {
    format!(
        r#"{{"version":1,"revision":4,"rollouts":{{
  "bad":{{"flag":"bad","stages":[1,10,100],"position":{bad_position},"since":{START},"reason":"","looks":0,"history":[]}},
  "good":{{"flag":"good","stages":[1,10,100],"position":{{"stage":1,"percent":10,"status":"running"}},"since":{START},"reason":"","looks":0,"history":[]}}
}}}}"#
    )
}

fn build(state: &Path, audit: &Path, exposure: &Arc<MemoryExposure>) -> RolloutController {
    RolloutController::builder(exposure.clone())
        .clock(ManualClock::new(Timestamp::from_millis(START)))
        .state_file(state)
        .audit_log(audit)
        .build()
        .unwrap_or_else(|e| panic!("a bad rollout does not stop the controller: {e}"))
}

#[test]
fn a_rollout_with_an_impossible_stage_is_held_and_reset_by_a_rollback() {
    for position in [
        r#"{"stage":18446744073709551615,"percent":10,"status":"running"}"#,
        r#"{"stage":0,"percent":200,"status":"running"}"#,
        r#"{"stage":3,"percent":100,"status":"completed"}"#,
    ] {
        let dir = scratch("held");
        let (state, audit) = (dir.join("state.json"), dir.join("audit.jsonl"));
        std::fs::write(&state, state_json(position)).unwrap();

        // The CLI's `rollout status` reads the file with `load`: an error, not a panic.
        let e = StateStore::new(&state).load().unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, StateError::Invalid { .. }), "{text}");
        assert!(text.contains(&state.display().to_string()), "{text}");
        assert!(text.contains("`rollouts.bad.position."), "{text}");

        let exposure = Arc::new(MemoryExposure::default());
        let c = build(&state, &audit, &exposure);
        let p = plan(&[1, 10, 100], 60, 10, Criteria::default());
        c.register("bad", p.clone()).unwrap();
        c.register("good", p.clone()).unwrap();
        assert_eq!(
            exposure.percent("bad"),
            None,
            "a held flag's exposure is left alone"
        );
        assert_eq!(exposure.percent("good"), Some(10));
        let held = c.held();
        assert!(held["bad"].contains("rollouts.bad.position"), "{held:?}");
        assert!(!held.contains_key("good"));

        // Never driven: ticks, previews and manual moves other than a rollback.
        assert!(c.tick().is_empty());
        assert!(matches!(c.preview("bad"), Err(RolloutError::Held { .. })));
        for r in [
            c.advance("bad", Attribution::by("alice")),
            c.pause("bad", Attribution::by("alice")),
            c.resume("bad", Attribution::by("alice")),
        ] {
            match r {
                Err(e @ RolloutError::Held { .. }) => {
                    assert!(e.to_string().contains("rollouts.bad.position"), "{e}");
                }
                other => panic!("refused: {other:?}"),
            }
        }
        assert_eq!(exposure.percent("bad"), None);
        assert!(
            c.advance("good", Attribution::by("alice")).is_ok(),
            "other flags still move"
        );

        // A restart before the reset keeps the bad rollout as read.
        drop(c);
        let c = build(&state, &audit, &exposure);
        assert!(c.held().contains_key("bad"));
        c.register("bad", p.clone()).unwrap();

        // A rollback resets it: 0%, a valid state, then it can start again.
        let t = c
            .rollback("bad", Attribution::by("alice").because("reset"))
            .unwrap();
        assert_eq!(t.from, None);
        assert_eq!(t.to.status, Status::RolledBack);
        assert!(t.reason.contains("invalid"), "{}", t.reason);
        assert_eq!(exposure.percent("bad"), Some(0));
        assert!(c.held().is_empty());
        let loaded = StateStore::new(&state).load().unwrap().unwrap();
        assert_eq!(loaded.rollouts["bad"].position.status, Status::RolledBack);
        c.resume("bad", Attribution::by("alice")).unwrap();
        assert_eq!(exposure.percent("bad"), Some(1));
        drop(c);
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn a_file_with_an_impossible_revision_stops_the_start() {
    let dir = scratch("revision");
    let state = dir.join("state.json");
    std::fs::write(
        &state,
        r#"{"version":1,"revision":18446744073709551615,"rollouts":{}}"#,
    )
    .unwrap();
    let r = RolloutController::builder(MemoryExposure::default())
        .state_file(&state)
        .build();
    match r {
        Err(RolloutError::State(StateError::Invalid { field, path, .. })) => {
            assert_eq!(field, "revision");
            assert_eq!(path, state);
        }
        Err(e) => panic!("refused as invalid: {e}"),
        Ok(_) => panic!("refused as invalid"),
    }
    let _ = std::fs::remove_dir_all(dir);
}
