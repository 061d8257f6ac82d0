//! The queue as an administrator sees it: what each state is called, which events the
//! webhooks page's Retry and Discard may touch, how many done events are kept at most (beside
//! the `keep_done_days` setting) and how long an event may wait before Site Health calls it a
//! problem. The plugin reads these through `wpf_bridge_rules()`; its queue adapter only runs
//! the SQL (`requeue`, `discard`, `summary`, `prune`) with the states named here.

use std::time::Duration;

use super::port::QueueState;

/// Done events kept at most, whatever their age (`keep_done_days` prunes by age first). A done
/// row is only a record for the webhooks page; 100,000 is ten 10,000-webhook storms, or weeks
/// of a busy site, and at the 1-3 KB a stored Mautic contact takes it stays within a few
/// hundred MB, which any host's database holds. Pruning beyond it is one indexed DELETE.
pub const KEEP_DONE_AT_MOST: u64 = 100_000;

/// An event waiting (pending, claimed or retrying) longer than this since it was accepted
/// means the queue is not being drained, or a contact keeps failing: every accepted webhook
/// and the one-minute WP-Cron tick drain, and a retry's first delays are 30 s and 2 min.
pub const STALE_AFTER: Duration = Duration::from_secs(15 * 60);

/// The code a waiting row is failed with when its stored contact id was cut by the database
/// (ids over 255 bytes were accepted before ids were measured in bytes; MySQL cut them to the
/// column, so no claim ever matched them and every drain spent its budget on them). The schema
/// upgrade fails them once, so they show on the webhooks page and stop blocking drains.
pub const CUT_CONTACT_ID_CODE: &str = "contact_id_too_long";

/// The sentence stored with such a row.
pub const CUT_CONTACT_ID_MESSAGE: &str = "The contact id of this event was longer than the queue's column (255 bytes) and the database cut it, so it could never be applied. Contact ids over 64 bytes are now refused when the webhook arrives (contact_id_too_long). Discard the event; if the contact is real, have the CRM send it again with its real id.";

impl QueueState {
    /// What the webhooks page calls the state.
    pub fn label(self) -> &'static str {
        match self {
            QueueState::Pending => "Pending",
            QueueState::Claimed => "In progress",
            QueueState::Retrying => "Retrying",
            QueueState::Done => "Done",
            QueueState::Failed => "Failed",
        }
    }

    /// Whether an administrator may send the event back to the queue (pending, due now,
    /// attempts from zero): a failed event, or a retrying one not to wait for its delay. Never
    /// a claimed event (a worker holds it) or a done one (applying it again is a new webhook's
    /// job).
    pub fn admin_may_retry(self) -> bool {
        matches!(self, QueueState::Failed | QueueState::Retrying)
    }

    /// Whether an administrator may delete the event: anything not applied yet and not in a
    /// worker's hands. A claimed event is in flight; a done one leaves by retention.
    pub fn admin_may_discard(self) -> bool {
        matches!(
            self,
            QueueState::Pending | QueueState::Retrying | QueueState::Failed
        )
    }

    /// Whether retention deletes the event once it is older than `keep_done_days`: a done
    /// one (its record) and a failed one (an administrator had that long to retry it).
    pub fn is_pruned(self) -> bool {
        matches!(self, QueueState::Done | QueueState::Failed)
    }

    /// Whether the event still waits to be applied (what `STALE_AFTER` is measured on).
    pub fn is_waiting(self) -> bool {
        matches!(
            self,
            QueueState::Pending | QueueState::Claimed | QueueState::Retrying
        )
    }
}

/// The states for which `keep` holds, in `QueueState::ALL`'s order, by name.
pub fn state_names(keep: impl Fn(QueueState) -> bool) -> Vec<&'static str> {
    QueueState::ALL
        .iter()
        .copied()
        .filter(|state| keep(*state))
        .map(QueueState::as_str)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_administrator_never_touches_an_event_in_flight_or_applied() {
        assert_eq!(
            state_names(QueueState::admin_may_retry),
            ["retrying", "failed"]
        );
        assert_eq!(
            state_names(QueueState::admin_may_discard),
            ["pending", "retrying", "failed"]
        );
        for state in [QueueState::Claimed, QueueState::Done] {
            assert!(
                !state.admin_may_retry() && !state.admin_may_discard(),
                "{state:?}"
            );
        }
        assert_eq!(
            state_names(QueueState::is_waiting),
            ["pending", "claimed", "retrying"]
        );
        assert_eq!(state_names(QueueState::is_pruned), ["done", "failed"]);
    }

    #[test]
    fn every_state_has_a_label() {
        for state in QueueState::ALL {
            assert!(!state.label().is_empty());
        }
        assert_eq!(STALE_AFTER.as_secs(), 900);
    }
}
