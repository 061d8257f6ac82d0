//! The presets: mappings shipped with the extension, one JSON file each in `presets/`,
//! for the CRMs whose webhooks WP Fusion users already send (`crm_kind::PRESET_CRMS`, WP
//! Fusion's slugs, so the user meta stays `{slug}_contact_id` / `{slug}_tags`).
//!
//! They are data, read and validated once per process like any site's mapping (a test
//! checks every file, so a broken one never ships). Samples of each CRM's payloads, with
//! where they come from, are in `tests/fixtures/<slug>/`.

use std::sync::OnceLock;

use super::{Mapping, Origin};

/// Each preset's file, by slug.
const FILES: [(&str, &str); 5] = [
    (
        "activecampaign",
        include_str!("presets/activecampaign.json"),
    ),
    ("mailerlite", include_str!("presets/mailerlite.json")),
    ("drip", include_str!("presets/drip.json")),
    ("convertkit", include_str!("presets/convertkit.json")),
    ("highlevel", include_str!("presets/highlevel.json")),
];

/// Every preset, in the order of `FILES`. A file that does not read as a valid mapping is
/// left out (`tests::every_preset_is_valid` fails on it first).
pub fn all() -> &'static [Mapping] {
    static PRESETS: OnceLock<Vec<Mapping>> = OnceLock::new();
    PRESETS.get_or_init(|| {
        FILES
            .iter()
            .filter_map(|(_, text)| load(text).ok())
            .collect()
    })
}

/// The preset with this slug (compared lowercased and trimmed, as `CrmKind::from_slug` does).
pub fn find(slug: &str) -> Option<&'static Mapping> {
    let slug = slug.trim().to_ascii_lowercase();
    all().iter().find(|preset| preset.slug == slug)
}

/// The presets' slugs, quoted, for messages.
pub fn slugs() -> String {
    let quoted: Vec<String> = all()
        .iter()
        .map(|preset| format!("\"{}\"", preset.slug))
        .collect();
    quoted.join(", ")
}

fn load(text: &str) -> crate::error::Result<Mapping> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|error| crate::error::Error::InvalidMapping {
            field: "/".into(),
            reason: error.to_string(),
        })?;
    Mapping::from_value(&value, Origin::Preset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm_kind::PRESET_CRMS;

    #[test]
    fn every_preset_is_valid() {
        for (slug, text) in FILES {
            let mapping = load(text).unwrap_or_else(|error| panic!("{slug}: {error}"));
            assert_eq!(mapping.slug, slug);
            // Data in, the same data out: nothing in a file is dropped or defaulted away.
            let reread = Mapping::from_value(&mapping.to_value(), Origin::Preset).unwrap();
            assert_eq!(reread, mapping, "{slug}");
        }
        assert_eq!(all().len(), FILES.len());
    }

    #[test]
    fn presets_are_the_crms_crm_kind_knows() {
        let listed: Vec<(&str, &str)> = all()
            .iter()
            .map(|preset| (preset.slug.as_str(), preset.display_name()))
            .collect();
        assert_eq!(listed, PRESET_CRMS.to_vec());
    }

    #[test]
    fn lookup() {
        assert_eq!(
            find(" MailerLite ").map(|m| m.slug.as_str()),
            Some("mailerlite")
        );
        assert!(find("mautic").is_none());
        assert_eq!(
            slugs(),
            "\"activecampaign\", \"mailerlite\", \"drip\", \"convertkit\", \"highlevel\""
        );
    }
}
