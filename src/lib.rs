//! wpf-bridge: answers CRM webhooks on WordPress sites.
//!
//! The module tree and nothing else; `ARCHITECTURE.md` describes the flow and the layers.
//! From the bottom up: leaves (`error`, `text`, `secret`, `crm_kind`, `email`, `contact`, `meta_keys`,
//! `password`, `site`), `settings`, then intake (`webhook`), the CRM clients (`crm`) and apply (`sync`),
//! then `queue` and `pipeline`, and the FFI edge (`php`) on top. `tests/layers.rs` keeps it so.

// Leaves.
pub mod contact;
pub mod crm_kind;
pub mod email;
pub mod error;
pub mod meta_keys;
pub mod password;
pub mod secret;
pub mod site;
pub mod text;

pub mod settings;

pub mod crm;
pub mod sync;
pub mod webhook;

pub mod pipeline;
pub mod queue;

pub mod php;

pub use error::{Error, Result};

/// The extension's version, shown by `wpf_bridge_version()` and `php --ri wpf_bridge`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
