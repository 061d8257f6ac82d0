//! The mapping rules, one test each (the presets against their CRM's samples are in
//! `tests/mapping.rs`).

use super::*;
use serde_json::json;

fn mapping(value: Value) -> Mapping {
    Mapping::from_value(&value, Origin::Site).unwrap_or_else(|e| panic!("{e}"))
}

fn refused(value: Value) -> (String, String) {
    match Mapping::from_value(&value, Origin::Site) {
        Err(Error::InvalidMapping { field, reason }) => (field, reason),
        other => panic!("expected invalid_mapping, got {other:?}"),
    }
}

fn minimal() -> Value {
    json!({"slug": "acme", "contact_id": {"pointers": ["/id"]}, "complete": false})
}

fn with(extra: Value) -> Value {
    let mut value = minimal();
    if let (Value::Object(map), Value::Object(extra)) = (&mut value, extra) {
        map.extend(extra);
    }
    value
}

#[test]
fn the_smallest_mapping() {
    let mapping = mapping(minimal());
    assert_eq!(mapping.format, BodyFormat::Auto);
    assert_eq!(mapping.contact_id.kind, IdType::String);
    let reading = read(&mapping, &json!({"id": " 52 "})).unwrap();
    assert_eq!(reading.events.len(), 1);
    let event = &reading.events[0];
    assert_eq!(event.contact_id, "52");
    assert_eq!(event.kind, "acme");
    assert_eq!(
        (
            event.email.as_ref(),
            event.tags.as_ref(),
            event.fields.as_ref()
        ),
        (None, None, None)
    );
}

#[test]
fn unknown_keys_are_refused_by_their_pointer() {
    let (field, reason) = refused(with(json!({"contact_ids": []})));
    assert_eq!(field, "/contact_ids");
    assert!(reason.contains("unknown field"), "{reason}");
    let (field, _) = refused(with(
        json!({"contact_id": {"pointers": ["/id"], "typ": "string"}}),
    ));
    assert_eq!(field, "/contact_id/typ");
    let (field, _) = refused(with(
        json!({"contact_id": {"pointers": ["/id"], "type": "uuid"}}),
    ));
    assert_eq!(field, "/contact_id/type");
    let (field, _) = refused(with(
        json!({"signature": {"header": "X", "algo": "sha256", "secret": "s"}}),
    ));
    assert_eq!(field, "/signature/algo");
    let (field, _) = refused(with(json!({"format": "xml"})));
    assert_eq!(field, "/format");
    let (field, _) = refused(json!({"contact_id": {"pointers": ["/id"]}}));
    assert_eq!(field, "/");
}

#[test]
fn bad_pointers_are_refused_by_their_place() {
    for (extra, at) in [
        (
            json!({"contact_id": {"pointers": ["id"]}}),
            "/contact_id/pointers/0",
        ),
        (
            json!({"contact_id": {"pointers": ["/id", "/a~2"]}}),
            "/contact_id/pointers/1",
        ),
        (
            json!({"contact_id": {"pointers": [""]}}),
            "/contact_id/pointers/0",
        ),
        (
            json!({"contact_id": {"pointers": []}}),
            "/contact_id/pointers",
        ),
        (json!({"email": "email"}), "/email"),
        (json!({"email": ["/a", "b"]}), "/email/1"),
        (json!({"email": []}), "/email"),
        (json!({"items": ["/events", "x"]}), "/items/1"),
        (
            json!({"when": [{"pointer": "type", "in": ["a"]}]}),
            "/when/0/pointer",
        ),
        (
            json!({"when": [{"pointer": "/type", "in": []}]}),
            "/when/0/in",
        ),
        (
            json!({"when": [{"pointer": "/type", "in": [{"a": 1}]}]}),
            "/when/0/in",
        ),
        (json!({"when": [{"in": ["a"]}]}), "/when/0"),
        (
            json!({"fields": {"first_name": "name"}}),
            "/fields/first_name",
        ),
        (
            json!({"fields": {"first_name": {"pointer": "name"}}}),
            "/fields/first_name/pointer",
        ),
        (
            json!({"fields": {"wp_capabilities": "/role"}}),
            "/fields/wp_capabilities",
        ),
        (
            json!({"fields": {"acme_contact_id": "/x"}}),
            "/fields/acme_contact_id",
        ),
        (
            json!({"fields": {"mautic_tags": "/x"}}),
            "/fields/mautic_tags",
        ),
        (json!({"fields": {" x": "/x"}}), "/fields/ x"),
        (json!({"event_time": "t"}), "/event_time"),
        (json!({"event": "t"}), "/event"),
        (
            json!({"tags": {"pointer": "/t", "split": ",", "pluck": "name"}}),
            "/tags",
        ),
        (
            json!({"tags": {"pointer": "/t", "split": ""}}),
            "/tags/split",
        ),
        (json!({"tags": {"pointer": "t"}}), "/tags/pointer"),
        (json!({"slug": "Acme"}), "/slug"),
        (json!({"slug": "acme-crm"}), "/slug"),
    ] {
        let (field, reason) = refused(with(extra.clone()));
        assert_eq!(field, at, "{extra}: {reason}");
    }
}

#[test]
fn fields_may_be_an_empty_php_array_but_not_a_list() {
    assert!(mapping(with(json!({"fields": []}))).fields.is_empty());
    let (field, _) = refused(with(json!({"fields": ["/a"]})));
    assert_eq!(field, "/fields");
    let (field, _) = refused(with(
        json!({"fields": {"a": {"pointer": "/a", "optinal": true}}}),
    ));
    assert_eq!(field, "/fields/a");
}

#[test]
fn a_complete_payload_without_tags_leaves_the_tags_alone() {
    let without = mapping(with(json!({"complete": true})));
    let reading = read(&without, &json!({"id": "7"})).unwrap();
    assert_eq!(reading.events[0].fields, Some(Map::new()));
    assert_eq!(reading.events[0].tags, None, "nothing said about tags");
    let mut value = with(json!({"complete": true, "tags": {"pointer": "/tags"}}));
    assert!(Mapping::from_value(&value, Origin::Site).is_ok());
    // `complete` defaults to true.
    if let Value::Object(map) = &mut value {
        map.remove("complete");
    }
    assert!(mapping(value).complete);
}

#[test]
fn a_signature_section_needs_a_secret_and_a_preset_none() {
    let signature = json!({"header": "Signature"});
    let (field, reason) = refused(with(json!({"signature": signature})));
    assert_eq!(field, "/signature/secret");
    assert!(reason.contains("missing"), "{reason}");
    let (field, _) = refused(with(
        json!({"signature": {"header": "Signature", "secret": ""}}),
    ));
    assert_eq!(field, "/signature/secret");
    let preset = with(json!({"signature": {"header": "Signature", "secret": "s3cret"}}));
    assert!(matches!(
        Mapping::from_value(&preset, Origin::Preset),
        Err(Error::InvalidMapping { field, .. }) if field == "/signature/secret"
    ));
    for (signature, at) in [
        (
            json!({"header": "Bad Header", "secret": "s"}),
            "/signature/header",
        ),
        (
            json!({"header": "S", "signed": "timestamp_body", "secret": "s"}),
            "/signature/timestamp_header",
        ),
        (
            json!({"header": "S", "timestamp_header": "T", "secret": "s"}),
            "/signature/timestamp_header",
        ),
        (
            json!({"header": "S", "max_age_seconds": 0, "secret": "s"}),
            "/signature/max_age_seconds",
        ),
    ] {
        let (field, _) = refused(with(json!({"signature": signature})));
        assert_eq!(field, at);
    }
    // The secret is never serialised, nor printed.
    let signed = mapping(with(
        json!({"signature": {"header": "Signature", "secret": "s3cret"}}),
    ));
    assert!(!signed.to_value().to_string().contains("s3cret"));
    assert!(!format!("{signed:?}").contains("s3cret"));
}

#[test]
fn items_and_their_positions() {
    let mapping = mapping(with(json!({"items": ["/events", ""]})));
    let batch = json!({"events": [{"id": 1}, {"id": "2"}, {"name": "no id"}]});
    let reading = read(&mapping, &batch).unwrap();
    let ids: Vec<&str> = reading
        .events
        .iter()
        .map(|e| e.contact_id.as_str())
        .collect();
    assert_eq!(ids, ["1", "2"]);
    assert_eq!(reading.ignored.len(), 1);
    assert_eq!(reading.ignored[0].item, Some(3));
    assert_eq!(reading.ignored[0].code, "pointer_missing");
    assert!(
        reading.ignored[0].message.contains("\"name\""),
        "{:?}",
        reading.ignored
    );
    // Many unreadable items: the first MAX_IGNORED_LISTED are listed, the rest counted.
    let mut many: Vec<Value> = (0..50).map(|n| json!({"name": n})).collect();
    many.insert(10, json!({"id": 10}));
    many.push(json!({"id": 99}));
    let reading = read(&mapping, &json!({ "events": many })).unwrap();
    assert_eq!(
        reading.events.len(),
        2,
        "readable items among them are read"
    );
    assert_eq!(reading.ignored.len(), MAX_IGNORED_LISTED + 1);
    assert_eq!(reading.ignored[MAX_IGNORED_LISTED - 1].item, Some(21));
    let rest = reading.ignored.last().unwrap();
    assert_eq!(
        (rest.item, rest.code.as_str()),
        (None, "ignored_not_listed")
    );
    assert!(
        rest.message
            .starts_with(&format!("{} more items", 50 - MAX_IGNORED_LISTED)),
        "{}",
        rest.message
    );
    // No /events: the whole body is the one item.
    let single = read(&mapping, &json!({"id": 7})).unwrap();
    assert_eq!(single.events[0].contact_id, "7");
    assert_eq!(single.ignored, vec![]);
    // PHP's json_encode of an array with gaps: an object of items.
    let gaps = read(
        &mapping,
        &json!({"events": {"0": {"id": 1}, "2": {"id": 3}}}),
    )
    .unwrap();
    assert_eq!(gaps.events.len(), 2);
}

#[test]
fn items_that_are_not_there_or_not_a_list() {
    let mapping = mapping(with(json!({"items": ["/events"]})));
    let reading = read(&mapping, &json!({"other": []})).unwrap();
    assert_eq!(reading.events, vec![]);
    assert_eq!(reading.ignored[0].code, "pointer_missing");
    assert_eq!(reading.ignored[0].item, None);
    assert!(reading.ignored[0].message.contains("\"other\""));
    let reading = read(&mapping, &json!({"events": "x"})).unwrap();
    assert_eq!(reading.ignored[0].code, "pointer_type");
    // A string where the items are: a pointer into a string.
    let mapping2 = mapping_with_items("/events/list");
    let reading = read(&mapping2, &json!({"events": "x"})).unwrap();
    assert_eq!(reading.ignored[0].code, "pointer_type");
    // An item that is a number, not an object.
    let reading = read(&mapping, &json!({"events": [5]})).unwrap();
    assert_eq!(reading.ignored[0].code, "pointer_type");
}

fn mapping_with_items(pointer: &str) -> Mapping {
    mapping(with(json!({"items": [pointer]})))
}

#[test]
fn ten_thousand_items_and_no_more() {
    let mapping = mapping(with(json!({"items": ["/events"]})));
    let items: Vec<Value> = (0..MAX_ITEMS).map(|id| json!({"id": id})).collect();
    let reading = read(&mapping, &json!({"events": items})).unwrap();
    assert_eq!(reading.events.len(), MAX_ITEMS);
    let items: Vec<Value> = (0..=MAX_ITEMS).map(|id| json!({"id": id})).collect();
    let error = read(&mapping, &json!({"events": items})).unwrap_err();
    assert_eq!((error.code(), error.status()), ("too_many_items", 413));
}

#[test]
fn when_conditions() {
    let mapping = mapping(with(json!({
        "when": [{"pointer": "/type", "in": ["update", 5]}, {"pointer": "/ok", "in": [true]}]
    })));
    let ok = read(&mapping, &json!({"id": 1, "type": "update", "ok": true})).unwrap();
    assert_eq!(ok.events.len(), 1);
    let number = read(&mapping, &json!({"id": 1, "type": "5", "ok": "1"})).unwrap();
    assert_eq!(
        number.events.len(),
        1,
        "compared as text: 5 is \"5\", true is \"1\""
    );
    let other = read(&mapping, &json!({"id": 1, "type": "delete", "ok": true})).unwrap();
    assert_eq!(other.events, vec![]);
    assert_eq!(other.ignored[0].code, "condition_not_met");
    let message = &other.ignored[0].message;
    assert!(
        message.contains("/type") && message.contains("a string"),
        "{message}"
    );
    assert!(!message.contains("delete"), "never the value: {message}");
    let missing = read(&mapping, &json!({"id": 1, "ok": true})).unwrap();
    assert_eq!(missing.ignored[0].code, "pointer_missing");
    assert!(missing.ignored[0].message.contains("/type"));
}

#[test]
fn when_or_absent_and_optional_event_rules() {
    let mapping = mapping(with(json!({
        "when": [{"pointer": "/event", "in": ["update"], "or_absent": true}],
        "event": {"pointer": "/event", "optional": true},
        "event_time": {"pointer": "/at", "optional": true}
    })));
    let absent = read(&mapping, &json!({"id": 1})).unwrap().events.remove(0);
    assert_eq!((absent.kind.as_str(), absent.timestamp), ("acme", None));
    let present = read(&mapping, &json!({"id": 1, "event": "update", "at": "t"}))
        .unwrap()
        .events
        .remove(0);
    assert_eq!(
        (present.kind.as_str(), present.timestamp.as_deref()),
        ("update", Some("t"))
    );
    let other = read(&mapping, &json!({"id": 1, "event": "delete"})).unwrap();
    assert_eq!(other.ignored[0].code, "condition_not_met");
    // A step into a string is still a wrong shape, absent allowed or not.
    let into_text = mapping_or_absent_into_text();
    assert_eq!(
        read(&into_text, &json!({"id": 1, "e": "x"}))
            .unwrap()
            .ignored[0]
            .code,
        "pointer_type"
    );
}

fn mapping_or_absent_into_text() -> Mapping {
    mapping(with(
        json!({"when": [{"pointer": "/e/name", "in": ["x"], "or_absent": true}]}),
    ))
}

#[test]
fn contact_id_first_non_empty_wins() {
    let mapping = mapping(with(
        json!({"contact_id": {"pointers": ["/a/id", "/b/id", "/c"]}}),
    ));
    let id = |body: Value| read(&mapping, &body).unwrap();
    assert_eq!(
        id(json!({"a": {"id": "x"}, "b": {"id": "y"}})).events[0].contact_id,
        "x"
    );
    assert_eq!(
        id(json!({"a": {"id": ""}, "b": {"id": "y"}})).events[0].contact_id,
        "y"
    );
    assert_eq!(
        id(json!({"a": {"id": null}, "c": 9})).events[0].contact_id,
        "9"
    );
    let none = id(json!({"a": {"id": " "}, "b": {}}));
    assert_eq!(none.ignored[0].code, "pointer_missing");
    let message = &none.ignored[0].message;
    assert!(message.contains("/a/id or /b/id or /c"), "{message}");
    assert!(message.contains("empty"), "{message}");
}

#[test]
fn contact_id_types() {
    let typed = |kind: &str| {
        mapping(with(
            json!({"contact_id": {"pointers": ["/id"], "type": kind}}),
        ))
    };
    let string = typed("string");
    let read_id = |mapping: &Mapping, id: Value| {
        let reading = read(mapping, &json!({ "id": id })).unwrap();
        match reading.events.first() {
            Some(event) => Ok(event.contact_id.clone()),
            None => Err(reading.ignored[0].code.as_str().to_owned()),
        }
    };
    // HighLevel's ids stay strings exactly as sent (WP Fusion 3.44.1's absint made them 0).
    assert_eq!(
        read_id(&string, json!("CWBf1PR9LvvBkcYqiXlc")),
        Ok("CWBf1PR9LvvBkcYqiXlc".into())
    );
    assert_eq!(read_id(&string, json!("007")), Ok("007".into()));
    assert_eq!(
        read_id(&string, json!(2300951083u64)),
        Ok("2300951083".into())
    );
    assert_eq!(
        read_id(&string, json!(1.5)),
        Err("pointer_type".to_string())
    );
    assert_eq!(read_id(&string, json!(-1)), Err("pointer_type".to_string()));
    assert_eq!(
        read_id(&string, json!({"id": 1})),
        Err("pointer_type".to_string())
    );
    assert_eq!(
        read_id(&string, json!(["1"])),
        Err("pointer_type".to_string())
    );
    assert_eq!(
        read_id(&string, json!(true)),
        Err("pointer_type".to_string())
    );
    assert_eq!(
        read_id(&string, json!("x".repeat(65))),
        Err("contact_id_too_long".to_string())
    );
    assert_eq!(
        read_id(&string, json!("a\u{0}b")),
        Err("pointer_type".to_string())
    );
    let integer = typed("integer");
    assert_eq!(read_id(&integer, json!("007")), Ok("7".into()));
    assert_eq!(read_id(&integer, json!("0")), Ok("0".into()));
    assert_eq!(read_id(&integer, json!(52)), Ok("52".into()));
    assert_eq!(
        read_id(&integer, json!("52a")),
        Err("pointer_type".to_string())
    );
    assert_eq!(
        read_id(&integer, json!("-5")),
        Err("pointer_type".to_string())
    );
    let md5 = typed("md5_email");
    // Mailchimp's member id: the MD5 of the lowercased email (WP Fusion kept the case).
    assert_eq!(
        read_id(&md5, json!(" John.Doe@Example.COM ")),
        read_id(&md5, json!("john.doe@example.com"))
    );
    assert_eq!(
        read_id(&md5, json!("urist.mcvankab@freddiesjokes.com")),
        Ok("62eeb292278cc15f5817cb78f7790b08".into())
    );
    assert_eq!(
        read_id(&md5, json!("not an email")),
        Err("pointer_type".to_string())
    );
    assert_eq!(read_id(&md5, json!(5)), Err("pointer_type".to_string()));
}

#[test]
fn email_fields_and_event_time() {
    let mapping = mapping(with(json!({
        "email": ["/contact/email", "/email"],
        "fields": {
            "first_name": "/contact/first",
            "phone": {"pointer": "/contact/phone", "optional": true},
            "points": "/contact/points"
        },
        "event_time": "/at",
        "tags": {"pointer": "/tags"},
        "complete": true
    })));
    let body = json!({"id": 1, "email": "Top@Example.org ", "tags": [],
        "contact": {"first": "Ada", "points": 3}, "at": "2024-01-01T09:00:00Z"});
    let event = read(&mapping, &body).unwrap().events.remove(0);
    assert_eq!(event.email.as_deref(), Some("Top@Example.org"));
    assert_eq!(
        Value::Object(event.fields.unwrap()),
        json!({"first_name": "Ada", "points": 3})
    );
    assert_eq!(event.timestamp.as_deref(), Some("2024-01-01T09:00:00Z"));
    // A required field that is missing ignores the item, naming the pointer and the keys.
    let body =
        json!({"id": 1, "email": "a@b.org", "tags": [], "contact": {"points": 3}, "at": null});
    let reading = read(&mapping, &body).unwrap();
    assert_eq!(reading.ignored[0].code, "pointer_missing");
    assert!(reading.ignored[0].message.contains("/contact/first"));
    assert!(reading.ignored[0].message.contains("\"points\""));
    // Wrong types: an object where text is expected, numbers where an email is expected.
    for body in [
        json!({"id": 1, "email": 5, "tags": [], "contact": {"first": "A", "points": 1}, "at": null}),
        json!({"id": 1, "email": "a@b.org", "tags": [], "contact": {"first": {"x": 1}, "points": 1}, "at": null}),
        json!({"id": 1, "email": "a@b.org", "tags": [], "contact": {"first": "A", "points": 1}, "at": [1]}),
    ] {
        let reading = read(&mapping, &body).unwrap();
        assert_eq!(reading.ignored[0].code, "pointer_type", "{body}");
    }
    // Epoch seconds and milliseconds become RFC 3339.
    for at in [json!(1495551003), json!(1495551003000u64)] {
        let body = json!({"id": 1, "email": null, "tags": null, "contact": {"first": null, "points": 1}, "at": at});
        let event = read(&mapping, &body).unwrap().events.remove(0);
        assert_eq!(event.timestamp.as_deref(), Some("2017-05-23T14:50:03Z"));
        assert_eq!(event.email, None);
        assert_eq!(event.tags, None, "null tags say nothing");
    }
}

#[test]
fn tag_shapes() {
    let tags_of = |rule: Value, value: Value| {
        let mapping = mapping(with(json!({"tags": rule})));
        let reading = read(&mapping, &json!({"id": 1, "t": value})).unwrap();
        match reading.events.first() {
            Some(event) => Ok(event.tags.clone()),
            None => Err(reading.ignored[0].code.as_str().to_owned()),
        }
    };
    let some = |names: &[&str]| Ok(Some(names.iter().map(|n| n.to_string()).collect()));
    assert_eq!(
        tags_of(json!({"pointer": "/t"}), json!(["a", " b ", "a", 7])),
        some(&["a", "b", "7"])
    );
    assert_eq!(
        tags_of(
            json!({"pointer": "/t", "pluck": "slug"}),
            json!([{"slug": "x"}, {"slug": "y", "id": 2}])
        ),
        some(&["x", "y"])
    );
    assert_eq!(
        tags_of(
            json!({"pointer": "/t", "split": ", "}),
            json!("one, two,three, ")
        ),
        some(&["one", "two,three"])
    );
    assert_eq!(
        tags_of(json!({"pointer": "/t", "split": ","}), json!("")),
        some(&[])
    );
    assert_eq!(
        tags_of(json!({"pointer": "/t", "split": ","}), json!(["a"])),
        some(&["a"])
    );
    assert_eq!(
        tags_of(json!({"pointer": "/t"}), json!("a,b")),
        Err("pointer_type".to_string())
    );
    assert_eq!(
        tags_of(json!({"pointer": "/t"}), json!([{"slug": "x"}])),
        Err("pointer_type".to_string())
    );
    assert_eq!(
        tags_of(
            json!({"pointer": "/t", "pluck": "slug"}),
            json!([{"slug": ["x"]}])
        ),
        Err("pointer_type".to_string())
    );
    assert_eq!(
        tags_of(json!({"pointer": "/t", "split": ","}), json!(5)),
        Err("pointer_type".to_string())
    );
}

#[test]
fn id_only_payloads_leave_fields_to_the_crm() {
    let mapping = mapping(with(
        json!({"email": "/e", "fields": {"first_name": "/f"}, "tags": {"pointer": "/t"}, "complete": false}),
    ));
    let event = read(
        &mapping,
        &json!({"id": 1, "e": "a@b.org", "f": "A", "t": ["x"]}),
    )
    .unwrap()
    .events
    .remove(0);
    assert_eq!(event.fields, None);
    assert_eq!(event.tags, Some(vec!["x".to_string()]));
    assert_eq!(event.email.as_deref(), Some("a@b.org"));
}

fn request(query: Value, headers: &[(&str, &str)], body: &str) -> Request {
    Request::test_post(query, headers, body)
}

fn now() -> Timestamp {
    Timestamp::from_second(1_700_000_000).unwrap()
}

#[test]
fn parse_follows_the_intake_rules() {
    let mapping = mapping(with(json!({"format": "json"})));
    let update = json!({"wpf_action": "update"});
    let webhook = parse(
        &mapping,
        &request(update.clone(), &[], r#"{"id": "9"}"#),
        1000,
        now(),
    )
    .unwrap();
    assert_eq!(
        (webhook.crm.as_str(), webhook.events.len(), webhook.signed),
        ("acme", 1, false)
    );
    // Size first, then the action.
    let error = parse(&mapping, &request(json!({}), &[], "{}"), 1, now()).unwrap_err();
    assert_eq!(error.code(), "body_too_large");
    let error = parse(
        &mapping,
        &request(json!({}), &[], r#"{"id": 1}"#),
        1000,
        now(),
    )
    .unwrap_err();
    assert_eq!(error.code(), "missing_action");
    // A body that is not its format.
    let error = parse(&mapping, &request(update.clone(), &[], "id=9"), 1000, now()).unwrap_err();
    assert_eq!((error.code(), error.status()), ("invalid_json", 400));
    // The contact_id parameter wins over an unsigned body (WP Fusion's rule).
    let query = json!({"wpf_action": "update", "contact_id": "5"});
    let webhook = parse(
        &mapping,
        &request(query.clone(), &[], r#"{"id": "9"}"#),
        1000,
        now(),
    )
    .unwrap();
    assert_eq!(webhook.events[0].contact_id, "5");
    assert_eq!(webhook.events[0].kind, "request");
    // Nothing read and nothing ignored: no contact.
    let error = parse(&mapping, &request(update.clone(), &[], ""), 1000, now()).unwrap_err();
    assert_eq!(error.code(), "missing_contact_id");
    // Only ignored items: a valid webhook with nothing to do.
    let webhook = parse(&mapping, &request(update, &[], r#"{"x": 1}"#), 1000, now()).unwrap();
    assert_eq!((webhook.events.len(), webhook.ignored.len()), (0, 1));
}

#[test]
fn forms_by_format_or_content_type() {
    let form = mapping(with(
        json!({"format": "form", "contact_id": {"pointers": ["/contact/id"]}}),
    ));
    let body = "contact%5Bid%5D=12&contact[email]=a%40b.org";
    let webhook = parse(
        &form,
        &request(json!({"wpf_action": "add"}), &[], body),
        1000,
        now(),
    )
    .unwrap();
    assert_eq!(webhook.events[0].contact_id, "12");
    let auto = mapping(with(json!({"contact_id": {"pointers": ["/contact/id"]}})));
    let headers = [(
        "Content-Type",
        "application/x-www-form-urlencoded; charset=UTF-8",
    )];
    let webhook = parse(
        &auto,
        &request(json!({"wpf_action": "add"}), &headers, body),
        1000,
        now(),
    )
    .unwrap();
    assert_eq!(webhook.events[0].contact_id, "12");
    let json_body = r#"{"contact": {"id": 13}}"#;
    let webhook = parse(
        &auto,
        &request(json!({"wpf_action": "add"}), &[], json_body),
        1000,
        now(),
    )
    .unwrap();
    assert_eq!(webhook.events[0].contact_id, "13");
    // multipart/form-data: PHP parsed the fields into the post parameters.
    let mut multipart = request(
        json!({"wpf_action": "add"}),
        &[("Content-Type", "multipart/form-data; boundary=x")],
        "",
    );
    multipart.post = match json!({"contact": {"id": "14"}}) {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    let webhook = parse(&auto, &multipart, 1000, now()).unwrap();
    assert_eq!(webhook.events[0].contact_id, "14");
}

fn hmac_hex(secret: &str, message: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(message);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn signatures_over_the_raw_body() {
    let body = r#"{"id":"9"}"#;
    let signed = mapping(with(
        json!({"format": "json", "signature": {"header": "Signature", "secret": "s3cret"}}),
    ));
    let query = json!({"wpf_action": "update", "contact_id": "666"});
    let good = hmac_hex("s3cret", body.as_bytes());
    let webhook = parse(
        &signed,
        &request(query.clone(), &[("Signature", &good)], body),
        1000,
        now(),
    )
    .unwrap();
    assert!(webhook.signed);
    // A signed body's contact is not redirected by the URL's contact_id.
    assert_eq!(webhook.events[0].contact_id, "9");
    let upper = good.to_ascii_uppercase();
    assert!(parse(
        &signed,
        &request(query.clone(), &[("Signature", &upper)], body),
        1000,
        now()
    )
    .is_ok());
    for (headers, reason) in [
        (vec![], "missing"),
        (vec![("Signature", "abc")], "expected form"),
        (vec![("Signature", good.as_str())], "does not match"),
    ] {
        let tampered = if reason == "does not match" {
            r#"{"id":"8"}"#
        } else {
            body
        };
        let error = parse(
            &signed,
            &request(query.clone(), &headers, tampered),
            1000,
            now(),
        )
        .unwrap_err();
        assert_eq!((error.code(), error.status()), ("signature_rejected", 403));
        assert!(error.to_string().contains(reason), "{error}");
        assert!(!error.to_string().contains(&good));
    }
}

#[test]
fn a_signed_mapping_without_a_body_takes_the_url_contact_and_never_unsigned_form_fields() {
    let signed = mapping(with(
        json!({"format": "form", "signature": {"header": "Signature", "secret": "s3cret"}}),
    ));
    let query = json!({"wpf_action": "update", "contact_id": "5"});
    let webhook = parse(&signed, &request(query, &[], ""), 1000, now()).unwrap();
    assert_eq!(
        (webhook.signed, webhook.events[0].contact_id.as_str()),
        (false, "5")
    );
    // multipart/form-data: PHP parsed fields, no raw body to check: they are not read.
    let mut multipart = request(json!({"wpf_action": "update"}), &[], "");
    multipart.post = match json!({"id": "6"}) {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    let error = parse(&signed, &multipart, 1000, now()).unwrap_err();
    assert_eq!(error.code(), "missing_contact_id");
}

#[test]
fn signature_variants() {
    use base64::Engine;
    let body = "a=1";
    let sha1_base64 = {
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(b"k").unwrap();
        mac.update(body.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    };
    let rule = |extra: Value| {
        let mut signature = json!({"header": "X-Sig", "secret": "k"});
        if let (Value::Object(map), Value::Object(extra)) = (&mut signature, extra) {
            map.extend(extra);
        }
        mapping(with(json!({"format": "form", "signature": signature})))
    };
    let sha1 = rule(json!({"algorithm": "sha1", "encoding": "base64", "prefix": "sha1="}));
    let given = format!("sha1={sha1_base64}");
    let req = request(json!({"wpf_action": "test"}), &[("X-Sig", &given)], body);
    assert!(parse(&sha1, &req, 1000, now()).is_ok());
    let unprefixed = request(
        json!({"wpf_action": "test"}),
        &[("X-Sig", &sha1_base64)],
        body,
    );
    assert_eq!(
        parse(&sha1, &unprefixed, 1000, now()).unwrap_err().code(),
        "signature_rejected"
    );

    // Timestamp then body, with a separator, within the allowed age.
    let stamped = rule(
        json!({"signed": "timestamp_body", "separator": ".", "timestamp_header": "X-Time", "max_age_seconds": 300}),
    );
    let sign_at = |time: i64| {
        let message = format!("{time}.{body}");
        let mut headers = vec![("X-Time".to_string(), time.to_string())];
        headers.push(("X-Sig".to_string(), hmac_hex("k", message.as_bytes())));
        headers
    };
    let at = |time: i64| {
        let headers = sign_at(time);
        let pairs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        parse(
            &stamped,
            &request(json!({"wpf_action": "test"}), &pairs, body),
            1000,
            now(),
        )
    };
    let now_secs = now().as_second();
    assert!(at(now_secs - 299).is_ok());
    assert!(at(now_secs + 299).is_ok());
    let headers = [("X-Time", "yesterday"), ("X-Sig", "00")];
    let error = parse(
        &stamped,
        &request(json!({"wpf_action": "test"}), &headers, body),
        1000,
        now(),
    )
    .unwrap_err();
    assert!(error.to_string().contains("not a whole number"), "{error}");
    let old = at(now_secs - 301).unwrap_err();
    assert!(old.to_string().contains("allowed age"), "{old}");
    assert!(at(now_secs + 301).is_err());
    // Body then timestamp, milliseconds.
    let reversed = rule(
        json!({"signed": "body_timestamp", "timestamp_header": "X-Time", "timestamp_unit": "milliseconds"}),
    );
    let millis = (now_secs * 1000).to_string();
    let signature = hmac_hex("k", format!("{body}{millis}").as_bytes());
    let req = request(
        json!({"wpf_action": "test"}),
        &[("X-Time", &millis), ("X-Sig", &signature)],
        body,
    );
    assert!(parse(&reversed, &req, 1000, now()).is_ok());
    let req = request(
        json!({"wpf_action": "test"}),
        &[("X-Sig", &signature)],
        body,
    );
    let error = parse(&reversed, &req, 1000, now()).unwrap_err();
    assert!(
        error.to_string().contains("timestamp header is missing"),
        "{error}"
    );
}

#[test]
fn bad_wire_input_never_panics_and_gets_a_stable_code() {
    let mapping = mapping(with(
        json!({"format": "json", "items": ["/events", ""], "email": "/e", "tags": {"pointer": "/t", "pluck": "n"}, "complete": true}),
    ));
    let update = json!({"wpf_action": "update"});
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let two_mib = format!("{{\"x\":\"{}\"}}", "a".repeat(2 * 1024 * 1024));
    for (body, code) in [
        (deep.as_str(), Some("body_too_deep")),
        (two_mib.as_str(), Some("body_too_large")),
        ("\"a string\"", None),
        ("[1, 2]", None),
        ("{\"events\": 5}", None),
        (
            "{\"events\": [\"x\", null, [], {\"id\": {\"a\": 1}}]}",
            None,
        ),
        ("{\"id\": 1, \"e\": [\"a@b.org\"], \"t\": []}", None),
        ("{\"id\": \"1\", \"e\": 12, \"t\": {\"n\": 5}}", None),
        ("nul", Some("invalid_json")),
    ] {
        match parse(
            &mapping,
            &request(update.clone(), &[], body),
            1024 * 1024,
            now(),
        ) {
            Ok(webhook) => {
                assert_eq!(code, None, "{}", printable(body, 60));
                assert!(webhook.events.is_empty(), "{}", printable(body, 60));
                assert!(!webhook.ignored.is_empty());
            }
            Err(error) => {
                assert_eq!(Some(error.code()), code, "{}", printable(body, 60));
                assert!((400..500).contains(&error.status()));
            }
        }
    }
}
