//! An in-memory `Queue` for the pipeline tests, with the semantics the `$wpdb` port must
//! have (`wpf_bridge::queue::port`): one write per `store` (all rows or none), atomic claims
//! under a lease measured on an injectable clock, expired leases claimable again, settling
//! guarded by the claim token, nothing deleted. The clock only moves when a test moves it.
//! `tests/queue_conformance.rs` holds it to the same scenarios as the PHPUnit `ArrayQueue` and
//! the plugin's MariaDB table (`tests/conformance/queue.json`).

use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use wpf_bridge::queue::{
    Claim, ClaimedRow, ContactKey, EventId, Load, NewRow, Queue, QueueState, RowView, UnixTime,
};
use wpf_bridge::sync::EventResult;
use wpf_bridge::{Error, Result};

/// One stored row, as the table would hold it.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub id: EventId,
    pub key: ContactKey,
    pub data: String,
    pub head: String,
    pub dead_claims: u32,
    pub state: QueueState,
    pub attempts: u32,
    pub due_at: UnixTime,
    pub token: Option<String>,
    pub lease_until: UnixTime,
    pub accepted_at: UnixTime,
    pub outcome: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    /// How many times the row was marked done (must stay at most 1).
    pub completions: u32,
    pub delivery_key: String,
    /// Whether the delivery key still holds (the row waits unclaimed): the table's
    /// `delivery_open`, cleared by `claim`.
    pub delivery_open: bool,
}

pub struct MemoryQueue {
    rows: Mutex<Vec<Row>>,
    now: AtomicI64,
    stores: AtomicUsize,
    fail_stores: AtomicUsize,
    data_reads: AtomicUsize,
}

impl MemoryQueue {
    pub fn new(now: UnixTime) -> Self {
        MemoryQueue {
            rows: Mutex::new(Vec::new()),
            now: AtomicI64::new(now),
            stores: AtomicUsize::new(0),
            fail_stores: AtomicUsize::new(0),
            data_reads: AtomicUsize::new(0),
        }
    }

    /// How many rows' data (`event_data`) were read: claims read heads only.
    pub fn data_reads(&self) -> usize {
        self.data_reads.load(Ordering::SeqCst)
    }

    pub fn advance(&self, secs: i64) {
        self.now.fetch_add(secs, Ordering::SeqCst);
    }

    pub fn clock(&self) -> UnixTime {
        self.now.load(Ordering::SeqCst)
    }

    /// Every row, in id order.
    pub fn rows(&self) -> Vec<Row> {
        self.rows.lock().unwrap().clone()
    }

    /// How many `store` calls wrote rows (the durable writes).
    pub fn writes(&self) -> usize {
        self.stores.load(Ordering::SeqCst)
    }

    /// The next `count` stores fail like a database that refuses the write.
    pub fn fail_next_stores(&self, count: usize) {
        self.fail_stores.store(count, Ordering::SeqCst);
    }

    pub fn in_state(&self, state: QueueState) -> Vec<Row> {
        self.rows()
            .into_iter()
            .filter(|row| row.state == state)
            .collect()
    }

    fn due(row: &Row, now: UnixTime) -> bool {
        match row.state {
            QueueState::Pending | QueueState::Retrying => row.due_at <= now,
            QueueState::Claimed => row.lease_until <= now,
            QueueState::Done | QueueState::Failed => false,
        }
    }

    /// Applies `change` to the rows in `ids` still held under `token`.
    fn settle(&self, token: &str, ids: &[EventId], change: impl Fn(&mut Row)) {
        for row in self.rows.lock().unwrap().iter_mut() {
            if ids.contains(&row.id)
                && row.state == QueueState::Claimed
                && row.token.as_deref() == Some(token)
            {
                change(row);
                row.token = None;
            }
        }
    }
}

impl Queue for MemoryQueue {
    fn now(&self) -> Result<UnixTime> {
        Ok(self.clock())
    }

    fn store(&self, rows: &[NewRow]) -> Result<Vec<EventId>> {
        if self
            .fail_stores
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(Error::Site("the database refused the write".into()));
        }
        let now = self.clock();
        let mut table = self.rows.lock().unwrap();
        let mut ids = Vec::with_capacity(rows.len());
        let mut wrote = false;
        for new in rows {
            if let Some(held) = table
                .iter()
                .find(|row| row.delivery_open && row.delivery_key == new.delivery_key)
            {
                ids.push(held.id);
                continue;
            }
            wrote = true;
            let id = table.len() as EventId + 1;
            table.push(Row {
                id,
                key: ContactKey {
                    crm: new.crm.clone(),
                    contact_id: new.contact_id.clone(),
                },
                data: new.data.clone(),
                head: new.head.clone(),
                dead_claims: 0,
                state: QueueState::Pending,
                attempts: 0,
                due_at: now,
                token: None,
                lease_until: 0,
                accepted_at: now,
                outcome: None,
                error_code: None,
                error_message: None,
                completions: 0,
                delivery_key: new.delivery_key.clone(),
                delivery_open: true,
            });
            ids.push(id);
        }
        if wrote {
            self.stores.fetch_add(1, Ordering::SeqCst);
        }
        Ok(ids)
    }

    fn waiting_load(&self, _max_age: Duration) -> Result<Load> {
        let waiting: Vec<Row> = self
            .rows()
            .into_iter()
            .filter(|row| row.state.is_waiting())
            .collect();
        Ok(Load {
            events: waiting.len() as u64,
            bytes: waiting.iter().map(|row| row.data.len() as u64).sum(),
        })
    }

    fn waiting_per_contact(&self, crm: &str, contact_ids: &[String]) -> Result<Vec<u64>> {
        let rows = self.rows();
        Ok(contact_ids
            .iter()
            .map(|id| {
                rows.iter()
                    .filter(|row| {
                        row.state.is_waiting() && row.key.crm == crm && row.key.contact_id == *id
                    })
                    .count() as u64
            })
            .collect())
    }

    fn due_contacts(&self, limit: usize) -> Result<Vec<ContactKey>> {
        let now = self.clock();
        let mut keys: Vec<ContactKey> = Vec::new();
        for row in self.rows.lock().unwrap().iter() {
            if keys.len() >= limit {
                break;
            }
            if Self::due(row, now) && !keys.contains(&row.key) {
                keys.push(row.key.clone());
            }
        }
        Ok(keys)
    }

    fn claim(
        &self,
        contact: &ContactKey,
        token: &str,
        lease: Duration,
        max_rows: usize,
    ) -> Result<Claim> {
        let now = self.clock();
        let mut claimed = Vec::new();
        for row in self.rows.lock().unwrap().iter_mut() {
            if claimed.len() >= max_rows {
                break;
            }
            if row.key == *contact && Self::due(row, now) {
                if row.state == QueueState::Claimed {
                    row.dead_claims += 1;
                }
                row.state = QueueState::Claimed;
                row.token = Some(token.to_string());
                row.lease_until = now + lease.as_secs() as i64;
                row.attempts += 1;
                row.delivery_open = false;
                claimed.push(ClaimedRow {
                    id: row.id,
                    attempts: row.attempts,
                    dead_claims: row.dead_claims,
                    head: row.head.clone(),
                });
            }
        }
        Ok(Claim {
            token: token.to_string(),
            rows: claimed,
        })
    }

    fn event_data(&self, token: &str, id: EventId) -> Result<String> {
        self.data_reads.fetch_add(1, Ordering::SeqCst);
        self.rows
            .lock()
            .unwrap()
            .iter()
            .find(|row| {
                row.id == id
                    && row.state == QueueState::Claimed
                    && row.token.as_deref() == Some(token)
            })
            .map(|row| row.data.clone())
            .ok_or_else(|| Error::Site(format!("event {id} is not claimed under this token")))
    }

    fn complete(&self, token: &str, ids: &[EventId], result: &EventResult) -> Result<()> {
        self.settle(token, ids, |row| {
            row.state = QueueState::Done;
            row.outcome = Some(result.outcome.as_str().to_string());
            row.completions += 1;
        });
        Ok(())
    }

    fn retry(&self, token: &str, ids: &[EventId], at: UnixTime, error: &Error) -> Result<()> {
        self.settle(token, ids, |row| {
            row.state = QueueState::Retrying;
            row.due_at = at;
            row.error_code = Some(error.code().to_string());
            row.error_message = Some(error.to_string());
        });
        Ok(())
    }

    fn fail(&self, token: &str, ids: &[EventId], error: &Error) -> Result<()> {
        self.settle(token, ids, |row| {
            row.state = QueueState::Failed;
            row.error_code = Some(error.code().to_string());
            row.error_message = Some(error.to_string());
        });
        Ok(())
    }

    fn count(&self, state: QueueState) -> Result<u64> {
        Ok(self.in_state(state).len() as u64)
    }

    fn list(
        &self,
        state: Option<QueueState>,
        contact_id: Option<&str>,
        limit: usize,
    ) -> Result<Vec<RowView>> {
        Ok(self
            .rows()
            .into_iter()
            .rev()
            .filter(|row| state.is_none_or(|state| row.state == state))
            .filter(|row| contact_id.is_none_or(|id| row.key.contact_id == id))
            .take(limit)
            .map(|row| RowView {
                id: row.id,
                crm: row.key.crm,
                contact_id: row.key.contact_id,
                state: row.state,
                attempts: row.attempts,
                accepted_at: row.accepted_at,
                due_at: matches!(row.state, QueueState::Pending | QueueState::Retrying)
                    .then_some(row.due_at),
                outcome: row.outcome,
                error_code: row.error_code,
                error_message: row.error_message,
            })
            .collect())
    }
}
