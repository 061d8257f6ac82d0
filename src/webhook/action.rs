//! The action (`wpf_action`) and its options (`role`, `send_notification`, `async`).

use crate::error::Result;
use crate::webhook::Request;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Update,
    UpdateTags,
    Add,
    Test,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Update => "update",
            Action::UpdateTags => "update_tags",
            Action::Add => "add",
            Action::Test => "test",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Options {
    pub role: Option<String>,
    pub send_notification: bool,
    pub async_: Option<bool>,
}

/// Reads `wpf_action` from the request.
pub fn parse_action(request: &Request) -> Result<Action> {
    todo!("{request:?}")
}

/// Reads the options from the request.
pub fn parse_options(request: &Request) -> Result<Options> {
    todo!("{request:?}")
}
