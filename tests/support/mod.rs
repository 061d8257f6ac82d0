//! Shared test support: the in-memory Site, the in-memory queue, and a webhook request.
#![allow(dead_code)]
pub mod memory_queue;
pub mod memory_site;

use serde_json::{Map, Value};
use wpf_bridge::webhook::Request;

/// A JSON webhook POST: `query` as `k=v&k=v` (no decoding), `headers` beside its Content-Type.
pub fn request(query: &str, body: &[u8], headers: &[(&str, &str)]) -> Request {
    let mut params = Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        params.insert(k.to_string(), Value::String(v.to_string()));
    }
    let mut all = vec![("content-type".to_string(), "application/json".to_string())];
    all.extend(headers.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Request {
        method: "POST".into(),
        query: params,
        post: Map::new(),
        headers: all,
        body: body.to_vec(),
    }
}
