//! The stored form of one contact event: what a queue row holds, produced at intake from an
//! accepted `Webhook` and read back by the drain.
//!
//! A row is `Versioned<StoredEvent>` as JSON (`{"format": 1, "crm", "action", "options",
//! "event", ...}`): reading a row of another format fails (`stored_event_unreadable`) instead
//! of guessing. When it was accepted is the row's own `accepted_at`, set by the database's
//! clock as the row is written, so accepting a webhook asks no clock (rows stored before
//! carry an `accepted_at` here too, which is read past).
//!
//! No secret is ever stored. Access keys and signatures are not part of a `Webhook`. At intake
//! the return-password CRM field (`return_password_field`) is dropped from the event's fields,
//! and so is every CRM field the field map sends to `user_pass`; the event is then marked
//! `password_withheld`, and an `add` applied from it loads the contact from the CRM's API, so a
//! password the CRM gives is used without ever resting in the database. (`update` never writes
//! a password, so it needs no load.)

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::port::{EventId, NewRow};
use crate::error::{Error, Result};
use crate::settings::Settings;
use crate::sync::fields::effective_map;
use crate::webhook::{Action, ContactEvent, Options, Versioned, Webhook};

/// One queued contact event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub crm: String,
    pub action: Action,
    pub options: Options,
    pub event: ContactEvent,
    /// A CRM field meant for `user_pass` was dropped at intake: an `add` loads the contact
    /// from the CRM instead of trusting the incomplete payload.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub password_withheld: bool,
}

/// The stored events of an accepted webhook, one per contact event, with every secret
/// dropped (see the module comment). A `test` webhook stores nothing.
pub fn intake(webhook: &Webhook, settings: &Settings) -> Vec<StoredEvent> {
    if webhook.action == Action::Test {
        return Vec::new();
    }
    let password_fields: Vec<String> = effective_map(&webhook.crm, &settings.field_map)
        .into_iter()
        .filter(|(_, wordpress)| wordpress == "user_pass")
        .map(|(crm_field, _)| crm_field)
        .collect();
    webhook
        .events
        .iter()
        .map(|event| {
            let mut event = event.clone();
            let mut password_withheld = false;
            if let Some(fields) = event.fields.as_mut() {
                let secret = |name: &str, wanted: &str| name.eq_ignore_ascii_case(wanted);
                if let Some(field) = &settings.return_password_field {
                    fields.retain(|name, _| !secret(name, field));
                }
                let before = fields.len();
                fields.retain(|name, _| !password_fields.iter().any(|field| secret(name, field)));
                password_withheld = fields.len() != before;
            }
            StoredEvent {
                crm: webhook.crm.clone(),
                action: webhook.action,
                options: webhook.options.clone(),
                event,
                password_withheld,
            }
        })
        .collect()
}

impl StoredEvent {
    /// The row the port stores for the `index`-th event of its webhook: the contact it is
    /// about, the versioned JSON, its head and its delivery key.
    pub fn to_row(&self, index: usize) -> NewRow {
        // A value of plain strings, maps and numbers always serialises.
        let json = |event: &StoredEvent| serde_json::to_string(&Versioned::new(event));
        NewRow {
            crm: self.crm.clone(),
            contact_id: self.event.contact_id.clone(),
            data: json(self).unwrap_or_default(),
            head: json(&self.head()).unwrap_or_default(),
            delivery_key: self.delivery_key(index),
        }
    }

    /// The event without its snapshot (email, fields, tags, the payload's event name): what
    /// coalescing reads to choose the winner, so a drain never holds a contact's whole backlog
    /// (`coalesce`). Its size is bounded by the URL options' and the contact id's bounds.
    pub fn head(&self) -> StoredEvent {
        let mut head = self.clone();
        head.event.kind = String::new();
        head.event.email = None;
        head.event.fields = None;
        head.event.tags = None;
        head
    }

    /// The idempotency key of the `index`-th event of a webhook: SHA-256 (hex) of everything
    /// stored about it but the time it was accepted (CRM, action, URL options, the event as
    /// parsed from the authenticated request, the password-withheld mark) and its position.
    /// A webhook stored twice (WordPress re-running the INSERT after a reconnect, or the
    /// CRM's own retry of a delivery) gives the same keys, and the queue keeps one row per key
    /// while it waits (`Queue::store`). Two events of one webhook differ by their position.
    pub fn delivery_key(&self, index: usize) -> String {
        let value = serde_json::json!({
            "crm": self.crm,
            "action": self.action,
            "options": self.options,
            "event": self.event,
            "password_withheld": self.password_withheld,
            "index": index,
        });
        let mut hash = Sha256::new();
        hash.update(b"wpf-bridge delivery key 1\n");
        hash.update(value.to_string().as_bytes());
        hash.finalize()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    /// Reads a stored row back.
    pub fn read(id: EventId, data: &str) -> Result<StoredEvent> {
        serde_json::from_str::<Versioned<StoredEvent>>(data)
            .map(|versioned| versioned.value)
            .map_err(|error| Error::StoredEventUnreadable {
                id,
                detail: crate::text::printable(&error.to_string(), crate::text::EXCERPT_CHARS),
            })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn webhook(action: Action) -> Webhook {
        Webhook {
            action,
            crm: "mautic".into(),
            options: Options {
                role: Some("customer".into()),
                send_notification: true,
                async_: None,
            },
            events: vec![ContactEvent {
                kind: "mautic.lead_post_save_update".into(),
                contact_id: "52".into(),
                email: Some("john@doe.name".into()),
                tags: Some(vec!["a".into()]),
                fields: json!({"firstname": "John", "WP_Password": "hunter2", "pass_from_crm": "s3cret"})
                    .as_object()
                    .cloned(),
                deleted: false,
                timestamp: Some("2024-05-01T10:00:00+00:00".into()),
            }],
            ignored: Vec::new(),
        }
    }

    fn settings(field_map: serde_json::Value) -> Settings {
        let map = json!({
            "crm": "mautic", "access_key": "0123456789abcdef",
            "return_password": true, "return_password_field": "wp_password",
            "field_map": field_map,
        });
        Settings::from_map(map.as_object().unwrap()).unwrap()
    }

    #[test]
    fn intake_drops_the_return_password_field_and_keeps_the_rest() {
        let stored = intake(&webhook(Action::Add), &settings(json!({})));
        assert_eq!(stored.len(), 1);
        let fields = stored[0].event.fields.as_ref().unwrap();
        assert!(!fields.contains_key("WP_Password"), "{fields:?}");
        assert_eq!(fields["firstname"], "John");
        assert_eq!(
            fields["pass_from_crm"], "s3cret",
            "not mapped to user_pass here"
        );
        assert!(!stored[0].password_withheld);
        assert_eq!(stored[0].options.role.as_deref(), Some("customer"));
    }

    #[test]
    fn intake_withholds_a_field_mapped_to_user_pass() {
        let stored = intake(
            &webhook(Action::Add),
            &settings(json!({"pass_from_crm": "user_pass", "firstname": "first_name"})),
        );
        let row = stored[0].to_row(0);
        assert!(
            !row.data.contains("s3cret") && !row.data.contains("hunter2"),
            "{}",
            row.data
        );
        assert!(stored[0].password_withheld);
        assert_eq!(row.contact_id, "52");
        assert_eq!(StoredEvent::read(1, &row.data).unwrap(), stored[0]);
    }

    #[test]
    fn the_head_keeps_what_coalescing_reads_and_drops_the_snapshot() {
        let mut webhook = webhook(Action::Add);
        let big = "x".repeat(100_000);
        webhook.events[0]
            .fields
            .as_mut()
            .unwrap()
            .insert("bio".into(), json!(big));
        let stored = &intake(&webhook, &settings(json!({})))[0];
        let row = stored.to_row(0);
        assert!(row.data.len() > 100_000);
        assert!(row.head.len() < 400, "{}", row.head);
        let head = StoredEvent::read(1, &row.head).unwrap();
        assert_eq!(head, stored.head());
        assert_eq!(head.event.timestamp, stored.event.timestamp);
        assert_eq!(head.event.contact_id, "52");
        assert_eq!(head.options, stored.options);
        assert_eq!(head.action, Action::Add);
        assert_eq!(
            (head.event.fields, head.event.tags, head.event.email),
            (None, None, None)
        );
    }

    #[test]
    fn the_delivery_key_is_the_same_for_the_same_delivery_and_differs_otherwise() {
        let settings = settings(json!({}));
        let first = intake(&webhook(Action::Update), &settings);
        // The CRM's retry, accepted later: the same content.
        let again = intake(&webhook(Action::Update), &settings);
        let key = first[0].to_row(0).delivery_key;
        assert_eq!(key.len(), 64);
        assert!(key.bytes().all(|b| b.is_ascii_hexdigit()), "{key}");
        assert_eq!(again[0].to_row(0).delivery_key, key);
        assert_ne!(first[0].to_row(1).delivery_key, key, "another position");
        let add = intake(&webhook(Action::Add), &settings);
        assert_ne!(add[0].to_row(0).delivery_key, key, "another action");
        let mut other = webhook(Action::Update);
        other.options.role = Some("editor".into());
        assert_ne!(
            intake(&other, &settings)[0].to_row(0).delivery_key,
            key,
            "another role"
        );
        let mut newer = webhook(Action::Update);
        newer.events[0].timestamp = Some("2024-05-01T10:00:01+00:00".into());
        assert_ne!(
            intake(&newer, &settings)[0].to_row(0).delivery_key,
            key,
            "another version"
        );
    }

    #[test]
    fn every_stored_field_fits_its_column() {
        // The queue table (php/includes/class-queue.php): crm varchar(32), contact_id
        // varbinary(255), delivery_key varbinary(64). A value MySQL would cut is never stored:
        // a cut contact id was never claimed again (issue 18, finding 3).
        // Every slug a source can have (a CRM's, a preset's, a site mapping's).
        const { assert!(crate::crm_kind::MAX_SLUG_CHARS <= 32) };
        const { assert!(crate::text::MAX_CONTACT_ID_BYTES <= 255) };
        let mut longest = webhook(Action::Update);
        longest.events[0].contact_id = "\u{1F600}".repeat(crate::text::MAX_CONTACT_ID_BYTES / 4);
        let row = intake(&longest, &settings(json!({})))[0].to_row(usize::MAX);
        assert!(
            row.contact_id.len() <= 255 && row.delivery_key.len() == 64,
            "{row:?}"
        );
    }

    #[test]
    fn a_test_webhook_stores_nothing_and_an_unreadable_row_is_refused() {
        assert!(intake(&webhook(Action::Test), &settings(json!({}))).is_empty());
        let error = StoredEvent::read(9, r#"{"format": 2}"#).unwrap_err();
        assert_eq!(error.code(), "stored_event_unreadable");
        assert!(error.to_string().contains("9"));
    }

    #[test]
    fn a_row_stored_with_its_accept_time_inside_still_reads() {
        // Rows stored before the accept time moved to the row's own column carry it here.
        let row = r#"{"format": 1, "crm": "mautic", "action": "update",
            "options": {"role": null, "send_notification": false, "async": null},
            "event": {"type": "request", "contact_id": "7", "email": null, "tags": null,
                      "fields": null, "deleted": false, "timestamp": null},
            "accepted_at": 1700}"#;
        let event = StoredEvent::read(3, row).unwrap();
        assert_eq!(
            (event.crm.as_str(), event.event.contact_id.as_str()),
            ("mautic", "7")
        );
        let stored = serde_json::to_value(Versioned::new(&event)).unwrap();
        assert!(stored.get("accepted_at").is_none(), "{stored}");
    }
}
