//! The action (`wpf_action`) and its options (`role`, `send_notification`, `async`).
//!
//! Intake, after authentication: decides which action a webhook asks for and reads the URL
//! options that steer the apply step. The URL contract is WP Fusion's; its bugs are not kept
//! (`async=false` means false here).

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr};

use crate::error::{Error, Result};
use crate::text::{parse_flag, printable, EXCERPT_CHARS};
use crate::webhook::Request;

/// The action a webhook asks for. Its name (`wpf_action`, the stored form and the log's
/// label) is the variant's, in snake case (strum, serde through it); `serialize` adds WP
/// Fusion's legacy aliases it is also read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, EnumString)]
#[serde(into = "&'static str", try_from = "String")]
#[strum(serialize_all = "snake_case")]
pub enum Action {
    #[strum(to_string = "update", serialize = "update_user")]
    Update,
    UpdateTags,
    #[strum(to_string = "add", serialize = "add_user")]
    Add,
    Test,
}

impl TryFrom<String> for Action {
    type Error = strum::ParseError;

    fn try_from(name: String) -> std::result::Result<Self, Self::Error> {
        name.parse()
    }
}

impl Action {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Parses an action name as it appears in `wpf_action` (already trimmed and lowercased),
    /// including WP Fusion's legacy aliases `update_user` and `add_user`.
    pub fn from_name(name: &str) -> Option<Action> {
        name.parse().ok()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Options {
    pub role: Option<String>,
    pub send_notification: bool,
    #[serde(rename = "async")]
    pub async_: Option<bool>,
}

/// Reads `wpf_action` from the request.
pub fn parse_action(request: &Request) -> Result<Action> {
    let raw = request.param("wpf_action").unwrap_or_default();
    let name = raw.trim().to_lowercase();
    if name.is_empty() {
        return Err(Error::MissingAction);
    }
    Action::from_name(&name).ok_or_else(|| Error::UnknownAction(printable(&name, EXCERPT_CHARS)))
}

/// Longest `role` accepted, in bytes (a role's slug or display name). The role is stored with
/// every queued event of the webhook and the URL is not covered by a Mautic signature: without
/// a bound, one 9.6 KB request of 100 id-only events with a 7,000-character role stored 727 KB.
/// With it, the role adds at most 100 bytes per event.
pub const MAX_ROLE_BYTES: usize = 100;

/// Reads the options from the request. Every text option stored with the events has a length
/// bound (`role`: `MAX_ROLE_BYTES`), refused past it with `option_too_long`; the flags are
/// yes/no values.
pub fn parse_options(request: &Request) -> Result<Options> {
    let role = request
        .param("role")
        .map(|role| role.trim().to_string())
        .filter(|role| !role.is_empty());
    if let Some(role) = &role {
        if role.len() > MAX_ROLE_BYTES {
            return Err(Error::OptionTooLong {
                name: "role",
                bytes: role.len(),
                limit: MAX_ROLE_BYTES,
            });
        }
    }
    let send_notification = match request.param("send_notification") {
        Some(value) => parse_flag("send_notification", &value)?,
        None => false,
    };
    let async_ = match request.param("async") {
        Some(value) => Some(parse_flag("async", &value)?),
        None => None,
    };
    Ok(Options {
        role,
        send_notification,
        async_,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Map, Value};

    fn request(query: Value, post: Value) -> Request {
        let to_map = |value: Value| match value {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        Request {
            query: to_map(query),
            post: to_map(post),
            ..Request::default()
        }
    }

    #[test]
    fn actions_and_legacy_aliases() {
        for (given, expected) in [
            ("update", Action::Update),
            ("update_tags", Action::UpdateTags),
            ("add", Action::Add),
            ("test", Action::Test),
            ("update_user", Action::Update),
            ("add_user", Action::Add),
            ("  UPDATE_Tags ", Action::UpdateTags),
        ] {
            let found = parse_action(&request(json!({ "wpf_action": given }), json!({})));
            assert_eq!(found, Ok(expected), "{given}");
        }
    }

    #[test]
    fn action_from_post_wins() {
        let found = parse_action(&request(
            json!({"wpf_action": "update"}),
            json!({"wpf_action": "add"}),
        ));
        assert_eq!(found, Ok(Action::Add));
    }

    #[test]
    fn missing_or_empty_action() {
        for query in [
            json!({}),
            json!({"wpf_action": ""}),
            json!({"wpf_action": "  "}),
        ] {
            let error = parse_action(&request(query, json!({}))).unwrap_err();
            assert_eq!(error.code(), "missing_action");
        }
        let error = parse_action(&request(json!({}), json!({"wpf_action": ["add"]}))).unwrap_err();
        assert_eq!(error.code(), "missing_action");
    }

    #[test]
    fn unknown_action_is_quoted_short() {
        let huge = "x".repeat(10_000);
        let error = parse_action(&request(json!({ "wpf_action": huge }), json!({}))).unwrap_err();
        assert_eq!(error.code(), "unknown_action");
        assert!(error.to_string().len() < 200, "{error}");
        let error =
            parse_action(&request(json!({"wpf_action": "apply\ntags"}), json!({}))).unwrap_err();
        assert_eq!(error, Error::UnknownAction("apply?tags".into()));
    }

    #[test]
    fn options_defaults() {
        let options = parse_options(&request(json!({}), json!({}))).unwrap();
        assert_eq!(options, Options::default());
    }

    #[test]
    fn options_read() {
        let options = parse_options(&request(
            json!({"role": "  customer ", "send_notification": "YES", "async": "off"}),
            json!({}),
        ))
        .unwrap();
        assert_eq!(options.role.as_deref(), Some("customer"));
        assert!(options.send_notification);
        assert_eq!(options.async_, Some(false));

        let options =
            parse_options(&request(json!({"role": " ", "async": ""}), json!({}))).unwrap();
        assert_eq!(options.role, None);
        assert_eq!(options.async_, Some(false));
    }

    #[test]
    fn a_long_role_is_refused_with_its_own_code() {
        let fits = "r".repeat(MAX_ROLE_BYTES);
        let options = parse_options(&request(json!({ "role": fits }), json!({}))).unwrap();
        assert_eq!(options.role.as_deref(), Some(fits.as_str()));
        // Measured in bytes: 26 x U+00E9 is 52 bytes, 51 is 102.
        let error = parse_options(&request(json!({"role": "\u{e9}".repeat(51)}), json!({})));
        assert_eq!(
            error.unwrap_err(),
            Error::OptionTooLong {
                name: "role",
                bytes: 102,
                limit: MAX_ROLE_BYTES
            }
        );
        let error =
            parse_options(&request(json!({"role": "x".repeat(7000)}), json!({}))).unwrap_err();
        assert_eq!((error.code(), error.status()), ("option_too_long", 400));
        assert!(error.to_string().len() < 200, "{error}");
    }

    #[test]
    fn flags() {
        for yes in ["true", "1", "yes", "on", "TRUE", " On "] {
            assert_eq!(parse_flag("async", yes), Ok(true), "{yes}");
        }
        for no in ["false", "0", "no", "off", "", "False", " OFF "] {
            assert_eq!(parse_flag("async", no), Ok(false), "{no}");
        }
        let error = parse_flag("async", "maybe").unwrap_err();
        assert_eq!(error.code(), "invalid_flag");
        let error = parse_options(&request(json!({"send_notification": "2"}), json!({})));
        assert_eq!(error.unwrap_err().code(), "invalid_flag");
        let error = parse_options(&request(json!({"async": "nope"}), json!({})));
        assert_eq!(
            error.unwrap_err(),
            Error::InvalidFlag {
                name: "async",
                value: "nope".into()
            }
        );
    }
}
