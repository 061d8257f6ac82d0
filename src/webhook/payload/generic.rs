//! The rules every CRM format shares: the `contact_id` request parameter, what a
//! usable contact id is, tag lists, and the order of events by timestamp.
//!
//! Intake, after a CRM's parser (`mautic`, `userengage`) has read the body: `payload::parse`
//! calls `apply_parameters` and `sort_by_timestamp` here, and the parsers use the value
//! helpers, so each of these rules is decided once.
//!
//! `contact_id` parameter (WP Fusion's rule: it wins over the payload). With a parameter `P`:
//! - a payload event whose contact id is `P` is kept (its data belongs to `P`);
//! - the single event of a one-event payload that carries no contact id is kept and gets `P`;
//! - every other event is dropped: its email, fields and tags belong to another contact, and
//!   mixing them into `P` would write one contact's data onto another's user;
//! - when nothing is kept (no payload, a generic campaign body, or only other contacts), one
//!   event of kind `request` carries `P`, and the apply step loads the contact from the CRM.
//!
//! So a batch keeps only `P`'s own events, and a one-event payload about another contact is
//! answered from the CRM's API for `P`, as WP Fusion does.
//!
//! With a signed payload the parameter is not read at all (`payload::parse`): the signature
//! covers the body, not the URL, so the signed data decides which contact it is about.
//!
//! `email` parameter (WP Fusion sends it): never read. It is untrusted text, and a contact's
//! email decides which user it reaches, so only the contact's own email counts: the
//! payload's, else the CRM API's.
//!
//! Order: by timestamp, stable. Timestamps are compared as instants when they parse as RFC 3339
//! (`2017-12-01T00:05:18-06:00`, `2021-02-01T07:27:44.469241+00:00`; a space may replace the
//! `T`), so differing offsets order correctly. Timestamps that do not parse come after those,
//! compared as trimmed strings; events without one come last, in payload order.

use serde_json::Value;

use crate::crm::CrmKind;
use crate::error::{Error, Result};
use crate::webhook::{printable, ContactEvent, Request};

/// Event kind of an event made from the request parameters alone.
pub const REQUEST_KIND: &str = "request";
/// Longest contact id accepted (CRM ids are numbers or short keys).
pub const MAX_CONTACT_ID_CHARS: usize = 64;
/// Longest timestamp kept; longer strings are not timestamps.
const MAX_TIMESTAMP_CHARS: usize = 64;

/// The `InvalidPayload` error of a CRM, with a detail that must not quote secrets or bodies.
pub fn invalid(crm: CrmKind, detail: impl Into<String>) -> Error {
    Error::InvalidPayload {
        crm: crm.display_name(),
        detail: detail.into(),
    }
}

/// The `contact_id` parameter, trimmed; `None` when absent or empty.
pub fn contact_id_param(crm: CrmKind, request: &Request) -> Result<Option<String>> {
    match request.param("contact_id") {
        None => Ok(None),
        Some(text) => contact_id_text(&text)
            .map_err(|reason| invalid(crm, format!("the contact_id parameter {reason}"))),
    }
}

/// A contact id from a JSON value: a non-negative integer or a string (trimmed). `Ok(None)`
/// for null and the empty string; `Err(reason)` for anything else, to be wrapped in the
/// caller's `InvalidPayload`.
pub fn contact_id(value: &Value) -> std::result::Result<Option<String>, String> {
    match value {
        Value::Null => Ok(None),
        Value::Number(number) => match number.as_u64() {
            Some(id) => Ok(Some(id.to_string())),
            None => Err("is not a whole non-negative number".into()),
        },
        Value::String(text) => contact_id_text(text),
        Value::Bool(_) => Err("is a boolean".into()),
        Value::Array(_) => Err("is a list".into()),
        Value::Object(_) => Err("is an object".into()),
    }
}

fn contact_id_text(text: &str) -> std::result::Result<Option<String>, String> {
    let id = text.trim();
    if id.is_empty() {
        Ok(None)
    } else if id.chars().count() > MAX_CONTACT_ID_CHARS {
        Err(format!("is longer than {MAX_CONTACT_ID_CHARS} characters"))
    } else if id
        .chars()
        .any(|c| c.is_control() || crate::webhook::is_bidi_control(c))
    {
        Err(format!(
            "contains control characters (\"{}\")",
            printable(id, 20)
        ))
    } else {
        Ok(Some(id.to_string()))
    }
}

/// A trimmed, non-empty string value; `None` for anything else.
pub fn text(value: Option<&Value>) -> Option<String> {
    value
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_string)
}

/// An event timestamp: a trimmed, non-empty string of reasonable length.
pub fn timestamp(value: Option<&Value>) -> Option<String> {
    text(value).filter(|stamp| stamp.chars().count() <= MAX_TIMESTAMP_CHARS)
}

/// Tag names from a list of strings or of objects holding the name under `key`
/// (`{"tag": ..}` for Mautic, `{"name": ..}` for User.com). An object in place of the list
/// (PHP's `json_encode` of a non-sequential array) counts as a list of its values. Other
/// entries are skipped; names are trimmed, empty ones dropped, duplicates kept once.
/// `None` when the value is null or not a list.
pub fn tag_names(value: &Value, key: &str) -> Option<Vec<String>> {
    let entries: Vec<&Value> = match value {
        Value::Array(list) => list.iter().collect(),
        Value::Object(map) => map.values().collect(),
        _ => return None,
    };
    let mut names: Vec<String> = Vec::new();
    for entry in entries {
        let name = match entry {
            Value::Object(tag) => tag.get(key).and_then(tag_name),
            other => tag_name(other),
        };
        if let Some(name) = name {
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    Some(names)
}

fn tag_name(value: &Value) -> Option<String> {
    match value {
        Value::String(name) => Some(name.trim().to_string()).filter(|name| !name.is_empty()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// An event made from the request parameters alone.
pub fn request_event(contact_id: String) -> ContactEvent {
    ContactEvent {
        kind: REQUEST_KIND.to_string(),
        contact_id,
        ..ContactEvent::default()
    }
}

/// Applies the `contact_id` parameter to the payload's events (rules in the module comment).
pub fn apply_parameters(
    events: Vec<ContactEvent>,
    contact_id: Option<String>,
) -> Vec<ContactEvent> {
    match contact_id {
        None => events,
        Some(id) => {
            let single = events.len() == 1;
            let kept: Vec<ContactEvent> = events
                .into_iter()
                .filter(|event| event.contact_id == id || (single && event.contact_id.is_empty()))
                .map(|event| ContactEvent {
                    contact_id: id.clone(),
                    ..event
                })
                .collect();
            if kept.is_empty() {
                vec![request_event(id)]
            } else {
                kept
            }
        }
    }
}

/// How events compare: instants first, then unparsed timestamps, then none.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum SortKey {
    Instant(i64, u32),
    Text(String),
    Missing,
}

fn sort_key(event: &ContactEvent) -> SortKey {
    match event.timestamp.as_deref() {
        None => SortKey::Missing,
        Some(stamp) => match parse_instant(stamp) {
            Some((seconds, nanos)) => SortKey::Instant(seconds, nanos),
            None => SortKey::Text(stamp.trim().to_string()),
        },
    }
}

/// Orders events by timestamp; a stable sort, so equal timestamps keep payload order.
pub fn sort_by_timestamp(events: &mut Vec<ContactEvent>) {
    if events.len() < 2 {
        return;
    }
    let mut keyed: Vec<(SortKey, ContactEvent)> = events
        .drain(..)
        .map(|event| (sort_key(&event), event))
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    events.extend(keyed.into_iter().map(|(_, event)| event));
}

/// An RFC 3339 timestamp as seconds since the Unix epoch (UTC) and nanoseconds;
/// `None` when `text` is not one. Accepts `t`/space for `T`, `z` for `Z`, any number of
/// fraction digits (nanoseconds kept), offsets `±HH:MM` or `±HHMM`.
pub fn parse_instant(text: &str) -> Option<(i64, u32)> {
    let bytes = text.trim().as_bytes();
    let year = digits(bytes, 0, 4)?;
    let month = digits(bytes, 5, 2)?;
    let day = digits(bytes, 8, 2)?;
    let hour = digits(bytes, 11, 2)?;
    let minute = digits(bytes, 14, 2)?;
    let second = digits(bytes, 17, 2)?;
    let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if separators
        .iter()
        .any(|&(at, expected)| bytes.get(at) != Some(&expected))
    {
        return None;
    }
    if !matches!(bytes.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }

    let mut rest = bytes.get(19..)?;
    let mut nanos: u32 = 0;
    if let Some((b'.', fraction)) = rest.split_first() {
        let count = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
        if count == 0 {
            return None;
        }
        for (place, digit) in fraction.iter().take(count.min(9)).enumerate() {
            let exponent = 8u32.checked_sub(u32::try_from(place).ok()?)?;
            nanos += u32::from(digit - b'0') * 10u32.pow(exponent);
        }
        rest = fraction.get(count..)?;
    }

    let offset_seconds: i64 = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), offset @ ..] => {
            let (hours, minutes) = match offset {
                [_, _, b':', _, _] => (digits(offset, 0, 2)?, digits(offset, 3, 2)?),
                [_, _, _, _] => (digits(offset, 0, 2)?, digits(offset, 2, 2)?),
                _ => return None,
            };
            if hours > 23 || minutes > 59 {
                return None;
            }
            let magnitude = hours * 3600 + minutes * 60;
            if *sign == b'-' {
                -magnitude
            } else {
                magnitude
            }
        }
        _ => return None,
    };

    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    Some((seconds, nanos))
}

/// `len` ASCII digits at `start` as a number.
fn digits(bytes: &[u8], start: usize, len: usize) -> Option<i64> {
    let slice = bytes.get(start..start.checked_add(len)?)?;
    slice.iter().try_fold(0i64, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + i64::from(b - b'0'))
    })
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(id: &str, stamp: Option<&str>) -> ContactEvent {
        ContactEvent {
            kind: "k".into(),
            contact_id: id.into(),
            email: Some(format!("{id}@example.org")),
            timestamp: stamp.map(str::to_string),
            ..ContactEvent::default()
        }
    }

    #[test]
    fn instants() {
        assert_eq!(parse_instant("1970-01-01T00:00:00Z"), Some((0, 0)));
        assert_eq!(
            parse_instant("2017-06-19T09:32:24+00:00"),
            Some((1_497_864_744, 0))
        );
        // The same instant in another offset.
        assert_eq!(
            parse_instant("2017-06-19T04:32:24-05:00"),
            parse_instant("2017-06-19T09:32:24Z")
        );
        assert_eq!(
            parse_instant("2021-02-01T07:27:44.469241+00:00"),
            Some((1_612_164_464, 469_241_000))
        );
        assert_eq!(
            parse_instant("2021-02-01 07:27:44.1234567891+0000"),
            Some((1_612_164_464, 123_456_789))
        );
        assert_eq!(parse_instant("2000-02-29T00:00:00z").map(|_| ()), Some(()));
        assert_eq!(parse_instant("1969-12-31T23:59:59Z"), Some((-1, 0)));
        for bad in [
            "",
            "2017-06-19",
            "2017-06-19T09:32:24",
            "2017-13-19T09:32:24Z",
            "2019-02-29T00:00:00Z",
            "2017-06-19T24:00:00Z",
            "2017-06-19T09:32:24+0",
            "2017-06-19T09:32:24.Z",
            "2017-06-19T09:32:24+00:00x",
            "２０17-06-19T09:32:24Z",
            "yesterday",
        ] {
            assert_eq!(parse_instant(bad), None, "{bad}");
        }
    }

    #[test]
    fn sorting_is_by_instant_then_text_then_missing_and_stable() {
        let mut events = vec![
            event("none-1", None),
            event("text-b", Some("b")),
            event("late", Some("2017-12-01T00:05:18-06:00")),
            event("early", Some("2017-12-01T05:05:17+00:00")),
            event("text-a", Some("a")),
            event("none-2", None),
            event("same-1", Some("2017-12-01T06:05:18+00:00")),
            event("same-2", Some("2017-12-01T06:05:18Z")),
        ];
        sort_by_timestamp(&mut events);
        let order: Vec<&str> = events.iter().map(|e| e.contact_id.as_str()).collect();
        assert_eq!(
            order,
            ["early", "late", "same-1", "same-2", "text-a", "text-b", "none-1", "none-2"]
        );
    }

    #[test]
    fn contact_ids() {
        assert_eq!(contact_id(&json!(52)), Ok(Some("52".into())));
        assert_eq!(contact_id(&json!(" 52 ")), Ok(Some("52".into())));
        assert_eq!(contact_id(&json!("abc")), Ok(Some("abc".into())));
        assert_eq!(contact_id(&json!(null)), Ok(None));
        assert_eq!(contact_id(&json!("  ")), Ok(None));
        for bad in [
            json!(-1),
            json!(1.5),
            json!(true),
            json!([1]),
            json!({"id": 1}),
        ] {
            assert!(contact_id(&bad).is_err(), "{bad}");
        }
        assert!(contact_id(&json!("x".repeat(65))).is_err());
        assert!(contact_id(&json!("a\u{0}b")).is_err());
    }

    #[test]
    fn tags() {
        let value = json!([{"tag": " a "}, "b", {"tag": ""}, {"id": 3}, [], null, "a", {"tag": 7}]);
        assert_eq!(
            tag_names(&value, "tag"),
            Some(vec!["a".to_string(), "b".to_string(), "7".to_string()])
        );
        assert_eq!(
            tag_names(&json!({"3": {"tag": "x"}}), "tag"),
            Some(vec!["x".into()])
        );
        assert_eq!(tag_names(&json!(null), "tag"), None);
        assert_eq!(tag_names(&json!("a,b"), "tag"), None);
        assert_eq!(tag_names(&json!([[]]), "tag"), Some(vec![]));
    }

    #[test]
    fn contact_id_parameter_rules() {
        // No payload: one request event.
        let events = apply_parameters(vec![], Some("9".into()));
        assert_eq!(events, vec![request_event("9".into())]);

        // One event with the same id or without one: kept, with the id.
        let events = apply_parameters(vec![event("9", None)], Some("9".into()));
        assert_eq!(events, vec![event("9", None)]);
        let mut no_id = event("", None);
        no_id.email = None;
        let events = apply_parameters(vec![no_id], Some("9".into()));
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].contact_id, "9");
        assert_eq!(events[0].email, None);

        // One event about another contact: its data is not used.
        let events = apply_parameters(vec![event("1", None)], Some("9".into()));
        assert_eq!(events, vec![request_event("9".into())]);

        // A batch keeps only the parameter's contact.
        let batch = vec![event("1", None), event("9", Some("t")), event("", None)];
        let events = apply_parameters(batch.clone(), Some("9".into()));
        assert_eq!(events, vec![event("9", Some("t"))]);
        let events = apply_parameters(batch.clone(), Some("5".into()));
        assert_eq!(events, vec![request_event("5".into())]);

        // No parameter: untouched.
        let events = apply_parameters(batch.clone(), None);
        assert_eq!(events, batch);
    }
}
