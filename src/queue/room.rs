//! Backpressure (issue 18): the caps on what waits in the queue, checked before a webhook's
//! events are stored, so a queue that is not being drained (or is flooded by a key holder)
//! stops growing instead of filling the database.
//!
//! Three caps, from the settings: waiting events (`max_waiting_events`), their stored bytes
//! (`max_waiting_bytes`) and the waiting events of one contact (`max_waiting_per_contact`).
//! Waiting means pending, claimed or retrying. A webhook that would go over any of them is
//! refused whole, 503 `queue_full` with `Retry-After`, nothing stored: the CRM sends it again.
//!
//! The check must stay cheap on the accept path with a million rows in the table, so it never
//! counts the table per request: the totals are an estimate the port refreshes at most every
//! `LOAD_MAX_AGE` (one request at a time; the others read the last figures), and the
//! per-contact count reads the contact index. Between two refreshes the totals can be passed
//! by what arrives in `LOAD_MAX_AGE`; the caps are a safety bound, not an exact quota.

use std::time::Duration;

use super::port::{Load, NewRow, Queue};
use crate::error::{Error, Result};
use crate::settings::Settings;
use crate::text::{printable, EXCERPT_CHARS};

/// How old the totals may be. The refresh reads an index of the waiting rows (measured in
/// the README: about 0.1 s per 100,000 waiting rows on the e2e stack), so one request in
/// this interval pays it; a flood passes the caps by at most what it stores in that time.
pub const LOAD_MAX_AGE: Duration = Duration::from_secs(5);

/// Whether `new_events` more events of `new_bytes` fit beside `load`; `queue_full` otherwise.
pub fn check_totals(
    load: Load,
    new_events: u64,
    new_bytes: u64,
    settings: &Settings,
) -> Result<()> {
    if load.events.saturating_add(new_events) > settings.max_waiting_events {
        return Err(Error::QueueFull {
            what: "events waiting to be applied".into(),
            count: load.events,
            limit: settings.max_waiting_events,
        });
    }
    if load.bytes.saturating_add(new_bytes) > settings.max_waiting_bytes {
        return Err(Error::QueueFull {
            what: "bytes of events waiting to be applied".into(),
            count: load.bytes,
            limit: settings.max_waiting_bytes,
        });
    }
    Ok(())
}

/// Whether `new_events` more events for `contact_id` fit beside the `waiting` ones.
pub fn check_contact(
    contact_id: &str,
    waiting: u64,
    new_events: u64,
    settings: &Settings,
) -> Result<()> {
    if waiting.saturating_add(new_events) > settings.max_waiting_per_contact {
        return Err(Error::QueueFull {
            what: format!(
                "events waiting for contact {}",
                printable(contact_id, EXCERPT_CHARS)
            ),
            count: waiting,
            limit: settings.max_waiting_per_contact,
        });
    }
    Ok(())
}

/// Checks every cap for the rows of one webhook before they are stored.
pub fn make_room(rows: &[NewRow], settings: &Settings, queue: &dyn Queue) -> Result<()> {
    let Some(first) = rows.first() else {
        return Ok(());
    };
    let bytes: u64 = rows.iter().map(|row| row.data.len() as u64).sum();
    check_totals(
        queue.waiting_load(LOAD_MAX_AGE)?,
        rows.len() as u64,
        bytes,
        settings,
    )?;
    let mut contacts: Vec<(String, u64)> = Vec::new();
    for row in rows {
        match contacts.iter_mut().find(|(id, _)| *id == row.contact_id) {
            Some((_, new)) => *new += 1,
            None => contacts.push((row.contact_id.clone(), 1)),
        }
    }
    let ids: Vec<String> = contacts.iter().map(|(id, _)| id.clone()).collect();
    let waiting = queue.waiting_per_contact(&first.crm, &ids)?;
    if waiting.len() != ids.len() {
        return Err(Error::Site(format!(
            "waiting_per_contact() counted {} of {} contacts",
            waiting.len(),
            ids.len()
        )));
    }
    for ((id, new), waiting) in contacts.iter().zip(waiting) {
        check_contact(id, waiting, *new, settings)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(events: u64, bytes: u64, per_contact: u64) -> Settings {
        Settings {
            max_waiting_events: events,
            max_waiting_bytes: bytes,
            max_waiting_per_contact: per_contact,
            ..Settings::default()
        }
    }

    #[test]
    fn totals_are_capped_in_events_and_bytes() {
        let caps = settings(10, 1000, 5);
        let load = |events, bytes| Load { events, bytes };
        assert_eq!(check_totals(load(9, 0), 1, 1000, &caps), Ok(()));
        let full = check_totals(load(9, 0), 2, 0, &caps).unwrap_err();
        assert_eq!((full.code(), full.status()), ("queue_full", 503));
        assert!(
            full.to_string().contains("9 waiting, the limit is 10"),
            "{full}"
        );
        let bytes = check_totals(load(0, 990), 1, 11, &caps).unwrap_err();
        assert!(bytes.to_string().contains("bytes"), "{bytes}");
        assert_eq!(
            check_totals(load(u64::MAX, 0), 1, 0, &caps)
                .unwrap_err()
                .code(),
            "queue_full"
        );
    }

    #[test]
    fn a_contact_is_capped_and_named_harmlessly() {
        let caps = settings(100, 1 << 20, 3);
        assert_eq!(check_contact("52", 2, 1, &caps), Ok(()));
        let full = check_contact("52\n", 3, 1, &caps).unwrap_err();
        assert_eq!(full.code(), "queue_full");
        assert!(full.to_string().contains("contact 52?"), "{full}");
    }
}
