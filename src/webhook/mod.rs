//! Intake: turns an HTTP request into a `Webhook`, a plain value the apply step (`sync/`)
//! consumes, or a queue could store.
//!
//! `request` holds the HTTP request as data, `auth` checks access keys and signatures,
//! `action` reads the action and its options, `payload/` parses one CRM format per file.

use serde_json::{Map, Value};

use crate::crm::CrmKind;

pub mod action;
pub mod auth;
pub mod payload;
pub mod request;

pub use action::{Action, Options};
pub use request::Request;

/// One parsed webhook: what to do, and for which contacts.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub crm: CrmKind,
    pub action: Action,
    pub options: Options,
    /// One entry per contact event, ordered by timestamp when there is one.
    pub events: Vec<ContactEvent>,
}

/// One contact event from the payload (or from the `contact_id` / `email` parameters).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContactEvent {
    /// The CRM's event type (`mautic.lead_post_save_update`, `userengage.api_call`,
    /// `request` for the generic parameters).
    pub kind: String,
    pub contact_id: String,
    pub email: Option<String>,
    /// Tag names; `None` when the payload does not say.
    pub tags: Option<Vec<String>>,
    /// CRM field alias to value; `None` when the payload does not say.
    pub fields: Option<Map<String, Value>>,
    /// The contact was deleted in the CRM.
    pub deleted: bool,
    pub timestamp: Option<String>,
}

/// A short, printable excerpt of untrusted text for error messages: control characters and
/// bidi controls replaced, cut at `max` characters.
pub fn printable(text: &str, max: usize) -> String {
    let mut out: String = text
        .chars()
        .take(max)
        .map(|c| {
            if c.is_control() || is_bidi_control(c) {
                '?'
            } else {
                c
            }
        })
        .collect();
    if text.chars().count() > max {
        out.push('…');
    }
    out
}

/// Unicode's bidirectional formatting characters (embeddings, overrides, isolates, marks):
/// in untrusted text they make a log or admin page show something else than what is stored.
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}
