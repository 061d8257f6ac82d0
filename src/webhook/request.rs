//! The HTTP request as plain data, built by `php/` from the plugin's request array.
//!
//! First step of intake: everything later (`auth`, `action`, `payload/`) reads the request
//! only through `param` and `header`, so the precedence rules live here and nowhere else.

use serde_json::{Map, Value};

/// A webhook request. Header names are stored lowercased.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Request {
    pub method: String,
    pub query: Map<String, Value>,
    pub post: Map<String, Value>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// A POST request for the intake tests: query parameters (an object), headers (names are
    /// lowercased as `php/` does) and a raw body.
    #[cfg(test)]
    pub(crate) fn test_post(query: Value, headers: &[(&str, &str)], body: &str) -> Request {
        Request {
            method: "POST".into(),
            query: match query {
                Value::Object(map) => map,
                _ => Map::new(),
            },
            headers: headers
                .iter()
                .map(|(name, value)| (name.to_ascii_lowercase(), value.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
            ..Request::default()
        }
    }

    /// A scalar parameter, from the form body or else the query string (PHP's `$_REQUEST` order).
    ///
    /// The first source holding `name` decides, as in `$_REQUEST`: a form field that is an
    /// array hides a query parameter of the same name and gives `None`. A JSON `null` counts as
    /// absent. Numbers and booleans become strings (`52`, `true`, `false`); arrays and objects
    /// are not scalars.
    pub fn param(&self, name: &str) -> Option<String> {
        let value = [&self.post, &self.query]
            .into_iter()
            .find_map(|source| source.get(name).filter(|value| !value.is_null()))?;
        scalar(value)
    }

    /// A header value, matched case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The media type of the `Content-Type` header, lowercased, without parameters
    /// (`application/json; charset=utf-8` gives `application/json`).
    pub fn media_type(&self) -> Option<String> {
        let value = self.header("content-type")?;
        let media = value.split(';').next().unwrap_or_default().trim();
        (!media.is_empty()).then(|| media.to_ascii_lowercase())
    }
}

/// A JSON value as a parameter string; `None` for arrays, objects and null.
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn post_wins_over_query() {
        let request = Request {
            query: map(json!({"a": "query", "b": "query-only"})),
            post: map(json!({"a": "post"})),
            ..Request::default()
        };
        assert_eq!(request.param("a").as_deref(), Some("post"));
        assert_eq!(request.param("b").as_deref(), Some("query-only"));
        assert_eq!(request.param("c"), None);
    }

    #[test]
    fn scalars_become_strings_and_arrays_are_not_scalars() {
        let request = Request {
            query: map(json!({"n": 52, "t": true, "f": false, "x": 1.5, "arr": "query"})),
            post: map(json!({"arr": ["a"], "obj": {"k": "v"}, "null": null})),
            ..Request::default()
        };
        assert_eq!(request.param("n").as_deref(), Some("52"));
        assert_eq!(request.param("t").as_deref(), Some("true"));
        assert_eq!(request.param("f").as_deref(), Some("false"));
        assert_eq!(request.param("x").as_deref(), Some("1.5"));
        // $_REQUEST order: the post array hides the query string's value.
        assert_eq!(request.param("arr"), None);
        assert_eq!(request.param("obj"), None);
        assert_eq!(request.param("null"), None);
    }

    #[test]
    fn null_in_post_falls_back_to_query() {
        let request = Request {
            query: map(json!({"a": "query"})),
            post: map(json!({"a": null})),
            ..Request::default()
        };
        assert_eq!(request.param("a").as_deref(), Some("query"));
    }

    #[test]
    fn headers_are_case_insensitive() {
        let request = Request {
            headers: vec![
                ("webhook-signature".into(), "sig".into()),
                (
                    "Content-Type".into(),
                    "Application/JSON; charset=UTF-8".into(),
                ),
            ],
            ..Request::default()
        };
        assert_eq!(request.header("Webhook-Signature"), Some("sig"));
        assert_eq!(request.header("WEBHOOK-SIGNATURE"), Some("sig"));
        assert_eq!(request.header("content-type").map(|_| ()), Some(()));
        assert_eq!(request.header("x-missing"), None);
        assert_eq!(request.media_type().as_deref(), Some("application/json"));
    }
}
