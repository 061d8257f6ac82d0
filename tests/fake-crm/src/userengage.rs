//! The User.com REST API paths wpf-bridge uses, under `/userengage/api/public` (paths end in
//! `/`, as Django's do):
//! - `GET users/{id}/` answers the user object, or 404 `{"detail": "Not found."}`;
//! - `GET users/search/?email=` answers the user with that email (case-insensitive), or 404;
//! - `GET users/` answers `{"next": null, "previous": null, "results": [...]}`;
//! - `POST users/{id}/set_multiple_attributes/` `{name_std: value}` sets `attributes[]`
//!   (adding unknown ones) and answers the user;
//! - `PUT users/{id}/` merges standard fields (`tags` are added, never removed);
//! - `POST users/{id}/add_tag/` `{"name"}` adds a tag.
//!
//! Auth: `Authorization: Token KEY`; anything else is 401 with Django REST framework's
//! `{"detail": ...}`.

use serde_json::{json, Map, Value};

use crate::wire::{self, Request, Response};
use crate::{id_of, lock, Shared};

/// User.com's (Django REST framework's) error body: `{"detail": message}`.
pub fn error(status: u16, message: &str) -> Response {
    Response::json(status, &json!({ "detail": message }))
}

fn not_found() -> Response {
    error(404, "Not found.")
}

pub fn handle(request: &Request, rest: &str, shared: &Shared) -> Response {
    let mut state = lock(shared);
    match request.header("authorization") {
        None => return error(401, "Authentication credentials were not provided."),
        Some(header) => {
            let key = &state.credentials.userengage_key;
            let expected = format!("Token {key}");
            if key.is_empty() || header.trim() != expected {
                return error(401, "Invalid token.");
            }
        }
    }
    if !rest.ends_with('/') {
        return not_found();
    }
    let segments: Vec<&str> = rest.trim_matches('/').split('/').collect();
    let users = &mut state.userengage;
    match (request.method.as_str(), segments.as_slice()) {
        ("GET", ["users"]) => {
            let results: Vec<&Value> = users.values().take(100).collect();
            Response::json(
                200,
                &json!({"next": null, "previous": null, "results": results}),
            )
        }
        ("GET", ["users", "search"]) => {
            let Some(email) = wire::query_param(&request.query, "email") else {
                return error(400, "Provide an email, key or custom_id parameter.");
            };
            let email = email.trim().to_lowercase();
            match users.values().find(|u| {
                u.get("email")
                    .and_then(Value::as_str)
                    .is_some_and(|e| e.trim().to_lowercase() == email)
            }) {
                Some(user) => Response::json(200, user),
                None => not_found(),
            }
        }
        (method, ["users", id, rest @ ..]) => {
            let Some(user) = parse_id(id).and_then(|id| users.get_mut(&id)) else {
                return not_found();
            };
            match (method, rest) {
                ("GET", []) => Response::json(200, user),
                ("PUT", []) => match body_object(request) {
                    Ok(changes) => {
                        merge_standard(user, &changes);
                        Response::json(200, user)
                    }
                    Err(response) => response,
                },
                ("POST", ["set_multiple_attributes"]) => match body_object(request) {
                    Ok(changes) => {
                        set_attributes(user, &changes);
                        Response::json(200, user)
                    }
                    Err(response) => response,
                },
                ("POST", ["add_tag"]) => match body_object(request) {
                    Ok(body) => match body.get("name").and_then(Value::as_str) {
                        Some(name) => {
                            add_tag(user, name);
                            Response::json(200, user)
                        }
                        None => error(400, "name: This field is required."),
                    },
                    Err(response) => response,
                },
                (_, [] | ["set_multiple_attributes"] | ["add_tag"]) => {
                    error(405, &format!("Method \"{method}\" not allowed."))
                }
                _ => not_found(),
            }
        }
        _ => not_found(),
    }
}

fn parse_id(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn body_object(request: &Request) -> Result<Map<String, Value>, Response> {
    match serde_json::from_slice::<Value>(&request.body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(error(400, "Expected a JSON object.")),
        Err(_) => Err(error(400, "JSON parse error.")),
    }
}

/// Scalar top-level keys plus `attributes[]` as `name_std` to `value`.
pub fn fields_of(user: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(object) = user.as_object() {
        for (key, value) in object {
            if !(value.is_object() || value.is_array()) {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    if let Some(attributes) = user.get("attributes").and_then(Value::as_array) {
        for attribute in attributes {
            if let Some(name) = attribute.get("name_std").and_then(Value::as_str) {
                let value = attribute.get("value").cloned().unwrap_or(Value::Null);
                out.insert(name.to_string(), value);
            }
        }
    }
    out
}

fn set_attributes(user: &mut Value, changes: &Map<String, Value>) {
    let Some(object) = user.as_object_mut() else {
        return;
    };
    let attributes = object
        .entry("attributes")
        .or_insert_with(|| Value::Array(Vec::new()));
    if !attributes.is_array() {
        *attributes = Value::Array(Vec::new());
    }
    let Some(attributes) = attributes.as_array_mut() else {
        return;
    };
    for (name, value) in changes {
        let existing = attributes
            .iter_mut()
            .find(|a| a.get("name_std").and_then(Value::as_str) == Some(name.as_str()));
        match existing {
            Some(Value::Object(attribute)) => {
                attribute.insert("value".to_string(), value.clone());
            }
            _ => {
                let id = attributes
                    .iter()
                    .filter_map(|a| a.get("id").and_then(id_of))
                    .max()
                    .unwrap_or(1000)
                    + 1;
                attributes.push(json!({"value": value, "name": name, "name_std": name, "id": id}));
            }
        }
    }
}

fn merge_standard(user: &mut Value, changes: &Map<String, Value>) {
    let Some(object) = user.as_object_mut() else {
        return;
    };
    for (key, value) in changes {
        match (key.as_str(), value) {
            ("tags", Value::Array(names)) => {
                let names: Vec<String> = names
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect();
                let mut wrapper = Value::Object(std::mem::take(object));
                for name in names {
                    add_tag(&mut wrapper, &name);
                }
                if let Value::Object(back) = wrapper {
                    *object = back;
                }
            }
            ("id" | "attributes" | "tags", _) => {}
            (_, v) if !(v.is_object() || v.is_array()) => {
                object.insert(key.clone(), v.clone());
            }
            _ => {}
        }
    }
}

fn add_tag(user: &mut Value, name: &str) {
    let Some(object) = user.as_object_mut() else {
        return;
    };
    let tags = object
        .entry("tags")
        .or_insert_with(|| Value::Array(Vec::new()));
    if !tags.is_array() {
        *tags = Value::Array(Vec::new());
    }
    let Some(tags) = tags.as_array_mut() else {
        return;
    };
    if tags
        .iter()
        .any(|t| t.get("name").and_then(Value::as_str) == Some(name))
    {
        return;
    }
    let id = tags
        .iter()
        .filter_map(|t| t.get("id").and_then(id_of))
        .max()
        .unwrap_or(0)
        + 1;
    tags.push(json!({"name": name, "id": id}));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_set_or_added() {
        let mut user = json!({"id": 1, "attributes": [{"name_std": "a", "value": 1, "id": 5}]});
        let changes = json!({"a": 2, "b": "x"});
        set_attributes(&mut user, changes.as_object().unwrap());
        let fields = fields_of(&user);
        assert_eq!(fields["a"], json!(2));
        assert_eq!(fields["b"], json!("x"));
        merge_standard(
            &mut user,
            json!({"first_name": "J", "tags": ["t"]})
                .as_object()
                .unwrap(),
        );
        assert_eq!(user["first_name"], json!("J"));
        assert_eq!(user["tags"], json!([{"name": "t", "id": 1}]));
    }
}
