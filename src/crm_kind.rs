//! Which CRM: the one enum every layer shares (a leaf: it uses only `error` and `text`).
//!
//! The slug is WP Fusion's and prefixes the user meta keys; the display name is what a site
//! owner knows; the setting holding its API address follows the one base-URL rule here
//! (`base_url`), which `settings` and the CRM clients both apply. The plugin asks the extension for both (`wpf_bridge_crms()`), so they are
//! written down here only.
//!
//! Besides the CRMs with a parser and an API client (`CrmKind`), a CRM can be read through a
//! webhook mapping (`webhook::mapping`): the presets shipped with the extension
//! (`PRESET_CRMS`, WP Fusion's slugs) or a site's own mapping with a slug of its own. Every
//! slug names its user meta the same way (`contact_id_meta_key_of`, `tags_meta_key_of`), so
//! a site that switches from WP Fusion keeps its links.

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray};

use crate::error::{Error, Result};
use crate::text::printable;

/// The CRMs we speak to. The slug is WP Fusion's, and prefixes the user meta keys: the
/// variant's name lowercased (strum), also its serialised form (serde goes through strum), so
/// each name is written once. `serialize` adds the other names a slug is read from.
///
/// Mautic and User.com have a payload parser and can be a site's `crm` setting (`ALL`).
/// ActiveCampaign and MailerLite have an API client (`crm::activecampaign`,
/// `crm::mailerlite`) behind a preset mapping (`PRESET_CLIENTS`); no setting selects them
/// yet, so `from_slug` does not name them.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    IntoStaticStr,
    EnumString,
    VariantArray,
)]
#[serde(into = "&'static str", try_from = "String")]
#[strum(serialize_all = "lowercase", ascii_case_insensitive)]
pub enum CrmKind {
    Mautic,
    #[strum(
        to_string = "userengage",
        serialize = "user.com",
        serialize = "usercom"
    )]
    UserEngage,
    ActiveCampaign,
    MailerLite,
}

impl CrmKind {
    /// The CRMs a site's `crm` setting can name.
    pub const ALL: &'static [CrmKind] = &[CrmKind::Mautic, CrmKind::UserEngage];

    /// The preset CRMs (`PRESET_CRMS`) that have an API client.
    pub const PRESET_CLIENTS: [CrmKind; 2] = [CrmKind::ActiveCampaign, CrmKind::MailerLite];

    /// The CRM with an API client for a preset slug (`activecampaign`, `mailerlite`), or
    /// `None` for a preset (or any slug) without one.
    pub fn of_preset(slug: &str) -> Option<Self> {
        let kind: CrmKind = slug.trim().parse().ok()?;
        Self::PRESET_CLIENTS.contains(&kind).then_some(kind)
    }

    /// Parses a slug as used in settings and in the PHP API (`mautic`, `userengage`; any
    /// case, surrounding spaces ignored).
    pub fn from_slug(slug: &str) -> Result<Self> {
        slug.trim()
            .parse()
            .ok()
            .filter(|kind| Self::ALL.contains(kind))
            .ok_or_else(|| Error::UnknownCrm {
                given: printable(slug, 40),
                supported: Self::slugs(),
            })
    }

    /// WP Fusion's slug: `mautic`, `userengage`.
    pub fn slug(self) -> &'static str {
        self.into()
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

/// The one rule for a CRM's base URL setting (`mautic_url`, `userengage_url`), applied when
/// the settings are read and again when a client is built: set; `http://` or `https://` and a
/// host; no spaces, control characters, `?` or `#` (the clients append API paths, which a
/// query or fragment would swallow). Returns it trimmed, without trailing slashes. An error
/// names the key and shows the CRM's example address, never the value.
pub fn base_url(key: &str, value: Option<&str>) -> Result<String> {
    let example = CrmKind::VARIANTS
        .iter()
        .map(|kind| kind.url_setting())
        .find(|(setting, _)| *setting == key)
        .map_or("https://crm.example.com", |(_, example)| example);
    let url = value.map(str::trim).unwrap_or("");
    if url.is_empty() {
        return Err(Error::setting(
            key,
            format!("it is not set; enter the API address, like {example}"),
        ));
    }
    let lower = url.to_ascii_lowercase();
    let rest = if let Some(rest) = lower.strip_prefix("https://") {
        rest
    } else if let Some(rest) = lower.strip_prefix("http://") {
        rest
    } else {
        return Err(Error::setting(
            key,
            format!("it must start with https:// (or http://), like {example}"),
        ));
    };
    if url
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '?' || c == '#')
    {
        return Err(Error::setting(
            key,
            format!("it must be a plain address without spaces, ? or #, like {example}"),
        ));
    }
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() || host.starts_with(':') {
        return Err(Error::setting(
            key,
            format!("it has no host name; it should look like {example}"),
        ));
    }
    Ok(url.trim_end_matches('/').to_string())
}

/// Serde reads a slug as `from_slug` does.
impl TryFrom<String> for CrmKind {
    type Error = Error;

    fn try_from(slug: String) -> Result<Self> {
        Self::from_slug(&slug)
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

/// Whether the source with this slug reads its webhooks through a mapping: every slug but
/// those a site's first source reads with a parser of its own (`CrmKind::ALL`: Mautic,
/// User.com, and the names they are read from). A mapping's fields are named by WordPress
/// field, and a site's own mapping may not take one of those slugs.
pub fn is_mapped(slug: &str) -> bool {
    CrmKind::from_slug(slug).is_err()
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
    fn base_urls_are_checked() {
        let ok = base_url("mautic_url", Some(" https://m.example.com/ ")).unwrap();
        assert_eq!(ok, "https://m.example.com");
        for bad in [
            None,
            Some(""),
            Some("m.example.com"),
            Some("ftp://m.example.com"),
            Some("https://"),
            Some("https:///api"),
            Some("https://:8080/"),
            Some("https://a b"),
            Some("https://m.example.com/?x=1"),
            Some("https://m.example.com/#top"),
            Some("https://m.example.com/\u{7f}"),
        ] {
            assert_eq!(
                base_url("mautic_url", bad).unwrap_err().code(),
                "invalid_setting",
                "{bad:?}"
            );
        }
        let missing = base_url("mautic_url", None).unwrap_err().to_string();
        assert!(
            missing.contains("mautic_url") && missing.contains("not set"),
            "{missing}"
        );
        let wrong = base_url("userengage_url", Some("app.user.com"))
            .unwrap_err()
            .to_string();
        assert!(
            wrong.contains("userengage_url")
                && wrong.contains(CrmKind::UserEngage.url_setting().1)
                && !wrong.contains("app.user.com"),
            "{wrong}"
        );
    }

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
            assert_eq!(CrmKind::from_slug(kind.slug()), Ok(*kind));
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::json!(kind.slug())
            );
            assert_eq!(
                serde_json::from_value::<CrmKind>(serde_json::json!(kind.slug())).unwrap(),
                *kind
            );
        }
        assert_eq!(
            CrmKind::ALL
                .iter()
                .map(|kind| kind.slug())
                .collect::<Vec<_>>(),
            ["mautic", "userengage"]
        );
        for other_name in ["user.com", "usercom", " UserEngage ", "USER.COM"] {
            assert_eq!(CrmKind::from_slug(other_name), Ok(CrmKind::UserEngage));
        }
        assert_eq!(CrmKind::from_slug("MAUTIC"), Ok(CrmKind::Mautic));
        assert_eq!(
            CrmKind::from_slug("hubspot").unwrap_err().to_string(),
            "Unknown CRM \"hubspot\". Supported CRMs are \"mautic\" or \"userengage\"."
        );
        for bad in ["", "1crm", "Crm", "my-crm", "crm.com", &"a".repeat(33)] {
            assert!(slug_problem(bad).is_some(), "{bad}");
        }
    }
}
