//! HTTP plumbing shared by the CRM clients (`mautic.rs`, `userengage.rs`): the apply step's
//! calls to a CRM's API all go through [`Api::call`].
//!
//! This is the one place that decides how we talk HTTP to a CRM and what its answers mean:
//! - one ureq agent per client, with `settings.crm_timeout` as both the connect and the
//!   whole-call (global) timeout, no redirects followed, answers read up to 4 MiB;
//! - statuses: 2xx is JSON (else `CrmBadResponse`), 401/403 `CrmAuth`, 404 is the caller's to
//!   decide ([`Answer::NotFound`]) when the body is the API's JSON and a wrong URL
//!   (`InvalidSetting`) when it is not, 429 `CrmRateLimited`, 5xx `CrmUnavailable`, other 4xx
//!   and 3xx `CrmRejected` with the CRM's own message;
//! - transport failures (timeout, refused, DNS, TLS) are `CrmUnavailable` with a short reason.
//!
//! Error details never carry URLs, header values or the values we sent: only fixed phrases and
//! the CRM's (truncated, sanitised) error message, from which the values we sent are masked.
//! It also holds the checks every client applies to its settings and arguments before they
//! reach a URL: base URLs, header-safe credentials, numeric contact ids, searchable emails.

use std::fmt::Write as _;
use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;

use crate::crm_kind::CrmKind;
use crate::error::{Error, Result};
use crate::settings::Secret;
use crate::text::printable;

/// Largest answer we read from a CRM. Mautic's biggest contact list page is well under this.
pub const MAX_RESPONSE_BYTES: u64 = 4 * 1024 * 1024;
/// Longest CRM error message we pass on.
const MAX_DETAIL_CHARS: usize = 200;
/// Values we sent shorter than this are not masked in CRM messages (they would mask words).
const MIN_MASKED_LEN: usize = 4;

/// What a client tells [`Api`] about its CRM, for requests and error messages.
#[derive(Debug, Clone, Copy)]
pub struct ApiSpec {
    pub crm: CrmKind,
    /// The settings key holding the base URL (`mautic_url`), named in setting errors.
    pub url_key: &'static str,
    /// What that URL looks like, shown when the URL turns out wrong.
    pub url_example: &'static str,
}

/// HTTP methods the clients use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Patch,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
        }
    }
}

/// A successful exchange: the API's JSON, or its "no such item".
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// 2xx with the parsed body (`Value::Null` for an empty body).
    Found(Value),
    /// 404 with a JSON body: the API exists and says the item does not.
    NotFound,
}

/// Where and as whom a client calls: the base URL (paths are appended as given) and the
/// `Authorization` header value.
pub struct Endpoint {
    pub base: String,
    pub authorization: Secret,
}

/// A CRM API as a client uses it: the agent, and the endpoint the settings gave or why they
/// could not give one. Decided once when the client is built and reported at first use, so
/// building a client never fails.
pub struct Client {
    api: Api,
    endpoint: Result<Endpoint>,
    accept: &'static str,
}

impl Client {
    pub fn new(api: Api, endpoint: Result<Endpoint>, accept: &'static str) -> Self {
        Client {
            api,
            endpoint,
            accept,
        }
    }

    /// Calls `path` under the endpoint with the client's `Authorization` and `Accept`.
    pub fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Answer> {
        let endpoint = self.endpoint.as_ref().map_err(Clone::clone)?;
        let url = format!("{}{}", endpoint.base, path);
        let headers = [
            ("Authorization", endpoint.authorization.expose()),
            ("Accept", self.accept),
        ];
        self.api.call(method, &url, &headers, body)
    }

    /// See [`Api::wrong_url`].
    pub fn wrong_url(&self, status: u16) -> Error {
        self.api.wrong_url(status)
    }
}

/// One CRM's HTTP API: an agent with the timeouts from the settings.
pub struct Api {
    spec: ApiSpec,
    agent: ureq::Agent,
    timeout: Duration,
}

impl Api {
    /// Builds the agent; never touches the network and never fails.
    pub fn new(spec: ApiSpec, timeout: Duration) -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .timeout_connect(Some(timeout))
            .http_status_as_error(false)
            // A redirect would drop our Authorization header (ureq's safe default) and turn a
            // PATCH into a GET; an error naming the problem helps more.
            .max_redirects(0)
            .proxy(environment_proxy())
            .user_agent(format!("wpf-bridge/{}", crate::VERSION))
            .build();
        Api {
            spec,
            agent: ureq::Agent::new_with_config(config),
            timeout,
        }
    }

    /// The CRM's name as a site owner knows it.
    pub fn crm_name(&self) -> &'static str {
        self.spec.crm.display_name()
    }

    /// Sends one request and maps the outcome (see the module documentation).
    ///
    /// `headers` are added as given (the client's `Authorization` and `Accept`); `body` is
    /// sent as `application/json`.
    pub fn call(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Answer> {
        let sent = body.map(serialise).transpose()?;
        let mut masked = Masked::default();
        if let Some(body) = body {
            masked.add_values(body);
        }
        for (name, value) in headers {
            if name.eq_ignore_ascii_case("authorization") {
                masked.add_credentials(value);
            }
        }

        let outcome = match method {
            Method::Get => with_headers(self.agent.get(url), headers).call(),
            Method::Post => send(with_headers(self.agent.post(url), headers), sent),
            Method::Patch => send(with_headers(self.agent.patch(url), headers), sent),
        };
        let mut response = outcome.map_err(|e| self.transport_error(&e))?;

        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(redirect_target);
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_vec()
            .map_err(|e| self.transport_error(&e))?;

        self.interpret(method, status, location, &body, &masked)
    }

    /// Turns a status and body into an answer or an error.
    fn interpret(
        &self,
        method: Method,
        status: u16,
        location: Option<String>,
        body: &[u8],
        masked: &Masked,
    ) -> Result<Answer> {
        let crm = self.crm_name();
        match status {
            200..=299 => self.parse_json(body).map(Answer::Found),
            300..=399 => Err(Error::CrmRejected {
                crm,
                status,
                detail: format!(
                    "the API answered {} with a redirect{}; set {} to the address requests \
                     should go to, e.g. {}",
                    method.as_str(),
                    location.map(|l| format!(" to {l}")).unwrap_or_default(),
                    self.spec.url_key,
                    self.spec.url_example
                ),
            }),
            401 | 403 => Err(Error::CrmAuth { crm, status }),
            404 => {
                if serde_json::from_slice::<Value>(body).is_ok() {
                    Ok(Answer::NotFound)
                } else {
                    Err(self.wrong_url(404))
                }
            }
            429 => Err(Error::CrmRateLimited { crm }),
            500..=599 => Err(Error::CrmUnavailable {
                crm,
                detail: match crm_message(body, masked) {
                    Some(message) => format!("HTTP {status}: {message}"),
                    None => format!("HTTP {status}"),
                },
            }),
            400..=499 => Err(Error::CrmRejected {
                crm,
                status,
                detail: crm_message(body, masked)
                    .unwrap_or_else(|| "no error message given".to_string()),
            }),
            _ => Err(Error::CrmBadResponse {
                crm,
                detail: format!("unexpected HTTP status {status}"),
            }),
        }
    }

    /// The error for an address that is not the CRM's API (a web page answered instead).
    pub fn wrong_url(&self, status: u16) -> Error {
        Error::setting(
            self.spec.url_key,
            format!(
                "it does not lead to the {} API (HTTP {status} with a page that is not the API's \
                 JSON); it should look like {}",
                self.crm_name(),
                self.spec.url_example
            ),
        )
    }

    /// Parses a 2xx body; an empty body is `Null`.
    fn parse_json(&self, body: &[u8]) -> Result<Value> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        serde_json::from_slice(body).map_err(|e| {
            let detail = if looks_like_html(body) {
                format!(
                    "an HTML page instead of JSON; check that {} is the API address (like {}) \
                     and that the API is enabled",
                    self.spec.url_key, self.spec.url_example
                )
            } else {
                format!("invalid JSON at line {} column {}", e.line(), e.column())
            };
            Error::CrmBadResponse {
                crm: self.crm_name(),
                detail,
            }
        })
    }

    fn host_not_found(&self) -> Error {
        Error::CrmUnavailable {
            crm: self.crm_name(),
            detail: format!(
                "its host name could not be resolved; check {}",
                self.spec.url_key
            ),
        }
    }

    /// Maps a ureq failure to an error whose detail is a fixed phrase: ureq's own messages can
    /// contain URLs (and proxy URLs can contain credentials), so they are never passed on.
    fn transport_error(&self, error: &ureq::Error) -> Error {
        let crm = self.crm_name();
        let unavailable = |detail: String| Error::CrmUnavailable { crm, detail };
        match error {
            ureq::Error::Timeout(_) => unavailable(format!(
                "no answer within {} (timeout)",
                describe_duration(self.timeout)
            )),
            ureq::Error::Io(io) if is_dns_failure(io) => self.host_not_found(),
            ureq::Error::Io(io) => unavailable(describe_io(io.kind(), self.timeout)),
            ureq::Error::ConnectionFailed => unavailable("the connection failed".to_string()),
            ureq::Error::HostNotFound => self.host_not_found(),
            ureq::Error::BadUri(_) | ureq::Error::Http(_) => Error::setting(
                self.spec.url_key,
                format!(
                    "it is not a usable URL; it should look like {}",
                    self.spec.url_example
                ),
            ),
            ureq::Error::RequireHttpsOnly(_) | ureq::Error::TlsRequired => {
                unavailable("the connection requires HTTPS".to_string())
            }
            ureq::Error::InvalidProxyUrl | ureq::Error::ConnectProxyFailed(_) => unavailable(
                "the HTTP proxy from the environment (HTTPS_PROXY, HTTP_PROXY) failed".to_string(),
            ),
            ureq::Error::BodyExceedsLimit(_) => Error::CrmBadResponse {
                crm,
                detail: format!(
                    "the answer is larger than {} MiB",
                    MAX_RESPONSE_BYTES / (1024 * 1024)
                ),
            },
            ureq::Error::LargeResponseHeader(_, _) => Error::CrmBadResponse {
                crm,
                detail: "the answer's headers are too large".to_string(),
            },
            ureq::Error::Protocol(_) => unavailable(
                "the answer was not valid HTTP (does the URL start with the right http:// or \
                 https://?)"
                    .to_string(),
            ),
            ureq::Error::Decompress(_, _) => Error::CrmBadResponse {
                crm,
                detail: "the answer's compressed body is corrupt".to_string(),
            },
            ureq::Error::BodyStalled => {
                unavailable("the answer stopped arriving before it was complete".to_string())
            }
            // TLS variants exist only with some ureq features; their messages name
            // certificates, not URLs, but a fixed phrase is enough to act on.
            other => {
                let text = other.to_string().to_ascii_lowercase();
                if text.contains("tls") || text.contains("certificate") || text.contains("pem") {
                    unavailable(
                        "the TLS connection failed (certificate or protocol problem)".to_string(),
                    )
                } else {
                    unavailable("the HTTP request failed".to_string())
                }
            }
        }
    }
}

/// The proxy from the environment (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`, ...), as ureq
/// reads it, except under CGI: there a request's `Proxy:` header becomes `HTTP_PROXY`
/// ("httpoxy"), so a webhook caller could route our authenticated API calls through its
/// server. Like Go and curl, we then ignore `HTTP_PROXY` (the other variables still count).
fn environment_proxy() -> Option<ureq::Proxy> {
    if ignores_cgi_proxy(|name| std::env::var(name).ok()) {
        return None;
    }
    ureq::Proxy::try_from_env()
}

/// True when ureq would take its proxy from `HTTP_PROXY` while we run as a CGI program.
fn ignores_cgi_proxy(var: impl Fn(&str) -> Option<String>) -> bool {
    let set = |name: &str| var(name).is_some_and(|v| !v.trim().is_empty());
    let under_cgi = var("REQUEST_METHOD").is_some() || var("GATEWAY_INTERFACE").is_some();
    let earlier = ["ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy"];
    under_cgi && set("HTTP_PROXY") && !earlier.iter().any(|name| set(name))
}

fn with_headers<B>(
    mut request: ureq::RequestBuilder<B>,
    headers: &[(&str, &str)],
) -> ureq::RequestBuilder<B> {
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request
}

fn send(
    request: ureq::RequestBuilder<ureq::typestate::WithBody>,
    body: Option<Vec<u8>>,
) -> std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error> {
    match body {
        Some(bytes) => request.content_type("application/json").send(&bytes[..]),
        None => request.send_empty(),
    }
}

fn serialise(body: &Value) -> Result<Vec<u8>> {
    serde_json::to_vec(body).map_err(|e| Error::InvalidArgument {
        name: "fields",
        reason: format!("cannot be encoded as JSON ({e})"),
    })
}

/// Keeps scheme, host and path of a redirect target: enough to act on, no query strings.
fn redirect_target(location: &str) -> String {
    let end = location.find(['?', '#']).unwrap_or(location.len());
    let mut target = &location[..end];
    // Drop any user:password@ part.
    if let Some(scheme_end) = target.find("://") {
        let rest = &target[scheme_end + 3..];
        let host_end = rest.find('/').unwrap_or(rest.len());
        if let Some(at) = rest[..host_end].rfind('@') {
            return printable(
                &format!("{}{}", &target[..scheme_end + 3], &rest[at + 1..]),
                100,
            );
        }
    } else {
        target = target.trim();
    }
    printable(target, 100)
}

/// An HTML page (a login form, a web server's error page) rather than an API answer.
fn looks_like_html(body: &[u8]) -> bool {
    body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<')
}

fn describe_duration(duration: Duration) -> String {
    let ms = duration.as_millis();
    if ms >= 1000 && ms % 1000 == 0 {
        format!("{} s", ms / 1000)
    } else {
        format!("{ms} ms")
    }
}

fn describe_io(kind: std::io::ErrorKind, timeout: Duration) -> String {
    use std::io::ErrorKind;
    match kind {
        ErrorKind::ConnectionRefused => {
            "the connection was refused (is the URL right and the server up?)".to_string()
        }
        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe => {
            "the connection was closed unexpectedly".to_string()
        }
        ErrorKind::UnexpectedEof => {
            "the connection was closed before the answer was complete".to_string()
        }
        ErrorKind::TimedOut | ErrorKind::WouldBlock => {
            format!("no answer within {} (timeout)", describe_duration(timeout))
        }
        other => format!("network error ({other:?})"),
    }
}

/// Name resolution failures reach us as uncategorised I/O errors; their text names no URL.
fn is_dns_failure(error: &std::io::Error) -> bool {
    let text = error.to_string().to_ascii_lowercase();
    [
        "lookup",
        "resolve",
        "name or service not known",
        "nodename nor servname",
    ]
    .iter()
    .any(|needle| text.contains(needle))
}

/// Strings that must not appear in an error detail: the values we sent and our credentials.
#[derive(Default)]
struct Masked(Vec<String>);

impl Masked {
    fn add_values(&mut self, value: &Value) {
        match value {
            Value::String(s) => self.add(s),
            Value::Array(items) => items.iter().for_each(|v| self.add_values(v)),
            Value::Object(map) => map.values().for_each(|v| self.add_values(v)),
            _ => {}
        }
    }

    /// `Basic <b64>`, `Bearer <token>`, `Token <key>`: masks the credential and, for Basic,
    /// the decoded user:password and password.
    fn add_credentials(&mut self, header: &str) {
        let credential = header.split_once(' ').map_or(header, |(_, c)| c).trim();
        self.add(credential);
        if header.len() > 6 && header[..6].eq_ignore_ascii_case("basic ") {
            if let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(credential) {
                if let Ok(pair) = String::from_utf8(decoded) {
                    if let Some((_, password)) = pair.split_once(':') {
                        self.add(password);
                    }
                    self.add(&pair);
                }
            }
        }
    }

    fn add(&mut self, text: &str) {
        let text = text.trim();
        if text.chars().count() >= MIN_MASKED_LEN {
            self.0.push(text.to_string());
        }
    }

    fn apply(&self, text: &str) -> String {
        let mut out = text.to_string();
        // Longest first, so a value containing another is masked whole.
        let mut secrets: Vec<&String> = self.0.iter().collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        for secret in secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), "***");
            }
        }
        out
    }
}

/// The CRM's own error message from an error body: Mautic's `errors[].message`, Mautic 2's
/// `error.message`, User.com's (Django REST framework) `detail` or `{"field": ["message"]}`.
/// Truncated, control characters replaced, values we sent masked.
fn crm_message(body: &[u8], masked: &Masked) -> Option<String> {
    let message = match serde_json::from_slice::<Value>(body) {
        Ok(json) => json_message(&json)?,
        Err(_) if looks_like_html(body) => "an HTML error page".to_string(),
        Err(_) => {
            let text = String::from_utf8_lossy(&body[..body.len().min(1024)]).to_string();
            let text = text.trim();
            if text.is_empty() {
                return None;
            }
            text.to_string()
        }
    };
    // Our error messages put their own full stop after the detail.
    let message = masked.apply(message.trim());
    let message = message.trim_end_matches(['.', ' ']);
    if message.is_empty() {
        return None;
    }
    Some(printable(message, MAX_DETAIL_CHARS))
}

fn json_message(json: &Value) -> Option<String> {
    if let Some(errors) = json.get("errors").and_then(Value::as_array) {
        let messages: Vec<&str> = errors
            .iter()
            .filter_map(|e| e.get("message").and_then(Value::as_str))
            .take(3)
            .collect();
        if !messages.is_empty() {
            return Some(messages.join("; "));
        }
    }
    match json.get("error") {
        Some(Value::String(s)) => return Some(s.clone()),
        Some(Value::Object(e)) => {
            if let Some(s) = e.get("message").and_then(Value::as_str) {
                return Some(s.to_string());
            }
        }
        _ => {}
    }
    for key in ["detail", "message", "error_description"] {
        if let Some(s) = json.get(key).and_then(Value::as_str) {
            return Some(s.to_string());
        }
    }
    // Django REST framework validation errors: {"field": ["message", ...], ...}
    let object = json.as_object()?;
    let mut out = String::new();
    for (field, value) in object.iter().take(3) {
        let text = match value {
            Value::Array(items) => items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" "),
            Value::String(s) => s.clone(),
            _ => continue,
        };
        if !text.is_empty() {
            if !out.is_empty() {
                out.push_str("; ");
            }
            let _ = write!(out, "{field}: {text}");
        }
    }
    (!out.is_empty()).then_some(out)
}

// ---- Checks on settings and arguments, before they reach a URL or a header ----

/// Validates a base URL setting: set, `http(s)://host...`, no spaces, query or fragment.
/// Returns it trimmed, without trailing slashes.
pub fn base_url(key: &'static str, value: Option<&str>, example: &str) -> Result<String> {
    let url = value.map(str::trim).unwrap_or("");
    if url.is_empty() {
        return Err(Error::setting(
            key,
            format!("it is not set; enter the API address, like {example}"),
        ));
    }
    let lower = url.to_ascii_lowercase();
    let rest = if let Some(rest) = lower.strip_prefix("https://") {
        rest
    } else if let Some(rest) = lower.strip_prefix("http://") {
        rest
    } else {
        return Err(Error::setting(
            key,
            format!("it must start with https:// (or http://), like {example}"),
        ));
    };
    if url
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '?' || c == '#')
    {
        return Err(Error::setting(
            key,
            format!("it must be a plain address without spaces, ? or #, like {example}"),
        ));
    }
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() || host.starts_with(':') {
        return Err(Error::setting(
            key,
            format!("it has no host name; it should look like {example}"),
        ));
    }
    Ok(url.trim_end_matches('/').to_string())
}

/// A credential as an HTTP header value: `{scheme} {credential}`. Fails, naming `key` but not
/// the value, when the credential has characters a header cannot carry.
pub fn authorization(scheme: &str, key: &'static str, credential: &Secret) -> Result<Secret> {
    let value = credential.expose().trim();
    if !value.chars().all(|c| c.is_ascii_graphic()) {
        return Err(Error::setting(
            key,
            "it contains spaces or characters that cannot be sent in an HTTP header; paste it \
             again",
        ));
    }
    Ok(Secret::new(format!("{scheme} {value}")))
}

/// `Basic base64(user:password)` (RFC 7617); ureq 3 has no helper for it.
pub fn basic_authorization(
    username_key: &'static str,
    username: &str,
    password: &Secret,
) -> Result<Secret> {
    if username.contains(':') || username.chars().any(char::is_control) {
        return Err(Error::setting(
            username_key,
            "it must not contain ':' or control characters",
        ));
    }
    let pair = format!("{username}:{}", password.expose());
    let encoded = base64::engine::general_purpose::STANDARD.encode(pair.as_bytes());
    Ok(Secret::new(format!("Basic {encoded}")))
}

/// A contact id as a URL path segment. Both CRMs number their contacts, so anything but
/// 1 to 20 ASCII digits cannot be a contact: it is `CrmContactNotFound`, and never reaches a
/// URL (no path injection).
pub fn contact_id_segment(crm: CrmKind, contact_id: &str) -> Result<String> {
    let id = contact_id.trim();
    if id.is_empty() || id.len() > 20 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(contact_not_found(crm, contact_id));
    }
    Ok(encode_component(id))
}

/// The CRM has no contact with this id.
pub fn contact_not_found(crm: CrmKind, contact_id: &str) -> Error {
    Error::CrmContactNotFound {
        crm: crm.display_name(),
        contact_id: printable(contact_id.trim(), 40),
    }
}

/// The CRM answered JSON of a shape its API does not have.
pub fn bad_response(crm: CrmKind, detail: &str) -> Error {
    Error::CrmBadResponse {
        crm: crm.display_name(),
        detail: detail.to_string(),
    }
}

/// An email worth searching for: trimmed, at most 254 characters, one `@` with text on both
/// sides, no spaces, quotes or control characters. `None` means no CRM can hold it, so the
/// clients answer "no contact" without a request.
pub fn searchable_email(email: &str) -> Option<&str> {
    let email = email.trim();
    let (local, domain) = email.rsplit_once('@')?;
    let plausible = !local.is_empty()
        && !domain.is_empty()
        && email.chars().count() <= 254
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '\\');
    plausible.then_some(email)
}

/// Percent-encodes everything but RFC 3986's unreserved characters, for path segments and
/// query values alike.
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// A JSON id (number or numeric string) as a string; `None` for anything else.
pub fn id_string(value: &Value) -> Option<String> {
    match value {
        Value::Number(n) if n.is_u64() => Some(n.to_string()),
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn api() -> Api {
        Api::new(
            ApiSpec {
                crm: CrmKind::Mautic,
                url_key: "mautic_url",
                url_example: "https://mautic.example.com",
            },
            Duration::from_secs(2),
        )
    }

    #[test]
    fn statuses_map_to_errors() {
        let api = api();
        let none = Masked::default();
        let call =
            |status, body: &str| api.interpret(Method::Get, status, None, body.as_bytes(), &none);
        assert_eq!(
            call(200, "{\"a\":1}").unwrap(),
            Answer::Found(json!({"a":1}))
        );
        assert_eq!(call(204, "").unwrap(), Answer::Found(Value::Null));
        assert_eq!(call(401, "").unwrap_err().code(), "crm_auth_failed");
        assert_eq!(call(403, "").unwrap_err().code(), "crm_auth_failed");
        assert_eq!(call(404, "{\"errors\":[]}").unwrap(), Answer::NotFound);
        assert_eq!(call(404, "<html>").unwrap_err().code(), "invalid_setting");
        assert_eq!(call(429, "").unwrap_err().code(), "crm_rate_limited");
        assert_eq!(call(503, "").unwrap_err().code(), "crm_unavailable");
        assert_eq!(call(302, "").unwrap_err().code(), "crm_rejected");
        assert_eq!(call(200, "{nope").unwrap_err().code(), "crm_bad_response");
        let rejected = call(
            422,
            r#"{"errors":[{"message":"email: A valid email is required.","code":422}]}"#,
        )
        .unwrap_err();
        assert_eq!(
            rejected,
            Error::CrmRejected {
                crm: "Mautic",
                status: 422,
                detail: "email: A valid email is required".to_string()
            }
        );
    }

    #[test]
    fn crm_messages_are_found_truncated_and_masked() {
        let mut masked = Masked::default();
        masked.add_values(&json!({"wp_password": "S3cret-Pass"}));
        masked.add_credentials("Bearer tok-123456");
        let body = br#"{"detail":"value S3cret-Pass rejected for tok-123456"}"#;
        assert_eq!(
            crm_message(body, &masked).unwrap(),
            "value *** rejected for ***"
        );
        let drf = br#"{"email":["Enter a valid email address."]}"#;
        assert_eq!(
            crm_message(drf, &masked).unwrap(),
            "email: Enter a valid email address"
        );
        let long = format!("{{\"detail\":\"{}\"}}", "x".repeat(500));
        assert!(
            crm_message(long.as_bytes(), &masked)
                .unwrap()
                .chars()
                .count()
                <= 201
        );
        assert_eq!(crm_message(b"", &masked), None);
    }

    #[test]
    fn basic_credentials_are_masked_decoded_too() {
        let mut masked = Masked::default();
        let header =
            basic_authorization("mautic_username", "admin", &Secret::new("hunter22")).unwrap();
        assert_eq!(header.expose(), "Basic YWRtaW46aHVudGVyMjI=");
        masked.add_credentials(header.expose());
        assert_eq!(masked.apply("bad password hunter22"), "bad password ***");
    }

    #[test]
    fn base_urls_are_checked() {
        let ok = base_url("mautic_url", Some(" https://m.example.com/ "), "x").unwrap();
        assert_eq!(ok, "https://m.example.com");
        for bad in [
            None,
            Some(""),
            Some("m.example.com"),
            Some("https://"),
            Some("https://a b"),
        ] {
            assert_eq!(
                base_url("mautic_url", bad, "x").unwrap_err().code(),
                "invalid_setting"
            );
        }
        let missing = base_url("mautic_url", None, "x").unwrap_err().to_string();
        assert!(
            missing.contains("mautic_url") && missing.contains("not set"),
            "{missing}"
        );
    }

    #[test]
    fn ids_emails_and_encoding() {
        assert_eq!(contact_id_segment(CrmKind::Mautic, " 52 ").unwrap(), "52");
        for bad in ["", "5/2", "../1", "1?x=1", "abc", "123456789012345678901"] {
            assert_eq!(
                contact_id_segment(CrmKind::Mautic, bad).unwrap_err().code(),
                "crm_contact_not_found"
            );
        }
        assert_eq!(searchable_email(" a@b.c "), Some("a@b.c"));
        assert_eq!(searchable_email("a\"b@c"), None);
        assert_eq!(searchable_email("nobody"), None);
        assert_eq!(
            encode_component("email:\"+a b@c\""),
            "email%3A%22%2Ba%20b%40c%22"
        );
        assert_eq!(
            redirect_target("https://u:p@h.example/s/login?x=1"),
            "https://h.example/s/login"
        );
    }

    #[test]
    fn cgi_http_proxy_is_ignored() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        const ATTACK: &[(&str, &str)] =
            &[("REQUEST_METHOD", "POST"), ("HTTP_PROXY", "http://evil:1")];
        assert!(ignores_cgi_proxy(env(ATTACK)));
        assert!(!ignores_cgi_proxy(env(&[(
            "HTTP_PROXY",
            "http://proxy:3128"
        )])));
        const BOTH: &[(&str, &str)] = &[
            ("GATEWAY_INTERFACE", "CGI/1.1"),
            ("HTTP_PROXY", "http://evil:1"),
            ("HTTPS_PROXY", "http://proxy:3128"),
        ];
        assert!(!ignores_cgi_proxy(env(BOTH)));
    }

    #[test]
    fn dns_failures_are_recognised() {
        let dns = std::io::Error::other(
            "failed to lookup address information: Name or service not known",
        );
        assert!(is_dns_failure(&dns));
        assert!(!is_dns_failure(&std::io::Error::other("broken pipe")));
    }

    #[test]
    fn credentials_with_spaces_are_refused_without_echo() {
        let err = authorization("Bearer", "mautic_token", &Secret::new("ab cd\n")).unwrap_err();
        assert!(!err.to_string().contains("ab cd"));
        assert_eq!(err.code(), "invalid_setting");
    }
}
