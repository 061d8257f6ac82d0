//! Webhook mappings: data that says how to read one CRM's webhook, validated by the
//! extension, so any CRM that can send a webhook works without code (issue 16).
//!
//! Intake, beside `payload/`: `parse` turns a request and a mapping into a `MappedWebhook`
//! (the action, the options and the contact events, as `payload::parse` does for Mautic and
//! User.com) plus the items it did not apply (`ignored`, each with a stable code and the
//! reason). The presets shipped with the extension are mappings too (`presets`).
//!
//! A mapping, as JSON (every key but `slug` and `contact_id` optional; unknown keys refused):
//! ```json
//! {"slug": "drip", "name": "Drip", "format": "json",
//!  "items": ["/events", ""],
//!  "when": [{"pointer": "/event", "in": ["subscriber.applied_tag"]}],
//!  "event": "/event",
//!  "contact_id": {"pointers": ["/data/subscriber/id", "/subscriber/id"], "type": "string"},
//!  "email": "/data/subscriber/email",
//!  "tags": {"pointer": "/data/subscriber/tags"},
//!  "fields": {"first_name": "/data/subscriber/first_name",
//!             "phone": {"pointer": "/data/subscriber/phone", "optional": true}},
//!  "event_time": "/occurred_at",
//!  "complete": true,
//!  "signature": {"header": "Signature", "algorithm": "sha256", "encoding": "hex",
//!                "prefix": "", "signed": "body", "secret": "..."}}
//! ```
//! - `format`: `json`, `form` (PHP's bracket nesting, `body`) or `auto` (by Content-Type).
//! - `items`: pointers to the list of contacts, the first that exists wins; `""` is the whole
//!   body as one contact; no `items` = the whole body. At most `MAX_ITEMS` items.
//! - Pointers are RFC 6901 JSON Pointers (`pointer`), relative to the item except `items`.
//! - `when`: every condition must hold (the value, as text, is one of `in`; `or_absent`: or
//!   there is nothing at the pointer), else the item is `ignored` (`condition_not_met`).
//! - `contact_id`: the first pointer with a non-empty value wins; `type` `string` (text or a
//!   whole number, kept as sent, trimmed), `integer` (a whole number, or digits in a string),
//!   or `md5_email` (the MD5 of the lowercased email the pointer gives: Mailchimp's id).
//! - `tags`: a list of names, a list of objects with `pluck` the key holding the name, or a
//!   string with `split` the separator.
//! - `fields`: WordPress user field or meta key => pointer (a protected meta key is refused).
//! - `event` (the event's type, else the slug) and `event_time`: pointers, like a field's.
//! - `complete`: the payload is the whole contact as far as it goes (applied without a CRM
//!   call; without `tags` the user's tags stay as they are, as for Kit, which sends none),
//!   or `false`: an id (and tags) only, the fields come from the CRM's API client.
//! - `signature`: an HMAC over the raw body (`signature.rs`); a site's mapping must carry its
//!   `secret`, a preset never does (the secret is the site's).
//!
//! A pointer that is not in the payload is never an empty value: the item is `ignored` with
//! `pointer_missing` naming the pointer and the keys that were there, or `pointer_type` when
//! the value is of the wrong type. A field marked `optional` may be absent (it is then not
//! written); a `null` email, tags or field says nothing about them.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::crm_kind::{contact_id_meta_key_of, slug_problem, tags_meta_key_of, CrmKind};
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::settings::{Settings, SourceSettings};
use crate::text::{json_type, printable, value_text};
use crate::webhook::action::{parse_action, parse_options, Action};
use crate::webhook::payload::generic;
use crate::webhook::{ContactEvent, Options, Request, Webhook};

pub mod body;
pub mod pointer;
pub mod presets;
pub mod signature;

/// Most contact items read from one body.
pub const MAX_ITEMS: usize = 10_000;
/// Most pointers in a mapping's lists, conditions and fields.
const MAX_RULES: usize = 64;
/// Longest text accepted for a mapping's names and separators.
const MAX_NAME_CHARS: usize = 64;
/// Longest timestamp kept from a payload.
const MAX_TIMESTAMP_CHARS: usize = 64;

/// How to read one CRM's webhook (the format in the module comment).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    pub slug: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub format: BodyFormat,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub when: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<FieldRule>,
    pub contact_id: ContactIdRule,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Pointers>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<TagsRule>,
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "field_map"
    )]
    pub fields: BTreeMap<String, FieldRule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_time: Option<FieldRule>,
    #[serde(default = "yes")]
    pub complete: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<SignatureRule>,
}

fn yes() -> bool {
    true
}

/// `fields`: an object of name => rule, or an empty list (PHP's `[]` for no fields).
fn field_map<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<BTreeMap<String, FieldRule>, D::Error> {
    struct Fields;
    impl<'de> serde::de::Visitor<'de> for Fields {
        type Value = BTreeMap<String, FieldRule>;
        fn expecting(&self, out: &mut std::fmt::Formatter) -> std::fmt::Result {
            out.write_str("an object of field name => pointer")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> std::result::Result<Self::Value, A::Error> {
            let mut fields = BTreeMap::new();
            while let Some((name, rule)) = map.next_entry::<String, FieldRule>()? {
                fields.insert(name, rule);
            }
            Ok(fields)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> std::result::Result<Self::Value, A::Error> {
            match seq.next_element::<serde::de::IgnoredAny>()? {
                None => Ok(BTreeMap::new()),
                Some(_) => Err(serde::de::Error::custom(
                    "must be an object of field name => pointer, not a list",
                )),
            }
        }
    }
    deserializer.deserialize_any(Fields)
}

/// How the body is decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BodyFormat {
    Json,
    Form,
    /// By the Content-Type: a form media type is a form, anything else JSON.
    #[default]
    Auto,
}

/// A `when` condition: the value at `pointer`, as text, is one of `in`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub pointer: String,
    #[serde(rename = "in")]
    pub one_of: Vec<Value>,
    /// The condition also holds when the payload has nothing at `pointer` (a CRM whose
    /// other webhook shape carries no event name: Drip's automation webhooks).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub or_absent: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactIdRule {
    pub pointers: Vec<String>,
    #[serde(rename = "type", default)]
    pub kind: IdType,
}

/// What a contact id is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdType {
    /// Text, or a whole number written as text; kept as sent (trimmed), never made a number.
    #[default]
    String,
    /// A whole non-negative number, or a string of digits.
    Integer,
    /// The MD5 of the lowercased, trimmed email the pointer gives.
    Md5Email,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagsRule {
    pub pointer: Pointers,
    /// The tags are one string, separated by this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<String>,
    /// The tags are objects; the name is under this key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pluck: Option<String>,
}

/// One pointer, or several where the first that is there (and not null) wins: payloads of
/// one CRM that put the same value in different places (MailerLite's `/email` and
/// `/subscriber/email`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Pointers {
    One(String),
    Many(Vec<String>),
}

impl Pointers {
    pub fn list(&self) -> &[String] {
        match self {
            Pointers::One(pointer) => std::slice::from_ref(pointer),
            Pointers::Many(pointers) => pointers,
        }
    }
}

/// Where a field's value is: pointers, or pointers that may all be absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FieldRule {
    Pointer(Pointers),
    Rule(FieldSource),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSource {
    pub pointer: Pointers,
    #[serde(default)]
    pub optional: bool,
}

impl FieldRule {
    pub fn pointers(&self) -> &Pointers {
        match self {
            FieldRule::Pointer(pointers) => pointers,
            FieldRule::Rule(source) => &source.pointer,
        }
    }
    fn optional(&self) -> bool {
        matches!(self, FieldRule::Rule(FieldSource { optional: true, .. }))
    }
}

/// An HMAC signature over the raw body (checked by `signature::verify`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureRule {
    pub header: String,
    #[serde(default)]
    pub algorithm: Algorithm,
    #[serde(default)]
    pub encoding: Encoding,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub prefix: String,
    #[serde(default)]
    pub signed: Signed,
    /// Between the timestamp and the body, when both are signed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub separator: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_header: Option<String>,
    #[serde(default)]
    pub timestamp_unit: TimestampUnit,
    #[serde(default = "default_max_age")]
    pub max_age_seconds: u64,
    /// The site's secret; never serialised (a mapping listed or stored back shows none).
    #[serde(default, skip_serializing, deserialize_with = "secret")]
    pub secret: Option<Secret>,
}

fn default_max_age() -> u64 {
    300
}

fn secret<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Option<Secret>, D::Error> {
    Option::<String>::deserialize(deserializer).map(|text| text.map(Secret::new))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    #[default]
    Sha256,
    Sha1,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    #[default]
    Hex,
    Base64,
}

/// What the HMAC covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signed {
    #[default]
    Body,
    /// The timestamp header's value, `separator`, the body.
    TimestampBody,
    /// The body, `separator`, the timestamp header's value.
    BodyTimestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TimestampUnit {
    #[default]
    Seconds,
    Milliseconds,
}

/// Where a mapping comes from, which decides what its signature section must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Shipped with the extension: never a secret.
    Preset,
    /// Written by a site owner or a PHP caller: a signature section needs its secret.
    Site,
    /// A site's source (`settings::SourceSettings`): the secret may be the mapping's or the
    /// source's `webhook_secret` (`of_source` requires one of them).
    Source,
}

impl Mapping {
    /// A mapping from untrusted data (a PHP array, a settings value): every key checked, the
    /// first problem named by its JSON Pointer into the mapping (`/contact_id/pointers/0`).
    pub fn from_value(value: &Value, origin: Origin) -> Result<Mapping> {
        let mapping: Mapping = serde_path_to_error::deserialize(value).map_err(|error| {
            let field = path_pointer(error.path());
            let reason = printable(&error.inner().to_string(), 200);
            Error::InvalidMapping { field, reason }
        })?;
        mapping.validate(origin)?;
        Ok(mapping)
    }

    /// The rules serde cannot say: pointer syntax, lists not empty, one tag shape, what
    /// `complete` and the signature need.
    pub fn validate(&self, origin: Origin) -> Result<()> {
        let bad = |field: &str, reason: String| Error::InvalidMapping {
            field: field.to_string(),
            reason,
        };
        if let Some(problem) = slug_problem(&self.slug) {
            return Err(bad("/slug", problem));
        }
        if let Some(name) = &self.name {
            check_text("/name", name)?;
        }
        check_list("/items", &self.items)?;
        for (at, pointer) in self.items.iter().enumerate() {
            check_pointer(&format!("/items/{at}"), pointer)?;
        }
        check_list("/when", &self.when)?;
        for (at, condition) in self.when.iter().enumerate() {
            let field = format!("/when/{at}");
            check_pointer(&format!("{field}/pointer"), &condition.pointer)?;
            if condition.one_of.is_empty() || condition.one_of.len() > MAX_RULES {
                return Err(bad(
                    &format!("{field}/in"),
                    format!("must list 1 to {MAX_RULES} values"),
                ));
            }
            if let Some(value) = condition.one_of.iter().find(|v| value_text(v).is_none()) {
                return Err(bad(
                    &format!("{field}/in"),
                    format!(
                        "holds {}; only non-empty strings, numbers and booleans can match",
                        json_type(value)
                    ),
                ));
            }
        }
        if let Some(event) = &self.event {
            check_rule("/event", event)?;
        }
        let ids = &self.contact_id.pointers;
        if ids.is_empty() {
            return Err(bad(
                "/contact_id/pointers",
                "must list at least one pointer".into(),
            ));
        }
        check_list("/contact_id/pointers", ids)?;
        for (at, pointer) in ids.iter().enumerate() {
            let field = format!("/contact_id/pointers/{at}");
            check_pointer(&field, pointer)?;
            if pointer.is_empty() {
                return Err(bad(
                    &field,
                    "is the whole item, which is never an id; point at the id's key".into(),
                ));
            }
        }
        if let Some(email) = &self.email {
            check_pointers("/email", email)?;
        }
        if let Some(tags) = &self.tags {
            check_pointers("/tags/pointer", &tags.pointer)?;
            match (&tags.split, &tags.pluck) {
                (Some(_), Some(_)) => {
                    return Err(bad(
                        "/tags",
                        "has both split and pluck; tags are either one string or a list".into(),
                    ))
                }
                (Some(separator), None) if separator.is_empty() => {
                    return Err(bad("/tags/split", "must not be empty".into()))
                }
                (None, Some(key)) if key.is_empty() => {
                    return Err(bad("/tags/pluck", "must not be empty".into()))
                }
                (Some(text), None) | (None, Some(text)) => check_text("/tags", text)?,
                (None, None) => {}
            }
        }
        if self.fields.len() > MAX_RULES {
            return Err(bad("/fields", format!("has more than {MAX_RULES} fields")));
        }
        for (name, rule) in &self.fields {
            let field = format!("/fields/{}", escape(name));
            if name.trim().is_empty() || name.trim() != name {
                return Err(bad(
                    &field,
                    "a field name must not be empty or start or end with spaces".into(),
                ));
            }
            check_text(&field, name)?;
            let own_link = [
                contact_id_meta_key_of(&self.slug),
                tags_meta_key_of(&self.slug),
            ]
            .contains(&name.to_ascii_lowercase());
            if own_link || crate::meta_keys::is_protected(name) {
                return Err(bad(
                    &field,
                    format!(
                        "\"{}\" is user meta a webhook never writes (roles, sessions, links)",
                        printable(name, 40)
                    ),
                ));
            }
            check_rule(&field, rule)?;
        }
        if let Some(event_time) = &self.event_time {
            check_rule("/event_time", event_time)?;
        }
        if let Some(rule) = &self.signature {
            check_signature(rule, origin)?;
        }
        Ok(())
    }

    /// The name a site owner knows: `name`, else the slug.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.slug)
    }

    /// The mapping as the PHP API lists it (no secret: it is never serialised).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

fn check_pointer(field: &str, text: &str) -> Result<()> {
    match pointer::problem(text) {
        None => Ok(()),
        Some(reason) => Err(Error::InvalidMapping {
            field: field.to_string(),
            reason,
        }),
    }
}

fn check_rule(field: &str, rule: &FieldRule) -> Result<()> {
    match rule {
        FieldRule::Pointer(pointers) => check_pointers(field, pointers),
        FieldRule::Rule(source) => check_pointers(&format!("{field}/pointer"), &source.pointer),
    }
}

fn check_pointers(field: &str, pointers: &Pointers) -> Result<()> {
    match pointers {
        Pointers::One(pointer) => check_pointer(field, pointer),
        Pointers::Many(list) => {
            if list.is_empty() {
                return Err(Error::InvalidMapping {
                    field: field.to_string(),
                    reason: "must list at least one pointer".into(),
                });
            }
            check_list(field, list)?;
            for (at, pointer) in list.iter().enumerate() {
                check_pointer(&format!("{field}/{at}"), pointer)?;
            }
            Ok(())
        }
    }
}

fn check_list<T>(field: &str, list: &[T]) -> Result<()> {
    if list.len() > MAX_RULES {
        return Err(Error::InvalidMapping {
            field: field.to_string(),
            reason: format!("has more than {MAX_RULES} entries"),
        });
    }
    Ok(())
}

fn check_text(field: &str, text: &str) -> Result<()> {
    if text.chars().count() > MAX_NAME_CHARS
        || text
            .chars()
            .any(|c| c.is_control() || crate::text::is_bidi_control(c))
    {
        return Err(Error::InvalidMapping {
            field: field.to_string(),
            reason: format!(
                "must be at most {MAX_NAME_CHARS} printable characters (\"{}\")",
                printable(text, 40)
            ),
        });
    }
    Ok(())
}

fn check_signature(rule: &SignatureRule, origin: Origin) -> Result<()> {
    let bad = |field: &str, reason: &str| Error::InvalidMapping {
        field: format!("/signature/{field}"),
        reason: reason.to_string(),
    };
    let is_header = |name: &str| {
        !name.is_empty()
            && name.len() <= MAX_NAME_CHARS
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if !is_header(&rule.header) {
        return Err(bad(
            "header",
            "must be a header name (letters, digits, - and _)",
        ));
    }
    check_text("/signature/prefix", &rule.prefix)?;
    check_text("/signature/separator", &rule.separator)?;
    match (rule.signed, &rule.timestamp_header) {
        (Signed::Body, Some(_)) => return Err(bad(
            "timestamp_header",
            "is set but only the body is signed; set signed to timestamp_body or body_timestamp",
        )),
        (Signed::TimestampBody | Signed::BodyTimestamp, None) => {
            return Err(bad(
                "timestamp_header",
                "is needed when the timestamp is signed",
            ))
        }
        (_, Some(header)) if !is_header(header) => {
            return Err(bad(
                "timestamp_header",
                "must be a header name (letters, digits, - and _)",
            ))
        }
        _ => {}
    }
    if !(1..=86_400).contains(&rule.max_age_seconds) {
        return Err(bad("max_age_seconds", "must be 1 to 86400 seconds"));
    }
    match (origin, &rule.secret) {
        (Origin::Preset, Some(_)) => Err(bad(
            "secret",
            "a preset carries no secret; the site's source holds it",
        )),
        (Origin::Site, None) => Err(bad(
            "secret",
            "is missing: a signature section needs the secret the CRM signs with",
        )),
        (Origin::Site, Some(secret)) if secret.is_empty() => Err(bad(
            "secret",
            "is empty: a signature section needs the secret the CRM signs with",
        )),
        _ => Ok(()),
    }
}

/// A serde path as a JSON Pointer into the mapping.
fn path_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        out.push('/');
        match segment {
            Segment::Seq { index } => out.push_str(&index.to_string()),
            Segment::Map { key } => out.push_str(&escape(key)),
            Segment::Enum { variant } => out.push_str(&escape(variant)),
            Segment::Unknown => out.push('?'),
        }
    }
    if out.is_empty() {
        "/".to_string()
    } else {
        printable(&out, 120)
    }
}

fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// An item of the payload that was not applied, and why (a stable code from `Error`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ignored {
    /// The item's position in `items`, from 1; `None` for the whole body, and for the count
    /// of the items not listed (`ignored_not_listed`, after `MAX_IGNORED_LISTED`).
    pub item: Option<usize>,
    pub code: String,
    pub message: String,
}

impl Ignored {
    fn new(item: Option<usize>, error: &Error) -> Self {
        Ignored {
            item,
            code: error.code().to_string(),
            message: error.to_string(),
        }
    }
}

/// What a mapping read from a body.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reading {
    /// One event per applied item, in payload order.
    pub events: Vec<ContactEvent>,
    pub ignored: Vec<Ignored>,
}

/// A webhook read through a mapping: the shape `wpf_bridge_parse_webhook()` returns, with
/// the items that were not applied.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MappedWebhook {
    pub action: Action,
    /// The mapping's slug (`activecampaign`: its meta keys are `activecampaign_contact_id`
    /// and `activecampaign_tags`).
    pub crm: String,
    pub options: Options,
    pub events: Vec<ContactEvent>,
    pub ignored: Vec<Ignored>,
    /// The body's signature was verified (so no URL parameter chose its contacts).
    pub signed: bool,
}

/// The mapping a further source reads its webhooks with: its preset, or the site's own
/// mapping (validated), with the source's signing secret. Refused: a mapping that signs
/// without a secret, a site mapping named like a CRM with a parser of its own (`mautic`,
/// `userengage`), and an id-only mapping (`complete: false`) of a CRM without an API client.
pub fn of_source(source: &SourceSettings) -> Result<Mapping> {
    let mut mapping = match source.preset() {
        Some(slug) => presets::find(slug)
            .cloned()
            .ok_or_else(|| Error::InvalidMapping {
                field: "/".into(),
                reason: format!("names no preset; the presets are {}", presets::slugs()),
            })?,
        None => {
            let mapping = Mapping::from_value(&source.mapping, Origin::Source)?;
            if !crate::crm_kind::is_mapped(&mapping.slug) {
                return Err(Error::InvalidMapping {
                    field: "/slug".into(),
                    reason: format!(
                        "\"{}\" is read by wpf-bridge's own parser (the first source); give your \
                         mapping a slug of its own",
                        mapping.slug
                    ),
                });
            }
            mapping
        }
    };
    let name = mapping.display_name().to_string();
    if let Some(rule) = mapping.signature.as_mut() {
        if !source.webhook_secret.is_empty() {
            rule.secret = Some(source.webhook_secret.clone());
        }
        if rule.secret.as_ref().is_none_or(Secret::is_empty) {
            return Err(Error::InvalidMapping {
                field: "/signature/secret".into(),
                reason: format!(
                    "{} signs its webhooks (header {}): set the source's signing secret to the \
                     one the CRM shows",
                    name, rule.header
                ),
            });
        }
    }
    if !mapping.complete && CrmKind::of_preset(&mapping.slug).is_none() {
        return Err(Error::InvalidMapping {
            field: "/complete".into(),
            reason: format!(
                "is false (the webhook carries an id only), but wpf-bridge has no API client for \
                 \"{}\" to load the contact with; read the whole contact from the payload",
                mapping.slug
            ),
        });
    }
    Ok(mapping)
}

/// Checks every further source's mapping (`of_source`), naming a problem by the source's
/// setting: `sources[N][webhook_secret]` for a missing signing secret, else
/// `sources[N][mapping]` with the mapping's own pointer. `Settings::from_map` checked the rest.
pub fn check_sources(settings: &Settings) -> Result<()> {
    for (at, source) in settings.sources.iter().enumerate() {
        if let Err(Error::InvalidMapping { field, reason }) = of_source(source) {
            return Err(
                if field == "/signature/secret" && source.webhook_secret.is_empty() {
                    Error::setting(format!("sources[{at}][webhook_secret]"), reason)
                } else {
                    Error::setting(
                        format!("sources[{at}][mapping]"),
                        format!("{field}: {reason}"),
                    )
                },
            );
        }
    }
    Ok(())
}

/// A request of a further source, read through its mapping (`of_source`, `parse`) into the
/// `Webhook` the flow stores and applies, the items it did not read kept as `ignored`. A
/// source whose CRM has no API client must carry what the action needs in the body: an event
/// without its fields (a URL with only `contact_id`), or `update_tags` without tags, could
/// never be applied, so it is refused now (`invalid_request`) rather than stored and failed.
pub fn read_source(
    source: &SourceSettings,
    request: &Request,
    max_body_bytes: usize,
) -> Result<Webhook> {
    let mapping = of_source(source)?;
    let mapped = parse(&mapping, request, max_body_bytes, Timestamp::now())?;
    if CrmKind::of_preset(&mapping.slug).is_none() {
        let tags_only = mapped.action == Action::UpdateTags;
        let unusable = mapped.events.iter().find(|event| {
            !event.deleted && (event.fields.is_none() || (tags_only && event.tags.is_none()))
        });
        if let Some(event) = unusable {
            return Err(Error::InvalidRequest(format!(
                "contact {} comes without {} in the body, and wpf-bridge has no API client for \
                 {} to load {}; send the CRM's webhook body (its mapping reads it)",
                printable(&event.contact_id, 64),
                if tags_only { "its tags" } else { "its data" },
                mapping.display_name(),
                if tags_only { "them" } else { "it" },
            )));
        }
    }
    Ok(Webhook {
        action: mapped.action,
        crm: mapped.crm,
        options: mapped.options,
        events: mapped.events,
        ignored: mapped.ignored,
    })
}

/// Reads a request through a mapping, as `payload::parse_authenticated` does for Mautic:
/// 1. body size (`BodyTooLarge`);
/// 2. the signature, when the mapping has one with a secret and the body is not blank
///    (`signature_rejected`);
/// 3. `wpf_action` and the options;
/// 4. the body decoded (`invalid_json`, `body_too_deep`, `too_many_items`) and read;
/// 5. the `contact_id` parameter rules of `payload::generic`, unless the body was signed;
/// 6. no event and nothing ignored: `MissingContactId`, except for `test`;
/// 7. events ordered by timestamp.
pub fn parse(
    mapping: &Mapping,
    request: &Request,
    max_body_bytes: usize,
    now: Timestamp,
) -> Result<MappedWebhook> {
    if request.body.len() > max_body_bytes {
        return Err(Error::BodyTooLarge {
            size: request.body.len(),
            limit: max_body_bytes,
        });
    }
    let secret = mapping
        .signature
        .as_ref()
        .and_then(|rule| rule.secret.as_ref().map(|secret| (rule, secret)));
    // As for Mautic (`auth::authenticate`): a call without a body carries no data to sign;
    // its contact comes from the URL and the CRM's API. Nor is a form PHP parsed without a
    // raw body (multipart) read then: nothing of it could be checked.
    let blank = request.body.iter().all(u8::is_ascii_whitespace);
    let signed = match secret {
        Some((rule, secret)) if !blank => {
            signature::verify(rule, secret.expose(), request, now)?;
            true
        }
        _ => false,
    };
    let action = parse_action(request)?;
    let options = parse_options(request)?;
    let contact_id = if signed {
        None
    } else {
        match request.param("contact_id") {
            None => None,
            Some(text) => crate::text::contact_id_text(&text).map_err(|bad| {
                bad.into_error(|reason| {
                    Error::InvalidRequest(format!("the contact_id parameter {reason}"))
                })
            })?,
        }
    };
    let unverifiable = secret.is_some() && blank;
    let reading = match body::decode(mapping.format, request)? {
        Some(body) if !unverifiable => read(mapping, &body)?,
        _ => Reading::default(),
    };
    let mut events = generic::apply_parameters(reading.events, contact_id);
    if events.is_empty() && action != Action::Test && reading.ignored.is_empty() {
        return Err(Error::MissingContactId);
    }
    generic::sort_by_timestamp(&mut events);
    Ok(MappedWebhook {
        action,
        crm: mapping.slug.clone(),
        options,
        events,
        ignored: reading.ignored,
        signed,
    })
}

/// Reads the contact items of a decoded body (rules in the module comment).
pub fn read(mapping: &Mapping, body: &Value) -> Result<Reading> {
    let mut reading = Reading::default();
    let items: Vec<(Option<usize>, &Value)> = if mapping.items.is_empty() {
        vec![(None, body)]
    } else {
        match find_items(mapping, body)? {
            Ok(items) => items,
            Err(miss) => {
                reading.ignored.push(Ignored::new(None, &miss));
                return Ok(reading);
            }
        }
    };
    let mut unlisted = 0usize;
    for (position, item) in items {
        match read_item(mapping, item) {
            Ok(event) => reading.events.push(event),
            Err(_) if reading.ignored.len() >= MAX_IGNORED_LISTED => unlisted += 1,
            Err(error) => reading.ignored.push(Ignored::new(position, &error)),
        }
    }
    if unlisted > 0 {
        reading.ignored.push(Ignored {
            item: None,
            code: "ignored_not_listed".into(),
            message: format!(
                "{unlisted} more items were not read; only the first {MAX_IGNORED_LISTED} are listed"
            ),
        });
    }
    Ok(reading)
}

/// Ignored items listed one by one in the answer and the log record; the rest are counted
/// in one last entry (`ignored_not_listed`), so a batch of unreadable items cannot make a
/// large answer or log row.
pub const MAX_IGNORED_LISTED: usize = 20;

/// The items at the first of `items`' pointers that exists: a list, or an object's values
/// (PHP's `json_encode` of an array with gaps). Too many is an error; none found, or a
/// scalar there, is the inner error (the whole body is then ignored).
#[allow(clippy::type_complexity)]
fn find_items<'a>(
    mapping: &Mapping,
    body: &'a Value,
) -> Result<std::result::Result<Vec<(Option<usize>, &'a Value)>, Error>> {
    let mut misses = Vec::new();
    for pointer in &mapping.items {
        let found = match pointer::resolve(body, pointer) {
            Ok(found) => found,
            Err(miss) => {
                misses.push(miss);
                continue;
            }
        };
        if pointer.is_empty() {
            return Ok(Ok(vec![(None, found)]));
        }
        let list: Vec<&Value> = match found {
            Value::Array(list) => list.iter().collect(),
            Value::Object(map) => map.values().collect(),
            other => {
                return Ok(Err(Error::PointerType {
                    pointer: pointer.clone(),
                    expected: "a list of contacts",
                    found: json_type(other).to_string(),
                }))
            }
        };
        if list.len() > MAX_ITEMS {
            return Err(Error::TooManyItems {
                pointer: pointer.clone(),
                count: list.len(),
                limit: MAX_ITEMS,
            });
        }
        return Ok(Ok(list
            .into_iter()
            .enumerate()
            .map(|(at, item)| (Some(at + 1), item))
            .collect()));
    }
    Ok(Err(joined_miss(misses)))
}

/// Several pointers that all missed, as one `PointerMissing` naming each.
fn joined_miss(misses: Vec<Error>) -> Error {
    if misses.len() == 1 {
        return misses.into_iter().next().unwrap_or(Error::MissingContactId);
    }
    let mut pointers = Vec::new();
    let mut found = Vec::new();
    for miss in misses {
        match miss {
            Error::PointerMissing {
                pointer,
                found: why,
            } => {
                found.push(format!("{pointer}: {why}"));
                pointers.push(pointer);
            }
            Error::PointerType {
                pointer,
                expected,
                found: what,
            } => {
                found.push(format!("{pointer} is {what}, not {expected}"));
                pointers.push(pointer);
            }
            other => found.push(other.to_string()),
        }
    }
    Error::PointerMissing {
        pointer: pointers.join(" or "),
        found: found.join("; "),
    }
}

/// One item as a contact event, or the reason it is ignored.
fn read_item(mapping: &Mapping, item: &Value) -> Result<ContactEvent> {
    for condition in &mapping.when {
        let value = match pointer::find(item, &condition.pointer) {
            Ok(value) => value,
            Err(miss) if condition.or_absent && !miss.into_scalar() => continue,
            Err(miss) => return Err(miss.into_error(&condition.pointer)),
        };
        let text = value_text(value);
        let accepted = text.as_ref().is_some_and(|text| {
            condition
                .one_of
                .iter()
                .any(|one| value_text(one).as_ref() == Some(text))
        });
        if !accepted {
            return Err(Error::ConditionNotMet {
                pointer: condition.pointer.clone(),
                // The value's type, never the value: ignored items are logged and shown.
                found: json_type(value).to_string(),
            });
        }
    }
    let contact_id = contact_id(mapping, item)?;
    let kind = match optional_value(item, mapping.event.as_ref())? {
        Some((pointer, value)) if !value.is_null() => value_text(value)
            .map(|kind| printable(&kind, 80))
            .ok_or_else(|| type_error(pointer, "an event name", value))?,
        _ => mapping.slug.clone(),
    };
    let email = match &mapping.email {
        Some(pointers) => {
            let (pointer, value) = first(item, pointers)?;
            email(pointer, value)?
        }
        None => None,
    };
    let tags = match &mapping.tags {
        Some(rule) => {
            let (pointer, value) = first(item, &rule.pointer)?;
            tags(rule, pointer, value)?
        }
        None => None,
    };
    let mut fields = Map::new();
    for (name, rule) in &mapping.fields {
        let Some((pointer, value)) = optional_value(item, Some(rule))? else {
            continue;
        };
        match value {
            Value::Array(_) | Value::Object(_) => {
                return Err(type_error(pointer, "a text, number or boolean", value))
            }
            Value::Null => {}
            scalar => {
                fields.insert(name.clone(), scalar.clone());
            }
        }
    }
    let timestamp = match optional_value(item, mapping.event_time.as_ref())? {
        Some((pointer, value)) => event_time(pointer, value)?,
        None => None,
    };
    Ok(ContactEvent {
        kind,
        contact_id,
        email,
        tags,
        // An id-only payload leaves the fields to the CRM's API (`sync` asks it when
        // `fields` is `None`).
        fields: mapping.complete.then_some(fields),
        deleted: false,
        timestamp,
    })
}

static NULL: Value = Value::Null;

/// The value of the first pointer that is there and not null; else the last null one's
/// (null: the payload says nothing), else the misses joined.
fn first<'a, 'p>(item: &'a Value, pointers: &'p Pointers) -> Result<(&'p str, &'a Value)> {
    first_found(item, pointers).map_err(misses_error)
}

/// Misses as one error (the diagnostic is written only now).
fn misses_error(misses: Vec<(&str, pointer::Miss)>) -> Error {
    joined_miss(
        misses
            .into_iter()
            .map(|(pointer, miss)| miss.into_error(pointer))
            .collect(),
    )
}

/// `first`, with the misses left unwritten.
#[allow(clippy::type_complexity)]
fn first_found<'a, 'p>(
    item: &'a Value,
    pointers: &'p Pointers,
) -> std::result::Result<(&'p str, &'a Value), Vec<(&'p str, pointer::Miss<'a>)>> {
    let mut misses = Vec::new();
    let mut null = None;
    for pointer in pointers.list() {
        match pointer::find(item, pointer) {
            Ok(Value::Null) => null = Some((pointer.as_str(), &NULL)),
            Ok(value) => return Ok((pointer.as_str(), value)),
            Err(miss) => misses.push((pointer.as_str(), miss)),
        }
    }
    null.ok_or(misses)
}

/// The value a rule points at; `None` when there is no rule, or an optional one found
/// nothing (a key or item not there; a step into a string is still `pointer_type`).
fn optional_value<'a, 'p>(
    item: &'a Value,
    rule: Option<&'p FieldRule>,
) -> Result<Option<(&'p str, &'a Value)>> {
    let Some(rule) = rule else {
        return Ok(None);
    };
    match first_found(item, rule.pointers()) {
        Ok(found) => Ok(Some(found)),
        Err(misses) if rule.optional() && !misses.iter().any(|(_, miss)| miss.into_scalar()) => {
            Ok(None)
        }
        Err(misses) => Err(misses_error(misses)),
    }
}

fn type_error(pointer: &str, expected: &'static str, value: &Value) -> Error {
    Error::PointerType {
        pointer: pointer.to_string(),
        expected,
        found: json_type(value).to_string(),
    }
}

/// The first non-empty value of the id pointers, by the id type.
fn contact_id(mapping: &Mapping, item: &Value) -> Result<String> {
    let rule = &mapping.contact_id;
    let mut misses: Vec<(&str, Result<&Value, pointer::Miss>)> = Vec::new();
    for pointer in &rule.pointers {
        match pointer::find(item, pointer) {
            Ok(value) => match id_text(rule.kind, pointer, value)? {
                Some(id) => return Ok(id),
                None => misses.push((pointer, Ok(value))),
            },
            Err(miss) => misses.push((pointer, Err(miss))),
        }
    }
    Err(joined_miss(
        misses
            .into_iter()
            .map(|(pointer, miss)| match miss {
                Ok(value) => Error::PointerMissing {
                    pointer: pointer.to_string(),
                    found: format!("the value is {}", empty_kind(value)),
                },
                Err(miss) => miss.into_error(pointer),
            })
            .collect(),
    ))
}

fn empty_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        _ => "empty",
    }
}

/// A contact id value by type: `None` for null or blank text.
fn id_text(kind: IdType, pointer: &str, value: &Value) -> Result<Option<String>> {
    let wrong = |expected: &'static str| type_error(pointer, expected, value);
    let text = match (kind, value) {
        (_, Value::Null) => return Ok(None),
        (IdType::String | IdType::Integer, Value::Number(number)) => number
            .as_u64()
            .map(|id| id.to_string())
            .ok_or_else(|| wrong("a whole non-negative number or a text id"))?,
        (IdType::String | IdType::Md5Email, Value::String(text)) => text.trim().to_string(),
        (IdType::Integer, Value::String(text)) => {
            let digits = text.trim();
            if !digits.is_empty() && !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Error::PointerType {
                    pointer: pointer.to_string(),
                    expected: "a whole number",
                    found: "a text that is not a number".into(),
                });
            }
            // Canonical: "007" and 7 are the same contact.
            let trimmed = digits.trim_start_matches('0');
            if trimmed.is_empty() && !digits.is_empty() {
                "0".to_string()
            } else {
                trimmed.to_string()
            }
        }
        (IdType::String | IdType::Integer, _) => return Err(wrong("a text or a whole number")),
        (IdType::Md5Email, _) => return Err(wrong("an email address (text)")),
    };
    if text.is_empty() {
        return Ok(None);
    }
    if kind == IdType::Md5Email {
        if !text.contains('@') {
            return Err(Error::PointerType {
                pointer: pointer.to_string(),
                expected: "an email address",
                found: "a text without @".into(),
            });
        }
        use md5::{Digest, Md5};
        let digest = Md5::digest(text.to_lowercase().as_bytes());
        return Ok(Some(digest.iter().map(|b| format!("{b:02x}")).collect()));
    }
    crate::text::contact_id_text(&text).map_err(|bad| {
        bad.into_error(|reason| Error::PointerType {
            pointer: pointer.to_string(),
            expected: "a usable contact id",
            found: format!("an id that {reason}"),
        })
    })
}

fn email(pointer: &str, value: &Value) -> Result<Option<String>> {
    match value {
        Value::Null => Ok(None),
        Value::String(_) => Ok(generic::text(Some(value))),
        other => Err(type_error(pointer, "an email address (text)", other)),
    }
}

fn tags(rule: &TagsRule, pointer: &str, value: &Value) -> Result<Option<Vec<String>>> {
    match (value, &rule.split, &rule.pluck) {
        (Value::Null, _, _) => Ok(None),
        (Value::String(text), Some(separator), _) => {
            Ok(Some(crate::text::tag_list(text.split(separator.as_str()))))
        }
        (Value::Array(_) | Value::Object(_), _, key) => {
            let entries: Vec<&Value> = match value {
                Value::Array(list) => list.iter().collect(),
                Value::Object(map) => map.values().collect(),
                _ => Vec::new(),
            };
            let mut names = Vec::with_capacity(entries.len());
            for entry in entries {
                let name = match (entry, key) {
                    (Value::Object(tag), Some(key)) => tag.get(key.as_str()),
                    (Value::Object(_), None) => {
                        return Err(type_error(pointer, "a list of tag names", entry))
                    }
                    (other, _) => Some(other),
                };
                match name {
                    Some(Value::String(text)) => names.push(text.clone()),
                    Some(Value::Number(number)) => names.push(number.to_string()),
                    Some(Value::Null) | None => {}
                    Some(other) => return Err(type_error(pointer, "tag names", other)),
                }
            }
            Ok(Some(crate::text::tag_list(names)))
        }
        (other, Some(_), _) => Err(type_error(pointer, "a text of tags", other)),
        (other, None, _) => Err(type_error(pointer, "a list of tags", other)),
    }
}

/// An event time: text as sent (RFC 3339 orders as an instant), or a whole number of seconds
/// since the epoch (milliseconds when it is that large), as RFC 3339.
fn event_time(pointer: &str, value: &Value) -> Result<Option<String>> {
    match value {
        Value::Null => Ok(None),
        Value::String(text) => Ok(Some(text.trim().to_string())
            .filter(|text| !text.is_empty() && text.chars().count() <= MAX_TIMESTAMP_CHARS)),
        Value::Number(number) => {
            let seconds = number
                .as_i64()
                .ok_or_else(|| type_error(pointer, "a time", value))?;
            let seconds = if seconds.unsigned_abs() >= 100_000_000_000 {
                seconds / 1000
            } else {
                seconds
            };
            Ok(Timestamp::from_second(seconds)
                .ok()
                .map(|time| time.to_string()))
        }
        other => Err(type_error(pointer, "a time", other)),
    }
}

#[cfg(test)]
mod tests;
