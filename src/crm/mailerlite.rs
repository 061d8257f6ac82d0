//! The MailerLite API client (the new API at connect.mailerlite.com, not MailerLite
//! Classic's api.mailerlite.com/api/v2): the `Crm` port for MailerLite.
//!
//! The apply step (`sync/`) uses it when a MailerLite webhook (read by the `mailerlite`
//! preset mapping, which is id-only: `complete: false`) needs the subscriber's data, and to
//! write a generated password to a field. HTTP, status mapping and argument checks are
//! `http/`'s; this file knows MailerLite's paths, auth and JSON shapes
//! (`contact::mailerlite`). What each call is based on (developers.mailerlite.com, "Getting
//! started" and "Subscribers", as served by the search tool's stored pages):
//! - base: `https://connect.mailerlite.com/api` (the default when no URL is given; another
//!   address is for tests and proxies); auth: `Authorization: Bearer TOKEN`; a missing or
//!   wrong token is 401 `{"message": "Unauthenticated."}`; `Accept: application/json`;
//! - load: `GET /subscribers/{id}` answers `{"data": {id, email, status, fields: {name,
//!   last_name, ...}, groups: [{id, name, ...}]}}`; fields are `fields` plus `email`, tags are
//!   the groups' names (WP Fusion's rule for MailerLite);
//! - find: `GET /subscribers/{email}` (the same endpoint takes an id or an email); 404 means
//!   no such subscriber;
//! - update: `PUT /subscribers/{id}` `{"fields": {...}}`: MailerLite changes only the fields
//!   sent and answers the subscriber;
//! - test: `GET /subscribers?limit=1` (`{"data": [...], "links", "meta"}`, cursor-paged).
//!
//! Assumed, not documented: a subscriber that does not exist is 404 with a JSON body
//! (`{"message": "Resource not found."}`, Laravel's form, which MailerLite's other errors
//! share); a subscriber answer without `groups` has none.

use serde_json::{json, Map, Value};

use crate::contact::mailerlite as shape;
use crate::crm::http::{self, Answer, ApiSpec, Client, Endpoint, Method};
use crate::crm::{ApiAccess, Contact, Crm, CrmKind};
use crate::error::{Error, Result};

const SPEC: ApiSpec = ApiSpec {
    crm: CrmKind::MailerLite,
};

/// The API's address when the site owner gives none.
pub const DEFAULT_URL: &str = "https://connect.mailerlite.com/api";

/// The settings key of the API token, named in errors.
pub const TOKEN_KEY: &str = "mailerlite_api_token";

/// Talks to one MailerLite account.
pub struct MailerLiteClient {
    client: Client,
}

impl MailerLiteClient {
    /// Never fails and never calls the network; missing access fails at first use.
    pub fn new(access: &ApiAccess) -> Self {
        MailerLiteClient {
            client: Client::new(SPEC, access.timeout, endpoint(access), "application/json"),
        }
    }

    /// `GET /subscribers/{id or email}`: the subscriber object, or `None` for a 404.
    fn subscriber(&self, reference: &str) -> Result<Option<Map<String, Value>>> {
        match self
            .client
            .call(Method::Get, &format!("/subscribers/{reference}"), None)?
        {
            Answer::NotFound => Ok(None),
            Answer::Found(json) => data_object(json).map(Some),
        }
    }
}

fn endpoint(access: &ApiAccess) -> Result<Endpoint> {
    let url = access
        .url
        .as_deref()
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .unwrap_or(DEFAULT_URL);
    let base = http::base_url(SPEC.url_key(), Some(url))?;
    if access.token.expose().trim().is_empty() {
        return Err(Error::setting(
            TOKEN_KEY,
            "it is not set; create an API token in MailerLite (Integrations > MailerLite API)",
        ));
    }
    Ok(Endpoint {
        base,
        authorization: http::authorization("Bearer", TOKEN_KEY, &access.token)?,
    })
}

/// The `data` object of a single-item answer.
fn data_object(json: Value) -> Result<Map<String, Value>> {
    match json {
        Value::Object(mut answer) => match answer.remove("data") {
            Some(Value::Object(data)) => Ok(data),
            _ => Err(bad_response("the answer has no \"data\" object")),
        },
        _ => Err(bad_response("the answer is not a JSON object")),
    }
}

impl Crm for MailerLiteClient {
    fn kind(&self) -> Option<CrmKind> {
        Some(CrmKind::MailerLite)
    }

    fn load_contact(&self, contact_id: &str) -> Result<Contact> {
        let segment = http::contact_id_segment(CrmKind::MailerLite, contact_id)?;
        let subscriber = self
            .subscriber(&segment)?
            .ok_or_else(|| not_found(contact_id))?;
        Ok(contact_from_subscriber(contact_id.trim(), &subscriber))
    }

    fn find_contact_id(&self, email: &str) -> Result<Option<String>> {
        let Some(email) = crate::email::searchable(email) else {
            return Ok(None);
        };
        let Some(subscriber) = self.subscriber(&http::encode_component(email))? else {
            return Ok(None);
        };
        // The endpoint matches emails exactly (case-insensitively); check anyway, so a
        // proxy or a future fuzzy match never links the wrong subscriber.
        let same = subscriber
            .get("email")
            .and_then(Value::as_str)
            .is_some_and(|e| e.trim().eq_ignore_ascii_case(email));
        if !same {
            return Ok(None);
        }
        subscriber
            .get("id")
            .and_then(http::id_string)
            .map(Some)
            .ok_or_else(|| bad_response("the subscriber has no id"))
    }

    fn update_contact(&self, contact_id: &str, fields: &Map<String, Value>) -> Result<()> {
        let segment = http::contact_id_segment(CrmKind::MailerLite, contact_id)?;
        if fields.is_empty() {
            return Ok(());
        }
        let body = json!({ "fields": fields });
        match self
            .client
            .call(Method::Put, &format!("/subscribers/{segment}"), Some(&body))?
        {
            Answer::NotFound => Err(not_found(contact_id)),
            Answer::Found(_) => Ok(()),
        }
    }

    fn test_connection(&self) -> Result<()> {
        match self
            .client
            .call(Method::Get, "/subscribers?limit=1", None)?
        {
            Answer::NotFound => Err(self.client.wrong_url(404)),
            Answer::Found(json) if json.get("data").is_some_and(Value::is_array) => Ok(()),
            Answer::Found(_) => Err(bad_response(
                "the subscriber list answer has no \"data\" list",
            )),
        }
    }
}

/// A `Contact` from a subscriber object. `requested_id` is used when it has no id of its own.
pub fn contact_from_subscriber(requested_id: &str, subscriber: &Map<String, Value>) -> Contact {
    Contact {
        id: subscriber
            .get("id")
            .and_then(http::id_string)
            .unwrap_or_else(|| requested_id.to_string()),
        email: subscriber
            .get("email")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(str::to_string),
        fields: shape::subscriber_fields(subscriber),
        tags: subscriber
            .get("groups")
            .and_then(shape::group_names)
            .unwrap_or_default(),
    }
}

fn not_found(contact_id: &str) -> Error {
    http::contact_not_found(CrmKind::MailerLite, contact_id)
}

fn bad_response(detail: &str) -> Error {
    http::bad_response(CrmKind::MailerLite, detail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use std::time::Duration;

    #[test]
    fn the_default_address_and_a_bearer_token() {
        let access = ApiAccess::new(None, Secret::new("tok"), Duration::from_secs(1));
        let endpoint = endpoint(&access).unwrap();
        assert_eq!(endpoint.base, DEFAULT_URL);
        assert_eq!(endpoint.authorization.expose(), "Bearer tok");
        let none = ApiAccess::new(Some(" ".into()), Secret::default(), Duration::from_secs(1));
        assert!(endpoint_error(&none).contains(TOKEN_KEY));
    }

    fn endpoint_error(access: &ApiAccess) -> String {
        match endpoint(access) {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn answers_without_data_are_bad_responses() {
        assert!(data_object(json!({"data": []})).is_err());
        assert!(data_object(json!([1])).is_err());
        let data = data_object(json!({"data": {"id": "1"}})).unwrap();
        let contact = contact_from_subscriber("9", &data);
        assert_eq!((contact.id.as_str(), contact.email), ("1", None));
    }
}
