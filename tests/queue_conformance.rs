//! The queue port's conformance suite, Rust side: the scenarios of
//! `tests/conformance/queue.json` (the contract of `wpf_bridge::queue::port`) run against the
//! in-memory queue the pipeline tests use. The same file is run against the PHPUnit
//! `ArrayQueue` (`tests/php/QueueConformanceTest.php`) and the plugin's MariaDB table
//! (`tests/e2e/QueueConformanceTest.php`), so the three implementations keep one contract.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};
use support::memory_queue::MemoryQueue;
use wpf_bridge::queue::{ContactKey, EventId, NewRow, Queue, QueueState};
use wpf_bridge::sync::{EventResult, Outcome};
use wpf_bridge::Error;

const START: i64 = 1_700_000_000;

fn scenarios() -> Vec<Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/conformance/queue.json");
    let text = std::fs::read_to_string(path).expect("the conformance scenarios");
    let file: Value = serde_json::from_str(&text).expect("valid JSON");
    file["scenarios"]
        .as_array()
        .expect("a scenario list")
        .clone()
}

fn text(value: &Value) -> String {
    value.as_str().expect("a string").to_string()
}

fn number(value: &Value) -> i64 {
    value.as_i64().expect("a number")
}

fn crm(value: &Value) -> String {
    text(value)
}

fn state(value: &Value) -> QueueState {
    text(value).parse().expect("a known state")
}

fn outcome(value: &Value) -> Outcome {
    match text(value).as_str() {
        "created" => Outcome::Created,
        "updated" => Outcome::Updated,
        "linked" => Outcome::Linked,
        "unlinked" => Outcome::Unlinked,
        _ => Outcome::Ignored,
    }
}

/// The error a scenario's `retry` or `fail` settles with: only `site_error` is used, the one
/// code every implementation can be given.
fn error(step: &Value) -> Error {
    assert_eq!(
        step["code"], "site_error",
        "scenarios settle with site_error"
    );
    Error::Site(text(&step["message"]))
}

/// What differed from the contract in one scenario, run on `queue` from empty.
fn run(scenario: &Value, queue: &MemoryQueue) -> Vec<String> {
    let mut ids: BTreeMap<String, EventId> = BTreeMap::new();
    let mut failures = Vec::new();
    for (n, step) in scenario["steps"]
        .as_array()
        .expect("a step list")
        .iter()
        .enumerate()
    {
        let at = format!("step {n} ({})", text(&step["op"]));
        let expect_error = step["expect_error"].as_bool().unwrap_or(false);
        match apply(step, queue, &mut ids) {
            Err(problem) if !expect_error => {
                failures.push(format!("{at} failed: {problem}"));
                return failures; // Later steps depend on this one.
            }
            Err(_) => {}
            Ok(_) if expect_error => failures.push(format!("{at} did not fail")),
            Ok(Some((expected, actual))) if expected != actual => {
                failures.push(format!("{at}: expected {expected}, got {actual}"))
            }
            Ok(_) => {}
        }
    }
    failures
}

type Compared = Option<(Value, Value)>;

fn apply(
    step: &Value,
    queue: &MemoryQueue,
    ids: &mut BTreeMap<String, EventId>,
) -> Result<Compared, String> {
    let id_of = |ids: &BTreeMap<String, EventId>, name: &Value| -> Result<EventId, String> {
        ids.get(&text(name))
            .copied()
            .ok_or_else(|| format!("row {name} was never stored"))
    };
    let ids_of = |ids: &BTreeMap<String, EventId>| -> Result<Vec<EventId>, String> {
        step["ids"]
            .as_array()
            .expect("ids")
            .iter()
            .map(|name| id_of(ids, name))
            .collect()
    };
    let fail = |e: Error| e.to_string();
    Ok(match text(&step["op"]).as_str() {
        "store" => {
            let given = step["rows"].as_array().expect("rows");
            let rows: Vec<NewRow> = given
                .iter()
                .map(|row| NewRow {
                    crm: crm(&row["crm"]),
                    contact_id: text(&row["contact_id"]),
                    data: text(&row["data"]),
                    head: text(&row["head"]),
                    delivery_key: text(&row["key"]),
                })
                .collect();
            let got = queue.store(&rows).map_err(fail)?;
            let (mut expected, mut actual) = (Vec::new(), Vec::new());
            for (i, row) in given.iter().enumerate() {
                let name = text(&row["as"]);
                let new = !ids.contains_key(&name);
                if let Some(id) = got.get(i) {
                    if new && !ids.values().any(|known| known == id) {
                        ids.insert(name.clone(), *id);
                    }
                }
                let wanted = match new {
                    true => format!("{name} (a new id)"),
                    false => format!("{name} (id {})", ids[&name]),
                };
                actual.push(match got.get(i) {
                    None => "nothing".to_string(),
                    Some(id) if ids.get(&name) == Some(id) => wanted.clone(),
                    Some(id) => format!("id {id}"),
                });
                expected.push(wanted);
            }
            Some((json!(expected), json!(actual)))
        }
        "advance" => {
            queue.advance(number(&step["seconds"]));
            None
        }
        "due_contacts" => {
            let limit = usize::try_from(number(&step["limit"])).expect("a limit");
            let got: Vec<Value> = queue
                .due_contacts(limit)
                .map_err(fail)?
                .into_iter()
                .map(|key| json!([key.crm, key.contact_id]))
                .collect();
            Some((step["expect"].clone(), Value::Array(got)))
        }
        "claim" => {
            let contact = ContactKey {
                crm: crm(&step["crm"]),
                contact_id: text(&step["contact_id"]),
            };
            let lease = Duration::from_secs(u64::try_from(number(&step["lease"])).expect("lease"));
            let max_rows = usize::try_from(number(&step["max_rows"])).expect("max_rows");
            let claim = queue
                .claim(&contact, &text(&step["token"]), lease, max_rows)
                .map_err(fail)?;
            let expected = step["expect"]
                .as_array()
                .expect("claimed rows")
                .iter()
                .map(|row| {
                    let mut row = row.clone();
                    row["id"] = json!(id_of(ids, &row["id"])?);
                    Ok(row)
                })
                .collect::<Result<Vec<_>, String>>()?;
            let got: Vec<Value> = claim
                .rows
                .iter()
                .map(|row| {
                    json!({"id": row.id, "attempts": row.attempts,
                           "dead_claims": row.dead_claims, "head": row.head})
                })
                .collect();
            Some((Value::Array(expected), Value::Array(got)))
        }
        "event_data" => {
            let data = queue
                .event_data(&text(&step["token"]), id_of(ids, &step["id"])?)
                .map_err(fail)?;
            step.get("expect")
                .map(|expected| (expected.clone(), json!(data)))
        }
        "complete" => {
            let result = EventResult {
                contact_id: String::new(),
                outcome: outcome(&step["outcome"]),
                user_id: Some(7),
                reason: None,
                notes: Vec::new(),
                role: None,
                role_refused: None,
                password_returned: false,
            };
            queue
                .complete(&text(&step["token"]), &ids_of(ids)?, &result)
                .map_err(fail)?;
            None
        }
        "retry" => {
            let at = queue.now().map_err(fail)? + number(&step["at"]);
            queue
                .retry(&text(&step["token"]), &ids_of(ids)?, at, &error(step))
                .map_err(fail)?;
            None
        }
        "fail" => {
            queue
                .fail(&text(&step["token"]), &ids_of(ids)?, &error(step))
                .map_err(fail)?;
            None
        }
        "count" => {
            let count = queue.count(state(&step["state"])).map_err(fail)?;
            Some((step["expect"].clone(), json!(count)))
        }
        "waiting_load" => {
            let load = queue.waiting_load(Duration::ZERO).map_err(fail)?;
            Some((
                step["expect"].clone(),
                json!({"events": load.events, "bytes": load.bytes}),
            ))
        }
        "waiting_per_contact" => {
            let contact_ids: Vec<String> = step["contact_ids"]
                .as_array()
                .expect("contact ids")
                .iter()
                .map(text)
                .collect();
            let counts = queue
                .waiting_per_contact(&crm(&step["crm"]), &contact_ids)
                .map_err(fail)?;
            Some((step["expect"].clone(), json!(counts)))
        }
        "rows" => {
            let listed = queue.list(None, None, 1000).map_err(fail)?;
            let (mut expected, mut actual) = (serde_json::Map::new(), serde_json::Map::new());
            for (name, fields) in step["expect"].as_object().expect("rows") {
                let id = id_of(ids, &json!(name))?;
                let row = listed
                    .iter()
                    .find(|row| row.id == id)
                    .map(|row| serde_json::to_value(row).expect("a row"))
                    .unwrap_or(Value::Null);
                let mut seen = serde_json::Map::new();
                for (field, value) in fields.as_object().expect("fields") {
                    let have = &row[field.as_str()];
                    seen.insert(
                        field.clone(),
                        match value {
                            Value::Number(_) => json!(have.as_i64().unwrap_or(0)),
                            _ => json!(have.as_str().unwrap_or("")),
                        },
                    );
                }
                expected.insert(name.clone(), fields.clone());
                actual.insert(name.clone(), Value::Object(seen));
            }
            Some((Value::Object(expected), Value::Object(actual)))
        }
        other => panic!("unknown step {other}"),
    })
}

#[test]
fn the_memory_queue_keeps_the_queue_contract() {
    let scenarios = scenarios();
    assert!(scenarios.len() >= 7, "the suite has its scenarios");
    let mut failures = Vec::new();
    for scenario in &scenarios {
        let problems = run(scenario, &MemoryQueue::new(START));
        if !problems.is_empty() {
            failures.push(format!(
                "{}:\n  {}",
                scenario["name"],
                problems.join("\n  ")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
