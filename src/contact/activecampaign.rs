//! ActiveCampaign's contact shape (API v3): a `contact` object with the standard fields
//! (`email`, `firstName`, `lastName`, `phone`), custom field values as separate
//! `fieldValues` records (`{contact, field, value}`, `field` the id of a field whose
//! `perstag` and `title` name it), and tags as `contactTags` records (`{contact, tag}`) whose
//! `tag` is the id of a tag object (`{tag: name}`). Read by the API client
//! (`crm/activecampaign.rs`); the form-encoded webhook is read by its preset mapping.

use serde_json::{Map, Value};

/// The contact object's members that are fields, under the keys a field map names.
pub const STANDARD_FIELDS: [&str; 4] = ["email", "firstName", "lastName", "phone"];

/// The member of a tag object that holds its name.
pub const TAG_NAME_KEY: &str = "tag";

/// The standard fields of a `contact` object (missing ones are left out).
pub fn standard_fields(contact: &Map<String, Value>) -> Map<String, Value> {
    STANDARD_FIELDS
        .iter()
        .filter_map(|key| {
            contact
                .get(*key)
                .map(|value| (key.to_string(), value.clone()))
        })
        .collect()
}

/// `(field id, value)` of each record of a `fieldValues` list; records without a field id are
/// skipped, a missing value is null.
pub fn field_values(records: &Value) -> Vec<(String, Value)> {
    records
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|record| {
            let field = record.get("field").and_then(id_text)?;
            Some((field, record.get("value").cloned().unwrap_or(Value::Null)))
        })
        .collect()
}

/// The tag ids of a `contactTags` list, each once, in order.
pub fn tag_ids(records: &Value) -> Vec<String> {
    crate::text::tag_list(
        records
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|record| record.get("tag").and_then(id_text)),
    )
}

/// The key a custom field's value is filed under: its personalization tag (`perstag`, which
/// ActiveCampaign keeps unique per account), else its title. `None` for a field with neither.
pub fn field_key(field: &Value) -> Option<String> {
    ["perstag", "title"].iter().find_map(|key| {
        field
            .get(*key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|text| !text.is_empty())
            .map(str::to_string)
    })
}

/// Whether `name` (from a field map or the return-password setting) names this field: its
/// personalization tag (case-insensitive, with or without the `%` ActiveCampaign shows around
/// it) or its title (exactly, trimmed).
pub fn field_is_named(field: &Value, name: &str) -> bool {
    let name = name.trim();
    let bare = name.trim_matches('%');
    let perstag = field.get("perstag").and_then(Value::as_str).map(str::trim);
    let title = field.get("title").and_then(Value::as_str).map(str::trim);
    perstag.is_some_and(|tag| !tag.is_empty() && tag.eq_ignore_ascii_case(bare))
        || title.is_some_and(|title| !title.is_empty() && title == name)
}

/// An id as ActiveCampaign writes it: a string of digits, or a number.
fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.trim().to_string()).filter(|t| !t.is_empty()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn records_become_ids_and_values() {
        let values = json!([
            {"contact": "5", "field": "1", "value": "United States"},
            {"contact": "5", "field": 2, "value": null},
            {"contact": "5", "value": "no field"}
        ]);
        assert_eq!(
            field_values(&values),
            vec![
                ("1".to_string(), json!("United States")),
                ("2".to_string(), Value::Null)
            ]
        );
        let tags = json!([{"tag": "20"}, {"tag": 21}, {"tag": "20"}, {"nope": 1}]);
        assert_eq!(tag_ids(&tags), vec!["20", "21"]);
        assert!(tag_ids(&json!({"x": 1})).is_empty());
    }

    #[test]
    fn fields_are_named_by_perstag_or_title() {
        let field = json!({"id": "3", "perstag": "WP_PASSWORD", "title": "WP password"});
        assert_eq!(field_key(&field).as_deref(), Some("WP_PASSWORD"));
        assert!(field_is_named(&field, "wp_password"));
        assert!(field_is_named(&field, "%WP_PASSWORD%"));
        assert!(field_is_named(&field, " WP password "));
        assert!(!field_is_named(&field, "wp password"));
        let untagged = json!({"id": "4", "perstag": "", "title": "Team"});
        assert_eq!(field_key(&untagged).as_deref(), Some("Team"));
        assert!(!field_is_named(&untagged, ""));
        let contact = json!({"email": "a@b.c", "firstName": "Ann", "cdate": "x"});
        let fields = standard_fields(contact.as_object().unwrap());
        assert_eq!(fields.len(), 2);
        assert_eq!(fields["firstName"], json!("Ann"));
    }
}
