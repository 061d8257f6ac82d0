//! Authentication of a webhook: the access key (parameter or header) and, for Mautic, the
//! `Webhook-Signature` HMAC. All comparisons are constant time.

use crate::crm::CrmKind;
use crate::error::Result;
use crate::settings::Settings;
use crate::webhook::Request;

/// Constant-time comparison; an empty expected key never matches.
pub fn verify_access_key(given: &str, expected: &str) -> bool {
    todo!("{given}{expected}")
}

/// Checks a CRM's webhook signature over the raw body bytes.
pub fn verify_signature(crm: CrmKind, raw_body: &[u8], signature: &str, secret: &str) -> bool {
    todo!("{crm:?}{raw_body:?}{signature}{secret}")
}

/// Authenticates a request against the settings: access key, then signature when required.
pub fn authenticate(request: &Request, settings: &Settings) -> Result<()> {
    todo!("{request:?}{settings:?}")
}

/// A new access key: at least 160 bits from the OS random source, URL-safe characters only.
pub fn generate_access_key() -> String {
    todo!()
}
