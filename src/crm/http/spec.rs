//! Step 0 of a CRM call, what every step below knows about it: the API it goes to
//! ([`ApiSpec`], what a client tells about its CRM), its [`Method`] and the largest answer we
//! read. A leaf of `http/`: it uses no file beside it, and the others use it.

use strum::IntoStaticStr;

use crate::crm_kind::CrmKind;

/// Largest answer we read from a CRM. Mautic's biggest contact list page is well under this.
pub(super) const MAX_RESPONSE_BYTES: u64 = 4 * 1024 * 1024;

/// What a client tells [`super::Client`] about its CRM, for requests and error messages.
#[derive(Debug, Clone, Copy)]
pub struct ApiSpec {
    pub crm: CrmKind,
}

impl ApiSpec {
    /// The settings key holding the base URL (`mautic_url`), named in setting errors.
    pub const fn url_key(&self) -> &'static str {
        self.crm.url_setting().0
    }

    /// What that URL looks like, shown when the URL turns out wrong.
    pub const fn url_example(&self) -> &'static str {
        self.crm.url_setting().1
    }
}

/// HTTP methods the clients use; each named by its variant, uppercased (strum).
#[derive(Debug, Clone, Copy, PartialEq, Eq, IntoStaticStr)]
#[strum(serialize_all = "UPPERCASE")]
pub enum Method {
    Get,
    Post,
    Patch,
    Put,
}

impl Method {
    pub(super) fn as_str(self) -> &'static str {
        self.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_named_as_http_names_them() {
        let names: Vec<&str> = [Method::Get, Method::Post, Method::Patch, Method::Put]
            .into_iter()
            .map(Method::as_str)
            .collect();
        assert_eq!(names, ["GET", "POST", "PATCH", "PUT"]);
    }
}
