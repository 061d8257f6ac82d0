//! The body of a mapped webhook decoded into one JSON value: JSON as it is, a form the way
//! PHP's `parse_str` / `$_POST` reads it (brackets nest: `contact[id]=5` is `/contact/id`),
//! or either by the request's Content-Type. Bounded: at most `MAX_DEPTH` levels of nesting
//! and `MAX_FORM_FIELDS` form fields, else a 4xx error with a stable code.
//!
//! PHP's rules for a form field name, followed here (main/php_variables.c; `tests/mapping.rs`
//! compares the result with PHP's own `parse_str` on tricky bodies):
//! - leading spaces are dropped; in the name before the first `[`, spaces and dots become `_`;
//! - `[key]` nests, `[]` appends (the next integer index), and a numeric key (`0`, `12`,
//!   `-3`, not `01`) is an integer, so `a[0]=x&a[1]=y` is a list;
//! - a first `[` that is never closed is a plain `_` (with spaces, dots and `[` after it
//!   becoming `_` too); anything after a `]` that is not another `[`, or an unclosed later
//!   `[`, is ignored;
//! - a later value replaces an earlier one in place; a scalar is replaced by an array when a
//!   later field nests under its name; an append after the largest integer key is dropped;
//! - a name that is empty (before any `[`) is skipped, and so is a field without a name.
//!
//! A field nested deeper than `MAX_DEPTH` is refused (`body_too_deep`) where PHP drops it
//! silently: a field that vanishes could be a contact id.

use std::collections::HashMap;

use percent_encoding::percent_decode;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::webhook::Request;

use super::BodyFormat;

/// Deepest nesting accepted in a body (PHP's `max_input_nesting_level` default).
pub const MAX_DEPTH: usize = 64;
/// Most fields read from a form body.
pub const MAX_FORM_FIELDS: usize = 10_000;

/// Media types read as forms by `BodyFormat::Auto`.
const FORM_MEDIA_TYPES: [&str; 2] = ["application/x-www-form-urlencoded", "multipart/form-data"];

/// The body as one value; `None` when there is no body to read (blank).
pub fn decode(format: BodyFormat, request: &Request) -> Result<Option<Value>> {
    let form = match format {
        BodyFormat::Json => false,
        BodyFormat::Form => true,
        BodyFormat::Auto => request
            .media_type()
            .is_some_and(|media| FORM_MEDIA_TYPES.contains(&media.as_str())),
    };
    let blank = request.body.iter().all(u8::is_ascii_whitespace);
    if form {
        if blank {
            // multipart/form-data: PHP parsed the fields and left no raw body.
            return Ok((!request.post.is_empty()).then(|| Value::Object(request.post.clone())));
        }
        return decode_form(&request.body).map(Some);
    }
    if blank {
        return Ok(None);
    }
    decode_json(&request.body).map(Some)
}

/// A JSON body (a UTF-8 byte order mark skipped), at most `MAX_DEPTH` levels deep.
pub fn decode_json(body: &[u8]) -> Result<Value> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let value: Value = serde_json::from_slice(body).map_err(|error| {
        // serde_json stops at 128 levels itself; either way the answer is the same.
        if error.to_string().starts_with("recursion limit exceeded") {
            Error::BodyTooDeep { limit: MAX_DEPTH }
        } else {
            Error::InvalidJson(crate::webhook::payload::describe_json_error(&error))
        }
    })?;
    if depth(&value) > MAX_DEPTH {
        return Err(Error::BodyTooDeep { limit: MAX_DEPTH });
    }
    Ok(value)
}

/// Levels of nesting: a scalar is 0, `{}` and `[]` are 1. Recursive without allocating:
/// serde_json refuses more than 128 levels while parsing, so the recursion is bounded.
fn depth(value: &Value) -> usize {
    match value {
        Value::Array(list) => 1 + list.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// An `application/x-www-form-urlencoded` body, read as PHP reads it (rules in the module
/// comment). Bytes that are not UTF-8 are replaced.
pub fn decode_form(body: &[u8]) -> Result<Value> {
    let mut root = Branch::default();
    let mut fields = 0usize;
    for pair in body.split(|byte| *byte == b'&') {
        if pair.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        fields += 1;
        if fields > MAX_FORM_FIELDS {
            return Err(Error::TooManyItems {
                pointer: "the form body".into(),
                count: body.split(|byte| *byte == b'&').count(),
                limit: MAX_FORM_FIELDS,
            });
        }
        let (name, value) = match pair.iter().position(|byte| *byte == b'=') {
            Some(at) => (&pair[..at], &pair[at + 1..]),
            None => (pair, &b""[..]),
        };
        let name = url_decode(name);
        let value = url_decode(value);
        if let Some(path) = field_path(&name)? {
            root.set(&path, value);
        }
    }
    Ok(root.into_value())
}

fn url_decode(bytes: &[u8]) -> String {
    let plus_as_space: Vec<u8> = bytes
        .iter()
        .map(|byte| if *byte == b'+' { b' ' } else { *byte })
        .collect();
    String::from_utf8_lossy(&percent_decode(&plus_as_space).collect::<Vec<u8>>()).into_owned()
}

/// One step of a field's path: a key, or `[]` (append).
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Append,
}

/// The path a field name stands for (PHP's rules), `None` for a name PHP skips.
fn field_path(name: &str) -> Result<Option<Vec<Step>>> {
    let name = name.trim_start_matches(' ');
    let (base, rest) = match name.find('[') {
        Some(at) if name[at..].contains(']') => (&name[..at], Some(&name[at..])),
        // An unclosed first bracket: a plain name, `[` included in the mangling.
        Some(_) => (name, None),
        None => (name, None),
    };
    let base: String = base
        .chars()
        .map(|c| if matches!(c, ' ' | '.' | '[') { '_' } else { c })
        .collect();
    if base.is_empty() {
        return Ok(None);
    }
    let mut path = vec![Step::Key(base)];
    let mut rest = rest.unwrap_or_default();
    while let Some(inner) = rest.strip_prefix('[') {
        let Some(close) = inner.find(']') else {
            break; // an unclosed later bracket: the rest is ignored
        };
        path.push(match &inner[..close] {
            "" => Step::Append,
            key => Step::Key(key.to_string()),
        });
        if path.len() - 1 > MAX_DEPTH {
            return Err(Error::BodyTooDeep { limit: MAX_DEPTH });
        }
        rest = &inner[close + 1..];
    }
    Ok(Some(path))
}

/// PHP's integer keys: `0` or an optional `-` and digits without a leading zero, in range.
fn integer_key(key: &str) -> Option<i64> {
    let digits = key.strip_prefix('-').unwrap_or(key);
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && key != "-0";
    canonical.then(|| key.parse().ok()).flatten()
}

/// A form value while it is built: text, or an ordered array with PHP's next free index.
#[derive(Debug)]
enum Node {
    Text(String),
    Array(Branch),
}

#[derive(Debug, Default)]
struct Branch {
    entries: Vec<(String, Node)>,
    positions: HashMap<String, usize>,
    next_index: i64,
    /// The largest integer key is taken: PHP refuses a further append (and drops its value).
    full: bool,
}

impl Branch {
    fn set(&mut self, path: &[Step], value: String) {
        let Some((step, deeper)) = path.split_first() else {
            return;
        };
        let key = match step {
            Step::Key(key) => match integer_key(key) {
                Some(number) => number.to_string(),
                None => key.clone(),
            },
            Step::Append if self.full => return,
            Step::Append => self.next_index.to_string(),
        };
        if let Some(number) = integer_key(&key) {
            match number.checked_add(1) {
                Some(next) => self.next_index = self.next_index.max(next),
                None => self.full = true,
            }
        }
        let at = match self.positions.get(&key) {
            Some(at) => *at,
            None => {
                self.entries.push((key.clone(), Node::Text(String::new())));
                self.positions.insert(key, self.entries.len() - 1);
                self.entries.len() - 1
            }
        };
        let slot = &mut self.entries[at].1;
        if deeper.is_empty() {
            *slot = Node::Text(value);
            return;
        }
        if !matches!(slot, Node::Array(_)) {
            *slot = Node::Array(Branch::default());
        }
        if let Node::Array(branch) = slot {
            branch.set(deeper, value);
        }
    }

    /// As JSON: a list when the keys are 0, 1, 2, ... in order (PHP's packed arrays, as
    /// `php/convert.rs` reads arrays), an object otherwise.
    fn into_value(self) -> Value {
        let sequential = self
            .entries
            .iter()
            .enumerate()
            .all(|(at, (key, _))| *key == at.to_string());
        let values = self.entries.into_iter().map(|(key, node)| {
            let value = match node {
                Node::Text(text) => Value::String(text),
                Node::Array(branch) => branch.into_value(),
            };
            (key, value)
        });
        if sequential {
            Value::Array(values.map(|(_, value)| value).collect())
        } else {
            Value::Object(values.collect::<Map<String, Value>>())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn form(body: &str) -> Value {
        decode_form(body.as_bytes()).unwrap()
    }

    #[test]
    fn brackets_nest_as_in_php() {
        assert_eq!(
            form("contact[id]=5&contact[email]=a%40b.org&contact[tags]=one%2C+two&type=update"),
            json!({"contact": {"id": "5", "email": "a@b.org", "tags": "one, two"}, "type": "update"})
        );
        assert_eq!(form("a[]=x&a[]=y"), json!({"a": ["x", "y"]}));
        assert_eq!(form("a[0]=x&a[1]=y"), json!({"a": ["x", "y"]}));
        assert_eq!(form("a[1]=x&a[]=y"), json!({"a": {"1": "x", "2": "y"}}));
        assert_eq!(form("a[01]=x&a[]=y"), json!({"a": {"01": "x", "0": "y"}}));
        assert_eq!(
            form("d[merges][EMAIL]=E"),
            json!({"d": {"merges": {"EMAIL": "E"}}})
        );
    }

    #[test]
    fn names_are_mangled_as_in_php() {
        assert_eq!(
            form("a.b=1&c d=2&%20e=3"),
            json!({"a_b": "1", "c_d": "2", "e": "3"})
        );
        // An unclosed first bracket is a plain name; `.` after it is mangled too.
        assert_eq!(form("a[b.c=1"), json!({"a_b_c": "1"}));
        // After `]` only `[` continues; an unclosed later bracket is dropped.
        assert_eq!(
            form("a[b]x[c]=1&e[f][g=2"),
            json!({"a": {"b": "1"}, "e": {"f": "2"}})
        );
        // No name: skipped.
        assert_eq!(form("=1&[a]=2&&x"), json!({"x": ""}));
    }

    #[test]
    fn later_values_win_in_place() {
        assert_eq!(form("a=1&b=2&a=3"), json!({"a": "3", "b": "2"}));
        assert_eq!(form("a=1&a[b]=2"), json!({"a": {"b": "2"}}));
        assert_eq!(form("a[b]=2&a=1"), json!({"a": "1"}));
    }

    #[test]
    fn bounds() {
        let deep = format!("a{}=1", "[x]".repeat(MAX_DEPTH));
        assert!(decode_form(deep.as_bytes()).is_ok());
        let too_deep = format!("a{}=1", "[x]".repeat(MAX_DEPTH + 1));
        assert_eq!(
            decode_form(too_deep.as_bytes()).unwrap_err().code(),
            "body_too_deep"
        );
        let many = "a[]=1&".repeat(MAX_FORM_FIELDS);
        assert!(decode_form(many.as_bytes()).is_ok());
        let too_many = "a[]=1&".repeat(MAX_FORM_FIELDS + 1);
        let error = decode_form(too_many.as_bytes()).unwrap_err();
        assert_eq!((error.code(), error.status()), ("too_many_items", 413));
        // Bad percent escapes and bytes that are not UTF-8 never fail.
        assert_eq!(form("a=%zz%ff"), json!({"a": "%zz\u{fffd}"}));
    }

    #[test]
    fn json_depth() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(decode_json(ok.as_bytes()).is_ok());
        for levels in [MAX_DEPTH + 1, 200, 100_000] {
            let deep = format!("{}{}", "[".repeat(levels), "]".repeat(levels));
            let error = decode_json(deep.as_bytes()).unwrap_err();
            assert_eq!(
                (error.code(), error.status()),
                ("body_too_deep", 400),
                "{levels}"
            );
        }
        let error = decode_json(b"{\"a\": ").unwrap_err();
        assert_eq!(error.code(), "invalid_json");
    }
}
