//! What WordPress would refuse or silently change, checked before anything is written:
//! emails (which user a contact may reach) and the widths of WordPress's user columns.
//!
//! Apply: `update` and `add` call these before finding, linking, creating or writing a user,
//! and before a generated password is written to the CRM.
//!
//! Emails match exactly. MySQL's collation of `user_email` makes `victim@exämple.com` equal
//! `victim@example.com`, and `sanitize_email` would then drop the `ä` and store another,
//! registrable domain. So an email is used only when `sanitize_email` would keep it as it is
//! (local part of its allowed characters, an ASCII domain of at least two labels of letters,
//! digits and inner hyphens: IDNA/punycode `xn--` labels are fine), and a user found by email
//! counts only when its stored email equals the contact's, ignoring ASCII case alone.

use serde_json::{Map, Value};

use super::Context;
use crate::error::Result;
use crate::site::UserId;

/// WordPress's `user_email` column (varchar 100).
pub const MAX_EMAIL_CHARS: usize = 100;

/// Widths of the `wp_users` columns a webhook may fill (`wp_insert_user` refuses longer values
/// or the database does). `user_login` (60) and `user_nicename` (50) are made by `users`.
pub const COLUMN_WIDTHS: [(&str, usize); 2] =
    [("user_url", 100), ("display_name", DISPLAY_NAME_CHARS)];

/// WordPress's `display_name` column (varchar 250).
pub const DISPLAY_NAME_CHARS: usize = 250;

/// Characters `sanitize_email` keeps in the local part.
const LOCAL_SPECIALS: &str = "!#$%&'*+/=?^_`{|}~.-";

/// Why an email cannot find, link or be written to a user; `None` when it can.
pub fn email_problem(email: &str) -> Option<&'static str> {
    if email.chars().count() > MAX_EMAIL_CHARS {
        return Some("it is longer than WordPress's 100 characters");
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Some("it is not an email address");
    };
    if email.len() < 6 || local.is_empty() || domain.is_empty() {
        return Some("it is not an email address");
    }
    if !domain.is_ascii() {
        return Some("its domain is not ASCII (use the IDNA/punycode form, xn--...)");
    }
    let local_kept = local
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || LOCAL_SPECIALS.contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_kept = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if !local_kept || !domain_kept {
        return Some("WordPress would change it when sanitising it");
    }
    None
}

/// Whether two emails are the same address: equal but for the case of ASCII letters.
pub fn same_email(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

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
            Some(user) if same_email(&user.email, email) => Ok(EmailMatch::User(user_id)),
            _ => Ok(EmailMatch::LookAlike),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_emails_wordpress_keeps_as_they_are_are_usable() {
        for email in [
            "john@doe.name",
            "John.O'Neil+crm@Example.COM",
            "a@xn--exmple-cua.com",
        ] {
            assert_eq!(email_problem(email), None, "{email}");
        }
        for email in [
            "victim@exämple.com",
            "vïctim@example.com",
            "victim@example..com",
            "victim@.example.com",
            "victim@example",
            "victim@-example.com",
            "a b@example.com",
            "two@at@example.com",
            "no-at.example.com",
            "@example.com",
        ] {
            assert!(email_problem(email).is_some(), "{email}");
        }
        let long = format!("{}@example.com", "e".repeat(90));
        assert!(email_problem(&long).unwrap().contains("100"));
    }

    #[test]
    fn emails_are_the_same_only_up_to_ascii_case() {
        assert!(same_email("Victim@Example.com", "victim@example.COM"));
        assert!(!same_email("victim@exämple.com", "victim@example.com"));
    }

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
