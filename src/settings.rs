//! The settings the plugin passes in (`wpf_bridge_settings` option), validated into a typed
//! value with an error that names the exact key that is wrong.
//!
//! Intake reads the access key and webhook secret; apply reads the rest; CRM clients read
//! their URLs and credentials. Validation happens once, here.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use crate::crm::CrmKind;
use crate::error::{Error, Result};

/// How a username is made when the CRM does not give one (WP Fusion's option values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UsernameFormat {
    /// The email address.
    #[default]
    Email,
    /// First and last name joined, lowercased.
    FirstLastName,
    /// First name followed by a random number.
    FirstNameNumber,
}

/// A secret string: never printed by `Debug`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() { "Secret(empty)" } else { "Secret(***)" })
    }
}

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub access_key: Secret,
    pub crm: CrmKind,
    pub mautic_url: Option<String>,
    pub mautic_username: Option<String>,
    pub mautic_password: Secret,
    pub mautic_token: Secret,
    pub userengage_url: Option<String>,
    pub userengage_api_key: Secret,
    pub webhook_secret: Secret,
    /// CRM field alias to WordPress field (core user field or meta key).
    pub field_map: BTreeMap<String, String>,
    pub return_password: bool,
    pub return_password_field: Option<String>,
    pub default_role: Option<String>,
    pub allowed_roles: Vec<String>,
    pub send_welcome_email: bool,
    pub username_format: UsernameFormat,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// Timeout for each CRM API call.
    pub crm_timeout: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            access_key: Secret::default(),
            crm: CrmKind::Mautic,
            mautic_url: None,
            mautic_username: None,
            mautic_password: Secret::default(),
            mautic_token: Secret::default(),
            userengage_url: None,
            userengage_api_key: Secret::default(),
            webhook_secret: Secret::default(),
            field_map: BTreeMap::new(),
            return_password: false,
            return_password_field: None,
            default_role: None,
            allowed_roles: Vec::new(),
            send_welcome_email: false,
            username_format: UsernameFormat::Email,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            crm_timeout: Duration::from_secs(DEFAULT_CRM_TIMEOUT_SECS),
        }
    }
}

/// 1 MiB: Mautic's largest batch (10 contacts) is about 70 KiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
/// CRMs give a webhook 10 to 30 seconds; each API call must leave room for the rest.
pub const DEFAULT_CRM_TIMEOUT_SECS: u64 = 8;
