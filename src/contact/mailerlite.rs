//! MailerLite's subscriber shape (the API at connect.mailerlite.com): a subscriber object
//! with `id` (a string of digits), `email`, `status`, its fields as one `fields` object (`name`,
//! `last_name`, custom keys) and its groups as `[{id, name, ...}]`, which we take as its tags
//! (as WP Fusion does). Read by the API client (`crm/mailerlite.rs`); webhooks are read by the
//! preset mapping, whose pointers name the same keys.

use serde_json::{Map, Value};

/// The member of a group object that holds its name.
pub const GROUP_NAME_KEY: &str = "name";

/// A subscriber's fields: the members of `fields`, plus `email` (which MailerLite keeps beside
/// them), so a field map can name each.
pub fn subscriber_fields(subscriber: &Map<String, Value>) -> Map<String, Value> {
    let mut fields = subscriber
        .get("fields")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some(email) = subscriber.get("email") {
        fields.insert("email".to_string(), email.clone());
    }
    fields
}

/// Group names from `[{id, name}]` (see `text::tag_names` for the rules).
pub fn group_names(groups: &Value) -> Option<Vec<String>> {
    crate::text::tag_names(groups, GROUP_NAME_KEY)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_and_groups() {
        let subscriber = json!({
            "id": "31986843064993537", "email": "dummy@example.com", "status": "active",
            "fields": {"name": "Dummy", "last_name": "Testerson", "city": null},
            "groups": [{"id": "1", "name": "VIP"}, {"id": "2", "name": " "}]
        });
        let fields = subscriber_fields(subscriber.as_object().unwrap());
        assert_eq!(fields["name"], json!("Dummy"));
        assert_eq!(fields["email"], json!("dummy@example.com"));
        assert_eq!(fields["city"], Value::Null);
        assert!(!fields.contains_key("status"));
        assert_eq!(group_names(&subscriber["groups"]), Some(vec!["VIP".into()]));
        assert_eq!(group_names(&Value::Null), None);
    }
}
