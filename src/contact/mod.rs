//! Each CRM's contact shape (a leaf): how a contact's fields and tags are laid out in that
//! CRM's JSON, shared by its webhook payload parser (`webhook/payload/`) and its API client
//! (`crm/`), so both read a contact the same way.

use serde_json::{Map, Value};

pub mod activecampaign;
pub mod mailerlite;
pub mod mautic;
pub mod userengage;

/// A contact as the CRM's API describes it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Contact {
    pub id: String,
    pub email: Option<String>,
    /// CRM field alias (Mautic), standard key / attribute `name_std` (User.com), standard
    /// key / custom field `perstag` (ActiveCampaign), or `fields` key (MailerLite) to value.
    pub fields: Map<String, Value>,
    /// Tag names.
    pub tags: Vec<String>,
}
