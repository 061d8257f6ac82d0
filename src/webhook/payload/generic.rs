//! The rules every CRM format shares: the `contact_id` request parameter and the order of
//! events by timestamp (what a usable contact id is and what a tag list is are `text`'s).
//!
//! Intake, after a CRM's parser (`mautic`, `userengage`) has read the body: `payload::parse`
//! calls `apply_parameters` and `sort_by_timestamp` here, so each of these rules is decided
//! once.
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

use jiff::Timestamp;
use serde_json::Value;

use crate::crm_kind::CrmKind;
use crate::error::{Error, Result};
use crate::webhook::{ContactEvent, Request};

/// Event kind of an event made from the request parameters alone.
pub const REQUEST_KIND: &str = "request";
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
        Some(text) => crate::text::contact_id_text(&text).map_err(|bad| {
            bad.into_error(|reason| invalid(crm, format!("the contact_id parameter {reason}")))
        }),
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
    Instant(Timestamp),
    Text(String),
    Missing,
}

fn sort_key(event: &ContactEvent) -> SortKey {
    match event.timestamp.as_deref() {
        None => SortKey::Missing,
        Some(stamp) => match parse_instant(stamp) {
            Some(instant) => SortKey::Instant(instant),
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

/// An RFC 3339 timestamp as an instant; `None` when `text` is not one. jiff's parser:
/// `t`/space for `T`, `z` for `Z`, up to 9 fraction digits, offsets `±HH:MM`, `±HHMM` or `±HH`.
pub fn parse_instant(text: &str) -> Option<Timestamp> {
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let at = |text: &str| parse_instant(text).map(|t| (t.as_second(), t.subsec_nanosecond()));
        assert_eq!(at("1970-01-01T00:00:00Z"), Some((0, 0)));
        assert_eq!(at("2017-06-19T09:32:24+00:00"), Some((1_497_864_744, 0)));
        // The same instant in another offset.
        assert_eq!(at("2017-06-19T04:32:24-05:00"), at("2017-06-19T09:32:24Z"));
        assert_eq!(
            at("2021-02-01T07:27:44.469241+00:00"),
            Some((1_612_164_464, 469_241_000))
        );
        assert_eq!(
            at("2021-02-01 07:27:44.123456789+0000"),
            Some((1_612_164_464, 123_456_789))
        );
        assert_eq!(at("2000-02-29T00:00:00z").map(|_| ()), Some(()));
        assert_eq!(at("1969-12-31T23:59:59Z"), Some((-1, 0)));
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
