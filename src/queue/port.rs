//! The storage port of the queue: the trait the plugin implements with `$wpdb` (one table in
//! the site's MySQL/MariaDB database; in PHP the interface `WpfBridge\Queue`,
//! `src/php/interfaces.rs`), and the in-memory queues of the tests (Rust and PHPUnit)
//! implement with the same semantics. It stores, claims and updates rows; it decides nothing
//! (the drain does). One conformance suite, `tests/conformance/queue.json`, checks the
//! guarantees below against every implementation (`tests/queue_conformance.rs`,
//! `tests/php/QueueConformanceTest.php`, `tests/e2e/QueueConformanceTest.php`).
//!
//! A row: `id` (auto-increment, so ids follow accept order), `crm`, `contact_id`, `state`,
//! `attempts`, `dead_claims`, `due_at`, `claim_token`, `lease_until`, `data` (a
//! `StoredEvent`'s versioned JSON, never a secret), `head` (the same event without its
//! snapshot: what coalescing reads, small and bounded), `accepted_at`, the outcome or the
//! error's code and sentence.
//!
//! What every implementation must guarantee:
//! - **Durable intake**: `store` is one durable write for all the events of one accepted
//!   webhook (one multi-row `INSERT`, or one transaction): all rows or none, committed
//!   before it returns.
//! - **One copy per delivery**: a row keeps its `delivery_key` unique among the rows that
//!   wait unclaimed (a `UNIQUE` index on the key and an "open" mark that `claim` clears). A
//!   `store` whose key is held by such a row stores nothing for it and returns that row's id;
//!   so an `INSERT` run twice (WordPress re-runs a query after reconnecting) or a CRM's retry
//!   of a delivery still waiting adds no row. Once claimed the key is free again: a delivery
//!   arriving while its copy is being applied may carry what that apply has not read (a
//!   parameter-only event loads the contact from the CRM when applied), so it is stored.
//! - **Cheap backpressure figures**: `waiting_load` is an estimate refreshed at most every
//!   `max_age` (never a count of the whole table per request); `waiting_per_contact` counts
//!   through the contact index.
//! - **Atomic claims with a lease**: `claim` takes the oldest due events of one contact, at
//!   most `max_rows`, in one atomic row update (`UPDATE ... SET state='claimed',
//!   claim_token=?, lease_until=NOW()+?, attempts=attempts+1, dead_claims=dead_claims+
//!   (state='claimed') WHERE crm=? AND contact_id=? AND (state IN ('pending','retrying') AND
//!   due_at<=NOW() OR state='claimed' AND lease_until<=NOW()) ORDER BY id LIMIT ?`, then a
//!   `SELECT ... WHERE claim_token=?`), so two workers, on one server or several sharing the
//!   database, never hold the same event; a claim whose lease ran out (its worker died) is
//!   claimable again, and counts as a dead claim.
//! - **Bounded reads**: `claim` returns each row's `head`, never its `data` (a row stored
//!   before heads existed returns its data as its head); `event_data` reads one claimed row's
//!   data, so a drain holds one snapshot at a time, however large a contact's backlog.
//! - **Settling is guarded by the claim**: `complete`, `retry` and `fail` change only rows
//!   that still carry the caller's claim token, so a worker whose lease expired and was
//!   overtaken changes nothing.
//! - **Nothing is deleted** before it is done or an administrator discards it (retention of
//!   done rows is the plugin's, by age and cap).
//! - **One clock**: `now` is the time every `due_at` and `lease_until` is compared with (the
//!   database's or PHP's `time()`, the same on every server).

use std::time::Duration;

use serde::Serialize;
use strum::{EnumString, IntoStaticStr, VariantArray};

use super::UnixTime;
use crate::error::{Error, Result};
use crate::sync::EventResult;

/// A queued event's id: the table's auto-increment, so ids follow accept order.
pub type EventId = u64;

/// One event to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRow {
    pub crm: String,
    pub contact_id: String,
    /// `Versioned<StoredEvent>` as JSON.
    pub data: String,
    /// The same without the snapshot (`StoredEvent::head`), as JSON.
    pub head: String,
    /// `StoredEvent::delivery_key`: while a row with this key waits unclaimed, storing the
    /// same key again stores nothing and answers that row's id.
    pub delivery_key: String,
}

/// What waits in the queue (pending, claimed and retrying events), as `Queue::waiting_load`
/// tells it: an estimate, at most a few seconds old (`queue::room`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Load {
    pub events: u64,
    /// Bytes of their stored data.
    pub bytes: u64,
}

/// Which contact: its CRM and its id there.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContactKey {
    pub crm: String,
    pub contact_id: String,
}

/// One claimed event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedRow {
    pub id: EventId,
    /// Tries so far, this claim included (1 on the first).
    pub attempts: u32,
    /// Claims of this event whose worker died holding them (their lease ran out unsettled).
    pub dead_claims: u32,
    /// The row's head (`NewRow::head`), or its data for a row stored without one.
    pub head: String,
}

/// What `claim` took: the rows now held under `token`, empty when another worker had them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub token: String,
    pub rows: Vec<ClaimedRow>,
}

/// Where a queued event stands. Its name is the variant's, lowercased (strum), in the
/// database, the rules and JSON alike (serde goes through strum).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, IntoStaticStr, EnumString, VariantArray,
)]
#[serde(into = "&'static str")]
#[strum(serialize_all = "lowercase")]
pub enum QueueState {
    /// Waiting for its first try.
    Pending,
    /// Held by a worker until its lease ends.
    Claimed,
    /// Failed with a "later" error; due again at `due_at`.
    Retrying,
    /// Applied; the outcome is kept.
    Done,
    /// Given up; waits for an administrator's retry or discard.
    Failed,
}

impl QueueState {
    pub const ALL: &'static [QueueState] = Self::VARIANTS;

    /// The state's name: `pending`, `claimed`, `retrying`, `done`, `failed`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One row as the admin page and the tests see it (never the data: no reason to show it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowView {
    pub id: EventId,
    pub crm: String,
    pub contact_id: String,
    pub state: QueueState,
    pub attempts: u32,
    pub accepted_at: UnixTime,
    /// The next try of a pending or retrying event.
    pub due_at: Option<UnixTime>,
    /// A done event's outcome (`created`, `updated`, ...).
    pub outcome: Option<String>,
    /// The last error's code and sentence.
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

/// The queue's storage (see the module comment for the guarantees).
pub trait Queue {
    /// The queue's clock, in Unix seconds.
    fn now(&self) -> Result<UnixTime>;
    /// Stores the rows of one accepted webhook in one durable write, due at once, and returns
    /// their ids in the same order.
    fn store(&self, rows: &[NewRow]) -> Result<Vec<EventId>>;
    /// The waiting events and their bytes, as an estimate at most `max_age` old (refreshed by
    /// one caller at a time; the others read the last figures).
    fn waiting_load(&self, max_age: Duration) -> Result<Load>;
    /// The waiting events (pending, claimed, retrying) of each of `contact_ids` of `crm`, in
    /// the same order.
    fn waiting_per_contact(&self, crm: &str, contact_ids: &[String]) -> Result<Vec<u64>>;
    /// Contacts with at least one due event (pending or retrying with `due_at <= now`, or
    /// claimed with an expired lease), the longest waiting first, at most `limit`.
    fn due_contacts(&self, limit: usize) -> Result<Vec<ContactKey>>;
    /// Atomically claims the oldest due events of `contact`, at most `max_rows`, under `token`
    /// for `lease`, counting an attempt for each (and a dead claim for each whose earlier
    /// claim's lease ran out).
    fn claim(
        &self,
        contact: &ContactKey,
        token: &str,
        lease: Duration,
        max_rows: usize,
    ) -> Result<Claim>;
    /// The data of one event claimed under `token` (an error when it is not so claimed).
    fn event_data(&self, token: &str, id: EventId) -> Result<String>;
    /// Marks claimed events done with the result of the apply that settled them.
    fn complete(&self, token: &str, ids: &[EventId], result: &EventResult) -> Result<()>;
    /// Releases claimed events to be tried again at `at`, keeping the error.
    fn retry(&self, token: &str, ids: &[EventId], at: UnixTime, error: &Error) -> Result<()>;
    /// Marks claimed events failed with the error.
    fn fail(&self, token: &str, ids: &[EventId], error: &Error) -> Result<()>;
    /// How many events are in `state`.
    fn count(&self, state: QueueState) -> Result<u64>;
    /// Rows, newest first, optionally only in one state and of one contact, at most `limit`.
    fn list(
        &self,
        state: Option<QueueState>,
        contact_id: Option<&str>,
        limit: usize,
    ) -> Result<Vec<RowView>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_names_are_one_rule_for_the_database_the_rules_and_json() {
        let names: Vec<&str> = QueueState::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names, ["pending", "claimed", "retrying", "done", "failed"]);
        for state in QueueState::ALL {
            assert_eq!(state.as_str().parse::<QueueState>(), Ok(*state));
            assert_eq!(
                serde_json::to_value(state).unwrap(),
                serde_json::json!(state.as_str())
            );
        }
        assert!("Pending".parse::<QueueState>().is_err());
        assert!("waiting".parse::<QueueState>().is_err());
    }
}
