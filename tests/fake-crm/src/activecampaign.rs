//! The ActiveCampaign API v3 paths wpf-bridge uses, under `/activecampaign/api/3` (so the
//! account URL a client is given is `/activecampaign`), as the v3 reference describes them:
//! - `GET contacts/{id}` answers `{"contact": {...}, "fieldValues": [...]}` (the reference's
//!   answer side-loads related records), or 404 `{"message": "No Result found for Subscriber
//!   with id N"}`;
//! - `GET contacts?email=&limit=&offset=` answers `{"contacts": [...], "meta": {"total"}}`;
//! - `GET contacts/{id}/fieldValues` answers `{"fieldValues": [{contact, field, value, id,
//!   owner}]}`; `GET contacts/{id}/contactTags` answers `{"contactTags": [{contact, tag, id}]}`;
//! - `GET tags/{id}` answers `{"tag": {tagType, tag, description, id}}`, or 404
//!   `{"message": "No Result found for Tag with id N"}`;
//! - `GET fields?limit=&offset=` answers `{"fields": [{id, title, perstag, type}], "meta":
//!   {"total"}}`, paged (`limit` 20 by default, 100 at most);
//! - `POST fieldValues` `{"fieldValue": {contact, field, value}}` sets the contact's value of
//!   that field and answers `{"contacts": [...], "fieldValue": {...}}`; a missing attribute
//!   is 422 `{"errors": [{"title", "source": {"pointer"}}]}`, an unknown contact 404
//!   `{"errors": [{"status": 404, "title": "Not Found", "detail": "Contact not found"}]}` (the
//!   reference's answers for `POST contactTags`).
//!
//! Ids are strings in every answer, as ActiveCampaign writes them. Auth: header
//! `Api-Token: KEY`; anything else is 403 `{"message": "Forbidden"}` (assumed: the reference
//! documents the header, not the refusal).
//!
//! Stored form of a contact (what tests and seeds give): `{"id", "email", "firstName",
//! "lastName", "phone", "tags": [name, ...], "fields": {PERSTAG: value}}`. Tags and fields
//! named by a contact are registered on insert (ids from 1, in order of first use).

use serde_json::{json, Map, Value};

use crate::wire::{self, Request, Response};
use crate::{lock, Shared, State};

/// ActiveCampaign's error body: `{"message": ...}`.
pub fn error(status: u16, message: &str) -> Response {
    Response::json(status, &json!({ "message": message }))
}

/// ActiveCampaign's JSON:API-style error list (422s, and 404s of writes).
fn errors(status: u16, title: &str, pointer: Option<&str>) -> Response {
    let mut entry = json!({"status": status, "title": title});
    if let Some(pointer) = pointer {
        entry["source"] = json!({ "pointer": pointer });
    }
    Response::json(status, &json!({ "errors": [entry] }))
}

/// The registered tags and custom fields of the account.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    /// Tag names; a tag's id is its index + 1.
    pub tags: Vec<String>,
    /// `(perstag, title)`; a field's id is its index + 1.
    pub fields: Vec<(String, String)>,
}

impl Registry {
    pub fn tag_id(&mut self, name: &str) -> usize {
        match self.tags.iter().position(|t| t == name) {
            Some(index) => index + 1,
            None => {
                self.tags.push(name.to_string());
                self.tags.len()
            }
        }
    }

    pub fn field_id(&mut self, perstag: &str, title: &str) -> usize {
        match self
            .fields
            .iter()
            .position(|(tag, _)| tag.eq_ignore_ascii_case(perstag))
        {
            Some(index) => index + 1,
            None => {
                self.fields
                    .push((perstag.to_ascii_uppercase(), title.to_string()));
                self.fields.len()
            }
        }
    }

    fn field_view(&self, index: usize) -> Value {
        let (perstag, title) = &self.fields[index];
        json!({
            "id": (index + 1).to_string(), "title": title, "perstag": perstag, "type": "text",
            "descript": "", "isrequired": "0", "visible": "1", "ordernum": (index + 1).to_string()
        })
    }
}

/// Checks a contact before it is stored and registers its tags and fields.
pub(crate) fn register(
    registry: &mut Registry,
    contact: &Map<String, Value>,
) -> Result<(), String> {
    if let Some(tags) = contact.get("tags") {
        let Some(tags) = tags.as_array() else {
            return Err("an ActiveCampaign contact's \"tags\" must be a list of names".into());
        };
        for tag in tags {
            let Some(name) = tag.as_str() else {
                return Err("an ActiveCampaign tag must be a name".into());
            };
            registry.tag_id(name);
        }
    }
    if let Some(fields) = contact.get("fields") {
        let Some(fields) = fields.as_object() else {
            return Err(
                "an ActiveCampaign contact's \"fields\" must map perstags to values".into(),
            );
        };
        for perstag in fields.keys() {
            registry.field_id(perstag, perstag);
        }
    }
    Ok(())
}

pub fn handle(request: &Request, rest: &str, shared: &Shared) -> Response {
    let mut state = lock(shared);
    let token = &state.credentials.activecampaign_token;
    let authorized = request
        .header("api-token")
        .is_some_and(|given| !token.is_empty() && given.trim() == token);
    if !authorized {
        return error(403, "Forbidden");
    }
    let segments: Vec<&str> = rest.trim_matches('/').split('/').collect();
    let ["api", "3", segments @ ..] = segments.as_slice() else {
        return wire::Response::raw(
            404,
            "text/html",
            "<!DOCTYPE html><html><body>Page not found</body></html>",
        );
    };
    match (request.method.as_str(), segments) {
        ("GET", ["contacts"]) => list_contacts(request, &state),
        ("GET", ["contacts", id, rest @ ..]) => {
            let Some((id, contact)) = find(&state, id) else {
                return error(404, &format!("No Result found for Subscriber with id {id}"));
            };
            match rest {
                [] => Response::json(
                    200,
                    &json!({
                        "contact": contact_view(id, contact),
                        "fieldValues": field_values(&state, id, contact),
                    }),
                ),
                ["fieldValues"] => Response::json(
                    200,
                    &json!({"fieldValues": field_values(&state, id, contact)}),
                ),
                ["contactTags"] => Response::json(
                    200,
                    &json!({"contactTags": contact_tags(&state, id, contact)}),
                ),
                _ => error(404, "Not Found"),
            }
        }
        ("GET", ["tags", id]) => {
            let index = id.parse::<usize>().ok().filter(|i| *i >= 1);
            match index.and_then(|i| state.activecampaign_registry.tags.get(i - 1)) {
                Some(name) => Response::json(
                    200,
                    &json!({"tag": {
                        "tagType": "contact", "tag": name, "description": "",
                        "cdate": "2018-10-04T14:55:13-05:00", "subscriber_count": "1",
                        "links": {"contactGoalTags": format!(
                            "https://:account.api-us1.com/api/3/tags/{id}/contactGoalTags")},
                        "id": id.to_string()
                    }}),
                ),
                None => error(404, &format!("No Result found for Tag with id {id}")),
            }
        }
        ("GET", ["fields"]) => {
            let registry = &state.activecampaign_registry;
            let (limit, offset) = paging(request);
            let views: Vec<Value> = (0..registry.fields.len())
                .skip(offset)
                .take(limit)
                .map(|i| registry.field_view(i))
                .collect();
            Response::json(
                200,
                &json!({"fields": views, "meta": {"total": registry.fields.len().to_string()}}),
            )
        }
        ("POST", ["fieldValues"]) => set_field_value(request, &mut state),
        (_, ["contacts" | "tags" | "fields" | "fieldValues", ..]) => {
            error(405, "Method Not Allowed")
        }
        _ => error(404, "Not Found"),
    }
}

/// `limit` (default 20, at most 100) and `offset` (default 0).
fn paging(request: &Request) -> (usize, usize) {
    let number = |name: &str| {
        wire::query_param(&request.query, name).and_then(|v| v.trim().parse::<usize>().ok())
    };
    (
        number("limit").unwrap_or(20).min(100),
        number("offset").unwrap_or(0),
    )
}

fn find<'a>(state: &'a State, id: &str) -> Option<(u64, &'a Value)> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let id = id.parse().ok()?;
    state.activecampaign.get(&id).map(|contact| (id, contact))
}

fn list_contacts(request: &Request, state: &State) -> Response {
    let email = wire::query_param(&request.query, "email").map(|e| e.trim().to_lowercase());
    let matching: Vec<Value> = state
        .activecampaign
        .iter()
        .filter(|(_, contact)| match &email {
            None => true,
            Some(email) => contact
                .get("email")
                .and_then(Value::as_str)
                .is_some_and(|e| e.trim().to_lowercase() == *email),
        })
        .map(|(id, contact)| contact_view(*id, contact))
        .collect();
    let (limit, offset) = paging(request);
    let total = matching.len();
    let page: Vec<Value> = matching.into_iter().skip(offset).take(limit).collect();
    Response::json(
        200,
        &json!({"contacts": page, "meta": {"total": total.to_string(), "page_input": {}}}),
    )
}

fn contact_view(id: u64, contact: &Value) -> Value {
    let text = |key: &str| contact.get(key).cloned().unwrap_or_else(|| json!(""));
    json!({
        "cdate": "2018-08-06T16:26:04-05:00", "udate": "2018-08-06T16:26:04-05:00",
        "email": text("email"), "phone": text("phone"),
        "firstName": text("firstName"), "lastName": text("lastName"),
        "orgid": "0", "deleted": "0", "hash": "14d8c4418ae944c68e9dde4a975854cc",
        "links": {
            "fieldValues": format!("https://:account.api-us1.com/api/3/contacts/{id}/fieldValues"),
            "contactTags": format!("https://:account.api-us1.com/api/3/contacts/{id}/contactTags"),
        },
        "id": id.to_string(),
    })
}

fn field_values(state: &State, id: u64, contact: &Value) -> Vec<Value> {
    let registry = &state.activecampaign_registry;
    contact
        .get("fields")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(perstag, value)| {
            let index = registry
                .fields
                .iter()
                .position(|(tag, _)| tag.eq_ignore_ascii_case(perstag))?;
            let value_id = id * 1000 + index as u64 + 1;
            Some(json!({
                "contact": id.to_string(), "field": (index + 1).to_string(), "value": value,
                "cdate": "2021-05-12T14:19:38-05:00", "udate": "2021-05-12T14:54:57-05:00",
                "created_by": "0", "updated_by": "0",
                "links": {
                    "owner": format!("https://:account.api-us1.com/api/3/fieldValues/{value_id}/owner"),
                    "field": format!("https://:account.api-us1.com/api/3/fieldValues/{value_id}/field"),
                },
                "id": value_id.to_string(), "owner": id.to_string()
            }))
        })
        .collect()
}

fn contact_tags(state: &State, id: u64, contact: &Value) -> Vec<Value> {
    let registry = &state.activecampaign_registry;
    contact
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(|name| registry.tags.iter().position(|t| t == name))
        .map(|index| {
            let record = id * 1000 + index as u64 + 1;
            json!({
                "contact": id.to_string(), "tag": (index + 1).to_string(),
                "cdate": "2017-06-08T16:11:53-05:00",
                "links": {"contact": format!("/{record}/contact"), "tag": format!("/{record}/tag")},
                "id": record.to_string()
            })
        })
        .collect()
}

fn set_field_value(request: &Request, state: &mut State) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
        return errors(400, "The request body is not valid JSON", None);
    };
    let Some(value) = body.get("fieldValue").filter(|v| v.is_object()) else {
        return errors(
            422,
            "Missing attribute",
            Some("/data/attributes/fieldValue"),
        );
    };
    let id_of = |key: &str| value.get(key).and_then(crate::id_of);
    let Some(contact_id) = id_of("contact") else {
        return errors(422, "Missing attribute", Some("/data/attributes/contact"));
    };
    let Some(field_id) = id_of("field") else {
        return errors(422, "Missing attribute", Some("/data/attributes/field"));
    };
    let Some(text) = value.get("value").and_then(Value::as_str) else {
        return errors(422, "Missing attribute", Some("/data/attributes/value"));
    };
    let Some(perstag) = usize::try_from(field_id)
        .ok()
        .filter(|i| *i >= 1)
        .and_then(|i| state.activecampaign_registry.fields.get(i - 1))
        .map(|(perstag, _)| perstag.clone())
    else {
        return errors(
            422,
            "The related field does not exist.",
            Some("/data/attributes/field"),
        );
    };
    let Some(contact) = state.activecampaign.get_mut(&contact_id) else {
        return Response::json(
            404,
            &json!({"errors": [{"status": 404, "title": "Not Found", "detail": "Contact not found"}]}),
        );
    };
    if let Some(object) = contact.as_object_mut() {
        let fields = object
            .entry("fields")
            .or_insert_with(|| Value::Object(Map::new()));
        if !fields.is_object() {
            *fields = Value::Object(Map::new());
        }
        if let Some(fields) = fields.as_object_mut() {
            // The stored key of an existing field keeps its spelling.
            let key = fields
                .keys()
                .find(|k| k.eq_ignore_ascii_case(&perstag))
                .cloned()
                .unwrap_or(perstag);
            fields.insert(key, Value::String(text.to_string()));
        }
    }
    let view = contact_view(contact_id, contact);
    Response::json(
        200,
        &json!({
            "contacts": [view],
            "fieldValue": {
                "contact": contact_id.to_string(), "field": field_id.to_string(), "value": text,
                "cdate": "2018-11-02T16:51:52-05:00", "udate": "2018-11-02T16:51:52-05:00",
                "id": (contact_id * 1000 + field_id).to_string(), "owner": contact_id.to_string()
            }
        }),
    )
}

/// A contact's fields as the client should see them: the standard keys and the custom
/// fields by perstag.
pub fn fields_of(contact: &Value) -> Map<String, Value> {
    let mut out: Map<String, Value> = contact
        .get("fields")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for key in ["email", "firstName", "lastName", "phone"] {
        if let Some(value) = contact.get(key) {
            out.insert(key.to_string(), value.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_assigns_ids_once() {
        let mut registry = Registry::default();
        let contact = json!({"tags": ["a", "b", "a"], "fields": {"Team": "x"}});
        register(&mut registry, contact.as_object().unwrap()).unwrap();
        assert_eq!(registry.tags, vec!["a", "b"]);
        assert_eq!(registry.field_id("TEAM", "Team"), 1);
        assert_eq!(registry.field_id("WP_PASSWORD", "WP password"), 2);
        let bad = json!({"tags": "a, b"});
        assert!(register(&mut registry, bad.as_object().unwrap()).is_err());
    }
}
