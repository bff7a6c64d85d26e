//! UnleashTarget against the real Unleash server scripts/test.sh starts: reads the
//! gradual rollout of a toggle in one environment, changes only its percentage, and
//! reports a missing toggle, a missing strategy, a refused token and a server that does
//! not answer; then a controller driving that toggle pauses when a person changes it.

use std::sync::Arc;

use flags_fleet::UnleashTarget;
use flags_manifest::{Criteria, RolloutPlan};
use flags_rollout::{ExposureTarget, FnMetrics, Metrics, RolloutController, Status, TargetError};
use flags_test_support::unleash::{Admin, ENV};
use serde_json::{Value, json};

fn gradual(name: &str, percent: &str) -> Value {
    json!({"name": "flexibleRollout",
           "constraints": [{"contextName": "userId", "operator": "IN", "values": ["eu"]}],
           "parameters": {"rollout": percent, "stickiness": "userId", "groupId": name}})
}

#[test]
fn only_the_percentage_changes_and_problems_are_told_apart() {
    let Some(admin) = Admin::from_env() else {
        return;
    };
    admin.toggle("fleet_target_a", &[gradual("fleet_target_a", "10")]);
    admin.switch("fleet_target_a", true);
    let target = UnleashTarget::new(&admin.url, &admin.token, ENV).unwrap();
    assert_eq!(target.read_exposure("fleet_target_a").unwrap(), Some(10));
    target.write_exposure("fleet_target_a", 25).unwrap();
    assert_eq!(target.read_exposure("fleet_target_a").unwrap(), Some(25));
    let s = &admin.strategies("fleet_target_a")[0];
    assert_eq!(s["parameters"]["rollout"], "25");
    assert_eq!(s["parameters"]["stickiness"], "userId");
    assert_eq!(s["parameters"]["groupId"], "fleet_target_a");
    assert_eq!(
        s["constraints"][0]["values"],
        json!(["eu"]),
        "constraints kept"
    );

    let unusable =
        |r: Result<Option<u8>, TargetError>| matches!(r, Err(TargetError::Unusable { .. }));
    assert!(unusable(target.read_exposure("fleet_target_missing")));
    admin.toggle("fleet_target_b", &[json!({"name": "default"})]);
    admin.switch("fleet_target_b", true);
    let e = target.read_exposure("fleet_target_b").unwrap_err();
    assert!(e.to_string().contains("gradual rollout"), "{e}");
    admin.toggle(
        "fleet_target_c",
        &[
            gradual("fleet_target_c", "5"),
            gradual("fleet_target_c", "50"),
        ],
    );
    assert!(unusable(target.read_exposure("fleet_target_c")));
    let bad = UnleashTarget::new(&admin.url, "*:*.not-a-token", ENV).unwrap();
    let e = bad.read_exposure("fleet_target_a").unwrap_err();
    assert!(e.to_string().contains("token"), "{e}");
    // Nothing listens on a port just released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let gone = UnleashTarget::new(&format!("http://{port}"), &admin.token, ENV).unwrap();
    assert!(matches!(
        gone.read_exposure("fleet_target_a"),
        Err(TargetError::Unavailable { .. })
    ));

    // Switched off in the environment: every SDK serves 0%, and no write can change it.
    admin.switch("fleet_target_a", false);
    assert_eq!(target.read_exposure("fleet_target_a").unwrap(), Some(0));
    let e = target.write_exposure("fleet_target_a", 5).unwrap_err();
    assert!(e.to_string().contains("switched off"), "{e}");
    assert_eq!(
        admin.strategies("fleet_target_a")[0]["parameters"]["rollout"],
        "25"
    );
}

#[test]
fn a_person_changing_the_percentage_in_unleash_pauses_the_controller() {
    let Some(admin) = Admin::from_env() else {
        return;
    };
    let flag = "fleet_target_d";
    admin.toggle(flag, &[gradual(flag, "0")]);
    admin.switch(flag, true);
    let target = Arc::new(UnleashTarget::new(&admin.url, &admin.token, ENV).unwrap());
    let controller = RolloutController::with_target(target.clone())
        .metrics(FnMetrics(|_: &str| Ok(Metrics::default())))
        .build()
        .unwrap();
    let plan = RolloutPlan {
        stages: vec![1, 5, 25],
        soak: std::time::Duration::from_secs(600),
        min_samples: 100,
        criteria: Criteria::default(),
    };
    controller.register(flag, plan).unwrap();
    assert_eq!(target.read_exposure(flag).unwrap(), Some(1));
    assert!(controller.tick().is_empty());
    let id = admin.strategies(flag)[0]["id"].as_str().unwrap().to_owned();
    let (s, _) = admin.call(
        "PATCH",
        &format!("/api/admin/projects/default/features/{flag}/environments/{ENV}/strategies/{id}"),
        Some(json!([{"op": "replace", "path": "/parameters/rollout", "value": "40"}])),
    );
    assert_eq!(s, 200);
    let t = controller.tick();
    assert_eq!(t.len(), 1, "{t:?}");
    assert_eq!(t[0].to.status, Status::Paused);
    assert_eq!(t[0].to.percent, 40);
    controller.tick();
    assert_eq!(
        target.read_exposure(flag).unwrap(),
        Some(40),
        "never overwritten"
    );

    // Resumed, then switched off by a person: a change too, paused at 0%.
    controller
        .resume(flag, flags_rollout::Attribution::by("ops"))
        .unwrap();
    assert_eq!(target.read_exposure(flag).unwrap(), Some(1));
    admin.switch(flag, false);
    let t = controller.tick();
    assert_eq!(t.len(), 1, "{t:?}");
    assert_eq!(t[0].to.status, Status::Paused);
    assert_eq!(t[0].to.percent, 0);
    assert!(controller.tick().is_empty());
}
