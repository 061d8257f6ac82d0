//! The queue's core, in-process: 10,000 Mautic `update` webhooks for 1,000 contacts (ten
//! versions each, sent out of order) from 16 threads, against the in-memory Site and queue of
//! the tests and the loopback fake CRM. Prints, for the queued flow (`handle_queued` then
//! `drain`) and for today's flow (`handle`, applied in each request): the accept rate, the
//! drain time, the applies, the CRM calls, and whether every contact ended at its newest
//! version. It measures the Rust core only; the WordPress benchmark is the e2e one.
//!
//! `cargo bench --bench queue` (release; about ten seconds on 2 cores).

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use fake_crm::FakeCrm;
use serde_json::{json, Map, Value};
use support::memory_queue::MemoryQueue;
use support::memory_site::MemorySite;
use wpf_bridge::pipeline::{handle, handle_queued, Answer};
use wpf_bridge::queue::{drain, Limits};
use wpf_bridge::settings::Settings;
use wpf_bridge::webhook::Request;

const KEY: &str = "bench-access-key-0123456789";
const CONTACTS: u64 = 1_000;
const VERSIONS: u64 = 10;
const THREADS: usize = 16;

fn body(contact: u64, version: u64) -> Vec<u8> {
    serde_json::to_vec(&json!({"mautic.lead_post_save_update": [{
        "contact": {"id": contact, "fields": {"core": {
            "firstname": {"alias": "firstname", "value": format!("v{version}")},
            "email": {"alias": "email", "value": format!("c{contact}@example.org")},
        }}, "tags": [{"tag": format!("t{version}")}]},
        "timestamp": format!("2024-05-01T10:00:{version:02}+00:00"),
    }]}))
    .unwrap()
}

fn request(body: Vec<u8>) -> Request {
    let query: Map<String, Value> = json!({"wpf_action": "update", "access_key": KEY})
        .as_object()
        .cloned()
        .unwrap();
    Request {
        method: "POST".into(),
        query,
        post: Map::new(),
        headers: vec![("content-type".into(), "application/json".into())],
        body,
    }
}

fn site() -> MemorySite {
    let site = MemorySite::new();
    for contact in 1..=CONTACTS {
        site.insert_user(
            &format!("c{contact}"),
            &format!("c{contact}@example.org"),
            "subscriber",
            &[("mautic_contact_id", json!(contact.to_string()))],
        );
    }
    site
}

/// Sends every version of every contact (versions in the order 9, 0, 8, 1, ...) from
/// `THREADS` threads; returns the seconds taken and whether every answer was 200.
fn storm(send: &(dyn Fn(Request) -> Answer + Sync)) -> (f64, bool) {
    let mut order: Vec<u64> = Vec::new();
    for i in 0..VERSIONS / 2 {
        order.extend([VERSIONS - 1 - i, i]);
    }
    let mut sends = Vec::new();
    for version in order {
        for contact in 1..=CONTACTS {
            sends.push((contact, version));
        }
    }
    let started = Instant::now();
    let all_ok = std::thread::scope(|scope| {
        let chunk = sends.len().div_ceil(THREADS);
        let handles: Vec<_> = sends
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .all(|(c, v)| send(request(body(*c, *v))).status == 200)
                })
            })
            .collect();
        handles.into_iter().all(|h| h.join().unwrap())
    });
    (started.elapsed().as_secs_f64(), all_ok)
}

fn applies(site: &MemorySite) -> usize {
    site.actions("wpf_bridge_user_updated").len()
}

fn newest_everywhere(site: &MemorySite) -> bool {
    site.users()
        .iter()
        .all(|(_, user)| user.core.get("first_name") == Some(&json!(format!("v{}", VERSIONS - 1))))
}

fn main() {
    let fake = FakeCrm::start();
    let map = json!({"access_key": KEY, "crm": "mautic", "mautic_url": fake.mautic_url(),
                     "mautic_username": "mautic-user", "mautic_password": "mautic-password"});
    let settings = Settings::from_map(map.as_object().unwrap()).unwrap();
    let events = CONTACTS * VERSIONS;
    println!("{events} Mautic updates for {CONTACTS} contacts from {THREADS} threads");

    let site_q = site();
    let queue = MemoryQueue::new(1_700_000_000);
    let send = |r: Request| handle_queued(&r, &settings, &site_q, &queue, true);
    let (accept_secs, all_ok) = storm(&send);
    let started = Instant::now();
    let report = drain(
        &queue,
        &|| Ok(Some(settings.clone())),
        &site_q,
        Limits {
            budget: Duration::from_secs(600),
            max_contacts: usize::MAX,
        },
    )
    .unwrap();
    let drain_secs = started.elapsed().as_secs_f64();
    let lost = queue.rows().iter().filter(|r| r.completions != 1).count();
    println!(
        "queued:    accept {:>8.0} webhooks/s (all 200: {all_ok}), drain {drain_secs:.2} s, \
         applies {} ({} by drain), CRM calls {}, lost {lost}, newest everywhere: {}",
        events as f64 / accept_secs,
        applies(&site_q),
        report.applies,
        fake.requests().len(),
        newest_everywhere(&site_q),
    );

    fake.clear_requests();
    let site_h = site();
    let send = |r: Request| handle(&r, &settings, &site_h);
    let (secs, all_ok) = storm(&send);
    println!(
        "in request: apply {:>7.0} webhooks/s (all 200: {all_ok}), applies {events} (one per \
         request: {} wrote the user, {} were stale), CRM calls {}, newest everywhere: {}",
        events as f64 / secs,
        applies(&site_h),
        events as usize - applies(&site_h),
        fake.requests().len(),
        newest_everywhere(&site_h),
    );
}
