//! The durable webhook queue (issue 10): what `pipeline` stores after `accept`, and the drain
//! that applies it later, one contact at a time, through `sync`.
//!
//! ```text
//! Webhook --stored::intake--> StoredEvent rows --Queue::store (one durable write)
//!   ... later, any worker: drain -> lock contact -> Queue::claim (lease) -> coalesce
//!       -> sync (one apply per contact) -> schedule -> Queue::complete | retry | fail
//! ```
//! `admin` names the states for the webhooks page and says which an administrator may retry or
//! discard, the cap on done rows and when waiting is too long.
//! `stored` is the row's content (versioned, no secret), `coalesce` turns a contact's due
//! events into one apply, `schedule` decides retry or failure from an error's retry class,
//! `room` checks the caps on waiting events before a webhook is stored (backpressure),
//! `port` is the storage trait the plugin implements with `$wpdb`, `drain` runs the loop.
//! `workers` holds the numbers the plugin's drain triggers, resident worker and refusal
//! counters run by. Every decision is made here; the port only stores, claims and updates rows.

pub mod admin;
pub mod coalesce;
pub mod drain;
pub mod port;
pub mod room;
pub mod schedule;
pub mod stored;
pub mod workers;

pub use coalesce::{coalesce, Apply};
pub use drain::{
    drain, settle_contact, ContactRun, DrainReport, Limits, Settled, MAX_CLAIM_ROWS,
    MAX_DEAD_CLAIMS, UNIT_TRIES,
};
pub use port::{Claim, ClaimedRow, ContactKey, EventId, Load, NewRow, Queue, QueueState, RowView};
pub use schedule::{next_step, Next};
pub use stored::{intake, StoredEvent};

/// Seconds since the Unix epoch, as the port's clock (`Queue::now`) tells them.
pub type UnixTime = i64;
