//! What the flow hands to the answer: the `Report` of an applied webhook (one result per
//! event, the failure that stopped it, the events left pending) and the `Queued` ids of a
//! stored one. Plain data: `flow` produces it, `answer` and `log` read it.

use serde::Serialize;
use serde_json::json;

use crate::error::Error;
use crate::queue::EventId;
use crate::sync::EventResult;
use crate::webhook::Action;

/// What applying a webhook did: one result per event applied, in order, and the failure that
/// stopped the batch, if one did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub action: Action,
    pub crm: String,
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

/// One queued event: its id and its contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub id: EventId,
    pub contact_id: String,
}
