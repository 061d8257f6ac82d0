//! Text rules every layer shares (a leaf: it uses only `error`): excerpts of untrusted text
//! for messages, yes/no flags, scalar values as text, JSON type names, and tag lists.
//!
//! Each rule is written here once; intake, settings, apply and the CRM clients call it.

use serde_json::Value;

use crate::error::{Error, Result};

/// Longest excerpt of an untrusted value quoted in an error message.
pub const EXCERPT_CHARS: usize = 40;

/// A short, printable excerpt of untrusted text for error messages: control characters and
/// bidi controls replaced, cut at `max` characters.
pub fn printable(text: &str, max: usize) -> String {
    let mut out: String = text
        .chars()
        .take(max)
        .map(|c| {
            if c.is_control() || is_bidi_control(c) {
                '?'
            } else {
                c
            }
        })
        .collect();
    if text.chars().count() > max {
        out.push('…');
    }
    out
}

/// Unicode's bidirectional formatting characters (embeddings, overrides, isolates, marks),
/// as inclusive ranges: in untrusted text they make a log or admin page show something else
/// than what is stored. The plugin's pages replace the same set (`wpf_bridge_rules()`,
/// `bidi_controls`).
pub const BIDI_CONTROLS: [(char, char); 4] = [
    ('\u{061C}', '\u{061C}'),
    ('\u{200E}', '\u{200F}'),
    ('\u{202A}', '\u{202E}'),
    ('\u{2066}', '\u{2069}'),
];

/// Whether `c` is one of `BIDI_CONTROLS`.
pub fn is_bidi_control(c: char) -> bool {
    BIDI_CONTROLS
        .iter()
        .any(|(first, last)| (*first..=*last).contains(&c))
}

/// A yes/no parameter: `true`, `1`, `yes`, `on` or `false`, `0`, `no`, `off`, empty, in any
/// case and with surrounding spaces; anything else is `Error::InvalidFlag`.
pub fn parse_flag(name: &'static str, value: &str) -> Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" | "" => Ok(false),
        _ => Err(Error::InvalidFlag {
            name,
            value: printable(value, EXCERPT_CHARS),
        }),
    }
}

/// A scalar value as trimmed, non-empty text; `None` for null, empty, arrays and objects.
pub fn value_text(value: &Value) -> Option<String> {
    let text = match value {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        Value::Bool(true) => "1".to_string(),
        Value::Bool(false) => "0".to_string(),
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

/// "an object", "a list", ... for error details (never the value itself).
pub fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Tag names from a list of strings or of objects holding the name under `key`
/// (`{"tag": ..}` for Mautic, `{"name": ..}` for User.com). An object in place of the list
/// (PHP's `json_encode` of a non-sequential array) counts as a list of its values. Other
/// entries are skipped; names are trimmed, empty ones dropped, duplicates kept once.
/// `None` when the value is null or not a list.
pub fn tag_names(value: &Value, key: &str) -> Option<Vec<String>> {
    let entries: Vec<&Value> = match value {
        Value::Array(list) => list.iter().collect(),
        Value::Object(map) => map.values().collect(),
        _ => return None,
    };
    Some(tag_list(entries.into_iter().filter_map(
        |entry| match entry {
            Value::Object(tag) => tag.get(key).and_then(tag_name),
            other => tag_name(other),
        },
    )))
}

/// The one rule for a list of tag names: trimmed, blanks dropped, each name once, in the
/// given order.
pub fn tag_list<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in names {
        let name = name.as_ref().trim();
        if !name.is_empty() && !out.iter().any(|kept| kept == name) {
            out.push(name.to_string());
        }
    }
    out
}

fn tag_name(value: &Value) -> Option<String> {
    match value {
        Value::String(name) => Some(name.trim().to_string()).filter(|name| !name.is_empty()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// Longest contact id accepted, in bytes of UTF-8 (CRM ids are numbers or short keys). Bytes,
/// not characters: the queue stores the id in a `varbinary(255)` column and every stored field
/// must fit its column (64 characters of U+1F600 are 256 bytes, which MySQL cut to 255, and
/// the cut id was never claimed). 64 bytes keeps every ASCII id the former 64-character rule
/// took.
pub const MAX_CONTACT_ID_BYTES: usize = 64;

/// Why a contact id is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadContactId {
    /// Longer than `MAX_CONTACT_ID_BYTES` (its length in bytes): `contact_id_too_long`.
    TooLong(usize),
    /// Any other reason, to be wrapped in the caller's `InvalidPayload`.
    Invalid(String),
}

impl BadContactId {
    /// The error: `contact_id_too_long` for a long id, else what `invalid` makes of the reason.
    pub fn into_error(self, invalid: impl FnOnce(String) -> Error) -> Error {
        match self {
            BadContactId::TooLong(bytes) => Error::ContactIdTooLong {
                bytes,
                limit: MAX_CONTACT_ID_BYTES,
            },
            BadContactId::Invalid(reason) => invalid(reason),
        }
    }
}

/// A contact id from a JSON value: a non-negative integer or a string (trimmed). `Ok(None)`
/// for null and the empty string.
pub fn contact_id(value: &Value) -> std::result::Result<Option<String>, BadContactId> {
    let invalid = |reason: &str| Err(BadContactId::Invalid(reason.into()));
    match value {
        Value::Null => Ok(None),
        Value::Number(number) => match number.as_u64() {
            Some(id) => Ok(Some(id.to_string())),
            None => invalid("is not a whole non-negative number"),
        },
        Value::String(text) => contact_id_text(text),
        Value::Bool(_) => invalid("is a boolean"),
        Value::Array(_) => invalid("is a list"),
        Value::Object(_) => invalid("is an object"),
    }
}

/// A contact id given as text (a URL parameter): the rules of `contact_id`.
pub fn contact_id_text(text: &str) -> std::result::Result<Option<String>, BadContactId> {
    let id = text.trim();
    if id.is_empty() {
        Ok(None)
    } else if id.len() > MAX_CONTACT_ID_BYTES {
        Err(BadContactId::TooLong(id.len()))
    } else if id.chars().any(|c| c.is_control() || is_bidi_control(c)) {
        Err(BadContactId::Invalid(format!(
            "contains control characters (\"{}\")",
            printable(id, 20)
        )))
    } else {
        Ok(Some(id.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tags() {
        let value = json!([{"tag": " a "}, "b", {"tag": ""}, {"id": 3}, [], null, "a", {"tag": 7}]);
        assert_eq!(
            tag_names(&value, "tag"),
            Some(vec!["a".to_string(), "b".to_string(), "7".to_string()])
        );
        assert_eq!(
            tag_names(&json!({"3": {"tag": "x"}}), "tag"),
            Some(vec!["x".into()])
        );
        assert_eq!(tag_names(&json!(null), "tag"), None);
        assert_eq!(tag_names(&json!("a,b"), "tag"), None);
        assert_eq!(tag_names(&json!([[]]), "tag"), Some(vec![]));
    }

    #[test]
    fn contact_ids() {
        assert_eq!(contact_id(&json!(52)), Ok(Some("52".into())));
        assert_eq!(contact_id(&json!(" 52 ")), Ok(Some("52".into())));
        assert_eq!(contact_id(&json!("abc")), Ok(Some("abc".into())));
        assert_eq!(contact_id(&json!(null)), Ok(None));
        assert_eq!(contact_id(&json!("  ")), Ok(None));
        for bad in [
            json!(-1),
            json!(1.5),
            json!(true),
            json!([1]),
            json!({"id": 1}),
        ] {
            assert!(contact_id(&bad).is_err(), "{bad}");
        }
        assert!(matches!(
            contact_id(&json!("a\u{0}b")),
            Err(BadContactId::Invalid(_))
        ));
    }

    #[test]
    fn contact_ids_are_measured_in_bytes() {
        let x64 = "x".repeat(64);
        assert_eq!(contact_id_text(&x64), Ok(Some(x64.clone())));
        assert_eq!(
            contact_id_text(&"x".repeat(65)),
            Err(BadContactId::TooLong(65))
        );
        // 16 emoji are 64 bytes; 17 are 68; the 64 are 256, over the column's 255.
        let emoji = |n: usize| "\u{1F600}".repeat(n);
        assert_eq!(contact_id_text(&emoji(16)), Ok(Some(emoji(16))));
        assert_eq!(contact_id_text(&emoji(17)), Err(BadContactId::TooLong(68)));
        assert_eq!(
            contact_id(&json!(emoji(64))),
            Err(BadContactId::TooLong(256))
        );
        let error = BadContactId::TooLong(256).into_error(|_| unreachable!());
        assert_eq!((error.code(), error.status()), ("contact_id_too_long", 400));
    }
}
