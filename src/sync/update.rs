//! The `update` and `update_tags` actions, and the update half of `add` for a contact that
//! already has a user: find the user (contact id meta, then email), link it, write the mapped
//! fields, meta and tags, and give the requested role when policy allows.

use serde_json::Value;

use super::checks::{self, EmailMatch};
use super::users::{self, RoleDecision};
use super::{ordering, ContactData, Context, EventResult, FoundBy, Outcome, Scope};
use crate::crm_kind::contact_id_meta_key_of;
use crate::error::{Error, Result};
use crate::site::{User, UserId};
use crate::webhook::ContactEvent;

impl Context<'_> {
    /// `update` / `update_tags`: no matching user is "nothing to do", never an error.
    pub(super) fn update(&self, event: &ContactEvent, scope: Scope) -> Result<EventResult> {
        let mut data = self.payload_data(event, scope);
        let mut notes = Vec::new();
        let found = match self.find_by_contact_id(&event.contact_id)? {
            Some(user_id) => Some((user_id, FoundBy::ContactId)),
            None => {
                // The email is needed to find the user; ask the CRM when the payload has none.
                if event.email.is_none() && data.as_ref().and_then(|d| d.email.as_ref()).is_none() {
                    data = Some(self.load_contact(event)?);
                }
                let email = data
                    .as_ref()
                    .and_then(|d| d.email.clone())
                    .or_else(|| event.email.clone());
                match email {
                    Some(email) => self
                        .user_for_email(&email, &mut notes)?
                        .map(|id| (id, FoundBy::Email)),
                    None => None,
                }
            }
        };
        let Some((user_id, found_by)) = found else {
            return Ok(EventResult {
                notes,
                ..EventResult::ignored(&event.contact_id, "no_matching_user")
            });
        };
        let data = match data {
            Some(data) => data,
            None => self.load_contact(event)?,
        };
        self.update_user(event, user_id, found_by, &data, scope)
    }

    /// The unlinked user a contact's own email leads to: only an email WordPress keeps as it
    /// is, and only a user whose stored email is that address (`checks`); notes say why not.
    fn user_for_email(&self, email: &str, notes: &mut Vec<String>) -> Result<Option<UserId>> {
        if let Some(problem) = crate::email::problem(email) {
            notes.push(format!(
                "the contact's email was not used to find a user: {problem}"
            ));
            return Ok(None);
        }
        match self.find_user_by_exact_email(email)? {
            EmailMatch::None => Ok(None),
            EmailMatch::User(user_id) => Ok(Some(user_id)),
            EmailMatch::LookAlike => {
                notes.push(
                    "the contact's email was not used to find a user: a user's email only looks like it"
                        .into(),
                );
                Ok(None)
            }
        }
    }

    /// The lowest user id linked to this contact.
    pub(super) fn find_by_contact_id(&self, contact_id: &str) -> Result<Option<UserId>> {
        self.site
            .find_user_by_meta(&contact_id_meta_key_of(self.crm_slug), contact_id)
    }

    /// Writes a contact's data to an existing user.
    pub(super) fn update_user(
        &self,
        event: &ContactEvent,
        user_id: UserId,
        found_by: FoundBy,
        data: &ContactData,
        scope: Scope,
    ) -> Result<EventResult> {
        let user = self.site.user(user_id)?.ok_or_else(|| {
            Error::Site(format!("user {user_id} disappeared while being updated"))
        })?;
        if self.is_stale(user_id, event)? {
            return Ok(EventResult {
                user_id: Some(user_id),
                ..EventResult::ignored(&event.contact_id, ordering::STALE_EVENT)
            });
        }
        let outcome = match found_by {
            FoundBy::ContactId => Outcome::Updated,
            FoundBy::Email => Outcome::Linked,
        };
        let mut result = EventResult::new(&event.contact_id, outcome, Some(user_id));
        if found_by == FoundBy::Email {
            self.link(user_id, &event.contact_id, &mut result.notes)?;
        }
        let protected = users::is_protected(&user);
        if scope == Scope::Everything {
            self.write_fields(&user, protected, data, &mut result.notes)?;
        }
        if let Some(tags) = &data.tags {
            self.apply_tags(user_id, tags)?;
        }
        if scope == Scope::Everything {
            self.update_role(&user, protected, &mut result)?;
        }
        self.record_event_time(user_id, event)?;
        self.site.do_action(
            "wpf_bridge_user_updated",
            &[user_id.into(), event.contact_id.clone().into()],
        )?;
        Ok(result)
    }

    /// Mapped core fields and meta. The login never changes; the password only on creation
    /// (re-setting it on every update would log the user out and mail them each time); the
    /// email not for protected users, nor when another user has it.
    fn write_fields(
        &self,
        user: &User,
        protected: bool,
        data: &ContactData,
        notes: &mut Vec<String>,
    ) -> Result<()> {
        let mapped = self.map_fields(data);
        notes.extend(refused_notes(&mapped));
        let mut core = mapped.profile();
        checks::fit_columns(&mut core, notes);
        let wanted_email = mapped.core_text("user_email").map(str::to_string);
        if let Some(email) = wanted_email.filter(|email| !email.eq_ignore_ascii_case(&user.email)) {
            if protected {
                notes.push("email not changed: the user can administer the site".into());
            } else if let Some(problem) = crate::email::problem(&email) {
                notes.push(format!("email not changed: {problem}"));
            } else if self
                .site
                .find_user_by_email(&email)?
                .is_some_and(|other| other != user.id)
            {
                notes.push("email not changed: another user has it".into());
            } else {
                core.insert("user_email".into(), Value::String(email));
            }
        }
        if !core.is_empty() {
            self.site.update_user(user.id, &core)?;
        }
        for (key, value) in &mapped.meta {
            self.site.update_user_meta(user.id, key, value)?;
        }
        Ok(())
    }

    /// The requested role, if policy allows it. A refused role leaves the user's role alone.
    fn update_role(&self, user: &User, protected: bool, result: &mut EventResult) -> Result<()> {
        let Some(requested) = &self.options.role else {
            return Ok(());
        };
        if protected {
            result.role_refused = Some("protected_user");
            result
                .notes
                .push("role not changed: the user can administer the site".into());
            return Ok(());
        }
        match users::decide_role(requested, &self.site.roles()?, &self.settings.allowed_roles) {
            RoleDecision::Grant(slug) => {
                if user.roles != [slug.clone()] {
                    self.site.set_role(user.id, &slug)?;
                }
                result.role = Some(slug);
            }
            RoleDecision::Refuse(reason) => {
                result.role_refused = Some(reason);
                result.notes.push(format!(
                    "role not changed: the requested role was refused ({reason})"
                ));
            }
        }
        Ok(())
    }
}

/// A note for each mapped meta key that was not written because it is protected.
pub(super) fn refused_notes(mapped: &super::fields::MappedFields) -> Vec<String> {
    mapped
        .refused
        .iter()
        .map(|key| format!("{key} not written: webhooks never write this meta key"))
        .collect()
}
