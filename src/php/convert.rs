//! Conversions between PHP values and the core's plain values, done once, here.
//!
//! PHP arrays become `serde_json` values (lists when their keys are 0..n, maps otherwise),
//! the plugin's request array becomes a `webhook::Request`, and results go back as arrays.

use ext_php_rs::boxed::ZBox;
use ext_php_rs::types::{ArrayKey, ZendHashTable, Zval};
use serde_json::{Map, Number, Value};

use crate::error::{Error, Result};
use crate::webhook::Request;

/// Deeper PHP arrays than this are refused (a request or settings array is never that deep).
const MAX_DEPTH: usize = 64;

/// A PHP value as JSON. Objects and resources become null; strings that are not UTF-8 are
/// read lossily (they are only ever compared or parsed as text).
pub fn to_value(zval: &Zval) -> Result<Value> {
    to_value_at(zval, 0)
}

fn to_value_at(zval: &Zval, depth: usize) -> Result<Value> {
    let zval = zval.dereference();
    if depth > MAX_DEPTH {
        return Err(Error::InvalidArgument {
            name: "array",
            reason: format!("is nested deeper than {MAX_DEPTH} levels"),
        });
    }
    if let Some(b) = zval.bool() {
        return Ok(Value::Bool(b));
    }
    if let Some(n) = zval.long() {
        return Ok(Value::Number(n.into()));
    }
    if let Some(d) = zval.double() {
        return Ok(Number::from_f64(d)
            .map(Value::Number)
            .unwrap_or(Value::Null));
    }
    if let Some(s) = zval.zend_str() {
        return Ok(Value::String(
            String::from_utf8_lossy(s.as_bytes()).into_owned(),
        ));
    }
    if let Some(array) = zval.array() {
        return array_to_value(array, depth + 1);
    }
    Ok(Value::Null)
}

fn array_to_value(array: &ZendHashTable, depth: usize) -> Result<Value> {
    if array.has_sequential_keys() {
        let items = array
            .values()
            .map(|item| to_value_at(item, depth))
            .collect::<Result<Vec<_>>>()?;
        return Ok(Value::Array(items));
    }
    let mut map = Map::new();
    for (key, item) in array {
        map.insert(key_text(&key), to_value_at(item, depth)?);
    }
    Ok(Value::Object(map))
}

fn key_text(key: &ArrayKey) -> String {
    key.to_string()
}

/// A PHP array as a JSON object; lists count as objects keyed "0", "1", ...
pub fn to_map(array: &ZendHashTable, name: &'static str) -> Result<Map<String, Value>> {
    match array_to_value(array, 1)? {
        Value::Object(map) => Ok(map),
        Value::Array(items) if items.is_empty() => Ok(Map::new()),
        _ => Err(Error::InvalidArgument {
            name,
            reason: "must be an array with string keys".into(),
        }),
    }
}

/// A JSON value as a PHP value.
pub fn to_zval(value: &Value) -> Result<Zval> {
    let mut zval = Zval::new();
    match value {
        Value::Null => zval.set_null(),
        Value::Bool(b) => zval.set_bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => zval.set_long(i),
            None => zval.set_double(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => zval.set_string(s, false).map_err(php_error)?,
        Value::Array(items) => {
            let mut array = ZendHashTable::new();
            for item in items {
                array.push(to_zval(item)?).map_err(php_error)?;
            }
            zval.set_hashtable(array);
        }
        Value::Object(map) => zval.set_hashtable(map_to_array(map)?),
    }
    Ok(zval)
}

/// A JSON object as a PHP associative array.
pub fn map_to_array(map: &Map<String, Value>) -> Result<ZBox<ZendHashTable>> {
    let mut array = ZendHashTable::new();
    for (key, item) in map {
        array
            .insert(key.as_str(), to_zval(item)?)
            .map_err(php_error)?;
    }
    Ok(array)
}

fn php_error(error: ext_php_rs::error::Error) -> Error {
    Error::Site(format!("PHP value conversion failed: {error}"))
}

/// The plugin's request array: `method`, `query`, `post`, `headers`, `body`; any key may be
/// missing. Header names are lowercased; a header given as a list is joined with ", ".
pub fn to_request(array: &ZendHashTable) -> Result<Request> {
    let mut request = Request {
        method: "POST".into(),
        ..Request::default()
    };
    if let Some(method) = array.get("method") {
        request.method = text(method, "request['method']")?.to_ascii_uppercase();
    }
    if let Some(query) = array.get("query") {
        request.query = params(query, "request['query']")?;
    }
    if let Some(post) = array.get("post") {
        request.post = params(post, "request['post']")?;
    }
    if let Some(headers) = array.get("headers") {
        let headers = params(headers, "request['headers']")?;
        request.headers = headers
            .into_iter()
            .map(|(name, value)| {
                let value = match value {
                    Value::Array(items) => items
                        .iter()
                        .map(|item| crate::text::value_text(item).unwrap_or_default())
                        .collect::<Vec<_>>()
                        .join(", "),
                    other => crate::text::value_text(&other).unwrap_or_default(),
                };
                (name.to_ascii_lowercase(), value)
            })
            .collect();
    }
    if let Some(body) = array.get("body") {
        let body = body.dereference();
        request.body = match body.zend_str() {
            Some(s) => s.as_bytes().to_vec(),
            None if body.is_null() => Vec::new(),
            None => {
                return Err(Error::InvalidArgument {
                    name: "request['body']",
                    reason: "must be the raw body as a string".into(),
                })
            }
        };
    }
    Ok(request)
}

fn text(zval: &Zval, name: &'static str) -> Result<String> {
    match to_value(zval)? {
        Value::String(s) => Ok(s),
        Value::Null => Ok(String::new()),
        _ => Err(Error::InvalidArgument {
            name,
            reason: "must be a string".into(),
        }),
    }
}

/// Query, form and header parameters. They come from the caller, so arrays PHP accepted but
/// we do not (nested beyond `MAX_DEPTH`) are the request's fault: `InvalidRequest`, a 400.
fn params(zval: &Zval, name: &'static str) -> Result<Map<String, Value>> {
    match zval.dereference().array() {
        Some(array) => to_map(array, name).map_err(|error| match error {
            Error::InvalidArgument { reason, .. } => {
                Error::InvalidRequest(format!("{name} {reason}"))
            }
            other => other,
        }),
        None if zval.dereference().is_null() => Ok(Map::new()),
        None => Err(Error::InvalidArgument {
            name,
            reason: "must be an array".into(),
        }),
    }
}
