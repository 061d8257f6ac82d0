//! The answer the plugin sends: HTTP status, JSON body, `Retry-After` and the log record, for
//! each way a request ends: applied (`answer`), stored for the drain (`answer_queued`),
//! stored and settled now (`answer_settled`), or refused (`refuse`). Every success body is
//! built by `success_body` and every failure body by `failure_body`: one shape each.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{json, Value};

use super::log::{self, LogRecord};
use super::report::{Queued, Report};
use crate::error::{Error, Retry};
use crate::queue::{EventId, Settled};
use crate::settings::{Processing, Settings};
use crate::webhook::{Action, Request, Webhook};

/// What the plugin sends back (status and JSON body) and the record it writes to its log:
/// `None` when the webhook's events were stored, since their queue rows are its record (one
/// durable write per accepted webhook), unless a mapping left items unread (`log::ignored`);
/// a request that stored nothing (refused, failed, `test`, or applied without a queue) has a
/// log record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub log: Option<LogRecord>,
    /// How the stored events are processed: `background` (the drain applies them after the
    /// answer) or `immediate` (applied in this request, their results in the body); `None`
    /// when nothing was stored. Not part of the serialised answer: the plugin's one entry
    /// adds it (`wpf_bridge_handle_request`), the older functions keep their shape.
    #[serde(skip)]
    pub processing: Option<Processing>,
    /// Seconds for the `Retry-After` header: the error's retry delay, when it has one (a full
    /// queue, a busy contact, a CRM's own `Retry-After`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl Answer {
    /// 200 with a success body.
    fn ok(body: Value, log: Option<LogRecord>) -> Answer {
        Answer {
            status: 200,
            body,
            log,
            retry_after: None,
            processing: None,
        }
    }

    /// The error's status, body and `Retry-After`.
    fn failed(error: &Error, body: Value, log: Option<LogRecord>) -> Answer {
        Answer {
            status: error.status(),
            body,
            log,
            retry_after: retry_after(error),
            processing: None,
        }
    }
}

/// The answer to an applied (or partly applied) webhook.
pub fn answer(webhook: &Webhook, report: &Report) -> Answer {
    let log = Some(log::applied(webhook, report));
    let results = serde_json::to_value(&report.results).unwrap_or(Value::Null);
    if let Some(failure) = &report.failure {
        let body = failure_body(&failure.error, webhook, results, &report.pending);
        return Answer::failed(&failure.error, body, log);
    }
    if webhook.action == Action::Test {
        let message = "wpf-bridge is installed and the access key is valid.";
        return Answer::ok(success_body(webhook, "message", message.into()), log);
    }
    let mut body = success_body(webhook, "results", results);
    if webhook.options.async_ == Some(true) {
        if let Some(object) = body.as_object_mut() {
            object.insert(
                "notes".into(),
                json!(["async was requested, but this call has no queue, so the webhook was applied at once"]),
            );
        }
    }
    Answer::ok(body, log)
}

/// The background answer: 200 with the queued events' ids. The events were stored: their
/// queue rows are the record, so the answer has a log record only for the items a mapping
/// did not read (`log::ignored`: the pointer that failed and the keys that were there).
pub fn answer_queued(webhook: &Webhook, queued: &[Queued]) -> Answer {
    let list: Vec<Value> = queued
        .iter()
        .map(|q| json!({"contact_id": q.contact_id, "id": q.id}))
        .collect();
    let log = (!webhook.ignored.is_empty()).then(|| log::ignored(webhook));
    Answer {
        // Every item ignored: nothing was stored, so there is nothing to drain.
        processing: (!queued.is_empty()).then_some(Processing::Background),
        ..Answer::ok(success_body(webhook, "queued", list.into()), log)
    }
}

/// The immediate answer: one result per stored event, as the queue settled it now (`settled`)
/// or not yet (`queued`). An event the site will retry is `retrying` (200, with its code and
/// next try); a failed one, or the queue's own error (`port_error`), makes the answer that
/// error's. The events were stored, so the answer has a log record only for the items a
/// mapping did not read (`log::ignored`), as in `answer_queued`.
pub fn answer_settled(
    webhook: &Webhook,
    queued: &[Queued],
    settled: &HashMap<EventId, Settled>,
    port_error: Option<Error>,
) -> Answer {
    let mut failure: Option<&Error> = None;
    let results: Vec<Value> = queued
        .iter()
        .map(|q| match settled.get(&q.id) {
            Some(Settled::Done(result)) => {
                let mut value = serde_json::to_value(result).unwrap_or(Value::Null);
                if let Some(object) = value.as_object_mut() {
                    object.insert("id".into(), q.id.into());
                }
                value
            }
            Some(Settled::Retrying { at, error }) => json!({
                "id": q.id, "contact_id": q.contact_id, "outcome": "retrying",
                "code": error.code(), "message": error.to_string(), "retry_at": at,
            }),
            Some(Settled::Failed(error)) => {
                failure.get_or_insert(error);
                json!({
                    "id": q.id, "contact_id": q.contact_id, "outcome": "failed",
                    "code": error.code(), "message": error.to_string(),
                })
            }
            None => json!({"id": q.id, "contact_id": q.contact_id, "outcome": "queued"}),
        })
        .collect();
    let log = (!webhook.ignored.is_empty()).then(|| log::ignored(webhook));
    let answer = match port_error.as_ref().or(failure) {
        Some(error) => {
            let body = failure_body(error, webhook, results.into(), &[]);
            Answer::failed(error, body, log)
        }
        None => Answer::ok(success_body(webhook, "results", results.into()), log),
    };
    Answer {
        processing: (!queued.is_empty()).then_some(Processing::Immediate),
        ..answer
    }
}

/// The answer to a request refused before anything was applied: a bad key or signature, a
/// bad payload, or (with `settings` `None`) settings or a request the extension could not
/// read. In that last case the caller is not authenticated, so the answer names no setting
/// and points to the log, where the record says what is wrong.
pub fn refuse(error: &Error, request: &Request, settings: Option<&Settings>) -> Answer {
    let body = if settings.is_none() && matches!(error, Error::InvalidSetting { .. }) {
        json!({
            "success": false,
            "code": error.code(),
            "message": "wpf-bridge is not configured correctly on this site; its owner can see why in the WPF Bridge log.",
        })
    } else {
        error_body(error)
    };
    Answer::failed(error, body, Some(log::refused(error, request, settings)))
}

/// `{"success": true, "action", "crm", <what>: <value>, "ignored"?}`: every success body;
/// `ignored` lists the payload's items a mapping did not read (each with its code and why).
fn success_body(webhook: &Webhook, what: &str, value: Value) -> Value {
    let mut body = json!({
        "success": true,
        "action": webhook.action.as_str(),
        "crm": webhook.crm.as_str(),
    });
    if let Some(object) = body.as_object_mut() {
        object.insert(what.into(), value);
        if !webhook.ignored.is_empty() {
            object.insert("ignored".into(), json!(webhook.ignored));
        }
    }
    body
}

/// The error's body with the webhook's `action`, `crm`, the `results` so far and the
/// contacts left `pending` (when any): every failure of an accepted webhook.
fn failure_body(error: &Error, webhook: &Webhook, results: Value, pending: &[String]) -> Value {
    let mut body = error_body(error);
    if let Some(object) = body.as_object_mut() {
        object.insert("action".into(), webhook.action.as_str().into());
        object.insert("crm".into(), webhook.crm.as_str().into());
        object.insert("results".into(), results);
        if !pending.is_empty() {
            object.insert("pending".into(), json!(pending));
        }
    }
    body
}

/// `{"success": false, "code", "message"}` for an error.
fn error_body(error: &Error) -> Value {
    json!({
        "success": false,
        "code": error.code(),
        "message": error.to_string(),
    })
}

/// The `Retry-After` of an error's answer: its retry class's delay, in seconds.
fn retry_after(error: &Error) -> Option<u64> {
    match error.retry() {
        Retry::Later { after } => after.map(|after| after.as_secs()),
        Retry::Never => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::mapping::Ignored;
    use crate::webhook::{Action, Options};

    fn webhook(ignored: Vec<Ignored>) -> Webhook {
        Webhook {
            action: Action::Add,
            crm: "convertkit".into(),
            options: Options::default(),
            events: Vec::new(),
            ignored,
        }
    }

    /// Items a mapping did not read are logged whether the events were applied now or later:
    /// the queue rows record only what was stored.
    #[test]
    fn stored_answers_log_only_the_ignored_items() {
        let item = Ignored {
            item: None,
            code: "pointer_missing".into(),
            message: "The payload has nothing at /subscriber/id".into(),
        };
        for answer in [
            answer_settled(&webhook(vec![item.clone()]), &[], &HashMap::new(), None),
            answer_queued(&webhook(vec![item.clone()]), &[]),
        ] {
            let log = answer.log.expect("a record of the ignored item");
            assert_eq!(log.outcome, "ignored");
            assert_eq!(log.crm, "convertkit");
            assert_eq!(
                log.details,
                ["notice: the body was not read: The payload has nothing at /subscriber/id [pointer_missing]"]
            );
            assert_eq!(answer.body["ignored"][0]["code"], "pointer_missing");
            assert_eq!(answer.processing, None, "nothing was stored");
        }
        assert_eq!(
            answer_settled(&webhook(Vec::new()), &[], &HashMap::new(), None).log,
            None
        );
        assert_eq!(answer_queued(&webhook(Vec::new()), &[]).log, None);
    }
}
