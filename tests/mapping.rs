//! The presets read their CRM's documented payload samples (`tests/fixtures/<slug>/`, with
//! their provenance in the README) into the expected events, through `mapping::parse` as
//! intake calls it; and the wire's bad input against a preset: 4xx with a stable code or an
//! ignored item, never a panic.

use jiff::Timestamp;
use serde_json::{json, Map, Value};
use wpf_bridge::settings::Secret;
use wpf_bridge::webhook::action::Action;
use wpf_bridge::webhook::mapping::{self, presets, MappedWebhook, Mapping};
use wpf_bridge::webhook::Request;

const LIMIT: usize = 1024 * 1024;
/// MailerLite's example webhook secret (tests/fixtures/mailerlite/signatures.txt).
const MAILERLITE_SECRET: &str = "ybmcD7PQ9R";

fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn post(query: Value, content_type: &str, body: Vec<u8>) -> Request {
    Request {
        method: "POST".into(),
        query: object(query),
        post: Map::new(),
        headers: vec![("content-type".into(), content_type.into())],
        body,
    }
}

fn now() -> Timestamp {
    Timestamp::now()
}

fn preset(slug: &str) -> &'static Mapping {
    presets::find(slug).unwrap_or_else(|| panic!("no preset {slug}"))
}

fn read(slug: &str, action: &str, path: &str) -> MappedWebhook {
    let content_type = if path.ends_with(".form.txt") {
        "application/x-www-form-urlencoded"
    } else {
        "application/json"
    };
    let request = post(json!({"wpf_action": action}), content_type, fixture(path));
    mapping::parse(preset(slug), &request, LIMIT, now()).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn strings(names: &[&str]) -> Option<Vec<String>> {
    Some(names.iter().map(|name| name.to_string()).collect())
}

fn fields(value: Value) -> Option<Map<String, Value>> {
    Some(object(value))
}

#[test]
fn activecampaign_form_bodies() {
    let webhook = read(
        "activecampaign",
        "update",
        "activecampaign/01_contact_update.form.txt",
    );
    assert_eq!(webhook.crm, "activecampaign");
    assert_eq!(webhook.action, Action::Update);
    assert!(webhook.ignored.is_empty(), "{:?}", webhook.ignored);
    let event = &webhook.events[0];
    assert_eq!(event.kind, "update");
    assert_eq!(event.contact_id, "1234");
    assert_eq!(event.email.as_deref(), Some("test.user@example.com"));
    assert_eq!(
        event.tags,
        strings(&[
            "month",
            "free_forever",
            "not_active_0912",
            "TIER1",
            "app_notif_reminder_sent",
            "free-day-fix-1"
        ])
    );
    assert_eq!(
        event.fields,
        fields(json!({"first_name": "Test", "last_name": "User", "phone": "+15555555555"}))
    );
    assert_eq!(
        event.timestamp.as_deref(),
        Some("2023-07-12T06:49:04-05:00")
    );

    let webhook = read(
        "activecampaign",
        "update_tags",
        "activecampaign/02_contact_tag_added.form.txt",
    );
    let event = &webhook.events[0];
    assert_eq!(
        (event.kind.as_str(), event.contact_id.as_str()),
        ("contact_tag_added", "1234")
    );
    assert_eq!(event.tags, strings(&["month", "TIER1"]));
}

#[test]
fn mailerlite_single_batched_grouped_and_classic() {
    let single = read(
        "mailerlite",
        "update",
        "mailerlite/01_subscriber_created_single.json",
    );
    let event = &single.events[0];
    // A string id stays the string MailerLite sent; 17 digits are no integer to round.
    assert_eq!(event.contact_id, "31986843064993537");
    assert_eq!(event.email.as_deref(), Some("dummy@example.com"));
    // Id-only: no tags in MailerLite's payload, so the fields are the API client's to load.
    assert_eq!((event.fields.as_ref(), event.tags.as_ref()), (None, None));
    assert_eq!(event.timestamp.as_deref(), Some("2022-06-10 12:04:58"));

    // Several subscribers in one update: each is an event (WP Fusion dropped them).
    let batch = read(
        "mailerlite",
        "update",
        "mailerlite/02_subscribers_updated_batch_of_3.json",
    );
    let ids: Vec<&str> = batch.events.iter().map(|e| e.contact_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "31986843064993537",
            "31986843064993538",
            "31986843064993539"
        ]
    );
    let emails: Vec<Option<&str>> = batch.events.iter().map(|e| e.email.as_deref()).collect();
    assert_eq!(
        emails,
        [
            Some("dummy@example.com"),
            Some("Second@Example.com"),
            Some("third@example.com")
        ]
    );

    let grouped = read(
        "mailerlite",
        "add",
        "mailerlite/03_subscriber_added_to_group.json",
    );
    assert_eq!(grouped.events[0].contact_id, "31986843064993537");
    assert_eq!(
        grouped.events[0].timestamp.as_deref(),
        Some("2022-06-12 09:30:00")
    );

    let classic = read(
        "mailerlite",
        "add",
        "mailerlite/04_classic_subscriber_create.json",
    );
    let event = &classic.events[0];
    assert_eq!(event.contact_id, "2300951083");
    assert_eq!(event.email.as_deref(), Some("guy.random@example.com"));
    assert_eq!(event.timestamp.as_deref(), Some("2017-05-23T14:50:03Z"));
}

fn signatures(crm: &str) -> Vec<(String, String)> {
    String::from_utf8(fixture(&format!("{crm}/signatures.txt")))
        .unwrap()
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let (file, signature) = line.split_once('\t').unwrap();
            (file.to_string(), signature.to_string())
        })
        .collect()
}

/// The MailerLite preset with a site's secret, as a source will hold it.
fn mailerlite_with_secret(secret: &str) -> Mapping {
    let mut mapping = preset("mailerlite").clone();
    if let Some(rule) = mapping.signature.as_mut() {
        rule.secret = Some(Secret::new(secret));
    }
    mapping
}

#[test]
fn mailerlite_signature_vectors() {
    let vectors = signatures("mailerlite");
    assert_eq!(vectors.len(), 3);
    let signed = mailerlite_with_secret(MAILERLITE_SECRET);
    let wrong_secret = mailerlite_with_secret("another");
    for (file, signature) in vectors {
        let body = fixture(&format!("mailerlite/{file}"));
        let mut request = post(
            json!({"wpf_action": "update", "contact_id": "1"}),
            "application/json",
            body.clone(),
        );
        request
            .headers
            .push(("signature".into(), signature.clone()));
        let webhook = mapping::parse(&signed, &request, LIMIT, now())
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(webhook.signed);
        // The URL's contact_id cannot redirect a signed body.
        assert!(webhook.events.iter().all(|e| e.contact_id != "1"), "{file}");
        let error = mapping::parse(&wrong_secret, &request, LIMIT, now()).unwrap_err();
        assert_eq!((error.code(), error.status()), ("signature_rejected", 403));
        // One byte changed (a re-encoded body, say) fails too.
        let mut tampered = request.clone();
        tampered.body = body.iter().copied().filter(|b| *b != b'\n').collect();
        assert_eq!(
            mapping::parse(&signed, &tampered, LIMIT, now())
                .unwrap_err()
                .code(),
            "signature_rejected"
        );
        // As `wpf_bridge_verify_signature('mailerlite', ...)` checks it.
        let rule = preset("mailerlite").signature.as_ref().unwrap();
        assert!(mapping::signature::matches_body(
            rule,
            MAILERLITE_SECRET,
            &body,
            &signature
        ));
        assert!(!mapping::signature::matches_body(
            rule, "", &body, &signature
        ));
    }
}

#[test]
fn drip_event_filter_and_tags() {
    let webhook = read("drip", "update_tags", "drip/01_subscriber_applied_tag.json");
    let event = &webhook.events[0];
    assert_eq!(event.kind, "subscriber.applied_tag");
    assert_eq!(event.contact_id, "z1togz2hcjrkpp5treip");
    assert_eq!(event.email.as_deref(), Some("john@acme.com"));
    assert_eq!(event.tags, strings(&["Customer", "SEO"]));
    assert_eq!(
        event.fields,
        fields(json!({"first_name": "John", "last_name": "Doe"}))
    );
    assert_eq!(event.timestamp.as_deref(), Some("2013-06-21T10:31:58Z"));

    // The last tag removed: an empty list, so the user's tags are emptied too.
    let webhook = read(
        "drip",
        "update_tags",
        "drip/02_subscriber_removed_tag_no_tags_left.json",
    );
    assert_eq!(webhook.events[0].tags, Some(vec![]));

    // Another event: answered ignored with the reason (WP Fusion: "Unsupported method").
    let webhook = read("drip", "update", "drip/03_subscriber_opened_email.json");
    assert!(webhook.events.is_empty());
    assert_eq!(webhook.ignored.len(), 1);
    assert_eq!(webhook.ignored[0].code, "condition_not_met");
    assert!(webhook.ignored[0].message.contains("/event"));

    // An automation or rule webhook: no event name, the subscriber at the top (WP Fusion
    // reads /subscriber/id there too).
    let webhook = read(
        "drip",
        "update",
        "drip/04_automation_webhook_subscriber_ASSUMED.json",
    );
    let event = &webhook.events[0];
    assert_eq!(
        (event.kind.as_str(), event.contact_id.as_str()),
        ("drip", "z1togz2hcjrkpp5treip")
    );
    assert_eq!(event.tags, strings(&["Customer", "SEO", "Webinar"]));
    assert_eq!(event.timestamp, None);
}

#[test]
fn kit_subscriber_and_other_payloads() {
    let webhook = read(
        "convertkit",
        "update",
        "convertkit/01_subscriber_event.json",
    );
    let event = &webhook.events[0];
    assert_eq!(event.contact_id, "1");
    assert_eq!(event.email.as_deref(), Some("John@example.com"));
    // Kit sends no tags: the payload is applied as it is (wpf-bridge has no Kit API client to
    // load more) and the user's tags stay as they are.
    assert_eq!(event.fields.as_ref().unwrap()["first_name"], json!("John"));
    assert_eq!(event.tags, None);

    let purchase = read("convertkit", "update", "convertkit/02_purchase_event.json");
    assert!(purchase.events.is_empty());
    let ignored = &purchase.ignored[0];
    assert_eq!(ignored.code, "pointer_missing");
    assert!(
        ignored.message.contains("/subscriber/id"),
        "{}",
        ignored.message
    );
    assert!(
        ignored.message.contains("\"transaction_id\""),
        "{}",
        ignored.message
    );
    assert!(
        !ignored.message.contains("crashoverride"),
        "never a value: {}",
        ignored.message
    );
}

#[test]
fn highlevel_string_ids_and_full_contact() {
    let webhook = read(
        "highlevel",
        "add",
        "highlevel/01_workflow_webhook_contact_MODELLED.json",
    );
    let event = &webhook.events[0];
    // WP Fusion 3.44.1's absint() turned this id into 0.
    assert_eq!(event.contact_id, "CWBf1PR9LvvBkcYqiXlc");
    assert_eq!(event.email.as_deref(), Some("Jane.Doe@example.com"));
    assert_eq!(event.tags, strings(&["customer", "vip", "webinar-2024"]));
    assert_eq!(
        event.fields,
        fields(json!({"first_name": "Jane", "last_name": "Doe", "phone": "+15555550123"}))
    );
}

#[test]
fn every_preset_refuses_bad_wire_input_with_a_code() {
    let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
    let deep_form = format!("a{}=1", "[x]".repeat(65));
    let many_items: Vec<Value> = (0..10_001).map(|id| json!({"id": id})).collect();
    let many = json!({"events": many_items}).to_string();
    let big = "x".repeat(2 * 1024 * 1024 + 1);
    for preset in presets::all() {
        for body in [
            deep.as_str(),
            deep_form.as_str(),
            many.as_str(),
            big.as_str(),
            "{",
            "[]",
            "\"text\"",
            "{\"contact\": \"text\", \"subscriber\": 5, \"data\": []}",
            "contact[id][]=1&contact[email][x]=2",
            "{\"subscriber\": {\"id\": {\"a\": 1}}, \"contact_id\": [1], \"id\": true}",
        ] {
            for content_type in ["application/json", "application/x-www-form-urlencoded"] {
                let request = post(
                    json!({"wpf_action": "update"}),
                    content_type,
                    body.as_bytes().to_vec(),
                );
                match mapping::parse(preset, &request, LIMIT, now()) {
                    Ok(webhook) => assert!(
                        !webhook.ignored.is_empty() || webhook.events.is_empty(),
                        "{} {content_type}: {:?}",
                        preset.slug,
                        webhook.events
                    ),
                    Err(error) => assert!(
                        (400..500).contains(&error.status()),
                        "{} {content_type}: {error}",
                        preset.slug
                    ),
                }
            }
        }
    }
}

/// Every preset over damaged versions of every preset sample (bytes flipped, bodies cut):
/// `Ok` or an intake error with a 4xx status, never a panic; seeded, so reproducible.
#[test]
fn mutated_samples_never_panic() {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    const SAMPLES: [&str; 13] = [
        "activecampaign/01_contact_update.form.txt",
        "activecampaign/02_contact_tag_added.form.txt",
        "mailerlite/01_subscriber_created_single.json",
        "mailerlite/02_subscribers_updated_batch_of_3.json",
        "mailerlite/03_subscriber_added_to_group.json",
        "mailerlite/04_classic_subscriber_create.json",
        "drip/01_subscriber_applied_tag.json",
        "drip/02_subscriber_removed_tag_no_tags_left.json",
        "drip/03_subscriber_opened_email.json",
        "drip/04_automation_webhook_subscriber_ASSUMED.json",
        "convertkit/01_subscriber_event.json",
        "convertkit/02_purchase_event.json",
        "highlevel/01_workflow_webhook_contact_MODELLED.json",
    ];
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut below = |n: usize| {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1) as u64) as usize
    };
    let mut parses = 0;
    for sample in SAMPLES {
        let body = fixture(sample);
        let mut bodies: Vec<Vec<u8>> = (0..60)
            .map(|_| {
                let mut mutated = body.clone();
                for _ in 0..=below(4) {
                    let at = below(mutated.len());
                    mutated[at] ^= (below(255) + 1) as u8;
                }
                mutated
            })
            .collect();
        let step = (body.len() / 40).max(1);
        bodies.extend(
            (0..body.len())
                .step_by(step)
                .map(|cut| body[..cut].to_vec()),
        );
        for (index, mutated) in bodies.iter().enumerate() {
            for preset in presets::all() {
                let content_type =
                    ["application/json", "application/x-www-form-urlencoded"][index % 2];
                let request = post(
                    json!({"wpf_action": "update"}),
                    content_type,
                    mutated.clone(),
                );
                let outcome = catch_unwind(AssertUnwindSafe(|| {
                    mapping::parse(preset, &request, LIMIT, now())
                }));
                parses += 1;
                match outcome {
                    Err(_) => panic!("{} panicked on {sample} #{index}", preset.slug),
                    Ok(Ok(webhook)) => {
                        assert!(webhook.events.iter().all(|e| !e.contact_id.is_empty()))
                    }
                    Ok(Err(error)) => assert!(
                        (400..500).contains(&error.status()),
                        "{} on {sample} #{index}: {error}",
                        preset.slug
                    ),
                }
            }
        }
    }
    assert!(parses > 5000, "{parses}");
}

/// The form decoder against PHP's own `parse_str` (the CLI the PHPUnit suite runs on): the
/// same nesting, appends, integer keys, name mangling and overwrites, as JSON.
#[test]
fn form_bodies_read_as_php_reads_them() {
    let bodies = [
        "contact[id]=5&contact[email]=a%40b.org&contact[tags]=one%2C+two&type=update",
        "a[]=x&a[]=y&a[5]=z&a[]=w",
        "a[1]=x&a[]=y",
        "a[01]=x&a[]=y&a[-1]=n&a[-0]=m",
        "a.b=1&c d=2&%20e=3&f+g=4",
        "a[b.c=1&x[y]z=2&e[f][g=3&h[i]j[k]=4",
        "=1&[a]=2&&x&y=",
        "a=1&b=2&a=3",
        "a=1&a[b]=2&c[d]=1&c=2",
        "data[merges][EMAIL]=E%40x.org&data[merges][FNAME]=F&type=subscribe",
        "a[x][]=1&a[x][]=2&a[y][0][z]=3",
        "t=%zz%ff%C3%A9&u=caf%C3%A9",
        "a[ b ]=1&a[.c]=2",
        "0=zero&1=one",
        "k[9223372036854775807]=max&k[]=next",
        "a%5Bb%5D=1&a%5B%5D=2&a[b][]=3&a[b][c]=4",
        "x[]=1&x[]=2&x[0]=0&x[a][b]=c&x[a]=d",
    ];
    for body in bodies {
        let php = std::process::Command::new("php")
            .args([
                "-n",
                "-r",
                "parse_str($argv[1], $out); echo json_encode($out, JSON_INVALID_UTF8_SUBSTITUTE);",
                body,
            ])
            .output()
            .expect("the php CLI (scripts/install-deps.sh installs it)");
        assert!(php.status.success(), "php failed on {body}");
        let expected: Value = serde_json::from_slice(&php.stdout)
            .unwrap_or_else(|e| panic!("{body}: {e}: {}", String::from_utf8_lossy(&php.stdout)));
        let ours = mapping::body::decode_form(body.as_bytes()).unwrap();
        // PHP's empty result is [] (a list); ours is an empty object or list alike.
        let empty = |v: &Value| {
            matches!(v, Value::Array(a) if a.is_empty())
                || matches!(v, Value::Object(m) if m.is_empty())
        };
        if empty(&expected) && empty(&ours) {
            continue;
        }
        assert_eq!(ours, expected, "{body}");
    }
}
