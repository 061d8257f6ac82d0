//! The record a request leaves in the plugin's log, and the one place its lines are worded:
//! an applied (or partly applied) webhook's record, a refused request's record, and the
//! harmless label of the action a caller asked for. `answer` attaches a record to every
//! answer that stored nothing; the plugin stores it as given.

use serde::Serialize;

use super::report::Report;
use crate::error::{Error, ErrorKind};
use crate::settings::{Settings, SourceRef};
use crate::site::UserId;
use crate::sync::EventResult;
use crate::webhook::{auth, Action, Request, Webhook};

/// One row of the plugin's webhook log. Never holds a secret: only ids, codes, outcomes and
/// the sentences of results and errors, which carry none.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct LogRecord {
    /// The action asked for, as a short harmless label (`update`, `add`, ...).
    pub action: String,
    pub crm: String,
    pub contact_ids: Vec<String>,
    pub user_ids: Vec<UserId>,
    /// The outcomes (`created,updated`), `ok`, or the error code.
    pub outcome: String,
    /// Whether the request was refused before it was authenticated (a wrong or missing key
    /// or signature, a request or settings the extension could not read): anyone can send
    /// those, so the plugin keeps their rows apart, under a smaller cap, and they can never
    /// push out the record of authenticated webhooks.
    pub refused: bool,
    /// `level: sentence` lines, one per event and one per failure.
    pub details: Vec<String>,
}

/// The record of an applied (or partly applied) webhook: one line per result, then the
/// failure's line; the outcome is the failure's code, `ok` for `test` or nothing changed, or
/// the results' distinct outcomes in order.
pub fn applied(webhook: &Webhook, report: &Report) -> LogRecord {
    let action = webhook.action.as_str();
    let mut log = LogRecord {
        action: action.to_string(),
        crm: webhook.crm.clone(),
        contact_ids: report
            .results
            .iter()
            .map(|r| r.contact_id.clone())
            .collect(),
        user_ids: report.results.iter().filter_map(|r| r.user_id).collect(),
        ..LogRecord::default()
    };
    log.details = report
        .results
        .iter()
        .map(|result| format!("info: {}", describe(webhook.action, result)))
        .chain(ignored_lines(webhook))
        .collect();
    if let Some(failure) = &report.failure {
        let error = &failure.error;
        log.contact_ids.push(failure.contact_id.clone());
        log.outcome = error.code().to_string();
        log.details.push(format!(
            "error: {action} for contact {} failed: {error} [{}]",
            failure.contact_id,
            error.code()
        ));
    } else if webhook.action == Action::Test {
        log.outcome = "ok".into();
        log.details
            .push("info: Test webhook received: the access key is valid.".into());
    } else {
        let mut outcomes: Vec<&str> = Vec::new();
        for result in &report.results {
            if !outcomes.contains(&result.outcome.as_str()) {
                outcomes.push(result.outcome.as_str());
            }
        }
        log.outcome = if outcomes.is_empty() {
            "ok".into()
        } else {
            outcomes.join(",")
        };
    }
    log
}

/// The record of the items of a stored webhook that its source's mapping did not read: one
/// notice per item, with its code and why (the pointer that failed and the names of the keys
/// that were there, never their values). Outcome `ignored`.
pub fn ignored(webhook: &Webhook) -> LogRecord {
    LogRecord {
        action: webhook.action.as_str().to_string(),
        crm: webhook.crm.clone(),
        outcome: "ignored".into(),
        details: ignored_lines(webhook),
        ..LogRecord::default()
    }
}

fn ignored_lines(webhook: &Webhook) -> Vec<String> {
    webhook
        .ignored
        .iter()
        .map(|item| {
            let which = match item.item {
                Some(position) => format!("item {position}"),
                None => "the body".to_string(),
            };
            format!(
                "notice: {which} was not read: {} [{}]",
                item.message, item.code
            )
        })
        .collect()
}

/// The record of a request refused before anything was applied; `settings` `None` when the
/// extension could not read them (or the request), which also makes the row `refused`.
pub fn refused(error: &Error, request: &Request, settings: Option<&Settings>) -> LogRecord {
    let prefix = if settings.is_some() {
        "Webhook refused"
    } else {
        "Webhook not handled"
    };
    LogRecord {
        action: action_label(request),
        crm: settings
            .map(|settings| refused_source(error, request, settings))
            .unwrap_or_default(),
        outcome: error.code().to_string(),
        refused: settings.is_none() || error.kind() == ErrorKind::Authentication,
        details: vec![format!("error: {prefix}: {error} [{}]", error.code())],
        ..LogRecord::default()
    }
}

/// The slug of the source a refused request came in through: the one its access key selects
/// (a MailerLite source's refused signature is MailerLite's, not the first source's), else
/// the first source's. A wrong key selects none, so it is not looked up again.
fn refused_source(error: &Error, request: &Request, settings: &Settings) -> String {
    let source = match error {
        Error::InvalidAccessKey => None,
        _ => auth::source_of(request, settings),
    };
    match source {
        Some(SourceRef::Further(source)) => source.slug.clone(),
        _ => settings.crm.slug().to_string(),
    }
}

/// The `wpf_action` the caller asked for, reduced to a harmless label for the log: lowercase
/// letters, digits, `_` and `-`, at most 32 characters (WordPress's `sanitize_key` alphabet).
/// The only place the label is made: the plugin writes the records it is given.
pub fn action_label(request: &Request) -> String {
    request
        .param("wpf_action")
        .unwrap_or_default()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .take(32)
        .collect()
}

/// One log line for an event's result.
fn describe(action: Action, result: &EventResult) -> String {
    let mut line = format!(
        "{}: contact {} {}",
        action.as_str(),
        result.contact_id,
        result.outcome.as_str()
    );
    if let Some(user_id) = result.user_id {
        line.push_str(&format!(" user {user_id}"));
    }
    if let Some(reason) = result.reason {
        line.push_str(&format!(" ({reason})"));
    }
    if let Some(role) = &result.role {
        line.push_str(&format!(", role {role}"));
    }
    for note in &result.notes {
        line.push_str("; ");
        line.push_str(note);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A refused request of a further source is recorded as that source's, not the first's.
    #[test]
    fn a_refused_request_names_the_source_its_key_selects() {
        let settings = Settings::from_map(
            json!({
                "crm": "mautic",
                "access_key": "first-source-key",
                "sources": [{"mapping": "drip", "access_key": "drip-source-key"}],
            })
            .as_object()
            .expect("an object"),
        )
        .expect("valid settings");
        let error = Error::BodyTooDeep { limit: 64 };
        let crm = |key: &str, error: &Error| {
            let request =
                Request::test_post(json!({"wpf_action": "add", "access_key": key}), &[], "{}");
            refused(error, &request, Some(&settings)).crm
        };
        assert_eq!(crm("drip-source-key", &error), "drip");
        assert_eq!(crm("first-source-key", &error), "mautic");
        assert_eq!(crm("wrong-key-000", &Error::InvalidAccessKey), "mautic");
    }
}
