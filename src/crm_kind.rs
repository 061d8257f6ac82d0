//! Which CRM: the one enum every layer shares (a leaf: it uses only `error` and `text`).
//!
//! The slug is WP Fusion's and prefixes the user meta keys; the display name is what a site
//! owner knows. The plugin asks the extension for both (`wpf_bridge_crms()`), so they are
//! written down here only.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::text::printable;

/// The CRMs we speak to. The slug is WP Fusion's, and prefixes the user meta keys.
/// Serialised as its slug.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CrmKind {
    Mautic,
    UserEngage,
}

impl CrmKind {
    /// All supported CRMs.
    pub const ALL: [CrmKind; 2] = [CrmKind::Mautic, CrmKind::UserEngage];

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
        }
    }

    /// The name a site owner knows.
    pub fn display_name(self) -> &'static str {
        match self {
            CrmKind::Mautic => "Mautic",
            CrmKind::UserEngage => "User.com",
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
        }
    }

    /// User meta key linking a WordPress user to its contact (WP Fusion's key).
    pub fn contact_id_meta_key(self) -> String {
        format!("{}_contact_id", self.slug())
    }

    /// User meta key holding the contact's tags as a list of names (WP Fusion's key and format).
    pub fn tags_meta_key(self) -> String {
        format!("{}_tags", self.slug())
    }
}
