//! The real Unleash server `scripts/test.sh` starts, through its Admin API: fresh
//! toggles with given strategies in the `development` environment, switched on or off,
//! and read back. The server comes from `TEST_UNLEASH_URL` and
//! `TEST_UNLEASH_ADMIN_TOKEN` (the exports of `scripts/unleash-server.sh start`).

use serde_json::{Value, json};

use crate::service;

/// The environment the tests' toggles live in.
pub const ENV: &str = "development";

/// The Unleash server's Admin API, with an admin token.
pub struct Admin {
    /// The server's base URL, without a trailing slash.
    pub url: String,
    /// The admin token.
    pub token: String,
    http: ureq::Agent,
}

impl Admin {
    /// The server of `TEST_UNLEASH_URL`; `None` (after saying so) when it is unset and
    /// not required.
    pub fn from_env() -> Option<Admin> {
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

    /// Calls `method path` with an optional JSON body: the status and the JSON answer
    /// (`Null` when it is not JSON).
    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{path}", self.url);
        let send = || match method {
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
            "PUT" => self
                .http
                .put(&url)
                .header("Authorization", &self.token)
                .header("Content-Type", "application/json")
                .send(body.clone().unwrap_or_default().to_string()),
            "PATCH" => self
                .http
                .patch(&url)
                .header("Authorization", &self.token)
                .header("Content-Type", "application/json")
                .send(body.clone().unwrap_or_default().to_string()),
            _ => self
                .http
                .post(&url)
                .header("Authorization", &self.token)
                .header("Content-Type", "application/json")
                .send(body.clone().unwrap_or_else(|| json!({})).to_string()),
        };
        // Once more after a transport error: the server may close a pooled keep-alive
        // connection just as it is reused.
        let mut r = send()
            .or_else(|_| send())
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = r.status().as_u16();
        let text = r.body_mut().read_to_string().unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Toggle `name` as if fresh: switched off in the environment, holding exactly the
    /// given strategies there. A toggle left by an earlier run is reset in place rather
    /// than archived and deleted, because archiving and at once deleting a toggle can
    /// crash Unleash 6 (its lifecycle bookkeeping races the deletion: an unhandled
    /// foreign-key error ends the server process).
    pub fn toggle(&self, name: &str, strategies: &[Value]) {
        let features = "/api/admin/projects/default/features";
        let (s, v) = self.call(
            "POST",
            features,
            Some(json!({"name": name, "type": "release"})),
        );
        if s == 409 {
            // It exists, perhaps archived by an older helper: bring it back (a no-op
            // answer for one that is not archived).
            self.call("POST", &format!("/api/admin/archive/revive/{name}"), None);
        } else {
            assert!((200..300).contains(&s), "create {name}: {s} {v}");
        }
        self.switch(name, false);
        let path = format!("{features}/{name}/environments/{ENV}/strategies");
        let (s, old) = self.call("GET", &path, None);
        assert!((200..300).contains(&s), "strategies of {name}: {s} {old}");
        for strategy in old.as_array().into_iter().flatten() {
            let id = strategy["id"].as_str().unwrap_or_default();
            let (s, v) = self.call("DELETE", &format!("{path}/{id}"), None);
            assert!(
                (200..300).contains(&s),
                "remove a strategy of {name}: {s} {v}"
            );
        }
        for strategy in strategies {
            let (s, v) = self.call("POST", &path, Some(strategy.clone()));
            assert!((200..300).contains(&s), "strategy on {name}: {s} {v}");
        }
    }

    /// The strategies of toggle `name` in the environment.
    pub fn strategies(&self, name: &str) -> Value {
        self.call(
            "GET",
            &format!("/api/admin/projects/default/features/{name}/environments/{ENV}/strategies"),
            None,
        )
        .1
    }

    /// Turns toggle `name` on or off in the environment.
    pub fn switch(&self, name: &str, on: bool) {
        let verb = if on { "on" } else { "off" };
        let (s, v) = self.call(
            "POST",
            &format!("/api/admin/projects/default/features/{name}/environments/{ENV}/{verb}"),
            None,
        );
        assert!((200..300).contains(&s), "switch {name} {verb}: {s} {v}");
    }
}
