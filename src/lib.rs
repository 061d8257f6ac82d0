//! wpf-bridge: answers CRM webhooks on WordPress sites.
//!
//! The module tree and nothing else; see `../shared/DESIGN.md` for the flow.

pub mod crm;
pub mod error;
pub mod meta_keys;
pub mod password;
pub mod php;
pub mod settings;
pub mod site;
pub mod sync;
pub mod webhook;

pub use error::{Error, Result};

/// The extension's version, shown by `wpf_bridge_version()` and `php --ri wpf_bridge`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
