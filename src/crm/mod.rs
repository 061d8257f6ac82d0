//! The `Crm` port: everything the apply step needs from a CRM's HTTP API.
//!
//! `sync/` calls it only when a webhook's payload does not carry the contact's data (or to
//! return a generated password). One file per CRM client; each takes its base URL from the
//! settings, so tests point it at a loopback server.

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::settings::Settings;

pub mod fields;
pub mod http;
pub mod mautic;
pub mod userengage;

/// The CRMs we speak to. The slug is WP Fusion's, and prefixes the user meta keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CrmKind {
    Mautic,
    UserEngage,
}

impl CrmKind {
    /// All supported CRMs.
    pub const ALL: [CrmKind; 2] = [CrmKind::Mautic, CrmKind::UserEngage];

    /// Parses a slug as used in settings and in the PHP API (`mautic`, `userengage`).
    pub fn from_slug(slug: &str) -> Result<Self> {
        match slug.trim().to_ascii_lowercase().as_str() {
            "mautic" => Ok(CrmKind::Mautic),
            "userengage" | "user.com" | "usercom" => Ok(CrmKind::UserEngage),
            _ => Err(Error::UnknownCrm(crate::webhook::printable(slug, 40))),
        }
    }

    /// WP Fusion's slug: `mautic`, `userengage`.
    pub fn slug(self) -> &'static str {
        match self {
            CrmKind::Mautic => "mautic",
            CrmKind::UserEngage => "userengage",
        }
    }

    /// The name a site owner knows.
    pub fn display_name(self) -> &'static str {
        match self {
            CrmKind::Mautic => "Mautic",
            CrmKind::UserEngage => "User.com",
        }
    }

    /// User meta key linking a WordPress user to its contact (WP Fusion's key).
    pub fn contact_id_meta_key(self) -> String {
        format!("{}_contact_id", self.slug())
    }

    /// User meta key holding the contact's tags as a list of names (WP Fusion's key and format).
    pub fn tags_meta_key(self) -> String {
        format!("{}_tags", self.slug())
    }
}

/// A contact as the CRM's API describes it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Contact {
    pub id: String,
    pub email: Option<String>,
    /// CRM field alias (Mautic) or standard key / attribute `name_std` (User.com) to value.
    pub fields: Map<String, Value>,
    /// Tag names.
    pub tags: Vec<String>,
}

/// The port to a CRM's HTTP API.
pub trait Crm: Send + Sync {
    /// Which CRM this client talks to.
    fn kind(&self) -> CrmKind;
    /// Loads a contact by id; `CrmContactNotFound` when it does not exist.
    fn load_contact(&self, contact_id: &str) -> Result<Contact>;
    /// Finds a contact id by email; `None` when no contact has it.
    fn find_contact_id(&self, email: &str) -> Result<Option<String>>;
    /// Writes the given fields (CRM alias to value) to a contact.
    fn update_contact(&self, contact_id: &str, fields: &Map<String, Value>) -> Result<()>;
    /// Checks that the API is reachable and accepts our credentials.
    fn test_connection(&self) -> Result<()>;
}

/// Builds the client for the CRM chosen in the settings. Building never calls the network and
/// never fails for missing credentials: a client that lacks them fails when it is first used,
/// so a Mautic webhook whose payload carries everything works without API credentials.
pub fn client(settings: &Settings) -> Box<dyn Crm> {
    match settings.crm {
        CrmKind::Mautic => Box::new(mautic::MauticClient::new(settings)),
        CrmKind::UserEngage => Box::new(userengage::UserEngageClient::new(settings)),
    }
}
