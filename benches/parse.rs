//! Intake speed: microseconds per `payload::parse` of Mautic's wire bodies (fixture 01, one
//! event; fixture 02, a batch of three), plus the signature check for comparison.
//!
//! `cargo bench --bench parse`. A plain timed loop (no harness): each case runs for a fixed
//! time budget after a short warm-up, so the whole bench takes about three seconds.

use std::hint::black_box;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};
use wpf_bridge::crm_kind::CrmKind;
use wpf_bridge::webhook::auth::verify_signature;
use wpf_bridge::webhook::payload::parse;
use wpf_bridge::webhook::Request;

const LIMIT: usize = 1024 * 1024;
const WARM_UP: Duration = Duration::from_millis(150);
const BUDGET: Duration = Duration::from_millis(800);
const SECRET: &str = "any_secret_will_do";

fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn request(body: Vec<u8>) -> Request {
    let query: Map<String, Value> = match json!({"wpf_action": "update"}) {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    Request {
        method: "POST".into(),
        query,
        post: Map::new(),
        headers: vec![("content-type".into(), "application/json".into())],
        body,
    }
}

/// Runs `work` for the time budget; returns (iterations, microseconds per iteration).
fn time(mut work: impl FnMut()) -> (u64, f64) {
    let start = Instant::now();
    while start.elapsed() < WARM_UP {
        work();
    }
    let start = Instant::now();
    let mut iterations: u64 = 0;
    while start.elapsed() < BUDGET {
        for _ in 0..16 {
            work();
        }
        iterations += 16;
    }
    let micros = start.elapsed().as_secs_f64() * 1e6 / iterations as f64;
    (iterations, micros)
}

fn main() {
    let mut total: u64 = 0;
    for (label, path, events) in [
        (
            "mautic 01 single event",
            "mautic/01_contact_updated_single.wire.json",
            1,
        ),
        (
            "mautic 02 batch of 3",
            "mautic/02_contact_identified_batch_of_3.wire.json",
            3,
        ),
    ] {
        let request = request(fixture(path));
        match parse(CrmKind::Mautic, &request, LIMIT) {
            Ok(webhook) => assert_eq!(webhook.events.len(), events, "{path}"),
            Err(error) => panic!("{path}: {error}"),
        }
        let (count, micros) = time(|| {
            let webhook = parse(CrmKind::Mautic, black_box(&request), LIMIT);
            black_box(webhook.is_ok());
        });
        total += count;
        println!(
            "parse  {label:<24} {:>6} bytes  {micros:>9.2} µs/parse  ({count} parses)",
            request.body.len()
        );
    }

    let body = fixture("mautic/02_contact_identified_batch_of_3.wire.json");
    let signature = "fx0uqf5UsQ5Fp/MUQAs/fZRYXOITkcAy7Nokrvf1uUc=";
    assert!(verify_signature(CrmKind::Mautic, &body, signature, SECRET));
    let (count, micros) = time(|| {
        black_box(verify_signature(
            CrmKind::Mautic,
            black_box(&body),
            signature,
            SECRET,
        ));
    });
    println!(
        "verify mautic 02 signature     {:>6} bytes  {micros:>9.2} µs/check  ({count} checks)",
        body.len()
    );
    println!("total parses: {total}");
}
