//! The Mautic REST API paths wpf-bridge uses, under `/mautic`:
//! - `GET /api/contacts/{id}` answers `{"contact": {...}}`, or 404 with Mautic's error JSON;
//! - `GET /api/contacts?search=email:"+x"&limit&start&minimal` answers `{"total", "contacts"}`
//!   with `contacts` an object keyed by id, or `[]` when nothing matches (as Mautic does);
//! - `PATCH /api/contacts/{id}/edit` (JSON or form body) writes fields into `fields.all` and
//!   the grouped fields, applies `tags` (`-name` removes), honours `overwriteWithBlank`.
//!
//! Auth: `Basic` with the configured user and password, or `Bearer` with the token; anything
//! else is 401 `{"errors":[{"message":"API authorization denied.","code":401,...}]}`.

use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Map, Value};

use crate::wire::{self, Request, Response};
use crate::{id_of, lock, Credentials, Shared};

/// Mautic's error body: `{"errors":[{"message","code","type"}]}`.
pub fn error(status: u16, message: &str) -> Response {
    let kind = match status {
        401 | 403 => json!("access_denied"),
        _ => Value::Null,
    };
    Response::json(
        status,
        &json!({"errors": [{"message": message, "code": status, "type": kind}]}),
    )
}

fn not_found() -> Response {
    error(404, "Item was not found.")
}

pub fn handle(request: &Request, rest: &str, shared: &Shared) -> Response {
    let mut state = lock(shared);
    if !authorized(request, &state.credentials) {
        return error(401, "API authorization denied.");
    }
    let segments: Vec<&str> = rest.trim_matches('/').split('/').collect();
    match (request.method.as_str(), segments.as_slice()) {
        ("GET", ["api", "contacts"]) => list(request, &state.mautic),
        ("GET", ["api", "contacts", id]) => match parse_id(id).and_then(|id| state.mautic.get(&id))
        {
            Some(contact) => Response::json(200, &json!({"contact": contact})),
            None => not_found(),
        },
        ("PATCH", ["api", "contacts", id, "edit"]) => {
            let Some(contact) = parse_id(id).and_then(|id| state.mautic.get_mut(&id)) else {
                return not_found();
            };
            let changes = match body_fields(request) {
                Ok(changes) => changes,
                Err(message) => return error(400, &message),
            };
            if let Some(email) = changes.get("email").and_then(Value::as_str) {
                if !email.is_empty() && !email.contains('@') {
                    return error(400, "email: A valid email is required.");
                }
            }
            apply_edit(contact, &changes);
            Response::json(200, &json!({"contact": contact}))
        }
        (_, ["api", "contacts", ..]) => error(405, "Method not allowed."),
        _ => error(404, "Requested URL not found."),
    }
}

fn authorized(request: &Request, credentials: &Credentials) -> bool {
    let Some(header) = request.header("authorization") else {
        return false;
    };
    let (scheme, value) = header.split_once(' ').unwrap_or((header, ""));
    let value = value.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return !credentials.mautic_token.is_empty() && value == credentials.mautic_token;
    }
    if scheme.eq_ignore_ascii_case("basic") && !credentials.mautic_username.is_empty() {
        let expected = format!(
            "{}:{}",
            credentials.mautic_username, credentials.mautic_password
        );
        // Padding or not, as PHP's base64_decode takes it.
        let decoded = STANDARD_NO_PAD.decode(value.trim_end_matches('='));
        return decoded.is_ok_and(|pair| pair == expected.as_bytes());
    }
    false
}

fn parse_id(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `GET /api/contacts`: all contacts, or those matching an `email:` search.
fn list(request: &Request, contacts: &std::collections::BTreeMap<u64, Value>) -> Response {
    let search = wire::query_param(&request.query, "search").unwrap_or_default();
    let limit = wire::query_param(&request.query, "limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(30);
    let start = wire::query_param(&request.query, "start")
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(0);
    let filter = match parse_search(&search) {
        Ok(filter) => filter,
        Err(message) => return error(400, &message),
    };
    let matching: Vec<(&u64, &Value)> = contacts
        .iter()
        .filter(|(_, contact)| match &filter {
            None => true,
            Some((needle, strict)) => email_of(contact).is_some_and(|email| {
                let email = email.to_lowercase();
                if *strict {
                    email == *needle
                } else {
                    email.contains(needle.as_str())
                }
            }),
        })
        .collect();
    let total = matching.len();
    let page: Map<String, Value> = matching
        .into_iter()
        .skip(start)
        .take(limit)
        .map(|(id, contact)| (id.to_string(), contact.clone()))
        .collect();
    // PHP encodes an empty array as `[]`, a keyed one as an object.
    let contacts = if page.is_empty() {
        json!([])
    } else {
        Value::Object(page)
    };
    Response::json(200, &json!({"total": total, "contacts": contacts}))
}

/// `email:"+x"`, `email:+x`, `email:x` (lowercased, as Mautic does) to (needle, strict).
/// An empty search is no filter; other commands are refused so tests notice.
fn parse_search(search: &str) -> Result<Option<(String, bool)>, String> {
    let search = search.trim();
    if search.is_empty() {
        return Ok(None);
    }
    let Some(value) = search.strip_prefix("email:") else {
        return Err(format!(
            "fake-crm only understands email: searches, not {search:?}"
        ));
    };
    let value = value.trim();
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    let (value, strict) = match value.strip_prefix('+') {
        Some(v) => (v, true),
        None => (value, false),
    };
    Ok(Some((value.trim().to_lowercase(), strict)))
}

/// The contact's email: `fields.all.email`, else `fields.core.email.value`.
fn email_of(contact: &Value) -> Option<&str> {
    contact
        .pointer("/fields/all/email")
        .or_else(|| contact.pointer("/fields/core/email/value"))
        .and_then(Value::as_str)
}

/// Alias to value: `fields.all`, else the grouped fields flattened.
pub fn fields_of(contact: &Value) -> Map<String, Value> {
    if let Some(all) = contact.pointer("/fields/all").and_then(Value::as_object) {
        return all.clone();
    }
    let mut out = Map::new();
    if let Some(groups) = contact.get("fields").and_then(Value::as_object) {
        for group in groups.values().filter_map(Value::as_object) {
            for (alias, field) in group {
                if let Some(value) = field.get("value") {
                    out.insert(alias.clone(), value.clone());
                }
            }
        }
    }
    out
}

/// The edit's fields: a JSON object, or a form-encoded body (`tags[]=a&tags[]=-b`).
fn body_fields(request: &Request) -> Result<Map<String, Value>, String> {
    let is_form = request
        .header("content-type")
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    if is_form {
        let text = String::from_utf8_lossy(&request.body);
        let mut out = Map::new();
        for (key, value) in wire::query_pairs(&text) {
            if let Some(list) = key.strip_suffix("[]") {
                let entry = out
                    .entry(list.to_string())
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(items) = entry {
                    items.push(Value::String(value));
                }
            } else {
                out.insert(key, Value::String(value));
            }
        }
        return Ok(out);
    }
    match serde_json::from_slice::<Value>(&request.body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("The request body must be an object of field aliases.".to_string()),
        Err(_) => Err("The request body is not valid JSON.".to_string()),
    }
}

/// Keys of an edit that are not contact fields.
const NOT_FIELDS: &[&str] = &[
    "overwriteWithBlank",
    "ipAddress",
    "lastActive",
    "owner",
    "stage",
    "doNotContact",
    "frequencyRules",
];

fn apply_edit(contact: &mut Value, changes: &Map<String, Value>) {
    let overwrite = matches!(changes.get("overwriteWithBlank"), Some(Value::Bool(true)))
        || matches!(
            changes.get("overwriteWithBlank").and_then(Value::as_str),
            Some("1" | "true")
        );
    let Some(object) = contact.as_object_mut() else {
        return;
    };
    for (key, value) in changes {
        if NOT_FIELDS.contains(&key.as_str()) {
            continue;
        }
        if key == "tags" {
            apply_tags(object, value);
            continue;
        }
        let blank = value.is_null() || value.as_str().is_some_and(str::is_empty);
        if blank && !overwrite {
            continue;
        }
        let fields = object
            .entry("fields")
            .or_insert_with(|| Value::Object(Map::new()));
        if !fields.is_object() {
            *fields = Value::Object(Map::new());
        }
        if let Some(groups) = fields.as_object_mut() {
            for (name, group) in groups.iter_mut() {
                if name == "all" {
                    continue;
                }
                if let Some(field) = group.get_mut(key).and_then(Value::as_object_mut) {
                    field.insert("value".to_string(), value.clone());
                    field.insert("normalizedValue".to_string(), value.clone());
                }
            }
            let all = groups
                .entry("all")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(all) = all.as_object_mut() {
                all.insert(key.clone(), value.clone());
            }
        }
    }
}

/// `tags`: a list (or comma-separated string) of names; `-name` removes.
fn apply_tags(contact: &mut Map<String, Value>, value: &Value) {
    let names: Vec<String> = match value {
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Value::String(s) => s.split(',').map(|t| t.trim().to_string()).collect(),
        _ => return,
    };
    let tags = contact
        .entry("tags")
        .or_insert_with(|| Value::Array(Vec::new()));
    if !tags.is_array() {
        *tags = Value::Array(Vec::new());
    }
    let Some(tags) = tags.as_array_mut() else {
        return;
    };
    for name in names {
        if let Some(removed) = name.strip_prefix('-') {
            tags.retain(|t| t.get("tag").and_then(Value::as_str) != Some(removed));
        } else if !name.is_empty()
            && !tags
                .iter()
                .any(|t| t.get("tag").and_then(Value::as_str) == Some(name.as_str()))
        {
            let id = tags
                .iter()
                .filter_map(|t| t.get("id").and_then(id_of))
                .max()
                .unwrap_or(0)
                + 1;
            tags.push(json!({"id": id, "tag": name, "description": null}));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_parse() {
        assert_eq!(
            parse_search("email:\"+A@b.c\"").unwrap(),
            Some(("a@b.c".to_string(), true))
        );
        assert_eq!(
            parse_search("email:a@b").unwrap(),
            Some(("a@b".to_string(), false))
        );
        assert_eq!(parse_search("").unwrap(), None);
        assert!(parse_search("name:x").is_err());
    }

    #[test]
    fn edits_apply_fields_and_tags() {
        let mut contact = json!({
            "id": 1,
            "fields": {"core": {"firstname": {"value": "A"}}, "all": {"firstname": "A"}},
            "tags": [{"id": 1, "tag": "old"}]
        });
        let changes = json!({"firstname": "B", "city": "", "tags": ["new", "-old"]});
        apply_edit(&mut contact, changes.as_object().unwrap());
        assert_eq!(
            contact.pointer("/fields/core/firstname/value"),
            Some(&json!("B"))
        );
        assert_eq!(fields_of(&contact).get("city"), None);
        assert_eq!(
            contact["tags"],
            json!([{"id": 2, "tag": "new", "description": null}])
        );
        let blank = json!({"city": "", "overwriteWithBlank": true});
        apply_edit(&mut contact, blank.as_object().unwrap());
        assert_eq!(fields_of(&contact).get("city"), Some(&json!("")));
    }
}
