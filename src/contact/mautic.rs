//! Mautic's contact shape: fields grouped by `core`, `social`, `personal`, `professional`
//! (or the REST API's flat `all` group), tags as `[{id, tag}]`. Read alike from webhook
//! payloads (`webhook/payload/mautic.rs`) and API answers (`crm/mautic.rs`).

use serde_json::{Map, Value};

/// The member of a tag object that holds its name.
pub const TAG_NAME_KEY: &str = "tag";

/// Tag names from `[{id, tag, description}]` (see `text::tag_names` for the rules).
pub fn tag_names(tags: &Value) -> Option<Vec<String>> {
    crate::text::tag_names(tags, TAG_NAME_KEY)
}

/// Mautic's grouped fields (`fields.{core,social,personal,professional}.{alias}.value`) as
/// alias => value: the one flattening rule, for webhook payloads and API answers alike (the
/// REST API's `all` group of bare values flattens to itself). A group may be an empty list
/// (`[]`, Mautic #7773) or a list of field objects with their `alias`; a field given as a
/// bare value is taken as it is.
pub fn fields_from_groups(groups: &Value) -> Map<String, Value> {
    let groups: Vec<&Value> = match groups {
        Value::Object(groups) => groups.values().collect(),
        Value::Array(groups) => groups.iter().collect(),
        _ => return Map::new(),
    };
    let mut flat = Map::new();
    for group in groups {
        match group {
            Value::Object(group) => {
                for (alias, field) in group {
                    let value = match field {
                        Value::Object(field) => field.get("value"),
                        Value::Array(_) => None,
                        bare => Some(bare),
                    };
                    if let Some(value) = value {
                        flat.insert(alias.clone(), value.clone());
                    }
                }
            }
            Value::Array(list) => {
                for field in list.iter().filter_map(Value::as_object) {
                    if let (Some(alias), Some(value)) = (
                        field.get("alias").and_then(Value::as_str),
                        field.get("value"),
                    ) {
                        flat.insert(alias.to_string(), value.clone());
                    }
                }
            }
            _ => {}
        }
    }
    flat
}
