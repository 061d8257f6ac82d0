//! User meta keys a webhook never writes: the keys WordPress (and this plugin) keep roles,
//! capabilities, login state and CRM bookkeeping in.
//!
//! A leaf: settings validation refuses a field map that names one, and the field mapping in
//! `sync::fields` drops such an entry again at write time, so a map stored around the
//! validation still cannot reach them. Keys are compared lowercased, as MySQL's collation of
//! `meta_key` does.

use crate::crm_kind::{contact_id_meta_key_of, tags_meta_key_of, CrmKind, PRESET_CRMS};

/// Exact keys: login sessions, application passwords, a pending email change (confirming it
/// changes the email), the password nag, multisite's primary site and its source.
pub const PROTECTED_META_KEYS: [&str; 6] = [
    "session_tokens",
    "_application_passwords",
    "_new_email",
    "default_password_nag",
    "primary_blog",
    "source_domain",
];

/// Key endings: `{prefix}capabilities` holds the roles and capabilities and
/// `{prefix}user_level` the legacy level, for every table prefix and every site of a network.
pub const PROTECTED_META_SUFFIXES: [&str; 2] = ["capabilities", "user_level"];

/// Key beginnings: this plugin's own state (`wpf_bridge_...`, e.g. the last applied event
/// time) and two-factor plugins' secrets (`_two_factor_...`, `wfls_...`).
pub const PROTECTED_META_PREFIXES: [&str; 3] = ["wpf_bridge_", "_two_factor", "wfls_"];

/// Whether a webhook must never write this user meta key. Besides the lists above, the
/// contact link and tag keys of every CRM and preset (`mautic_contact_id`, `drip_tags`, ...) are kept
/// by the apply step itself and are never a field map's target.
pub fn is_protected(key: &str) -> bool {
    let key = key.trim().to_ascii_lowercase();
    PROTECTED_META_KEYS.contains(&key.as_str())
        || PROTECTED_META_SUFFIXES
            .iter()
            .any(|suffix| key.ends_with(suffix))
        || PROTECTED_META_PREFIXES
            .iter()
            .any(|prefix| key.starts_with(prefix))
        || CrmKind::ALL
            .iter()
            .any(|crm| key == crm.contact_id_meta_key() || key == crm.tags_meta_key())
        || PRESET_CRMS
            .iter()
            .any(|(slug, _)| key == contact_id_meta_key_of(slug) || key == tags_meta_key_of(slug))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authentication_state_and_bookkeeping_keys_are_protected() {
        for key in [
            "wp_capabilities",
            "WP_Capabilities",
            "wp_2_capabilities",
            "custom_prefix_user_level",
            "wp_user_level",
            "session_tokens",
            "_application_passwords",
            "_new_email",
            "mautic_contact_id",
            "userengage_tags",
            "activecampaign_contact_id",
            "highlevel_tags",
            "wpf_bridge_mautic_event_time",
            "_two_factor_totp_key",
        ] {
            assert!(is_protected(key), "{key}");
        }
        for key in [
            "company",
            "crm_points",
            "first_name",
            "billing_phone",
            "level",
        ] {
            assert!(!is_protected(key), "{key}");
        }
    }
}
