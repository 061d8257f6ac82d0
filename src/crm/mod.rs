//! The `Crm` port: everything the apply step needs from a CRM's HTTP API.
//!
//! `sync/` calls it only when a webhook's payload does not carry the contact's data (or to
//! return a generated password). One file per CRM client; each takes its base URL from the
//! settings (Mautic, User.com) or from an [`ApiAccess`] (the preset CRMs with a client,
//! ActiveCampaign and MailerLite, which no setting holds yet), so tests point it at a
//! loopback server.

use std::time::Duration;

use serde_json::{Map, Value};

pub use crate::contact::Contact;
pub use crate::crm_kind::CrmKind;
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::settings::{Settings, SourceRef};

pub mod activecampaign;
pub mod http;
pub mod mailerlite;
pub mod mautic;
pub mod userengage;

/// The port to a CRM's HTTP API.
pub trait Crm: Send + Sync {
    /// Which CRM this client talks to; `None` for a CRM without a client (`for_source`).
    fn kind(&self) -> Option<CrmKind>;
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
        kind @ (CrmKind::ActiveCampaign | CrmKind::MailerLite) => {
            // No setting holds their credentials yet (`from_slug` never gives them), so the
            // client fails at first use, naming what is missing.
            client_of(
                kind,
                &ApiAccess::new(None, Secret::default(), settings.crm_timeout),
            )
        }
    }
}

/// The client for the source a webhook came in through: the first source's CRM from the
/// settings (`client`); a further source's preset client with that source's API address and
/// key; a source whose CRM has no client gets one that fails at first use, saying so (the
/// settings refuse what would need it: an id-only mapping, returning a password).
pub fn for_source(settings: &Settings, source: SourceRef) -> Box<dyn Crm> {
    let SourceRef::Further(source) = source else {
        return client(settings);
    };
    let access = ApiAccess::new(
        source.api_url.clone(),
        source.api_key.clone(),
        settings.crm_timeout,
    );
    let setting = settings.further_source_setting(source, "mapping");
    match preset_client(&source.slug, &access, &setting) {
        Ok(client) => client,
        Err(error) => Box::new(NoClient(error)),
    }
}

/// The "client" of a CRM wpf-bridge has no API client for: every call fails with why.
struct NoClient(Error);

impl Crm for NoClient {
    fn kind(&self) -> Option<CrmKind> {
        None
    }
    fn load_contact(&self, _: &str) -> Result<Contact> {
        Err(self.0.clone())
    }
    fn find_contact_id(&self, _: &str) -> Result<Option<String>> {
        Err(self.0.clone())
    }
    fn update_contact(&self, _: &str, _: &Map<String, Value>) -> Result<()> {
        Err(self.0.clone())
    }
    fn test_connection(&self) -> Result<()> {
        Err(self.0.clone())
    }
}

/// Where and as whom to call a CRM whose client takes its access from the caller (a webhook
/// source's API credentials) rather than the site settings.
#[derive(Debug, Clone)]
pub struct ApiAccess {
    /// The API address as the site owner copied it (`CrmKind::url_setting` shows its form).
    pub url: Option<String>,
    /// The API token or key.
    pub token: Secret,
    /// Timeout for each call.
    pub timeout: Duration,
}

impl ApiAccess {
    pub fn new(url: Option<String>, token: Secret, timeout: Duration) -> Self {
        ApiAccess {
            url,
            token,
            timeout,
        }
    }
}

/// The client for a preset CRM with one (`CrmKind::PRESET_CLIENTS`). Never fails and never
/// calls the network; missing access fails at first use, naming what is missing.
fn client_of(kind: CrmKind, access: &ApiAccess) -> Box<dyn Crm> {
    match kind {
        CrmKind::MailerLite => Box::new(mailerlite::MailerLiteClient::new(access)),
        _ => Box::new(activecampaign::ActiveCampaignClient::new(access)),
    }
}

/// The API client for the preset mapping with this slug (`activecampaign`, `mailerlite`).
/// A preset without a client (`drip`, `convertkit`, `highlevel`) is refused, naming what needs
/// one: a webhook that carries only a contact id, and "return password". `setting` is the key
/// named in the error (the setting that asked for the client).
pub fn preset_client(slug: &str, access: &ApiAccess, setting: &str) -> Result<Box<dyn Crm>> {
    match CrmKind::of_preset(slug) {
        Some(kind) => Ok(client_of(kind, access)),
        None => Err(Error::setting(
            setting,
            format!(
                "the CRM \"{}\" has no API client in wpf-bridge, so it cannot load a contact \
                 from an id-only webhook or receive a returned password; {} have one",
                crate::text::printable(slug.trim(), 40),
                CrmKind::PRESET_CLIENTS
                    .iter()
                    .map(|kind| kind.display_name())
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
        )),
    }
}
