//! Field mapping (part of apply): which CRM field feeds which WordPress field.
//!
//! The apply step (`sync/`) turns a contact's fields (from the payload or the CRM API) into
//! core user fields and user meta here. The site owner's `field_map` decides; when it is
//! empty, each CRM's usual name fields are mapped so a fresh install does the obvious thing.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::crm_kind::CrmKind;
use crate::text::value_text;

/// WordPress fields that `wp_insert_user` / `wp_update_user` take directly. Any other mapped
/// name is a user meta key.
pub const CORE_USER_FIELDS: [&str; 9] = [
    "user_login",
    "user_pass",
    "user_email",
    "first_name",
    "last_name",
    "display_name",
    "nickname",
    "user_url",
    "description",
];

/// A contact's fields, sorted into what WordPress stores where.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MappedFields {
    /// Core user fields (see `CORE_USER_FIELDS`) as text.
    pub core: Map<String, Value>,
    /// User meta key to value.
    pub meta: Map<String, Value>,
    /// Mapped meta keys dropped because a webhook never writes them (`meta_keys`).
    pub refused: Vec<String>,
}

impl MappedFields {
    /// The core fields other than login, password and email, which need their own policy
    /// (the login never changes, the password only on creation, the email only when free).
    pub fn profile(&self) -> Map<String, Value> {
        self.core
            .iter()
            .filter(|(field, _)| {
                !matches!(field.as_str(), "user_login" | "user_pass" | "user_email")
            })
            .map(|(field, value)| (field.clone(), value.clone()))
            .collect()
    }

    /// A core field as text, when mapped and not empty.
    pub fn core_text(&self, field: &str) -> Option<&str> {
        self.core.get(field).and_then(Value::as_str)
    }
}

/// The map in force: the site owner's, or the CRM's defaults when none is set.
pub fn effective_map(crm: &str, configured: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    if !configured.is_empty() {
        return configured.clone();
    }
    let Ok(kind) = crm.parse::<CrmKind>() else {
        // A mapping's own fields are named by WordPress field already (`ContactData`).
        return BTreeMap::new();
    };
    let pairs: &[(&str, &str)] = match kind {
        CrmKind::Mautic => &[
            ("firstname", "first_name"),
            ("lastname", "last_name"),
            ("email", "user_email"),
            ("website", "user_url"),
        ],
        CrmKind::UserEngage => &[
            ("first_name", "first_name"),
            ("last_name", "last_name"),
            ("email", "user_email"),
        ],
        // The keys `crm::activecampaign` and `crm::mailerlite` give a loaded contact.
        CrmKind::ActiveCampaign => &[
            ("firstName", "first_name"),
            ("lastName", "last_name"),
            ("email", "user_email"),
        ],
        CrmKind::MailerLite => &[
            ("name", "first_name"),
            ("last_name", "last_name"),
            ("email", "user_email"),
        ],
    };
    pairs
        .iter()
        .map(|(crm_field, wp_field)| (crm_field.to_string(), wp_field.to_string()))
        .collect()
}

/// Maps a contact's fields. Null and empty values are skipped, as WP Fusion does: a CRM that
/// leaves a field blank does not wipe what WordPress has.
pub fn map_fields(fields: &Map<String, Value>, map: &BTreeMap<String, String>) -> MappedFields {
    let mut mapped = MappedFields::default();
    for (crm_field, wp_field) in map {
        let Some(value) = fields.get(crm_field) else {
            continue;
        };
        if CORE_USER_FIELDS.contains(&wp_field.as_str()) {
            if let Some(text) = value_text(value) {
                mapped.core.insert(wp_field.clone(), Value::String(text));
            }
        } else if crate::meta_keys::is_protected(wp_field) {
            mapped.refused.push(wp_field.clone());
        } else if !is_blank(value) {
            let value = match value_text(value) {
                Some(text) => Value::String(text),
                None => value.clone(),
            };
            mapped.meta.insert(wp_field.clone(), value);
        }
    }
    mapped
}

fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(entries) => entries.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn default_map_applies_only_when_none_is_configured() {
        let defaults = effective_map("mautic", &BTreeMap::new());
        assert_eq!(
            defaults.get("firstname").map(String::as_str),
            Some("first_name")
        );
        let configured = BTreeMap::from([("company".to_string(), "company_name".to_string())]);
        assert_eq!(effective_map("mautic", &configured), configured);
    }

    #[test]
    fn core_fields_and_meta_are_sorted_and_blanks_skipped() {
        let map = BTreeMap::from([
            ("firstname".to_string(), "first_name".to_string()),
            ("lastname".to_string(), "last_name".to_string()),
            ("points".to_string(), "crm_points".to_string()),
            ("company".to_string(), "company".to_string()),
            ("newsletter".to_string(), "newsletter".to_string()),
        ]);
        let fields = object(json!({
            "firstname": " John ", "lastname": null, "points": 10,
            "company": "", "newsletter": true, "unmapped": "x"
        }));
        let mapped = map_fields(&fields, &map);
        assert_eq!(mapped.core, object(json!({"first_name": "John"})));
        assert_eq!(
            mapped.meta,
            object(json!({"crm_points": "10", "newsletter": "1"}))
        );
    }
}
