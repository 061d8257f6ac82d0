//! Deterministic mutation fuzzing of intake: thousands of damaged versions of every payload
//! fixture (byte flips, truncations, deleted and inserted brackets, values swapped for other
//! JSON types) go through `payload::parse` for both CRMs. Each must come back as `Ok` or as an
//! intake error, never a panic; the run is seeded and bounded, so a failure is reproducible
//! and the suite stays fast in debug builds.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};
use wpf_bridge::crm_kind::CrmKind;
use wpf_bridge::error::ErrorKind;
use wpf_bridge::webhook::payload::parse;
use wpf_bridge::webhook::Request;

const LIMIT: usize = 1024 * 1024;

/// Every payload fixture, plus the short inline body of signatures.txt.
const FIXTURES: [&str; 10] = [
    "mautic/01_contact_updated_single.json",
    "mautic/01_contact_updated_single.wire.json",
    "mautic/02_contact_identified_batch_of_3.json",
    "mautic/02_contact_identified_batch_of_3.wire.json",
    "mautic/03_points_changed.json",
    "mautic/04_channel_subscription_changed.json",
    "mautic/05_contact_deleted.json",
    "mautic/06_test_button_payload_with_toplevel_timestamp.json",
    "userengage/01_api_call_body_confirmed_keys.json",
    "userengage/02_api_call_body_extended_ASSUMED.json",
];
const INLINE: &str = r#"{"mautic.lead_post_save_update":[{"contact":{"id":52,"fields":{"core":{"email":{"value":"john@doe.name"},"timezone1":{"value":"Europe\/Prague"}}}},"timestamp":"2017-06-19T09:32:24+00:00"}]}"#;

/// Per fixture and family; tuned so the whole file runs in a few seconds in debug builds.
const FLIPS: usize = 200;
const TRUNCATIONS: usize = 200;
const BRACKET_EDITS: usize = 120;
const TYPE_SWAPS: usize = 150;

/// xorshift64*: tiny, deterministic, good enough to pick positions.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn bodies() -> Vec<(String, Vec<u8>)> {
    let mut bodies: Vec<(String, Vec<u8>)> = FIXTURES
        .iter()
        .map(|path| {
            let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
            let bytes = std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
            (path.to_string(), bytes)
        })
        .collect();
    bodies.push(("signatures.txt inline".into(), INLINE.as_bytes().to_vec()));
    bodies
}

/// The query variants each mutated body is sent with: plain, with a contact_id override, and
/// the test action (which accepts no events).
fn queries() -> [Map<String, Value>; 3] {
    let to_map = |value: Value| match value {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    [
        to_map(json!({"wpf_action": "update"})),
        to_map(json!({"wpf_action": "add", "contact_id": "52", "email": "x@example.org"})),
        to_map(json!({"wpf_action": "test"})),
    ]
}

struct Harness {
    queries: [Map<String, Value>; 3],
    parses: usize,
    oks: usize,
}

impl Harness {
    fn new() -> Self {
        Harness {
            queries: queries(),
            parses: 0,
            oks: 0,
        }
    }

    /// Parses `body` for both CRMs under one of the query variants; panics with a reproducible
    /// description if parsing panics or breaks an invariant.
    fn check(&mut self, what: &str, index: usize, body: &[u8]) {
        let query = &self.queries[index % self.queries.len()];
        let request = Request {
            method: "POST".into(),
            query: query.clone(),
            post: Map::new(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_vec(),
        };
        for &crm in CrmKind::ALL {
            let outcome = catch_unwind(AssertUnwindSafe(|| parse(crm, &request, LIMIT)));
            self.parses += 1;
            match outcome {
                Err(_) => panic!(
                    "parse panicked: {crm:?}, {what} #{index}, body starts {:?}",
                    String::from_utf8_lossy(&body[..body.len().min(120)])
                ),
                Ok(Ok(webhook)) => {
                    self.oks += 1;
                    assert!(
                        webhook.events.iter().all(|e| !e.contact_id.is_empty()),
                        "{crm:?}, {what} #{index}: event without contact id"
                    );
                }
                Ok(Err(error)) => {
                    assert_eq!(
                        error.kind(),
                        ErrorKind::InvalidPayload,
                        "{crm:?}, {what} #{index}: {error}"
                    );
                    assert!(
                        error.to_string().chars().count() < 400,
                        "{crm:?}, {what} #{index}: message too long"
                    );
                }
            }
        }
    }

    fn finish(&self, family: &str, started: Instant, min_parses: usize) {
        let elapsed = started.elapsed();
        eprintln!(
            "{family}: {} parses ({} ok) in {:.2?}",
            self.parses, self.oks, elapsed
        );
        assert!(
            self.parses >= min_parses,
            "{family}: only {} parses",
            self.parses
        );
        assert!(
            elapsed < Duration::from_secs(60),
            "{family} took {elapsed:?}"
        );
    }
}

#[test]
fn byte_flips() {
    let started = Instant::now();
    let mut harness = Harness::new();
    for (seed, (name, body)) in bodies().into_iter().enumerate() {
        let mut rng = Rng::new(seed as u64 + 1);
        for index in 0..FLIPS {
            let mut mutated = body.clone();
            // One to four flipped bytes, each xor-ed with a non-zero value.
            for _ in 0..=rng.below(4) {
                let at = rng.below(mutated.len());
                mutated[at] ^= (rng.below(255) + 1) as u8;
            }
            harness.check(&format!("{name} flip"), index, &mutated);
        }
    }
    harness.finish("byte flips", started, 1000);
}

#[test]
fn truncations() {
    let started = Instant::now();
    let mut harness = Harness::new();
    for (name, body) in bodies() {
        // Every `step` bytes, so each fixture gets about TRUNCATIONS cuts wherever they fall.
        let step = (body.len() / TRUNCATIONS).max(1);
        for (index, cut) in (0..body.len()).step_by(step).enumerate() {
            harness.check(&format!("{name} cut at {cut}"), index, &body[..cut]);
        }
    }
    harness.finish("truncations", started, 1000);
}

#[test]
fn bracket_edits() {
    let started = Instant::now();
    let mut harness = Harness::new();
    for (seed, (name, body)) in bodies().into_iter().enumerate() {
        let mut rng = Rng::new(1000 + seed as u64);
        let brackets: Vec<usize> = body
            .iter()
            .enumerate()
            .filter(|(_, b)| matches!(b, b'{' | b'}' | b'[' | b']'))
            .map(|(at, _)| at)
            .collect();
        for index in 0..BRACKET_EDITS {
            let mut mutated = body.clone();
            if index % 2 == 0 && !brackets.is_empty() {
                let at = brackets[rng.below(brackets.len())];
                mutated.remove(at);
            } else {
                let at = rng.below(mutated.len() + 1);
                let bracket = b"{}[]"[rng.below(4)];
                mutated.insert(at, bracket);
            }
            harness.check(&format!("{name} bracket edit"), index, &mutated);
        }
    }
    harness.finish("bracket edits", started, 1000);
}

/// JSON pointers of every node of `value`.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let key = key.replace('~', "~0").replace('/', "~1");
                pointers(child, format!("{at}/{key}"), out);
            }
        }
        Value::Array(list) => {
            for (i, child) in list.iter().enumerate() {
                pointers(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

fn replacement(choice: usize) -> Value {
    match choice % 12 {
        0 => Value::Null,
        1 => json!(true),
        2 => json!(-7),
        3 => json!(1.5),
        4 => json!(18_446_744_073_709_551_615u64),
        5 => json!(""),
        6 => json!("  52  "),
        7 => json!([]),
        8 => json!([[]]),
        9 => json!({}),
        10 => json!({"id": {"id": null}}),
        _ => json!("x".repeat(300)),
    }
}

#[test]
fn type_swaps() {
    let started = Instant::now();
    let mut harness = Harness::new();
    for (seed, (name, body)) in bodies().into_iter().enumerate() {
        let original: Value = serde_json::from_slice(&body).expect("fixture is JSON");
        let mut paths = Vec::new();
        pointers(&original, String::new(), &mut paths);
        let mut rng = Rng::new(2000 + seed as u64);
        for index in 0..TYPE_SWAPS {
            let mut mutated = original.clone();
            // The interesting nodes (ids, contact, fields, tags, the root) are few among
            // thousands, so half the swaps aim at them.
            let interesting: Vec<&String> = paths
                .iter()
                .filter(|p| {
                    p.is_empty()
                        || p.ends_with("/id")
                        || p.ends_with("/contact")
                        || p.ends_with("/user")
                        || p.ends_with("/fields")
                        || p.ends_with("/tags")
                        || p.ends_with("/timestamp")
                        || p.ends_with("/email")
                        || p.ends_with("/core")
                        || p.starts_with("/mautic.") && p.matches('/').count() <= 2
                })
                .collect();
            let path = if index % 2 == 0 && !interesting.is_empty() {
                interesting[rng.below(interesting.len())].clone()
            } else {
                paths[rng.below(paths.len())].clone()
            };
            let new_value = replacement(rng.below(12));
            match mutated.pointer_mut(&path) {
                Some(node) => *node = new_value,
                None => panic!("pointer {path} not found"),
            }
            let bytes = serde_json::to_vec(&mutated).expect("serialises");
            harness.check(&format!("{name} swap {path}"), index, &bytes);
        }
    }
    harness.finish("type swaps", started, 1000);
}

#[test]
fn hostile_shapes() {
    let started = Instant::now();
    let mut harness = Harness::new();
    let deep_array = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let deep_object = format!("{}1{}", r#"{"a":"#.repeat(5_000), "}".repeat(5_000));
    let many_items = format!(
        r#"{{"mautic.lead_post_save_new":[{}]}}"#,
        vec![r#"{"contact":{"id":1,"tags":[{"tag":"t"}]},"timestamp":"x"}"#; 2_000].join(",")
    );
    let cases: Vec<String> = vec![
        deep_array,
        deep_object,
        many_items,
        "\u{feff}".into(),
        "\u{0}".into(),
        "null".into(),
        "1e999999".into(),
        "\"\\ud800\"".into(),
        r#"{"user":{"id":"\u0000"}}"#.into(),
        r#"{"mautic.lead_post_delete":[{"id":"   "}]}"#.into(),
        r#"{"mautic.lead_post_save_update":{"5":{"contact":{"id":"5"}}}}"#.into(),
    ];
    // Each case under each query variant.
    for (index, case) in cases.iter().enumerate() {
        for variant in 0..3 {
            harness.check("hostile shape", index * 3 + variant, case.as_bytes());
        }
    }
    // Invalid UTF-8 and a body one byte over the limit.
    harness.check("invalid utf-8", 0, &[b'{', 0xff, 0xfe, b'}']);
    let over = vec![b' '; LIMIT + 1];
    harness.check("over the limit", 0, &over);
    harness.finish("hostile shapes", started, 60);
}
