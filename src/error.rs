//! The one error type of the extension.
//!
//! Every failure anywhere in the flow (intake, apply, CRM calls, settings) is a variant here.
//! Each variant carries a stable machine-readable `code()`, a `retry()` class (never, or later
//! with an optional delay) and the HTTP `status()` derived from it (4xx: do not retry; 5xx:
//! try again), and a `Display` sentence a site owner can act on. Messages never contain secrets: variants carry only names, sizes,
//! statuses and sanitised descriptions.

use std::time::Duration;

use serde::Serialize;
use thiserror::Error as ThisError;

/// Shorthand used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Whether a failed webhook or queued event can succeed when tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "retry", rename_all = "snake_case")]
pub enum Retry {
    /// Trying again cannot help: the input or the request is wrong.
    Never,
    /// Trying again can help, no sooner than `after` when the failure says so (a CRM's
    /// `Retry-After`, a busy contact).
    Later {
        #[serde(
            rename = "after_secs",
            serialize_with = "secs",
            skip_serializing_if = "Option::is_none"
        )]
        after: Option<Duration>,
    },
}

fn secs<S: serde::Serializer>(after: &Option<Duration>, out: S) -> Result<S::Ok, S::Error> {
    match after {
        Some(after) => out.serialize_u64(after.as_secs()),
        None => out.serialize_none(),
    }
}

/// Seconds before a busy contact is worth trying again.
pub const CONTACT_BUSY_RETRY_SECS: u64 = 5;

/// Seconds a CRM is asked to wait (`Retry-After`) before sending again a webhook refused
/// because the queue is full: long enough for a drain round to make room.
pub const QUEUE_FULL_RETRY_SECS: u64 = 60;

/// Which family an error belongs to; decides the PHP exception class it is thrown as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request or its payload is unusable.
    InvalidPayload,
    /// The caller is not who it claims to be.
    Authentication,
    /// The site's settings (or an argument from PHP code) are wrong.
    Configuration,
    /// The CRM's API failed or refused us.
    Crm,
    /// WordPress (the Site port) failed.
    Site,
}

#[derive(Debug, ThisError, Clone, PartialEq)]
pub enum Error {
    #[error("Unknown CRM \"{given}\". Supported CRMs are {supported}.")]
    UnknownCrm { given: String, supported: String },
    #[error("The request body is {size} bytes, over the limit of {limit} bytes. Send smaller batches from the CRM.")]
    BodyTooLarge { size: usize, limit: usize },
    #[error("The request body is not valid JSON ({0}). Make sure the CRM sends Content-Type: application/json and an unmodified body.")]
    InvalidJson(String),
    #[error("The payload does not have the shape {crm} sends: {detail}.")]
    InvalidPayload { crm: &'static str, detail: String },
    #[error("The wpf_action parameter is missing. Add ?wpf_action=update, update_tags, add or test to the webhook URL.")]
    MissingAction,
    #[error("Unknown wpf_action \"{0}\". Use update, update_tags, add or test.")]
    UnknownAction(String),
    #[error("The {name} parameter must be a yes/no value (true, 1, yes, on, false, 0, no, off), not \"{value}\".")]
    InvalidFlag { name: &'static str, value: String },
    #[error("The request holds {count} contact events, over the limit of {limit} per request. Send smaller batches, or raise max_events in Settings > WPF Bridge.")]
    TooManyEvents { count: usize, limit: usize },
    #[error("The request's parameters are unusable: {0}.")]
    InvalidRequest(String),
    #[error("Queued event {id} cannot be read ({detail}); it was stored by another version of wpf-bridge or changed in the database. Discard it and have the CRM send the contact again.")]
    StoredEventUnreadable { id: u64, detail: String },
    #[error("Queued event {id} was claimed {claims} times by workers that stopped before settling it (killed, or over PHP's time or memory limit, or cut off from the database) while applying it. It is failed so it cannot stop its contact's queue; retry it from the webhooks page once the cause is fixed.")]
    AbandonedEvent { id: u64, claims: u32 },
    #[error("Queued event {id} came from {stored}, but the site is now set up for {configured}: it was not applied (its contact id and any CRM call would go to the wrong CRM). Switch the CRM back and retry it, or discard it.")]
    EventFromOtherCrm {
        id: u64,
        stored: &'static str,
        configured: &'static str,
    },
    #[error("A contact id is {bytes} bytes long, over the limit of {limit} bytes (UTF-8). CRM contact ids are numbers or short keys: check the contact_id parameter or the payload's id.")]
    ContactIdTooLong { bytes: usize, limit: usize },
    #[error("The {name} parameter is {bytes} bytes long, over the limit of {limit} bytes. Shorten it in the webhook URL.")]
    OptionTooLong {
        name: &'static str,
        bytes: usize,
        limit: usize,
    },
    #[error("The webhook queue is full: {what} ({count} waiting, the limit is {limit}). Nothing was stored; send the webhook again later. The site owner can see the backlog on the webhooks page.")]
    QueueFull {
        what: String,
        count: u64,
        limit: u64,
    },
    #[error("No contact id found: the payload has none and there is no contact_id parameter. Add &contact_id=... to the webhook URL or send the CRM's contact payload.")]
    MissingContactId,
    #[error("The access key is missing or wrong. Copy the webhook URL again from Settings > WPF Bridge.")]
    InvalidAccessKey,
    #[error("The Webhook-Signature header is missing. A webhook secret is set for this site, so paste the same secret into the Mautic webhook.")]
    MissingSignature,
    #[error("The Webhook-Signature header does not match the body. Check that the Mautic webhook's secret equals the one in Settings > WPF Bridge.")]
    InvalidSignature,
    #[error("The request body is nested deeper than {limit} levels. Send flatter payloads from the CRM.")]
    BodyTooDeep { limit: usize },
    #[error("The request holds {count} items at {pointer}, over the limit of {limit}. Send smaller batches from the CRM.")]
    TooManyItems {
        pointer: String,
        count: usize,
        limit: usize,
    },
    #[error("The payload has nothing at {pointer}: {found}. Check the mapping's pointer against a sample of the CRM's webhook.")]
    PointerMissing { pointer: String, found: String },
    #[error("The payload's value at {pointer} is {found}, not {expected}.")]
    PointerType {
        pointer: String,
        expected: &'static str,
        found: String,
    },
    #[error("The payload's value at {pointer} ({found}) is not one of the values the mapping's `when` accepts; the item was not applied.")]
    ConditionNotMet { pointer: String, found: String },
    #[error("The {header} signature was refused: {reason}. Check that the secret in the webhook source equals the CRM's.")]
    SignatureRejected {
        header: String,
        reason: &'static str,
    },
    #[error("The webhook mapping is invalid at {field}: {reason}")]
    InvalidMapping { field: String, reason: String },
    #[error("Setting \"{key}\" is invalid: {reason}")]
    InvalidSetting { key: String, reason: String },
    #[error("Invalid argument {name}: {reason}")]
    InvalidArgument { name: &'static str, reason: String },
    #[error("{crm} rejected our API credentials (HTTP {status}). Check the {crm} username, password, token or API key in the settings.")]
    CrmAuth { crm: &'static str, status: u16 },
    #[error("{crm} is rate-limiting us (HTTP 429); try again later.")]
    CrmRateLimited {
        crm: &'static str,
        /// The CRM's `Retry-After`, in seconds (capped), when it sent one.
        retry_after: Option<u64>,
    },
    #[error("{crm} could not be reached or failed: {detail}.")]
    CrmUnavailable {
        crm: &'static str,
        detail: String,
        /// The CRM's `Retry-After`, in seconds (capped), when it sent one.
        retry_after: Option<u64>,
    },
    #[error("{crm} has no contact with id {contact_id}.")]
    CrmContactNotFound {
        crm: &'static str,
        contact_id: String,
    },
    #[error("{crm} refused the request (HTTP {status}): {detail}.")]
    CrmRejected {
        crm: &'static str,
        status: u16,
        detail: String,
    },
    #[error("{crm} answered with something that is not its API's JSON: {detail}.")]
    CrmBadResponse { crm: &'static str, detail: String },
    #[error(
        "Contact {contact_id} has no email address, so no WordPress user can be created for it."
    )]
    ContactWithoutEmail { contact_id: String },
    #[error("Contact {contact_id}'s email cannot be used for a WordPress user: {reason}.")]
    UnusableEmail {
        contact_id: String,
        reason: &'static str,
    },
    #[error("The request ran out of its time budget after {done} of {total} contact events; send the rest again (every step is idempotent).")]
    TimeBudgetExceeded { done: usize, total: usize },
    #[error("Another webhook for contact {contact_id} is still running; try again in a moment.")]
    ContactBusy { contact_id: String },
    #[error("WordPress failed: {0}")]
    Site(String),
    #[error("Password hashing failed: {0}")]
    Hash(String),
}

impl Error {
    /// Stable, machine-readable code; part of the public contract (JSON bodies, exceptions).
    pub fn code(&self) -> &'static str {
        match self {
            Error::UnknownCrm { .. } => "unknown_crm",
            Error::BodyTooLarge { .. } => "body_too_large",
            Error::InvalidJson(_) => "invalid_json",
            Error::InvalidPayload { .. } => "invalid_payload",
            Error::MissingAction => "missing_action",
            Error::UnknownAction(_) => "unknown_action",
            Error::InvalidFlag { .. } => "invalid_flag",
            Error::MissingContactId => "missing_contact_id",
            Error::ContactIdTooLong { .. } => "contact_id_too_long",
            Error::OptionTooLong { .. } => "option_too_long",
            Error::QueueFull { .. } => "queue_full",
            Error::TooManyEvents { .. } => "too_many_events",
            Error::InvalidRequest(_) => "invalid_request",
            Error::StoredEventUnreadable { .. } => "stored_event_unreadable",
            Error::AbandonedEvent { .. } => "abandoned_event",
            Error::EventFromOtherCrm { .. } => "event_from_other_crm",
            Error::InvalidAccessKey => "invalid_access_key",
            Error::MissingSignature => "missing_signature",
            Error::InvalidSignature => "invalid_signature",
            Error::BodyTooDeep { .. } => "body_too_deep",
            Error::TooManyItems { .. } => "too_many_items",
            Error::PointerMissing { .. } => "pointer_missing",
            Error::PointerType { .. } => "pointer_type",
            Error::ConditionNotMet { .. } => "condition_not_met",
            Error::SignatureRejected { .. } => "signature_rejected",
            Error::InvalidMapping { .. } => "invalid_mapping",
            Error::InvalidSetting { .. } => "invalid_setting",
            Error::InvalidArgument { .. } => "invalid_argument",
            Error::CrmAuth { .. } => "crm_auth_failed",
            Error::CrmRateLimited { .. } => "crm_rate_limited",
            Error::CrmUnavailable { .. } => "crm_unavailable",
            Error::CrmContactNotFound { .. } => "crm_contact_not_found",
            Error::CrmRejected { .. } => "crm_rejected",
            Error::CrmBadResponse { .. } => "crm_bad_response",
            Error::ContactWithoutEmail { .. } => "contact_without_email",
            Error::ContactBusy { .. } => "contact_busy",
            Error::UnusableEmail { .. } => "unusable_email",
            Error::TimeBudgetExceeded { .. } => "time_budget_exceeded",
            Error::Site(_) => "site_error",
            Error::Hash(_) => "hash_error",
        }
    }

    /// Stable integer code, used as PHP's `Exception::getCode()`.
    pub fn number(&self) -> i32 {
        match self {
            Error::UnknownCrm { .. } => 1001,
            Error::BodyTooLarge { .. } => 1002,
            Error::InvalidJson(_) => 1003,
            Error::InvalidPayload { .. } => 1004,
            Error::MissingAction => 1005,
            Error::UnknownAction(_) => 1006,
            Error::InvalidFlag { .. } => 1007,
            Error::MissingContactId => 1008,
            Error::ContactIdTooLong { .. } => 1014,
            Error::OptionTooLong { .. } => 1015,
            Error::QueueFull { .. } => 1016,
            Error::TooManyEvents { .. } => 1009,
            Error::InvalidRequest(_) => 1010,
            Error::StoredEventUnreadable { .. } => 1011,
            Error::AbandonedEvent { .. } => 1012,
            Error::EventFromOtherCrm { .. } => 1013,
            Error::InvalidAccessKey => 1101,
            Error::MissingSignature => 1102,
            Error::InvalidSignature => 1103,
            Error::BodyTooDeep { .. } => 1017,
            Error::TooManyItems { .. } => 1018,
            Error::PointerMissing { .. } => 1019,
            Error::PointerType { .. } => 1020,
            Error::ConditionNotMet { .. } => 1021,
            Error::SignatureRejected { .. } => 1104,
            Error::InvalidMapping { .. } => 1203,
            Error::InvalidSetting { .. } => 1201,
            Error::InvalidArgument { .. } => 1202,
            Error::CrmAuth { .. } => 1301,
            Error::CrmRateLimited { .. } => 1302,
            Error::CrmUnavailable { .. } => 1303,
            Error::CrmContactNotFound { .. } => 1304,
            Error::CrmRejected { .. } => 1305,
            Error::CrmBadResponse { .. } => 1306,
            Error::ContactWithoutEmail { .. } => 1401,
            Error::ContactBusy { .. } => 1402,
            Error::UnusableEmail { .. } => 1403,
            Error::TimeBudgetExceeded { .. } => 1503,
            Error::Site(_) => 1501,
            Error::Hash(_) => 1502,
        }
    }

    /// Whether trying again can succeed: `Never` for input a retry cannot fix (the CRM must
    /// not retry, a queue marks the event failed), `Later` for a CRM or site hiccup, a busy
    /// contact or a setup the owner can mend. The HTTP status is derived from it, so a queue
    /// worker and the webhook's answer always agree.
    pub fn retry(&self) -> Retry {
        match self {
            Error::ContactBusy { .. } => Retry::Later {
                after: Some(Duration::from_secs(CONTACT_BUSY_RETRY_SECS)),
            },
            Error::QueueFull { .. } => Retry::Later {
                after: Some(Duration::from_secs(QUEUE_FULL_RETRY_SECS)),
            },
            // The rest of the batch can run at once, in a new request.
            Error::TimeBudgetExceeded { .. } => Retry::Later { after: None },
            Error::CrmRateLimited { retry_after, .. }
            | Error::CrmUnavailable { retry_after, .. } => Retry::Later {
                after: retry_after.map(Duration::from_secs),
            },
            Error::CrmAuth { .. }
            | Error::CrmContactNotFound { .. }
            | Error::CrmRejected { .. }
            | Error::CrmBadResponse { .. }
            | Error::InvalidSetting { .. }
            | Error::InvalidMapping { .. }
            | Error::InvalidArgument { .. }
            | Error::Hash(_)
            | Error::Site(_) => Retry::Later { after: None },
            Error::UnknownCrm { .. }
            | Error::BodyTooLarge { .. }
            | Error::InvalidJson(_)
            | Error::InvalidPayload { .. }
            | Error::MissingAction
            | Error::UnknownAction(_)
            | Error::InvalidFlag { .. }
            | Error::MissingContactId
            | Error::ContactIdTooLong { .. }
            | Error::OptionTooLong { .. }
            | Error::InvalidAccessKey
            | Error::MissingSignature
            | Error::InvalidSignature
            | Error::SignatureRejected { .. }
            | Error::BodyTooDeep { .. }
            | Error::TooManyItems { .. }
            | Error::PointerMissing { .. }
            | Error::PointerType { .. }
            | Error::ConditionNotMet { .. }
            | Error::TooManyEvents { .. }
            | Error::InvalidRequest(_)
            | Error::StoredEventUnreadable { .. }
            | Error::AbandonedEvent { .. }
            | Error::EventFromOtherCrm { .. }
            | Error::UnusableEmail { .. }
            | Error::ContactWithoutEmail { .. } => Retry::Never,
        }
    }

    /// The HTTP status a webhook answers with, from the retry class: 4xx tells the CRM not
    /// to retry, 5xx to try again. The family picks the exact number.
    pub fn status(&self) -> u16 {
        match self.retry() {
            Retry::Never => match (self, self.kind()) {
                (
                    Error::BodyTooLarge { .. }
                    | Error::TooManyEvents { .. }
                    | Error::TooManyItems { .. },
                    _,
                ) => 413,
                (_, ErrorKind::InvalidPayload) => 400,
                (_, ErrorKind::Authentication) => 403,
                _ => 422,
            },
            Retry::Later { .. } => match (self, self.kind()) {
                (
                    Error::ContactBusy { .. }
                    | Error::TimeBudgetExceeded { .. }
                    | Error::QueueFull { .. },
                    _,
                ) => 503,
                (_, ErrorKind::Crm) => 502,
                // A broken setup or a WordPress failure: try again once the owner has mended it.
                _ => 500,
            },
        }
    }

    /// The family of the error; decides the PHP exception class.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::UnknownCrm { .. }
            | Error::BodyTooLarge { .. }
            | Error::InvalidJson(_)
            | Error::InvalidPayload { .. }
            | Error::MissingAction
            | Error::UnknownAction(_)
            | Error::InvalidFlag { .. }
            | Error::MissingContactId
            | Error::ContactIdTooLong { .. }
            | Error::OptionTooLong { .. }
            | Error::TooManyEvents { .. }
            | Error::InvalidRequest(_)
            | Error::StoredEventUnreadable { .. }
            | Error::AbandonedEvent { .. }
            | Error::EventFromOtherCrm { .. }
            | Error::BodyTooDeep { .. }
            | Error::TooManyItems { .. }
            | Error::PointerMissing { .. }
            | Error::PointerType { .. }
            | Error::ConditionNotMet { .. } => ErrorKind::InvalidPayload,
            Error::InvalidAccessKey
            | Error::MissingSignature
            | Error::InvalidSignature
            | Error::SignatureRejected { .. } => ErrorKind::Authentication,
            Error::InvalidSetting { .. }
            | Error::InvalidMapping { .. }
            | Error::InvalidArgument { .. }
            | Error::Hash(_) => ErrorKind::Configuration,
            Error::CrmAuth { .. }
            | Error::CrmRateLimited { .. }
            | Error::CrmUnavailable { .. }
            | Error::CrmContactNotFound { .. }
            | Error::CrmRejected { .. }
            | Error::CrmBadResponse { .. }
            | Error::ContactWithoutEmail { .. }
            | Error::UnusableEmail { .. } => ErrorKind::Crm,
            Error::ContactBusy { .. }
            | Error::TimeBudgetExceeded { .. }
            | Error::QueueFull { .. }
            | Error::Site(_) => ErrorKind::Site,
        }
    }

    /// Shorthand for a setting error.
    pub fn setting(key: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidSetting {
            key: key.into(),
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples() -> Vec<Error> {
        let text = || "x".to_string();
        vec![
            Error::UnknownCrm {
                given: text(),
                supported: text(),
            },
            Error::BodyTooLarge { size: 2, limit: 1 },
            Error::InvalidJson(text()),
            Error::InvalidPayload {
                crm: "Mautic",
                detail: text(),
            },
            Error::MissingAction,
            Error::UnknownAction(text()),
            Error::InvalidFlag {
                name: "async",
                value: text(),
            },
            Error::MissingContactId,
            Error::ContactIdTooLong {
                bytes: 256,
                limit: 64,
            },
            Error::OptionTooLong {
                name: "role",
                bytes: 7000,
                limit: 100,
            },
            Error::QueueFull {
                what: text(),
                count: 2,
                limit: 1,
            },
            Error::InvalidAccessKey,
            Error::MissingSignature,
            Error::InvalidSignature,
            Error::setting("crm", "x"),
            Error::BodyTooDeep { limit: 64 },
            Error::TooManyItems {
                pointer: text(),
                count: 2,
                limit: 1,
            },
            Error::PointerMissing {
                pointer: text(),
                found: text(),
            },
            Error::PointerType {
                pointer: text(),
                expected: "a string",
                found: text(),
            },
            Error::ConditionNotMet {
                pointer: text(),
                found: text(),
            },
            Error::SignatureRejected {
                header: text(),
                reason: "x",
            },
            Error::InvalidMapping {
                field: text(),
                reason: text(),
            },
            Error::InvalidArgument {
                name: "x",
                reason: text(),
            },
            Error::CrmAuth {
                crm: "Mautic",
                status: 401,
            },
            Error::CrmRateLimited {
                crm: "Mautic",
                retry_after: None,
            },
            Error::CrmUnavailable {
                crm: "Mautic",
                detail: text(),
                retry_after: None,
            },
            Error::CrmContactNotFound {
                crm: "Mautic",
                contact_id: text(),
            },
            Error::CrmRejected {
                crm: "Mautic",
                status: 400,
                detail: text(),
            },
            Error::CrmBadResponse {
                crm: "Mautic",
                detail: text(),
            },
            Error::ContactWithoutEmail { contact_id: text() },
            Error::ContactBusy { contact_id: text() },
            Error::Site(text()),
            Error::Hash(text()),
        ]
    }

    #[test]
    fn status_follows_the_retry_class() {
        for error in samples() {
            let status = error.status();
            match error.retry() {
                Retry::Never => assert!((400..500).contains(&status), "{error:?} {status}"),
                Retry::Later { .. } => assert!((500..600).contains(&status), "{error:?} {status}"),
            }
        }
    }

    #[test]
    fn statuses_are_the_published_ones() {
        let statuses: Vec<(&str, u16)> = samples().iter().map(|e| (e.code(), e.status())).collect();
        assert_eq!(
            statuses,
            vec![
                ("unknown_crm", 400),
                ("body_too_large", 413),
                ("invalid_json", 400),
                ("invalid_payload", 400),
                ("missing_action", 400),
                ("unknown_action", 400),
                ("invalid_flag", 400),
                ("missing_contact_id", 400),
                ("contact_id_too_long", 400),
                ("option_too_long", 400),
                ("queue_full", 503),
                ("invalid_access_key", 403),
                ("missing_signature", 403),
                ("invalid_signature", 403),
                ("invalid_setting", 500),
                ("body_too_deep", 400),
                ("too_many_items", 413),
                ("pointer_missing", 400),
                ("pointer_type", 400),
                ("condition_not_met", 400),
                ("signature_rejected", 403),
                ("invalid_mapping", 500),
                ("invalid_argument", 500),
                ("crm_auth_failed", 502),
                ("crm_rate_limited", 502),
                ("crm_unavailable", 502),
                ("crm_contact_not_found", 502),
                ("crm_rejected", 502),
                ("crm_bad_response", 502),
                ("contact_without_email", 422),
                ("contact_busy", 503),
                ("site_error", 500),
                ("hash_error", 500),
            ]
        );
    }

    #[test]
    fn integer_codes_are_unique() {
        let mut numbers: Vec<i32> = samples().iter().map(Error::number).collect();
        let count = numbers.len();
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(numbers.len(), count);
        let mut codes: Vec<&str> = samples().iter().map(Error::code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), count);
    }

    #[test]
    fn a_crm_retry_after_becomes_the_retry_delay() {
        let limited = Error::CrmRateLimited {
            crm: "Mautic",
            retry_after: Some(120),
        };
        assert_eq!(
            limited.retry(),
            Retry::Later {
                after: Some(Duration::from_secs(120))
            }
        );
        assert_eq!(limited.status(), 502);
        let down = Error::CrmUnavailable {
            crm: "Mautic",
            detail: "x".into(),
            retry_after: None,
        };
        assert_eq!(down.retry(), Retry::Later { after: None });
    }

    #[test]
    fn codes_and_numbers_are_unique() {
        let all = samples();
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(a.code(), b.code());
                assert_ne!(a.number(), b.number(), "{} {}", a.code(), b.code());
            }
        }
    }

    #[test]
    fn a_full_queue_says_when_to_come_back() {
        let full = Error::QueueFull {
            what: "waiting events".into(),
            count: 10,
            limit: 10,
        };
        assert_eq!(
            full.retry(),
            Retry::Later {
                after: Some(Duration::from_secs(QUEUE_FULL_RETRY_SECS))
            }
        );
        assert_eq!((full.status(), full.number()), (503, 1016));
    }

    #[test]
    fn a_busy_contact_says_when_to_come_back() {
        let busy = Error::ContactBusy {
            contact_id: "1".into(),
        };
        assert_eq!(
            busy.retry(),
            Retry::Later {
                after: Some(Duration::from_secs(CONTACT_BUSY_RETRY_SECS))
            }
        );
        assert_eq!(
            serde_json::to_value(busy.retry()).unwrap(),
            serde_json::json!({"retry": "later", "after_secs": CONTACT_BUSY_RETRY_SECS})
        );
        assert_eq!(
            serde_json::to_value(Error::MissingAction.retry()).unwrap(),
            serde_json::json!({"retry": "never"})
        );
    }
}
