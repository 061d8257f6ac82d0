//! The functions PHP code calls. Each one converts its arguments once, calls the core, and
//! converts the result back; failures are thrown as `WpfBridge\*Exception`s. Names and shapes
//! are a public contract, documented in `stubs/wpf_bridge.stubs.php`.

use ext_php_rs::binary_slice::BinarySlice;
use ext_php_rs::boxed::ZBox;
use ext_php_rs::convert::IntoZval;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendCallable, ZendHashTable, Zval};
use serde_json::{json, Map, Value};

use super::convert::{map_to_array, to_map, to_request, to_value};
use super::exceptions::php_result;
use super::interfaces::{Adapter, QueueInterface, SiteInterface};
use super::queue::PhpQueue;
use super::site::PhpSite;
use crate::crm::{self, CrmKind};
use crate::error::{Error, Result};
use crate::queue::admin::{
    state_names, CUT_CONTACT_ID_CODE, CUT_CONTACT_ID_MESSAGE, KEEP_DONE_AT_MOST, STALE_AFTER,
};
use crate::queue::workers::{drains, refusals, resident};
use crate::queue::QueueState;
use crate::settings::{
    Processing, Settings, SourceRef, SourceSettings, UsernameFormat, INTEGER_SETTINGS,
    MAX_RETRY_DELAYS, MAX_RETRY_DELAY_SECS,
};
use crate::webhook::mapping::{self, presets, Mapping, Origin};
use crate::webhook::{auth, payload, Request};
use crate::{meta_keys, password, pipeline, queue, sync, text};

/// Registers every function below with the module (the generated wrappers are private to
/// this file, so registration lives here).
pub fn register(module: ModuleBuilder) -> ModuleBuilder {
    module
        .function(wrap_function!(wpf_bridge_version))
        .function(wrap_function!(wpf_bridge_parse_webhook))
        .function(wrap_function!(wpf_bridge_verify_access_key))
        .function(wrap_function!(wpf_bridge_verify_signature))
        .function(wrap_function!(wpf_bridge_generate_access_key))
        .function(wrap_function!(wpf_bridge_generate_password))
        .function(wrap_function!(wpf_bridge_hash_password))
        .function(wrap_function!(wpf_bridge_verify_password))
        .function(wrap_function!(wpf_bridge_handle_webhook))
        .function(wrap_function!(wpf_bridge_handle_queued))
        .function(wrap_function!(wpf_bridge_handle_request))
        .class::<PendingWebhook>()
        .function(wrap_function!(wpf_bridge_planned_processing))
        .function(wrap_function!(wpf_bridge_drain))
        .function(wrap_function!(wpf_bridge_validate_settings))
        .function(wrap_function!(wpf_bridge_crm_test_connection))
        .function(wrap_function!(wpf_bridge_load_contact))
        .function(wrap_function!(wpf_bridge_admin_capabilities))
        .function(wrap_function!(wpf_bridge_rules))
        .function(wrap_function!(wpf_bridge_presets))
        .function(wrap_function!(wpf_bridge_queue_room))
}

/// Returns the extension's version, e.g. "0.1.0".
#[php_function]
pub fn wpf_bridge_version() -> String {
    crate::VERSION.to_string()
}

/// Parses a CRM webhook request into its action, options and contact events.
///
/// `$crm` is a CRM slug (`mautic`, `userengage`), a preset's slug (`activecampaign`,
/// `mailerlite`, `drip`, `convertkit`, `highlevel`: see `wpf_bridge_presets()`) or a mapping
/// array (validated first: a bad one throws `WpfBridge\ConfigurationException` naming the
/// field by its JSON Pointer, code `invalid_mapping`). `$request` holds `method`, `query`,
/// `post`, `headers` (names matched case-insensitively) and `body` (the raw body); any key
/// may be missing. Returns `['action', 'crm', 'options', 'events']`, each event with
/// `contact_id` a string; through a preset or mapping also `ignored` (the items not applied:
/// `item`, `code`, `message`) and `signed` (a mapping with a `signature.secret` verified the
/// body). Throws `WpfBridge\InvalidPayloadException` for bad input and
/// `WpfBridge\AuthenticationException` for a refused signature.
#[php_function]
pub fn wpf_bridge_parse_webhook(crm: &Zval, request: &ZendHashTable) -> PhpResult<Array> {
    php_result(parse_webhook(crm, request))
}

fn parse_webhook(crm: &Zval, request: &ZendHashTable) -> Result<Array> {
    let limit = crate::settings::DEFAULT_MAX_BODY_BYTES;
    let parsed = match webhook_reader(crm)? {
        Reader::Crm(kind) => {
            serde_json::to_value(payload::parse(kind, &to_request(request)?, limit)?)
        }
        Reader::Mapping(mapping) => {
            let now = jiff::Timestamp::now();
            serde_json::to_value(mapping::parse(&mapping, &to_request(request)?, limit, now)?)
        }
    };
    parsed
        .map_err(|e| Error::Site(e.to_string()))
        .and_then(to_array)
}

/// What reads a webhook: a CRM's own parser, or a mapping (a preset's or the caller's).
enum Reader {
    Crm(CrmKind),
    Mapping(Box<Mapping>),
}

fn webhook_reader(crm: &Zval) -> Result<Reader> {
    let crm = crm.dereference();
    if let Some(slug) = crm.str() {
        return reader_for_slug(slug);
    }
    if crm.array().is_some() {
        return Mapping::from_value(&to_value(crm)?, Origin::Site)
            .map(|m| Reader::Mapping(Box::new(m)));
    }
    Err(Error::InvalidArgument {
        name: "crm",
        reason: "must be a CRM or preset slug, or a mapping array".into(),
    })
}

fn reader_for_slug(slug: &str) -> Result<Reader> {
    match CrmKind::from_slug(slug) {
        Ok(kind) => Ok(Reader::Crm(kind)),
        Err(error) => match presets::find(slug) {
            Some(preset) => Ok(Reader::Mapping(Box::new(preset.clone()))),
            None => Err(match error {
                Error::UnknownCrm { given, supported } => Error::UnknownCrm {
                    given,
                    supported: format!("{supported}, or a preset: {}", presets::slugs()),
                },
                other => other,
            }),
        },
    }
}

/// Compares an access key in constant time. An empty expected key never matches.
#[php_function]
pub fn wpf_bridge_verify_access_key(given: BinarySlice<u8>, expected: BinarySlice<u8>) -> bool {
    auth::verify_access_key(&text(&given), &text(&expected))
}

/// Verifies a CRM's webhook signature over the raw body, in constant time: Mautic's
/// `Webhook-Signature` (base64 HMAC-SHA256), or a preset's signature over the body alone
/// (MailerLite's `Signature`: hex HMAC-SHA256). False for a CRM or preset that signs nothing
/// and for an empty secret. Throws for an unknown slug.
#[php_function]
pub fn wpf_bridge_verify_signature(
    crm: &str,
    raw_body: BinarySlice<u8>,
    signature: BinarySlice<u8>,
    secret: BinarySlice<u8>,
) -> PhpResult<bool> {
    let (signature, secret) = (text(&signature), text(&secret));
    match php_result(reader_for_slug(crm))? {
        Reader::Crm(kind) => Ok(auth::verify_signature(kind, &raw_body, &signature, &secret)),
        Reader::Mapping(preset) => Ok(preset.signature.as_ref().is_some_and(|rule| {
            mapping::signature::matches_body(rule, &secret, &raw_body, &signature)
        })),
    }
}

/// A new access key: 192 bits from the OS random source, URL-safe characters only.
#[php_function]
pub fn wpf_bridge_generate_access_key() -> String {
    auth::generate_access_key()
}

/// A password from a CSPRNG: letters and digits, plus WordPress's special characters when
/// `$special_chars`. Lengths outside 12..=128 throw `WpfBridge\ConfigurationException`.
#[php_function]
#[php(defaults(length = 20, special_chars = false))]
pub fn wpf_bridge_generate_password(length: i64, special_chars: bool) -> PhpResult<String> {
    let length = usize::try_from(length).unwrap_or(0);
    php_result(password::generate(length, special_chars))
}

/// argon2id hash in PHP's format and cost (m=65536, t=4, p=1): `password_verify()` accepts it.
#[php_function]
pub fn wpf_bridge_hash_password(password: BinarySlice<u8>) -> PhpResult<String> {
    php_result(password::hash(*password))
}

/// Verifies a password against a PHP argon2id or argon2i hash; any other format is false.
#[php_function]
pub fn wpf_bridge_verify_password(password: BinarySlice<u8>, hash: BinarySlice<u8>) -> bool {
    password::verify(*password, &text(&hash))
}

/// Handles one webhook end to end: authenticates, parses, applies every event through the
/// `$site` adapter and returns `['status' => int, 'body' => array, 'log' => array]`: the
/// answer for the plugin to send and the record for its log (`action`, `crm`, `contact_ids`,
/// `user_ids`, `outcome`, `refused`, `details`), plus `retry_after` (seconds, for the
/// `Retry-After` header) when the error says when to try again. Bad requests and bad settings
/// are answered (4xx/5xx with a code), not thrown.
#[php_function]
pub fn wpf_bridge_handle_webhook(
    request: &ZendHashTable,
    settings: &ZendHashTable,
    site: Adapter<SiteInterface>,
) -> PhpResult<Array> {
    let site = PhpSite::new(site.adapter("wpf_bridge_handle_webhook", 3, "site")?);
    answer_webhook(request, settings, |request, settings| {
        pipeline::handle(request, settings, &site)
    })
}

/// The steps every webhook function shares: the request and settings read once (a request
/// or settings the extension cannot read is refused by `pipeline::refuse`), the flow `run`,
/// and its answer as `['status', 'body', 'log']`.
fn answer_webhook(
    request: &ZendHashTable,
    settings: &ZendHashTable,
    run: impl FnOnce(&Request, &Settings) -> pipeline::Answer,
) -> PhpResult<Array> {
    let answer = match read_webhook(request, settings) {
        Err(refused) => *refused,
        Ok((request, settings)) => run(&request, &settings),
    };
    php_result(answer_array(&answer))
}

/// The request and settings as the core takes them, each read and validated once; the
/// refusal to answer when either cannot be read.
fn read_webhook(
    request: &ZendHashTable,
    settings: &ZendHashTable,
) -> std::result::Result<(Request, Settings), Box<pipeline::Answer>> {
    let request = to_request(request)
        .map_err(|error| Box::new(pipeline::refuse(&error, &Request::default(), None)))?;
    match load_settings(settings) {
        Ok(settings) => Ok((request, settings)),
        Err(error) => Err(Box::new(pipeline::refuse(&error, &request, None))),
    }
}

/// An answer as `['status', 'body', 'log', 'retry_after'?]`.
fn answer_array(answer: &pipeline::Answer) -> Result<Array> {
    serde_json::to_value(answer)
        .map_err(|e| Error::Site(e.to_string()))
        .and_then(to_array)
}

/// The queued flow: authenticates and parses as `wpf_bridge_handle_webhook`, stores every
/// contact event in one write through the `$queue` adapter, then answers at once (`queued`
/// with the events' ids; the drain applies them later) or, in immediate processing, applies
/// them now through `$site`. `$can_answer_early` says whether the server can end the answer
/// before the apply (`fastcgi_finish_request`); without it every webhook is applied now.
/// Same `['status', 'body', 'log']` shape (and `retry_after`), `log` null when the events
/// were stored (their queue rows are the record); a refused request stores nothing (a queue
/// at its caps is 503 `queue_full` with `retry_after`), and a failing adapter is answered with
/// its error, not thrown.
#[php_function]
#[php(defaults(can_answer_early = true))]
pub fn wpf_bridge_handle_queued(
    request: &ZendHashTable,
    settings: &ZendHashTable,
    site: Adapter<SiteInterface>,
    queue: Adapter<QueueInterface>,
    can_answer_early: bool,
) -> PhpResult<Array> {
    let site = PhpSite::new(site.adapter("wpf_bridge_handle_queued", 3, "site")?);
    let queue = PhpQueue::new(queue.adapter("wpf_bridge_handle_queued", 4, "queue")?);
    answer_webhook(request, settings, |request, settings| {
        pipeline::handle_queued(request, settings, &site, &queue, can_answer_early)
    })
}

/// The plugin's one call for a webhook request: the queued flow of `wpf_bridge_handle_queued`
/// (same arguments, same answer array, plus `processing`: `background` or `immediate` when
/// the events were stored), with the request and settings read and validated once.
///
/// `$site_loaded` false says only the options and the database are loaded yet (the plugin's
/// must-use loader): a webhook to be applied in the request (immediate processing,
/// `test`; see `wpf_bridge_planned_processing`) is then not handled but returned as a
/// `WpfBridge\PendingWebhook`, whose `handle($site, $queue)` the plugin calls once the whole
/// site is loaded (`init`). Everything else (background processing, refusals, unreadable
/// request or settings) is answered at once.
#[php_function]
#[php(defaults(can_answer_early = true, site_loaded = true))]
pub fn wpf_bridge_handle_request(
    request: &ZendHashTable,
    settings: &ZendHashTable,
    site: Adapter<SiteInterface>,
    queue: Adapter<QueueInterface>,
    can_answer_early: bool,
    site_loaded: bool,
) -> PhpResult<Zval> {
    let site = site.adapter("wpf_bridge_handle_request", 3, "site")?;
    let queue = queue.adapter("wpf_bridge_handle_request", 4, "queue")?;
    let (request, settings) = match read_webhook(request, settings) {
        Ok(read) => read,
        Err(refused) => return answer_zval(&refused),
    };
    if !site_loaded && pipeline::needs_loaded_site(&request, &settings, can_answer_early) {
        let pending = PendingWebhook {
            request,
            settings,
            can_answer_early,
            handled: false,
        };
        return pending.into_zval(false).map_err(|e| {
            super::exceptions::to_exception(&Error::Site(format!(
                "PHP value conversion failed: {e}"
            )))
        });
    }
    let answer = handle_loaded(&request, &settings, site, queue, can_answer_early);
    answer_zval(&answer)
}

/// A webhook `wpf_bridge_handle_request()` left for when the whole site is loaded, holding
/// the request and settings it read and validated; PHP cannot create one.
#[php_class]
#[php(name = "WpfBridge\\PendingWebhook")]
pub struct PendingWebhook {
    request: Request,
    settings: Settings,
    can_answer_early: bool,
    /// Set by the first `handle()`: a second would store the webhook's events again.
    handled: bool,
}

#[php_impl]
impl PendingWebhook {
    /// Handles the webhook now, as `wpf_bridge_handle_request()` would with the site loaded:
    /// the same answer array, the settings not read again. Once: a second call throws
    /// `WpfBridge\ConfigurationException` (`invalid_argument`) and stores nothing.
    pub fn handle(
        &mut self,
        site: Adapter<SiteInterface>,
        queue: Adapter<QueueInterface>,
    ) -> PhpResult<Array> {
        let site = site.adapter("WpfBridge\\PendingWebhook::handle", 1, "site")?;
        let queue = queue.adapter("WpfBridge\\PendingWebhook::handle", 2, "queue")?;
        if std::mem::replace(&mut self.handled, true) {
            return Err(super::exceptions::to_exception(&Error::InvalidArgument {
                name: "webhook",
                reason: "was already handled: a second handle() would store its events again"
                    .into(),
            }));
        }
        let answer = handle_loaded(
            &self.request,
            &self.settings,
            site,
            queue,
            self.can_answer_early,
        );
        php_result(entry_answer(&answer))
    }
}

/// The queued flow with the whole site loaded, through the plugin's adapters.
fn handle_loaded(
    request: &Request,
    settings: &Settings,
    site: &ext_php_rs::types::ZendObject,
    queue: &ext_php_rs::types::ZendObject,
    can_answer_early: bool,
) -> pipeline::Answer {
    let (site, queue) = (PhpSite::new(site), PhpQueue::new(queue));
    pipeline::handle_queued(request, settings, &site, &queue, can_answer_early)
}

/// The one entry's answer: the answer array, plus `processing` (`background`, `immediate`)
/// when the events were stored.
fn entry_answer(answer: &pipeline::Answer) -> Result<Array> {
    let mut value = serde_json::to_value(answer).map_err(|e| Error::Site(e.to_string()))?;
    if let (Some(processing), Some(object)) = (answer.processing, value.as_object_mut()) {
        object.insert("processing".into(), processing.slug().into());
    }
    to_array(value)
}

/// An answer as the PHP array value `wpf_bridge_handle_request()` returns.
fn answer_zval(answer: &pipeline::Answer) -> PhpResult<Zval> {
    let array = php_result(entry_answer(answer))?;
    let mut zval = Zval::new();
    zval.set_hashtable(array);
    Ok(zval)
}

/// `'background'` or `'immediate'`: how `wpf_bridge_handle_queued` will process this request,
/// known before it is authenticated (the URL's `async` flag, the `processing` setting, whether
/// the server can answer early; `test` is immediate; a request it will refuse is background,
/// refused at once). The plugin's must-use loader answers background webhooks before the rest
/// of WordPress loads and leaves the others for `init`. Unreadable settings are `background`
/// too: `wpf_bridge_handle_queued` refuses them.
#[php_function]
pub fn wpf_bridge_planned_processing(
    request: &ZendHashTable,
    settings: &ZendHashTable,
    can_answer_early: bool,
) -> String {
    let planned = match (to_request(request), load_settings(settings)) {
        (Ok(request), Ok(settings)) => {
            pipeline::planned_processing(&request, &settings, can_answer_early)
        }
        _ => Processing::Background,
    };
    planned.slug().to_string()
}

/// Applies the queue's due events, one contact at a time (lock, claim, coalesce, one apply,
/// settle), until none is due, `$max_contacts` contacts were taken or `$budget_seconds` are
/// spent. `$settings` is the settings array, or a callable returning it: then it is called
/// before each contact, so a change saved during a long drain applies to the next contact,
/// and its `null` stops the drain before the next contact (a worker asked to stop).
/// Returns the drain's report: `contacts`, `applies`, `done`, `retrying`, `failed`, `busy`, and
/// `adapter_calls` (calls from the extension into PHP: adapter methods and the settings callable).
/// Bad settings throw `WpfBridge\ConfigurationException`; a failing adapter or settings
/// callable stops the drain and throws (the events it held are claimed again after their
/// lease).
#[php_function]
pub fn wpf_bridge_drain(
    settings: &Zval,
    site: Adapter<SiteInterface>,
    queue: Adapter<QueueInterface>,
    max_contacts: i64,
    budget_seconds: i64,
) -> PhpResult<Array> {
    let site = PhpSite::new(site.adapter("wpf_bridge_drain", 2, "site")?);
    let queue = PhpQueue::new(queue.adapter("wpf_bridge_drain", 3, "queue")?);
    let limits = queue::Limits {
        budget: std::time::Duration::from_secs(u64::try_from(budget_seconds).unwrap_or(0)),
        max_contacts: usize::try_from(max_contacts).unwrap_or(0),
    };
    let calls_before = super::site::round_trips();
    let report = if settings.is_callable() {
        queue::drain(&queue, &|| current_settings(settings), &site, limits)
    } else {
        let array = settings.array().ok_or_else(|| {
            super::exceptions::to_exception(&Error::InvalidArgument {
                name: "settings",
                reason: "must be an array or a callable returning one".into(),
            })
        })?;
        let fixed = php_result(load_settings(array))?;
        queue::drain(&queue, &|| Ok(Some(fixed.clone())), &site, limits)
    };
    // The calls into PHP this drain made (adapters, settings): the cost the benchmark shows.
    let adapter_calls = super::site::round_trips().wrapping_sub(calls_before);
    php_result(report.and_then(|report| {
        let mut value = serde_json::to_value(report).map_err(|e| Error::Site(e.to_string()))?;
        if let Some(fields) = value.as_object_mut() {
            fields.insert("adapter_calls".into(), adapter_calls.into());
        }
        to_array(value)
    }))
}

/// The settings a drain's callable returns now (see `wpf_bridge_drain`).
fn current_settings(callable: &Zval) -> Result<Option<Settings>> {
    let callable = ZendCallable::new(callable).map_err(|e| Error::InvalidArgument {
        name: "settings",
        reason: format!("is not callable ({e})"),
    })?;
    super::site::count_round_trip();
    let result = callable.try_call(vec![]);
    if let Some(message) = super::site::take_thrown() {
        return Err(Error::Site(format!(
            "the settings callable threw: {message}"
        )));
    }
    let result = result.map_err(|e| Error::Site(format!("the settings callable failed ({e})")))?;
    if result.is_null() {
        return Ok(None);
    }
    match result.array() {
        Some(array) => load_settings(array).map(Some),
        None => Err(Error::InvalidArgument {
            name: "settings",
            reason: "the callable must return an array or null".into(),
        }),
    }
}

/// Validates a settings array and returns it normalised; throws
/// `WpfBridge\ConfigurationException` naming the first wrong key.
#[php_function]
pub fn wpf_bridge_validate_settings(settings: &ZendHashTable) -> PhpResult<Array> {
    let checked = load_settings(settings).and_then(|settings| {
        // The sources' own mappings too: a webhook reads only its own source's.
        crate::webhook::mapping::check_sources(&settings)?;
        map_to_array(&settings.to_map())
    });
    php_result(checked)
}

/// Checks that a CRM's API is reachable and accepts the credentials: the first source's, or
/// with `$source` (a further source's slug: its preset's, or its own mapping's) that
/// source's. Returns `['ok' => bool, 'message' => string]`; a bad setting, or a source the
/// settings do not have, throws.
#[php_function]
pub fn wpf_bridge_crm_test_connection(
    settings: &ZendHashTable,
    source: Option<String>,
) -> PhpResult<Array> {
    let settings = php_result(load_settings(settings))?;
    let (client, name) = php_result(source_client(&settings, source.as_deref()))?;
    let result = match client.test_connection() {
        Ok(()) => json!({"ok": true, "message": format!("Connected to {name}.")}),
        Err(error @ Error::InvalidSetting { .. }) => {
            return Err(super::exceptions::to_exception(&error))
        }
        Err(error) => json!({"ok": false, "message": error.to_string(), "code": error.code()}),
    };
    php_result(to_array(result))
}

/// Loads a contact from the first source's CRM, or with `$source` from that further source's:
/// `['id', 'email', 'fields', 'tags']`. Throws on any failure.
#[php_function]
pub fn wpf_bridge_load_contact(
    settings: &ZendHashTable,
    contact_id: &str,
    source: Option<String>,
) -> PhpResult<Array> {
    php_result(load_settings(settings).and_then(|settings| {
        let (client, _) = source_client(&settings, source.as_deref())?;
        let contact = client.load_contact(contact_id.trim())?;
        to_array(json!({
            "id": contact.id,
            "email": contact.email,
            "fields": contact.fields,
            "tags": contact.tags,
        }))
    }))
}

/// The client of the first source (`None`) or of the further source with this slug, and the
/// name a site owner knows it by.
fn source_client(settings: &Settings, slug: Option<&str>) -> Result<(Box<dyn crm::Crm>, String)> {
    let source = match slug {
        None => SourceRef::First,
        Some(slug) => {
            settings
                .source_by_slug(slug.trim())
                .ok_or_else(|| Error::InvalidArgument {
                    name: "source",
                    reason: format!(
                        "names no source of these settings; they have {}",
                        settings.source_slugs()
                    ),
                })?
        }
    };
    let name = match source {
        SourceRef::First => settings.crm.display_name().to_string(),
        SourceRef::Further(further) => further.display_name(),
    };
    Ok((crm::for_source(settings, source), name))
}

/// The capabilities that make a role administrative: a webhook never gives a role holding
/// one unless the site owner allows it, and never changes a user holding one.
#[php_function]
pub fn wpf_bridge_admin_capabilities() -> Vec<String> {
    sync::users::ADMIN_CAPABILITIES
        .iter()
        .map(|c| c.to_string())
        .collect()
}

/// The rules the plugin needs to show and store settings, so it keeps no copy of its own:
/// `crms` (slug => `name`, `url_setting`, `url_example`, `contact_id_meta_key`,
/// `tags_meta_key`), `username_formats` (value => label), `core_user_fields` (the fields
/// `wp_insert_user` takes; any other mapped name is a user meta key), `protected_meta_keys`
/// (`keys`, `suffixes`, `prefixes` a field map may never name, besides each CRM's link and
/// tag keys), `settings` (every key the extension reads => its default; optional text is
/// `''`), `processing_modes` (value => what the mode does) and `queue`: `states` (name =>
/// label), `retry_states` and `discard_states` (what an administrator's Retry and Discard may
/// touch), `waiting_states`, `stale_after_seconds` (a waiting event older than this is a Site
/// Health problem), `keep_done_at_most` (the cap on done events), `prune_states` (the states
/// retention deletes by age), `load_max_age_seconds` (how old the queue's waiting totals may
/// be) and `cut_contact_id` (`code`, `message`: what the schema upgrade fails rows whose
/// contact id the database cut with); `worker` (how a drain is bounded: `max_contacts`,
/// `round_pause_seconds` between a draining request's rounds, `handover_token_seconds`, and
/// the command line's `run_budget_seconds`), `resident` (`run --loop`: its default `bounds` by
/// option name, `round_seconds`, `heartbeat_every_seconds`, `heartbeat_stale_seconds`,
/// `restart_within_seconds`) and `refusals` (the refusal counters: `bucket_seconds`,
/// `max_buckets`).
#[php_function]
pub fn wpf_bridge_rules() -> PhpResult<Array> {
    php_result(to_array(rules()))
}

/// What `wpf_bridge_rules()` returns, as JSON text: the module's constant
/// `WPF_BRIDGE_RULES_JSON`, which the plugin decodes instead of calling the function, so a
/// webhook's one call into the extension stays one (its queue adapter needs the waiting
/// states while the extension stores the events).
pub fn rules_json() -> String {
    rules().to_string()
}

/// The rules `wpf_bridge_rules()` documents, built once for both doors.
fn rules() -> Value {
    let crms: Map<String, Value> = CrmKind::ALL
        .iter()
        .map(|kind| {
            let (url_setting, url_example) = kind.url_setting();
            let rules = json!({
                "name": kind.display_name(),
                "url_setting": url_setting,
                "url_example": url_example,
                "contact_id_meta_key": kind.contact_id_meta_key(),
                "tags_meta_key": kind.tags_meta_key(),
            });
            (kind.slug().to_string(), rules)
        })
        .collect();
    let username_formats: Map<String, Value> = UsernameFormat::ALL
        .iter()
        .map(|format| (format.slug().to_string(), format.label().into()))
        .collect();
    // Every setting with its default, a value of the type the plugin stores (unset text: "").
    let stored_defaults = |value: Value| -> Map<String, Value> {
        let Value::Object(map) = value else {
            return Map::new();
        };
        map.into_iter()
            .map(|(key, value)| match value {
                Value::Null => (key, Value::String(String::new())),
                value => (key, value),
            })
            .collect()
    };
    let defaults = stored_defaults(Value::Object(Settings::default().to_map()));
    let source_defaults =
        stored_defaults(serde_json::to_value(SourceSettings::default()).unwrap_or_default());
    let ranges: Map<String, Value> = INTEGER_SETTINGS
        .iter()
        .map(|setting| (setting.key.to_string(), json!(setting)))
        .collect();
    let bidi_controls: Vec<[u32; 2]> = text::BIDI_CONTROLS
        .iter()
        .map(|(first, last)| [u32::from(*first), u32::from(*last)])
        .collect();
    let processing_modes: Map<String, Value> = Processing::ALL
        .iter()
        .map(|mode| (mode.slug().to_string(), mode.label().into()))
        .collect();
    let states: Map<String, Value> = QueueState::ALL
        .iter()
        .map(|state| (state.as_str().to_string(), state.label().into()))
        .collect();
    json!({
        "crms": crms,
        // The user meta of any source's slug, `{slug}` to be replaced (the one rule,
        // `crm_kind::contact_id_meta_key_of` / `tags_meta_key_of`).
        "source_meta_keys": {
            "contact_id": crate::crm_kind::contact_id_meta_key_of("{slug}"),
            "tags": crate::crm_kind::tags_meta_key_of("{slug}"),
        },
        "username_formats": username_formats,
        "core_user_fields": sync::fields::CORE_USER_FIELDS,
        "protected_meta_keys": {
            "keys": meta_keys::PROTECTED_META_KEYS,
            "suffixes": meta_keys::PROTECTED_META_SUFFIXES,
            "prefixes": meta_keys::PROTECTED_META_PREFIXES,
        },
        "settings": defaults,
        "source_settings": source_defaults,
        "ranges": ranges,
        "retry_delays": {
            "most": MAX_RETRY_DELAYS,
            "min": 1,
            "max": MAX_RETRY_DELAY_SECS,
        },
        "bidi_controls": bidi_controls,
        "processing_modes": processing_modes,
        "queue": {
            "states": states,
            "retry_states": state_names(QueueState::admin_may_retry),
            "discard_states": state_names(QueueState::admin_may_discard),
            "waiting_states": state_names(QueueState::is_waiting),
            "stale_after_seconds": STALE_AFTER.as_secs(),
            "keep_done_at_most": KEEP_DONE_AT_MOST,
            "prune_states": state_names(QueueState::is_pruned),
            "load_max_age_seconds": queue::room::LOAD_MAX_AGE.as_secs(),
            "cut_contact_id": {
                "code": CUT_CONTACT_ID_CODE,
                "message": CUT_CONTACT_ID_MESSAGE,
            },
        },
        "worker": {
            "max_contacts": drains::MAX_CONTACTS,
            "round_pause_seconds": drains::ROUND_PAUSE.as_secs_f64(),
            "handover_token_seconds": drains::HANDOVER_TOKEN_TTL.as_secs(),
            "run_budget_seconds": drains::RUN_BUDGET.as_secs(),
        },
        "resident": {
            "bounds": {
                "max-contacts": resident::MAX_CONTACTS,
                "max-memory": resident::MAX_MEMORY_MIB,
                "max-seconds": resident::MAX_LIFETIME.as_secs(),
                "idle-sleep": resident::IDLE_SLEEP.as_secs(),
            },
            "round_seconds": resident::ROUND.as_secs(),
            "heartbeat_every_seconds": resident::HEARTBEAT_EVERY.as_secs(),
            "heartbeat_stale_seconds": resident::HEARTBEAT_STALE.as_secs(),
            "restart_within_seconds": resident::RESTART_WITHIN.as_secs(),
        },
        "refusals": {
            "bucket_seconds": refusals::BUCKET.as_secs(),
            "max_buckets": refusals::MAX_BUCKETS,
        },
    })
}

/// The presets: slug => `name`, `mapping` (the mapping array `wpf_bridge_parse_webhook()`
/// accepts; add `signature.secret` to use a signed one), `contact_id_meta_key` and
/// `tags_meta_key` (WP Fusion's user meta), `signature_header` (null when the CRM signs
/// nothing), `complete` (false: the payload is an id, the rest comes from the CRM's API) and
/// `api_client` (whether the extension can load its contacts: ActiveCampaign and MailerLite).
#[php_function]
pub fn wpf_bridge_presets() -> PhpResult<Array> {
    let listed: Map<String, Value> = presets::all()
        .iter()
        .map(|preset| {
            let rules = json!({
                "name": preset.display_name(),
                "mapping": preset.to_value(),
                "contact_id_meta_key": crate::crm_kind::contact_id_meta_key_of(&preset.slug),
                "tags_meta_key": crate::crm_kind::tags_meta_key_of(&preset.slug),
                "signature_header": preset.signature.as_ref().map(|rule| rule.header.clone()),
                "complete": preset.complete,
                "api_client": CrmKind::of_preset(&preset.slug).is_some(),
            });
            (preset.slug.clone(), rules)
        })
        .collect();
    php_result(map_to_array(&listed))
}

/// Whether the queue has room for one more webhook under the caps of `$settings`
/// (`max_waiting_events`, `max_waiting_bytes`), given `$events` waiting events of `$bytes`
/// bytes: `null` when it has, else the `queue_full` sentence a webhook gets (Site Health turns
/// critical with it). Bad settings throw `WpfBridge\ConfigurationException`.
#[php_function]
pub fn wpf_bridge_queue_room(
    settings: &ZendHashTable,
    events: i64,
    bytes: i64,
) -> PhpResult<Option<String>> {
    php_result(load_settings(settings).map(|settings| {
        let load = queue::Load {
            events: u64::try_from(events).unwrap_or(0),
            bytes: u64::try_from(bytes).unwrap_or(0),
        };
        queue::room::check_totals(load, 1, 0, &settings)
            .err()
            .map(|error| error.to_string())
    }))
}

fn load_settings(settings: &ZendHashTable) -> Result<Settings> {
    Settings::from_map(&to_map(settings, "settings")?)
}

/// A PHP array, as every function here returns.
type Array = ZBox<ZendHashTable>;

fn to_array(value: Value) -> Result<Array> {
    match value {
        Value::Object(map) => map_to_array(&map),
        _ => map_to_array(&Map::new()),
    }
}

/// A string argument as text; bytes that are not UTF-8 are replaced, never rejected.
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
