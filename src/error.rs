//! The one error type of the extension.
//!
//! Every failure anywhere in the flow (intake, apply, CRM calls, settings) is a variant here.
//! Each variant carries a stable machine-readable `code()`, the HTTP `status()` the webhook
//! answers with (4xx: fix the setup, do not retry; 5xx: try again) and a `Display` sentence a
//! site owner can act on. Messages never contain secrets: variants carry only names, sizes,
//! statuses and sanitised descriptions.

use thiserror::Error as ThisError;

/// Shorthand used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

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
    #[error("Unknown CRM \"{0}\". Supported CRMs are \"mautic\" and \"userengage\".")]
    UnknownCrm(String),
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
    #[error("No contact id found: the payload has none and there is no contact_id parameter. Add &contact_id=... to the webhook URL or send the CRM's contact payload.")]
    MissingContactId,
    #[error("The access key is missing or wrong. Copy the webhook URL again from Settings > WPF Bridge.")]
    InvalidAccessKey,
    #[error("The Webhook-Signature header is missing. A webhook secret is set for this site, so paste the same secret into the Mautic webhook.")]
    MissingSignature,
    #[error("The Webhook-Signature header does not match the body. Check that the Mautic webhook's secret equals the one in Settings > WPF Bridge.")]
    InvalidSignature,
    #[error("Setting \"{key}\" is invalid: {reason}")]
    InvalidSetting { key: String, reason: String },
    #[error("Invalid argument {name}: {reason}")]
    InvalidArgument { name: &'static str, reason: String },
    #[error("{crm} rejected our API credentials (HTTP {status}). Check the {crm} username, password, token or API key in the settings.")]
    CrmAuth { crm: &'static str, status: u16 },
    #[error("{crm} is rate-limiting us (HTTP 429); try again later.")]
    CrmRateLimited { crm: &'static str },
    #[error("{crm} could not be reached or failed: {detail}.")]
    CrmUnavailable { crm: &'static str, detail: String },
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
            Error::UnknownCrm(_) => "unknown_crm",
            Error::BodyTooLarge { .. } => "body_too_large",
            Error::InvalidJson(_) => "invalid_json",
            Error::InvalidPayload { .. } => "invalid_payload",
            Error::MissingAction => "missing_action",
            Error::UnknownAction(_) => "unknown_action",
            Error::InvalidFlag { .. } => "invalid_flag",
            Error::MissingContactId => "missing_contact_id",
            Error::TooManyEvents { .. } => "too_many_events",
            Error::InvalidRequest(_) => "invalid_request",
            Error::InvalidAccessKey => "invalid_access_key",
            Error::MissingSignature => "missing_signature",
            Error::InvalidSignature => "invalid_signature",
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
            Error::UnknownCrm(_) => 1001,
            Error::BodyTooLarge { .. } => 1002,
            Error::InvalidJson(_) => 1003,
            Error::InvalidPayload { .. } => 1004,
            Error::MissingAction => 1005,
            Error::UnknownAction(_) => 1006,
            Error::InvalidFlag { .. } => 1007,
            Error::MissingContactId => 1008,
            Error::TooManyEvents { .. } => 1009,
            Error::InvalidRequest(_) => 1010,
            Error::InvalidAccessKey => 1101,
            Error::MissingSignature => 1102,
            Error::InvalidSignature => 1103,
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

    /// The HTTP status a webhook answers with. 4xx: the CRM should not retry; 5xx: it should.
    pub fn status(&self) -> u16 {
        match self.kind() {
            ErrorKind::InvalidPayload => match self {
                Error::BodyTooLarge { .. } | Error::TooManyEvents { .. } => 413,
                _ => 400,
            },
            ErrorKind::Authentication => 403,
            // A broken setup is the site owner's to fix; the CRM retrying will not help.
            ErrorKind::Configuration => 500,
            ErrorKind::Crm => match self {
                Error::ContactWithoutEmail { .. } | Error::UnusableEmail { .. } => 422,
                _ => 502,
            },
            ErrorKind::Site => match self {
                Error::ContactBusy { .. } | Error::TimeBudgetExceeded { .. } => 503,
                _ => 500,
            },
        }
    }

    /// The family of the error; decides the PHP exception class.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::UnknownCrm(_)
            | Error::BodyTooLarge { .. }
            | Error::InvalidJson(_)
            | Error::InvalidPayload { .. }
            | Error::MissingAction
            | Error::UnknownAction(_)
            | Error::InvalidFlag { .. }
            | Error::MissingContactId
            | Error::TooManyEvents { .. }
            | Error::InvalidRequest(_) => ErrorKind::InvalidPayload,
            Error::InvalidAccessKey | Error::MissingSignature | Error::InvalidSignature => {
                ErrorKind::Authentication
            }
            Error::InvalidSetting { .. } | Error::InvalidArgument { .. } | Error::Hash(_) => {
                ErrorKind::Configuration
            }
            Error::CrmAuth { .. }
            | Error::CrmRateLimited { .. }
            | Error::CrmUnavailable { .. }
            | Error::CrmContactNotFound { .. }
            | Error::CrmRejected { .. }
            | Error::CrmBadResponse { .. }
            | Error::ContactWithoutEmail { .. }
            | Error::UnusableEmail { .. } => ErrorKind::Crm,
            Error::ContactBusy { .. } | Error::TimeBudgetExceeded { .. } | Error::Site(_) => {
                ErrorKind::Site
            }
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
