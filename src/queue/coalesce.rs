//! Coalescing: a contact's due events, claimed together, become one apply.
//!
//! The rules (the only place they are decided):
//! - **Newest snapshot wins.** Of the events that are not deletions, the newest one's
//!   email, fields and tags are applied whole (snapshots are full states, so nothing is
//!   merged from older ones). Newest means: by the CRM's timestamp; events whose timestamp
//!   does not parse come after every timestamped one, in accept order among themselves. Such
//!   events are URL-only calls, whose contact is loaded from the CRM's API at apply time, so
//!   they read the CRM's current state, newer than any snapshot; and `sync::ordering` applies
//!   them without a stale check, as one-by-one delivery would. Equal timestamps: the one
//!   accepted last wins.
//! - **Action:** `add` over `update` over `update_tags`, among the snapshots.
//! - **Deletions:** the newest deletion unlinks when it is newer (same order) than the newest
//!   snapshot; an older deletion is superseded by the snapshot (the contact came back, or the
//!   deletion was delivered late).
//! - **Notification** if any event asked for one; **role**: the last one requested, in
//!   accept order (a URL option belongs to the request, not to the CRM's clock).
//! - **Password:** an `add` with any event whose CRM password was withheld at intake
//!   (`StoredEvent::password_withheld`) drops the snapshot's fields, so `sync` loads the
//!   contact (password included) from the CRM.
//!
//! So ten events for one contact are one apply, with at most one CRM load (only when the
//! winning snapshot lacks what the action needs).
//!
//! Every rule above reads only an event's head (`StoredEvent::head`: action, options, time,
//! deletion, withheld password): the drain coalesces the claimed rows' heads, then reads the
//! one winning row's snapshot and completes the apply with it (`Apply::with_snapshot`).

use jiff::Timestamp;

use super::port::EventId;
use super::stored::StoredEvent;
use crate::webhook::payload::generic::parse_instant;
use crate::webhook::{Action, ContactEvent, Options, Webhook};

/// One apply: a `Webhook` with exactly one event, and the queued events it settles.
#[derive(Debug, Clone, PartialEq)]
pub struct Apply {
    pub webhook: Webhook,
    pub ids: Vec<EventId>,
    /// The event whose snapshot (or deletion) is applied.
    pub winner: EventId,
    /// The snapshot's fields are not applied: `sync` loads the contact from the CRM.
    pub fields_withheld: bool,
}

impl Apply {
    /// The apply with the winner's whole event (its stored snapshot), read after coalescing
    /// the heads; the coalescing rules still hold (withheld fields stay out).
    pub fn with_snapshot(mut self, mut event: ContactEvent) -> Apply {
        if self.fields_withheld {
            event.fields = None;
        }
        self.webhook.events = vec![event];
        self
    }
}

/// Where an event stands in "newest": timestamped events by instant, then untimestamped
/// ones; ties by accept order (the queue id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Newness {
    untimestamped: bool,
    instant: Option<Timestamp>,
    id: EventId,
}

fn newness(id: EventId, stored: &StoredEvent) -> Newness {
    let instant = stored.event.timestamp.as_deref().and_then(parse_instant);
    Newness {
        untimestamped: instant.is_none(),
        instant,
        id,
    }
}

fn rank(action: Action) -> u8 {
    match action {
        Action::Add => 3,
        Action::Update => 2,
        Action::UpdateTags => 1,
        Action::Test => 0,
    }
}

/// Coalesces one contact's claimed events (`(queue id, event)`, any order) into one apply;
/// `None` when there is none. The caller claimed them per contact, so they share the CRM and
/// the contact id.
pub fn coalesce(events: &[(EventId, StoredEvent)]) -> Option<Apply> {
    let newest = |deleted: bool| {
        events
            .iter()
            .filter(|(_, stored)| stored.event.deleted == deleted)
            .max_by_key(|(id, stored)| newness(*id, stored))
    };
    let snapshot = newest(false);
    let deletion = newest(true);
    let (winner_id, winner) = match (snapshot, deletion) {
        (Some(s), Some(d)) if newness(d.0, &d.1) > newness(s.0, &s.1) => d,
        (Some(s), _) => s,
        (None, Some(d)) => d,
        (None, None) => return None,
    };

    let mut by_accept: Vec<&(EventId, StoredEvent)> = events.iter().collect();
    by_accept.sort_by_key(|(id, _)| *id);
    let options = Options {
        role: by_accept
            .iter()
            .rev()
            .find_map(|(_, stored)| stored.options.role.clone()),
        send_notification: events.iter().any(|(_, s)| s.options.send_notification),
        async_: None,
    };
    let action = if winner.event.deleted {
        winner.action
    } else {
        events
            .iter()
            .filter(|(_, stored)| !stored.event.deleted)
            .map(|(_, stored)| stored.action)
            .max_by_key(|action| rank(*action))
            .unwrap_or(winner.action)
    };
    let fields_withheld = action == Action::Add && events.iter().any(|(_, s)| s.password_withheld);
    let apply = Apply {
        webhook: Webhook {
            action,
            crm: winner.crm.clone(),
            options,
            events: Vec::new(),
            ignored: Vec::new(),
        },
        ids: by_accept.iter().map(|(id, _)| *id).collect(),
        winner: *winner_id,
        fields_withheld,
    };
    Some(apply.with_snapshot(winner.event.clone()))
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Map, Value};

    use super::*;

    fn fields(name: &str) -> Option<Map<String, Value>> {
        json!({ "firstname": name }).as_object().cloned()
    }

    fn stored(action: Action, stamp: Option<&str>, name: &str) -> StoredEvent {
        StoredEvent {
            crm: "mautic".into(),
            action,
            options: Options::default(),
            event: ContactEvent {
                kind: "mautic.lead_post_save_update".into(),
                contact_id: "7".into(),
                email: Some("a@example.org".into()),
                tags: Some(vec![name.to_string()]),
                fields: fields(name),
                deleted: false,
                timestamp: stamp.map(str::to_string),
            },
            password_withheld: false,
        }
    }

    fn deletion(stamp: Option<&str>) -> StoredEvent {
        let mut event = stored(Action::Update, stamp, "gone");
        event.event.deleted = true;
        event.event.fields = None;
        event.event.tags = None;
        event
    }

    fn name(apply: &Apply) -> &str {
        apply.webhook.events[0].fields.as_ref().unwrap()["firstname"]
            .as_str()
            .unwrap()
    }

    #[test]
    fn nothing_claimed_is_no_apply() {
        assert_eq!(coalesce(&[]), None);
    }

    #[test]
    fn the_newest_snapshot_by_crm_time_wins_whatever_the_accept_order() {
        let events = vec![
            (
                1,
                stored(Action::Update, Some("2024-05-01T10:00:03+00:00"), "v3"),
            ),
            (
                2,
                stored(Action::Update, Some("2024-05-01T10:00:01+00:00"), "v1"),
            ),
            (
                3,
                stored(Action::Update, Some("2024-05-01T12:00:02+02:00"), "v2"),
            ),
        ];
        let apply = coalesce(&events).unwrap();
        assert_eq!(name(&apply), "v3");
        assert_eq!(apply.webhook.events.len(), 1);
        assert_eq!(apply.webhook.events[0].tags, Some(vec!["v3".to_string()]));
        assert_eq!(
            apply.webhook.events[0].timestamp.as_deref(),
            Some("2024-05-01T10:00:03+00:00")
        );
        assert_eq!(apply.ids, vec![1, 2, 3]);
        // Ten events for one contact: one apply settling all ten.
        let ten: Vec<_> = (0..10u64)
            .map(|i| {
                let stamp = format!("2024-05-01T10:00:{:02}+00:00", (i * 7) % 10);
                (
                    100 - i,
                    stored(Action::Update, Some(&stamp), &format!("n{}", (i * 7) % 10)),
                )
            })
            .collect();
        let apply = coalesce(&ten).unwrap();
        assert_eq!(name(&apply), "n9");
        assert_eq!(apply.ids.len(), 10);
    }

    #[test]
    fn equal_times_go_to_the_last_accepted_and_untimestamped_come_after_timestamped() {
        let same = vec![
            (
                5,
                stored(Action::Update, Some("2024-05-01T10:00:00Z"), "later"),
            ),
            (
                4,
                stored(Action::Update, Some("2024-05-01T10:00:00Z"), "earlier"),
            ),
        ];
        assert_eq!(name(&coalesce(&same).unwrap()), "later");
        let mixed = vec![
            (1, stored(Action::Update, None, "no-time-1")),
            (
                2,
                stored(Action::Update, Some("2030-01-01T00:00:00Z"), "future"),
            ),
            (3, stored(Action::Update, None, "no-time-3")),
            (4, stored(Action::Update, Some("garbage"), "unparsable")),
        ];
        let apply = coalesce(&mixed).unwrap();
        assert_eq!(name(&apply), "unparsable", "untimestamped, accepted last");
        assert_eq!(
            apply.webhook.events[0].timestamp.as_deref(),
            Some("garbage")
        );
    }

    #[test]
    fn add_beats_update_beats_update_tags() {
        let events = vec![
            (
                1,
                stored(Action::UpdateTags, Some("2024-05-01T10:00:01Z"), "a"),
            ),
            (2, stored(Action::Update, Some("2024-05-01T10:00:02Z"), "b")),
        ];
        assert_eq!(coalesce(&events).unwrap().webhook.action, Action::Update);
        let mut with_add = events.clone();
        with_add.push((3, stored(Action::Add, Some("2024-05-01T10:00:00Z"), "c")));
        let apply = coalesce(&with_add).unwrap();
        assert_eq!(apply.webhook.action, Action::Add);
        assert_eq!(name(&apply), "b", "the action does not choose the snapshot");
    }

    #[test]
    fn a_newer_deletion_unlinks_and_an_older_one_is_superseded() {
        let newer = vec![
            (1, stored(Action::Add, Some("2024-05-01T10:00:01Z"), "a")),
            (2, deletion(Some("2024-05-01T10:00:02Z"))),
        ];
        let apply = coalesce(&newer).unwrap();
        assert!(apply.webhook.events[0].deleted);
        assert_eq!(apply.ids, vec![1, 2]);
        let older = vec![
            (1, deletion(Some("2024-05-01T10:00:05Z"))),
            (
                2,
                stored(Action::Update, Some("2024-05-01T10:00:06Z"), "back"),
            ),
        ];
        let apply = coalesce(&older).unwrap();
        assert!(!apply.webhook.events[0].deleted);
        assert_eq!(name(&apply), "back");
        assert_eq!(apply.webhook.action, Action::Update);
        let only = vec![(9, deletion(None))];
        assert!(coalesce(&only).unwrap().webhook.events[0].deleted);
    }

    #[test]
    fn notification_if_any_asked_and_the_last_requested_role() {
        let mut first = stored(Action::Add, Some("2024-05-01T10:00:09Z"), "a");
        first.options.role = Some("editor".into());
        let mut second = stored(Action::Add, Some("2024-05-01T10:00:01Z"), "b");
        second.options.role = Some("customer".into());
        second.options.send_notification = true;
        let mut third = stored(Action::Update, Some("2024-05-01T10:00:02Z"), "c");
        third.options.async_ = Some(true);
        let apply = coalesce(&[(3, third), (1, first), (2, second)]).unwrap();
        assert_eq!(apply.webhook.options.role.as_deref(), Some("customer"));
        assert!(apply.webhook.options.send_notification);
        assert_eq!(apply.webhook.options.async_, None);
        let quiet = coalesce(&[(1, stored(Action::Add, None, "q"))]).unwrap();
        assert!(!quiet.webhook.options.send_notification);
        assert_eq!(quiet.webhook.options.role, None);
    }

    #[test]
    fn heads_choose_the_same_winner_and_the_snapshot_completes_it() {
        let events = vec![
            (1, stored(Action::Add, Some("2024-05-01T10:00:03Z"), "v3")),
            (
                2,
                stored(Action::Update, Some("2024-05-01T10:00:01Z"), "v1"),
            ),
        ];
        let heads: Vec<_> = events.iter().map(|(id, e)| (*id, e.head())).collect();
        let from_heads = coalesce(&heads).unwrap();
        assert_eq!(from_heads.winner, 1);
        assert_eq!(
            from_heads.webhook.events[0].fields, None,
            "a head has no snapshot"
        );
        let whole = from_heads.with_snapshot(events[0].1.event.clone());
        assert_eq!(whole, coalesce(&events).unwrap());
        assert_eq!(name(&whole), "v3");
        let mut withheld = events.clone();
        withheld[1].1.password_withheld = true;
        let heads: Vec<_> = withheld.iter().map(|(id, e)| (*id, e.head())).collect();
        let apply = coalesce(&heads).unwrap();
        assert!(apply.fields_withheld);
        let whole = apply.with_snapshot(withheld[0].1.event.clone());
        assert_eq!(
            whole.webhook.events[0].fields, None,
            "still loaded from the CRM"
        );
        assert_eq!(whole.webhook.events[0].tags, Some(vec!["v3".to_string()]));
    }

    #[test]
    fn a_withheld_password_makes_an_add_load_the_contact() {
        let mut withheld = stored(Action::Add, Some("2024-05-01T10:00:01Z"), "a");
        withheld.password_withheld = true;
        let newer = stored(Action::Update, Some("2024-05-01T10:00:02Z"), "b");
        let apply = coalesce(&[(1, withheld.clone()), (2, newer.clone())]).unwrap();
        assert_eq!(apply.webhook.action, Action::Add);
        assert_eq!(
            apply.webhook.events[0].fields, None,
            "sync loads from the CRM"
        );
        let mut update = withheld;
        update.action = Action::Update;
        let apply = coalesce(&[(1, update), (2, newer)]).unwrap();
        assert_eq!(
            name(&apply),
            "b",
            "an update never writes a password: no load"
        );
    }
}
