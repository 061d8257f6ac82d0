//! The drain: applies what the queue holds, one contact at a time.
//!
//! For each contact with due events: read the settings afresh (a change saved meanwhile
//! applies to the next contact), take the contact's lock (`sync::ordering`, the same lock
//! every apply runs under), claim its oldest due events (at most `MAX_CLAIM_ROWS`, a lease of
//! `claim_timeout`), coalesce their heads, read the winner's snapshot, apply once through
//! `sync` as one unit of work (`Site::begin_writes` / `commit_writes`: the apply's writes in
//! one database commit, run again at once when the database ended it by a deadlock), then
//! settle every claimed event by the retry schedule: done with the apply's result, retrying
//! at a time, or failed. So a drain holds one snapshot at a time, however large a contact's
//! backlog. An event whose claims died `MAX_DEAD_CLAIMS` times (its
//! workers were killed applying it) is failed, so it cannot block its contact. A contact
//! whose lock is held elsewhere is left for later, untouched. `drain` is bounded by a time
//! budget and a number of contacts; `settle_contact` is also the immediate mode's step
//! (`pipeline`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use rand::Rng;
use serde::Serialize;

use super::coalesce::coalesce;
use super::port::{ContactKey, EventId, Queue};
use super::schedule::{next_step, Next};
use super::stored::StoredEvent;
use super::UnixTime;
use crate::crm;
use crate::error::{Error, Result};
use crate::settings::{Settings, SourceRef};
use crate::site::{LogLevel, Site};
use crate::sync::{self, ordering, ContactLock, EventResult};

/// Events one claim takes at most (the oldest due ones; the rest are claimed by the next
/// turn). Heads are small, so this bounds a claim's memory to well under a megabyte.
pub const MAX_CLAIM_ROWS: usize = 200;

/// Claims of one event that may die unsettled before it is failed (`abandoned_event`).
pub const MAX_DEAD_CLAIMS: u32 = 3;

/// Runs of one apply whose unit the database ended (a deadlock, a lock wait timeout) before
/// its events wait for a retry (`apply_as_one_unit`).
pub const UNIT_TRIES: u32 = 3;

/// How much one drain may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Checked between contacts: one contact's apply may outlast it by its own CRM calls.
    pub budget: Duration,
    /// Contacts claimed at most.
    pub max_contacts: usize,
}

/// How a claimed event was settled.
#[derive(Debug, Clone, PartialEq)]
pub enum Settled {
    Done(EventResult),
    Retrying { at: UnixTime, error: Error },
    Failed(Error),
}

/// What one contact's turn did.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContactRun {
    /// Whether `sync` ran (at most once per contact).
    pub applied: bool,
    /// Every claimed event and how it was settled, by id.
    pub events: Vec<(EventId, Settled)>,
    /// The claim took `MAX_CLAIM_ROWS` events: the contact may have more due.
    pub more: bool,
}

/// What a drain did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct DrainReport {
    /// Contacts whose events were claimed.
    pub contacts: usize,
    /// Applies run through `sync` (at most one per contact).
    pub applies: usize,
    pub done: usize,
    pub retrying: usize,
    pub failed: usize,
    /// Contacts left alone because another worker held their lock.
    pub busy: usize,
}

/// Applies due events, contact by contact, until none is left, `limits.max_contacts` were
/// taken or `limits.budget` is spent. Each contact is visited once per drain, but for a
/// backlog larger than one claim, which is taken claim after claim. `settings` is
/// asked before each contact, so a change saved meanwhile applies to the next one; `None`
/// stops the drain there (a worker asked to stop ends after the contact in hand). A failing
/// port (the database) or settings that no longer validate stop the drain with their error;
/// the events it held are claimed again after their lease.
pub fn drain(
    queue: &dyn Queue,
    settings: &dyn Fn() -> Result<Option<Settings>>,
    site: &dyn Site,
    limits: Limits,
) -> Result<DrainReport> {
    let deadline = Instant::now() + limits.budget;
    let mut report = DrainReport::default();
    let mut visited: HashSet<ContactKey> = HashSet::new();
    'rounds: while report.contacts < limits.max_contacts {
        let wanted = (limits.max_contacts - report.contacts).saturating_add(visited.len());
        let fresh: Vec<ContactKey> = queue
            .due_contacts(wanted)?
            .into_iter()
            .filter(|contact| !visited.contains(contact))
            .collect();
        if fresh.is_empty() {
            break;
        }
        // Each apply looks its contact's user up by `{crm}_contact_id`: the round's lookups
        // done at once, one scan instead of one per contact.
        let mut links: HashMap<&str, Vec<String>> = HashMap::new();
        for contact in &fresh {
            links
                .entry(&contact.crm)
                .or_default()
                .push(contact.contact_id.clone());
        }
        for (crm, ids) in &links {
            site.prime_contact_links(&crate::crm_kind::contact_id_meta_key_of(crm), ids)?;
        }
        for contact in fresh {
            if report.contacts >= limits.max_contacts || Instant::now() >= deadline {
                break 'rounds;
            }
            visited.insert(contact.clone());
            let Some(settings) = settings()? else {
                break 'rounds;
            };
            let Some(run) = settle_contact(queue, &settings, site, &contact, 0)? else {
                report.busy += 1;
                continue;
            };
            report.contacts += 1;
            report.applies += usize::from(run.applied);
            if run.more {
                visited.remove(&contact);
            }
            for (_, settled) in &run.events {
                match settled {
                    Settled::Done(_) => report.done += 1,
                    Settled::Retrying { .. } => report.retrying += 1,
                    Settled::Failed(_) => report.failed += 1,
                }
            }
        }
    }
    Ok(report)
}

/// One contact's turn: lock (waiting up to `lock_wait_secs`), claim, coalesce, apply once,
/// settle. `None` when the lock was not had: nothing was claimed or changed. The events are
/// applied as the source they came in through (`Settings::source_by_slug`: its field map,
/// password return and CRM client); a source the site no longer has fails them.
pub fn settle_contact(
    queue: &dyn Queue,
    settings: &Settings,
    site: &dyn Site,
    contact: &ContactKey,
    lock_wait_secs: u32,
) -> Result<Option<ContactRun>> {
    let source = settings.source_by_slug(&contact.crm);
    let turn = ordering::with_contact_lock(
        site,
        &contact.crm,
        &contact.contact_id,
        lock_wait_secs,
        || settle_locked(queue, settings, source, site, contact),
    );
    match turn {
        Ok(run) => Ok(Some(run)),
        Err(Error::ContactBusy { .. }) => Ok(None),
        Err(error) => Err(error),
    }
}

/// Runs an apply as one unit of work (`Site::begin_writes` / `commit_writes`: its writes
/// reach the database in one commit). A unit the database ended early kept none of its
/// writes: after a deadlock or a lock wait timeout (the contact's lock still held) it runs
/// again at once, up to `UNIT_TRIES` times, since two applies of different contacts can
/// deadlock on the user meta table's index by timing alone; a unit that still could not
/// commit, or one lost with its connection, is a failed apply, retried by the schedule.
/// The outer error is the site's failing to open or commit the unit.
fn apply_as_one_unit(
    site: &dyn Site,
    apply: impl Fn() -> Result<EventResult>,
) -> Result<Result<EventResult>> {
    for tries in 1..=UNIT_TRIES {
        site.begin_writes()?;
        let applied = apply();
        match site.commit_writes() {
            Ok(true) => return Ok(applied),
            Ok(false) if tries < UNIT_TRIES => site.log(
                LogLevel::Notice,
                "the database ended an apply's transaction (a deadlock or a lock wait timeout); running it again",
            ),
            Ok(false) => break,
            Err(error) => return Ok(Err(error)),
        }
    }
    Ok(Err(Error::Site(format!(
        "the database ended the apply's transaction {UNIT_TRIES} times (deadlocks or lock wait timeouts): none of its writes was kept"
    ))))
}

/// The turn, under the contact's lock.
fn settle_locked(
    queue: &dyn Queue,
    settings: &Settings,
    source: Option<SourceRef>,
    site: &dyn Site,
    contact: &ContactKey,
) -> Result<ContactRun> {
    let token = claim_token();
    let claim = queue.claim(contact, &token, settings.claim_timeout, MAX_CLAIM_ROWS)?;
    let mut run = ContactRun {
        more: claim.rows.len() >= MAX_CLAIM_ROWS,
        ..ContactRun::default()
    };
    let mut heads = Vec::with_capacity(claim.rows.len());
    let mut attempts = BTreeMap::new();
    for row in &claim.rows {
        // An event of a source the site no longer has (deleted, or the first source's CRM
        // switched): applying it would link its id as another CRM's contact and send any load
        // or password to the wrong CRM.
        if source.is_none() {
            let error = Error::EventFromOtherCrm {
                id: row.id,
                stored: contact.crm.clone(),
                configured: settings.source_slugs(),
            };
            queue.fail(&token, &[row.id], &error)?;
            run.events.push((row.id, Settled::Failed(error)));
            continue;
        }
        // Workers that died holding it (killed, out of memory, cut off from the database):
        // failed rather than claimed again forever, so it cannot block its contact.
        if row.dead_claims >= MAX_DEAD_CLAIMS {
            let error = Error::AbandonedEvent {
                id: row.id,
                claims: row.dead_claims,
            };
            queue.fail(&token, &[row.id], &error)?;
            run.events.push((row.id, Settled::Failed(error)));
            continue;
        }
        match StoredEvent::read(row.id, &row.head) {
            Ok(head) => {
                attempts.insert(row.id, row.attempts);
                heads.push((row.id, head));
            }
            Err(error) => {
                queue.fail(&token, &[row.id], &error)?;
                run.events.push((row.id, Settled::Failed(error)));
            }
        }
    }
    let Some(apply) = coalesce(&heads) else {
        return Ok(run);
    };
    drop(heads);
    let snapshot = match StoredEvent::read(apply.winner, &queue.event_data(&token, apply.winner)?) {
        Ok(winner) => winner.event,
        Err(error) => {
            // Its head was readable, its data is not: the winner is failed, and the others
            // are due again at once, to be coalesced without it.
            queue.fail(&token, &[apply.winner], &error)?;
            run.events
                .push((apply.winner, Settled::Failed(error.clone())));
            let others: Vec<EventId> = apply
                .ids
                .iter()
                .copied()
                .filter(|id| *id != apply.winner)
                .collect();
            if !others.is_empty() {
                let at = queue.now()?;
                queue.retry(&token, &others, at, &error)?;
                let settled = Settled::Retrying { at, error };
                run.events
                    .extend(others.iter().map(|id| (*id, settled.clone())));
            }
            run.events.sort_by_key(|(id, _)| *id);
            return Ok(run);
        }
    };
    let apply = apply.with_snapshot(snapshot);
    run.applied = true;
    let event = &apply.webhook.events[0];
    let source = source.unwrap_or(SourceRef::First);
    let crm = crm::for_source(settings, source);
    let applied = apply_as_one_unit(site, || {
        sync::apply_event(
            &apply.webhook,
            event,
            &settings.applied_as(source),
            site,
            crm.as_ref(),
            ContactLock::Held,
        )
    })?;
    match applied {
        Ok(result) => {
            queue.complete(&token, &apply.ids, &result)?;
            run.events.extend(
                apply
                    .ids
                    .iter()
                    .map(|id| (*id, Settled::Done(result.clone()))),
            );
        }
        Err(error) => {
            let now = queue.now()?;
            let mut retries: BTreeMap<UnixTime, Vec<EventId>> = BTreeMap::new();
            let mut failed = Vec::new();
            for id in &apply.ids {
                let tries = attempts.get(id).copied().unwrap_or(1);
                match next_step(error.retry(), tries, &settings.retry_delays, now) {
                    Next::RetryAt(at) => retries.entry(at).or_default().push(*id),
                    Next::Failed => failed.push(*id),
                }
            }
            for (at, ids) in &retries {
                queue.retry(&token, ids, *at, &error)?;
                run.events.extend(ids.iter().map(|id| {
                    let settled = Settled::Retrying {
                        at: *at,
                        error: error.clone(),
                    };
                    (*id, settled)
                }));
            }
            if !failed.is_empty() {
                queue.fail(&token, &failed, &error)?;
                run.events.extend(
                    failed
                        .iter()
                        .map(|id| (*id, Settled::Failed(error.clone()))),
                );
            }
        }
    }
    run.events.sort_by_key(|(id, _)| *id);
    Ok(run)
}

/// A fresh claim token: 128 random bits as hex.
fn claim_token() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
