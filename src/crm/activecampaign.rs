//! The ActiveCampaign API v3 client: the `Crm` port for ActiveCampaign.
//!
//! The apply step (`sync/`) uses it when an ActiveCampaign webhook (read by the
//! `activecampaign` preset mapping) carries too little, and to write a generated password to
//! a custom field. HTTP, status mapping and argument checks are `http/`'s; this file knows
//! ActiveCampaign's paths, auth and JSON shapes (`contact::activecampaign`). What each call
//! is based on (developers.activecampaign.com, API v3 reference, as served by the search
//! tool's stored pages; nothing here is from memory alone):
//! - base: the account's API URL (Settings > Developer: `https://ACCOUNT.api-us1.com`) with
//!   `/api/3` appended unless given; auth: header `Api-Token: KEY` (the reference's OpenAPI
//!   `securitySchemes`: `apiKey`, `in: header`, `name: Api-Token`);
//! - load: `GET /contacts/{id}` (`{"contact": {email, firstName, lastName, phone, id, ...}}`;
//!   the reference's 404 body is `{"message": "No Result found for Subscriber with id N"}`),
//!   then `GET /contacts/{id}/fieldValues` (`{"fieldValues": [{contact, field, value, id}]}`,
//!   "Retrieve a contact's field values") with the fields' names from `GET /fields?limit=100
//!   &offset=N` (`{"fields": [{id, title, perstag}], "meta": {"total"}}`, paged by
//!   `limit`/`offset`, 100 at most), then `GET /contacts/{id}/contactTags`
//!   (`{"contactTags": [{contact, tag, id}]}`) with each tag's name from `GET /tags/{id}`
//!   (`{"tag": {"tag": "My Tag", "id"}}`, "Retrieve a tag"). A custom field is filed under its
//!   `perstag`, else its title; the standard fields under their own keys;
//! - find: `GET /contacts?email=` (`{"contacts": [...]}`), the hit checked against the email;
//! - update: `POST /fieldValues` `{"fieldValue": {"contact", "field", "value"}}` per field
//!   ("Create a custom field value": it sets the contact's value of that field; the value is
//!   sent as a string, as the reference types it). Fields are named by personalization tag or
//!   title; the standard fields cannot be written this way and are refused;
//! - test: `GET /contacts?limit=1`.
//!
//! Assumed, not documented: a wrong `Api-Token` is answered 401 or 403 (either is `CrmAuth`);
//! `/contacts/{id}/contactTags` and `/contacts/{id}/fieldValues` are not paged.

use serde_json::{json, Map, Value};

use crate::contact::activecampaign as shape;
use crate::crm::http::{self, Answer, ApiSpec, Client, Endpoint, Method};
use crate::crm::{ApiAccess, Contact, Crm, CrmKind};
use crate::error::{Error, Result};

const SPEC: ApiSpec = ApiSpec {
    crm: CrmKind::ActiveCampaign,
};

/// The settings key of the API key, named in errors.
pub const TOKEN_KEY: &str = "activecampaign_api_key";

/// ActiveCampaign's largest page (`limit`).
const PAGE_SIZE: usize = 100;
/// Most pages of `/fields` read for one call: 2,000 custom fields.
const MAX_FIELD_PAGES: usize = 20;
/// Most tags loaded one by one for a contact; a contact with more is refused rather than
/// loaded with some tags missing (tags sync would remove the others in WordPress).
pub const MAX_TAGS: usize = 100;

/// Talks to one ActiveCampaign account.
pub struct ActiveCampaignClient {
    client: Client,
}

impl ActiveCampaignClient {
    /// Never fails and never calls the network; missing access fails at first use.
    pub fn new(access: &ApiAccess) -> Self {
        ActiveCampaignClient {
            client: Client::new(SPEC, access.timeout, endpoint(access), "application/json")
                .with_auth_header("Api-Token"),
        }
    }

    fn get(&self, path: &str) -> Result<Answer> {
        self.client.call(Method::Get, path, None)
    }

    /// The account's custom fields, read page by page until `wanted` says stop (it is given
    /// each page's fields) or the pages end.
    fn fields_until(&self, mut wanted: impl FnMut(&[Value]) -> bool) -> Result<()> {
        for page in 0..MAX_FIELD_PAGES {
            let offset = page * PAGE_SIZE;
            let json = match self.get(&format!("/fields?limit={PAGE_SIZE}&offset={offset}"))? {
                Answer::NotFound => return Err(self.client.wrong_url(404)),
                Answer::Found(json) => json,
            };
            let fields = json
                .get("fields")
                .and_then(Value::as_array)
                .ok_or_else(|| bad_response("the field list has no \"fields\" list"))?;
            if !wanted(fields) || fields.len() < PAGE_SIZE {
                return Ok(());
            }
            let total = json
                .pointer("/meta/total")
                .and_then(http::id_string)
                .and_then(|t| t.parse::<usize>().ok());
            if total.is_some_and(|total| offset + fields.len() >= total) {
                return Ok(());
            }
        }
        Ok(())
    }

    /// The list `member` of a contact's sub-resource at `path` (its field values, its tags);
    /// a 404 there means the contact is gone.
    fn contact_list(&self, contact_id: &str, path: &str, member: &str) -> Result<Value> {
        match self.get(path)? {
            Answer::NotFound => Err(not_found(contact_id)),
            Answer::Found(json) => json.get(member).cloned().ok_or_else(|| {
                bad_response(&format!("the answer to {path} has no \"{member}\" list"))
            }),
        }
    }

    fn custom_fields(&self, contact_id: &str, segment: &str) -> Result<Map<String, Value>> {
        let records = self.contact_list(
            contact_id,
            &format!("/contacts/{segment}/fieldValues"),
            "fieldValues",
        )?;
        let mut values = shape::field_values(&records);
        let mut fields = Map::new();
        if values.is_empty() {
            return Ok(fields);
        }
        self.fields_until(|page| {
            for field in page {
                let Some(id) = field.get("id").and_then(http::id_string) else {
                    continue;
                };
                let Some(key) = shape::field_key(field) else {
                    continue;
                };
                values.retain(|(field_id, value)| {
                    if *field_id == id {
                        fields.insert(key.clone(), value.clone());
                        false
                    } else {
                        true
                    }
                });
            }
            !values.is_empty()
        })?;
        // A value whose field is not listed (deleted meanwhile) is left out: it has no name a
        // field map could use.
        Ok(fields)
    }

    fn tags(&self, contact_id: &str, segment: &str) -> Result<Vec<String>> {
        let records = self.contact_list(
            contact_id,
            &format!("/contacts/{segment}/contactTags"),
            "contactTags",
        )?;
        let ids = shape::tag_ids(&records);
        if ids.len() > MAX_TAGS {
            return Err(bad_response(&format!(
                "the contact has {} tags; wpf-bridge loads at most {MAX_TAGS}",
                ids.len()
            )));
        }
        let mut names = Vec::with_capacity(ids.len());
        for id in ids {
            if !id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad_response(
                    "a contact tag names a tag id that is not a number",
                ));
            }
            match self.get(&format!("/tags/{}", http::encode_component(&id)))? {
                // Deleted between the two calls: the contact no longer has it.
                Answer::NotFound => {}
                Answer::Found(json) => {
                    let tag = json
                        .get("tag")
                        .ok_or_else(|| bad_response("the tag answer has no \"tag\" object"))?;
                    if let Some(name) = tag.get(shape::TAG_NAME_KEY).and_then(Value::as_str) {
                        names.push(name.to_string());
                    }
                }
            }
        }
        Ok(crate::text::tag_list(names))
    }
}

fn endpoint(access: &ApiAccess) -> Result<Endpoint> {
    let base = http::base_url(SPEC.url_key(), access.url.as_deref())?;
    let base = if base.to_ascii_lowercase().ends_with("/api/3") {
        base
    } else {
        format!("{base}/api/3")
    };
    if access.token.expose().trim().is_empty() {
        return Err(Error::setting(
            TOKEN_KEY,
            "it is not set; copy the API key from ActiveCampaign (Settings > Developer)",
        ));
    }
    // `authorization` shapes "{scheme} {key}"; Api-Token carries the bare key.
    let header = http::authorization("", TOKEN_KEY, &access.token)?;
    Ok(Endpoint {
        base,
        authorization: crate::secret::Secret::new(header.expose().trim_start().to_string()),
    })
}

impl Crm for ActiveCampaignClient {
    fn kind(&self) -> Option<CrmKind> {
        Some(CrmKind::ActiveCampaign)
    }

    fn load_contact(&self, contact_id: &str) -> Result<Contact> {
        let segment = http::contact_id_segment(CrmKind::ActiveCampaign, contact_id)?;
        let contact = match self.get(&format!("/contacts/{segment}"))? {
            Answer::NotFound => return Err(not_found(contact_id)),
            Answer::Found(json) => json
                .get("contact")
                .and_then(Value::as_object)
                .cloned()
                .ok_or_else(|| bad_response("the contact answer has no \"contact\" object"))?,
        };
        let mut fields = self.custom_fields(contact_id, &segment)?;
        // The standard fields win over a custom field whose perstag is the same word.
        fields.extend(shape::standard_fields(&contact));
        let tags = self.tags(contact_id, &segment)?;
        Ok(Contact {
            id: contact
                .get("id")
                .and_then(http::id_string)
                .unwrap_or_else(|| contact_id.trim().to_string()),
            email: contact
                .get("email")
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(str::to_string),
            fields,
            tags,
        })
    }

    fn find_contact_id(&self, email: &str) -> Result<Option<String>> {
        let Some(email) = crate::email::searchable(email) else {
            return Ok(None);
        };
        let path = format!("/contacts?email={}", http::encode_component(email));
        let json = match self.get(&path)? {
            Answer::NotFound => return Ok(None),
            Answer::Found(json) => json,
        };
        let hits = json
            .get("contacts")
            .and_then(Value::as_array)
            .ok_or_else(|| bad_response("the search answer has no \"contacts\" list"))?;
        Ok(hits
            .iter()
            .filter(|hit| {
                hit.get("email")
                    .and_then(Value::as_str)
                    .is_some_and(|e| e.trim().eq_ignore_ascii_case(email))
            })
            .find_map(|hit| hit.get("id").and_then(http::id_string)))
    }

    fn update_contact(&self, contact_id: &str, fields: &Map<String, Value>) -> Result<()> {
        let segment = http::contact_id_segment(CrmKind::ActiveCampaign, contact_id)?;
        if fields.is_empty() {
            return Ok(());
        }
        if let Some(standard) = fields
            .keys()
            .find(|name| shape::STANDARD_FIELDS.contains(&name.trim()))
        {
            return Err(Error::InvalidArgument {
                name: "fields",
                reason: format!(
                    "\"{}\" is a standard ActiveCampaign field; wpf-bridge writes only custom \
                     fields (name one by its personalization tag or title)",
                    crate::text::printable(standard, 40)
                ),
            });
        }
        // Field ids by the names given; every name must be found before anything is written.
        let mut ids: Vec<Option<String>> = vec![None; fields.len()];
        self.fields_until(|page| {
            for (slot, name) in ids.iter_mut().zip(fields.keys()) {
                if slot.is_none() {
                    *slot = page
                        .iter()
                        .find(|field| shape::field_is_named(field, name))
                        .and_then(|field| field.get("id").and_then(http::id_string));
                }
            }
            ids.iter().any(Option::is_none)
        })?;
        if let Some((name, _)) = fields.keys().zip(&ids).find(|(_, id)| id.is_none()) {
            return Err(Error::InvalidArgument {
                name: "fields",
                reason: format!(
                    "ActiveCampaign has no custom field with the personalization tag or title \
                     \"{}\"; create it under Contacts > Fields",
                    crate::text::printable(name, 60)
                ),
            });
        }
        for ((_, value), field) in fields.iter().zip(ids.into_iter().flatten()) {
            let body = json!({"fieldValue": {
                "contact": segment,
                "field": field,
                "value": value_text(value),
            }});
            match self
                .client
                .call(Method::Post, "/fieldValues", Some(&body))?
            {
                Answer::NotFound => return Err(not_found(contact_id)),
                Answer::Found(_) => {}
            }
        }
        Ok(())
    }

    fn test_connection(&self) -> Result<()> {
        match self.get("/contacts?limit=1")? {
            Answer::NotFound => Err(self.client.wrong_url(404)),
            Answer::Found(json) if json.get("contacts").is_some() => Ok(()),
            Answer::Found(_) => Err(bad_response(
                "the contact list answer has no \"contacts\" member",
            )),
        }
    }
}

/// A value as ActiveCampaign's field values take it: text (numbers and booleans written out,
/// null as empty).
fn value_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn not_found(contact_id: &str) -> Error {
    http::contact_not_found(CrmKind::ActiveCampaign, contact_id)
}

fn bad_response(detail: &str) -> Error {
    http::bad_response(CrmKind::ActiveCampaign, detail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use std::time::Duration;

    fn access(url: &str, token: &str) -> ApiAccess {
        ApiAccess::new(
            Some(url.to_string()),
            Secret::new(token),
            Duration::from_secs(1),
        )
    }

    #[test]
    fn the_api_path_is_appended_once() {
        for url in [
            "https://acme.api-us1.com",
            "https://acme.api-us1.com/",
            "https://acme.api-us1.com/api/3/",
        ] {
            let endpoint = endpoint(&access(url, "k3y")).unwrap();
            assert_eq!(endpoint.base, "https://acme.api-us1.com/api/3", "{url}");
            assert_eq!(endpoint.authorization.expose(), "k3y");
        }
        let error = |token: &str| match endpoint(&access("https://acme.api-us1.com", token)) {
            Ok(_) => panic!("{token:?} was accepted"),
            Err(e) => e.to_string(),
        };
        assert!(error(" ").contains(TOKEN_KEY));
        assert!(!error("a b").contains("a b"));
    }

    #[test]
    fn values_are_sent_as_text() {
        assert_eq!(value_text(&json!("pw")), "pw");
        assert_eq!(value_text(&json!(12)), "12");
        assert_eq!(value_text(&json!(true)), "true");
        assert_eq!(value_text(&Value::Null), "");
    }
}
