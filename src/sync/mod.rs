//! Apply: turns a parsed `Webhook` into changes to WordPress users, and answers the CRM.
//!
//! `handle_webhook` is the whole flow for one request (authenticate, parse, apply, answer);
//! `apply` is the second half alone, for a queue that stored what intake produced. Each action
//! has its file (`update` serves `update` and `update_tags`, `add` creates); `users` holds the
//! username, password and role policy, `tags` the tag bookkeeping. WordPress is reached only
//! through `Site`, the CRM only through `Crm`.

use serde_json::{json, Map, Value};

use crate::crm::{fields, Contact, Crm, CrmKind};
use crate::error::{Error, Result};
use crate::settings::Settings;
use crate::site::{LogLevel, Site, UserId};
use crate::webhook::{auth, payload, Action, ContactEvent, Options, Request, Webhook};

mod add;
mod budget;
pub mod checks;
pub mod ordering;
mod tags;
mod update;
pub mod users;

/// What the plugin sends back: an HTTP status and a JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: u16,
    pub body: Value,
}

/// What happened to one contact event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
        match self {
            Outcome::Created => "created",
            Outcome::Updated => "updated",
            Outcome::Linked => "linked",
            Outcome::Unlinked => "unlinked",
            Outcome::Ignored => "ignored",
        }
    }
}

/// The result of one contact event, as reported in the response body.
#[derive(Debug, Clone, PartialEq)]
pub struct EventResult {
    pub contact_id: String,
    pub outcome: Outcome,
    pub user_id: Option<UserId>,
    /// Stable reason code for `Ignored` (e.g. `no_matching_user`).
    pub reason: Option<&'static str>,
    /// The role the user was given or kept, when a role was involved.
    pub role: Option<String>,
    /// Why a requested role was not given (`unknown_role`, `privileged_role`, ...).
    pub role_refused: Option<&'static str>,
    /// Whether a generated password was written to the CRM.
    pub password_returned: bool,
    /// Short sentences for the site owner; never secrets.
    pub notes: Vec<String>,
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

    fn to_json(&self) -> Value {
        let mut out = json!({
            "contact_id": self.contact_id,
            "outcome": self.outcome.as_str(),
            "user_id": self.user_id,
            "reason": self.reason,
            "notes": self.notes,
        });
        if let Some(object) = out.as_object_mut() {
            if let Some(role) = &self.role {
                object.insert("role".into(), role.clone().into());
            }
            if let Some(refused) = self.role_refused {
                object.insert("role_refused".into(), refused.into());
            }
            if self.password_returned {
                object.insert("password_returned".into(), true.into());
            }
        }
        out
    }
}

/// One whole webhook request: authenticate, parse, apply every event in order, answer.
pub fn handle_webhook(
    request: &Request,
    settings: &Settings,
    site: &dyn Site,
    crm: &dyn Crm,
) -> Response {
    let intake = auth::authenticate(request, settings).and_then(|signed| {
        payload::parse_authenticated(settings.crm, request, settings.max_body_bytes, signed)
    });
    match intake {
        Ok(webhook) => apply(&webhook, settings, site, crm),
        Err(error) => {
            site.log(
                LogLevel::Error,
                &format!("Webhook refused: {error} [{}]", error.code()),
            );
            error_response(&error, None, &[])
        }
    }
}

/// Applies a parsed webhook. Events run in order; the first failure stops the batch and is
/// answered with its status, so the CRM retries the whole batch (every step is idempotent).
pub fn apply(webhook: &Webhook, settings: &Settings, site: &dyn Site, crm: &dyn Crm) -> Response {
    let context = Context {
        crm_kind: webhook.crm,
        settings,
        site,
        crm,
        options: &webhook.options,
    };
    if webhook.action == Action::Test {
        site.log(
            LogLevel::Info,
            "Test webhook received: the access key is valid.",
        );
        return Response {
            status: 200,
            body: json!({
                "success": true,
                "action": "test",
                "crm": webhook.crm.slug(),
                "message": "wpf-bridge is installed and the access key is valid.",
            }),
        };
    }
    let budget = budget::Budget::start(settings);
    if let Err(error) = budget.check_events(webhook.events.len()) {
        site.log(
            LogLevel::Error,
            &format!("Webhook refused: {error} [{}]", error.code()),
        );
        return error_response(&error, Some(webhook), &[]);
    }
    let mut results = Vec::with_capacity(webhook.events.len());
    for event in &webhook.events {
        if budget.spent() && !results.is_empty() {
            return budget::exceeded(webhook, &results, site);
        }
        match context.apply_event(webhook.action, event) {
            Ok(result) => {
                site.log(LogLevel::Info, &describe(webhook.action, &result));
                results.push(result);
            }
            Err(error) => {
                site.log(
                    LogLevel::Error,
                    &format!(
                        "{} for contact {} failed: {error} [{}]",
                        webhook.action.as_str(),
                        event.contact_id,
                        error.code()
                    ),
                );
                return error_response(&error, Some(webhook), &results);
            }
        }
    }
    let mut body = json!({
        "success": true,
        "action": webhook.action.as_str(),
        "crm": webhook.crm.slug(),
        "results": results.iter().map(EventResult::to_json).collect::<Vec<_>>(),
    });
    if webhook.options.async_ == Some(true) {
        if let Some(object) = body.as_object_mut() {
            object.insert(
                "notes".into(),
                json!(["async was requested; wpf-bridge has no queue yet, so the webhook was applied at once"]),
            );
        }
    }
    Response { status: 200, body }
}

/// The answer for a failure: its status, code and sentence, and what was done before it.
pub fn error_response(
    error: &Error,
    webhook: Option<&Webhook>,
    results: &[EventResult],
) -> Response {
    let mut body = json!({
        "success": false,
        "code": error.code(),
        "message": error.to_string(),
    });
    if let (Some(webhook), Some(object)) = (webhook, body.as_object_mut()) {
        object.insert("action".into(), webhook.action.as_str().into());
        object.insert("crm".into(), webhook.crm.slug().into());
        object.insert(
            "results".into(),
            results
                .iter()
                .map(EventResult::to_json)
                .collect::<Vec<_>>()
                .into(),
        );
    }
    Response {
        status: error.status(),
        body,
    }
}

fn describe(action: Action, result: &EventResult) -> String {
    let mut line = format!(
        "{}: contact {} {}",
        action.as_str(),
        result.contact_id,
        result.outcome.as_str()
    );
    if let Some(user_id) = result.user_id {
        line.push_str(&format!(" user {user_id}"));
    }
    if let Some(reason) = result.reason {
        line.push_str(&format!(" ({reason})"));
    }
    if let Some(role) = &result.role {
        line.push_str(&format!(", role {role}"));
    }
    for note in &result.notes {
        line.push_str("; ");
        line.push_str(note);
    }
    line
}

/// A contact's data, from the payload when it carries it, else from the CRM's API.
#[derive(Debug, Clone, PartialEq, Default)]
struct ContactData {
    email: Option<String>,
    fields: Map<String, Value>,
    tags: Option<Vec<String>>,
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
    crm_kind: CrmKind,
    settings: &'a Settings,
    site: &'a dyn Site,
    crm: &'a dyn Crm,
    options: &'a Options,
}

impl Context<'_> {
    fn apply_event(&self, action: Action, event: &ContactEvent) -> Result<EventResult> {
        let result = self.with_contact_lock(&event.contact_id, || self.apply_locked(action, event));
        match result {
            // The CRM told us about a contact it no longer has: nothing to do, and no reason
            // for it to retry.
            Err(Error::CrmContactNotFound { .. }) => Ok(EventResult::ignored(
                &event.contact_id,
                "contact_not_found_in_crm",
            )),
            other => other,
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
        let key = self.crm_kind.contact_id_meta_key();
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
        let complete = match scope {
            Scope::Everything => event.fields.is_some() && event.tags.is_some(),
            Scope::TagsOnly => event.tags.is_some(),
        };
        complete.then(|| ContactData {
            email: event.email.clone(),
            fields: event.fields.clone().unwrap_or_default(),
            tags: event.tags.clone(),
        })
    }

    /// The contact's fields sorted by the field map in force.
    fn map_fields(&self, data: &ContactData) -> fields::MappedFields {
        let map = fields::effective_map(self.crm_kind, &self.settings.field_map);
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
        })
    }

    /// Links a user to the contact (replacing an older link after a CRM merge).
    fn link(&self, user_id: UserId, contact_id: &str, notes: &mut Vec<String>) -> Result<()> {
        let key = self.crm_kind.contact_id_meta_key();
        if let Some(previous) = self
            .site
            .user_meta(user_id, &key)?
            .as_ref()
            .and_then(fields::value_text)
        {
            if previous != contact_id {
                notes.push(format!("relinked from contact {previous}"));
            }
        }
        self.site
            .update_user_meta(user_id, &key, &Value::String(contact_id.to_string()))
    }
}
