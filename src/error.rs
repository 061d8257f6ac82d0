//! The one error type of the extension.
//!
//! Every failure anywhere in the flow (intake, apply, CRM calls, settings) is a variant here,
//! declared by one row of the `errors!` table below: its stable machine-readable `code()`, its
//! stable integer `number()` (PHP's `getCode()`), its family (`kind()`, the PHP exception
//! class), its retry class (never, or later with an optional delay) and the sentence a site
//! owner can act on (its `Display`). The HTTP `status()` is derived from the retry class (4xx:
//! do not retry; 5xx: try again). Codes and numbers are a public contract (JSON bodies, PHP
//! exceptions, the plugin): never change one. Messages never contain secrets: variants carry
//! only names, sizes, statuses and sanitised descriptions.

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

/// A variant's retry class, as its row states it; `Error::retry()` turns it into a [`Retry`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryClass {
    /// Input a retry cannot fix: the CRM must not retry, a queue marks the event failed.
    Never,
    /// A hiccup or a setup the owner can mend: try again, at once.
    Later,
    /// Try again no sooner than this many seconds (a busy contact, a full queue).
    LaterAfter(u64),
    /// Try again after the CRM's `Retry-After` (the variant's `retry_after`), at once without.
    LaterAsCrmSays,
}

/// Everything about a variant except its fields and its sentence: one row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorRow {
    /// The variant's name, for tests and messages about the table.
    pub variant: &'static str,
    /// Stable string code (JSON bodies, `errorCode` of the PHP exception).
    pub code: &'static str,
    /// Stable integer code (PHP's `getCode()`).
    pub number: i32,
    pub kind: ErrorKind,
    pub retry: RetryClass,
    /// The HTTP status, derived from the retry class (`ErrorRow::derived_status`).
    pub status: u16,
}

impl ErrorRow {
    /// The status a retry class and family give: 4xx tells the CRM not to retry (400 an
    /// unusable request, 403 a caller who is not who it claims, 422 data we cannot use), 5xx
    /// to try again (502 the CRM failed, 500 a broken setup or a WordPress failure). A row may
    /// name a more exact status of the same class (413 too large, 503 busy).
    pub const fn derived_status(retry: RetryClass, kind: ErrorKind) -> u16 {
        match (retry, kind) {
            (RetryClass::Never, ErrorKind::InvalidPayload) => 400,
            (RetryClass::Never, ErrorKind::Authentication) => 403,
            (RetryClass::Never, _) => 422,
            (_, ErrorKind::Crm) => 502,
            _ => 500,
        }
    }
}

/// Declares `Error` from its rows. Each variant is written once:
/// `#[row(code, number, family, retry class[, exact status])]`, then thiserror's `#[error]`
/// sentence and the variant itself. The macro writes the enum, `Error::TABLE` (every row, in
/// order) and `Error::row()`.
macro_rules! errors {
    (@status [] $retry:expr, $kind:expr) => {
        ErrorRow::derived_status($retry, $kind)
    };
    (@status [$status:literal] $retry:expr, $kind:expr) => {
        $status
    };
    (@row $variant:ident, $code:literal, $number:literal, $kind:ident,
        $retry:ident $(($after:expr))?, [$($status:literal)?]) => {
        ErrorRow {
            variant: stringify!($variant),
            code: $code,
            number: $number,
            kind: ErrorKind::$kind,
            retry: RetryClass::$retry $(($after))?,
            status: errors!(@status [$($status)?]
                RetryClass::$retry $(($after))?, ErrorKind::$kind),
        }
    };
    ($(
        #[row($code:literal, $number:literal, $kind:ident, $retry:ident $(($after:expr))?
            $(, $status:literal)?)]
        #[error($($message:tt)*)]
        $variant:ident $({ $($fields:tt)* })? $(( $($tuple:tt)* ))?,
    )*) => {
        #[derive(Debug, ThisError, Clone, PartialEq)]
        pub enum Error {
            $(
                #[error($($message)*)]
                $variant $({ $($fields)* })? $(( $($tuple)* ))?,
            )*
        }

        impl Error {
            /// Every variant's row, in the order declared.
            pub const TABLE: &'static [ErrorRow] = &[$(
                errors!(@row $variant, $code, $number, $kind, $retry $(($after))?, [$($status)?]),
            )*];

            /// This error's row.
            pub fn row(&self) -> &'static ErrorRow {
                match self {
                    $(Error::$variant { .. } => {
                        const ROW: ErrorRow = errors!(@row $variant, $code, $number, $kind,
                            $retry $(($after))?, [$($status)?]);
                        &ROW
                    })*
                }
            }
        }
    };
}

errors! {
    #[row("unknown_crm", 1001, InvalidPayload, Never)]
    #[error("Unknown CRM \"{given}\". Supported CRMs are {supported}.")]
    UnknownCrm { given: String, supported: String },

    #[row("body_too_large", 1002, InvalidPayload, Never, 413)]
    #[error("The request body is {size} bytes, over the limit of {limit} bytes. Send smaller batches from the CRM.")]
    BodyTooLarge { size: usize, limit: usize },

    #[row("invalid_json", 1003, InvalidPayload, Never)]
    #[error("The request body is not valid JSON ({0}). Make sure the CRM sends Content-Type: application/json and an unmodified body.")]
    InvalidJson(String),

    #[row("invalid_payload", 1004, InvalidPayload, Never)]
    #[error("The payload does not have the shape {crm} sends: {detail}.")]
    InvalidPayload { crm: &'static str, detail: String },

    #[row("missing_action", 1005, InvalidPayload, Never)]
    #[error("The wpf_action parameter is missing. Add ?wpf_action=update, update_tags, add or test to the webhook URL.")]
    MissingAction,

    #[row("unknown_action", 1006, InvalidPayload, Never)]
    #[error("Unknown wpf_action \"{0}\". Use update, update_tags, add or test.")]
    UnknownAction(String),

    #[row("invalid_flag", 1007, InvalidPayload, Never)]
    #[error("The {name} parameter must be a yes/no value (true, 1, yes, on, false, 0, no, off), not \"{value}\".")]
    InvalidFlag { name: &'static str, value: String },

    #[row("too_many_events", 1009, InvalidPayload, Never, 413)]
    #[error("The request holds {count} contact events, over the limit of {limit} per request. Send smaller batches, or raise max_events in Settings > WPF Bridge.")]
    TooManyEvents { count: usize, limit: usize },

    #[row("invalid_request", 1010, InvalidPayload, Never)]
    #[error("The request's parameters are unusable: {0}.")]
    InvalidRequest(String),

    #[row("stored_event_unreadable", 1011, InvalidPayload, Never)]
    #[error("Queued event {id} cannot be read ({detail}); it was stored by another version of wpf-bridge or changed in the database. Discard it and have the CRM send the contact again.")]
    StoredEventUnreadable { id: u64, detail: String },

    #[row("abandoned_event", 1012, InvalidPayload, Never)]
    #[error("Queued event {id} was claimed {claims} times by workers that stopped before settling it (killed, or over PHP's time or memory limit, or cut off from the database) while applying it. It is failed so it cannot stop its contact's queue; retry it from the webhooks page once the cause is fixed.")]
    AbandonedEvent { id: u64, claims: u32 },

    #[row("event_from_other_crm", 1013, InvalidPayload, Never)]
    #[error("Queued event {id} came in through the source \"{stored}\", which this site no longer has (its sources now: {configured}): it was not applied (its contact id and any CRM call would go to the wrong CRM). Add that source back (or switch the CRM back) and retry it, or discard it.")]
    EventFromOtherCrm {
        id: u64,
        stored: String,
        configured: String,
    },

    #[row("contact_id_too_long", 1014, InvalidPayload, Never)]
    #[error("A contact id is {bytes} bytes long, over the limit of {limit} bytes (UTF-8). CRM contact ids are numbers or short keys: check the contact_id parameter or the payload's id.")]
    ContactIdTooLong { bytes: usize, limit: usize },

    #[row("option_too_long", 1015, InvalidPayload, Never)]
    #[error("The {name} parameter is {bytes} bytes long, over the limit of {limit} bytes. Shorten it in the webhook URL.")]
    OptionTooLong {
        name: &'static str,
        bytes: usize,
        limit: usize,
    },

    #[row("queue_full", 1016, Site, LaterAfter(QUEUE_FULL_RETRY_SECS), 503)]
    #[error("The webhook queue is full: {what} ({count} waiting, the limit is {limit}). Nothing was stored; send the webhook again later. The site owner can see the backlog on the webhooks page.")]
    QueueFull {
        what: String,
        count: u64,
        limit: u64,
    },

    #[row("missing_contact_id", 1008, InvalidPayload, Never)]
    #[error("No contact id found: the payload has none and there is no contact_id parameter. Add &contact_id=... to the webhook URL or send the CRM's contact payload.")]
    MissingContactId,

    #[row("invalid_access_key", 1101, Authentication, Never)]
    #[error("The access key is missing or wrong. Copy the webhook URL again from Settings > WPF Bridge.")]
    InvalidAccessKey,

    #[row("missing_signature", 1102, Authentication, Never)]
    #[error("The Webhook-Signature header is missing. A webhook secret is set for this site, so paste the same secret into the Mautic webhook.")]
    MissingSignature,

    #[row("invalid_signature", 1103, Authentication, Never)]
    #[error("The Webhook-Signature header does not match the body. Check that the Mautic webhook's secret equals the one in Settings > WPF Bridge.")]
    InvalidSignature,

    #[row("body_too_deep", 1017, InvalidPayload, Never)]
    #[error("The request body is nested deeper than {limit} levels. Send flatter payloads from the CRM.")]
    BodyTooDeep { limit: usize },

    #[row("too_many_items", 1018, InvalidPayload, Never, 413)]
    #[error("The request holds {count} items at {pointer}, over the limit of {limit}. Send smaller batches from the CRM.")]
    TooManyItems {
        pointer: String,
        count: usize,
        limit: usize,
    },

    #[row("pointer_missing", 1019, InvalidPayload, Never)]
    #[error("The payload has nothing at {pointer}: {found}. Check the mapping's pointer against a sample of the CRM's webhook.")]
    PointerMissing { pointer: String, found: String },

    #[row("pointer_type", 1020, InvalidPayload, Never)]
    #[error("The payload's value at {pointer} is {found}, not {expected}.")]
    PointerType {
        pointer: String,
        expected: &'static str,
        found: String,
    },

    #[row("condition_not_met", 1021, InvalidPayload, Never)]
    #[error("The payload's value at {pointer} ({found}) is not one of the values the mapping's `when` accepts; the item was not applied.")]
    ConditionNotMet { pointer: String, found: String },

    #[row("signature_rejected", 1104, Authentication, Never)]
    #[error("The {header} signature was refused: {reason}. Check that the secret in the webhook source equals the CRM's.")]
    SignatureRejected {
        header: String,
        reason: &'static str,
    },

    #[row("invalid_mapping", 1203, Configuration, Later)]
    #[error("The webhook mapping is invalid at {field}: {reason}")]
    InvalidMapping { field: String, reason: String },

    #[row("invalid_setting", 1201, Configuration, Later)]
    #[error("Setting \"{key}\" is invalid: {reason}")]
    InvalidSetting { key: String, reason: String },

    #[row("invalid_argument", 1202, Configuration, Later)]
    #[error("Invalid argument {name}: {reason}")]
    InvalidArgument { name: &'static str, reason: String },

    #[row("crm_auth_failed", 1301, Crm, Later)]
    #[error("{crm} rejected our API credentials (HTTP {status}). Check the {crm} username, password, token or API key in the settings.")]
    CrmAuth { crm: &'static str, status: u16 },

    #[row("crm_rate_limited", 1302, Crm, LaterAsCrmSays)]
    #[error("{crm} is rate-limiting us (HTTP 429); try again later.")]
    CrmRateLimited {
        crm: &'static str,
        /// The CRM's `Retry-After`, in seconds (capped), when it sent one.
        retry_after: Option<u64>,
    },

    #[row("crm_unavailable", 1303, Crm, LaterAsCrmSays)]
    #[error("{crm} could not be reached or failed: {detail}.")]
    CrmUnavailable {
        crm: &'static str,
        detail: String,
        /// The CRM's `Retry-After`, in seconds (capped), when it sent one.
        retry_after: Option<u64>,
    },

    #[row("crm_contact_not_found", 1304, Crm, Later)]
    #[error("{crm} has no contact with id {contact_id}.")]
    CrmContactNotFound {
        crm: &'static str,
        contact_id: String,
    },

    #[row("crm_rejected", 1305, Crm, Later)]
    #[error("{crm} refused the request (HTTP {status}): {detail}.")]
    CrmRejected {
        crm: &'static str,
        status: u16,
        detail: String,
    },

    #[row("crm_bad_response", 1306, Crm, Later)]
    #[error("{crm} answered with something that is not its API's JSON: {detail}.")]
    CrmBadResponse { crm: &'static str, detail: String },

    #[row("contact_without_email", 1401, Crm, Never)]
    #[error(
        "Contact {contact_id} has no email address, so no WordPress user can be created for it."
    )]
    ContactWithoutEmail { contact_id: String },

    #[row("unusable_email", 1403, Crm, Never)]
    #[error("Contact {contact_id}'s email cannot be used for a WordPress user: {reason}.")]
    UnusableEmail {
        contact_id: String,
        reason: &'static str,
    },

    // The rest of the batch can run at once, in a new request.
    #[row("time_budget_exceeded", 1503, Site, Later, 503)]
    #[error("The request ran out of its time budget after {done} of {total} contact events; send the rest again (every step is idempotent).")]
    TimeBudgetExceeded { done: usize, total: usize },

    #[row("contact_busy", 1402, Site, LaterAfter(CONTACT_BUSY_RETRY_SECS), 503)]
    #[error("Another webhook for contact {contact_id} is still running; try again in a moment.")]
    ContactBusy { contact_id: String },

    #[row("site_error", 1501, Site, Later)]
    #[error("WordPress failed: {0}")]
    Site(String),

    #[row("hash_error", 1502, Configuration, Later)]
    #[error("Password hashing failed: {0}")]
    Hash(String),
}

impl Error {
    /// Stable, machine-readable code; part of the public contract (JSON bodies, exceptions).
    pub fn code(&self) -> &'static str {
        self.row().code
    }

    /// Stable integer code, used as PHP's `Exception::getCode()`.
    pub fn number(&self) -> i32 {
        self.row().number
    }

    /// Whether trying again can succeed: `Never` for input a retry cannot fix (the CRM must
    /// not retry, a queue marks the event failed), `Later` for a CRM or site hiccup, a busy
    /// contact or a setup the owner can mend. The HTTP status is derived from it, so a queue
    /// worker and the webhook's answer always agree.
    pub fn retry(&self) -> Retry {
        let after = match self.row().retry {
            RetryClass::Never => return Retry::Never,
            RetryClass::Later => None,
            RetryClass::LaterAfter(secs) => Some(secs),
            RetryClass::LaterAsCrmSays => match self {
                Error::CrmRateLimited { retry_after, .. }
                | Error::CrmUnavailable { retry_after, .. } => *retry_after,
                _ => None,
            },
        };
        Retry::Later {
            after: after.map(Duration::from_secs),
        }
    }

    /// The HTTP status a webhook answers with, from the retry class: 4xx tells the CRM not
    /// to retry, 5xx to try again.
    pub fn status(&self) -> u16 {
        self.row().status
    }

    /// The family of the error; decides the PHP exception class.
    pub fn kind(&self) -> ErrorKind {
        self.row().kind
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
            Error::TooManyEvents { count: 2, limit: 1 },
            Error::InvalidRequest(text()),
            Error::StoredEventUnreadable {
                id: 1,
                detail: text(),
            },
            Error::AbandonedEvent { id: 1, claims: 3 },
            Error::EventFromOtherCrm {
                id: 1,
                stored: text(),
                configured: text(),
            },
            Error::UnusableEmail {
                contact_id: text(),
                reason: "x",
            },
            Error::TimeBudgetExceeded { done: 1, total: 2 },
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
                ("too_many_events", 413),
                ("invalid_request", 400),
                ("stored_event_unreadable", 400),
                ("abandoned_event", 400),
                ("event_from_other_crm", 400),
                ("unusable_email", 422),
                ("time_budget_exceeded", 503),
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
    fn the_samples_cover_every_variant() {
        let mut sampled: Vec<&str> = samples().iter().map(|e| e.row().variant).collect();
        let mut declared: Vec<&str> = Error::TABLE.iter().map(|row| row.variant).collect();
        sampled.sort_unstable();
        declared.sort_unstable();
        assert_eq!(sampled, declared);
        for error in samples() {
            let name = format!("{error:?}");
            assert!(name.starts_with(error.row().variant), "{name}");
        }
    }

    /// The public contract, every variant: string code, integer code, family, status. Nothing
    /// here may change (the plugin, the PHPUnit suite and CRMs' retry behaviour rely on it).
    #[test]
    fn the_table_is_the_published_contract() {
        use ErrorKind::*;
        let table: Vec<(&str, i32, ErrorKind, u16)> = Error::TABLE
            .iter()
            .map(|row| (row.code, row.number, row.kind, row.status))
            .collect();
        assert_eq!(
            table,
            vec![
                ("unknown_crm", 1001, InvalidPayload, 400),
                ("body_too_large", 1002, InvalidPayload, 413),
                ("invalid_json", 1003, InvalidPayload, 400),
                ("invalid_payload", 1004, InvalidPayload, 400),
                ("missing_action", 1005, InvalidPayload, 400),
                ("unknown_action", 1006, InvalidPayload, 400),
                ("invalid_flag", 1007, InvalidPayload, 400),
                ("too_many_events", 1009, InvalidPayload, 413),
                ("invalid_request", 1010, InvalidPayload, 400),
                ("stored_event_unreadable", 1011, InvalidPayload, 400),
                ("abandoned_event", 1012, InvalidPayload, 400),
                ("event_from_other_crm", 1013, InvalidPayload, 400),
                ("contact_id_too_long", 1014, InvalidPayload, 400),
                ("option_too_long", 1015, InvalidPayload, 400),
                ("queue_full", 1016, Site, 503),
                ("missing_contact_id", 1008, InvalidPayload, 400),
                ("invalid_access_key", 1101, Authentication, 403),
                ("missing_signature", 1102, Authentication, 403),
                ("invalid_signature", 1103, Authentication, 403),
                ("body_too_deep", 1017, InvalidPayload, 400),
                ("too_many_items", 1018, InvalidPayload, 413),
                ("pointer_missing", 1019, InvalidPayload, 400),
                ("pointer_type", 1020, InvalidPayload, 400),
                ("condition_not_met", 1021, InvalidPayload, 400),
                ("signature_rejected", 1104, Authentication, 403),
                ("invalid_mapping", 1203, Configuration, 500),
                ("invalid_setting", 1201, Configuration, 500),
                ("invalid_argument", 1202, Configuration, 500),
                ("crm_auth_failed", 1301, Crm, 502),
                ("crm_rate_limited", 1302, Crm, 502),
                ("crm_unavailable", 1303, Crm, 502),
                ("crm_contact_not_found", 1304, Crm, 502),
                ("crm_rejected", 1305, Crm, 502),
                ("crm_bad_response", 1306, Crm, 502),
                ("contact_without_email", 1401, Crm, 422),
                ("unusable_email", 1403, Crm, 422),
                ("time_budget_exceeded", 1503, Site, 503),
                ("contact_busy", 1402, Site, 503),
                ("site_error", 1501, Site, 500),
                ("hash_error", 1502, Configuration, 500),
            ]
        );
    }

    /// Over the whole table: codes and numbers unique, and each status follows the row's retry
    /// class (a row's exact status is only ever a sharper one of the same class).
    #[test]
    fn every_row_has_unique_codes_and_a_status_from_its_retry_class() {
        let mut codes = std::collections::HashSet::new();
        let mut numbers = std::collections::HashSet::new();
        for row in Error::TABLE {
            assert!(codes.insert(row.code), "code {} twice", row.code);
            assert!(numbers.insert(row.number), "number {} twice", row.number);
            let derived = ErrorRow::derived_status(row.retry, row.kind);
            match row.retry {
                RetryClass::Never => {
                    assert!((400..500).contains(&row.status), "{row:?}");
                    assert!(row.status == derived || row.status == 413, "{row:?}");
                }
                _ => {
                    assert!((500..600).contains(&row.status), "{row:?}");
                    assert!(row.status == derived || row.status == 503, "{row:?}");
                }
            }
        }
        assert_eq!(codes.len(), Error::TABLE.len());
        for error in samples() {
            let row = error.row();
            assert_eq!(
                (error.code(), error.number(), error.kind(), error.status()),
                (row.code, row.number, row.kind, row.status)
            );
            let expected = match row.retry {
                RetryClass::Never => Retry::Never,
                RetryClass::Later | RetryClass::LaterAsCrmSays => Retry::Later { after: None },
                RetryClass::LaterAfter(secs) => Retry::Later {
                    after: Some(Duration::from_secs(secs)),
                },
            };
            assert_eq!(error.retry(), expected, "{error:?}");
        }
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
