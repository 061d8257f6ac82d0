//! Several sources on one site (issue 16): the settings' `sources`, validated with errors that
//! name the source and key; the access key choosing the source; each source's webhooks read
//! with its mapping, stored under its slug and applied as that source (its meta keys, field
//! map and API client); a deleted source's key refused and its queued events failed. Against
//! the in-memory Site and queue and the loopback fake CRM (its MailerLite API).

mod support;

use std::time::Duration;

use fake_crm::FakeCrm;
use hmac::{Hmac, Mac};
use serde_json::{json, Map, Value};
use sha2::Sha256;
use support::memory_queue::MemoryQueue;
use support::memory_site::{MemorySite, StoredUser};
use support::request;
use wpf_bridge::pipeline::{handle_queued, Answer};
use wpf_bridge::queue::{drain, DrainReport, Limits, QueueState};
use wpf_bridge::settings::Settings;
use wpf_bridge::webhook::mapping::check_sources;
use wpf_bridge::webhook::Request;
use wpf_bridge::Error;

const MAUTIC_KEY: &str = "mautic-source-access-key-0123456";
const ML_KEY: &str = "mailerlite-source-access-key-987";
/// The secret of MailerLite's documented example webhook (tests/fixtures/mailerlite).
const ML_SECRET: &str = "ybmcD7PQ9R";
const T0: i64 = 1_700_000_000;

fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn object(value: Value) -> Map<String, Value> {
    value.as_object().cloned().expect("an object")
}

/// The site's settings: Mautic first, then `sources`.
fn settings_map(fake: &FakeCrm, sources: Value) -> Map<String, Value> {
    object(json!({
        "access_key": MAUTIC_KEY,
        "crm": "mautic",
        "mautic_url": fake.mautic_url(),
        "mautic_username": "mautic-user",
        "mautic_password": "mautic-password",
        "crm_timeout": 2,
        "sources": sources,
    }))
}

fn mailerlite_source(fake: &FakeCrm) -> Value {
    json!({
        "mapping": "mailerlite",
        "name": "MailerLite (shop)",
        "access_key": ML_KEY,
        "webhook_secret": ML_SECRET,
        "api_url": fake.mailerlite_url(),
        "api_key": fake.credentials().mailerlite_token,
    })
}

fn signed(body: &[u8], secret: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A Mautic `lead_post_save_update` webhook body for one contact.
fn mautic_body(id: u64, first: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "mautic.lead_post_save_update": [{
            "contact": {"id": id, "fields": {"core": {
                "firstname": {"alias": "firstname", "value": first},
                "email": {"alias": "email", "value": format!("m{id}@example.org")},
            }}, "tags": [{"tag": "from-mautic"}]},
            "timestamp": "2024-05-01T10:00:00+00:00",
        }]
    }))
    .unwrap()
}

/// A MailerLite `subscriber.updated` webhook for one subscriber (the documented shape).
fn mailerlite_body(id: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": id, "email": format!("ml{id}@example.org"), "status": "active",
        "fields": {"name": "Webhook name", "last_name": null},
        "updated_at": "2022-06-11 08:00:01", "type": "subscriber.updated",
    }))
    .unwrap()
}

/// A subscriber as MailerLite's API serves it.
fn mailerlite_subscriber(id: &str, name: &str, company: &str) -> Value {
    json!({
        "id": id, "email": format!("ml{id}@example.org"), "status": "active",
        "fields": {"name": name, "last_name": "Lite", "company": company},
        "groups": [{"id": "71", "name": "Customers"}],
    })
}

struct Site {
    fake: FakeCrm,
    site: MemorySite,
    queue: MemoryQueue,
}

impl Site {
    fn new() -> Self {
        Site {
            fake: FakeCrm::start(),
            site: MemorySite::new(),
            queue: MemoryQueue::new(T0),
        }
    }

    fn settings(&self, sources: Value) -> Settings {
        let settings = Settings::from_map(&settings_map(&self.fake, sources)).expect("valid");
        check_sources(&settings).expect("valid sources");
        settings
    }

    fn send(&self, settings: &Settings, request: &Request) -> Answer {
        handle_queued(request, settings, &self.site, &self.queue, true)
    }

    fn send_mautic(&self, settings: &Settings, id: u64, first: &str) -> Answer {
        let query = format!("wpf_action=add&access_key={MAUTIC_KEY}");
        self.send(settings, &request(&query, &mautic_body(id, first), &[]))
    }

    fn send_mailerlite(&self, settings: &Settings, body: &[u8], secret: &str) -> Answer {
        let signature = signed(body, secret);
        let query = format!("wpf_action=add&access_key={ML_KEY}");
        let headers = [("Signature", signature.as_str())];
        self.send(settings, &request(&query, body, &headers))
    }

    fn drain(&self, settings: &Settings) -> DrainReport {
        drain(
            &self.queue,
            &|| Ok(Some(settings.clone())),
            &self.site,
            Limits {
                budget: Duration::from_secs(60),
                max_contacts: 1_000,
            },
        )
        .expect("the in-memory queue does not fail")
    }

    fn user_linked(&self, meta_key: &str, contact_id: &str) -> Option<StoredUser> {
        self.site
            .users()
            .into_iter()
            .map(|(_, user)| user)
            .find(|user| user.meta.get(meta_key) == Some(&json!(contact_id)))
    }
}

/// The settings' error for these sources: the key it names and its sentence.
fn refused(fake: &FakeCrm, sources: Value) -> (String, String) {
    let error = Settings::from_map(&settings_map(fake, sources))
        .and_then(|settings| check_sources(&settings))
        .expect_err("refused");
    match error {
        Error::InvalidSetting { key, reason } => (key, reason),
        other => panic!("not a setting's error: {other:?}"),
    }
}

#[test]
fn sources_are_validated_naming_the_source_and_the_key() {
    let fake = FakeCrm::start();
    let ml = mailerlite_source(&fake);
    let with = |patch: Value| {
        let mut source = object(ml.clone());
        source.extend(object(patch));
        Value::Object(source)
    };
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!([with(json!({"mapping": "made_up"}))]),
            "sources[0][mapping]",
            "names no preset",
        ),
        (
            json!([with(json!({"mapping": null}))]),
            "sources[0][mapping]",
            "is missing",
        ),
        (
            json!([with(json!({"access_key": "short"}))]),
            "sources[0][access_key]",
            "at least 8",
        ),
        (
            json!([with(json!({"access_key": MAUTIC_KEY}))]),
            "sources[0][access_key]",
            "another source's access key",
        ),
        (
            json!([
                ml.clone(),
                with(json!({"access_key": "another-key-for-the-second"}))
            ]),
            "sources[1][mapping]",
            "one source per CRM",
        ),
        (
            json!([with(json!({"webhook_secret": ""}))]),
            "sources[0][webhook_secret]",
            "signs its webhooks (header Signature)",
        ),
        (
            json!([with(json!({"api_url": "ftp://example.org"}))]),
            "sources[0][api_url]",
            "",
        ),
        (
            json!([with(
                json!({"mapping": "drip", "return_password": true, "return_password_field": "pw"})
            )]),
            "sources[0][return_password]",
            "no API client for \"drip\"",
        ),
        (
            json!([with(json!({"return_password": true}))]),
            "sources[0][return_password_field]",
            "is required",
        ),
        (
            json!([with(json!({"field_map": {"name": "wp_capabilities"}}))]),
            "sources[0][field_map].name",
            "webhooks never write it",
        ),
        (
            json!([with(
                json!({"mapping": {"slug": "Bad Slug", "contact_id": {"pointers": ["/id"]}}})
            )]),
            "sources[0][mapping]",
            "/slug",
        ),
        (
            json!([with(
                json!({"mapping": {"slug": "userengage", "contact_id": {"pointers": ["/id"]}}})
            )]),
            "sources[0][mapping]",
            "own parser",
        ),
        (
            json!([with(
                json!({"mapping": {"slug": "shop", "contact_id": {"pointers": ["id"]}}})
            )]),
            "sources[0][mapping]",
            "/contact_id/pointers/0",
        ),
        (
            json!([with(
                json!({"mapping": {"slug": "shop", "contact_id": {"pointers": ["/id"]}, "complete": false}})
            )]),
            "sources[0][mapping]",
            "/complete",
        ),
        (json!("mailerlite"), "sources", "a list of sources"),
    ];
    for (sources, key, words) in cases {
        let (named, reason) = refused(&fake, sources.clone());
        assert_eq!(named, key, "{sources}: {reason}");
        assert!(reason.contains(words), "{sources}: {reason}");
        for secret in [ML_SECRET, MAUTIC_KEY, ML_KEY] {
            assert!(!reason.contains(secret), "{reason}");
        }
    }
    // The same sources, valid, read back as the plugin stores them (slug not stored).
    let settings = Site::new().settings(json!([mailerlite_source(&fake)]));
    let stored = settings.to_map();
    assert_eq!(stored["sources"][0]["mapping"], json!("mailerlite"));
    assert_eq!(stored["sources"][0]["access_key"], json!(ML_KEY));
    assert!(stored["sources"][0].get("slug").is_none());
    assert_eq!(settings.sources[0].display_name(), "MailerLite (shop)");
}

#[test]
fn the_access_key_selects_the_source_and_each_user_is_linked_to_its_crm() {
    let w = Site::new();
    let settings = w.settings(json!([mailerlite_source(&w.fake)]));
    let ml_ids: Vec<String> = (0..5).map(|n| format!("3198684306499{n:04}")).collect();
    for id in &ml_ids {
        w.fake
            .add_mailerlite_subscriber(mailerlite_subscriber(id, &format!("Api {id}"), "Acme"));
    }
    // Interleaved: Mautic, MailerLite, Mautic, ...
    for (n, id) in ml_ids.iter().enumerate() {
        let mautic = w.send_mautic(&settings, 100 + n as u64, &format!("Mautic {n}"));
        assert_eq!(
            (mautic.status, &mautic.body["crm"]),
            (200, &json!("mautic"))
        );
        let ml = w.send_mailerlite(&settings, &mailerlite_body(id), ML_SECRET);
        assert_eq!(ml.status, 200, "{}", ml.body);
        assert_eq!(ml.body["crm"], json!("mailerlite"));
        assert_eq!(ml.body["queued"][0]["contact_id"], json!(id), "{}", ml.body);
    }
    let slugs: Vec<String> = w.queue.rows().iter().map(|r| r.key.crm.clone()).collect();
    assert_eq!(slugs.iter().filter(|s| *s == "mailerlite").count(), 5);
    assert_eq!(slugs.iter().filter(|s| *s == "mautic").count(), 5);

    let report = w.drain(&settings);
    assert_eq!((report.applies, report.done, report.failed), (10, 10, 0));
    for n in 0..5u64 {
        let user = w
            .user_linked("mautic_contact_id", &(100 + n).to_string())
            .unwrap();
        assert_eq!(user.core["first_name"], json!(format!("Mautic {n}")));
        assert!(user.meta.get("mailerlite_contact_id").is_none());
        assert_eq!(user.meta["mautic_tags"], json!(["from-mautic"]));
    }
    for id in &ml_ids {
        let user = w
            .user_linked("mailerlite_contact_id", id)
            .expect("linked to MailerLite");
        // The preset is id-only: the subscriber was loaded from MailerLite's API with the
        // source's own address and key, the groups as tags.
        assert_eq!(user.core["first_name"], json!(format!("Api {id}")));
        assert_eq!(user.meta["mailerlite_tags"], json!(["Customers"]));
        assert!(user.meta.get("mautic_contact_id").is_none());
        assert!(user.meta.get("mautic_tags").is_none());
    }
    assert_eq!(w.site.user_count(), 10);
}

#[test]
fn a_sources_key_with_another_crms_body_or_a_bad_signature_changes_nothing() {
    let w = Site::new();
    let settings = w.settings(json!([mailerlite_source(&w.fake)]));
    let body = fixture("mailerlite/01_subscriber_created_single.json");
    let forged = w.send_mailerlite(&settings, &body, "not-the-secret");
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert_eq!(forged.body["code"], json!("signature_rejected"));
    let unsigned = w.send(
        &settings,
        &request(&format!("wpf_action=add&access_key={ML_KEY}"), &body, &[]),
    );
    assert_eq!(unsigned.body["code"], json!("signature_rejected"));
    // MailerLite's body under the Mautic key: read as Mautic, which it is not.
    let crossed = w.send(
        &settings,
        &request(
            &format!("wpf_action=add&access_key={MAUTIC_KEY}"),
            &body,
            &[],
        ),
    );
    assert!(
        crossed.status >= 400 && crossed.status < 500,
        "{}",
        crossed.body
    );
    // Mautic's body under the MailerLite key (signed with its secret): nothing it can read.
    let mautic = w.send_mailerlite(&settings, &mautic_body(7, "Ann"), ML_SECRET);
    assert!(mautic.status < 500, "{}", mautic.body);
    assert!(
        mautic.body.get("queued").is_none_or(|q| q == &json!([])),
        "{}",
        mautic.body
    );
    assert!(w.queue.rows().is_empty(), "nothing stored");
    assert_eq!(w.site.user_count(), 0);
}

#[test]
fn a_deleted_sources_key_is_refused_at_once_and_its_queued_events_fail() {
    let w = Site::new();
    let with_ml = w.settings(json!([mailerlite_source(&w.fake)]));
    let id = "31986843064993537";
    w.fake
        .add_mailerlite_subscriber(mailerlite_subscriber(id, "Dummy", "Acme"));
    assert_eq!(
        w.send_mailerlite(&with_ml, &mailerlite_body(id), ML_SECRET)
            .status,
        200
    );
    assert_eq!(w.send_mautic(&with_ml, 5, "Five").status, 200);

    let without = w.settings(json!([]));
    let refused = w.send_mailerlite(&without, &mailerlite_body(id), ML_SECRET);
    assert_eq!(refused.status, 403);
    assert_eq!(refused.body["code"], json!("invalid_access_key"));

    let report = w.drain(&without);
    assert_eq!((report.done, report.failed), (1, 1));
    let failed = w.queue.in_state(QueueState::Failed);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].key.crm, "mailerlite");
    assert_eq!(
        failed[0].error_code.as_deref(),
        Some("event_from_other_crm")
    );
    let message = failed[0].error_message.clone().unwrap_or_default();
    assert!(
        message.contains("\"mailerlite\"") && message.contains("mautic"),
        "{message}"
    );
    assert!(w.user_linked("mailerlite_contact_id", id).is_none());
    assert!(w.user_linked("mautic_contact_id", "5").is_some());
}

#[test]
fn a_queued_event_is_applied_with_its_own_sources_settings_as_they_are_now() {
    let w = Site::new();
    let id = "31986843064993537";
    w.fake
        .add_mailerlite_subscriber(mailerlite_subscriber(id, "Dummy", "Acme"));
    let mut ml = mailerlite_source(&w.fake);
    ml["field_map"] = json!({"company": "billing_company", "name": "first_name"});
    let before = w.settings(json!([ml]));
    assert_eq!(
        w.send_mailerlite(&before, &mailerlite_body(id), ML_SECRET)
            .status,
        200
    );

    // Meanwhile the owner edits the first source's field map and the MailerLite source's.
    let mut settings = settings_map(&w.fake, json!([]));
    settings.insert("field_map".into(), json!({"company": "mautic_company"}));
    let mut ml = mailerlite_source(&w.fake);
    ml["field_map"] = json!({"company": "employer", "name": "first_name"});
    settings.insert("sources".into(), json!([ml]));
    let after = Settings::from_map(&settings).unwrap();

    assert_eq!(w.drain(&after).done, 1);
    let user = w.user_linked("mailerlite_contact_id", id).unwrap();
    assert_eq!(user.meta.get("employer"), Some(&json!("Acme")), "{user:?}");
    assert!(user.meta.get("mautic_company").is_none());
    assert!(user.meta.get("billing_company").is_none());
}

#[test]
fn items_a_source_cannot_read_are_answered_and_logged_with_the_pointer_and_key_names() {
    let w = Site::new();
    let kit = json!({"mapping": "convertkit", "access_key": "kit-source-access-key-000000001"});
    let settings = w.settings(json!([kit]));
    let query = "wpf_action=update&access_key=kit-source-access-key-000000001";
    let body = fixture("convertkit/02_purchase_event.json");
    let answer = w.send(&settings, &request(query, &body, &[]));
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["queued"], json!([]));
    let ignored = &answer.body["ignored"][0];
    assert_eq!(ignored["code"], json!("pointer_missing"));
    let log = answer.log.expect("a record for what was not read");
    assert_eq!(
        (log.outcome.as_str(), log.crm.as_str()),
        ("ignored", "convertkit")
    );
    let line = log.details.join("\n");
    assert!(
        line.contains("/subscriber/id") && line.contains("\"transaction_id\""),
        "{line}"
    );
    // Key names, never values: the purchase's email and amounts are not in the record.
    let text = String::from_utf8_lossy(&body).to_string();
    let payload: Value = serde_json::from_str(&text).unwrap();
    let email = payload["email_address"].as_str().unwrap();
    assert!(!line.contains(email), "{line}");
    assert!(w.queue.rows().is_empty());

    // Kit has no API client here: a call that leaves the contact's data (or, for update_tags,
    // its tags) to the CRM's API is refused at once, nothing stored.
    let subscriber = fixture("convertkit/01_subscriber_event.json");
    for (query, body) in [
        ("wpf_action=update&contact_id=5", &b""[..]),
        ("wpf_action=update_tags", &subscriber[..]),
    ] {
        let query = format!("{query}&access_key=kit-source-access-key-000000001");
        let refused = w.send(&settings, &request(&query, body, &[]));
        assert_eq!(refused.status, 400, "{query}: {}", refused.body);
        assert_eq!(refused.body["code"], json!("invalid_request"));
        assert!(refused.body["message"]
            .as_str()
            .unwrap()
            .contains("no API client for Kit"));
    }
    assert!(w.queue.rows().is_empty());

    // Kit's subscriber payload applies what it carries and leaves the tags alone.
    let body = fixture("convertkit/01_subscriber_event.json");
    let answer = w.send(
        &settings,
        &request(query.replace("update", "add").as_str(), &body, &[]),
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(w.drain(&settings).done, 1);
    let user = w.user_linked("convertkit_contact_id", "1").unwrap();
    assert_eq!(user.core["first_name"], json!("John"));
    assert!(user.meta.get("convertkit_tags").is_none());
}
