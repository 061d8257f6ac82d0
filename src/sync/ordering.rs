//! One contact at a time, newest event wins: the per-contact lock every action runs under,
//! and the CRM timestamp of the last event applied to each user.
//!
//! Apply: `apply_event` runs each event inside `with_contact_lock`; `update`, `add` and the
//! unlink of a deleted contact ask `is_stale` once they know the user, and `record_event_time`
//! after they changed it. A queue (issue 10) reuses both: it takes the same lock to drain a
//! contact and compares its stored events against the same timestamp.
//!
//! The timestamp is stored as the CRM sent it in the user meta `wpf_bridge_{crm}_event_time`
//! and compared as an instant (`payload::generic::parse_instant`). An event older than the
//! stored one changes nothing (`ignored`, reason `stale_event`): racing deliveries end at the
//! newest version and a replayed older delivery is harmless. An event of the same instant is
//! applied again (every step is idempotent). Events without a timestamp that parses (calls
//! with only URL parameters, whose contact is loaded from the CRM's API) are applied and do
//! not move the stored time.

use jiff::Timestamp;
use serde_json::Value;

use super::Context;
use crate::error::{Error, Result};
use crate::site::{LogLevel, Site, UserId};
use crate::webhook::payload::generic::parse_instant;
use crate::webhook::ContactEvent;

/// How long an event waits for another webhook for the same contact to finish. CRMs give a
/// webhook 10 seconds or more.
pub const LOCK_WAIT_SECS: u32 = 10;

/// Reason of an event older than the last one applied to its user.
pub const STALE_EVENT: &str = "stale_event";

/// The named lock of one contact (the Site port prefixes it per site).
pub fn contact_lock_name(crm: &str, contact_id: &str) -> String {
    format!("wpf_bridge_contact_{crm}_{contact_id}")
}

/// The user meta key holding the CRM timestamp of the last event applied to a user.
pub fn event_time_meta_key(crm: &str) -> String {
    format!("wpf_bridge_{crm}_event_time")
}

/// An event's timestamp as an instant, when it has one that parses.
fn event_instant(event: &ContactEvent) -> Option<Timestamp> {
    event.timestamp.as_deref().and_then(parse_instant)
}

/// Runs `apply` holding the contact's lock, waiting up to `wait_secs` for it; a lock not had
/// in time is `contact_busy` and `apply` does not run. The queue's drain takes it with no wait
/// and leaves a busy contact for later; `apply_event` waits `LOCK_WAIT_SECS`.
pub fn with_contact_lock<T>(
    site: &dyn Site,
    crm: &str,
    contact_id: &str,
    wait_secs: u32,
    apply: impl FnOnce() -> Result<T>,
) -> Result<T> {
    let lock = contact_lock_name(crm, contact_id);
    if !site.lock(&lock, wait_secs)? {
        return Err(Error::ContactBusy {
            contact_id: contact_id.to_string(),
        });
    }
    let result = apply();
    if let Err(error) = site.unlock(&lock) {
        site.log(
            LogLevel::Error,
            &format!("Could not release the lock of contact {contact_id}: {error}"),
        );
    }
    result
}

impl Context<'_> {
    /// Runs `apply` holding the contact's lock, so events for one contact never interleave.
    pub(super) fn with_contact_lock<T>(
        &self,
        contact_id: &str,
        apply: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
        with_contact_lock(self.site, self.crm_slug, contact_id, LOCK_WAIT_SECS, apply)
    }

    /// Whether the event is older than the last one applied to this user.
    pub(super) fn is_stale(&self, user_id: UserId, event: &ContactEvent) -> Result<bool> {
        let Some(instant) = event_instant(event) else {
            return Ok(false);
        };
        let stored = self
            .site
            .user_meta(user_id, &event_time_meta_key(self.crm_slug))?
            .as_ref()
            .and_then(crate::text::value_text)
            .and_then(|text| parse_instant(&text));
        Ok(stored.is_some_and(|stored| instant < stored))
    }

    /// Remembers the event's timestamp as the user's last applied one (callers checked
    /// `is_stale` first, under the contact's lock).
    pub(super) fn record_event_time(&self, user_id: UserId, event: &ContactEvent) -> Result<()> {
        match (event_instant(event), &event.timestamp) {
            (Some(_), Some(stamp)) => self.site.update_user_meta(
                user_id,
                &event_time_meta_key(self.crm_slug),
                &Value::String(stamp.trim().to_string()),
            ),
            _ => Ok(()),
        }
    }

    /// The event's timestamp for a new user's meta, when it has one that parses.
    pub(super) fn event_time_meta(&self, event: &ContactEvent) -> Option<(String, Value)> {
        let stamp = event.timestamp.as_deref()?;
        parse_instant(stamp)?;
        Some((
            event_time_meta_key(self.crm_slug),
            Value::String(stamp.trim().to_string()),
        ))
    }
}
