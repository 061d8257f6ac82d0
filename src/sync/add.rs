//! The `add` action: under a per-contact lock (concurrent webhooks for one contact create one
//! user), update the contact's user if it has one (by contact id, then email); otherwise
//! create it with a username, password and role chosen by `users`, return a generated
//! password to the CRM, and send the welcome email when asked.

use serde_json::{Map, Value};

use super::checks::{self, EmailMatch};
use super::tags::TagChange;
use super::users::{self, RoleDecision};
use super::{ContactData, Context, EventResult, FoundBy, Outcome, Scope};
use crate::crm_kind::{contact_id_meta_key_of, tags_meta_key_of};
use crate::error::{Error, Result};
use crate::site::NewUser;
use crate::webhook::ContactEvent;

impl Context<'_> {
    /// Runs under the contact's lock (`ordering`), so concurrent webhooks for one contact
    /// create one user.
    pub(super) fn add(&self, event: &ContactEvent) -> Result<EventResult> {
        if let Some(user_id) = self.find_by_contact_id(&event.contact_id)? {
            let data = match self.payload_data(event, Scope::Everything) {
                Some(data) => data,
                None => self.load_contact(event)?,
            };
            return self.update_user(event, user_id, FoundBy::ContactId, &data, Scope::Everything);
        }
        let data = match self.payload_data(event, Scope::Everything) {
            Some(data) if data.email.is_some() => data,
            _ => self.load_contact(event)?,
        };
        let email = data
            .email
            .clone()
            .ok_or_else(|| Error::ContactWithoutEmail {
                contact_id: event.contact_id.clone(),
            })?;
        let unusable = |reason| Error::UnusableEmail {
            contact_id: event.contact_id.clone(),
            reason,
        };
        if let Some(problem) = crate::email::problem(&email) {
            return Err(unusable(problem));
        }
        match self.find_user_by_exact_email(&email)? {
            EmailMatch::User(user_id) => {
                self.update_user(event, user_id, FoundBy::Email, &data, Scope::Everything)
            }
            EmailMatch::LookAlike => Err(unusable("a user's email only looks like it")),
            EmailMatch::None => self.create(event, &email, &data),
        }
    }

    /// Creates the user. Every decision is made first; a generated password is written to the
    /// CRM before the user exists, so a CRM failure leaves nothing behind and its retry starts
    /// clean; the user, its contact link, meta and tags are then written in one call.
    fn create(&self, event: &ContactEvent, email: &str, data: &ContactData) -> Result<EventResult> {
        let mapped = self.map_fields(data);
        let mut result = EventResult::new(&event.contact_id, Outcome::Created, None);
        result.notes.extend(super::update::refused_notes(&mapped));
        let mut core = mapped.profile();
        checks::fit_columns(&mut core, &mut result.notes);

        let roles = self.site.roles()?;
        let role = match &self.options.role {
            None => users::default_role(self.settings, self.site, &roles)?,
            Some(requested) => {
                match users::decide_role(requested, &roles, &self.settings.allowed_roles) {
                    RoleDecision::Grant(slug) => slug,
                    RoleDecision::Refuse(reason) => {
                        let fallback = users::default_role(self.settings, self.site, &roles)?;
                        result.role_refused = Some(reason);
                        result
                        .notes
                        .push(format!("requested role refused ({reason}); gave the default role \"{fallback}\""));
                        fallback
                    }
                }
            }
        };
        let login = users::choose_login(
            self.site,
            mapped.core_text("user_login"),
            self.settings.username_format,
            email,
            mapped.core_text("first_name"),
            mapped.core_text("last_name"),
        )?;
        let (password, generated) = users::choose_password(mapped.core_text("user_pass"))?;
        // WordPress makes a new user's display name "first last"; wider than its column, it
        // would refuse the user, so the login stands in (as WordPress does without names).
        if !core.contains_key("display_name") {
            let name_chars = |field: &str| {
                core.get(field)
                    .and_then(Value::as_str)
                    .map(|t| t.chars().count())
            };
            if let (Some(first), Some(last)) = (name_chars("first_name"), name_chars("last_name")) {
                if first + 1 + last > checks::DISPLAY_NAME_CHARS {
                    core.insert("display_name".into(), Value::String(login.clone()));
                    result.notes.push(format!(
                        "display name is the username: first and last name are longer than WordPress's {} characters",
                        checks::DISPLAY_NAME_CHARS
                    ));
                }
            }
        }

        if generated && self.settings.return_password {
            if let Some(field) = &self.settings.return_password_field {
                let mut update = Map::new();
                update.insert(field.clone(), Value::String(password.clone()));
                self.crm.update_contact(&event.contact_id, &update)?;
                result.password_returned = true;
            }
        }

        let tags = data.tags.as_deref().map(crate::text::tag_list);
        let mut meta = mapped.meta.clone();
        meta.insert(
            contact_id_meta_key_of(self.crm_slug),
            Value::String(event.contact_id.clone()),
        );
        if let Some(tags) = &tags {
            meta.insert(tags_meta_key_of(self.crm_slug), tags.clone().into());
        }
        if let Some((key, time)) = self.event_time_meta(event) {
            meta.insert(key, time);
        }
        let user_id = self.site.create_user(&NewUser {
            login,
            email: email.to_string(),
            password,
            role: role.clone(),
            core,
            meta,
        })?;
        result.user_id = Some(user_id);
        result.role = Some(role);

        if let Some(tags) = &tags {
            let change = TagChange {
                added: tags.clone(),
                removed: Vec::new(),
            };
            self.fire_tag_hooks(user_id, &change, tags)?;
        }
        if self.options.send_notification || self.settings.send_welcome_email {
            match self.site.send_new_user_notification(user_id) {
                Ok(()) => result.notes.push("welcome email sent".into()),
                // The user exists and is complete; a mail failure must not make the CRM retry.
                Err(error) => result
                    .notes
                    .push(format!("welcome email not sent: {error}")),
            }
        }
        self.site.do_action(
            "wpf_bridge_user_created",
            &[user_id.into(), event.contact_id.clone().into()],
        )?;
        Ok(result)
    }
}
