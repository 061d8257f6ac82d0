//! The stored form of intake's output: every webhook fixture parses into a `Webhook` whose
//! versioned JSON (`{"format": 1, ...}`) reads back into the same value, event by event and
//! options included; a value of another format is refused, never guessed.

use serde_json::{json, Map, Value};
use wpf_bridge::crm_kind::CrmKind;
use wpf_bridge::webhook::payload::parse;
use wpf_bridge::webhook::{ContactEvent, Options, Request, Versioned, Webhook, FORMAT_VERSION};

fn fixtures(dir: &str) -> Vec<(String, Vec<u8>)> {
    let dir = format!("{}/tests/fixtures/{dir}", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|entry| entry.expect("dir entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .map(|path| {
            let body = std::fs::read(&path).expect("fixture");
            (path.display().to_string(), body)
        })
        .collect();
    files.sort();
    files
}

fn request(query: Value, body: Vec<u8>) -> Request {
    Request {
        method: "POST".into(),
        query: query.as_object().cloned().unwrap_or_default(),
        post: Map::new(),
        headers: vec![("content-type".into(), "application/json".into())],
        body,
    }
}

fn round_trip<T>(value: &T) -> T
where
    T: serde::Serialize + serde::de::DeserializeOwned + Clone,
{
    let stored = serde_json::to_string(&Versioned::new(value.clone())).expect("serialises");
    let read: Versioned<T> = serde_json::from_str(&stored).expect("reads back");
    read.value
}

#[test]
fn every_fixture_round_trips() {
    let mut seen = 0;
    for (crm, dir) in [
        (CrmKind::Mautic, "mautic"),
        (CrmKind::UserEngage, "userengage"),
    ] {
        for (path, body) in fixtures(dir) {
            let query = json!({
                "wpf_action": "add", "role": "customer", "send_notification": "yes", "async": "0"
            });
            let webhook = parse(crm, &request(query, body), 1 << 20)
                .unwrap_or_else(|e| panic!("{path}: {e}"));
            assert_eq!(round_trip(&webhook), webhook, "{path}");
            for event in &webhook.events {
                assert_eq!(&round_trip(event), event, "{path}");
            }
            assert_eq!(round_trip(&webhook.options), webhook.options, "{path}");
            seen += webhook.events.len();
        }
    }
    assert!(
        seen >= 10,
        "the fixtures hold at least 10 events, saw {seen}"
    );
}

#[test]
fn the_stored_form_names_its_format_and_fields() {
    let webhook = Webhook {
        action: wpf_bridge::webhook::Action::UpdateTags,
        crm: "userengage".into(),
        options: Options {
            role: Some("customer".into()),
            send_notification: true,
            async_: Some(false),
        },
        events: vec![ContactEvent {
            kind: "request".into(),
            contact_id: "7".into(),
            email: Some("a@example.com".into()),
            tags: Some(vec!["t".into()]),
            fields: None,
            deleted: false,
            timestamp: Some("2024-01-01T00:00:00+00:00".into()),
        }],
        ignored: Vec::new(),
    };
    let stored = serde_json::to_value(Versioned::new(webhook.clone())).unwrap();
    assert_eq!(
        stored,
        json!({
            "format": FORMAT_VERSION,
            "action": "update_tags",
            "crm": "userengage",
            "options": {"role": "customer", "send_notification": true, "async": false},
            "events": [{
                "type": "request", "contact_id": "7", "email": "a@example.com", "tags": ["t"],
                "fields": null, "deleted": false, "timestamp": "2024-01-01T00:00:00+00:00"
            }]
        })
    );
}

#[test]
fn another_format_is_refused() {
    let event = ContactEvent {
        contact_id: "1".into(),
        ..ContactEvent::default()
    };
    let mut stored = serde_json::to_value(Versioned::new(event)).unwrap();
    stored["format"] = json!(FORMAT_VERSION + 1);
    let error = serde_json::from_value::<Versioned<ContactEvent>>(stored.clone()).unwrap_err();
    assert!(error.to_string().contains("format"), "{error}");
    stored.as_object_mut().unwrap().remove("format");
    assert!(serde_json::from_value::<Versioned<ContactEvent>>(stored).is_err());
}
