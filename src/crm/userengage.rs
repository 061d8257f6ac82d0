//! The User.com (formerly UserEngage) REST API client: the `Crm` port for User.com.
//!
//! The apply step (`sync/`) uses it when a webhook's payload lacks the contact's data, to find
//! a user by email, and to write attributes back (a generated password). HTTP, status mapping
//! and argument checks are `http/`'s; this file knows User.com's paths, auth and JSON shapes:
//! - base: `userengage_url` with a trailing `/` (`https://APP.user.com/api/public/`); headers
//!   `Authorization: Token {userengage_api_key}` and `Accept: */*; version=2`;
//! - load: `GET users/{id}/`: fields are the scalar top-level keys, `first_name`/`last_name`
//!   split from `name`, and `attributes[]` as `name_std` to `value`; tags from `tags[].name`;
//! - find: `GET users/search/?email=` (404 means no such user);
//! - update: `POST users/{id}/set_multiple_attributes/` with `{name_std: value}`;
//! - test: `GET users/search/?email=` for an address that cannot exist: any JSON answer (the
//!   user, or User.com's JSON 404) proves the address and the key; it is the endpoint `find`
//!   uses, and its answer is small, unlike the user list.

use serde_json::{Map, Value};

use crate::contact;
use crate::crm::http::{self, Answer, ApiSpec, Client, Endpoint, Method};
use crate::crm::{Contact, Crm, CrmKind};
use crate::error::{Error, Result};
use crate::settings::Settings;

const SPEC: ApiSpec = ApiSpec {
    crm: CrmKind::UserEngage,
};

/// The API version User.com's documentation asks for.
const ACCEPT: &str = "*/*; version=2";

/// The address `test_connection` searches for; `.invalid` can never be a real domain.
const PROBE_EMAIL: &str = "wpf-bridge-connection-test@example.invalid";

/// Talks to one User.com application.
pub struct UserEngageClient {
    client: Client,
}

impl UserEngageClient {
    /// Never fails and never calls the network; missing settings fail at first use.
    pub fn new(settings: &Settings) -> Self {
        UserEngageClient {
            client: Client::new(SPEC, settings.crm_timeout, endpoint(settings), ACCEPT),
        }
    }

    fn search(&self, email: &str) -> Result<Answer> {
        let path = format!("users/search/?email={}", http::encode_component(email));
        self.client.call(Method::Get, &path, None)
    }
}

fn endpoint(settings: &Settings) -> Result<Endpoint> {
    let base = http::base_url(SPEC.url_key(), settings.userengage_url.as_deref())?;
    if settings.userengage_api_key.expose().trim().is_empty() {
        return Err(Error::setting(
            "userengage_api_key",
            "it is not set; copy the public REST API key from User.com (Settings > App \
             settings > Advanced > Public REST API keys)",
        ));
    }
    let authorization =
        http::authorization("Token", "userengage_api_key", &settings.userengage_api_key)?;
    Ok(Endpoint {
        base: format!("{base}/"),
        authorization,
    })
}

impl Crm for UserEngageClient {
    fn kind(&self) -> Option<CrmKind> {
        Some(CrmKind::UserEngage)
    }

    fn load_contact(&self, contact_id: &str) -> Result<Contact> {
        let segment = http::contact_id_segment(CrmKind::UserEngage, contact_id)?;
        let path = format!("users/{segment}/");
        let user = self
            .client
            .call_for_contact(Method::Get, &path, None, contact_id)?;
        contact_from_user(contact_id.trim(), &user)
    }

    fn find_contact_id(&self, email: &str) -> Result<Option<String>> {
        let Some(email) = crate::email::searchable(email) else {
            return Ok(None);
        };
        let user = match self.search(email)? {
            Answer::NotFound => return Ok(None),
            // `many=true` answers a list; accept one too, taking the first user.
            Answer::Found(Value::Array(users)) => match users.into_iter().next() {
                Some(user) => user,
                None => return Ok(None),
            },
            Answer::Found(user) => user,
        };
        user.get("id")
            .and_then(http::id_string)
            .map(Some)
            .ok_or_else(|| bad_response("the search answer has no user id"))
    }

    fn update_contact(&self, contact_id: &str, fields: &Map<String, Value>) -> Result<()> {
        let segment = http::contact_id_segment(CrmKind::UserEngage, contact_id)?;
        if fields.is_empty() {
            return Ok(());
        }
        let path = format!("users/{segment}/set_multiple_attributes/");
        let body = Value::Object(fields.clone());
        self.client
            .call_for_contact(Method::Post, &path, Some(&body), contact_id)
            .map(drop)
    }

    fn test_connection(&self) -> Result<()> {
        // A JSON 404 is User.com saying "no such user": address and key both work. A 404 page
        // that is not JSON has already become an `InvalidSetting` naming the URL.
        self.search(PROBE_EMAIL).map(|_| ())
    }
}

fn bad_response(detail: &str) -> Error {
    http::bad_response(CrmKind::UserEngage, detail)
}

/// A `Contact` from a User.com user object (`GET users/{id}/`, `users/search/`).
/// `requested_id` is used when the object has no id of its own.
pub fn contact_from_user(requested_id: &str, user: &Value) -> Result<Contact> {
    let object = user
        .as_object()
        .ok_or_else(|| bad_response("the user is not a JSON object"))?;
    let id = object
        .get("id")
        .and_then(http::id_string)
        .unwrap_or_else(|| requested_id.to_string());

    let fields = contact::userengage::user_fields(object);

    let email = object
        .get("email")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_string);
    let tags = object
        .get("tags")
        .and_then(contact::userengage::tag_names)
        .unwrap_or_default();
    Ok(Contact {
        id,
        email,
        fields,
        tags,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn user_object_becomes_a_contact() {
        let user = json!({
            "id": 19678376, "email": " example@email.com ", "name": "Jane  van Doe",
            "score": 0, "unsubscribed": false, "city": null,
            "attributes": [{"value": true, "name_std": "example_attr"}, {"name": "no std"}],
            "tags": [{"name": "tag", "id": 1441}], "lists": []
        });
        let c = contact_from_user("1", &user).unwrap();
        assert_eq!(c.id, "19678376");
        assert_eq!(c.email.as_deref(), Some("example@email.com"));
        assert_eq!(c.fields["first_name"], json!("Jane"));
        assert_eq!(c.fields["last_name"], json!("van Doe"));
        assert_eq!(c.fields["example_attr"], json!(true));
        assert_eq!(c.fields["city"], Value::Null);
        assert!(!c.fields.contains_key("lists") && !c.fields.contains_key("tags"));
        assert_eq!(c.tags, vec!["tag"]);
        assert!(contact_from_user("1", &json!([1])).is_err());
    }
}
