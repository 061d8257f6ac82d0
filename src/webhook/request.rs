//! The HTTP request as plain data, built by `php/` from the plugin's request array.

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
    /// A scalar parameter, from the form body or else the query string (PHP's `$_REQUEST` order).
    pub fn param(&self, name: &str) -> Option<String> {
        todo!("{name}")
    }

    /// A header value, matched case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        todo!("{name}")
    }
}
