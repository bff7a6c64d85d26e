//! The official Unleash Rust SDK (`unleash-api-client`, Yggdrasil engine) fed from
//! JSON in memory, with a transport that refuses all network: a reference to compare
//! results and speed with.

#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use unleash_api_client::client::{Client, ClientBuilder, FeatureKey};
use unleash_api_client::http::{Request, Response, Transport};

/// A transport that never reaches the network.
struct NoNetwork;

impl Transport for NoNetwork {
    // What `#[async_trait]` expands the trait's `async fn execute` to.
    fn execute<'life0, 'async_trait>(
        &'life0 self,
        _request: Request,
    ) -> Pin<Box<dyn Future<Output = Result<Response, anyhow::Error>> + Send + 'async_trait>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async { Err(anyhow::anyhow!("no network here")) })
    }
}

/// A feature named at run time.
#[derive(Clone, Copy, Debug)]
pub struct Feature(pub &'static str);

impl FeatureKey for Feature {
    fn name(self) -> &'static str {
        self.0
    }
}

/// A client holding the features of `json` (an Unleash `/client/features` payload).
pub fn client(json: &str) -> Client<Feature> {
    let client = ClientBuilder::default()
        .disable_metric_submission()
        .into_client_with_transport::<Feature>(
            "http://127.0.0.1:9/",
            "flags-runtime-tests",
            "local",
            None,
            Arc::new(NoNetwork),
        )
        .unwrap_or_else(|e| panic!("client: {e}"));
    let features = serde_json::from_str(json).unwrap_or_else(|e| panic!("payload: {e}"));
    client
        .memoize(features)
        .unwrap_or_else(|e| panic!("memoize: {e}"));
    client
}

/// A payload with one `flexibleRollout` feature.
pub fn flexible_rollout(name: &str, percent: u8, group_id: &str) -> String {
    format!(
        r#"{{"version":2,"features":[{{"name":"{name}","enabled":true,"strategies":[
            {{"name":"flexibleRollout","parameters":{{"rollout":"{percent}","stickiness":"default","groupId":"{group_id}"}}}}
        ]}}]}}"#
    )
}

/// A context with user id `key`.
pub fn context(key: &str) -> unleash_api_client::Context {
    unleash_api_client::Context {
        user_id: Some(key.to_owned()),
        ..Default::default()
    }
}
