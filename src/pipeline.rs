//! The flow of one webhook, and the one place that decides its answer and its log record.
//!
//! ```text
//! Request --accept--> Webhook --apply--> Report --answer--> Answer { status, body, log }
//!            (webhook/: auth, parse)     (sync/: per event)
//! ```
//! `accept` authenticates and parses; `apply` runs every event through `sync::apply_event`
//! and reports each outcome; `answer` turns a report, or the error that refused the request,
//! into the HTTP status and JSON body the plugin sends and the record it writes to its log.
//! The plugin decides nothing: it sends the answer and stores the record it is given.
//! `handle_queued` is the queued flow (issue 10): `accept`, then `store` in the queue (one
//! durable write), then answer at once with the queued ids (`background`) or settle each
//! contact now through the queue (`immediate`, `apply_queued`). `handle` is the flow without a
//! queue, applied in the request, for a caller that has none.

use std::collections::HashMap;
use std::time::Instant;

use serde::Serialize;
use serde_json::{json, Value};

use crate::crm::Crm;
use crate::error::{Error, ErrorKind, Result};
use crate::queue::{self, ContactKey, EventId, Queue, Settled};
use crate::settings::{Processing, Settings};
use crate::site::{Site, UserId};
use crate::sync::ordering::LOCK_WAIT_SECS;
use crate::sync::{self, EventResult};
use crate::webhook::action::{parse_action, parse_options};
use crate::webhook::{auth, payload, Action, Options, Request, Webhook};

/// Authenticates a request and parses it into a `Webhook`. Nothing is applied. A signed
/// payload alone decides which contacts it is about; a webhook with more events than one
/// request may apply (`max_events`) is refused whole, 413 `too_many_events`.
pub fn accept(request: &Request, settings: &Settings) -> Result<Webhook, Error> {
    let signed = auth::authenticate(request, settings)?;
    let webhook =
        payload::parse_authenticated(settings.crm, request, settings.max_body_bytes, signed)?;
    if webhook.events.len() > settings.max_events {
        return Err(Error::TooManyEvents {
            count: webhook.events.len(),
            limit: settings.max_events,
        });
    }
    Ok(webhook)
}

/// What applying a webhook did: one result per event applied, in order, and the failure that
/// stopped the batch, if one did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub action: Action,
    pub crm: crate::crm_kind::CrmKind,
    pub results: Vec<EventResult>,
    /// The event that failed and why; the events after it were not applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    /// The contact ids of the events not applied because the time budget ran out (the
    /// failure is then `time_budget_exceeded`, for the first of them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<String>,
}

/// An event that could not be applied.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    pub contact_id: String,
    #[serde(serialize_with = "error_fields")]
    pub error: Error,
}

fn error_fields<S: serde::Serializer>(error: &Error, out: S) -> Result<S::Ok, S::Error> {
    json!({"code": error.code(), "message": error.to_string(), "retry": error.retry()})
        .serialize(out)
}

/// Applies a parsed webhook. Events run in order; the first failure stops the batch, so the
/// CRM's retry (or the queue's) starts again from it (every step is idempotent, and an event
/// already applied is skipped as stale).
///
/// The time budget (`time_budget`) is checked between events: once spent, the batch stops
/// cleanly with `time_budget_exceeded` (503) and the events left are reported `pending`. At
/// least one event runs per request, so retries always make progress; one event can outlast
/// the budget by its own CRM calls (each bounded by `crm_timeout`) and its lock wait.
pub fn apply(webhook: &Webhook, settings: &Settings, site: &dyn Site, crm: &dyn Crm) -> Report {
    let deadline = Instant::now() + settings.time_budget;
    let mut report = Report {
        action: webhook.action,
        crm: webhook.crm,
        results: Vec::with_capacity(webhook.events.len()),
        failure: None,
        pending: Vec::new(),
    };
    if webhook.action == Action::Test {
        return report;
    }
    for (done, event) in webhook.events.iter().enumerate() {
        if done > 0 && Instant::now() >= deadline {
            report.pending = webhook.events[done..]
                .iter()
                .map(|event| event.contact_id.clone())
                .collect();
            report.failure = Some(Failure {
                contact_id: event.contact_id.clone(),
                error: Error::TimeBudgetExceeded {
                    done,
                    total: webhook.events.len(),
                },
            });
            break;
        }
        match sync::apply_event(webhook, event, settings, site, crm) {
            Ok(result) => report.results.push(result),
            Err(error) => {
                report.failure = Some(Failure {
                    contact_id: event.contact_id.clone(),
                    error,
                });
                break;
            }
        }
    }
    report
}

/// The whole flow for one request: accept, apply, answer.
pub fn handle(request: &Request, settings: &Settings, site: &dyn Site, crm: &dyn Crm) -> Answer {
    match accept(request, settings) {
        Ok(webhook) => answer(&webhook, &apply(&webhook, settings, site, crm)),
        Err(error) => refuse(&error, request, Some(settings)),
    }
}

/// The queued flow (issue 10): accept, store every contact event in one durable write, then
/// answer at once (`background`: the queue's drain applies them after the answer) or apply
/// them in the request (`immediate`); see `processing`. A refused request stores nothing; a
/// `test` webhook is answered as by `handle`.
pub fn handle_queued(
    request: &Request,
    settings: &Settings,
    site: &dyn Site,
    crm: &dyn Crm,
    queue: &dyn Queue,
    can_answer_early: bool,
) -> Answer {
    let webhook = match accept(request, settings) {
        Ok(webhook) => webhook,
        Err(error) => return refuse(&error, request, Some(settings)),
    };
    if webhook.action == Action::Test {
        return answer(&webhook, &apply(&webhook, settings, site, crm));
    }
    let queued = match store(&webhook, settings, queue) {
        Ok(queued) => queued,
        Err(error) => return answer(&webhook, &not_stored(&webhook, error)),
    };
    match processing(&webhook.options, settings, can_answer_early) {
        Processing::Background => answer_queued(&webhook, &queued),
        Processing::Immediate => apply_queued(&webhook, &queued, settings, site, crm, queue),
    }
}

/// Which processing applies: `immediate` where the server cannot end the answer before the
/// apply (`can_answer_early` false, e.g. mod_php: the events would wait for the next trigger
/// otherwise); else the URL's `async` flag; else the `processing` setting.
pub fn processing(options: &Options, settings: &Settings, can_answer_early: bool) -> Processing {
    if !can_answer_early {
        return Processing::Immediate;
    }
    match options.async_ {
        Some(true) => Processing::Background,
        Some(false) => Processing::Immediate,
        None => settings.processing,
    }
}

/// The processing a request will get, known before it is authenticated, so the plugin can
/// answer a background webhook before the rest of WordPress loads (its must-use loader) and
/// leave the others for `init`, when everything an apply needs is loaded. `test` needs the
/// site, so it is `immediate`; a request that will be refused needs nothing and is
/// `background` (refused at once). `handle_queued` decides the same way once accepted.
pub fn planned_processing(
    request: &Request,
    settings: &Settings,
    can_answer_early: bool,
) -> Processing {
    match (parse_action(request), parse_options(request)) {
        (Ok(Action::Test), _) => Processing::Immediate,
        (Ok(_), Ok(options)) => processing(&options, settings, can_answer_early),
        _ => Processing::Background,
    }
}

/// One queued event: its id and its contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub id: EventId,
    pub contact_id: String,
}

/// Stores an accepted webhook's events (secrets dropped, `queue::intake`) in one write, each
/// with its delivery key (a delivery already waiting is not stored twice: its ids are
/// answered), once the queue's caps allow it (`queue::room`: 503 `queue_full`, nothing
/// stored).
pub fn store(webhook: &Webhook, settings: &Settings, queue: &dyn Queue) -> Result<Vec<Queued>> {
    let stored = queue::intake(webhook, settings, queue.now()?);
    let rows: Vec<_> = stored
        .iter()
        .enumerate()
        .map(|(index, event)| event.to_row(index))
        .collect();
    queue::room::make_room(&rows, settings, queue)?;
    let ids = queue.store(&rows)?;
    if ids.len() != rows.len() {
        return Err(Error::Site(format!(
            "the queue stored {} of {} events",
            ids.len(),
            rows.len()
        )));
    }
    Ok(ids
        .into_iter()
        .zip(rows)
        .map(|(id, row)| Queued {
            id,
            contact_id: row.contact_id,
        })
        .collect())
}

/// The report of a webhook whose events could not be stored: nothing was applied.
fn not_stored(webhook: &Webhook, error: Error) -> Report {
    Report {
        action: webhook.action,
        crm: webhook.crm,
        results: Vec::new(),
        failure: Some(Failure {
            contact_id: webhook
                .events
                .first()
                .map(|event| event.contact_id.clone())
                .unwrap_or_default(),
            error,
        }),
        pending: Vec::new(),
    }
}

/// The background answer: 200 with the queued events' ids.
pub fn answer_queued(webhook: &Webhook, queued: &[Queued]) -> Answer {
    let action = webhook.action.as_str();
    let list: Vec<Value> = queued
        .iter()
        .map(|q| json!({"contact_id": q.contact_id, "id": q.id}))
        .collect();
    Answer {
        status: 200,
        body: json!({
            "success": true,
            "action": action,
            "crm": webhook.crm.slug(),
            "queued": list,
        }),
        log: None,
        retry_after: None,
    }
}

/// Immediate processing: each contact of the webhook takes its turn now (waiting for its
/// lock as `apply` does), within the time budget; the answer has one result per event. An
/// event that will be retried by the site is `retrying` (200, with its code and next try);
/// one not reached (budget spent, contact busy) is `queued`; a failed one makes the answer
/// its error's, as `handle` would.
pub fn apply_queued(
    webhook: &Webhook,
    queued: &[Queued],
    settings: &Settings,
    site: &dyn Site,
    crm: &dyn Crm,
    queue: &dyn Queue,
) -> Answer {
    let deadline = Instant::now() + settings.time_budget;
    let mut settled: HashMap<EventId, Settled> = HashMap::new();
    let mut port_error = None;
    let mut contacts: Vec<&str> = Vec::new();
    for q in queued {
        if !contacts.contains(&q.contact_id.as_str()) {
            contacts.push(&q.contact_id);
        }
    }
    for (turn, contact_id) in contacts.into_iter().enumerate() {
        if turn > 0 && Instant::now() >= deadline {
            break;
        }
        let contact = ContactKey {
            crm: webhook.crm,
            contact_id: contact_id.to_string(),
        };
        match queue::settle_contact(queue, settings, site, crm, &contact, LOCK_WAIT_SECS) {
            Ok(Some(run)) => settled.extend(run.events),
            Ok(None) => {}
            Err(error) => {
                port_error = Some(error);
                break;
            }
        }
    }

    let action = webhook.action.as_str();
    let mut outcomes: Vec<&str> = Vec::new();
    let mut failure: Option<Error> = None;
    let mut results = Vec::with_capacity(queued.len());
    for q in queued {
        let (outcome, result) = match settled.get(&q.id) {
            Some(Settled::Done(result)) => {
                let mut value = serde_json::to_value(result).unwrap_or(Value::Null);
                if let Some(object) = value.as_object_mut() {
                    object.insert("id".into(), q.id.into());
                }
                (result.outcome.as_str(), value)
            }
            Some(Settled::Retrying { at, error }) => {
                let value = json!({
                    "id": q.id, "contact_id": q.contact_id, "outcome": "retrying",
                    "code": error.code(), "message": error.to_string(), "retry_at": at,
                });
                ("retrying", value)
            }
            Some(Settled::Failed(error)) => {
                if failure.is_none() {
                    failure = Some(error.clone());
                }
                let value = json!({
                    "id": q.id, "contact_id": q.contact_id, "outcome": "failed",
                    "code": error.code(), "message": error.to_string(),
                });
                ("failed", value)
            }
            None => {
                let value = json!({"id": q.id, "contact_id": q.contact_id, "outcome": "queued"});
                ("queued", value)
            }
        };
        if !outcomes.contains(&outcome) {
            outcomes.push(outcome);
        }
        results.push(result);
    }
    // The events were stored: their queue rows are the record, so the answer has no log record.
    match port_error.or(failure) {
        Some(error) => {
            let mut body = error_body(&error);
            if let Some(object) = body.as_object_mut() {
                object.insert("action".into(), action.into());
                object.insert("crm".into(), webhook.crm.slug().into());
                object.insert("results".into(), results.into());
            }
            Answer {
                status: error.status(),
                body,
                log: None,
                retry_after: retry_after(&error),
            }
        }
        None => Answer {
            status: 200,
            body: json!({
                "success": true,
                "action": action,
                "crm": webhook.crm.slug(),
                "results": results,
            }),
            log: None,
            retry_after: None,
        },
    }
}

/// What the plugin sends back (status and JSON body) and the record it writes to its log:
/// `None` when the webhook's events were stored, since their queue rows are its record (one
/// durable write per accepted webhook); a request that stored nothing (refused, failed, `test`,
/// or applied without a queue) has a log record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub log: Option<LogRecord>,
    /// Seconds for the `Retry-After` header: the error's retry delay, when it has one (a full
    /// queue, a busy contact, a CRM's own `Retry-After`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

/// The `Retry-After` of an error's answer: its retry class's delay, in seconds.
fn retry_after(error: &Error) -> Option<u64> {
    match error.retry() {
        crate::error::Retry::Later { after } => after.map(|after| after.as_secs()),
        crate::error::Retry::Never => None,
    }
}

/// One row of the plugin's webhook log. Never holds a secret: only ids, codes, outcomes and
/// the sentences of results and errors, which carry none.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct LogRecord {
    /// The action asked for, as a short harmless label (`update`, `add`, ...).
    pub action: String,
    pub crm: String,
    pub contact_ids: Vec<String>,
    pub user_ids: Vec<UserId>,
    /// The outcomes (`created,updated`), `ok`, or the error code.
    pub outcome: String,
    /// Whether the request was refused before it was authenticated (a wrong or missing key
    /// or signature, a request or settings the extension could not read): anyone can send
    /// those, so the plugin keeps their rows apart, under a smaller cap, and they can never
    /// push out the record of authenticated webhooks.
    pub refused: bool,
    /// `level: sentence` lines, one per event and one per failure.
    pub details: Vec<String>,
}

/// The answer to an applied (or partly applied) webhook.
pub fn answer(webhook: &Webhook, report: &Report) -> Answer {
    let action = webhook.action.as_str();
    let mut log = LogRecord {
        action: action.to_string(),
        crm: webhook.crm.slug().to_string(),
        contact_ids: report
            .results
            .iter()
            .map(|r| r.contact_id.clone())
            .collect(),
        user_ids: report.results.iter().filter_map(|r| r.user_id).collect(),
        ..LogRecord::default()
    };
    log.details = report
        .results
        .iter()
        .map(|result| format!("info: {}", describe(webhook.action, result)))
        .collect();
    let mut outcomes: Vec<&str> = Vec::new();
    for result in &report.results {
        if !outcomes.contains(&result.outcome.as_str()) {
            outcomes.push(result.outcome.as_str());
        }
    }
    let results = serde_json::to_value(&report.results).unwrap_or(Value::Null);

    if let Some(failure) = &report.failure {
        let error = &failure.error;
        log.contact_ids.push(failure.contact_id.clone());
        log.outcome = error.code().to_string();
        log.details.push(format!(
            "error: {action} for contact {} failed: {error} [{}]",
            failure.contact_id,
            error.code()
        ));
        let mut body = error_body(error);
        if let Some(object) = body.as_object_mut() {
            object.insert("action".into(), action.into());
            object.insert("crm".into(), webhook.crm.slug().into());
            object.insert("results".into(), results);
            if !report.pending.is_empty() {
                object.insert("pending".into(), json!(report.pending));
            }
        }
        return Answer {
            status: error.status(),
            body,
            log: Some(log),
            retry_after: retry_after(error),
        };
    }

    if webhook.action == Action::Test {
        log.outcome = "ok".into();
        log.details
            .push("info: Test webhook received: the access key is valid.".into());
        return Answer {
            status: 200,
            body: json!({
                "success": true,
                "action": "test",
                "crm": webhook.crm.slug(),
                "message": "wpf-bridge is installed and the access key is valid.",
            }),
            log: Some(log),
            retry_after: None,
        };
    }

    log.outcome = if outcomes.is_empty() {
        "ok".into()
    } else {
        outcomes.join(",")
    };
    let mut body = json!({
        "success": true,
        "action": action,
        "crm": webhook.crm.slug(),
        "results": results,
    });
    if webhook.options.async_ == Some(true) {
        if let Some(object) = body.as_object_mut() {
            object.insert(
                "notes".into(),
                json!(["async was requested, but this call has no queue, so the webhook was applied at once"]),
            );
        }
    }
    Answer {
        status: 200,
        body,
        log: Some(log),
        retry_after: None,
    }
}

/// The answer to a request refused before anything was applied: a bad key or signature, a
/// bad payload, or (with `settings` `None`) settings or a request the extension could not
/// read. In that last case the caller is not authenticated, so the answer names no setting
/// and points to the log, where the record says what is wrong.
pub fn refuse(error: &Error, request: &Request, settings: Option<&Settings>) -> Answer {
    let mut body = error_body(error);
    let prefix = if settings.is_some() {
        "Webhook refused"
    } else {
        "Webhook not handled"
    };
    if settings.is_none() && matches!(error, Error::InvalidSetting { .. }) {
        body = json!({
            "success": false,
            "code": error.code(),
            "message": "wpf-bridge is not configured correctly on this site; its owner can see why in the WPF Bridge log.",
        });
    }
    Answer {
        status: error.status(),
        body,
        retry_after: retry_after(error),
        log: Some(LogRecord {
            action: action_label(request),
            crm: settings
                .map(|s| s.crm.slug().to_string())
                .unwrap_or_default(),
            outcome: error.code().to_string(),
            refused: settings.is_none() || error.kind() == ErrorKind::Authentication,
            details: vec![format!("error: {prefix}: {error} [{}]", error.code())],
            ..LogRecord::default()
        }),
    }
}

/// `{"success": false, "code", "message"}` for an error.
fn error_body(error: &Error) -> Value {
    json!({
        "success": false,
        "code": error.code(),
        "message": error.to_string(),
    })
}

/// The `wpf_action` the caller asked for, reduced to a harmless label for the log: lowercase
/// letters, digits, `_` and `-`, at most 32 characters (WordPress's `sanitize_key` alphabet).
fn action_label(request: &Request) -> String {
    request
        .param("wpf_action")
        .unwrap_or_default()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .take(32)
        .collect()
}

/// One log line for an event's result.
fn describe(action: Action, result: &EventResult) -> String {
    let mut line = format!(
        "{}: contact {} {}",
        action.as_str(),
        result.contact_id,
        result.outcome.as_str()
    );
    if let Some(user_id) = result.user_id {
        line.push_str(&format!(" user {user_id}"));
    }
    if let Some(reason) = result.reason {
        line.push_str(&format!(" ({reason})"));
    }
    if let Some(role) = &result.role {
        line.push_str(&format!(", role {role}"));
    }
    for note in &result.notes {
        line.push_str("; ");
        line.push_str(note);
    }
    line
}
