//! UnleashTarget against the real Unleash server scripts/test.sh starts: reads the
//! gradual rollout of a toggle in one environment, changes only its percentage, and
//! reports a missing toggle, a missing strategy, a refused token and a server that does
//! not answer; then a controller driving that toggle pauses when a person changes it.

use std::sync::Arc;

use flags_fleet::UnleashTarget;
use flags_manifest::{Criteria, RolloutPlan};
use flags_rollout::{ExposureTarget, FnMetrics, Metrics, RolloutController, Status, TargetError};
use flags_test_support::service;
use serde_json::{Value, json};

const ENV: &str = "development";

struct Admin {
    url: String,
    token: String,
    http: ureq::Agent,
}

impl Admin {
    fn from_env() -> Option<Admin> {
        let url = service::from_env(
            "TEST_UNLEASH_URL",
            "an Unleash server",
            "`eval \"$(scripts/unleash-server.sh start)\"` from the workspace root",
        )?;
        let token = std::env::var("TEST_UNLEASH_ADMIN_TOKEN")
            .expect("TEST_UNLEASH_ADMIN_TOKEN: use the exports of scripts/unleash-server.sh start");
        Some(Admin {
            url: url.trim_end_matches('/').to_owned(),
            token,
            http: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .into(),
        })
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{path}", self.url);
        let r = match method {
            "GET" => self
                .http
                .get(&url)
                .header("Authorization", &self.token)
                .call(),
            "DELETE" => self
                .http
                .delete(&url)
                .header("Authorization", &self.token)
                .call(),
            "PATCH" => self
                .http
                .patch(&url)
                .header("Authorization", &self.token)
                .header("Content-Type", "application/json")
                .send(body.unwrap_or_default().to_string()),
            _ => self
                .http
                .post(&url)
                .header("Authorization", &self.token)
                .header("Content-Type", "application/json")
                .send(body.unwrap_or_else(|| json!({})).to_string()),
        };
        let mut r = r.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = r.status().as_u16();
        let text = r.body_mut().read_to_string().unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// A new toggle named `name` and this process's id, with the given strategies in
    /// the environment; returns its name. Names are new each run rather than deleted
    /// and made again: archiving and deleting a toggle at once can crash Unleash 6.
    fn toggle(&self, name: &str, strategies: &[Value]) -> String {
        let name = format!("{name}_{}", std::process::id());
        let name = name.as_str();
        let features = "/api/admin/projects/default/features";
        let (s, v) = self.call(
            "POST",
            features,
            Some(json!({"name": name, "type": "release"})),
        );
        assert!((200..300).contains(&s), "create {name}: {s} {v}");
        for strategy in strategies {
            let (s, v) = self.call(
                "POST",
                &format!("{features}/{name}/environments/{ENV}/strategies"),
                Some(strategy.clone()),
            );
            assert!((200..300).contains(&s), "strategy on {name}: {s} {v}");
        }
        name.to_owned()
    }

    fn strategies(&self, name: &str) -> Value {
        self.call(
            "GET",
            &format!("/api/admin/projects/default/features/{name}/environments/{ENV}/strategies"),
            None,
        )
        .1
    }
}

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
    let a = admin.toggle("fleet_target_a", &[gradual("fleet_target_a", "10")]);
    let target = UnleashTarget::new(&admin.url, &admin.token, ENV).unwrap();
    assert_eq!(target.read_exposure(&a).unwrap(), Some(10));
    target.write_exposure(&a, 25).unwrap();
    assert_eq!(target.read_exposure(&a).unwrap(), Some(25));
    let s = &admin.strategies(&a)[0];
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
    let b = admin.toggle("fleet_target_b", &[json!({"name": "default"})]);
    let e = target.read_exposure(&b).unwrap_err();
    assert!(e.to_string().contains("gradual rollout"), "{e}");
    let c = admin.toggle(
        "fleet_target_c",
        &[
            gradual("fleet_target_c", "5"),
            gradual("fleet_target_c", "50"),
        ],
    );
    assert!(unusable(target.read_exposure(&c)));
    let bad = UnleashTarget::new(&admin.url, "*:*.not-a-token", ENV).unwrap();
    let e = bad.read_exposure(&a).unwrap_err();
    assert!(e.to_string().contains("token"), "{e}");
    // Nothing listens on a port just released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let gone = UnleashTarget::new(&format!("http://{port}"), &admin.token, ENV).unwrap();
    assert!(matches!(
        gone.read_exposure(&a),
        Err(TargetError::Unavailable { .. })
    ));
}

#[test]
fn a_person_changing_the_percentage_in_unleash_pauses_the_controller() {
    let Some(admin) = Admin::from_env() else {
        return;
    };
    let flag = &admin.toggle("fleet_target_d", &[gradual("fleet_target_d", "0")]);
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
}
