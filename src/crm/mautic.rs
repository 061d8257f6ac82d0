//! The Mautic API client.
use crate::crm::{Contact, Crm, CrmKind};
use crate::error::Result;
use crate::settings::Settings;
use serde_json::{Map, Value};

pub struct MauticClient;
impl MauticClient {
    pub fn new(settings: &Settings) -> Self {
        let _ = settings;
        MauticClient
    }
}
impl Crm for MauticClient {
    fn kind(&self) -> CrmKind { CrmKind::Mautic }
    fn load_contact(&self, contact_id: &str) -> Result<Contact> { todo!("{contact_id}") }
    fn find_contact_id(&self, email: &str) -> Result<Option<String>> { todo!("{email}") }
    fn update_contact(&self, contact_id: &str, fields: &Map<String, Value>) -> Result<()> { todo!("{contact_id}{fields:?}") }
    fn test_connection(&self) -> Result<()> { todo!() }
}
