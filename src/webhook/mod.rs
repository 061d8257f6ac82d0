//! Intake: turns an HTTP request into a `Webhook`, a plain value the apply step (`sync/`)
//! consumes, or a queue stores (serde, with a format version: `Versioned`).
//!
//! `request` holds the HTTP request as data, `auth` checks access keys and signatures,
//! `action` reads the action and its options, `payload/` parses one CRM format per file, and
//! `mapping/` reads any CRM's webhook from a mapping (data, validated here), the presets
//! included.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub mod action;
pub mod auth;
pub mod mapping;
pub mod payload;
pub mod request;

pub use action::{Action, Options};
pub use request::Request;

/// One parsed webhook: what to do, and for which contacts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Webhook {
    pub action: Action,
    /// The slug of the source it came in through (`mautic`, `mailerlite`, a site mapping's):
    /// it names the user meta (`{crm}_contact_id`) and which source applies its events.
    pub crm: String,
    pub options: Options,
    /// One entry per contact event, ordered by timestamp when there is one.
    pub events: Vec<ContactEvent>,
    /// The payload's items a mapping did not read, and why (`mapping::Ignored`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<mapping::Ignored>,
}

/// One contact event from the payload (or from the `contact_id` / `email` parameters).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ContactEvent {
    /// The CRM's event type (`mautic.lead_post_save_update`, `userengage.api_call`,
    /// `request` for the generic parameters).
    #[serde(rename = "type")]
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

/// The version of the stored form of `Webhook`, `ContactEvent` and `Options`. Raise it when a
/// change to them would make an older stored value read wrongly, and teach `Format` to read
/// (or refuse) the older one.
pub const FORMAT_VERSION: u32 = 1;

/// A value with its format version, as a queue stores it: `{"format": 1, ...the value}`.
/// Reading a value of another format fails instead of guessing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Versioned<T> {
    pub format: Format,
    #[serde(flatten)]
    pub value: T,
}

impl<T> Versioned<T> {
    pub fn new(value: T) -> Self {
        Versioned {
            format: Format,
            value,
        }
    }
}

/// The current `FORMAT_VERSION`; any other number does not deserialise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Format;

impl TryFrom<u32> for Format {
    type Error = String;
    fn try_from(version: u32) -> std::result::Result<Self, String> {
        if version == FORMAT_VERSION {
            Ok(Format)
        } else {
            Err(format!(
                "stored format {version} is not {FORMAT_VERSION}, the one this extension reads"
            ))
        }
    }
}

impl From<Format> for u32 {
    fn from(_: Format) -> u32 {
        FORMAT_VERSION
    }
}
