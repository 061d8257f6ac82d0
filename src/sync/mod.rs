//! Apply: turns one contact event of a parsed `Webhook` into changes to a WordPress user
//! (`apply_event`); `pipeline` runs it for every event and answers.
//!
//! Each action has its file (`update` serves `update` and `update_tags`, `add` creates);
//! `users` holds the username, password and role policy, `tags` the tag bookkeeping, `fields`
//! the mapping of CRM fields onto WordPress fields. WordPress is reached only through `Site`,
//! the CRM only through `Crm`.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::crm::{Contact, Crm};
use crate::crm_kind::contact_id_meta_key_of;
use crate::error::{Error, Result};
use crate::settings::Settings;
use crate::site::{Site, UserId};
use crate::webhook::{Action, ContactEvent, Options, Webhook};

mod add;
pub mod checks;
pub mod fields;
pub mod ordering;
mod tags;
mod update;
pub mod users;

/// What happened to one contact event. Its name is the variant's, lowercased (strum, serde
/// through it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::IntoStaticStr)]
#[serde(into = "&'static str")]
#[strum(serialize_all = "lowercase")]
pub enum Outcome {
    /// A new user was created.
    Created,
    /// An existing, linked user was updated.
    Updated,
    /// A user was found by email, linked to the contact and updated.
    Linked,
    /// The contact was deleted in the CRM; its link to the user was removed.
    Unlinked,
    /// Nothing to do; `reason` says why.
    Ignored,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The result of one contact event, as reported in the answer's `results`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventResult {
    pub contact_id: String,
    pub outcome: Outcome,
    pub user_id: Option<UserId>,
    /// Stable reason code for `Ignored` (e.g. `no_matching_user`).
    pub reason: Option<&'static str>,
    /// Short sentences for the site owner; never secrets.
    pub notes: Vec<String>,
    /// The role the user was given or kept, when a role was involved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Why a requested role was not given (`unknown_role`, `privileged_role`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_refused: Option<&'static str>,
    /// Whether a generated password was written to the CRM.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub password_returned: bool,
}

impl EventResult {
    fn new(contact_id: &str, outcome: Outcome, user_id: Option<UserId>) -> Self {
        EventResult {
            contact_id: contact_id.to_string(),
            outcome,
            user_id,
            reason: None,
            role: None,
            role_refused: None,
            password_returned: false,
            notes: Vec::new(),
        }
    }

    fn ignored(contact_id: &str, reason: &'static str) -> Self {
        EventResult {
            reason: Some(reason),
            ..EventResult::new(contact_id, Outcome::Ignored, None)
        }
    }
}

/// Whether the caller of `apply_event` already holds the contact's lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactLock {
    /// `apply_event` takes it (`ordering::with_contact_lock`) for the apply.
    Take,
    /// The caller holds it: the queue's drain takes it before it claims the contact's
    /// events, so the claim, the apply and the settling of its rows happen under one lock.
    Held,
}

/// Applies one contact event of a parsed webhook: finds, links, creates or updates its user,
/// under the contact's lock (taken here, or `held` by the caller). A contact the CRM no
/// longer has is `Ignored` (`contact_not_found_in_crm`), not an error.
pub fn apply_event(
    webhook: &Webhook,
    event: &ContactEvent,
    settings: &Settings,
    site: &dyn Site,
    crm: &dyn Crm,
    lock: ContactLock,
) -> Result<EventResult> {
    let context = Context::new(webhook, settings, site, crm);
    let result = match lock {
        ContactLock::Take => context.with_contact_lock(&event.contact_id, || {
            context.apply_locked(webhook.action, event)
        }),
        ContactLock::Held => context.apply_locked(webhook.action, event),
    };
    not_found_is_ignored(event, result)
}

/// The CRM told us about a contact it no longer has: nothing to do, and no reason for it (or
/// the queue) to retry.
fn not_found_is_ignored(event: &ContactEvent, result: Result<EventResult>) -> Result<EventResult> {
    match result {
        Err(Error::CrmContactNotFound { .. }) => Ok(EventResult::ignored(
            &event.contact_id,
            "contact_not_found_in_crm",
        )),
        other => other,
    }
}

/// A contact's data, from the payload when it carries it, else from the CRM's API.
#[derive(Debug, Clone, PartialEq, Default)]
struct ContactData {
    email: Option<String>,
    fields: Map<String, Value>,
    tags: Option<Vec<String>>,
    /// The fields are named by WordPress field already: a mapping read them from the payload
    /// (its `fields` say which pointer fills which WordPress field), so no field map applies.
    by_wordpress_name: bool,
}

/// How much of a contact an action needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Fields, tags and role (`update`, `add`).
    Everything,
    /// Tags only (`update_tags`).
    TagsOnly,
}

/// How a user was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FoundBy {
    ContactId,
    Email,
}

/// Everything one webhook's events share.
struct Context<'a> {
    /// The source's slug (`webhook.crm`): it names the user meta and the contact's lock.
    crm_slug: &'a str,
    settings: &'a Settings,
    site: &'a dyn Site,
    crm: &'a dyn Crm,
    options: &'a Options,
}

impl<'a> Context<'a> {
    /// The context of one of `webhook`'s events.
    fn new(
        webhook: &'a Webhook,
        settings: &'a Settings,
        site: &'a dyn Site,
        crm: &'a dyn Crm,
    ) -> Self {
        Context {
            crm_slug: &webhook.crm,
            settings,
            site,
            crm,
            options: &webhook.options,
        }
    }

    /// One event, under its contact's lock.
    fn apply_locked(&self, action: Action, event: &ContactEvent) -> Result<EventResult> {
        if event.deleted {
            self.unlink(event)
        } else {
            match action {
                Action::Update => self.update(event, Scope::Everything),
                Action::UpdateTags => self.update(event, Scope::TagsOnly),
                Action::Add => self.add(event),
                Action::Test => Ok(EventResult::ignored(&event.contact_id, "test")),
            }
        }
    }

    /// A deleted contact: remove its link; users are never deleted by a webhook.
    fn unlink(&self, event: &ContactEvent) -> Result<EventResult> {
        let key = contact_id_meta_key_of(self.crm_slug);
        match self.site.find_user_by_meta(&key, &event.contact_id)? {
            Some(user_id) if self.is_stale(user_id, event)? => Ok(EventResult {
                user_id: Some(user_id),
                ..EventResult::ignored(&event.contact_id, ordering::STALE_EVENT)
            }),
            Some(user_id) => {
                self.site.delete_user_meta(user_id, &key)?;
                self.record_event_time(user_id, event)?;
                self.site.do_action(
                    "wpf_bridge_contact_unlinked",
                    &[user_id.into(), event.contact_id.clone().into()],
                )?;
                Ok(EventResult::new(
                    &event.contact_id,
                    Outcome::Unlinked,
                    Some(user_id),
                ))
            }
            None => Ok(EventResult::ignored(&event.contact_id, "no_matching_user")),
        }
    }

    /// The contact's data from the payload, when it carries what `scope` needs.
    fn payload_data(&self, event: &ContactEvent, scope: Scope) -> Option<ContactData> {
        // Only Mautic's and User.com's payloads are read by a parser of their own, with the
        // CRM's field names; every other source reads through a mapping, whose complete
        // payload may say nothing about tags (Kit): the user's tags then stay as they are.
        let mapped = crate::crm_kind::is_mapped(self.crm_slug);
        let complete = match scope {
            Scope::Everything => event.fields.is_some() && (event.tags.is_some() || mapped),
            Scope::TagsOnly => event.tags.is_some(),
        };
        complete.then(|| ContactData {
            email: event.email.clone(),
            fields: event.fields.clone().unwrap_or_default(),
            tags: event.tags.clone(),
            by_wordpress_name: mapped,
        })
    }

    /// The contact's fields sorted by the field map in force.
    fn map_fields(&self, data: &ContactData) -> fields::MappedFields {
        let map = if data.by_wordpress_name {
            data.fields
                .keys()
                .map(|name| (name.clone(), name.clone()))
                .collect()
        } else {
            fields::effective_map(self.crm_slug, &self.settings.field_map)
        };
        fields::map_fields(&data.fields, &map)
    }

    /// The contact's data from the CRM's API.
    fn load_contact(&self, event: &ContactEvent) -> Result<ContactData> {
        let Contact {
            email,
            fields,
            tags,
            ..
        } = self.crm.load_contact(&event.contact_id)?;
        Ok(ContactData {
            email: email.or_else(|| event.email.clone()),
            fields,
            tags: Some(tags),
            by_wordpress_name: false,
        })
    }

    /// Links a user to the contact (replacing an older link after a CRM merge).
    fn link(&self, user_id: UserId, contact_id: &str, notes: &mut Vec<String>) -> Result<()> {
        let key = contact_id_meta_key_of(self.crm_slug);
        if let Some(previous) = self
            .site
            .user_meta(user_id, &key)?
            .as_ref()
            .and_then(crate::text::value_text)
        {
            if previous != contact_id {
                notes.push(format!("relinked from contact {previous}"));
            }
        }
        self.site
            .update_user_meta(user_id, &key, &Value::String(contact_id.to_string()))
    }
}
