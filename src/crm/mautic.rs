//! The Mautic REST API client: the `Crm` port for Mautic.
//!
//! The apply step (`sync/`) uses it when a webhook's payload lacks the contact's data, to find
//! a contact by email, and to write fields back (a generated password). HTTP, status mapping
//! and argument checks are `http/`'s; this file knows Mautic's paths, auth and JSON shapes:
//! - base: `mautic_url` without trailing `/`; auth: `Bearer mautic_token` when a token is set,
//!   else `Basic mautic_username:mautic_password` (Mautic must have "Enable HTTP basic auth");
//! - load: `GET /api/contacts/{id}`: fields from `contact.fields.all` (alias to value, or the
//!   grouped fields flattened when `all` is missing), tags from `contact.tags[].tag`;
//! - find: `GET /api/contacts?search=email:"+{email}"` (the `+` makes Mautic's match strict);
//! - update: `PATCH /api/contacts/{id}/edit` with a JSON body;
//! - test: `GET /api/contacts?limit=1&minimal=true`.

use serde_json::{Map, Value};

use crate::contact;
use crate::crm::http::{self, Answer, ApiSpec, Client, Endpoint, Method};
use crate::crm::{Contact, Crm, CrmKind};
use crate::error::{Error, Result};
use crate::settings::Settings;

const SPEC: ApiSpec = ApiSpec {
    crm: CrmKind::Mautic,
};

/// How many search hits `find_contact_id` looks at. Mautic's strict search still uses SQL
/// `LIKE`, where `_` matches any character, so hits are checked against the email.
const SEARCH_LIMIT: u32 = 10;

/// Talks to one Mautic instance.
pub struct MauticClient {
    client: Client,
}

impl MauticClient {
    /// Never fails and never calls the network; missing settings fail at first use.
    pub fn new(settings: &Settings) -> Self {
        MauticClient {
            client: Client::new(
                SPEC,
                settings.crm_timeout,
                endpoint(settings),
                "application/json",
            ),
        }
    }
}

fn endpoint(settings: &Settings) -> Result<Endpoint> {
    let base = http::base_url(SPEC.url_key(), settings.mautic_url.as_deref())?;
    let username = settings
        .mautic_username
        .as_deref()
        .map(str::trim)
        .unwrap_or("");
    let authorization = if !settings.mautic_token.expose().trim().is_empty() {
        http::authorization("Bearer", "mautic_token", &settings.mautic_token)?
    } else if !username.is_empty() {
        if settings.mautic_password.is_empty() {
            return Err(Error::setting(
                "mautic_password",
                "it is not set; Basic auth needs the Mautic user's password",
            ));
        }
        http::basic_authorization("mautic_username", username, &settings.mautic_password)?
    } else {
        return Err(Error::setting(
            "mautic_username",
            "it is not set; enter a Mautic username and password (Basic auth) or an OAuth2 \
             access token (mautic_token)",
        ));
    };
    Ok(Endpoint {
        base,
        authorization,
    })
}

impl Crm for MauticClient {
    fn kind(&self) -> Option<CrmKind> {
        Some(CrmKind::Mautic)
    }

    fn load_contact(&self, contact_id: &str) -> Result<Contact> {
        let segment = http::contact_id_segment(CrmKind::Mautic, contact_id)?;
        let path = format!("/api/contacts/{segment}");
        let json = self
            .client
            .call_for_contact(Method::Get, &path, None, contact_id)?;
        let contact = json
            .get("contact")
            .ok_or_else(|| bad_response("the contact answer has no \"contact\" object"))?;
        contact_from_api(contact_id.trim(), contact)
    }

    fn find_contact_id(&self, email: &str) -> Result<Option<String>> {
        let Some(email) = crate::email::searchable(email) else {
            return Ok(None);
        };
        let search = http::encode_component(&format!("email:\"+{email}\""));
        let path = format!(
            "/api/contacts?search={search}&minimal=true&limit={SEARCH_LIMIT}\
             &orderBy=id&orderByDir=asc"
        );
        match self.client.call(Method::Get, &path, None)? {
            // Mautic answers an empty search with 200; a 404 would be a proxy's or an old
            // version's way to say the same.
            Answer::NotFound => Ok(None),
            Answer::Found(json) => pick_search_hit(&json, email),
        }
    }

    fn update_contact(&self, contact_id: &str, fields: &Map<String, Value>) -> Result<()> {
        let segment = http::contact_id_segment(CrmKind::Mautic, contact_id)?;
        if fields.is_empty() {
            return Ok(());
        }
        let mut body = fields.clone();
        // Without it Mautic silently ignores empty values: we write exactly what we are given.
        body.entry("overwriteWithBlank")
            .or_insert(Value::Bool(true));
        let path = format!("/api/contacts/{segment}/edit");
        self.client
            .call_for_contact(Method::Patch, &path, Some(&Value::Object(body)), contact_id)
            .map(drop)
    }

    fn test_connection(&self) -> Result<()> {
        match self
            .client
            .call(Method::Get, "/api/contacts?limit=1&minimal=true", None)?
        {
            Answer::NotFound => Err(self.client.wrong_url(404)),
            Answer::Found(json)
                if json.get("contacts").is_some() || json.get("total").is_some() =>
            {
                Ok(())
            }
            Answer::Found(_) => Err(bad_response(
                "the contact list answer has no \"contacts\" member",
            )),
        }
    }
}

fn bad_response(detail: &str) -> Error {
    http::bad_response(CrmKind::Mautic, detail)
}

/// A `Contact` from the `contact` object of `GET /api/contacts/{id}` (also the shape of a
/// list entry). `requested_id` is used when the object has no id of its own.
pub fn contact_from_api(requested_id: &str, contact: &Value) -> Result<Contact> {
    let object = contact
        .as_object()
        .ok_or_else(|| bad_response("the contact is not a JSON object"))?;
    let id = object
        .get("id")
        .and_then(http::id_string)
        .unwrap_or_else(|| requested_id.to_string());
    let groups = object.get("fields");
    let fields = match groups.and_then(|f| f.get("all")).and_then(Value::as_object) {
        Some(all) => all.clone(),
        None => groups
            .map(contact::mautic::fields_from_groups)
            .unwrap_or_default(),
    };
    let email = fields
        .get("email")
        .and_then(Value::as_str)
        .or_else(|| {
            groups
                .and_then(|g| g.pointer("/core/email/value"))
                .and_then(Value::as_str)
        })
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_string);
    Ok(Contact {
        id,
        email,
        fields,
        tags: object
            .get("tags")
            .and_then(contact::mautic::tag_names)
            .unwrap_or_default(),
    })
}

/// The id of the search hit whose email is `email` (case-insensitive). `contacts` is an object
/// keyed by id, or `[]` when nothing matched (older docs show a list, accepted too). A hit that
/// carries no email at all (a `minimal` answer without fields) is taken on trust.
fn pick_search_hit(json: &Value, email: &str) -> Result<Option<String>> {
    let hits: Vec<(Option<&String>, &Value)> = match json.get("contacts") {
        Some(Value::Object(map)) => map.iter().map(|(k, v)| (Some(k), v)).collect(),
        Some(Value::Array(items)) => items.iter().map(|v| (None, v)).collect(),
        _ => return Err(bad_response("the search answer has no \"contacts\" member")),
    };
    let mut unverified = None;
    for (key, hit) in hits {
        let Some(id) = hit
            .get("id")
            .and_then(http::id_string)
            .or_else(|| key.cloned())
        else {
            continue;
        };
        let hit_email = hit
            .pointer("/fields/all/email")
            .or_else(|| hit.pointer("/fields/core/email/value"))
            .and_then(Value::as_str);
        match hit_email {
            Some(e) if e.trim().eq_ignore_ascii_case(email) => return Ok(Some(id)),
            Some(_) => {}
            None => {
                unverified.get_or_insert(id);
            }
        }
    }
    Ok(unverified)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn grouped_fields_flatten_when_all_is_missing() {
        let contact = json!({
            "id": 7,
            "fields": {
                "core": {"email": {"alias": "email", "value": "a@b.c"},
                         "firstname": {"value": "Ann"}},
                "social": {"twitter": {"value": null}},
                "personal": []
            },
            "tags": [{"id": 1, "tag": "vip"}, "plain", {"nope": 1}]
        });
        let c = contact_from_api("7", &contact).unwrap();
        assert_eq!(c.email.as_deref(), Some("a@b.c"));
        assert_eq!(c.fields["firstname"], json!("Ann"));
        assert_eq!(c.fields["twitter"], Value::Null);
        assert_eq!(c.tags, vec!["vip", "plain"]);
    }

    #[test]
    fn search_hits_are_checked_against_the_email() {
        let empty = json!({"total": "0", "contacts": []});
        assert_eq!(pick_search_hit(&empty, "a@b.c").unwrap(), None);
        let hits = json!({"total": "2", "contacts": {
            "3": {"id": 3, "fields": {"all": {"email": "aXb@c.d"}}},
            "9": {"id": 9, "fields": {"all": {"email": "A_b@c.d"}}}
        }});
        assert_eq!(
            pick_search_hit(&hits, "a_b@c.d").unwrap().as_deref(),
            Some("9")
        );
        let bare = json!({"contacts": {"12": {"isPublished": true}}});
        assert_eq!(
            pick_search_hit(&bare, "x@y.z").unwrap().as_deref(),
            Some("12")
        );
        assert!(pick_search_hit(&json!({"total": 0}), "x@y.z").is_err());
    }
}
