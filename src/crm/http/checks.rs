//! Step 1 of a CRM call, before any request: the settings and arguments that end up in a URL
//! or a header are checked and shaped here. Base URLs (the rule is `crm_kind::base_url`, a
//! leaf, so `settings` applies the same one), header-safe credentials, numeric contact ids and
//! searchable emails; a bad setting is `InvalidSetting` naming its key, never its value.

use base64::Engine as _;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::errors::contact_not_found;
pub use crate::crm_kind::base_url;
use crate::crm_kind::CrmKind;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// A credential as an HTTP header value: `{scheme} {credential}`. Fails, naming `key` but not
/// the value, when the credential has characters a header cannot carry.
pub fn authorization(scheme: &str, key: &'static str, credential: &Secret) -> Result<Secret> {
    let value = credential.expose().trim();
    if !value.chars().all(|c| c.is_ascii_graphic()) {
        return Err(Error::setting(
            key,
            "it contains spaces or characters that cannot be sent in an HTTP header; paste it \
             again",
        ));
    }
    Ok(Secret::new(format!("{scheme} {value}")))
}

/// `Basic base64(user:password)` (RFC 7617); ureq 3 has no helper for it.
pub fn basic_authorization(
    username_key: &'static str,
    username: &str,
    password: &Secret,
) -> Result<Secret> {
    if username.contains(':') || username.chars().any(char::is_control) {
        return Err(Error::setting(
            username_key,
            "it must not contain ':' or control characters",
        ));
    }
    let pair = format!("{username}:{}", password.expose());
    let encoded = base64::engine::general_purpose::STANDARD.encode(pair.as_bytes());
    Ok(Secret::new(format!("Basic {encoded}")))
}

/// A contact id as a URL path segment. Both CRMs number their contacts, so anything but
/// 1 to 20 ASCII digits cannot be a contact: it is `CrmContactNotFound`, and never reaches a
/// URL (no path injection).
pub fn contact_id_segment(crm: CrmKind, contact_id: &str) -> Result<String> {
    let id = contact_id.trim();
    if id.is_empty() || id.len() > 20 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(contact_not_found(crm, contact_id));
    }
    Ok(encode_component(id))
}

/// RFC 3986's unreserved characters are the only ones left as they are.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes everything but RFC 3986's unreserved characters (UTF-8 bytes), for path
/// segments and query values alike.
pub fn encode_component(text: &str) -> String {
    utf8_percent_encode(text, COMPONENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_emails_and_encoding() {
        assert_eq!(contact_id_segment(CrmKind::Mautic, " 52 ").unwrap(), "52");
        for bad in ["", "5/2", "../1", "1?x=1", "abc", "123456789012345678901"] {
            assert_eq!(
                contact_id_segment(CrmKind::Mautic, bad).unwrap_err().code(),
                "crm_contact_not_found"
            );
        }
        assert_eq!(
            encode_component("email:\"+a b@c\""),
            "email%3A%22%2Ba%20b%40c%22"
        );
        assert_eq!(
            encode_component("Zoë-1.2_~/?&=#%"),
            "Zo%C3%AB-1.2_~%2F%3F%26%3D%23%25"
        );
    }

    #[test]
    fn credentials_with_spaces_are_refused_without_echo() {
        let err = authorization("Bearer", "mautic_token", &Secret::new("ab cd\n")).unwrap_err();
        assert!(!err.to_string().contains("ab cd"));
        assert_eq!(err.code(), "invalid_setting");
    }
}
