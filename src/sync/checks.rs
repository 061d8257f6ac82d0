//! What WordPress would refuse or silently change, checked before anything is written:
//! emails (which user a contact may reach) and the widths of WordPress's user columns.
//!
//! Apply: `update` and `add` call these before finding, linking, creating or writing a user,
//! and before a generated password is written to the CRM.
//!
//! Emails match exactly (the rules are in the `email` leaf): an email is used only when
//! WordPress would keep it as it is, and a user found by email counts only when its stored
//! email equals the contact's, ignoring ASCII case alone; MySQL's collation alone would make
//! `victim@exämple.com` find `victim@example.com`.

use serde_json::{Map, Value};

use super::Context;
use crate::email;
use crate::error::Result;
use crate::site::UserId;

/// Widths of the `wp_users` columns a webhook may fill (`wp_insert_user` refuses longer values
/// or the database does). `user_login` (60) and `user_nicename` (50) are made by `users`.
pub const COLUMN_WIDTHS: [(&str, usize); 2] =
    [("user_url", 100), ("display_name", DISPLAY_NAME_CHARS)];

/// WordPress's `display_name` column (varchar 250).
pub const DISPLAY_NAME_CHARS: usize = 250;

/// Drops core fields WordPress's columns cannot hold, with a note for each.
pub fn fit_columns(core: &mut Map<String, Value>, notes: &mut Vec<String>) {
    for (field, width) in COLUMN_WIDTHS {
        let too_long = core
            .get(field)
            .and_then(Value::as_str)
            .is_some_and(|text| text.chars().count() > width);
        if too_long {
            core.remove(field);
            notes.push(format!(
                "{field} not written: longer than WordPress's {width} characters"
            ));
        }
    }
}

/// What a lookup by email found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailMatch {
    None,
    User(UserId),
    /// The database matched a user whose stored email is not the same address.
    LookAlike,
}

impl Context<'_> {
    /// The user whose stored email is exactly `email` (see the module comment).
    pub(super) fn find_user_by_exact_email(&self, email: &str) -> Result<EmailMatch> {
        let Some(user_id) = self.site.find_user_by_email(email)? else {
            return Ok(EmailMatch::None);
        };
        match self.site.user(user_id)? {
            Some(user) if email::same(&user.email, email) => Ok(EmailMatch::User(user_id)),
            _ => Ok(EmailMatch::LookAlike),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_wider_than_their_column_are_dropped_with_a_note() {
        let mut core = json!({"user_url": "x".repeat(101), "display_name": "ok", "first_name": "y".repeat(300)})
            .as_object()
            .cloned()
            .unwrap();
        let mut notes = Vec::new();
        fit_columns(&mut core, &mut notes);
        assert!(!core.contains_key("user_url"));
        assert!(core.contains_key("display_name") && core.contains_key("first_name"));
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("user_url"), "{notes:?}");
    }
}
