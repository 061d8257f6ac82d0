//! Tag bookkeeping: a user's tags live in the `{crm}_tags` user meta as a list of tag names
//! (WP Fusion's format, so its add-ons keep working), and every change fires WP Fusion's
//! hooks: `wpf_tags_applied` (added), `wpf_tags_removed` (removed), `wpf_tags_modified` (all).

use serde_json::Value;

use super::Context;
use crate::crm_kind::tags_meta_key_of;
use crate::error::Result;
use crate::site::UserId;

/// Tags added and removed by one update.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct TagChange {
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

/// Reads a stored tag list (the rule of `text::tag_names`); anything else counts as no tags.
pub(super) fn from_meta(value: Option<Value>) -> Vec<String> {
    value
        .and_then(|value| crate::text::tag_names(&value, "name"))
        .unwrap_or_default()
}

impl Context<'_> {
    /// Replaces a user's tags with the contact's and fires the hooks.
    pub(super) fn apply_tags(&self, user_id: UserId, tags: &[String]) -> Result<TagChange> {
        let key = tags_meta_key_of(self.crm_slug);
        let stored = from_meta(self.site.user_meta(user_id, &key)?);
        let tags = crate::text::tag_list(tags);
        let change = TagChange {
            added: tags
                .iter()
                .filter(|t| !stored.contains(t))
                .cloned()
                .collect(),
            removed: stored
                .iter()
                .filter(|t| !tags.contains(t))
                .cloned()
                .collect(),
        };
        if !change.added.is_empty() || !change.removed.is_empty() || stored.len() != tags.len() {
            self.site
                .update_user_meta(user_id, &key, &tags.clone().into())?;
        }
        self.fire_tag_hooks(user_id, &change, &tags)?;
        Ok(change)
    }

    /// Fires WP Fusion's tag hooks. `wpf_tags_modified` fires even when nothing changed, as in
    /// WP Fusion, so integrations that re-evaluate access on it keep working.
    pub(super) fn fire_tag_hooks(
        &self,
        user_id: UserId,
        change: &TagChange,
        tags: &[String],
    ) -> Result<()> {
        if !change.added.is_empty() {
            self.site.do_action(
                "wpf_tags_applied",
                &[user_id.into(), change.added.clone().into()],
            )?;
        }
        if !change.removed.is_empty() {
            self.site.do_action(
                "wpf_tags_removed",
                &[user_id.into(), change.removed.clone().into()],
            )?;
        }
        self.site
            .do_action("wpf_tags_modified", &[user_id.into(), tags.to_vec().into()])
    }
}
