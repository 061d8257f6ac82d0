//! The `Crm` port: everything the apply step needs from a CRM's HTTP API.
//!
//! `sync/` calls it only when a webhook's payload does not carry the contact's data (or to
//! return a generated password). One file per CRM client; each takes its base URL from the
//! settings, so tests point it at a loopback server.

use serde_json::{Map, Value};

pub use crate::contact::Contact;
pub use crate::crm_kind::CrmKind;
use crate::error::Result;
use crate::settings::Settings;

pub mod http;
pub mod mautic;
pub mod userengage;

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
