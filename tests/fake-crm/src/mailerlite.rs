//! The MailerLite API paths wpf-bridge uses (the API at connect.mailerlite.com), under
//! `/mailerlite/api`, as developers.mailerlite.com describes them:
//! - `GET subscribers/{id or email}` answers `{"data": subscriber}`, or 404
//!   `{"message": "Resource not found."}`;
//! - `GET subscribers?limit=&cursor=` answers `{"data": [...], "links": {first, last, prev,
//!   next}, "meta": {path, per_page, next_cursor, prev_cursor}}`, cursor-paged (`limit` 25 by
//!   default);
//! - `PUT subscribers/{id}` `{"fields": {...}, "status"?}` changes only what is sent and
//!   answers `{"data": subscriber}`; a body that breaks the rules is 422 `{"message": "The
//!   given data was invalid.", "errors": {"fields": ["..."]}}` (Laravel's validation form,
//!   which the docs show).
//!
//! Ids are strings of digits. Auth: `Authorization: Bearer TOKEN`; anything else is 401
//! `{"message": "Unauthenticated."}` (the docs' answer, on every request).
//!
//! Stored form of a subscriber (what tests and seeds give, and what the API answers):
//! `{"id", "email", "status", "fields": {...}, "groups": [{"id", "name"}]}`.

use serde_json::{json, Map, Value};

use crate::wire::{self, Request, Response};
use crate::{lock, Shared, State};

/// MailerLite's error body: `{"message": ...}`.
pub fn error(status: u16, message: &str) -> Response {
    Response::json(status, &json!({ "message": message }))
}

fn invalid(field: &str, message: &str) -> Response {
    Response::json(
        422,
        &json!({"message": "The given data was invalid.", "errors": {field: [message]}}),
    )
}

/// Fills what a stored subscriber needs: `id` as a string, `status`, `fields`, `groups`.
pub(crate) fn complete(id: u64, subscriber: &mut Map<String, Value>) -> Result<(), String> {
    subscriber.insert("id".to_string(), Value::String(id.to_string()));
    subscriber
        .entry("status")
        .or_insert_with(|| json!("active"));
    subscriber
        .entry("fields")
        .or_insert_with(|| Value::Object(Map::new()));
    subscriber
        .entry("groups")
        .or_insert_with(|| Value::Array(Vec::new()));
    if !subscriber["fields"].is_object() {
        return Err("a MailerLite subscriber's \"fields\" must be an object".into());
    }
    if !subscriber["groups"].is_array() {
        return Err("a MailerLite subscriber's \"groups\" must be a list".into());
    }
    Ok(())
}

pub fn handle(request: &Request, rest: &str, shared: &Shared) -> Response {
    let mut state = lock(shared);
    let token = &state.credentials.mailerlite_token;
    let authorized = request
        .header("authorization")
        .is_some_and(|given| !token.is_empty() && given.trim() == format!("Bearer {token}"));
    if !authorized {
        return error(401, "Unauthenticated.");
    }
    let segments: Vec<&str> = rest
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    match (request.method.as_str(), segments.as_slice()) {
        ("GET", ["subscribers"]) => list(request, &state),
        ("GET", ["subscribers", reference]) => match find(&state, reference) {
            Some(id) => Response::json(200, &json!({"data": state.mailerlite[&id]})),
            None => error(404, "Resource not found."),
        },
        ("PUT", ["subscribers", reference]) => {
            let Some(id) = find(&state, reference) else {
                return error(404, "Resource not found.");
            };
            update(request, &mut state, id)
        }
        (_, ["subscribers", ..]) => error(
            405,
            &format!(
                "The {} method is not supported for this route.",
                request.method
            ),
        ),
        _ => error(404, "Resource not found."),
    }
}

/// A subscriber by id (digits) or email (case-insensitive).
fn find(state: &State, reference: &str) -> Option<u64> {
    let reference = wire::decode_component(reference);
    if !reference.is_empty() && reference.bytes().all(|b| b.is_ascii_digit()) {
        let id = reference.parse().ok()?;
        return state.mailerlite.contains_key(&id).then_some(id);
    }
    let email = reference.trim().to_lowercase();
    state.mailerlite.iter().find_map(|(id, subscriber)| {
        subscriber
            .get("email")
            .and_then(Value::as_str)
            .is_some_and(|e| e.trim().to_lowercase() == email)
            .then_some(*id)
    })
}

fn list(request: &Request, state: &State) -> Response {
    let limit = wire::query_param(&request.query, "limit")
        .and_then(|l| l.trim().parse::<usize>().ok())
        .unwrap_or(25)
        .clamp(1, 1000);
    // The cursor is opaque to clients; here it is the first id of the page.
    let after: u64 = wire::query_param(&request.query, "cursor")
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let mut ids = state.mailerlite.range(after..).map(|(id, _)| *id);
    let page: Vec<u64> = ids.by_ref().take(limit).collect();
    let next = ids.next().map(|id| id.to_string());
    let data: Vec<&Value> = page.iter().map(|id| &state.mailerlite[id]).collect();
    let link = |cursor: &Option<String>| match cursor {
        Some(c) => json!(format!(
            "https://connect.mailerlite.com/api/subscribers?cursor={c}"
        )),
        None => Value::Null,
    };
    Response::json(
        200,
        &json!({
            "data": data,
            "links": {"first": null, "last": null, "prev": null, "next": link(&next)},
            "meta": {"path": "https://connect.mailerlite.com/api/subscribers",
                     "per_page": limit, "next_cursor": next, "prev_cursor": null}
        }),
    )
}

fn update(request: &Request, state: &mut State, id: u64) -> Response {
    let changes = match serde_json::from_slice::<Value>(&request.body) {
        Ok(Value::Object(changes)) => changes,
        _ => return error(400, "The request body must be a JSON object."),
    };
    let fields = match changes.get("fields") {
        None => Map::new(),
        Some(Value::Object(fields)) => fields.clone(),
        Some(_) => return invalid("fields", "The fields must be an array."),
    };
    if let Some((key, _)) = fields.iter().find(|(_, v)| v.is_object() || v.is_array()) {
        return invalid(
            &format!("fields.{key}"),
            "The field value must be a string, number or null.",
        );
    }
    let status = match changes.get("status") {
        None => None,
        Some(Value::String(s))
            if ["active", "unsubscribed", "unconfirmed", "bounced", "junk"]
                .contains(&s.as_str()) =>
        {
            Some(s.clone())
        }
        Some(_) => return invalid("status", "The selected status is invalid."),
    };
    let Some(subscriber) = state.mailerlite.get_mut(&id).and_then(Value::as_object_mut) else {
        return error(404, "Resource not found.");
    };
    if let Some(Value::Object(stored)) = subscriber.get_mut("fields") {
        stored.extend(fields);
    }
    if let Some(status) = status {
        subscriber.insert("status".to_string(), Value::String(status));
    }
    subscriber.insert("updated_at".to_string(), json!("2021-09-01 14:03:50"));
    Response::json(200, &json!({"data": subscriber}))
}

/// A subscriber's fields as the client should see them: `fields` plus `email`.
pub fn fields_of(subscriber: &Value) -> Map<String, Value> {
    let mut out = subscriber
        .get("fields")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some(email) = subscriber.get("email") {
        out.insert("email".to_string(), email.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_subscribers_are_completed() {
        let mut subscriber = json!({"email": "a@b.c"}).as_object().cloned().unwrap();
        complete(7, &mut subscriber).unwrap();
        assert_eq!(subscriber["id"], json!("7"));
        assert_eq!(subscriber["status"], json!("active"));
        let mut bad = json!({"fields": []}).as_object().cloned().unwrap();
        assert!(complete(1, &mut bad).is_err());
    }
}
