//! Intake speed: microseconds per `payload::parse` of Mautic's wire bodies (fixture 01, one
//! event; fixture 02, a batch of three), plus the signature check for comparison; then the
//! same two bodies read through a webhook mapping that says what Mautic's parser does (the id,
//! email, tags, timestamp and all 30 fields of the samples), against issue 16's target of at
//! most 1.5x Mautic's parser; then each preset on its CRM's samples.
//!
//! `cargo bench --bench parse`. A plain timed loop (no harness): each case runs for a fixed
//! time budget after a short warm-up, so the whole bench takes about three seconds.

use std::hint::black_box;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};
use wpf_bridge::crm_kind::CrmKind;
use wpf_bridge::webhook::auth::verify_signature;
use wpf_bridge::webhook::mapping::{self, presets, Mapping, Origin};
use wpf_bridge::webhook::payload::parse;
use wpf_bridge::webhook::Request;

const LIMIT: usize = 1024 * 1024;
const WARM_UP: Duration = Duration::from_millis(150);
const BUDGET: Duration = Duration::from_millis(800);
const SECRET: &str = "any_secret_will_do";

fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// Mautic's webhook as a mapping: the items of one event type, everything the hand-written
/// parser reads from the samples (its 24 core and 6 social fields by pointer).
fn mautic_mapping(event_type: &str) -> Mapping {
    const CORE: [&str; 24] = [
        "title",
        "firstname",
        "lastname",
        "company",
        "position",
        "email",
        "mobile",
        "phone",
        "fax",
        "address1",
        "address2",
        "city",
        "state",
        "zipcode",
        "country",
        "preferred_locale",
        "attribution_date",
        "attribution",
        "website",
        "multiselect",
        "f_select",
        "boolean",
        "datetime",
        "timezone1",
    ];
    const SOCIAL: [&str; 6] = [
        "facebook",
        "foursquare",
        "instagram",
        "linkedin",
        "skype",
        "twitter",
    ];
    let mut fields = Map::new();
    for (group, aliases) in [("core", &CORE[..]), ("social", &SOCIAL[..])] {
        for alias in aliases {
            let pointer = format!("/contact/fields/{group}/{alias}/value");
            fields.insert(
                alias.to_string(),
                json!({"pointer": pointer, "optional": true}),
            );
        }
    }
    let value = json!({
        "slug": "mautic_mapped",
        "format": "json",
        "items": [format!("/{event_type}")],
        "contact_id": {"pointers": ["/contact/id"], "type": "string"},
        "email": "/contact/fields/core/email/value",
        "tags": {"pointer": "/contact/tags", "pluck": "tag"},
        "fields": fields,
        "event_time": "/timestamp",
        "complete": true
    });
    Mapping::from_value(&value, Origin::Site).unwrap_or_else(|e| panic!("{e}"))
}

fn request(body: Vec<u8>) -> Request {
    let query: Map<String, Value> = match json!({"wpf_action": "update"}) {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    Request {
        method: "POST".into(),
        query,
        post: Map::new(),
        headers: vec![("content-type".into(), "application/json".into())],
        body,
    }
}

/// Runs `work` for the time budget; returns (iterations, microseconds per iteration).
fn time(mut work: impl FnMut()) -> (u64, f64) {
    let start = Instant::now();
    while start.elapsed() < WARM_UP {
        work();
    }
    let start = Instant::now();
    let mut iterations: u64 = 0;
    while start.elapsed() < BUDGET {
        for _ in 0..16 {
            work();
        }
        iterations += 16;
    }
    let micros = start.elapsed().as_secs_f64() * 1e6 / iterations as f64;
    (iterations, micros)
}

fn main() {
    let mut total: u64 = 0;
    let mut mautic_micros = Vec::new();
    for (label, path, events) in [
        (
            "mautic 01 single event",
            "mautic/01_contact_updated_single.wire.json",
            1,
        ),
        (
            "mautic 02 batch of 3",
            "mautic/02_contact_identified_batch_of_3.wire.json",
            3,
        ),
    ] {
        let request = request(fixture(path));
        match parse(CrmKind::Mautic, &request, LIMIT) {
            Ok(webhook) => assert_eq!(webhook.events.len(), events, "{path}"),
            Err(error) => panic!("{path}: {error}"),
        }
        let (count, micros) = time(|| {
            let webhook = parse(CrmKind::Mautic, black_box(&request), LIMIT);
            black_box(webhook.is_ok());
        });
        total += count;
        mautic_micros.push(micros);
        println!(
            "parse  {label:<24} {:>6} bytes  {micros:>9.2} µs/parse  ({count} parses)",
            request.body.len()
        );
    }

    let now = jiff::Timestamp::now();
    for ((label, path, event_type, events), mautic) in [
        (
            "mautic 01 via mapping",
            "mautic/01_contact_updated_single.wire.json",
            "mautic.lead_post_save_update",
            1,
        ),
        (
            "mautic 02 via mapping",
            "mautic/02_contact_identified_batch_of_3.wire.json",
            "mautic.lead_post_save_new",
            3,
        ),
    ]
    .into_iter()
    .zip(mautic_micros)
    {
        let mapping = mautic_mapping(event_type);
        let request = request(fixture(path));
        let hand = parse(CrmKind::Mautic, &request, LIMIT).unwrap();
        match mapping::parse(&mapping, &request, LIMIT, now) {
            Ok(webhook) => {
                assert_eq!(webhook.events.len(), events, "{path}");
                // The same contacts, emails, tags and timestamps as Mautic's own parser.
                for (mapped, own) in webhook.events.iter().zip(&hand.events) {
                    assert_eq!(
                        (
                            &mapped.contact_id,
                            &mapped.email,
                            &mapped.tags,
                            &mapped.timestamp
                        ),
                        (&own.contact_id, &own.email, &own.tags, &own.timestamp)
                    );
                }
            }
            Err(error) => panic!("{path}: {error}"),
        }
        let (count, micros) = time(|| {
            let webhook = mapping::parse(&mapping, black_box(&request), LIMIT, now);
            black_box(webhook.is_ok());
        });
        total += count;
        println!(
            "mapped {label:<24} {:>6} bytes  {micros:>9.2} µs/parse  ({count} parses)  {:.2}x Mautic's parser (target <= 1.5x)",
            request.body.len(),
            micros / mautic
        );
    }

    for (slug, path, content_type) in [
        (
            "activecampaign",
            "activecampaign/01_contact_update.form.txt",
            "application/x-www-form-urlencoded",
        ),
        (
            "mailerlite",
            "mailerlite/02_subscribers_updated_batch_of_3.json",
            "application/json",
        ),
        (
            "drip",
            "drip/01_subscriber_applied_tag.json",
            "application/json",
        ),
        (
            "convertkit",
            "convertkit/01_subscriber_event.json",
            "application/json",
        ),
        (
            "highlevel",
            "highlevel/01_workflow_webhook_contact_MODELLED.json",
            "application/json",
        ),
    ] {
        let preset = presets::find(slug).unwrap_or_else(|| panic!("{slug}"));
        let mut request = request(fixture(path));
        request.headers = vec![("content-type".into(), content_type.into())];
        match mapping::parse(preset, &request, LIMIT, now) {
            Ok(webhook) => assert!(!webhook.events.is_empty(), "{path}"),
            Err(error) => panic!("{path}: {error}"),
        }
        let (count, micros) = time(|| {
            let webhook = mapping::parse(preset, black_box(&request), LIMIT, now);
            black_box(webhook.is_ok());
        });
        total += count;
        println!(
            "preset {slug:<24} {:>6} bytes  {micros:>9.2} µs/parse  ({count} parses)",
            request.body.len()
        );
    }

    let body = fixture("mautic/02_contact_identified_batch_of_3.wire.json");
    let signature = "fx0uqf5UsQ5Fp/MUQAs/fZRYXOITkcAy7Nokrvf1uUc=";
    assert!(verify_signature(CrmKind::Mautic, &body, signature, SECRET));
    let (count, micros) = time(|| {
        black_box(verify_signature(
            CrmKind::Mautic,
            black_box(&body),
            signature,
            SECRET,
        ));
    });
    println!(
        "verify mautic 02 signature     {:>6} bytes  {micros:>9.2} µs/check  ({count} checks)",
        body.len()
    );
    println!("total parses: {total}");
}
