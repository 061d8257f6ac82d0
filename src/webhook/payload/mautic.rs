//! Mautic's webhook body: one JSON object whose keys are event types, each holding a list of
//! items (`{"mautic.lead_post_save_update":[{"contact":{..},"timestamp":".."}]}`).
//!
//! Intake, called by `payload::parse` for Mautic. Every item of every contact event type
//! becomes a `ContactEvent` (queue mode batches up to 10 items, grouped by type). Non-contact
//! events (form submits, email opens, page hits, company saves) are counted as ignored, not
//! errors; the test button's top-level `timestamp` string is not an event. What the parser
//! reads:
//! - the contact under `contact`, or `lead` (Mautic 2.x);
//! - contact id: `contact.id` (number or string); for `mautic.lead_post_delete` the item's
//!   top-level `id` (Mautic sends `contact.id: null` there), and `deleted` is set;
//! - fields: every group of `contact.fields` (`core`, `social`, `personal`, ...) flattened to
//!   alias => `value`, JSON values kept as they are (`"1"` and `true` both occur). `None` when
//!   `fields` is absent or null; `fields: []` (an empty PHP array) is `Some` of an empty map;
//! - email: the `email` field, trimmed, case kept (WordPress compares emails
//!   case-insensitively; the CRM's spelling is what the user typed);
//! - tags: `contact.tags[].tag`, `None` when `tags` is absent;
//! - timestamp: the item's `timestamp`.
//!
//! An item whose id is absent or null gets an empty contact id: `payload::parse` then lets the
//! `contact_id` parameter supply it, or fails with `InvalidPayload`.

use serde_json::{Map, Value};

use crate::contact;
use crate::crm_kind::CrmKind;
use crate::error::Result;
use crate::text::json_type;
use crate::webhook::payload::generic::{self, invalid};
use crate::webhook::payload::Parsed;
use crate::webhook::ContactEvent;

/// Event types that carry a contact.
pub const CONTACT_EVENTS: [&str; 7] = [
    "mautic.lead_post_save_new",
    "mautic.lead_post_save_update",
    "mautic.lead_points_change",
    "mautic.lead_channel_subscription_changed",
    "mautic.lead_company_change",
    "mautic.lead_list_change",
    DELETE_EVENT,
];

/// The contact deletion event: its id sits at the item's top level.
pub const DELETE_EVENT: &str = "mautic.lead_post_delete";

/// Prefix of every Mautic event type; other top-level keys are not events.
const EVENT_PREFIX: &str = "mautic.";

const CRM: CrmKind = CrmKind::Mautic;

/// Reads the contact events of a Mautic webhook body.
pub fn parse_events(body: &Value) -> Result<Parsed> {
    let Value::Object(envelope) = body else {
        return Err(invalid(
            CRM,
            format!(
                "the body is {}, not an object of event types",
                json_type(body)
            ),
        ));
    };
    let mut parsed = Parsed::default();
    for (kind, items) in envelope {
        let Some(kind) = CONTACT_EVENTS.iter().copied().find(|known| known == kind) else {
            if kind.starts_with(EVENT_PREFIX) {
                parsed.ignored += 1;
            }
            continue;
        };
        let items: Vec<&Value> = match items {
            Value::Array(list) => list.iter().collect(),
            // PHP's json_encode turns an array with gaps in its keys into an object.
            Value::Object(map) => map.values().collect(),
            Value::Null => Vec::new(),
            other => {
                return Err(invalid(
                    CRM,
                    format!("\"{kind}\" is {}, not a list of events", json_type(other)),
                ))
            }
        };
        for (index, item) in items.into_iter().enumerate() {
            parsed.events.push(parse_item(kind, index, item)?);
        }
    }
    Ok(parsed)
}

fn parse_item(kind: &'static str, index: usize, item: &Value) -> Result<ContactEvent> {
    let position = index + 1;
    let Value::Object(item) = item else {
        return Err(invalid(
            CRM,
            format!(
                "item {position} of \"{kind}\" is {}, not an object",
                json_type(item)
            ),
        ));
    };
    let contact = ["contact", "lead"]
        .iter()
        .find_map(|key| item.get(*key).and_then(Value::as_object));
    let deleted = kind == DELETE_EVENT;
    let contact_id_of_contact = contact.and_then(|contact| contact.get("id"));
    let id_value = if deleted {
        item.get("id")
            .filter(|id| !id.is_null())
            .or(contact_id_of_contact)
    } else {
        contact_id_of_contact
    };
    let contact_id = match id_value {
        None => None,
        Some(value) => crate::text::contact_id(value).map_err(|bad| {
            bad.into_error(|reason| {
                invalid(
                    CRM,
                    format!("the contact id of item {position} of \"{kind}\" {reason}"),
                )
            })
        })?,
    };
    let fields = contact
        .and_then(|contact| contact.get("fields"))
        .and_then(flatten_fields);
    let email = fields
        .as_ref()
        .and_then(|fields| generic::text(fields.get("email")));
    let tags = contact
        .and_then(|contact| contact.get("tags"))
        .and_then(contact::mautic::tag_names);
    Ok(ContactEvent {
        kind: kind.to_string(),
        contact_id: contact_id.unwrap_or_default(),
        email,
        tags,
        fields,
        deleted,
        timestamp: generic::timestamp(item.get("timestamp")),
    })
}

/// The item's fields, flattened by the CRM module's rule; `None` when `fields` is not there.
fn flatten_fields(fields: &Value) -> Option<Map<String, Value>> {
    matches!(fields, Value::Object(_) | Value::Array(_))
        .then(|| contact::mautic::fields_from_groups(fields))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn minimal_item() {
        let body = json!({"mautic.lead_post_save_update": [
            {"contact": {"id": "52", "fields": {"core": {"email": {"value": " A@B.org "}}}}}
        ]});
        let parsed = parse_events(&body).unwrap();
        assert_eq!(parsed.ignored, 0);
        let event = &parsed.events[0];
        assert_eq!(event.contact_id, "52");
        assert_eq!(event.email.as_deref(), Some("A@B.org"));
        assert_eq!(event.tags, None);
        assert_eq!(event.timestamp, None);
        assert!(!event.deleted);
    }

    #[test]
    fn non_contact_events_are_ignored() {
        let body = json!({
            "mautic.form_on_submit": [{"submission": {"id": 1}}],
            "mautic.email_on_open": [{}],
            "timestamp": "2024-10-24T10:05:00+00:00",
            "custom": "campaign field"
        });
        let parsed = parse_events(&body).unwrap();
        assert!(parsed.events.is_empty());
        assert_eq!(parsed.ignored, 2);
    }

    #[test]
    fn shapes_that_are_not_mautic() {
        for body in [json!([]), json!("x"), json!(1), json!(null)] {
            let error = parse_events(&body).unwrap_err();
            assert_eq!(error.code(), "invalid_payload", "{body}");
        }
        let error = parse_events(&json!({"mautic.lead_post_save_new": "x"})).unwrap_err();
        assert_eq!(error.code(), "invalid_payload");
        let error = parse_events(&json!({"mautic.lead_post_save_new": [1]})).unwrap_err();
        assert!(error.to_string().contains("item 1"), "{error}");
        let error =
            parse_events(&json!({"mautic.lead_post_save_new": [{"contact": {"id": true}}]}))
                .unwrap_err();
        assert_eq!(error.code(), "invalid_payload");
    }

    #[test]
    fn missing_id_is_left_empty() {
        let parsed =
            parse_events(&json!({"mautic.lead_post_save_new": [{"contact": {"id": null}}]}))
                .unwrap();
        assert_eq!(parsed.events[0].contact_id, "");
        let parsed = parse_events(&json!({"mautic.lead_post_save_new": [{}]})).unwrap();
        assert_eq!(parsed.events[0].contact_id, "");
    }

    #[test]
    fn field_shapes() {
        let body = json!({"mautic.lead_post_save_update": [{"contact": {"id": 1, "fields": {
            "core": {"a": {"value": "1"}, "b": {"value": true}, "c": {"label": "no value"}},
            "personal": [],
            "professional": [{"alias": "d", "value": 4}],
            "all": {"e": "bare"}
        }}}]});
        let fields = parse_events(&body).unwrap().events[0]
            .fields
            .clone()
            .unwrap();
        assert_eq!(
            Value::Object(fields),
            json!({"a": "1", "b": true, "d": 4, "e": "bare"})
        );
    }
}
