//! Payload parsing: one file per CRM format, plus `generic` for the `contact_id` / `email`
//! parameters. `parse` is the entry point of intake after authentication.
//!
//! Order of the checks in `parse`:
//! 1. body size (`BodyTooLarge`), before anything else is read;
//! 2. `wpf_action` and the options;
//! 3. the body: empty or whitespace, or form-encoded (`application/x-www-form-urlencoded`,
//!    `multipart/form-data`, whose fields PHP already put in the post parameters): no payload.
//!    Otherwise it must be JSON (`InvalidJson`, with serde's line and column, never the body);
//! 4. the CRM's parser turns the JSON into events;
//! 5. the generic rules (`generic`): the `contact_id` parameter wins, unless the payload is
//!    signed (then the signed body alone decides the contacts); the `email` parameter is
//!    never read;
//! 6. an event still without a contact id is `InvalidPayload`; no event at all is
//!    `MissingContactId`, except for `test`, and except when the payload held only events we
//!    ignore on purpose (e.g. a Mautic form submit): that is a valid webhook with nothing to
//!    do, answered 200, because Mautic unpublishes webhooks that keep failing;
//! 7. events are ordered by timestamp.

use serde_json::Value;

use crate::crm_kind::CrmKind;
use crate::error::{Error, Result};
use crate::text::printable;
use crate::webhook::action::{parse_action, parse_options, Action};
use crate::webhook::{ContactEvent, Request, Webhook};

pub mod generic;
pub mod mautic;
pub mod userengage;

/// What a CRM's parser found in a body.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parsed {
    /// Contact events in payload order; a contact id may be empty when the payload has none.
    pub events: Vec<ContactEvent>,
    /// Events of the CRM that carry no contact and were skipped on purpose.
    pub ignored: usize,
}

/// Media types whose body PHP has already parsed into the post parameters.
const FORM_MEDIA_TYPES: [&str; 2] = ["application/x-www-form-urlencoded", "multipart/form-data"];

/// Parses a request into a `Webhook`, its payload unsigned (no URL parameter is ignored).
pub fn parse(crm: CrmKind, request: &Request, max_body_bytes: usize) -> Result<Webhook> {
    parse_authenticated(crm, request, max_body_bytes, false)
}

/// Parses a request into a `Webhook`. `signed`: `auth` verified the payload's signature, so
/// URL parameters may not say which contact the signed data is about.
pub fn parse_authenticated(
    crm: CrmKind,
    request: &Request,
    max_body_bytes: usize,
    signed: bool,
) -> Result<Webhook> {
    if request.body.len() > max_body_bytes {
        return Err(Error::BodyTooLarge {
            size: request.body.len(),
            limit: max_body_bytes,
        });
    }
    let action = parse_action(request)?;
    let options = parse_options(request)?;
    let contact_id = if signed {
        None
    } else {
        generic::contact_id_param(crm, request)?
    };

    let parsed = match body_json(request)? {
        None => Parsed::default(),
        Some(json) => match crm {
            CrmKind::Mautic => mautic::parse_events(&json)?,
            CrmKind::UserEngage => userengage::parse_events(&json)?,
            // Read through their preset mappings (`webhook::mapping`); no site setting
            // routes them here.
            CrmKind::ActiveCampaign | CrmKind::MailerLite => {
                return Err(generic::invalid(
                    crm,
                    "this CRM's webhooks are read through its preset mapping",
                ))
            }
        },
    };

    let mut events = generic::apply_parameters(parsed.events, contact_id);
    if let Some(event) = events.iter().find(|event| event.contact_id.is_empty()) {
        return Err(generic::invalid(
            crm,
            format!(
                "a \"{}\" event has no contact id",
                printable(&event.kind, 60)
            ),
        ));
    }
    if events.is_empty() && action != Action::Test && parsed.ignored == 0 {
        return Err(Error::MissingContactId);
    }
    generic::sort_by_timestamp(&mut events);
    Ok(Webhook {
        crm: crm.slug().to_string(),
        action,
        options,
        events,
        ignored: Vec::new(),
    })
}

/// Whether the body is a payload to read (rules in the module comment): not blank, and not a
/// form PHP has already parsed into the post parameters.
pub fn has_payload(request: &Request) -> bool {
    let blank = request.body.iter().all(u8::is_ascii_whitespace);
    let form = request
        .media_type()
        .is_some_and(|media| FORM_MEDIA_TYPES.contains(&media.as_str()));
    !blank && !form
}

/// The body as JSON, or `None` when there is no payload to read.
fn body_json(request: &Request) -> Result<Option<Value>> {
    if !has_payload(request) {
        return Ok(None);
    }
    let body = request.body.as_slice();
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    serde_json::from_slice(body)
        .map(Some)
        .map_err(|error| Error::InvalidJson(describe_json_error(&error)))
}

/// serde_json's message for syntax errors is a fixed sentence plus line and column; other
/// categories could quote data, so only their position is given.
pub fn describe_json_error(error: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match error.classify() {
        Category::Syntax | Category::Eof => error.to_string(),
        Category::Data | Category::Io => format!(
            "unreadable data at line {} column {}",
            error.line(),
            error.column()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Map};

    fn request(query: Value, content_type: Option<&str>, body: &str) -> Request {
        Request {
            method: "POST".into(),
            query: match query {
                Value::Object(map) => map,
                _ => Map::new(),
            },
            headers: content_type
                .map(|media| vec![("content-type".to_string(), media.to_string())])
                .unwrap_or_default(),
            body: body.as_bytes().to_vec(),
            ..Request::default()
        }
    }

    #[test]
    fn size_is_checked_first() {
        // No action either: the size wins.
        let error = parse(CrmKind::Mautic, &request(json!({}), None, "{}"), 1).unwrap_err();
        assert_eq!(error, Error::BodyTooLarge { size: 2, limit: 1 });
        assert_eq!(error.status(), 413);
    }

    #[test]
    fn invalid_json_gives_position_not_body() {
        let body = r#"{"secret-looking": "hunter2" "#;
        let error = parse(
            CrmKind::Mautic,
            &request(
                json!({"wpf_action": "update"}),
                Some("application/json"),
                body,
            ),
            1000,
        )
        .unwrap_err();
        assert_eq!(error.code(), "invalid_json");
        let message = error.to_string();
        assert!(message.contains("line 1"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }

    #[test]
    fn form_bodies_and_blank_bodies_are_not_json() {
        let query = json!({"wpf_action": "update", "contact_id": "5"});
        for (media, body) in [
            (
                Some("application/x-www-form-urlencoded"),
                "contact_id=5&x=%7B",
            ),
            (Some("multipart/form-data; boundary=x"), "--x--"),
            (None, "  \r\n"),
            (Some("application/json"), ""),
        ] {
            let webhook = parse(CrmKind::Mautic, &request(query.clone(), media, body), 1000)
                .unwrap_or_else(|e| panic!("{media:?}: {e}"));
            assert_eq!(webhook.events, vec![generic::request_event("5".into())]);
        }
        let error = parse(
            CrmKind::Mautic,
            &request(query, Some("text/plain"), "x=1"),
            1000,
        );
        assert_eq!(error.unwrap_err().code(), "invalid_json");
    }

    #[test]
    fn byte_order_mark_is_skipped() {
        let body = "\u{feff}{\"user\":{\"id\":3}}";
        let webhook = parse(
            CrmKind::UserEngage,
            &request(json!({"wpf_action": "add"}), None, body),
            1000,
        )
        .unwrap();
        assert_eq!(webhook.events[0].contact_id, "3");
    }
}
