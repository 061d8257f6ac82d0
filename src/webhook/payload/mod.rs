//! Payload parsing: one file per CRM format, plus `generic` for the `contact_id` / `email`
//! parameters. `parse` is the entry point of intake after authentication.

use crate::crm::CrmKind;
use crate::error::Result;
use crate::webhook::{Request, Webhook};

pub mod generic;
pub mod mautic;
pub mod userengage;

/// Parses a request into a `Webhook`.
pub fn parse(crm: CrmKind, request: &Request, max_body_bytes: usize) -> Result<Webhook> {
    todo!("{crm:?}{request:?}{max_body_bytes}")
}
