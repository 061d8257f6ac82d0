//! User.com's (formerly UserEngage) "API call" automation body:
//! `{"path":6,"timestamp":"..","extra":{..},"user":{"id":7,"name":"John Doe","email":..}}`.
//!
//! Intake, called by `payload::parse` for User.com. The body holds one contact, so one event
//! of kind `userengage.api_call`:
//! - contact id: `user.id` (number or string); empty when absent, so the `contact_id`
//!   parameter can supply it;
//! - email: `user.email`, trimmed, case kept;
//! - fields: every scalar key of `user` except `id` (`email`, `phone_number`, `gender`,
//!   `status`, `key`, `name`, ...), `name` split into `first_name` (first word) and
//!   `last_name` (the rest, only when there is a rest), then `attributes[]` as
//!   `name_std` => `value`;
//! - tags: `tags[]` as `{name}` objects or strings, `None` when absent;
//! - `attributes` and `tags` are read from `user` and, failing that, from the body's top level
//!   (the REST user model has them on the user; where the API call puts them is unconfirmed);
//! - timestamp: the body's `timestamp`.
//!
//! With "Exclude user info from call" there is no `user`: no event, and the webhook needs the
//! `contact_id` parameter.

use serde_json::Value;

use crate::contact::userengage::{add_attributes, tag_names, user_fields};
use crate::crm_kind::CrmKind;
use crate::error::Result;
use crate::text::json_type;
use crate::webhook::payload::generic::{self, invalid};
use crate::webhook::payload::Parsed;
use crate::webhook::ContactEvent;

/// Event kind of the API call body.
pub const EVENT_KIND: &str = "userengage.api_call";

const CRM: CrmKind = CrmKind::UserEngage;

/// Reads the contact event of a User.com API call body.
pub fn parse_events(body: &Value) -> Result<Parsed> {
    let Value::Object(body) = body else {
        return Err(invalid(
            CRM,
            format!("the body is {}, not an object", json_type(body)),
        ));
    };
    let user = match body.get("user") {
        None | Some(Value::Null) => return Ok(Parsed::default()),
        Some(Value::Object(user)) => user,
        Some(other) => {
            return Err(invalid(
                CRM,
                format!("\"user\" is {}, not an object", json_type(other)),
            ))
        }
    };
    let contact_id = match user.get("id") {
        None => None,
        Some(value) => crate::text::contact_id(value)
            .map_err(|bad| bad.into_error(|reason| invalid(CRM, format!("user.id {reason}"))))?,
    };

    let mut fields = user_fields(user);
    if !user.contains_key("attributes") {
        if let Some(attributes) = body.get("attributes") {
            add_attributes(&mut fields, attributes);
        }
    }
    let tags = user
        .get("tags")
        .or_else(|| body.get("tags"))
        .and_then(tag_names);

    Ok(Parsed {
        events: vec![ContactEvent {
            kind: EVENT_KIND.to_string(),
            contact_id: contact_id.unwrap_or_default(),
            email: generic::text(user.get("email")),
            tags,
            fields: Some(fields),
            deleted: false,
            timestamp: generic::timestamp(body.get("timestamp")),
        }],
        ignored: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn name_split() {
        let parsed =
            parse_events(&json!({"user": {"id": "7", "name": "  Anna  Maria van Dijk "}})).unwrap();
        let fields = parsed.events[0].fields.clone().unwrap();
        assert_eq!(fields["first_name"], json!("Anna"));
        assert_eq!(fields["last_name"], json!("Maria van Dijk"));
        assert_eq!(parsed.events[0].contact_id, "7");

        let parsed = parse_events(&json!({"user": {"id": 7, "name": "Cher"}})).unwrap();
        let fields = parsed.events[0].fields.clone().unwrap();
        assert_eq!(fields["first_name"], json!("Cher"));
        assert!(!fields.contains_key("last_name"));
        assert!(!fields.contains_key("id"));
    }

    #[test]
    fn no_user_means_no_event() {
        assert!(parse_events(&json!({"path": 6})).unwrap().events.is_empty());
        assert!(parse_events(&json!({"user": null}))
            .unwrap()
            .events
            .is_empty());
    }

    #[test]
    fn bad_shapes() {
        for body in [
            json!([]),
            json!("user"),
            json!({"user": "7"}),
            json!({"user": {"id": [7]}}),
        ] {
            assert_eq!(
                parse_events(&body).unwrap_err().code(),
                "invalid_payload",
                "{body}"
            );
        }
    }

    #[test]
    fn tags_and_attributes_at_top_level() {
        let parsed = parse_events(&json!({
            "user": {"id": 1},
            "tags": ["a", {"name": "b"}],
            "attributes": [{"name_std": "plan", "value": "gold"}, {"value": "no name"}]
        }))
        .unwrap();
        let event = &parsed.events[0];
        assert_eq!(event.tags, Some(vec!["a".into(), "b".into()]));
        assert_eq!(event.fields.as_ref().unwrap()["plan"], json!("gold"));
    }
}
