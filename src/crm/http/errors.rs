//! Step 7 of a CRM call: the error constructors shared by the clients and the steps above, so
//! each of these errors reads the same wherever it arises.

use super::spec::ApiSpec;
use crate::crm_kind::CrmKind;
use crate::error::Error;
use crate::text::printable;

/// The CRM has no contact with this id.
pub fn contact_not_found(crm: CrmKind, contact_id: &str) -> Error {
    Error::CrmContactNotFound {
        crm: crm.display_name(),
        contact_id: printable(contact_id.trim(), 40),
    }
}

/// The CRM answered something that is not its API's JSON, or JSON of a shape its API does not
/// have.
pub fn bad_response(crm: CrmKind, detail: &str) -> Error {
    Error::CrmBadResponse {
        crm: crm.display_name(),
        detail: detail.to_string(),
    }
}

/// The error for an address that is not the CRM's API (a web page answered instead).
pub(super) fn wrong_url(spec: &ApiSpec, status: u16) -> Error {
    Error::setting(
        spec.url_key(),
        format!(
            "it does not lead to the {} API (HTTP {status} with a page that is not the API's \
             JSON); it should look like {}",
            spec.crm.display_name(),
            spec.url_example()
        ),
    )
}
