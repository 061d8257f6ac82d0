//! The settings the plugin passes in (`wpf_bridge_settings` option), validated into a typed
//! value with an error that names the exact key that is wrong.
//!
//! Intake reads the access key and webhook secret; apply reads the rest; CRM clients read
//! their URLs and credentials. Validation happens once, here.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::crm_kind::CrmKind;
use crate::error::{Error, Result};

/// How a username is made when the CRM does not give one (WP Fusion's option values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UsernameFormat {
    /// The email address.
    #[default]
    Email,
    /// First and last name joined, lowercased.
    FirstLastName,
    /// First name followed by a random number.
    FirstNameNumber,
}

impl UsernameFormat {
    pub const ALL: [UsernameFormat; 3] = [
        UsernameFormat::Email,
        UsernameFormat::FirstLastName,
        UsernameFormat::FirstNameNumber,
    ];

    /// The stored value, as WP Fusion names it.
    pub fn slug(self) -> &'static str {
        match self {
            UsernameFormat::Email => "email",
            UsernameFormat::FirstLastName => "flname",
            UsernameFormat::FirstNameNumber => "fnamenum",
        }
    }

    /// What the settings page shows.
    pub fn label(self) -> &'static str {
        match self {
            UsernameFormat::Email => "Email address",
            UsernameFormat::FirstLastName => "First and last name (firstlast)",
            UsernameFormat::FirstNameNumber => "First name and a number (first123)",
        }
    }

    fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|format| format.slug() == slug)
    }
}

/// When an accepted webhook is applied (setting `processing`); the URL's `async` flag wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Processing {
    /// Store, answer at once, apply after the answer (the queue drains it).
    #[default]
    Background,
    /// Store, apply in the request, answer with the per-event results.
    Immediate,
}

impl Processing {
    pub const ALL: [Processing; 2] = [Processing::Background, Processing::Immediate];

    /// The stored value.
    pub fn slug(self) -> &'static str {
        match self {
            Processing::Background => "background",
            Processing::Immediate => "immediate",
        }
    }

    /// What the settings page says about the mode.
    pub fn label(self) -> &'static str {
        match self {
            Processing::Background => "Background: store the webhook, answer the CRM at once, apply it right after the answer (and retry it later if it fails). The CRM never waits for WordPress or for its own API.",
            Processing::Immediate => "Immediate: store the webhook, apply it in the CRM's request and answer with the results. The CRM waits for the apply; a failure that a retry can fix is still retried by the site.",
        }
    }

    fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|mode| mode.slug() == slug)
    }
}

pub use crate::secret::Secret;

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub access_key: Secret,
    pub crm: CrmKind,
    pub mautic_url: Option<String>,
    pub mautic_username: Option<String>,
    pub mautic_password: Secret,
    pub mautic_token: Secret,
    pub userengage_url: Option<String>,
    pub userengage_api_key: Secret,
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
    pub crm_timeout: Duration,
    /// Most contact events one request may carry (`too_many_events` above).
    pub max_events: usize,
    /// Time one request may spend applying events before it stops and answers
    /// `time_budget_exceeded` for the rest.
    pub time_budget: Duration,
    /// When accepted webhooks are applied.
    pub processing: Processing,
    /// The queue's backoff: the wait before each retry of a failed event, in order; an event
    /// that failed once more than there are delays is `failed`.
    pub retry_delays: Vec<Duration>,
    /// How long a queue worker's claim on a contact's events lasts; events of a worker that
    /// died are claimed again after it.
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
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            access_key: Secret::default(),
            crm: CrmKind::Mautic,
            mautic_url: None,
            mautic_username: None,
            mautic_password: Secret::default(),
            mautic_token: Secret::default(),
            userengage_url: None,
            userengage_api_key: Secret::default(),
            webhook_secret: Secret::default(),
            field_map: BTreeMap::new(),
            return_password: false,
            return_password_field: None,
            default_role: None,
            allowed_roles: Vec::new(),
            send_welcome_email: false,
            username_format: UsernameFormat::Email,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            crm_timeout: Duration::from_secs(DEFAULT_CRM_TIMEOUT_SECS),
            max_events: DEFAULT_MAX_EVENTS,
            time_budget: Duration::from_secs(DEFAULT_TIME_BUDGET_SECS),
            processing: Processing::Background,
            retry_delays: DEFAULT_RETRY_DELAYS_SECS
                .iter()
                .map(|secs| Duration::from_secs(*secs))
                .collect(),
            claim_timeout: Duration::from_secs(DEFAULT_CLAIM_TIMEOUT_SECS),
            keep_done_days: DEFAULT_KEEP_DONE_DAYS,
            max_waiting_events: DEFAULT_MAX_WAITING_EVENTS,
            max_waiting_bytes: DEFAULT_MAX_WAITING_BYTES,
            max_waiting_per_contact: DEFAULT_MAX_WAITING_PER_CONTACT,
        }
    }
}

impl Settings {
    /// Validates the plugin's settings array. Unknown keys are ignored (the plugin keeps its own
    /// options beside ours); every known key is checked and a wrong one is named in the error.
    pub fn from_map(map: &Map<String, Value>) -> Result<Self> {
        let reader = Reader(map);
        let defaults = Settings::default();
        let crm = match reader.string("crm")? {
            Some(slug) => CrmKind::from_slug(&slug)
                .map_err(|_| Error::setting("crm", format!("must be {}", CrmKind::slugs())))?,
            None => {
                return Err(Error::setting(
                    "crm",
                    format!("is missing; choose {}", CrmKind::slugs()),
                ))
            }
        };
        let access_key = reader.string("access_key")?.unwrap_or_default();
        if access_key.chars().count() < MIN_ACCESS_KEY_CHARS {
            return Err(Error::setting(
                "access_key",
                format!("must be at least {MIN_ACCESS_KEY_CHARS} characters; generate a new key"),
            ));
        }
        if !access_key.chars().all(|c| c.is_ascii_graphic()) {
            return Err(Error::setting(
                "access_key",
                "may only hold printable ASCII characters without spaces",
            ));
        }
        let return_password = reader.flag("return_password")?.unwrap_or(false);
        let return_password_field = reader.string("return_password_field")?;
        if return_password && return_password_field.is_none() {
            return Err(Error::setting(
                "return_password_field",
                "is required when return_password is on: name the CRM field that receives the password",
            ));
        }
        let max_body_bytes = match reader.integer("max_body_bytes")? {
            Some(n) if !(1024..=64 * 1024 * 1024).contains(&n) => {
                return Err(Error::setting(
                    "max_body_bytes",
                    "must be between 1024 and 67108864",
                ))
            }
            Some(n) => n as usize,
            None => defaults.max_body_bytes,
        };
        let crm_timeout = match reader.integer("crm_timeout")? {
            Some(n) if !(1..=60).contains(&n) => {
                return Err(Error::setting(
                    "crm_timeout",
                    "must be between 1 and 60 seconds",
                ))
            }
            Some(n) => Duration::from_secs(n as u64),
            None => defaults.crm_timeout,
        };
        let max_events = match reader.integer("max_events")? {
            Some(n) if !(1..=MAX_MAX_EVENTS as i64).contains(&n) => {
                return Err(Error::setting(
                    "max_events",
                    format!("must be between 1 and {MAX_MAX_EVENTS}"),
                ))
            }
            Some(n) => n as usize,
            None => defaults.max_events,
        };
        let time_budget = match reader.integer("time_budget")? {
            Some(n) if !(1..=MAX_TIME_BUDGET_SECS as i64).contains(&n) => {
                return Err(Error::setting(
                    "time_budget",
                    format!("must be between 1 and {MAX_TIME_BUDGET_SECS} seconds"),
                ))
            }
            Some(n) => Duration::from_secs(n as u64),
            None => defaults.time_budget,
        };
        let processing = match reader.string("processing")? {
            None => Processing::default(),
            Some(slug) => Processing::from_slug(&slug).ok_or_else(|| {
                Error::setting("processing", "must be \"background\" or \"immediate\"")
            })?,
        };
        let retry_delays = reader
            .seconds_list("retry_delays")?
            .unwrap_or_else(|| defaults.retry_delays.clone());
        let claim_timeout = match reader.integer("claim_timeout")? {
            Some(n) if !(MIN_CLAIM_TIMEOUT_SECS as i64..=MAX_CLAIM_TIMEOUT_SECS as i64).contains(&n) => {
                return Err(Error::setting(
                    "claim_timeout",
                    format!("must be between {MIN_CLAIM_TIMEOUT_SECS} and {MAX_CLAIM_TIMEOUT_SECS} seconds"),
                ))
            }
            Some(n) => Duration::from_secs(n as u64),
            None => defaults.claim_timeout,
        };
        let keep_done_days = match reader.integer("keep_done_days")? {
            Some(n) if !(1..=MAX_KEEP_DONE_DAYS as i64).contains(&n) => {
                return Err(Error::setting(
                    "keep_done_days",
                    format!("must be between 1 and {MAX_KEEP_DONE_DAYS} days"),
                ))
            }
            Some(n) => n as u32,
            None => defaults.keep_done_days,
        };
        let max_waiting_events = reader.bounded(
            "max_waiting_events",
            1..=MAX_MAX_WAITING_EVENTS,
            defaults.max_waiting_events,
        )?;
        let max_waiting_bytes = reader.bounded(
            "max_waiting_bytes",
            MIN_MAX_WAITING_BYTES..=MAX_MAX_WAITING_BYTES,
            defaults.max_waiting_bytes,
        )?;
        let max_waiting_per_contact = reader.bounded(
            "max_waiting_per_contact",
            1..=MAX_MAX_WAITING_EVENTS,
            defaults.max_waiting_per_contact,
        )?;
        Ok(Settings {
            access_key: Secret::new(access_key),
            crm,
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
            username_format: match reader.string("username_format")? {
                None => UsernameFormat::default(),
                Some(slug) => UsernameFormat::from_slug(&slug).ok_or_else(|| {
                    let slugs: Vec<String> = UsernameFormat::ALL
                        .iter()
                        .map(|format| format!("\"{}\"", format.slug()))
                        .collect();
                    Error::setting(
                        "username_format",
                        format!("must be one of {}", slugs.join(", ")),
                    )
                })?,
            },
            max_body_bytes,
            crm_timeout,
            max_events,
            time_budget,
            processing,
            retry_delays,
            claim_timeout,
            keep_done_days,
            max_waiting_events,
            max_waiting_bytes,
            max_waiting_per_contact,
        })
    }

    /// The settings as the plugin stores them, normalised (what `wpf_bridge_validate_settings`
    /// returns). Secrets are included: the caller handed them to us.
    pub fn to_map(&self) -> Map<String, Value> {
        let mut map = Map::new();
        let mut put = |key: &str, value: Value| {
            map.insert(key.to_string(), value);
        };
        let opt = |v: &Option<String>| v.clone().map(Value::String).unwrap_or(Value::Null);
        put("access_key", self.access_key.expose().into());
        put("crm", self.crm.slug().into());
        put("mautic_url", opt(&self.mautic_url));
        put("mautic_username", opt(&self.mautic_username));
        put("mautic_password", self.mautic_password.expose().into());
        put("mautic_token", self.mautic_token.expose().into());
        put("userengage_url", opt(&self.userengage_url));
        put(
            "userengage_api_key",
            self.userengage_api_key.expose().into(),
        );
        put("webhook_secret", self.webhook_secret.expose().into());
        put(
            "field_map",
            Value::Object(
                self.field_map
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone().into()))
                    .collect(),
            ),
        );
        put("return_password", self.return_password.into());
        put("return_password_field", opt(&self.return_password_field));
        put("default_role", opt(&self.default_role));
        put("allowed_roles", self.allowed_roles.clone().into());
        put("send_welcome_email", self.send_welcome_email.into());
        put("username_format", self.username_format.slug().into());
        put("max_body_bytes", self.max_body_bytes.into());
        put("crm_timeout", self.crm_timeout.as_secs().into());
        put("max_events", self.max_events.into());
        put("time_budget", self.time_budget.as_secs().into());
        put("processing", self.processing.slug().into());
        put(
            "retry_delays",
            self.retry_delays
                .iter()
                .map(|delay| delay.as_secs())
                .collect::<Vec<_>>()
                .into(),
        );
        put("claim_timeout", self.claim_timeout.as_secs().into());
        put("keep_done_days", self.keep_done_days.into());
        put("max_waiting_events", self.max_waiting_events.into());
        put("max_waiting_bytes", self.max_waiting_bytes.into());
        put(
            "max_waiting_per_contact",
            self.max_waiting_per_contact.into(),
        );
        map
    }
}

/// WP Fusion's keys are 8 hex characters; sites switching over keep theirs.
const MIN_ACCESS_KEY_CHARS: usize = 8;

/// Reads typed values out of the settings map; every error names its key.
struct Reader<'a>(&'a Map<String, Value>);

impl Reader<'_> {
    /// A trimmed string; absent, null and empty are `None`. Numbers are accepted as text.
    fn string(&self, key: &str) -> Result<Option<String>> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => {
                let s = s.trim();
                Ok((!s.is_empty()).then(|| s.to_string()))
            }
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(Error::setting(key, "must be a string")),
        }
    }

    fn flag(&self, key: &str) -> Result<Option<bool>> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::Number(n)) => match n.as_i64() {
                Some(0) => Ok(Some(false)),
                Some(1) => Ok(Some(true)),
                _ => Err(Error::setting(key, "must be true or false")),
            },
            Some(Value::String(s)) => crate::text::parse_flag("setting", s)
                .map(Some)
                .map_err(|_| Error::setting(key, "must be true or false")),
            Some(_) => Err(Error::setting(key, "must be true or false")),
        }
    }

    /// A whole number in `range`, or `default` when not set.
    fn bounded(
        &self,
        key: &str,
        range: std::ops::RangeInclusive<u64>,
        default: u64,
    ) -> Result<u64> {
        match self.integer(key)? {
            None => Ok(default),
            Some(n) => u64::try_from(n)
                .ok()
                .filter(|n| range.contains(n))
                .ok_or_else(|| {
                    Error::setting(
                        key,
                        format!("must be between {} and {}", range.start(), range.end()),
                    )
                }),
        }
    }

    fn integer(&self, key: &str) -> Result<Option<i64>> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) if n.is_i64() => Ok(n.as_i64()),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| Error::setting(key, "must be a whole number")),
            Some(_) => Err(Error::setting(key, "must be a whole number")),
        }
    }

    /// A CRM's base URL, checked by the one rule the CRM clients apply
    /// (`crm_kind::base_url`); not set is `None`.
    fn url(&self, key: &str) -> Result<Option<String>> {
        let Some(url) = self.string(key)? else {
            return Ok(None);
        };
        crate::crm_kind::base_url(key, Some(&url))?;
        Ok(Some(url))
    }

    /// A list of strings, given as an array or as comma-separated text.
    fn string_list(&self, key: &str) -> Result<Vec<String>> {
        let items: Vec<String> = match self.0.get(key) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(s)) => s.split(',').map(str::to_string).collect(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s.clone()),
                    _ => Err(Error::setting(key, "must be a list of role names")),
                })
                .collect::<Result<_>>()?,
            // PHP arrays with non-sequential keys arrive as objects.
            Some(Value::Object(items)) => items
                .values()
                .map(|item| match item {
                    Value::String(s) => Ok(s.clone()),
                    _ => Err(Error::setting(key, "must be a list of role names")),
                })
                .collect::<Result<_>>()?,
            Some(_) => return Err(Error::setting(key, "must be a list of role names")),
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
                key,
                format!("must be a list of whole seconds, each between 1 and {MAX_RETRY_DELAY_SECS}, like 30,120,600"),
            )
        };
        let items: Vec<String> = match self.0.get(key) {
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
                key,
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
        let entries = match self.0.get(key) {
            None | Some(Value::Null) => return Ok(BTreeMap::new()),
            Some(Value::Array(items)) if items.is_empty() => return Ok(BTreeMap::new()),
            Some(Value::Object(entries)) => entries,
            Some(_) => {
                return Err(Error::setting(
                    key,
                    "must map CRM field names to WordPress field names",
                ))
            }
        };
        let mut map = BTreeMap::new();
        for (crm_field, wp_field) in entries {
            let crm_field = crm_field.trim();
            let Value::String(wp_field) = wp_field else {
                return Err(Error::setting(
                    format!("{key}.{crm_field}"),
                    "must name a WordPress field as a string",
                ));
            };
            let wp_field = wp_field.trim();
            if crm_field.is_empty() {
                return Err(Error::setting(
                    key,
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
                    format!("{key}.{crm_field}"),
                    "must be a WordPress field or meta key of letters, digits, '_' and '-'",
                ));
            }
            if crate::meta_keys::is_protected(wp_field) {
                return Err(Error::setting(
                    format!("{key}.{crm_field}"),
                    format!("names \"{wp_field}\", a user meta key that holds roles, capabilities, login state or the CRM link; webhooks never write it"),
                ));
            }
            map.insert(crm_field.to_string(), wp_field.to_string());
        }
        Ok(map)
    }
}

/// 1 MiB: Mautic's largest batch (10 contacts) is about 70 KiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
/// CRMs give a webhook 10 to 30 seconds; each API call must leave room for the rest.
pub const DEFAULT_CRM_TIMEOUT_SECS: u64 = 8;
/// Mautic sends at most 10 events per delivery; 100 leaves room and bounds one request's work
/// (CRM API calls included).
pub const DEFAULT_MAX_EVENTS: usize = 100;
/// The highest `max_events` accepted.
pub const MAX_MAX_EVENTS: usize = 10_000;
/// CRMs wait 10 to 30 seconds for an answer and php-fpm usually stops a request at 30 to
/// 120 seconds: a batch stops cleanly well before either.
pub const DEFAULT_TIME_BUDGET_SECS: u64 = 20;
/// The highest `time_budget` accepted.
pub const MAX_TIME_BUDGET_SECS: u64 = 300;
/// The queue's default backoff: 30 s, 2 min, 10 min, 1 h, 6 h, 1 day.
pub const DEFAULT_RETRY_DELAYS_SECS: [u64; 6] = [30, 120, 600, 3600, 21_600, 86_400];
/// The most retry delays accepted.
pub const MAX_RETRY_DELAYS: usize = 20;
/// The longest retry delay accepted: a week.
pub const MAX_RETRY_DELAY_SECS: u64 = 604_800;
/// A queue claim's lease: longer than any one apply (time budget plus CRM calls).
pub const DEFAULT_CLAIM_TIMEOUT_SECS: u64 = 300;
/// The shortest and longest `claim_timeout` accepted.
pub const MIN_CLAIM_TIMEOUT_SECS: u64 = 30;
pub const MAX_CLAIM_TIMEOUT_SECS: u64 = 86_400;
/// Done queue events are kept a month: long enough to answer "what happened to this contact
/// last week", short enough that the table stays small.
pub const DEFAULT_KEEP_DONE_DAYS: u32 = 30;
/// The longest `keep_done_days` accepted: ten years (the row cap still applies).
pub const MAX_KEEP_DONE_DAYS: u32 = 3650;

/// Backpressure defaults (issue 18): a queue holding 100,000 waiting events, or 512 MiB of
/// them, is not being drained (a busy site settles a few hundred a minute); a contact with
/// 1,000 waiting events is a loop or an attack (a real contact changes a few times a minute,
/// and its backlog is coalesced into one apply anyway). Up to these, a webhook is stored.
pub const DEFAULT_MAX_WAITING_EVENTS: u64 = 100_000;
pub const DEFAULT_MAX_WAITING_BYTES: u64 = 512 * 1024 * 1024;
pub const DEFAULT_MAX_WAITING_PER_CONTACT: u64 = 1_000;
/// The bounds the settings accept for those caps.
pub const MAX_MAX_WAITING_EVENTS: u64 = 100_000_000;
pub const MIN_MAX_WAITING_BYTES: u64 = 1024 * 1024;
pub const MAX_MAX_WAITING_BYTES: u64 = 1024 * 1024 * 1024 * 1024;

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
