//! The queued flow (issue 10) against the in-memory Site, the in-memory queue (lease
//! semantics, injectable clock) and the loopback fake CRM: accept and store, answer at once or
//! apply in the request, drain with coalescing, retries on the backoff, expired leases, and
//! no secret in any stored row.

mod support;

use std::time::Duration;

use base64::Engine;
use fake_crm::FakeCrm;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use support::memory_queue::MemoryQueue;
use support::memory_site::MemorySite;
use support::request;
use wpf_bridge::pipeline::{handle_queued, needs_loaded_site, planned_processing, Answer};
use wpf_bridge::queue::{
    drain, ContactKey, DrainReport, Limits, Queue, QueueState, MAX_CLAIM_ROWS, UNIT_TRIES,
};
use wpf_bridge::settings::{Processing, Settings};
use wpf_bridge::site::LogLevel;
use wpf_bridge::sync::{EventResult, Outcome};
use wpf_bridge::webhook::Request;

const KEY: &str = "queue-test-access-key-0123456789";
const T0: i64 = 1_700_000_000;

fn settings(fake: &FakeCrm, extra: Value) -> Settings {
    let mut map = json!({
        "access_key": KEY,
        "crm": "mautic",
        "mautic_url": fake.mautic_url(),
        "mautic_username": "mautic-user",
        "mautic_password": "mautic-password",
        "crm_timeout": 2,
    })
    .as_object()
    .cloned()
    .unwrap();
    map.extend(extra.as_object().cloned().unwrap_or_default());
    Settings::from_map(&map).expect("valid settings")
}

struct World {
    fake: FakeCrm,
    site: MemorySite,
    queue: MemoryQueue,
    settings: Settings,
}

impl World {
    fn new(extra: Value) -> Self {
        let fake = FakeCrm::start();
        let settings = settings(&fake, extra);
        World {
            fake,
            site: MemorySite::new(),
            queue: MemoryQueue::new(T0),
            settings,
        }
    }

    /// One webhook with the right access key; `query` holds the other parameters.
    fn send(&self, query: &str, body: &[u8]) -> Answer {
        self.send_request(&request(&format!("{query}&access_key={KEY}"), body, &[]))
    }

    fn send_request(&self, request: &Request) -> Answer {
        self.send_on(request, true)
    }

    /// `can_answer_early`: whether the server can end the answer before the apply.
    fn send_on(&self, request: &Request, can_answer_early: bool) -> Answer {
        handle_queued(
            request,
            &self.settings,
            &self.site,
            &self.queue,
            can_answer_early,
        )
    }

    fn drain(&self) -> DrainReport {
        drain(
            &self.queue,
            &|| Ok(Some(self.settings.clone())),
            &self.site,
            Limits {
                budget: Duration::from_secs(60),
                max_contacts: 10_000,
            },
        )
        .expect("the in-memory queue does not fail")
    }

    /// Applies ("created" or "updated") the site saw, per the hooks sync fires.
    fn applies(&self) -> usize {
        self.site.actions("wpf_bridge_user_created").len()
            + self.site.actions("wpf_bridge_user_updated").len()
    }

    fn user_by_contact(&self, contact_id: &str) -> Option<support::memory_site::StoredUser> {
        self.site
            .users()
            .into_iter()
            .map(|(_, user)| user)
            .find(|user| user.meta.get("mautic_contact_id") == Some(&json!(contact_id)))
    }

    fn crm_loads(&self) -> usize {
        self.fake
            .requests()
            .iter()
            .filter(|r| r.method == "GET")
            .count()
    }
}

/// A Mautic `lead_post_save_update` webhook body for one contact version.
fn mautic_body(id: u64, first: &str, stamp: &str, extra_fields: Value) -> Vec<u8> {
    let mut core = json!({
        "firstname": {"alias": "firstname", "value": first},
        "email": {"alias": "email", "value": format!("c{id}@example.org")},
    });
    for (alias, value) in extra_fields.as_object().cloned().unwrap_or_default() {
        core[&alias] = json!({"alias": alias, "value": value});
    }
    serde_json::to_vec(&json!({
        "mautic.lead_post_save_update": [{
            "contact": {"id": id, "fields": {"core": core}, "tags": [{"tag": format!("t-{first}")}]},
            "timestamp": stamp,
        }]
    }))
    .unwrap()
}

/// A contact as the fake CRM's API serves it.
fn crm_contact(email: Option<&str>, first: &str, extra: Value) -> Value {
    let mut all = json!({"firstname": first, "lastname": "Tester"});
    if let Some(email) = email {
        all["email"] = json!(email);
    }
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        all[&k] = v;
    }
    json!({"fields": {"all": all}, "tags": [{"tag": "crm"}]})
}

fn stamp(second: u64) -> String {
    format!("2024-05-01T10:{:02}:{:02}+00:00", second / 60, second % 60)
}

#[test]
fn a_background_webhook_is_stored_once_and_answered_with_the_queued_ids() {
    let w = World::new(json!({}));
    let answer = w.send(
        "wpf_action=add",
        &mautic_body(7, "Ann", &stamp(1), json!({})),
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.body,
        json!({"success": true, "action": "add", "crm": "mautic",
               "queued": [{"contact_id": "7", "id": 1}]})
    );
    assert_eq!(answer.log, None, "the queue row is the record: no log row");
    assert_eq!(w.queue.writes(), 1, "one durable write");
    assert_eq!(w.queue.in_state(QueueState::Pending).len(), 1);
    assert_eq!(w.site.user_count(), 0, "nothing applied before the drain");

    let report = w.drain();
    assert_eq!((report.contacts, report.applies, report.done), (1, 1, 1));
    assert_eq!(w.user_by_contact("7").unwrap().core["first_name"], "Ann");
    assert_eq!(w.queue.rows()[0].outcome.as_deref(), Some("created"));
    assert_eq!(w.drain(), DrainReport::default(), "nothing left");
}

#[test]
fn refused_and_test_webhooks_store_nothing() {
    let w = World::new(json!({}));
    let bad = w.send_request(&request(
        "wpf_action=add&access_key=wrong-key-0000000",
        &mautic_body(7, "Ann", &stamp(1), json!({})),
        &[],
    ));
    assert_eq!(bad.status, 403);
    let garbage = w.send("wpf_action=add", b"{not json");
    assert_eq!(garbage.status, 400);
    let test = w.send("wpf_action=test", b"");
    assert_eq!(test.status, 200);
    assert_eq!(test.body["action"], "test");
    assert_eq!(w.queue.writes(), 0);
    assert!(w.queue.rows().is_empty());
}

#[test]
fn a_long_contact_id_or_role_is_refused_4xx_and_stores_nothing() {
    // Issue 18, findings 3 and 5.
    let w = World::new(json!({}));
    let emoji = "%F0%9F%98%80".repeat(64); // 64 x U+1F600: 256 bytes
    let long_id = w.send(&format!("wpf_action=update&contact_id={emoji}"), b"");
    assert_eq!(
        (long_id.status, long_id.body["code"].as_str()),
        (400, Some("contact_id_too_long")),
        "{}",
        long_id.body
    );
    let role = "r".repeat(7000);
    let long_role = w.send(&format!("wpf_action=add&contact_id=5&role={role}"), b"");
    assert_eq!(
        (long_role.status, long_role.body["code"].as_str()),
        (400, Some("option_too_long")),
        "{}",
        long_role.body
    );
    assert!(w.queue.rows().is_empty());
    let fits = w.send(
        &format!("wpf_action=add&contact_id=5&role={}", "r".repeat(100)),
        b"",
    );
    assert_eq!(fits.status, 200, "{}", fits.body);
}

#[test]
fn a_full_queue_answers_503_with_retry_after_and_stores_nothing() {
    // Issue 18, finding 4.
    let w = World::new(json!({"max_waiting_per_contact": 2, "max_waiting_events": 3}));
    for v in 1..=2 {
        let answer = w.send(
            "wpf_action=update",
            &mautic_body(7, &format!("v{v}"), &stamp(v), json!({})),
        );
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    let full = w.send(
        "wpf_action=update",
        &mautic_body(7, "v3", &stamp(3), json!({})),
    );
    assert_eq!(
        (full.status, full.retry_after),
        (503, Some(60)),
        "{}",
        full.body
    );
    assert_eq!(full.body["code"], "queue_full");
    assert_eq!(
        full.log.as_ref().map(|log| log.outcome.as_str()),
        Some("queue_full")
    );
    let other = w.send(
        "wpf_action=update",
        &mautic_body(8, "v1", &stamp(1), json!({})),
    );
    assert_eq!(other.status, 200, "{}", other.body);
    let total = w.send(
        "wpf_action=update",
        &mautic_body(9, "v1", &stamp(1), json!({})),
    );
    assert_eq!(
        (total.status, total.body["code"].as_str()),
        (503, Some("queue_full"))
    );
    assert_eq!(
        w.queue.rows().len(),
        3,
        "nothing of a refused webhook is stored"
    );
    w.drain();
    let again = w.send(
        "wpf_action=update",
        &mautic_body(9, "v1", &stamp(1), json!({})),
    );
    assert_eq!(again.status, 200, "room again once drained: {}", again.body);
}

#[test]
fn a_delivery_is_stored_once_while_it_waits_and_again_once_claimed() {
    // Issue 18, finding 7: the CRM's retry of a waiting delivery stores nothing; once its
    // copy was claimed, a resend is a new row (applied as stale, or idempotently).
    let w = World::new(json!({}));
    let body = mautic_body(7, "Ann", &stamp(1), json!({}));
    let first = w.send("wpf_action=update", &body);
    let retry = w.send("wpf_action=update", &body);
    assert_eq!(first.body["queued"], retry.body["queued"]);
    assert_eq!((w.queue.rows().len(), w.queue.writes()), (1, 1));
    let other_action = w.send("wpf_action=add", &body);
    assert_ne!(other_action.body["queued"], first.body["queued"]);
    w.drain();
    let later = w.send("wpf_action=update", &body);
    assert_eq!(later.status, 200);
    assert_ne!(later.body["queued"], first.body["queued"]);
    assert_eq!(w.queue.rows().len(), 3);
    w.drain();
    assert!(w
        .queue
        .rows()
        .iter()
        .all(|row| row.state == QueueState::Done));
}

#[test]
fn a_failed_store_answers_a_retriable_error_and_applies_nothing() {
    let w = World::new(json!({"processing": "immediate"}));
    w.queue.fail_next_stores(1);
    let answer = w.send(
        "wpf_action=add",
        &mautic_body(7, "Ann", &stamp(1), json!({})),
    );
    assert_eq!(answer.status, 500, "{}", answer.body);
    assert_eq!(answer.body["code"], "site_error");
    assert_eq!(w.site.user_count(), 0);
}

#[test]
fn a_storm_of_versions_coalesces_to_one_apply_per_contact_at_the_newest_version() {
    let w = World::new(json!({}));
    const CONTACTS: u64 = 40;
    const VERSIONS: u64 = 5;
    // Versions arrive out of order (4, 1, 3, 0, 2), from 8 connections at once.
    let order = [4u64, 1, 3, 0, 2];
    let mut sends: Vec<(u64, u64)> = Vec::new();
    for version in order {
        for contact in 1..=CONTACTS {
            sends.push((contact, version));
        }
    }
    let answers: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = sends
            .chunks(sends.len() / 8)
            .map(|chunk| {
                let w = &w;
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|(contact, version)| {
                            let body = mautic_body(
                                *contact,
                                &format!("v{version}"),
                                &stamp(*version),
                                json!({}),
                            );
                            w.send("wpf_action=add", &body).status
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(answers.len() as u64, CONTACTS * VERSIONS);
    assert!(answers.iter().all(|s| *s == 200), "{answers:?}");
    assert_eq!(w.queue.writes() as u64, CONTACTS * VERSIONS);

    let report = w.drain();
    assert_eq!(report.contacts as u64, CONTACTS);
    assert_eq!(report.applies as u64, CONTACTS, "one apply per contact");
    assert_eq!(report.done as u64, CONTACTS * VERSIONS);
    assert_eq!(w.applies() as u64, CONTACTS);
    assert_eq!(w.crm_loads(), 0, "Mautic payloads need no CRM call");
    assert_eq!(w.site.user_count() as u64, CONTACTS);
    for contact in 1..=CONTACTS {
        let user = w.user_by_contact(&contact.to_string()).unwrap();
        assert_eq!(user.core["first_name"], "v4", "contact {contact}");
        assert_eq!(user.meta["mautic_tags"], json!(["t-v4"]));
    }
    for row in w.queue.rows() {
        assert_eq!(
            (row.state, row.completions),
            (QueueState::Done, 1),
            "{row:?}"
        );
    }
}

#[test]
fn drains_racing_with_a_storm_end_at_the_newest_version_and_settle_every_event_once() {
    let w = World::new(json!({}));
    const CONTACTS: u64 = 20;
    let sending = std::sync::atomic::AtomicBool::new(true);
    std::thread::scope(|scope| {
        let drainers: Vec<_> = (0..2)
            .map(|_| {
                let (w, sending) = (&w, &sending);
                scope.spawn(move || {
                    while sending.load(std::sync::atomic::Ordering::SeqCst) {
                        w.drain();
                    }
                })
            })
            .collect();
        let senders: Vec<_> = (0..4u64)
            .map(|thread| {
                let w = &w;
                scope.spawn(move || {
                    for version in [3u64, 0, 4, 1, 2] {
                        for contact in (1..=CONTACTS).filter(|c| c % 4 == thread) {
                            let body = mautic_body(
                                contact,
                                &format!("v{version}"),
                                &stamp(version),
                                json!({}),
                            );
                            assert_eq!(w.send("wpf_action=add", &body).status, 200);
                        }
                    }
                })
            })
            .collect();
        for sender in senders {
            sender.join().unwrap();
        }
        sending.store(false, std::sync::atomic::Ordering::SeqCst);
        for drainer in drainers {
            drainer.join().unwrap();
        }
    });
    w.drain();
    assert_eq!(w.site.user_count() as u64, CONTACTS, "one user per contact");
    for contact in 1..=CONTACTS {
        let user = w.user_by_contact(&contact.to_string()).unwrap();
        assert_eq!(user.core["first_name"], "v4", "contact {contact}");
    }
    let rows = w.queue.rows();
    assert_eq!(rows.len() as u64, CONTACTS * 5, "none lost");
    for row in rows {
        assert_eq!(
            (row.state, row.completions),
            (QueueState::Done, 1),
            "{row:?}"
        );
    }
    assert!(w.applies() as u64 <= CONTACTS * 5);
}

#[test]
fn ten_url_only_adds_for_one_contact_are_one_apply_and_one_crm_load() {
    let w = World::new(json!({}));
    let id = w
        .fake
        .add_mautic_contact(crm_contact(Some("ten@example.org"), "Ten", json!({})));
    let mut queued = Vec::new();
    for _ in 0..10 {
        let answer = w.send(&format!("wpf_action=add&contact_id={id}"), b"");
        assert_eq!(answer.status, 200, "{}", answer.body);
        queued.push(answer.body["queued"][0]["id"].clone());
    }
    // Issue 18, finding 7: the same delivery while its copy waits is not stored again; each
    // resend is answered with the waiting row's id.
    assert!(queued.iter().all(|id| *id == queued[0]), "{queued:?}");
    assert_eq!(w.queue.rows().len(), 1);
    let report = w.drain();
    assert_eq!((report.applies, report.done), (1, 1));
    assert_eq!(w.crm_loads(), 1, "{:?}", w.fake.requests());
    assert_eq!(w.site.user_count(), 1);
}

#[test]
fn a_failing_crm_is_retried_on_the_backoff_honouring_retry_after_and_nothing_is_lost() {
    let w = World::new(json!({"retry_delays": "10,20,30"}));
    let ids: Vec<u64> = (0..3)
        .map(|n| {
            let email = format!("r{n}@example.org");
            w.fake
                .add_mautic_contact(crm_contact(Some(&email), "Retry", json!({})))
        })
        .collect();
    for id in &ids {
        let answer = w.send(&format!("wpf_action=add&contact_id={id}"), b"");
        assert_eq!(answer.status, 200, "{}", answer.body);
    }

    // 1st try: the CRM fails (500): retried after the first delay.
    w.fake.fail_next(500, 3);
    let report = w.drain();
    assert_eq!((report.applies, report.retrying, report.done), (3, 3, 0));
    for row in w.queue.rows() {
        assert_eq!(row.state, QueueState::Retrying);
        assert_eq!(row.due_at, T0 + 10);
        assert_eq!(row.error_code.as_deref(), Some("crm_unavailable"));
    }
    assert_eq!(w.drain().contacts, 0, "not due before its time");

    // 2nd try: rate-limited with Retry-After: 120, longer than the second delay (20).
    w.queue.advance(10);
    w.fake.fail_next_retry_after(429, "120", 3);
    let report = w.drain();
    assert_eq!(report.retrying, 3);
    for row in w.queue.rows() {
        assert_eq!(row.due_at, T0 + 10 + 120, "Retry-After is a minimum");
        assert_eq!(row.error_code.as_deref(), Some("crm_rate_limited"));
    }
    w.queue.advance(20);
    assert_eq!(
        w.drain().contacts,
        0,
        "the second delay alone is not enough"
    );

    // The CRM recovered: every event is applied.
    w.queue.advance(100);
    let report = w.drain();
    assert_eq!((report.done, report.failed, report.retrying), (3, 0, 0));
    assert_eq!(w.site.user_count(), 3);
    for row in w.queue.rows() {
        assert_eq!((row.state, row.attempts), (QueueState::Done, 3));
    }
    let list = w.queue.list(Some(QueueState::Done), None, 10).unwrap();
    assert_eq!(list.len(), 3);
}

#[test]
fn a_never_error_fails_at_once_and_a_later_one_after_the_last_delay() {
    let w = World::new(json!({"retry_delays": "10,20"}));
    let no_email = w
        .fake
        .add_mautic_contact(crm_contact(None, "Nomail", json!({})));
    let down = w
        .fake
        .add_mautic_contact(crm_contact(Some("d@example.org"), "Down", json!({})));
    w.send(&format!("wpf_action=add&contact_id={no_email}"), b"");
    w.send(&format!("wpf_action=add&contact_id={down}"), b"");
    // The first contact's load succeeds (no email: never), the second's fails (later).
    w.fake.clear_requests();
    let report = w.drain_with_failures(&[(1, 0), (1, 500)]);
    assert_eq!((report.failed, report.retrying), (1, 1));
    let failed = w.queue.in_state(QueueState::Failed);
    assert_eq!(
        failed[0].error_code.as_deref(),
        Some("contact_without_email")
    );
    assert_eq!(failed[0].attempts, 1);

    for (advance, expect_failed) in [(10, false), (20, true)] {
        w.queue.advance(advance);
        w.fake.fail_next(503, 1);
        let report = w.drain();
        assert_eq!(report.failed, usize::from(expect_failed), "{report:?}");
    }
    assert_eq!(w.queue.count(QueueState::Failed).unwrap(), 2);
    assert_eq!(w.queue.count(QueueState::Retrying).unwrap(), 0);
    w.queue.advance(100_000);
    assert_eq!(
        w.drain().contacts,
        0,
        "failed events wait for an administrator"
    );
    assert_eq!(w.queue.rows().len(), 2, "nothing deleted");
}

impl World {
    /// Drains with the fake CRM scripted per contact turn: `(count, status)`, status 0 for
    /// "answer normally" (the first contact in queue order goes first).
    fn drain_with_failures(&self, script: &[(usize, u16)]) -> DrainReport {
        let mut total = DrainReport::default();
        for (count, status) in script {
            if *status != 0 {
                self.fake.fail_next(*status, *count);
            }
            let report = drain(
                &self.queue,
                &|| Ok(Some(self.settings.clone())),
                &self.site,
                Limits {
                    budget: Duration::from_secs(60),
                    max_contacts: 1,
                },
            )
            .unwrap();
            total.contacts += report.contacts;
            total.applies += report.applies;
            total.done += report.done;
            total.retrying += report.retrying;
            total.failed += report.failed;
        }
        total
    }
}

#[test]
fn an_event_whose_workers_keep_dying_is_failed_not_claimed_forever() {
    let w = World::new(json!({"claim_timeout": 300, "retry_delays": "30,120"}));
    w.send(
        "wpf_action=add",
        &mautic_body(11, "Crash", &stamp(1), json!({})),
    );
    let key = ContactKey {
        crm: "mautic".into(),
        contact_id: "11".into(),
    };
    // Three workers claim the event and die before settling it (MAX_DEAD_CLAIMS).
    for worker in ["dead-1", "dead-2", "dead-3"] {
        let claim = w
            .queue
            .claim(&key, worker, Duration::from_secs(300), MAX_CLAIM_ROWS)
            .unwrap();
        assert_eq!(claim.rows.len(), 1, "{worker}");
        w.queue.advance(300);
    }
    // The next claim finds three claims that died: failed, not applied.
    let report = w.drain();
    assert_eq!((report.contacts, report.applies), (1, 0), "{report:?}");
    assert_eq!(w.site.user_count(), 0);
    let row = &w.queue.rows()[0];
    assert_eq!(
        (row.state, row.error_code.as_deref()),
        (QueueState::Failed, Some("abandoned_event"))
    );
    w.queue.advance(300);
    assert_eq!(
        w.drain(),
        DrainReport::default(),
        "a failed event is never claimed again"
    );
}

#[test]
fn a_contacts_large_backlog_is_claimed_in_bounded_turns_reading_one_snapshot_each() {
    let w = World::new(json!({}));
    let backlog = MAX_CLAIM_ROWS * 2 + 50;
    let big = "x".repeat(20_000);
    // The newest version arrives first: the later claims hold only older ones, which must
    // not win.
    for i in 0..backlog {
        let version = (i + backlog - 1) % backlog;
        let body = mautic_body(
            5,
            &format!("v{version}"),
            &stamp(version as u64),
            json!({"bio": big}),
        );
        assert_eq!(w.send("wpf_action=update", &body).status, 200);
    }
    w.site.insert_user(
        "c5",
        "c5@example.org",
        "subscriber",
        &[("mautic_contact_id", json!("5"))],
    );
    let report = w.drain();
    assert_eq!(report.contacts, 3, "{report:?}");
    assert_eq!(report.done, backlog, "{report:?}");
    assert_eq!(
        w.queue.data_reads(),
        3,
        "one snapshot read per claim, never the backlog"
    );
    let user = w.user_by_contact("5").unwrap();
    assert_eq!(
        user.core.get("first_name"),
        Some(&json!(format!("v{}", backlog - 1)))
    );
}

#[test]
fn a_drain_reads_the_settings_before_each_contact() {
    let w = World::new(json!({}));
    for contact in [21, 22] {
        w.send(
            "wpf_action=add",
            &mautic_body(contact, "Ann", &stamp(1), json!({})),
        );
    }
    let reads = std::cell::Cell::new(0);
    let userengage = settings(
        &w.fake,
        json!({"crm": "userengage", "userengage_url": w.fake.userengage_url(), "userengage_api_key": "k"}),
    );
    // The owner switches to User.com while the first contact is applied.
    let report = drain(
        &w.queue,
        &|| {
            reads.set(reads.get() + 1);
            Ok(Some(if reads.get() == 1 {
                w.settings.clone()
            } else {
                userengage.clone()
            }))
        },
        &w.site,
        Limits {
            budget: Duration::from_secs(60),
            max_contacts: 10,
        },
    )
    .unwrap();
    assert_eq!(reads.get(), 2);
    assert_eq!((report.done, report.failed), (1, 1), "{report:?}");
    let rows = w.queue.rows();
    assert_eq!(rows[0].state, QueueState::Done);
    assert_eq!(
        (rows[1].state, rows[1].error_code.as_deref()),
        (QueueState::Failed, Some("event_from_other_crm")),
        "never applied with the other CRM's settings"
    );
    assert_eq!(w.site.user_count(), 1);
}

#[test]
fn settings_of_none_stop_the_drain_before_the_next_contact() {
    let w = World::new(json!({}));
    for contact in [31, 32] {
        w.send(
            "wpf_action=add",
            &mautic_body(contact, "Ann", &stamp(1), json!({})),
        );
    }
    let asked = std::cell::Cell::new(0);
    let report = drain(
        &w.queue,
        &|| {
            asked.set(asked.get() + 1);
            Ok((asked.get() == 1).then(|| w.settings.clone()))
        },
        &w.site,
        Limits {
            budget: Duration::from_secs(60),
            max_contacts: 10,
        },
    )
    .unwrap();
    assert_eq!((report.contacts, report.done), (1, 1), "{report:?}");
    let states: Vec<_> = w.queue.rows().iter().map(|row| row.state).collect();
    assert_eq!(
        states,
        [QueueState::Done, QueueState::Pending],
        "nothing claimed after the stop"
    );
}

#[test]
fn an_expired_claim_is_claimed_again_and_applied_once() {
    let w = World::new(json!({"claim_timeout": 300}));
    w.send(
        "wpf_action=add",
        &mautic_body(9, "Lease", &stamp(1), json!({})),
    );
    let key = ContactKey {
        crm: "mautic".into(),
        contact_id: "9".into(),
    };
    // A worker claims the contact's events and dies before settling them.
    let dead = w
        .queue
        .claim(
            &key,
            "dead-worker",
            Duration::from_secs(300),
            MAX_CLAIM_ROWS,
        )
        .unwrap();
    assert_eq!(dead.rows.len(), 1);
    assert_eq!(
        w.queue
            .claim(
                &key,
                "second-worker",
                Duration::from_secs(300),
                MAX_CLAIM_ROWS
            )
            .unwrap()
            .rows
            .len(),
        0,
        "a held claim is not claimed twice"
    );
    assert_eq!(w.drain().contacts, 0);
    w.queue.advance(299);
    assert_eq!(w.drain().contacts, 0, "the lease still holds");
    assert_eq!(w.site.user_count(), 0);

    w.queue.advance(1);
    let report = w.drain();
    assert_eq!((report.applies, report.done), (1, 1));
    assert_eq!(w.site.user_count(), 1);
    // The dead worker's late settle changes nothing.
    let late = EventResult {
        contact_id: "9".into(),
        outcome: Outcome::Ignored,
        user_id: None,
        reason: None,
        notes: Vec::new(),
        role: None,
        role_refused: None,
        password_returned: false,
    };
    w.queue.complete("dead-worker", &[1], &late).unwrap();
    let row = &w.queue.rows()[0];
    assert_eq!(
        (
            row.state,
            row.completions,
            row.attempts,
            row.outcome.as_deref()
        ),
        (QueueState::Done, 1, 2, Some("created"))
    );
    assert_eq!(w.drain(), DrainReport::default());
    assert_eq!(w.applies(), 1);
}

#[test]
fn no_secret_is_in_any_stored_row_and_a_crm_password_is_loaded_when_applied() {
    let secret = "whsec-queue-0123456789";
    let w = World::new(json!({
        "webhook_secret": secret,
        "return_password": true,
        "return_password_field": "wp_password",
        "field_map": {"firstname": "first_name", "email": "user_email", "crm_pass": "user_pass"},
    }));
    let id = w.fake.add_mautic_contact(crm_contact(
        Some("c77@example.org"),
        "Sec",
        json!({"crm_pass": "crm-Secret-2"}),
    ));
    let body = mautic_body(
        id,
        "Sec",
        &stamp(1),
        json!({"wp_password": "returned-Secret-1", "crm_pass": "crm-Secret-2"}),
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(&body);
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let answer = w.send_request(&request(
        &format!("wpf_action=add&access_key={KEY}"),
        &body,
        &[("webhook-signature", &signature)],
    ));
    assert_eq!(answer.status, 200, "{}", answer.body);

    let rows = w.queue.rows();
    assert_eq!(rows.len(), 1);
    for row in &rows {
        for needle in [
            KEY,
            secret,
            signature.as_str(),
            "returned-Secret-1",
            "crm-Secret-2",
        ] {
            assert!(
                !row.data.contains(needle),
                "{needle} stored in {}",
                row.data
            );
        }
        let data: Value = serde_json::from_str(&row.data).unwrap();
        assert_eq!(data["format"], 1);
        assert_eq!(data["password_withheld"], true);
        assert_eq!(data["event"]["fields"]["firstname"], "Sec");
    }
    let answer_text = answer.body.to_string() + &format!("{:?}", answer.log);
    assert!(!answer_text.contains("Secret-"));

    let report = w.drain();
    assert_eq!(report.done, 1);
    let user = w.user_by_contact(&id.to_string()).unwrap();
    assert_eq!(
        user.password, "crm-Secret-2",
        "loaded from the CRM at apply"
    );
    assert_eq!(w.crm_loads(), 1);
}

#[test]
fn immediate_processing_applies_in_the_request_and_the_url_flag_wins() {
    let w = World::new(json!({"processing": "immediate"}));
    let answer = w.send(
        "wpf_action=add",
        &mautic_body(3, "Now", &stamp(1), json!({})),
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["results"][0]["outcome"], "created");
    assert_eq!(answer.body["results"][0]["id"], 1);
    assert_eq!(answer.log, None, "the queue row is the record: no log row");
    assert_eq!(w.queue.rows()[0].state, QueueState::Done);

    let queued = w.send(
        "wpf_action=add&async=true",
        &mautic_body(4, "Later", &stamp(1), json!({})),
    );
    assert_eq!(queued.body["queued"][0]["id"], 2, "{}", queued.body);
    assert!(w.user_by_contact("4").is_none());

    let background = World::new(json!({}));
    let now = background.send(
        "wpf_action=add&async=false",
        &mautic_body(5, "Sync", &stamp(1), json!({})),
    );
    assert_eq!(now.body["results"][0]["outcome"], "created", "{}", now.body);
    assert!(background.user_by_contact("5").is_some());
}

#[test]
fn events_stored_for_another_crm_fail_without_touching_the_site_or_any_crm() {
    // Queued while Mautic was configured, drained after the owner switched to User.com: the
    // contact id means nothing to User.com, and a password sent back would reach the wrong CRM.
    let mut w = World::new(json!({}));
    let queued = w.send(
        "wpf_action=add",
        &mautic_body(8, "Switch", &stamp(1), json!({})),
    );
    assert_eq!(queued.body["queued"][0]["id"], 1, "{}", queued.body);
    w.settings = settings(&w.fake, json!({"crm": "userengage"}));
    let report = w.drain();
    assert_eq!((report.failed, report.applies), (1, 0), "{report:?}");
    let row = &w.queue.rows()[0];
    assert_eq!(row.state, QueueState::Failed);
    assert_eq!(row.error_code.as_deref(), Some("event_from_other_crm"));
    assert_eq!(w.site.user_count(), 0);
    assert!(w.fake.requests().is_empty(), "no CRM was called");
}

#[test]
fn a_server_that_cannot_answer_early_applies_in_the_request_even_when_async_is_asked() {
    // mod_php has no fastcgi_finish_request: a background answer would leave the events
    // waiting for the next cron run, so they are applied before answering.
    let w = World::new(json!({}));
    let query = format!("wpf_action=add&async=true&access_key={KEY}");
    let answer = w.send_on(
        &request(&query, &mautic_body(6, "Apache", &stamp(1), json!({})), &[]),
        false,
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.body["results"][0]["outcome"], "created",
        "{}",
        answer.body
    );
    assert!(w.user_by_contact("6").is_some());
    assert_eq!(
        w.queue.rows()[0].state,
        QueueState::Done,
        "stored first, then settled"
    );
}

#[test]
fn only_webhooks_applied_in_the_request_wait_for_the_loaded_site_and_the_answer_says_the_processing(
) {
    let w = World::new(json!({}));
    let waits = |query: &str, early: bool| {
        needs_loaded_site(
            &request(&format!("{query}&access_key={KEY}"), b"", &[]),
            &w.settings,
            early,
        )
    };
    assert!(
        !waits("wpf_action=update", true),
        "background: answered early"
    );
    assert!(waits("wpf_action=update&async=false", true), "immediate");
    assert!(waits("wpf_action=test", true), "test");
    assert!(
        waits("wpf_action=update", false),
        "no early answer: applied now"
    );
    assert!(!waits("wpf_action=nope", true), "refused: answered early");

    let body = mautic_body(81, "Early", &stamp(1), json!({}));
    let answer = w.send("wpf_action=update", &body);
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.processing, Some(Processing::Background));
    let body = mautic_body(82, "Late", &stamp(2), json!({}));
    let answer = w.send("wpf_action=update&async=false", &body);
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["results"][0]["contact_id"], "82");
    assert_eq!(answer.processing, Some(Processing::Immediate));
    let refused = w.send_request(&request("wpf_action=update&access_key=wrong", &body, &[]));
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(refused.processing, None, "nothing stored");
    assert_eq!(
        refused.log.map(|log| log.action),
        Some("update".to_string())
    );
    let test = w.send("wpf_action=test", b"");
    assert_eq!((test.status, test.processing), (200, None));
}

#[test]
fn the_planned_processing_is_known_before_authentication_and_agrees_with_the_answer() {
    let fake = FakeCrm::start();
    let plan = |query: &str, extra: Value, early: bool| {
        let r = request(query, b"", &[]);
        planned_processing(&r, &settings(&fake, extra), early)
    };
    use Processing::{Background, Immediate};
    assert_eq!(plan("wpf_action=update", json!({}), true), Background);
    assert_eq!(
        plan(
            "wpf_action=update",
            json!({"processing": "immediate"}),
            true
        ),
        Immediate
    );
    assert_eq!(
        plan(
            "wpf_action=update&async=true",
            json!({"processing": "immediate"}),
            true
        ),
        Background
    );
    assert_eq!(plan("wpf_action=add&async=0", json!({}), true), Immediate);
    assert_eq!(
        plan("wpf_action=add", json!({}), false),
        Immediate,
        "no early answer"
    );
    assert_eq!(
        plan("wpf_action=test", json!({}), true),
        Immediate,
        "test needs the site"
    );
    // Requests that will be refused need nothing from WordPress: answered at once.
    assert_eq!(
        plan("wpf_action=nope", json!({"processing": "immediate"}), true),
        Background
    );
    assert_eq!(
        plan("wpf_action=add&async=maybe", json!({}), false),
        Background
    );
    assert_eq!(plan("", json!({}), true), Background);
}

#[test]
fn immediate_retriable_failure_answers_200_retrying_and_the_site_retries() {
    let w = World::new(json!({"processing": "immediate", "retry_delays": "30"}));
    let id = w
        .fake
        .add_mautic_contact(crm_contact(Some("im@example.org"), "Imm", json!({})));
    w.fake.fail_next(500, 1);
    let answer = w.send(&format!("wpf_action=add&contact_id={id}"), b"");
    assert_eq!(answer.status, 200, "{}", answer.body);
    let result = &answer.body["results"][0];
    assert_eq!(result["outcome"], "retrying");
    assert_eq!(result["code"], "crm_unavailable");
    assert_eq!(result["retry_at"], T0 + 30);
    assert_eq!(answer.log, None, "the queue row is the record: no log row");
    assert_eq!(w.queue.rows()[0].state, QueueState::Retrying);

    w.queue.advance(30);
    assert_eq!(w.drain().done, 1);
    assert_eq!(w.site.user_count(), 1);

    // A "never" failure is answered as today: the error's 4xx, and the event is failed.
    let no_email = w
        .fake
        .add_mautic_contact(crm_contact(None, "None", json!({})));
    let answer = w.send(&format!("wpf_action=add&contact_id={no_email}"), b"");
    assert_eq!(answer.status, 422, "{}", answer.body);
    assert_eq!(answer.body["code"], "contact_without_email");
    assert_eq!(answer.body["results"][0]["outcome"], "failed");
    assert_eq!(w.queue.in_state(QueueState::Failed).len(), 1);
}

#[test]
fn a_contact_locked_elsewhere_is_left_untouched_by_the_drain() {
    use wpf_bridge::site::Site;
    use wpf_bridge::sync::ordering::contact_lock_name;
    let w = World::new(json!({}));
    w.send(
        "wpf_action=add",
        &mautic_body(8, "Busy", &stamp(1), json!({})),
    );
    let lock = contact_lock_name("mautic", "8");
    assert!(
        w.site.lock(&lock, 0).unwrap(),
        "another worker holds the contact"
    );
    let report = w.drain();
    assert_eq!((report.busy, report.contacts, report.applies), (1, 0, 0));
    let row = &w.queue.rows()[0];
    assert_eq!(
        (row.state, row.attempts),
        (QueueState::Pending, 0),
        "not claimed"
    );
    w.site.unlock(&lock).unwrap();
    assert_eq!(w.drain().done, 1);
    assert_eq!(w.site.user_count(), 1);
}

#[test]
fn each_apply_is_one_unit_of_work_and_a_unit_the_database_ended_runs_again_at_once() {
    let w = World::new(json!({"retry_delays": "10,20,30"}));
    for contact in 1..=3 {
        w.send(
            "wpf_action=add",
            &mautic_body(contact, "Ann", &stamp(contact), json!({})),
        );
    }
    let report = w.drain();
    assert_eq!((report.applies, report.done), (3, 3));
    assert_eq!(w.site.committed_units(), 3, "one commit per apply");
    assert_eq!(
        w.site.primed(),
        3,
        "the round's contact links were primed at once"
    );

    // A deadlock ends the next unit: it is rolled back and run again in the same turn, so the
    // contact is not left behind for a retry delay.
    w.send(
        "wpf_action=add",
        &mautic_body(4, "Bob", &stamp(10), json!({})),
    );
    w.site.end_next_commits(1);
    let report = w.drain();
    assert_eq!((report.applies, report.done, report.retrying), (1, 1, 0));
    assert_eq!(
        (w.site.rolled_back_units(), w.site.committed_units()),
        (1, 4)
    );
    assert_eq!(w.user_by_contact("4").unwrap().core["first_name"], "Bob");
    assert!(
        w.site
            .logs()
            .iter()
            .any(|(level, line)| *level == LogLevel::Notice && line.contains("running it again")),
        "the rerun was not logged: {:?}",
        w.site.logs()
    );

    // A unit ended every time it runs: after UNIT_TRIES runs nothing is kept and its event
    // waits for a retry.
    w.send(
        "wpf_action=add",
        &mautic_body(5, "Cy", &stamp(11), json!({})),
    );
    w.site.end_next_commits(UNIT_TRIES);
    let report = w.drain();
    assert_eq!((report.applies, report.done, report.retrying), (1, 0, 1));
    assert_eq!(w.site.rolled_back_units(), 1 + UNIT_TRIES);
    assert!(
        w.user_by_contact("5").is_none(),
        "a rolled-back unit kept a user"
    );
    let retrying = w.queue.in_state(QueueState::Retrying);
    assert_eq!(retrying.len(), 1);
    assert_eq!(retrying[0].error_code.as_deref(), Some("site_error"));

    // The retry applies it in full.
    w.queue.advance(10);
    let report = w.drain();
    assert_eq!((report.applies, report.done), (1, 1));
    assert_eq!(w.user_by_contact("5").unwrap().core["first_name"], "Cy");

    // A unit lost with its connection (and the contact's lock) is not run again: it waits.
    w.send(
        "wpf_action=add",
        &mautic_body(6, "Di", &stamp(12), json!({})),
    );
    w.site.lose_next_commit();
    let report = w.drain();
    assert_eq!((report.applies, report.done, report.retrying), (1, 0, 1));
    assert!(w.user_by_contact("6").is_none());
    assert_eq!(w.site.rolled_back_units(), 2 + UNIT_TRIES);
}
