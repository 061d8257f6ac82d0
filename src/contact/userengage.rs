//! User.com's contact shape: a user object with scalar standard keys, a `name` to split,
//! custom `attributes` by `name_std`, and tags as `[{name}]`. Read alike from the "API call"
//! webhook body (`webhook/payload/userengage.rs`) and the REST API (`crm/userengage.rs`).

use serde_json::{Map, Value};

/// The member of a tag object that holds its name.
pub const TAG_NAME_KEY: &str = "name";

/// Tag names from `[{name, id}]` (see `text::tag_names` for the rules).
pub fn tag_names(tags: &Value) -> Option<Vec<String>> {
    crate::text::tag_names(tags, TAG_NAME_KEY)
}

/// A User.com user's fields: the scalar keys (`email`, `phone_number`, ...; not `id`),
/// `first_name` / `last_name` split from `name` unless given, then the custom attributes by
/// `name_std` (an attribute named like a standard key wins). The one rule for the "API call"
/// webhook body and the REST API's user alike.
pub fn user_fields(user: &Map<String, Value>) -> Map<String, Value> {
    let mut fields: Map<String, Value> = user
        .iter()
        .filter(|(key, value)| key.as_str() != "id" && !(value.is_object() || value.is_array()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    if let Some(name) = user.get("name").and_then(Value::as_str) {
        let mut words = name.split_whitespace();
        if let Some(first) = words.next() {
            let rest = words.collect::<Vec<_>>().join(" ");
            let parts = [("first_name", first.to_string()), ("last_name", rest)];
            for (key, part) in parts {
                let given = fields
                    .get(key)
                    .and_then(Value::as_str)
                    .is_some_and(|s| !s.trim().is_empty());
                if !given && !part.is_empty() {
                    fields.insert(key.to_string(), Value::String(part));
                }
            }
        }
    }
    if let Some(attributes) = user.get("attributes") {
        add_attributes(&mut fields, attributes);
    }
    fields
}

/// Adds `[{name_std, value}]` custom attributes to a field map.
pub fn add_attributes(fields: &mut Map<String, Value>, attributes: &Value) {
    for attribute in attributes.as_array().into_iter().flatten() {
        if let Some(name) = attribute.get("name_std").and_then(Value::as_str) {
            let name = name.trim();
            if !name.is_empty() {
                fields.insert(
                    name.to_string(),
                    attribute.get("value").cloned().unwrap_or(Value::Null),
                );
            }
        }
    }
}
