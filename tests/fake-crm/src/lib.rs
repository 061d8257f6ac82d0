//! A loopback HTTP server that speaks the Mautic, User.com, ActiveCampaign (v3) and
//! MailerLite REST APIs the way wpf-bridge's
//! CRM clients (`src/crm/`) use them, for the Rust integration tests and, through its
//! `/_control/` API and the `fake-crm` binary, for the PHP end-to-end tests.
//!
//! ```no_run
//! use fake_crm::{CrmApi, FakeCrm};
//! use serde_json::json;
//!
//! let crm = FakeCrm::start();
//! let id = crm.add_mautic_contact(json!({"fields": {"all": {"email": "a@b.c"}}}));
//! // point a client at crm.mautic_url() with crm.credentials() ... then:
//! let fields = crm.contact_fields(CrmApi::Mautic, id).unwrap();
//! let last = crm.requests().pop().unwrap();
//! assert_eq!(last.header("authorization"), Some("Bearer mautic-token"));
//! # let _ = fields;
//! ```
//!
//! Layout: `wire` reads and writes HTTP/1.1, `mautic`, `userengage`, `activecampaign` and
//! `mailerlite` answer their API's paths from the shared [`State`], `control` answers
//! `/_control/`. Every connection gets its
//! own thread and is closed after one response; requests and bodies are size-bounded; nothing
//! a client sends can panic the server (a handler panic becomes a 500).

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use serde_json::{json, Map, Value};

mod activecampaign;
mod control;
mod mailerlite;
mod mautic;
mod userengage;
mod wire;

/// Path prefix of the Mautic API: `mautic_url()` is `http://127.0.0.1:PORT/mautic`.
pub const MAUTIC_PREFIX: &str = "/mautic";
/// Path prefix of the User.com API: `userengage_url()` ends in `/userengage/api/public/`.
pub const USERENGAGE_PREFIX: &str = "/userengage/api/public";
/// Path prefix of the ActiveCampaign API: `activecampaign_url()` (the account URL, to which
/// clients append `/api/3`) is `http://127.0.0.1:PORT/activecampaign`.
pub const ACTIVECAMPAIGN_PREFIX: &str = "/activecampaign";
/// Path prefix of the MailerLite API: `mailerlite_url()` ends in `/mailerlite/api`.
pub const MAILERLITE_PREFIX: &str = "/mailerlite/api";
/// Path prefix of the control API.
pub const CONTROL_PREFIX: &str = "/_control";

/// How many requests are kept (the oldest are dropped first).
const MAX_RECORDED: usize = 10_000;

/// Which of the APIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrmApi {
    Mautic,
    UserEngage,
    ActiveCampaign,
    MailerLite,
}

/// The credentials the fake accepts. An empty string switches that method off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Mautic Basic auth user (`Authorization: Basic base64(user:password)`).
    pub mautic_username: String,
    pub mautic_password: String,
    /// Mautic OAuth2 access token (`Authorization: Bearer TOKEN`).
    pub mautic_token: String,
    /// User.com key (`Authorization: Token KEY`).
    pub userengage_key: String,
    /// ActiveCampaign API key (`Api-Token: KEY`).
    pub activecampaign_token: String,
    /// MailerLite API token (`Authorization: Bearer TOKEN`).
    pub mailerlite_token: String,
}

impl Default for Credentials {
    /// `mautic-user` / `mautic-password`, token `mautic-token`, User.com key `userengage-key`,
    /// `activecampaign-token`, `mailerlite-token`.
    fn default() -> Self {
        Credentials {
            mautic_username: "mautic-user".to_string(),
            mautic_password: "mautic-password".to_string(),
            mautic_token: "mautic-token".to_string(),
            userengage_key: "userengage-key".to_string(),
            activecampaign_token: "activecampaign-token".to_string(),
            mailerlite_token: "mailerlite-token".to_string(),
        }
    }
}

/// One API request as the fake received it (control requests are not recorded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    /// The full path, prefix included: `/mautic/api/contacts/52`.
    pub path: String,
    /// The raw query string without `?`, not decoded; see [`RecordedRequest::query_param`].
    pub query: String,
    /// Header names lowercased, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// A header's value by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A query parameter, decoded as PHP would (`+` is a space).
    pub fn query_param(&self, name: &str) -> Option<String> {
        wire::query_param(&self.query, name)
    }

    /// The body parsed as JSON, when it is JSON.
    pub fn body_json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The body as text (lossy).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The JSON form served by `GET /_control/requests`.
    pub fn to_json(&self) -> Value {
        let headers: Map<String, Value> = self
            .headers
            .iter()
            .map(|(n, v)| (n.clone(), Value::String(v.clone())))
            .collect();
        json!({
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": headers,
            "body": self.body_text(),
        })
    }
}

/// A scripted answer that replaces the next API request's real one.
#[derive(Debug, Clone)]
enum Scripted {
    /// The CRM's error JSON with this status, and this `Retry-After` header when given.
    Fail {
        status: u16,
        retry_after: Option<String>,
    },
    /// Exactly this status and body.
    Raw { status: u16, body: String },
}

/// Everything the fake knows; shared by all connection threads.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub mautic: BTreeMap<u64, Value>,
    pub userengage: BTreeMap<u64, Value>,
    /// ActiveCampaign contacts in their stored form (see `activecampaign`).
    pub activecampaign: BTreeMap<u64, Value>,
    pub(crate) activecampaign_registry: activecampaign::Registry,
    /// MailerLite subscribers as the API answers them.
    pub mailerlite: BTreeMap<u64, Value>,
    pub requests: VecDeque<RecordedRequest>,
    scripted: VecDeque<Scripted>,
    delays: VecDeque<Duration>,
    pub credentials: Credentials,
}

impl State {
    /// Stores a contact or user, assigning an id when it has none; returns the id.
    pub fn insert(&mut self, api: CrmApi, mut record: Value) -> Result<u64, String> {
        // Accept the whole `GET /api/contacts/{id}` answer as well as its `contact`.
        if let Some(inner) = record.get("contact").filter(|c| c.is_object()) {
            record = inner.clone();
        }
        // And MailerLite's `{"data": subscriber}`.
        if api == CrmApi::MailerLite {
            if let Some(inner) = record.get("data").filter(|c| c.is_object()) {
                record = inner.clone();
            }
        }
        let store = match api {
            CrmApi::Mautic => &mut self.mautic,
            CrmApi::UserEngage => &mut self.userengage,
            CrmApi::ActiveCampaign => &mut self.activecampaign,
            CrmApi::MailerLite => &mut self.mailerlite,
        };
        let Some(object) = record.as_object_mut() else {
            return Err("a contact must be a JSON object".to_string());
        };
        let id = match object.get("id").and_then(id_of) {
            Some(id) => id,
            None => store.keys().next_back().map_or(1, |last| last + 1),
        };
        match api {
            CrmApi::ActiveCampaign => {
                activecampaign::register(&mut self.activecampaign_registry, object)?;
                object.insert("id".to_string(), json!(id));
            }
            CrmApi::MailerLite => mailerlite::complete(id, object)?,
            _ => {
                object.insert("id".to_string(), json!(id));
            }
        }
        store.insert(id, record);
        Ok(id)
    }

    pub fn reset(&mut self) {
        self.mautic.clear();
        self.userengage.clear();
        self.activecampaign.clear();
        self.activecampaign_registry = activecampaign::Registry::default();
        self.mailerlite.clear();
        self.requests.clear();
        self.scripted.clear();
        self.delays.clear();
    }

    /// Loads a seed document: `{"mautic": [contact, ...], "userengage": [user, ...],
    /// "activecampaign": [contact, ...], "mailerlite": [subscriber, ...]}`.
    pub fn seed(&mut self, seed: &Value) -> Result<(), String> {
        for (key, api) in [
            ("mautic", CrmApi::Mautic),
            ("userengage", CrmApi::UserEngage),
            ("activecampaign", CrmApi::ActiveCampaign),
            ("mailerlite", CrmApi::MailerLite),
        ] {
            match seed.get(key) {
                None | Some(Value::Null) => {}
                Some(Value::Array(items)) => {
                    for item in items {
                        self.insert(api, item.clone())?;
                    }
                }
                Some(_) => return Err(format!("\"{key}\" must be a list of contacts")),
            }
        }
        Ok(())
    }
}

/// A contact id from JSON: a non-negative integer or a string of digits.
pub(crate) fn id_of(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub(crate) type Shared = Arc<Mutex<State>>;

/// Locks the state; a handler that panicked while holding the lock does not poison the fake.
pub(crate) fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    shared
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The running server. Dropping it stops the server.
pub struct FakeCrm {
    shared: Shared,
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl FakeCrm {
    /// Starts on an ephemeral port of 127.0.0.1 with the default [`Credentials`].
    ///
    /// # Panics
    /// When no loopback port can be bound (a broken test machine); use [`FakeCrm::start_on`]
    /// to handle that.
    pub fn start() -> FakeCrm {
        match FakeCrm::start_on(0) {
            Ok(crm) => crm,
            Err(e) => panic!("fake-crm: cannot listen on 127.0.0.1: {e}"),
        }
    }

    /// Starts on `port` of 127.0.0.1 (0 picks a free one) with the default [`Credentials`].
    pub fn start_on(port: u16) -> io::Result<FakeCrm> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))?;
        let addr = listener.local_addr()?;
        let shared: Shared = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let acceptor = {
            let shared = shared.clone();
            let stop = stop.clone();
            thread::Builder::new()
                .name("fake-crm-accept".to_string())
                .spawn(move || accept_loop(&listener, &shared, &stop))?
        };
        Ok(FakeCrm {
            shared,
            addr,
            stop,
            acceptor: Some(acceptor),
        })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT/mautic`: the `mautic_url` setting.
    pub fn mautic_url(&self) -> String {
        format!("{}{MAUTIC_PREFIX}", self.base_url())
    }

    /// `http://127.0.0.1:PORT/userengage/api/public/`: the `userengage_url` setting.
    pub fn userengage_url(&self) -> String {
        format!("{}{USERENGAGE_PREFIX}/", self.base_url())
    }

    /// `http://127.0.0.1:PORT/activecampaign`: the ActiveCampaign account URL (clients
    /// append `/api/3`).
    pub fn activecampaign_url(&self) -> String {
        format!("{}{ACTIVECAMPAIGN_PREFIX}", self.base_url())
    }

    /// `http://127.0.0.1:PORT/mailerlite/api`: the MailerLite API address.
    pub fn mailerlite_url(&self) -> String {
        format!("{}{MAILERLITE_PREFIX}", self.base_url())
    }

    /// `http://127.0.0.1:PORT/_control`
    pub fn control_url(&self) -> String {
        format!("{}{CONTROL_PREFIX}", self.base_url())
    }

    /// Stores a Mautic contact: the `contact` object of `GET /api/contacts/{id}` (or that
    /// whole answer). Without an `id`, the next free one is assigned. Returns the id.
    ///
    /// # Panics
    /// When `contact` is not a JSON object (a mistake in the test).
    pub fn add_mautic_contact(&self, contact: Value) -> u64 {
        self.add(CrmApi::Mautic, contact)
    }

    /// Stores a User.com user (the object `GET users/{id}/` answers). Returns the id.
    ///
    /// # Panics
    /// When `user` is not a JSON object (a mistake in the test).
    pub fn add_userengage_user(&self, user: Value) -> u64 {
        self.add(CrmApi::UserEngage, user)
    }

    /// Stores an ActiveCampaign contact in the fake's form: `{"id"?, "email", "firstName",
    /// "lastName", "phone", "tags": [name, ...], "fields": {PERSTAG: value}}`; its tags and
    /// fields are registered with the account. Returns the id.
    ///
    /// # Panics
    /// When `contact` is not of that form (a mistake in the test).
    pub fn add_activecampaign_contact(&self, contact: Value) -> u64 {
        self.add(CrmApi::ActiveCampaign, contact)
    }

    /// Registers an ActiveCampaign custom field (or finds it by perstag); returns its id.
    pub fn add_activecampaign_field(&self, perstag: &str, title: &str) -> u64 {
        lock(&self.shared)
            .activecampaign_registry
            .field_id(perstag, title) as u64
    }

    /// Registers an ActiveCampaign tag (or finds it); returns its id.
    pub fn add_activecampaign_tag(&self, name: &str) -> u64 {
        lock(&self.shared).activecampaign_registry.tag_id(name) as u64
    }

    /// Stores a MailerLite subscriber (the `data` object of `GET subscribers/{id}`, or that
    /// whole answer). Returns the id.
    ///
    /// # Panics
    /// When `subscriber` is not a JSON object with object `fields` and list `groups`.
    pub fn add_mailerlite_subscriber(&self, subscriber: Value) -> u64 {
        self.add(CrmApi::MailerLite, subscriber)
    }

    fn add(&self, api: CrmApi, record: Value) -> u64 {
        match lock(&self.shared).insert(api, record) {
            Ok(id) => id,
            Err(e) => panic!("fake-crm: {e}"),
        }
    }

    /// The stored Mautic contact, as updated by the requests so far.
    pub fn mautic_contact(&self, id: u64) -> Option<Value> {
        lock(&self.shared).mautic.get(&id).cloned()
    }

    /// The stored User.com user, as updated by the requests so far.
    pub fn userengage_user(&self, id: u64) -> Option<Value> {
        lock(&self.shared).userengage.get(&id).cloned()
    }

    /// A contact's fields after the updates so far: Mautic's `fields.all` (alias to value);
    /// for User.com the scalar top-level keys plus `attributes[]` as `name_std` to value; for
    /// ActiveCampaign the standard keys plus the custom fields by perstag; for MailerLite
    /// `fields` plus `email`.
    pub fn contact_fields(&self, api: CrmApi, id: u64) -> Option<Map<String, Value>> {
        let state = lock(&self.shared);
        match api {
            CrmApi::Mautic => state.mautic.get(&id).map(mautic::fields_of),
            CrmApi::UserEngage => state.userengage.get(&id).map(userengage::fields_of),
            CrmApi::ActiveCampaign => state.activecampaign.get(&id).map(activecampaign::fields_of),
            CrmApi::MailerLite => state.mailerlite.get(&id).map(mailerlite::fields_of),
        }
    }

    /// A contact's tag names after the updates so far.
    pub fn contact_tags(&self, api: CrmApi, id: u64) -> Option<Vec<String>> {
        let state = lock(&self.shared);
        let (record, list, key) = match api {
            CrmApi::Mautic => (state.mautic.get(&id), "tags", Some("tag")),
            CrmApi::UserEngage => (state.userengage.get(&id), "tags", Some("name")),
            // Stored as plain names.
            CrmApi::ActiveCampaign => (state.activecampaign.get(&id), "tags", None),
            CrmApi::MailerLite => (state.mailerlite.get(&id), "groups", Some("name")),
        };
        Some(
            record?
                .get(list)
                .and_then(Value::as_array)
                .map(|tags| {
                    tags.iter()
                        .filter_map(|t| match key {
                            Some(key) => t.get(key).and_then(Value::as_str),
                            None => t.as_str(),
                        })
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
        )
    }

    /// Every API request received so far, oldest first (control requests excluded).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared).requests.iter().cloned().collect()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        lock(&self.shared).requests.clear();
    }

    /// The next `count` API requests get `status` with the CRM's error JSON (Mautic's
    /// `{"errors":[{message, code, type}]}`, User.com's `{"detail": ...}`, ActiveCampaign's and
    /// MailerLite's `{"message": ...}`; a 429 carries `Retry-After: 60`), whatever their path
    /// or credentials.
    pub fn fail_next(&self, status: u16, count: usize) {
        let retry_after = (status == 429).then(|| "60".to_string());
        self.script(
            Scripted::Fail {
                status,
                retry_after,
            },
            count,
        );
    }

    /// As [`FakeCrm::fail_next`], with `Retry-After: {retry_after}` (seconds or an HTTP-date,
    /// sent as given).
    ///
    /// # Panics
    /// When `retry_after` cannot be a header value (a mistake in the test).
    pub fn fail_next_retry_after(&self, status: u16, retry_after: &str, count: usize) {
        assert!(
            header_safe(retry_after),
            "fake-crm: {retry_after:?} cannot be a header value"
        );
        let retry_after = Some(retry_after.to_string());
        self.script(
            Scripted::Fail {
                status,
                retry_after,
            },
            count,
        );
    }

    fn script(&self, scripted: Scripted, count: usize) {
        lock(&self.shared)
            .scripted
            .extend(std::iter::repeat_n(scripted, count));
    }

    /// The next `count` API requests get exactly `status` and `body` (as `application/json`,
    /// even when it is not JSON: for testing bad answers).
    pub fn respond_next(&self, status: u16, body: &str, count: usize) {
        let body = body.to_string();
        self.script(Scripted::Raw { status, body }, count);
    }

    /// The next `count` API requests wait `delay` before being answered (for timeouts).
    pub fn delay_next(&self, delay: Duration, count: usize) {
        lock(&self.shared)
            .delays
            .extend(std::iter::repeat_n(delay, count));
    }

    /// Replaces the accepted credentials.
    pub fn set_credentials(&self, credentials: Credentials) {
        lock(&self.shared).credentials = credentials;
    }

    /// The accepted credentials.
    pub fn credentials(&self) -> Credentials {
        lock(&self.shared).credentials.clone()
    }

    /// Forgets contacts, users, requests and scripted answers; keeps the credentials.
    pub fn reset(&self) {
        lock(&self.shared).reset();
    }

    /// Loads a seed document (see [`State::seed`]'s keys).
    pub fn seed(&self, seed: &Value) -> Result<(), String> {
        lock(&self.shared).seed(seed)
    }
}

impl Drop for FakeCrm {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the acceptor so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Shared, stop: &AtomicBool) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else {
            // Out of file descriptors and the like: back off instead of spinning.
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        let shared = shared.clone();
        // If no thread can be spawned the connection is dropped, as an overloaded server would.
        let _ = thread::Builder::new()
            .name("fake-crm-conn".to_string())
            .spawn(move || handle_connection(stream, &shared));
    }
}

fn handle_connection(mut stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
    let response = match wire::read_request(&mut stream) {
        Ok(request) => catch_unwind(AssertUnwindSafe(|| dispatch(&request, shared)))
            .unwrap_or_else(|_| {
                wire::Response::json(500, &json!({"error": "fake-crm handler panicked"}))
            }),
        Err(response) => response,
    };
    wire::write_response(&mut stream, &response);
}

/// Routes a request: control API, else record it, apply scripted delays and answers, then the
/// CRM's own handler. Paths outside both APIs get a web server's HTML 404.
fn dispatch(request: &wire::Request, shared: &Shared) -> wire::Response {
    if let Some(rest) = strip_prefix(&request.path, CONTROL_PREFIX) {
        return control::handle(request, rest, shared);
    }
    let api = if strip_prefix(&request.path, MAUTIC_PREFIX).is_some() {
        Some(CrmApi::Mautic)
    } else if strip_prefix(&request.path, USERENGAGE_PREFIX).is_some() {
        Some(CrmApi::UserEngage)
    } else if strip_prefix(&request.path, ACTIVECAMPAIGN_PREFIX).is_some() {
        Some(CrmApi::ActiveCampaign)
    } else if strip_prefix(&request.path, MAILERLITE_PREFIX).is_some() {
        Some(CrmApi::MailerLite)
    } else {
        None
    };

    let (delay, scripted) = {
        let mut state = lock(shared);
        if state.requests.len() >= MAX_RECORDED {
            state.requests.pop_front();
        }
        state.requests.push_back(RecordedRequest {
            method: request.method.clone(),
            path: request.path.clone(),
            query: request.query.clone(),
            headers: request.headers.clone(),
            body: request.body.clone(),
        });
        (state.delays.pop_front(), state.scripted.pop_front())
    };
    if let Some(delay) = delay {
        thread::sleep(delay);
    }
    match (scripted, api) {
        (Some(Scripted::Raw { status, body }), _) => {
            wire::Response::raw(status, "application/json", body)
        }
        (
            Some(Scripted::Fail {
                status,
                retry_after,
            }),
            api,
        ) => {
            let response = match api {
                Some(CrmApi::UserEngage) => userengage::error(status, "Scripted failure."),
                Some(CrmApi::ActiveCampaign) => activecampaign::error(status, "Scripted failure."),
                Some(CrmApi::MailerLite) => mailerlite::error(status, "Scripted failure."),
                _ => mautic::error(status, "Scripted failure."),
            };
            match retry_after {
                Some(value) => response.with_header("Retry-After", &value),
                None => response,
            }
        }
        (None, Some(CrmApi::Mautic)) => {
            let rest = strip_prefix(&request.path, MAUTIC_PREFIX).unwrap_or("");
            mautic::handle(request, rest, shared)
        }
        (None, Some(CrmApi::UserEngage)) => {
            let rest = strip_prefix(&request.path, USERENGAGE_PREFIX).unwrap_or("");
            userengage::handle(request, rest, shared)
        }
        (None, Some(CrmApi::ActiveCampaign)) => {
            let rest = strip_prefix(&request.path, ACTIVECAMPAIGN_PREFIX).unwrap_or("");
            activecampaign::handle(request, rest, shared)
        }
        (None, Some(CrmApi::MailerLite)) => {
            let rest = strip_prefix(&request.path, MAILERLITE_PREFIX).unwrap_or("");
            mailerlite::handle(request, rest, shared)
        }
        (None, None) => wire::Response::raw(
            404,
            "text/html",
            "<!DOCTYPE html><html><body><h1>Not Found</h1></body></html>",
        ),
    }
}

/// Printable ASCII only: a value that can go into a header line as it is.
pub(crate) fn header_safe(value: &str) -> bool {
    value.bytes().all(|b| b == b' ' || b.is_ascii_graphic())
}

/// `rest` of `path` after `prefix`, only at a segment boundary (`/mautic` but not `/mauticx`).
fn strip_prefix<'a>(path: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = path.strip_prefix(prefix)?;
    (rest.is_empty() || rest.starts_with('/')).then_some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// Sends raw bytes, returns the whole answer.
    fn answer(crm: &FakeCrm, raw: &[u8]) -> String {
        let mut stream = TcpStream::connect(crm.addr).expect("connect");
        stream.write_all(raw).expect("write");
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
    }

    /// Sends raw bytes, returns (status, body).
    fn exchange(crm: &FakeCrm, raw: &[u8]) -> (u16, String) {
        let answer = answer(crm, raw);
        let status = answer
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = answer
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
    }

    fn request(crm: &FakeCrm, method: &str, path: &str, headers: &str, body: &str) -> (u16, Value) {
        let raw = format!(
            "{method} {path} HTTP/1.1\r\nHost: x\r\n{headers}Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let (status, body) = exchange(crm, raw.as_bytes());
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    #[test]
    fn control_api_programs_the_fake() {
        let crm = FakeCrm::start();
        let (status, created) = request(
            &crm,
            "POST",
            "/_control/mautic/contacts",
            "",
            r#"{"contact": {"id": 52, "fields": {"all": {"email": "a@b.c"}}}}"#,
        );
        assert_eq!((status, created), (201, json!({"id": 52})));
        let (status, user) = request(
            &crm,
            "POST",
            "/_control/userengage/users",
            "",
            r#"{"email": "u@b.c"}"#,
        );
        assert_eq!((status, user), (201, json!({"id": 1})));
        assert_eq!(
            request(&crm, "GET", "/_control/mautic/contacts/52", "", "").1["id"],
            json!(52)
        );
        assert_eq!(
            request(&crm, "GET", "/_control/mautic/contacts/9", "", "").0,
            404
        );

        let auth = "Authorization: Bearer mautic-token\r\n";
        let (status, found) = request(&crm, "GET", "/mautic/api/contacts/52", auth, "");
        assert_eq!(status, 200);
        assert_eq!(
            found.pointer("/contact/fields/all/email"),
            Some(&json!("a@b.c"))
        );
        let (status, _) = request(&crm, "GET", "/mautic/api/contacts/52", "", "");
        assert_eq!(status, 401);

        assert_eq!(
            request(
                &crm,
                "POST",
                "/_control/fail",
                "",
                r#"{"status": 503, "count": 1}"#
            )
            .0,
            200
        );
        assert_eq!(
            request(&crm, "GET", "/mautic/api/contacts/52", auth, "").0,
            503
        );
        assert_eq!(
            request(&crm, "GET", "/mautic/api/contacts/52", auth, "").0,
            200
        );

        let (status, recorded) = request(&crm, "GET", "/_control/requests", "", "");
        assert_eq!(status, 200);
        assert_eq!(recorded.as_array().map(Vec::len), Some(4));
        assert_eq!(
            recorded[0]["headers"]["authorization"],
            json!("Bearer mautic-token")
        );

        let creds = r#"{"mautic_token": "other"}"#;
        assert_eq!(
            request(&crm, "POST", "/_control/credentials", "", creds).0,
            200
        );
        assert_eq!(crm.credentials().mautic_token, "other");
        assert_eq!(request(&crm, "POST", "/_control/reset", "", "").0, 200);
        assert!(crm.requests().is_empty() && crm.mautic_contact(52).is_none());
        assert_eq!(request(&crm, "POST", "/_control/nope", "", "").0, 404);
        assert_eq!(
            request(&crm, "POST", "/_control/fail", "", "{not json").0,
            400
        );
    }

    #[test]
    fn scripted_failures_send_retry_after() {
        let crm = FakeCrm::start();
        let fail = |spec: &str| request(&crm, "POST", "/_control/fail", "", spec).0;
        let retry_after = || {
            let answer = answer(&crm, b"GET /mautic/api/contacts/1 HTTP/1.1\r\n\r\n");
            let (head, _) = answer.split_once("\r\n\r\n").expect("a head");
            head.lines()
                .find_map(|l| l.strip_prefix("Retry-After: ").map(str::to_string))
        };
        assert_eq!(fail(r#"{"status": 503, "retry_after": "120"}"#), 200);
        assert_eq!(retry_after().as_deref(), Some("120"));
        assert_eq!(fail(r#"{"status": 503, "retry_after": 7}"#), 200);
        assert_eq!(retry_after().as_deref(), Some("7"));
        assert_eq!(fail(r#"{"status": 429}"#), 200);
        assert_eq!(retry_after().as_deref(), Some("60"));
        assert_eq!(fail(r#"{"status": 503}"#), 200);
        assert_eq!(retry_after(), None);
        assert_eq!(fail(r#"{"status": 503, "retry_after": "1\r\nX: y"}"#), 400);
        crm.fail_next_retry_after(503, "Wed, 21 Oct 2015 07:28:00 GMT", 1);
        assert_eq!(
            retry_after().as_deref(),
            Some("Wed, 21 Oct 2015 07:28:00 GMT")
        );
    }

    #[test]
    fn bad_requests_get_errors_not_panics() {
        let crm = FakeCrm::start();
        assert_eq!(exchange(&crm, b"garbage\r\n\r\n").0, 400);
        assert_eq!(exchange(&crm, b"GET / SPDY/9\r\n\r\n").0, 505);
        let big = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(70 * 1024));
        assert_eq!(exchange(&crm, big.as_bytes()).0, 431);
        assert_eq!(
            exchange(
                &crm,
                b"POST /x HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n"
            )
            .0,
            413
        );
        assert_eq!(
            exchange(&crm, b"POST /x HTTP/1.1\r\nContent-Length: zz\r\n\r\n").0,
            400
        );
        assert_eq!(
            exchange(
                &crm,
                b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
            )
            .0,
            411
        );
        // Outside both APIs: a web server's HTML 404.
        let (status, body) = exchange(&crm, b"GET /wp-admin HTTP/1.1\r\n\r\n");
        assert_eq!(status, 404);
        assert!(body.starts_with("<!DOCTYPE html>"));
        // Still serving.
        assert_eq!(request(&crm, "GET", "/_control/health", "", "").0, 200);
    }

    #[test]
    fn serves_connections_concurrently() {
        let crm = FakeCrm::start();
        crm.delay_next(Duration::from_millis(400), 4);
        let started = std::time::Instant::now();
        thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    let (status, _) = request(&crm, "GET", "/userengage/api/public/users/", "", "");
                    assert_eq!(status, 401);
                });
            }
        });
        assert!(
            started.elapsed() < Duration::from_millis(1500),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(crm.requests().len(), 4);
    }

    #[test]
    fn activecampaign_and_mailerlite_are_served_as_documented() {
        let crm = FakeCrm::start();
        let (status, created) = request(
            &crm,
            "POST",
            "/_control/activecampaign/contacts",
            "",
            r#"{"email": "a@b.c", "tags": ["vip"], "fields": {"TEAM": "Blue"}}"#,
        );
        assert_eq!((status, created), (201, json!({"id": 1})));
        let ac = "Api-Token: activecampaign-token\r\n";
        assert_eq!(
            request(&crm, "GET", "/activecampaign/api/3/contacts/1", "", "").0,
            403
        );
        let (status, contact) = request(&crm, "GET", "/activecampaign/api/3/contacts/1", ac, "");
        assert_eq!(status, 200);
        assert_eq!(contact["contact"]["id"], json!("1"));
        assert_eq!(contact["fieldValues"][0]["value"], json!("Blue"));
        for n in 2..=30 {
            crm.add_activecampaign_field(&format!("F{n}"), "x");
        }
        let (_, page) = request(
            &crm,
            "GET",
            "/activecampaign/api/3/fields?offset=20",
            ac,
            "",
        );
        assert_eq!(page["fields"].as_array().map(Vec::len), Some(10));
        assert_eq!(page["meta"]["total"], json!("30"));
        assert_eq!(
            request(
                &crm,
                "POST",
                "/activecampaign/api/3/fieldValues",
                ac,
                "{\"fieldValue\": {}}"
            )
            .1["errors"][0]["source"]["pointer"],
            json!("/data/attributes/contact")
        );
        assert_eq!(
            request(&crm, "DELETE", "/activecampaign/api/3/contacts/1", ac, "").0,
            405
        );

        let ml = "Authorization: Bearer mailerlite-token\r\n";
        for n in 1..=5 {
            crm.add_mailerlite_subscriber(json!({"email": format!("s{n}@b.c")}));
        }
        let (status, first) = request(&crm, "GET", "/mailerlite/api/subscribers?limit=2", ml, "");
        assert_eq!(status, 200);
        assert_eq!(first["data"].as_array().map(Vec::len), Some(2));
        let cursor = first["meta"]["next_cursor"].as_str().unwrap().to_string();
        let (_, last) = request(
            &crm,
            "GET",
            &format!("/mailerlite/api/subscribers?limit=5&cursor={cursor}"),
            ml,
            "",
        );
        assert_eq!(last["data"][0]["email"], json!("s3@b.c"));
        assert_eq!(last["meta"]["next_cursor"], Value::Null);
        assert_eq!(
            request(&crm, "GET", "/mailerlite/api/subscribers/1", "", "").1,
            json!({"message": "Unauthenticated."})
        );
        let (status, found) = request(&crm, "GET", "/mailerlite/api/subscribers/S2%40b.c", ml, "");
        assert_eq!((status, &found["data"]["id"]), (200, &json!("2")));
        let (status, bad) = request(
            &crm,
            "PUT",
            "/mailerlite/api/subscribers/2",
            ml,
            r#"{"fields": "x"}"#,
        );
        assert_eq!(status, 422);
        assert!(bad["errors"]["fields"].is_array());
        assert_eq!(
            request(&crm, "POST", "/mailerlite/api/subscribers/2", ml, "{}").0,
            405
        );
        assert_eq!(
            request(&crm, "GET", "/_control/mailerlite/subscribers/2", "", "").1["email"],
            json!("s2@b.c")
        );
        crm.reset();
        assert!(crm.contact_tags(CrmApi::ActiveCampaign, 1).is_none());
    }

    #[test]
    fn userengage_search_and_attributes() {
        let crm = FakeCrm::start();
        let id = crm
            .add_userengage_user(json!({"id": 7, "email": "Jane@Example.com", "attributes": []}));
        let auth = "Authorization: Token userengage-key\r\n";
        let (status, user) = request(
            &crm,
            "GET",
            "/userengage/api/public/users/search/?email=jane%40example.com",
            auth,
            "",
        );
        assert_eq!((status, &user["id"]), (200, &json!(7)));
        let (status, _) = request(
            &crm,
            "GET",
            "/userengage/api/public/users/search/?email=x%40y.z",
            auth,
            "",
        );
        assert_eq!(status, 404);
        let (status, _) = request(
            &crm,
            "POST",
            "/userengage/api/public/users/7/set_multiple_attributes/",
            auth,
            r#"{"wp_password": "pw"}"#,
        );
        assert_eq!(status, 200);
        assert_eq!(
            crm.contact_fields(CrmApi::UserEngage, id).unwrap()["wp_password"],
            json!("pw")
        );
        let (status, _) = request(&crm, "GET", "/userengage/api/public/users/7", auth, "");
        assert_eq!(
            status, 404,
            "paths without a trailing slash are not User.com's"
        );
    }
}
