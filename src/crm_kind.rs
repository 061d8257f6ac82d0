//! Which CRM: the one enum every layer shares (a leaf: it uses only `error` and `text`).
//!
//! The slug is WP Fusion's and prefixes the user meta keys; the display name is what a site
//! owner knows. The plugin asks the extension for both (`wpf_bridge_crms()`), so they are
//! written down here only.
//!
//! Besides the CRMs with a parser and an API client (`CrmKind`), a CRM can be read through a
//! webhook mapping (`webhook::mapping`): the presets shipped with the extension
//! (`PRESET_CRMS`, WP Fusion's slugs) or a site's own mapping with a slug of its own. Every
//! slug names its user meta the same way (`contact_id_meta_key_of`, `tags_meta_key_of`), so
//! a site that switches from WP Fusion keeps its links.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::text::printable;

/// The CRMs we speak to. The slug is WP Fusion's, and prefixes the user meta keys.
/// Serialised as its slug.
///
/// Mautic and User.com have a payload parser and can be a site's `crm` setting (`ALL`).
/// ActiveCampaign and MailerLite have an API client (`crm::activecampaign`,
/// `crm::mailerlite`) behind a preset mapping (`PRESET_CLIENTS`); no setting selects them
/// yet, so `from_slug` does not name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CrmKind {
    Mautic,
    UserEngage,
    ActiveCampaign,
    MailerLite,
}

impl CrmKind {
    /// The CRMs a site's `crm` setting can name.
    pub const ALL: [CrmKind; 2] = [CrmKind::Mautic, CrmKind::UserEngage];

    /// The preset CRMs (`PRESET_CRMS`) that have an API client.
    pub const PRESET_CLIENTS: [CrmKind; 2] = [CrmKind::ActiveCampaign, CrmKind::MailerLite];

    /// The CRM with an API client for a preset slug (`activecampaign`, `mailerlite`), or
    /// `None` for a preset (or any slug) without one.
    pub fn of_preset(slug: &str) -> Option<Self> {
        let slug = slug.trim().to_ascii_lowercase();
        Self::PRESET_CLIENTS
            .into_iter()
            .find(|kind| kind.slug() == slug)
    }

    /// Parses a slug as used in settings and in the PHP API (`mautic`, `userengage`).
    pub fn from_slug(slug: &str) -> Result<Self> {
        match slug.trim().to_ascii_lowercase().as_str() {
            "mautic" => Ok(CrmKind::Mautic),
            "userengage" | "user.com" | "usercom" => Ok(CrmKind::UserEngage),
            _ => Err(Error::UnknownCrm {
                given: printable(slug, 40),
                supported: Self::slugs(),
            }),
        }
    }

    /// WP Fusion's slug: `mautic`, `userengage`.
    pub fn slug(self) -> &'static str {
        match self {
            CrmKind::Mautic => "mautic",
            CrmKind::UserEngage => "userengage",
            CrmKind::ActiveCampaign => "activecampaign",
            CrmKind::MailerLite => "mailerlite",
        }
    }

    /// The name a site owner knows.
    pub fn display_name(self) -> &'static str {
        match self {
            CrmKind::Mautic => "Mautic",
            CrmKind::UserEngage => "User.com",
            CrmKind::ActiveCampaign => "ActiveCampaign",
            CrmKind::MailerLite => "MailerLite",
        }
    }

    /// The slugs, quoted, for messages: `"mautic" or "userengage"`.
    pub fn slugs() -> String {
        let quoted: Vec<String> = Self::ALL
            .iter()
            .map(|kind| format!("\"{}\"", kind.slug()))
            .collect();
        quoted.join(" or ")
    }

    /// The setting holding the CRM's API URL, and an example of it for the settings page.
    pub const fn url_setting(self) -> (&'static str, &'static str) {
        match self {
            CrmKind::Mautic => ("mautic_url", "https://mautic.example.com"),
            CrmKind::UserEngage => ("userengage_url", "https://YOURAPP.user.com/api/public/"),
            CrmKind::ActiveCampaign => ("activecampaign_url", "https://YOURACCOUNT.api-us1.com"),
            CrmKind::MailerLite => ("mailerlite_url", "https://connect.mailerlite.com/api"),
        }
    }

    /// User meta key linking a WordPress user to its contact (WP Fusion's key).
    pub fn contact_id_meta_key(self) -> String {
        contact_id_meta_key_of(self.slug())
    }

    /// User meta key holding the contact's tags as a list of names (WP Fusion's key and format).
    pub fn tags_meta_key(self) -> String {
        tags_meta_key_of(self.slug())
    }
}

/// The CRMs read through a preset webhook mapping (`webhook::mapping::presets`, whose test
/// checks this list against the shipped mappings): WP Fusion's slug and the name a site owner
/// knows. ActiveCampaign and MailerLite have API clients (`CrmKind::PRESET_CLIENTS`); none
/// can be a site's `crm` setting yet.
pub const PRESET_CRMS: [(&str, &str); 5] = [
    ("activecampaign", "ActiveCampaign"),
    ("mailerlite", "MailerLite"),
    ("drip", "Drip"),
    ("convertkit", "Kit"),
    ("highlevel", "HighLevel"),
];

/// Longest CRM slug (it prefixes meta keys, which WordPress keeps up to 255 characters).
pub const MAX_SLUG_CHARS: usize = 32;

/// Why `slug` cannot name a CRM, or `None` when it can: a lowercase ASCII letter, then up to
/// 31 lowercase letters, digits or underscores (WP Fusion's slugs are all of this form).
pub fn slug_problem(slug: &str) -> Option<String> {
    let mut chars = slug.chars();
    if !chars.next().is_some_and(|first| first.is_ascii_lowercase()) {
        return Some("must start with a lowercase letter (a-z)".into());
    }
    if slug.len() > MAX_SLUG_CHARS {
        return Some(format!("is longer than {MAX_SLUG_CHARS} characters"));
    }
    if !chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
        return Some("may hold only lowercase letters, digits and underscores".into());
    }
    None
}

/// User meta key linking a WordPress user to a contact of the CRM with this slug
/// (`activecampaign_contact_id`: WP Fusion's key).
pub fn contact_id_meta_key_of(slug: &str) -> String {
    format!("{slug}_contact_id")
}

/// User meta key holding the tags of the CRM with this slug (`activecampaign_tags`).
pub fn tags_meta_key_of(slug: &str) -> String {
    format!("{slug}_tags")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_keys_are_wp_fusions() {
        assert_eq!(CrmKind::Mautic.contact_id_meta_key(), "mautic_contact_id");
        assert_eq!(CrmKind::UserEngage.tags_meta_key(), "userengage_tags");
        assert_eq!(
            contact_id_meta_key_of("activecampaign"),
            "activecampaign_contact_id"
        );
        assert_eq!(tags_meta_key_of("highlevel"), "highlevel_tags");
    }

    #[test]
    fn slugs() {
        for (slug, name) in PRESET_CRMS {
            assert_eq!(slug_problem(slug), None, "{slug}");
            assert!(
                CrmKind::from_slug(slug).is_err(),
                "{slug} is no crm setting"
            );
            if let Some(kind) = CrmKind::of_preset(slug) {
                assert_eq!((kind.slug(), kind.display_name()), (slug, name));
            }
        }
        for kind in CrmKind::PRESET_CLIENTS {
            assert_eq!(CrmKind::of_preset(&kind.slug().to_uppercase()), Some(kind));
        }
        assert_eq!(CrmKind::of_preset("drip"), None);
        assert_eq!(CrmKind::of_preset("mautic"), None);
        for kind in CrmKind::ALL {
            assert_eq!(slug_problem(kind.slug()), None);
        }
        for bad in ["", "1crm", "Crm", "my-crm", "crm.com", &"a".repeat(33)] {
            assert!(slug_problem(bad).is_some(), "{bad}");
        }
    }
}
