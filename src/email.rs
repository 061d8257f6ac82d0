//! Email rules (a leaf): which emails wpf-bridge uses at all, and when two are the same
//! address. Apply (`sync/checks.rs`) finds, links and writes users only by emails that pass
//! `problem`; the CRM clients search only for `searchable` ones.
//!
//! MySQL's collation of `user_email` makes `victim@exämple.com` equal `victim@example.com`,
//! and `sanitize_email` would then drop the `ä` and store another, registrable domain. So an
//! email is used only when `sanitize_email` would keep it as it is (local part of its allowed
//! characters, an ASCII domain of at least two labels of letters, digits and inner hyphens:
//! IDNA/punycode `xn--` labels are fine), and two emails are the same only when they are
//! equal but for the case of ASCII letters.

/// WordPress's `user_email` column (varchar 100).
pub const MAX_CHARS: usize = 100;

/// Characters `sanitize_email` keeps in the local part.
const LOCAL_SPECIALS: &str = "!#$%&'*+/=?^_`{|}~.-";

/// Why an email cannot find, link or be written to a user; `None` when it can.
pub fn problem(email: &str) -> Option<&'static str> {
    if email.chars().count() > MAX_CHARS {
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
pub fn same(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// The email trimmed, when it passes `problem`: worth a CRM search (one that WordPress could
/// not hold as it is would find no user to link anyway).
pub fn searchable(email: &str) -> Option<&str> {
    let email = email.trim();
    problem(email).is_none().then_some(email)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_emails_wordpress_keeps_as_they_are_are_usable() {
        for email in [
            "john@doe.name",
            "John.O'Neil+crm@Example.COM",
            "a@xn--exmple-cua.com",
        ] {
            assert_eq!(problem(email), None, "{email}");
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
            assert!(problem(email).is_some(), "{email}");
        }
        let long = format!("{}@example.com", "e".repeat(90));
        assert!(problem(&long).unwrap().contains("100"));
    }

    #[test]
    fn emails_are_the_same_only_up_to_ascii_case() {
        assert!(same("Victim@Example.com", "victim@example.COM"));
        assert!(!same("victim@exämple.com", "victim@example.com"));
    }

    #[test]
    fn searchable_emails_are_trimmed_and_usable() {
        assert_eq!(searchable(" John@Doe.name "), Some("John@Doe.name"));
        for email in [
            "",
            "not-an-email",
            "a\"b@example.com",
            "a b@example.com",
            "x@exämple.com",
        ] {
            assert_eq!(searchable(email), None, "{email:?}");
        }
    }
}
