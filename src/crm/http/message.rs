//! Step 6 of a CRM call: the CRM's own error message as we pass it on, found in the error
//! body, truncated, control characters replaced, and with the values we sent and our
//! credentials masked ([`Masked`]).

use std::fmt::Write as _;

use base64::Engine as _;
use serde_json::Value;

use crate::text::printable;

/// Longest CRM error message we pass on.
const MAX_DETAIL_CHARS: usize = 200;
/// Values we sent shorter than this are not masked in CRM messages (they would mask words).
const MIN_MASKED_LEN: usize = 4;

/// Strings that must not appear in an error detail: the values we sent and our credentials.
#[derive(Default)]
pub(super) struct Masked(Vec<String>);

impl Masked {
    pub fn add_values(&mut self, value: &Value) {
        match value {
            Value::String(s) => self.add(s),
            Value::Array(items) => items.iter().for_each(|v| self.add_values(v)),
            Value::Object(map) => map.values().for_each(|v| self.add_values(v)),
            _ => {}
        }
    }

    /// `Basic <b64>`, `Bearer <token>`, `Token <key>`: masks the credential and, for Basic,
    /// the decoded user:password and password.
    pub fn add_credentials(&mut self, header: &str) {
        let credential = header.split_once(' ').map_or(header, |(_, c)| c).trim();
        self.add(credential);
        if header.len() > 6 && header[..6].eq_ignore_ascii_case("basic ") {
            if let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(credential) {
                if let Ok(pair) = String::from_utf8(decoded) {
                    if let Some((_, password)) = pair.split_once(':') {
                        self.add(password);
                    }
                    self.add(&pair);
                }
            }
        }
    }

    fn add(&mut self, text: &str) {
        let text = text.trim();
        if text.chars().count() >= MIN_MASKED_LEN {
            self.0.push(text.to_string());
        }
    }

    fn apply(&self, text: &str) -> String {
        let mut out = text.to_string();
        // Longest first, so a value containing another is masked whole.
        let mut secrets: Vec<&String> = self.0.iter().collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        for secret in secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), "***");
            }
        }
        out
    }
}

/// The CRM's own error message from an error body: Mautic's `errors[].message`, Mautic 2's
/// `error.message`, User.com's (Django REST framework) `detail` or `{"field": ["message"]}`.
/// Truncated, control characters replaced, values we sent masked.
pub(super) fn crm_message(body: &[u8], masked: &Masked) -> Option<String> {
    let message = match serde_json::from_slice::<Value>(body) {
        Ok(json) => json_message(&json)?,
        Err(_) if looks_like_html(body) => "an HTML error page".to_string(),
        Err(_) => {
            let text = String::from_utf8_lossy(&body[..body.len().min(1024)]).to_string();
            let text = text.trim();
            if text.is_empty() {
                return None;
            }
            text.to_string()
        }
    };
    // Our error messages put their own full stop after the detail.
    let message = masked.apply(message.trim());
    let message = message.trim_end_matches(['.', ' ']);
    if message.is_empty() {
        return None;
    }
    Some(printable(message, MAX_DETAIL_CHARS))
}

fn json_message(json: &Value) -> Option<String> {
    if let Some(errors) = json.get("errors").and_then(Value::as_array) {
        let messages: Vec<&str> = errors
            .iter()
            .filter_map(|e| e.get("message").and_then(Value::as_str))
            .take(3)
            .collect();
        if !messages.is_empty() {
            return Some(messages.join("; "));
        }
    }
    match json.get("error") {
        Some(Value::String(s)) => return Some(s.clone()),
        Some(Value::Object(e)) => {
            if let Some(s) = e.get("message").and_then(Value::as_str) {
                return Some(s.to_string());
            }
        }
        _ => {}
    }
    for key in ["detail", "message", "error_description"] {
        if let Some(s) = json.get(key).and_then(Value::as_str) {
            return Some(s.to_string());
        }
    }
    // Django REST framework validation errors: {"field": ["message", ...], ...}
    let object = json.as_object()?;
    let mut out = String::new();
    for (field, value) in object.iter().take(3) {
        let text = match value {
            Value::Array(items) => items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" "),
            Value::String(s) => s.clone(),
            _ => continue,
        };
        if !text.is_empty() {
            if !out.is_empty() {
                out.push_str("; ");
            }
            let _ = write!(out, "{field}: {text}");
        }
    }
    (!out.is_empty()).then_some(out)
}

/// An HTML page (a login form, a web server's error page) rather than an API answer.
pub(super) fn looks_like_html(body: &[u8]) -> bool {
    body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm::http::basic_authorization;
    use crate::secret::Secret;
    use serde_json::json;

    #[test]
    fn crm_messages_are_found_truncated_and_masked() {
        let mut masked = Masked::default();
        masked.add_values(&json!({"wp_password": "S3cret-Pass"}));
        masked.add_credentials("Bearer tok-123456");
        let body = br#"{"detail":"value S3cret-Pass rejected for tok-123456"}"#;
        assert_eq!(
            crm_message(body, &masked).unwrap(),
            "value *** rejected for ***"
        );
        let drf = br#"{"email":["Enter a valid email address."]}"#;
        assert_eq!(
            crm_message(drf, &masked).unwrap(),
            "email: Enter a valid email address"
        );
        let long = format!("{{\"detail\":\"{}\"}}", "x".repeat(500));
        assert!(
            crm_message(long.as_bytes(), &masked)
                .unwrap()
                .chars()
                .count()
                <= 201
        );
        assert_eq!(crm_message(b"", &masked), None);
    }

    #[test]
    fn basic_credentials_are_masked_decoded_too() {
        let mut masked = Masked::default();
        let header =
            basic_authorization("mautic_username", "admin", &Secret::new("hunter22")).unwrap();
        assert_eq!(header.expose(), "Basic YWRtaW46aHVudGVyMjI=");
        masked.add_credentials(header.expose());
        assert_eq!(masked.apply("bad password hunter22"), "bad password ***");
    }
}
