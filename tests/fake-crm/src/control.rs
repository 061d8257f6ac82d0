//! The control API under `/_control/`, so a non-Rust test (the PHP end-to-end tests) can
//! program the fake as the Rust tests do through [`crate::FakeCrm`]. No auth: the fake only
//! listens on 127.0.0.1. Bodies and answers are JSON.
//!
//! | request | effect |
//! |---|---|
//! | `GET /_control/health` | `{"ok": true}` |
//! | `POST /_control/mautic/contacts` (a contact) | stores it, 201 `{"id": N}` |
//! | `GET /_control/mautic/contacts/{id}` | the stored contact, or 404 |
//! | `POST /_control/userengage/users` (a user) | stores it, 201 `{"id": N}` |
//! | `GET /_control/userengage/users/{id}` | the stored user, or 404 |
//! | `POST /_control/activecampaign/contacts` (a contact in the fake's form) | stores it, 201 |
//! | `GET /_control/activecampaign/contacts/{id}` | the stored contact, or 404 |
//! | `POST /_control/mailerlite/subscribers` (a subscriber) | stores it, 201 `{"id": N}` |
//! | `GET /_control/mailerlite/subscribers/{id}` | the stored subscriber, or 404 |
//! | `GET /_control/requests` | the recorded API requests, oldest first |
//! | `POST /_control/reset` | forgets contacts, users, requests, scripted answers |
//! | `POST /_control/fail` `{"status": 500, "count": 1, "body"?, "retry_after"?}` | next answers fail |
//! | `POST /_control/delay` `{"ms": 1000, "count": 1}` | next answers wait |
//! | `POST /_control/credentials` `{"mautic_username", ...}` (any subset) | accepted credentials |
//! | `POST /_control/seed` `{"mautic": [...], "userengage": [...], "activecampaign": [...], "mailerlite": [...]}` | stores them all |

use std::time::Duration;

use serde_json::{json, Value};

use crate::wire::{Request, Response};
use crate::{header_safe, id_of, lock, CrmApi, Scripted, Shared};

fn problem(status: u16, message: &str) -> Response {
    Response::json(status, &json!({ "error": message }))
}

pub fn handle(request: &Request, rest: &str, shared: &Shared) -> Response {
    let segments: Vec<&str> = rest
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let body = || -> Result<Value, Response> {
        if request.body.is_empty() {
            return Ok(Value::Object(Default::default()));
        }
        serde_json::from_slice(&request.body)
            .map_err(|e| problem(400, &format!("the body is not JSON: {e}")))
    };
    let mut state = lock(shared);
    match (request.method.as_str(), segments.as_slice()) {
        ("GET", ["health"]) => Response::json(200, &json!({"ok": true})),
        ("POST", [crm, collection]) => {
            let Some(api) = collection_api(crm, collection) else {
                return problem(404, "unknown control endpoint");
            };
            let record = match body() {
                Ok(record) => record,
                Err(response) => return response,
            };
            match state.insert(api, record) {
                Ok(id) => Response::json(201, &json!({ "id": id })),
                Err(message) => problem(400, &message),
            }
        }
        ("GET", [crm, collection, id]) => {
            let id = id_of(&Value::String((*id).to_string()));
            let store = match collection_api(crm, collection) {
                Some(CrmApi::Mautic) => &state.mautic,
                Some(CrmApi::UserEngage) => &state.userengage,
                Some(CrmApi::ActiveCampaign) => &state.activecampaign,
                Some(CrmApi::MailerLite) => &state.mailerlite,
                None => return problem(404, "unknown control endpoint"),
            };
            match id.and_then(|id| store.get(&id)) {
                Some(record) => Response::json(200, record),
                None => problem(404, "no such contact"),
            }
        }
        ("GET", ["requests"]) => {
            let list: Vec<Value> = state.requests.iter().map(|r| r.to_json()).collect();
            Response::json(200, &Value::Array(list))
        }
        ("POST", ["reset"]) => {
            state.reset();
            Response::json(200, &json!({"ok": true}))
        }
        ("POST", ["fail"]) => {
            let spec = match body() {
                Ok(spec) => spec,
                Err(response) => return response,
            };
            let Some(status) = spec
                .get("status")
                .and_then(Value::as_u64)
                .and_then(|s| u16::try_from(s).ok())
                .filter(|s| (100..=599).contains(s))
            else {
                return problem(400, "\"status\" must be an HTTP status (100-599)");
            };
            // `Retry-After` as seconds or an HTTP-date; a 429 gets 60 unless told otherwise.
            let retry_after = match spec.get("retry_after") {
                None | Some(Value::Null) => (status == 429).then(|| "60".to_string()),
                Some(Value::Number(n)) => Some(n.to_string()),
                Some(Value::String(s)) if header_safe(s) => Some(s.clone()),
                Some(_) => return problem(400, "\"retry_after\" must be seconds or an HTTP-date"),
            };
            let count = count_of(&spec);
            let scripted = match spec.get("body").and_then(Value::as_str) {
                Some(body) => Scripted::Raw {
                    status,
                    body: body.to_string(),
                },
                None => Scripted::Fail {
                    status,
                    retry_after,
                },
            };
            state.scripted.extend(std::iter::repeat_n(scripted, count));
            Response::json(200, &json!({"ok": true}))
        }
        ("POST", ["delay"]) => {
            let spec = match body() {
                Ok(spec) => spec,
                Err(response) => return response,
            };
            let Some(ms) = spec
                .get("ms")
                .and_then(Value::as_u64)
                .filter(|ms| *ms <= 600_000)
            else {
                return problem(400, "\"ms\" must be a number of milliseconds up to 600000");
            };
            let count = count_of(&spec);
            state
                .delays
                .extend(std::iter::repeat_n(Duration::from_millis(ms), count));
            Response::json(200, &json!({"ok": true}))
        }
        ("POST", ["credentials"]) => {
            let spec = match body() {
                Ok(spec) => spec,
                Err(response) => return response,
            };
            let credentials = &mut state.credentials;
            for (key, slot) in [
                ("mautic_username", &mut credentials.mautic_username),
                ("mautic_password", &mut credentials.mautic_password),
                ("mautic_token", &mut credentials.mautic_token),
                ("userengage_key", &mut credentials.userengage_key),
                (
                    "activecampaign_token",
                    &mut credentials.activecampaign_token,
                ),
                ("mailerlite_token", &mut credentials.mailerlite_token),
            ] {
                if let Some(value) = spec.get(key).and_then(Value::as_str) {
                    *slot = value.to_string();
                }
            }
            Response::json(200, &json!({"ok": true}))
        }
        ("POST", ["seed"]) => {
            let seed = match body() {
                Ok(seed) => seed,
                Err(response) => return response,
            };
            match state.seed(&seed) {
                Ok(()) => Response::json(200, &json!({"ok": true})),
                Err(message) => problem(400, &message),
            }
        }
        _ => problem(404, "unknown control endpoint; see fake-crm's control.rs"),
    }
}

fn collection_api(crm: &str, collection: &str) -> Option<CrmApi> {
    match (crm, collection) {
        ("mautic", "contacts") => Some(CrmApi::Mautic),
        ("userengage", "users") => Some(CrmApi::UserEngage),
        ("activecampaign", "contacts") => Some(CrmApi::ActiveCampaign),
        ("mailerlite", "subscribers") => Some(CrmApi::MailerLite),
        _ => None,
    }
}

/// `count`, default 1, at most 10 000.
fn count_of(spec: &Value) -> usize {
    spec.get("count")
        .and_then(Value::as_u64)
        .map_or(1, |c| c.min(10_000) as usize)
}
