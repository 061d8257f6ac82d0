//! Step 2 of a CRM call: the [`Client`], one CRM API as a client (`mautic.rs`,
//! `userengage.rs`) uses it: its endpoint (base URL and `Authorization`), its agent and its
//! `Accept` header. It sends one request and hands the outcome to `answer` (an answer came)
//! or `transport` (none did).

use std::time::Duration;

use serde_json::Value;

use super::answer::{self, Answer, Head};
use super::message::Masked;
use super::spec::{ApiSpec, Method, MAX_RESPONSE_BYTES};
use super::{agent, errors, transport};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// Where and as whom a client calls: the base URL (paths are appended as given) and the
/// `Authorization` header value.
pub struct Endpoint {
    pub base: String,
    pub authorization: Secret,
}

/// A CRM API as a client uses it: the agent, and the endpoint the settings gave or why they
/// could not give one. Decided once when the client is built and reported at first use, so
/// building a client never fails and never touches the network.
pub struct Client {
    spec: ApiSpec,
    agent: ureq::Agent,
    timeout: Duration,
    endpoint: Result<Endpoint>,
    accept: &'static str,
    /// The header the credential goes in: `Authorization`, or the CRM's own (`Api-Token`).
    auth_header: &'static str,
}

impl Client {
    pub fn new(
        spec: ApiSpec,
        timeout: Duration,
        endpoint: Result<Endpoint>,
        accept: &'static str,
    ) -> Self {
        Client {
            spec,
            agent: agent::agent(timeout),
            timeout,
            endpoint,
            accept,
            auth_header: "Authorization",
        }
    }

    /// Sends the endpoint's credential in `name` instead of `Authorization` (ActiveCampaign's
    /// `Api-Token`); the credential is then the header's whole value.
    pub fn with_auth_header(mut self, name: &'static str) -> Self {
        self.auth_header = name;
        self
    }

    /// Calls `path` under the endpoint with the client's `Authorization` and `Accept`; `body`
    /// is sent as `application/json`. See `answer` for what the outcome means.
    pub fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Answer> {
        let endpoint = self.endpoint.as_ref().map_err(Clone::clone)?;
        let url = format!("{}{}", endpoint.base, path);
        let authorization = endpoint.authorization.expose();
        let sent = body.map(serialise).transpose()?;
        let mut masked = Masked::default();
        if let Some(body) = body {
            masked.add_values(body);
        }
        masked.add_credentials(authorization);

        let headers = [(self.auth_header, authorization), ("Accept", self.accept)];
        let outcome = match method {
            Method::Get => with_headers(self.agent.get(&url), &headers).call(),
            Method::Post => send(with_headers(self.agent.post(&url), &headers), sent),
            Method::Patch => send(with_headers(self.agent.patch(&url), &headers), sent),
            Method::Put => send(with_headers(self.agent.put(&url), &headers), sent),
        };
        let failed = |e: ureq::Error| transport::error(&self.spec, self.timeout, &e);
        let mut response = outcome.map_err(failed)?;
        let head = Head::of(&response);
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_vec()
            .map_err(failed)?;
        answer::interpret(&self.spec, method, &head, &body, &masked)
    }

    /// A call about one contact, whose id is in `path`: the API's "no such item" (404 with
    /// its JSON) means that contact does not exist, `CrmContactNotFound`.
    pub fn call_for_contact(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        contact_id: &str,
    ) -> Result<Value> {
        match self.call(method, path, body)? {
            Answer::Found(json) => Ok(json),
            Answer::NotFound => Err(errors::contact_not_found(self.spec.crm, contact_id)),
        }
    }

    /// See [`errors::wrong_url`].
    pub fn wrong_url(&self, status: u16) -> Error {
        errors::wrong_url(&self.spec, status)
    }
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
