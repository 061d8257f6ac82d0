//! The settings the plugin passes in (`wpf_bridge_settings` option), validated into a typed
//! value with an error that names the exact key that is wrong.
//!
//! Intake reads the access key and webhook secret; apply reads the rest; CRM clients read
//! their URLs and credentials. Validation happens once, here.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};
use strum::{EnumString, IntoStaticStr, VariantArray};

use crate::crm_kind::CrmKind;
use crate::error::{Error, Result};

/// How a username is made when the CRM does not give one (WP Fusion's option values). Its
/// stored value (strum, serde through it) is written once, on each variant.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, IntoStaticStr, EnumString, VariantArray,
)]
#[serde(into = "&'static str")]
pub enum UsernameFormat {
    /// The email address.
    #[default]
    #[strum(serialize = "email")]
    Email,
    /// First and last name joined, lowercased.
    #[strum(serialize = "flname")]
    FirstLastName,
    /// First name followed by a random number.
    #[strum(serialize = "fnamenum")]
    FirstNameNumber,
}

impl UsernameFormat {
    /// Every format, the default first (what an unset `username_format` reads as).
    pub const ALL: &'static [UsernameFormat] = Self::VARIANTS;

    /// The stored value, as WP Fusion names it.
    pub fn slug(self) -> &'static str {
        self.into()
    }

    /// What the settings page shows.
    pub fn label(self) -> &'static str {
        match self {
            UsernameFormat::Email => "Email address",
            UsernameFormat::FirstLastName => "First and last name (firstlast)",
            UsernameFormat::FirstNameNumber => "First name and a number (first123)",
        }
    }
}

/// When an accepted webhook is applied (setting `processing`); the URL's `async` flag wins.
/// Its stored value is the variant's name, lowercased (strum, serde through it).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, IntoStaticStr, EnumString, VariantArray,
)]
#[serde(into = "&'static str")]
#[strum(serialize_all = "lowercase")]
pub enum Processing {
    /// Store, answer at once, apply after the answer (the queue drains it).
    #[default]
    Background,
    /// Store, apply in the request, answer with the per-event results.
    Immediate,
}

impl Processing {
    /// Every mode, the default first (what an unset `processing` reads as).
    pub const ALL: &'static [Processing] = Self::VARIANTS;

    /// The stored value.
    pub fn slug(self) -> &'static str {
        self.into()
    }

    /// What the settings page says about the mode.
    pub fn label(self) -> &'static str {
        match self {
            Processing::Background => "Background: store the webhook, answer the CRM at once, apply it right after the answer (and retry it later if it fails). The CRM never waits for WordPress or for its own API.",
            Processing::Immediate => "Immediate: store the webhook, apply it in the CRM's request and answer with the results. The CRM waits for the apply; a failure that a retry can fix is still retried by the site.",
        }
    }
}

pub use crate::secret::Secret;

/// Validated settings. The field names are the setting keys, written here once: `from_map`
/// reads each (its default when not set), `Default` is what an empty array reads as, and
/// `to_map` is the serde form of this struct.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    #[serde(serialize_with = "exposed")]
    pub access_key: Secret,
    pub crm: CrmKind,
    pub mautic_url: Option<String>,
    pub mautic_username: Option<String>,
    #[serde(serialize_with = "exposed")]
    pub mautic_password: Secret,
    #[serde(serialize_with = "exposed")]
    pub mautic_token: Secret,
    pub userengage_url: Option<String>,
    #[serde(serialize_with = "exposed")]
    pub userengage_api_key: Secret,
    #[serde(serialize_with = "exposed")]
    pub webhook_secret: Secret,
    /// CRM field alias to WordPress field (core user field or meta key).
    pub field_map: BTreeMap<String, String>,
    pub return_password: bool,
    pub return_password_field: Option<String>,
    pub default_role: Option<String>,
    pub allowed_roles: Vec<String>,
    pub send_welcome_email: bool,
    pub username_format: UsernameFormat,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// Timeout for each CRM API call.
    #[serde(serialize_with = "seconds")]
    pub crm_timeout: Duration,
    /// Most contact events one request may carry (`too_many_events` above).
    pub max_events: usize,
    /// Time one request may spend applying events before it stops and answers
    /// `time_budget_exceeded` for the rest.
    #[serde(serialize_with = "seconds")]
    pub time_budget: Duration,
    /// When accepted webhooks are applied.
    pub processing: Processing,
    /// The queue's backoff: the wait before each retry of a failed event, in order; an event
    /// that failed once more than there are delays is `failed`.
    #[serde(serialize_with = "seconds_list")]
    pub retry_delays: Vec<Duration>,
    /// How long a queue worker's claim on a contact's events lasts; events of a worker that
    /// died are claimed again after it.
    #[serde(serialize_with = "seconds")]
    pub claim_timeout: Duration,
    /// Days a done queue event is kept for the webhooks page before it is pruned (besides the
    /// cap `queue::admin::KEEP_DONE_AT_MOST`).
    pub keep_done_days: u32,
    /// Backpressure (`queue::room`): most events waiting in the queue (pending, claimed,
    /// retrying); a webhook that would go over is refused 503 `queue_full` with `Retry-After`.
    pub max_waiting_events: u64,
    /// Most bytes of stored data the waiting events may hold.
    pub max_waiting_bytes: u64,
    /// Most events waiting for one contact.
    pub max_waiting_per_contact: u64,
    /// The further sources of webhooks (issue 16); the settings above are the first.
    pub sources: Vec<SourceSettings>,
}

/// A further source of webhooks: a CRM read through a mapping (a preset, or the site's own),
/// with its own access key, signing secret, API credentials, field map and password return.
/// Its slug names it everywhere: the queue stores it with each event, and it prefixes the
/// user meta (`{slug}_contact_id`, `{slug}_tags`), so no two sources of a site share one.
/// `Default` is an empty source, whose keys `wpf_bridge_rules()` publishes (`source_settings`)
/// for the plugin to store a source in this shape.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SourceSettings {
    /// The preset's slug, or the custom mapping's `slug` (not stored: read from `mapping`).
    #[serde(skip)]
    pub slug: String,
    /// A preset's slug (a string), or the site's own mapping (an object, validated by
    /// `webhook::mapping` when the settings are saved and when it reads a webhook).
    pub mapping: Value,
    pub name: Option<String>,
    #[serde(serialize_with = "exposed")]
    pub access_key: Secret,
    /// The key of the mapping's `signature`, when it has one.
    #[serde(serialize_with = "exposed")]
    pub webhook_secret: Secret,
    /// The CRM's API, for the presets with a client (`CrmKind::PRESET_CLIENTS`).
    pub api_url: Option<String>,
    #[serde(serialize_with = "exposed")]
    pub api_key: Secret,
    pub field_map: BTreeMap<String, String>,
    pub return_password: bool,
    pub return_password_field: Option<String>,
}

impl SourceSettings {
    /// The preset this source reads with, or `None` for the site's own mapping.
    pub fn preset(&self) -> Option<&str> {
        self.mapping.as_str()
    }

    /// The name a site owner knows: `name`, else the preset's or the mapping's, else the slug.
    pub fn display_name(&self) -> String {
        self.name
            .clone()
            .or_else(|| {
                self.mapping
                    .get("name")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .or_else(|| {
                let presets = crate::crm_kind::PRESET_CRMS;
                let preset = presets
                    .iter()
                    .find(|(slug, _)| Some(*slug) == self.preset());
                preset.map(|(_, name)| name.to_string())
            })
            .unwrap_or_else(|| self.slug.clone())
    }
}

/// Which source a webhook came in through: the first (the settings' own `crm`) or one of
/// `sources`.
#[derive(Debug, Clone, Copy)]
pub enum SourceRef<'a> {
    First,
    Further(&'a SourceSettings),
}

/// The defaults: what an empty settings array reads as (every default is in `read`).
impl Default for Settings {
    fn default() -> Self {
        Settings::read(&Reader::new(&Map::new()))
            .expect("an empty settings array reads as the defaults")
    }
}

impl Settings {
    /// Validates the plugin's settings array. Unknown keys are ignored (the plugin keeps its own
    /// options beside ours); every known key is checked and a wrong one is named in the error.
    /// The CRM and the access key have no usable default: they must be set.
    pub fn from_map(map: &Map<String, Value>) -> Result<Self> {
        let reader = Reader::new(map);
        if reader.crm()?.is_none() {
            return Err(Error::setting(
                "crm",
                format!("is missing; choose {}", CrmKind::slugs()),
            ));
        }
        reader.access_key()?;
        let mut settings = Settings::read(&reader)?;
        settings.sources = read_sources(map, &settings)?;
        Ok(settings)
    }

    /// The source whose access key this is (compared in constant time with every source's,
    /// none skipped), or `None`.
    pub fn source_by_key(&self, given: &str) -> Option<SourceRef<'_>> {
        let mut found = self.access_key.matches(given).then_some(SourceRef::First);
        for source in &self.sources {
            if source.access_key.matches(given) && found.is_none() {
                found = Some(SourceRef::Further(source));
            }
        }
        found
    }

    /// The source with this slug (`mautic`, `mailerlite`, a custom mapping's), or `None` when
    /// no source of the site has it (any more).
    pub fn source_by_slug(&self, slug: &str) -> Option<SourceRef<'_>> {
        if slug == self.crm.slug() {
            return Some(SourceRef::First);
        }
        self.sources
            .iter()
            .find(|source| source.slug == slug)
            .map(SourceRef::Further)
    }

    /// The name the settings' errors give this key of a further source (`sources[1][mapping]`),
    /// or the bare key for a source that is not one of these settings'.
    pub fn further_source_setting(&self, source: &SourceSettings, key: &str) -> String {
        match self.sources.iter().position(|s| std::ptr::eq(s, source)) {
            Some(at) => format!("{}[{key}]", source_prefix(at)),
            None => key.to_string(),
        }
    }

    /// The slugs of the site's sources, for messages: `mautic, mailerlite`.
    pub fn source_slugs(&self) -> String {
        let further = self.sources.iter().map(|source| source.slug.as_str());
        std::iter::once(self.crm.slug())
            .chain(further)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The settings a webhook of this source is applied with: the site's, with the source's
    /// access key, signing secret, field map and password return in place of the first
    /// source's. (`crm` stays the first source's: apply reads the CRM from the webhook.)
    pub fn applied_as(&self, source: SourceRef) -> Cow<'_, Settings> {
        let SourceRef::Further(source) = source else {
            return Cow::Borrowed(self);
        };
        let mut view = self.clone();
        view.access_key = source.access_key.clone();
        view.webhook_secret = source.webhook_secret.clone();
        view.field_map = source.field_map.clone();
        view.return_password = source.return_password;
        view.return_password_field = source.return_password_field.clone();
        Cow::Owned(view)
    }

    /// Every setting, its default where the array does not set it.
    fn read(reader: &Reader) -> Result<Self> {
        let return_password = reader.flag("return_password")?.unwrap_or(false);
        let return_password_field = reader.string("return_password_field")?;
        if return_password && return_password_field.is_none() {
            return Err(Error::setting(
                "return_password_field",
                "is required when return_password is on: name the CRM field that receives the password",
            ));
        }
        let seconds =
            |setting: &IntegerSetting| reader.integer_in(setting).map(Duration::from_secs);
        Ok(Settings {
            access_key: Secret::new(reader.string("access_key")?.unwrap_or_default()),
            crm: reader.crm()?.unwrap_or(CrmKind::Mautic),
            mautic_url: reader.url("mautic_url")?,
            mautic_username: reader.string("mautic_username")?,
            mautic_password: Secret::new(reader.string("mautic_password")?.unwrap_or_default()),
            mautic_token: Secret::new(reader.string("mautic_token")?.unwrap_or_default()),
            userengage_url: reader.url("userengage_url")?,
            userengage_api_key: Secret::new(
                reader.string("userengage_api_key")?.unwrap_or_default(),
            ),
            webhook_secret: Secret::new(reader.string("webhook_secret")?.unwrap_or_default()),
            field_map: reader.field_map("field_map")?,
            return_password,
            return_password_field,
            default_role: reader.string("default_role")?,
            allowed_roles: reader.string_list("allowed_roles")?,
            send_welcome_email: reader.flag("send_welcome_email")?.unwrap_or(false),
            username_format: reader.choice(
                "username_format",
                UsernameFormat::ALL,
                UsernameFormat::slug,
            )?,
            max_body_bytes: reader.integer_in(&MAX_BODY_BYTES)? as usize,
            crm_timeout: seconds(&CRM_TIMEOUT)?,
            max_events: reader.integer_in(&MAX_EVENTS)? as usize,
            time_budget: seconds(&TIME_BUDGET)?,
            processing: reader.choice("processing", Processing::ALL, Processing::slug)?,
            retry_delays: reader.seconds_list("retry_delays")?.unwrap_or_else(|| {
                DEFAULT_RETRY_DELAYS_SECS
                    .iter()
                    .map(|secs| Duration::from_secs(*secs))
                    .collect()
            }),
            claim_timeout: seconds(&CLAIM_TIMEOUT)?,
            keep_done_days: reader.integer_in(&KEEP_DONE_DAYS)? as u32,
            max_waiting_events: reader.integer_in(&MAX_WAITING_EVENTS)?,
            max_waiting_bytes: reader.integer_in(&MAX_WAITING_BYTES)?,
            max_waiting_per_contact: reader.integer_in(&MAX_WAITING_PER_CONTACT)?,
            sources: Vec::new(),
        })
    }

    /// The settings as the plugin stores them, normalised (what `wpf_bridge_validate_settings`
    /// returns). Secrets are included: the caller handed them to us.
    pub fn to_map(&self) -> Map<String, Value> {
        match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map,
            _ => unreachable!("Settings serialises as an object of plain values"),
        }
    }
}

/// A secret's value, for `to_map` only (the plugin stores what it handed in).
fn exposed<S: Serializer>(secret: &Secret, serializer: S) -> std::result::Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose())
}

/// A duration as whole seconds.
fn seconds<S: Serializer>(
    duration: &Duration,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    serializer.serialize_u64(duration.as_secs())
}

/// Durations as a list of whole seconds.
fn seconds_list<S: Serializer>(
    durations: &[Duration],
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    serializer.collect_seq(durations.iter().map(Duration::as_secs))
}

/// A whole-number setting: its key, the range accepted, its default and its unit. Each range
/// is written once, in the table below: `from_map` enforces it and `wpf_bridge_rules()` gives
/// it to the settings page for its help text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct IntegerSetting {
    #[serde(skip)]
    pub key: &'static str,
    pub min: u64,
    pub max: u64,
    pub default: u64,
    /// `seconds`, `days`, `bytes`, or empty for a count.
    pub unit: &'static str,
}

/// Largest webhook body: 1 MiB by default (Mautic's largest batch, 10 contacts, is about
/// 70 KiB), 1 KiB to 64 MiB.
pub const MAX_BODY_BYTES: IntegerSetting = IntegerSetting {
    key: "max_body_bytes",
    min: 1024,
    max: 64 * 1024 * 1024,
    default: 1024 * 1024,
    unit: "bytes",
};
/// The default largest body, for callers without settings.
pub const DEFAULT_MAX_BODY_BYTES: usize = MAX_BODY_BYTES.default as usize;
/// CRMs give a webhook 10 to 30 seconds; each API call must leave room for the rest.
pub const CRM_TIMEOUT: IntegerSetting = IntegerSetting {
    key: "crm_timeout",
    min: 1,
    max: 60,
    default: 8,
    unit: "seconds",
};
/// Mautic sends at most 10 events per delivery; 100 leaves room and bounds one request's work
/// (CRM API calls included).
pub const MAX_EVENTS: IntegerSetting = IntegerSetting {
    key: "max_events",
    min: 1,
    max: 10_000,
    default: 100,
    unit: "",
};
/// CRMs wait 10 to 30 seconds for an answer and php-fpm usually stops a request at 30 to
/// 120 seconds: a batch stops cleanly well before either.
pub const TIME_BUDGET: IntegerSetting = IntegerSetting {
    key: "time_budget",
    min: 1,
    max: 300,
    default: 20,
    unit: "seconds",
};
/// A queue claim's lease: longer than any one apply (time budget plus CRM calls).
pub const CLAIM_TIMEOUT: IntegerSetting = IntegerSetting {
    key: "claim_timeout",
    min: 30,
    max: 86_400,
    default: 300,
    unit: "seconds",
};
/// Done queue events are kept a month: long enough to answer "what happened to this contact
/// last week", short enough that the table stays small; at most ten years (the row cap still
/// applies).
pub const KEEP_DONE_DAYS: IntegerSetting = IntegerSetting {
    key: "keep_done_days",
    min: 1,
    max: 3650,
    default: 30,
    unit: "days",
};
/// Backpressure (issue 18): a queue holding 100,000 waiting events, or 512 MiB of them, is not
/// being drained (a busy site settles a few hundred a minute); a contact with 1,000 waiting
/// events is a loop or an attack (a real contact changes a few times a minute, and its backlog
/// is coalesced into one apply anyway). Up to these, a webhook is stored.
pub const MAX_WAITING_EVENTS: IntegerSetting = IntegerSetting {
    key: "max_waiting_events",
    min: 1,
    max: 100_000_000,
    default: 100_000,
    unit: "",
};
pub const MAX_WAITING_BYTES: IntegerSetting = IntegerSetting {
    key: "max_waiting_bytes",
    min: 1024 * 1024,
    max: 1024 * 1024 * 1024 * 1024,
    default: 512 * 1024 * 1024,
    unit: "bytes",
};
pub const MAX_WAITING_PER_CONTACT: IntegerSetting = IntegerSetting {
    key: "max_waiting_per_contact",
    min: 1,
    max: 100_000_000,
    default: 1_000,
    unit: "",
};

/// Every whole-number setting (exported by `wpf_bridge_rules()` as `ranges`).
pub const INTEGER_SETTINGS: [IntegerSetting; 9] = [
    MAX_BODY_BYTES,
    CRM_TIMEOUT,
    MAX_EVENTS,
    TIME_BUDGET,
    CLAIM_TIMEOUT,
    KEEP_DONE_DAYS,
    MAX_WAITING_EVENTS,
    MAX_WAITING_BYTES,
    MAX_WAITING_PER_CONTACT,
];

/// The queue's default backoff: 30 s, 2 min, 10 min, 1 h, 6 h, 1 day.
pub const DEFAULT_RETRY_DELAYS_SECS: [u64; 6] = [30, 120, 600, 3600, 21_600, 86_400];
/// The most retry delays accepted.
pub const MAX_RETRY_DELAYS: usize = 20;
/// The longest retry delay accepted: a week.
pub const MAX_RETRY_DELAY_SECS: u64 = 604_800;

/// What a setting that is not a list of names must be.
const LIST_OF_ROLES: &str = "must be a list of role names";

/// The items of a list setting, each a string.
fn strings<'v>(key: &str, items: impl Iterator<Item = &'v Value>) -> Result<Vec<String>> {
    items
        .map(|item| {
            item.as_str()
                .map(str::to_string)
                .ok_or_else(|| Error::setting(key, LIST_OF_ROLES))
        })
        .collect()
}

/// The most further sources a site may have.
pub const MAX_SOURCES: usize = 20;

/// How the settings name the further source at this position: `sources[N]`.
fn source_prefix(at: usize) -> String {
    format!("sources[{at}]")
}

/// The `sources` setting: each entry read like the top-level settings, its errors naming it
/// (`sources[1][access_key]`); slugs and access keys unique across the site.
fn read_sources(map: &Map<String, Value>, first: &Settings) -> Result<Vec<SourceSettings>> {
    let entries: Vec<&Value> = match map.get("sources") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().collect(),
        // PHP arrays with non-sequential keys arrive as objects.
        Some(Value::Object(items)) => items.values().collect(),
        Some(_) => return Err(Error::setting("sources", "must be a list of sources")),
    };
    if entries.len() > MAX_SOURCES {
        return Err(Error::setting(
            "sources",
            format!(
                "has {} sources; at most {MAX_SOURCES} are allowed",
                entries.len()
            ),
        ));
    }
    let mut sources: Vec<SourceSettings> = Vec::with_capacity(entries.len());
    for (at, entry) in entries.into_iter().enumerate() {
        let prefix = source_prefix(at);
        let Value::Object(entry) = entry else {
            return Err(Error::setting(prefix, "must be a source's settings"));
        };
        let reader = Reader {
            map: entry,
            prefix: Some(prefix),
        };
        let source = reader.source()?;
        let taken = source.slug == first.crm.slug()
            || sources.iter().any(|other| other.slug == source.slug);
        if taken {
            return Err(Error::setting(
                reader.name("mapping"),
                format!(
                    "reads the CRM \"{}\", which another source of this site reads already; its \
                     users' links ({}) would be shared, so a site has one source per CRM",
                    source.slug,
                    crate::crm_kind::contact_id_meta_key_of(&source.slug)
                ),
            ));
        }
        let key = source.access_key.expose();
        if first.access_key.expose() == key
            || sources.iter().any(|other| other.access_key.expose() == key)
        {
            return Err(Error::setting(
                reader.name("access_key"),
                "is another source's access key; each source needs its own (generate a new key)",
            ));
        }
        sources.push(source);
    }
    Ok(sources)
}

/// WP Fusion's keys are 8 hex characters; sites switching over keep theirs.
const MIN_ACCESS_KEY_CHARS: usize = 8;

/// Reads typed values out of the settings map; every error names its key.
struct Reader<'a> {
    map: &'a Map<String, Value>,
    /// How errors name a key: `None` for a top-level setting, `Some("sources[1]")` inside a
    /// source (`sources[1][access_key]`).
    prefix: Option<String>,
}

impl<'a> Reader<'a> {
    fn new(map: &'a Map<String, Value>) -> Self {
        Reader { map, prefix: None }
    }

    /// The key as an error names it.
    fn name(&self, key: &str) -> String {
        match &self.prefix {
            None => key.to_string(),
            Some(prefix) => format!("{prefix}[{key}]"),
        }
    }

    /// A trimmed string; absent, null and empty are `None`. Numbers are accepted as text.
    fn string(&self, key: &str) -> Result<Option<String>> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => {
                let s = s.trim();
                Ok((!s.is_empty()).then(|| s.to_string()))
            }
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(Error::setting(self.name(key), "must be a string")),
        }
    }

    fn flag(&self, key: &str) -> Result<Option<bool>> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::Number(n)) => match n.as_i64() {
                Some(0) => Ok(Some(false)),
                Some(1) => Ok(Some(true)),
                _ => Err(Error::setting(self.name(key), "must be true or false")),
            },
            Some(Value::String(s)) => crate::text::parse_flag("setting", s)
                .map(Some)
                .map_err(|_| Error::setting(self.name(key), "must be true or false")),
            Some(_) => Err(Error::setting(self.name(key), "must be true or false")),
        }
    }

    /// The one reader of "a whole number in range, or the default when not set".
    fn integer_in(&self, setting: &IntegerSetting) -> Result<u64> {
        match self.integer(setting.key)? {
            None => Ok(setting.default),
            Some(n) => u64::try_from(n)
                .ok()
                .filter(|n| (setting.min..=setting.max).contains(n))
                .ok_or_else(|| {
                    let unit = match setting.unit {
                        "" | "bytes" => String::new(),
                        unit => format!(" {unit}"),
                    };
                    Error::setting(
                        self.name(setting.key),
                        format!("must be between {} and {}{unit}", setting.min, setting.max),
                    )
                }),
        }
    }

    /// An access key: set, long enough, printable ASCII without spaces.
    fn access_key(&self) -> Result<String> {
        let access_key = self.string("access_key")?.unwrap_or_default();
        if access_key.chars().count() < MIN_ACCESS_KEY_CHARS {
            return Err(Error::setting(
                self.name("access_key"),
                format!("must be at least {MIN_ACCESS_KEY_CHARS} characters; generate a new key"),
            ));
        }
        if !access_key.chars().all(|c| c.is_ascii_graphic()) {
            return Err(Error::setting(
                self.name("access_key"),
                "may only hold printable ASCII characters without spaces",
            ));
        }
        Ok(access_key)
    }

    /// One further source (`read_sources` checks it against the others).
    fn source(&self) -> Result<SourceSettings> {
        let (mapping, slug) = match self.map.get("mapping") {
            Some(Value::String(preset)) => {
                let slug = preset.trim().to_ascii_lowercase();
                let presets = crate::crm_kind::PRESET_CRMS;
                if !presets.iter().any(|(preset, _)| *preset == slug) {
                    return Err(Error::setting(
                        self.name("mapping"),
                        format!(
                            "names no preset; the presets are {}, or give a mapping of your own",
                            presets.map(|(preset, _)| preset).join(", ")
                        ),
                    ));
                }
                (Value::String(slug.clone()), slug)
            }
            Some(Value::Object(mapping)) => {
                let slug = mapping.get("slug").and_then(Value::as_str).unwrap_or("");
                if let Some(problem) = crate::crm_kind::slug_problem(slug) {
                    return Err(Error::setting(
                        self.name("mapping"),
                        format!("/slug {problem}"),
                    ));
                }
                (Value::Object(mapping.clone()), slug.to_string())
            }
            _ => {
                return Err(Error::setting(
                    self.name("mapping"),
                    "is missing; name a preset or give a mapping",
                ))
            }
        };
        let access_key = self.access_key()?;
        let return_password = self.flag("return_password")?.unwrap_or(false);
        let return_password_field = self.string("return_password_field")?;
        if return_password {
            if CrmKind::of_preset(&slug).is_none() {
                return Err(Error::setting(
                    self.name("return_password"),
                    format!(
                        "needs the CRM's API, and wpf-bridge has no API client for \"{slug}\" \
                         (it has one for {})",
                        CrmKind::PRESET_CLIENTS
                            .map(CrmKind::display_name)
                            .join(" and ")
                    ),
                ));
            }
            if return_password_field.is_none() {
                return Err(Error::setting(
                    self.name("return_password_field"),
                    "is required when return_password is on: name the CRM field that receives the password",
                ));
            }
        }
        Ok(SourceSettings {
            name: self.string("name")?,
            mapping,
            access_key: Secret::new(access_key),
            webhook_secret: Secret::new(self.string("webhook_secret")?.unwrap_or_default()),
            api_url: self.url("api_url")?,
            api_key: Secret::new(self.string("api_key")?.unwrap_or_default()),
            field_map: self.field_map("field_map")?,
            return_password,
            return_password_field,
            slug,
        })
    }

    /// The CRM, if set.
    fn crm(&self) -> Result<Option<CrmKind>> {
        self.string("crm")?
            .map(|slug| {
                CrmKind::from_slug(&slug)
                    .map_err(|_| Error::setting("crm", format!("must be {}", CrmKind::slugs())))
            })
            .transpose()
    }

    /// One of `all` by its slug, or the first (the default) when not set.
    fn choice<T: Copy>(&self, key: &str, all: &[T], slug: fn(T) -> &'static str) -> Result<T> {
        match self.string(key)? {
            None => Ok(all[0]),
            Some(given) => all
                .iter()
                .copied()
                .find(|item| slug(*item) == given)
                .ok_or_else(|| {
                    let slugs: Vec<String> = all
                        .iter()
                        .map(|item| format!("\"{}\"", slug(*item)))
                        .collect();
                    Error::setting(
                        self.name(key),
                        format!("must be one of {}", slugs.join(", ")),
                    )
                }),
        }
    }

    fn integer(&self, key: &str) -> Result<Option<i64>> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) if n.is_i64() => Ok(n.as_i64()),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| Error::setting(self.name(key), "must be a whole number")),
            Some(_) => Err(Error::setting(self.name(key), "must be a whole number")),
        }
    }

    /// A CRM's base URL, checked by the one rule the CRM clients apply
    /// (`crm_kind::base_url`); not set is `None`.
    fn url(&self, key: &str) -> Result<Option<String>> {
        let Some(url) = self.string(key)? else {
            return Ok(None);
        };
        crate::crm_kind::base_url(&self.name(key), Some(&url))?;
        Ok(Some(url))
    }

    /// A list of strings, given as an array or as comma-separated text.
    fn string_list(&self, key: &str) -> Result<Vec<String>> {
        let items: Vec<String> = match self.map.get(key) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(s)) => s.split(',').map(str::to_string).collect(),
            Some(Value::Array(items)) => strings(key, items.iter())?,
            // PHP arrays with non-sequential keys arrive as objects.
            Some(Value::Object(items)) => strings(key, items.values())?,
            Some(_) => return Err(Error::setting(self.name(key), LIST_OF_ROLES)),
        };
        Ok(items
            .into_iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect())
    }

    /// A non-empty list of at most `MAX_RETRY_DELAYS` durations of 1 s to a week, given as an
    /// array of whole numbers or as comma-separated text; absent, null or empty is `None`.
    fn seconds_list(&self, key: &str) -> Result<Option<Vec<Duration>>> {
        let wrong = || {
            Error::setting(
                self.name(key),
                format!("must be a list of whole seconds, each between 1 and {MAX_RETRY_DELAY_SECS}, like 30,120,600"),
            )
        };
        let items: Vec<String> = match self.map.get(key) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
            Some(Value::String(s)) => s.split(',').map(|item| item.trim().to_string()).collect(),
            Some(Value::Array(items)) if items.is_empty() => return Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::Number(n) => Ok(n.to_string()),
                    Value::String(s) => Ok(s.trim().to_string()),
                    _ => Err(wrong()),
                })
                .collect::<Result<_>>()?,
            Some(_) => return Err(wrong()),
        };
        if items.len() > MAX_RETRY_DELAYS {
            return Err(Error::setting(
                self.name(key),
                format!(
                    "has {} delays; at most {MAX_RETRY_DELAYS} are allowed",
                    items.len()
                ),
            ));
        }
        items
            .iter()
            .map(|item| match item.parse::<u64>() {
                Ok(secs) if (1..=MAX_RETRY_DELAY_SECS).contains(&secs) => {
                    Ok(Duration::from_secs(secs))
                }
                _ => Err(wrong()),
            })
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }

    /// CRM field alias to WordPress field; both sides non-empty, WordPress side a valid key.
    fn field_map(&self, key: &str) -> Result<BTreeMap<String, String>> {
        let entries = match self.map.get(key) {
            None | Some(Value::Null) => return Ok(BTreeMap::new()),
            Some(Value::Array(items)) if items.is_empty() => return Ok(BTreeMap::new()),
            Some(Value::Object(entries)) => entries,
            Some(_) => {
                return Err(Error::setting(
                    self.name(key),
                    "must map CRM field names to WordPress field names",
                ))
            }
        };
        let mut map = BTreeMap::new();
        for (crm_field, wp_field) in entries {
            let crm_field = crm_field.trim();
            let Value::String(wp_field) = wp_field else {
                return Err(Error::setting(
                    format!("{}.{crm_field}", self.name(key)),
                    "must name a WordPress field as a string",
                ));
            };
            let wp_field = wp_field.trim();
            if crm_field.is_empty() {
                return Err(Error::setting(
                    self.name(key),
                    "has an entry with an empty CRM field name",
                ));
            }
            if wp_field.is_empty() {
                // An empty row in the settings form: not mapped.
                continue;
            }
            if wp_field.len() > 255
                || !wp_field
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(Error::setting(
                    format!("{}.{crm_field}", self.name(key)),
                    "must be a WordPress field or meta key of letters, digits, '_' and '-'",
                ));
            }
            if crate::meta_keys::is_protected(wp_field) {
                return Err(Error::setting(
                    format!("{}.{crm_field}", self.name(key)),
                    format!("names \"{wp_field}\", a user meta key that holds roles, capabilities, login state or the CRM link; webhooks never write it"),
                ));
            }
            map.insert(crm_field.to_string(), wp_field.to_string());
        }
        Ok(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn queue_caps_have_safe_defaults_and_bounds() {
        let settings = with(json!({})).unwrap();
        assert_eq!(
            (
                settings.max_waiting_events,
                settings.max_waiting_bytes,
                settings.max_waiting_per_contact
            ),
            (100_000, 536_870_912, 1_000)
        );
        let map = Settings::default().to_map();
        assert_eq!(map["max_waiting_bytes"], json!(536_870_912));
        let set = with(json!({"max_waiting_events": "5", "max_waiting_bytes": 1048576, "max_waiting_per_contact": 2})).unwrap();
        assert_eq!(
            (
                set.max_waiting_events,
                set.max_waiting_bytes,
                set.max_waiting_per_contact
            ),
            (5, 1_048_576, 2)
        );
        let again = Settings::from_map(&set.to_map()).unwrap();
        assert_eq!(again.max_waiting_per_contact, 2);
        for (extra, key) in [
            (json!({"max_waiting_events": 0}), "max_waiting_events"),
            (json!({"max_waiting_events": -5}), "max_waiting_events"),
            (json!({"max_waiting_events": "many"}), "max_waiting_events"),
            (json!({"max_waiting_bytes": 1048575}), "max_waiting_bytes"),
            (
                json!({"max_waiting_per_contact": 0}),
                "max_waiting_per_contact",
            ),
            (
                json!({"max_waiting_per_contact": 100_000_001}),
                "max_waiting_per_contact",
            ),
        ] {
            let error = with(extra.clone()).expect_err(&extra.to_string());
            assert!(error.to_string().contains(&format!("\"{key}\"")), "{error}");
        }
    }

    #[test]
    fn every_integer_setting_is_read_by_its_range_and_default() {
        let defaults = Settings::default().to_map();
        for setting in INTEGER_SETTINGS {
            let key = setting.key;
            assert_eq!(defaults[key], json!(setting.default), "{key}'s default");
            assert!(
                (setting.min..=setting.max).contains(&setting.default),
                "{key}"
            );
            for ok in [setting.min, setting.max] {
                let read = with(json!({ key: ok })).unwrap().to_map();
                assert_eq!(read[key], json!(ok), "{key} = {ok}");
                let as_text = with(json!({ key: format!(" {ok} ") })).unwrap().to_map();
                assert_eq!(as_text[key], json!(ok), "{key} = \" {ok} \"");
            }
            for bad in [
                json!(setting.min as i64 - 1),
                json!(setting.max + 1),
                json!("many"),
            ] {
                let error = with(json!({ key: bad })).expect_err(&format!("{key} = {bad}"));
                assert_eq!(error.code(), "invalid_setting");
                assert!(error.to_string().contains(&format!("\"{key}\"")), "{error}");
                if !bad.is_string() {
                    let range = format!("between {} and {}", setting.min, setting.max);
                    assert!(error.to_string().contains(&range), "{error}");
                }
            }
        }
    }

    #[test]
    fn the_keys_are_written_once_and_round_trip() {
        // `Default` is the empty array read; `to_map` is the struct's serde form: both name
        // every key the reader reads, and reading `to_map` gives the same map again.
        let set = with(json!({
            "mautic_url": "https://crm.example",
            "field_map": {"company": "billing_company"},
            "return_password": true,
            "return_password_field": "pw",
            "allowed_roles": "customer, editor",
            "username_format": "flname",
            "processing": "immediate",
            "retry_delays": "5,6",
            "max_events": 7,
        }))
        .unwrap();
        let map = set.to_map();
        assert_eq!(Settings::from_map(&map).unwrap().to_map(), map);
        let keys: Vec<&String> = map.keys().collect();
        let default_map = Settings::default().to_map();
        assert_eq!(keys, default_map.keys().collect::<Vec<_>>());
        assert_eq!(map["username_format"], json!("flname"));
        assert_eq!(map["crm_timeout"], json!(8));
        assert_eq!(map["allowed_roles"], json!(["customer", "editor"]));
        assert_eq!(default_map["mautic_url"], Value::Null);
        assert_eq!(default_map["access_key"], json!(""));
    }

    #[test]
    fn allowed_roles_read_from_a_list_an_object_or_text() {
        for given in [
            json!(["customer", " editor "]),
            json!({"3": "customer", "7": "editor"}),
            json!("customer,editor,"),
        ] {
            let read = with(json!({ "allowed_roles": given })).unwrap();
            assert_eq!(read.allowed_roles, ["customer", "editor"], "{given}");
        }
        for wrong in [json!(["customer", 1]), json!({"a": null}), json!(true)] {
            let error = with(json!({ "allowed_roles": wrong })).unwrap_err();
            assert!(error.to_string().contains("\"allowed_roles\""), "{error}");
        }
    }

    #[test]
    fn choices_default_to_the_first_of_all() {
        assert_eq!(UsernameFormat::ALL[0], UsernameFormat::default());
        assert_eq!(Processing::ALL[0], Processing::default());
    }

    #[test]
    fn choices_name_every_value_when_wrong() {
        let error = with(json!({"username_format": "nick"})).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("must be one of \"email\", \"flname\", \"fnamenum\""),
            "{error}"
        );
        assert!(Settings::from_map(&Map::new()).is_err(), "crm is required");
    }

    fn with(extra: Value) -> Result<Settings> {
        let mut map = json!({"crm": "mautic", "access_key": "0123456789abcdef"})
            .as_object()
            .cloned()
            .unwrap();
        map.extend(extra.as_object().cloned().unwrap());
        Settings::from_map(&map)
    }

    fn secs(list: &[u64]) -> Vec<Duration> {
        list.iter().map(|s| Duration::from_secs(*s)).collect()
    }

    #[test]
    fn queue_settings_have_the_documented_defaults() {
        let settings = with(json!({})).unwrap();
        assert_eq!(settings.processing, Processing::Background);
        assert_eq!(
            settings.retry_delays,
            secs(&[30, 120, 600, 3600, 21600, 86400])
        );
        assert_eq!(settings.claim_timeout, Duration::from_secs(300));
        assert_eq!(settings.keep_done_days, 30);
        let map = Settings::default().to_map();
        assert_eq!(map["keep_done_days"], json!(30));
        assert_eq!(map["processing"], json!("background"));
        assert_eq!(
            map["retry_delays"],
            json!([30, 120, 600, 3600, 21600, 86400])
        );
        assert_eq!(map["claim_timeout"], json!(300));
    }

    #[test]
    fn queue_settings_read_and_round_trip() {
        let settings = with(json!({
            "processing": "immediate",
            "retry_delays": " 5, 60 ,3600",
            "claim_timeout": "30",
            "keep_done_days": " 7 ",
        }))
        .unwrap();
        assert_eq!(settings.keep_done_days, 7);
        assert_eq!(settings.processing, Processing::Immediate);
        assert_eq!(settings.retry_delays, secs(&[5, 60, 3600]));
        assert_eq!(settings.claim_timeout, Duration::from_secs(30));
        let again = Settings::from_map(&settings.to_map()).unwrap();
        assert_eq!(again.processing, Processing::Immediate);
        assert_eq!(again.retry_delays, secs(&[5, 60, 3600]));
        assert_eq!(again.claim_timeout, Duration::from_secs(30));
        assert_eq!(again.keep_done_days, 7);
        assert_eq!(
            with(json!({"keep_done_days": 3650}))
                .unwrap()
                .keep_done_days,
            3650
        );
        let listed = with(json!({"retry_delays": [1, "604800"]})).unwrap();
        assert_eq!(listed.retry_delays, secs(&[1, 604_800]));
        // The plugin's form sends an empty field for "not set": the default.
        let empty = with(
            json!({"retry_delays": "", "processing": "", "claim_timeout": "", "keep_done_days": ""}),
        );
        assert_eq!(empty.unwrap().retry_delays.len(), 6);
    }

    #[test]
    fn bad_queue_settings_name_the_key() {
        let twenty_one = vec![json!(1); 21];
        let cases: Vec<(Value, &str)> = vec![
            (json!({"processing": "later"}), "processing"),
            (json!({"processing": 5}), "processing"),
            (json!({"retry_delays": "30,0"}), "retry_delays"),
            (json!({"retry_delays": "30,604801"}), "retry_delays"),
            (json!({"retry_delays": "30,,60"}), "retry_delays"),
            (json!({"retry_delays": "-5"}), "retry_delays"),
            (json!({"retry_delays": "1.5"}), "retry_delays"),
            (json!({"retry_delays": [30, null]}), "retry_delays"),
            (json!({"retry_delays": {"a": 1}}), "retry_delays"),
            (json!({"retry_delays": true}), "retry_delays"),
            (json!({ "retry_delays": twenty_one }), "retry_delays"),
            (json!({"claim_timeout": 29}), "claim_timeout"),
            (json!({"claim_timeout": 86401}), "claim_timeout"),
            (json!({"claim_timeout": "soon"}), "claim_timeout"),
            (json!({"keep_done_days": 0}), "keep_done_days"),
            (json!({"keep_done_days": -1}), "keep_done_days"),
            (json!({"keep_done_days": 3651}), "keep_done_days"),
            (json!({"keep_done_days": "a month"}), "keep_done_days"),
            (json!({"keep_done_days": 1.5}), "keep_done_days"),
            (json!({"keep_done_days": [30]}), "keep_done_days"),
        ];
        for (extra, key) in cases {
            let error = with(extra.clone()).expect_err(&extra.to_string());
            assert_eq!(error.code(), "invalid_setting");
            assert!(
                error.to_string().contains(&format!("\"{key}\"")),
                "{error} should name {key}"
            );
        }
        let twenty = vec![json!(1); 20];
        assert_eq!(
            with(json!({ "retry_delays": twenty }))
                .unwrap()
                .retry_delays
                .len(),
            20
        );
    }
}
