//! RFC 6901 JSON Pointers as a mapping uses them: checked when a mapping is validated, and
//! resolved against a decoded body with a diagnostic when they miss (the deepest part that
//! exists and the key names found there, never the values).

use serde_json::Value;

use crate::error::Error;
use crate::text::{json_type, printable};

/// Longest pointer accepted in a mapping.
pub const MAX_POINTER_CHARS: usize = 256;
/// Most reference tokens in one pointer (a body is never deeper than `body::MAX_DEPTH`).
pub const MAX_POINTER_TOKENS: usize = 64;
/// Key names listed in a diagnostic.
const LISTED_KEYS: usize = 20;

/// Why `pointer` is not a pointer a mapping may hold, or `None`: `""` (the whole item) or
/// `/`-separated tokens in which `~` is always `~0` or `~1`.
pub fn problem(pointer: &str) -> Option<String> {
    if pointer.is_empty() {
        return None;
    }
    if !pointer.starts_with('/') {
        return Some(format!(
            "\"{}\" is not a JSON Pointer: it must start with \"/\" (RFC 6901), e.g. \"/contact/id\"",
            printable(pointer, 40)
        ));
    }
    if pointer.chars().count() > MAX_POINTER_CHARS {
        return Some(format!("is longer than {MAX_POINTER_CHARS} characters"));
    }
    if pointer.matches('/').count() > MAX_POINTER_TOKENS {
        return Some(format!("has more than {MAX_POINTER_TOKENS} levels"));
    }
    let bytes = pointer.as_bytes();
    for (at, byte) in bytes.iter().enumerate() {
        if *byte == b'~' && !matches!(bytes.get(at + 1), Some(b'0' | b'1')) {
            return Some(format!(
                "\"{}\" has a \"~\" that is not \"~0\" (a ~) or \"~1\" (a /)",
                printable(pointer, 40)
            ));
        }
    }
    None
}

/// The value at `pointer`, or the error naming where it missed: `PointerMissing` (a key or
/// index that is not there: the keys that were) or `PointerType` (a step into a string,
/// number, boolean or null).
pub fn resolve<'a>(root: &'a Value, pointer: &str) -> Result<&'a Value, Error> {
    find(root, pointer).map_err(|miss| miss.into_error(pointer))
}

/// Where a pointer missed, kept cheap: the diagnostic is only written (`into_error`) when
/// no other pointer of a list found a value.
#[derive(Debug, Clone, Copy)]
pub struct Miss<'a> {
    /// The value the missing step was taken from, and the length of the pointer up to it.
    parent: &'a Value,
    walked: usize,
}

impl Miss<'_> {
    /// The pointer stepped into a string, number, boolean or null (`PointerType`), rather
    /// than asking for a key or an item that is not there.
    pub fn into_scalar(&self) -> bool {
        !matches!(self.parent, Value::Object(_) | Value::Array(_))
    }

    /// The error naming the miss of `pointer` (the pointer `find` was given).
    pub fn into_error(self, pointer: &str) -> Error {
        let walked = &pointer[..self.walked];
        let token = unescape(
            pointer[self.walked..]
                .trim_start_matches('/')
                .split('/')
                .next()
                .unwrap_or_default(),
        );
        match self.parent {
            Value::Object(map) => Error::PointerMissing {
                pointer: pointer.to_string(),
                found: format!(
                    "no key \"{}\" in the object at {} (keys: {})",
                    printable(&token, 40),
                    shown(walked),
                    keys(map.keys())
                ),
            },
            Value::Array(list) => Error::PointerMissing {
                pointer: pointer.to_string(),
                found: format!(
                    "no item \"{}\" in the list at {} ({} items, indexes from 0)",
                    printable(&token, 40),
                    shown(walked),
                    list.len()
                ),
            },
            other => Error::PointerType {
                pointer: shown(walked),
                expected: "an object or a list",
                found: format!("{} (so {pointer} cannot be read)", json_type(other)),
            },
        }
    }
}

/// The value at `pointer`, or where it missed (no text written).
pub fn find<'a>(root: &'a Value, pointer: &str) -> Result<&'a Value, Miss<'a>> {
    let mut current = root;
    let mut walked = 0;
    if pointer.is_empty() {
        return Ok(root);
    }
    for raw in pointer[1..].split('/') {
        let next = match current {
            Value::Object(map) => map.get(unescape(raw).as_ref()),
            Value::Array(list) => index(raw).and_then(|at| list.get(at)),
            _ => None,
        };
        match next {
            Some(next) => current = next,
            None => {
                return Err(Miss {
                    parent: current,
                    walked,
                })
            }
        }
        walked += 1 + raw.len();
    }
    Ok(current)
}

/// `~1` is `/` and `~0` is `~`, in that order (RFC 6901 section 4).
fn unescape(token: &str) -> std::borrow::Cow<'_, str> {
    if token.contains('~') {
        token.replace("~1", "/").replace("~0", "~").into()
    } else {
        token.into()
    }
}

/// An array index token: `0` or digits without a leading zero (RFC 6901); `-` is never an item.
fn index(token: &str) -> Option<usize> {
    let digits = !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit());
    if !digits || (token.len() > 1 && token.starts_with('0')) {
        return None;
    }
    token.parse().ok()
}

/// Longest key name shown in a diagnostic.
const SHOWN_KEY_CHARS: usize = 40;

/// A key name as a diagnostic shows it: quoted when it is short and made of the characters
/// key names are made of (letters, digits, `_ - . : $`, spaces); else only its length.
fn shown_key(name: &str) -> String {
    let plain = |c: char| c.is_alphanumeric() || "_-.:$ ".contains(c);
    if name.chars().count() <= SHOWN_KEY_CHARS && name.chars().all(plain) {
        format!("\"{name}\"")
    } else {
        format!("a key of {} characters, not shown", name.chars().count())
    }
}

fn shown(walked: &str) -> String {
    if walked.is_empty() {
        "the top level".to_string()
    } else {
        walked.to_string()
    }
}

/// Key names for a diagnostic: quoted, at most `LISTED_KEYS` of them. Only a name that looks
/// like a key is shown (`shown_key`): a body in the wrong format makes a value into a "key" (a
/// JSON body read as a form is one key holding the whole body), and values are never shown.
pub fn keys<'a>(names: impl ExactSizeIterator<Item = &'a String>) -> String {
    let total = names.len();
    if total == 0 {
        return "none".to_string();
    }
    let mut listed: Vec<String> = names
        .take(LISTED_KEYS)
        .map(|name| shown_key(name))
        .collect();
    if total > LISTED_KEYS {
        listed.push(format!("and {} more", total - LISTED_KEYS));
    }
    listed.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_names_that_look_like_keys_are_shown() {
        let names: Vec<String> = [
            "contact",
            "mautic.lead_post_save_update",
            "first name",
            r#"{"contact":{"id":"5","email":"secret@example.com"}}"#,
            "secret@example.com",
            &"k".repeat(41),
        ]
        .map(str::to_string)
        .to_vec();
        let listed = keys(names.iter());
        assert!(listed.starts_with(
            r#""contact", "mautic.lead_post_save_update", "first name", a key of 51 characters"#
        ));
        assert!(!listed.contains("secret"), "{listed}");
        assert!(
            listed.ends_with("a key of 41 characters, not shown"),
            "{listed}"
        );
    }

    #[test]
    fn syntax() {
        for good in [
            "",
            "/",
            "/a",
            "/a/0",
            "/mautic.lead_post_save_update/0",
            "/a~1b",
            "/~0",
        ] {
            assert_eq!(problem(good), None, "{good}");
        }
        for bad in ["a", "a/b", "/a~", "/a~2", "#/a"] {
            assert!(problem(bad).is_some(), "{bad}");
        }
        assert!(problem(&"/a".repeat(65)).is_some());
        assert!(problem(&format!("/{}", "x".repeat(300))).is_some());
    }

    #[test]
    fn resolution_matches_serde_json() {
        let body =
            json!({"a/b": 1, "m~n": 2, "list": [10, {"x": "y"}], "": 3, "dot.key": {"0": "zero"}});
        for pointer in [
            "/a~1b",
            "/m~0n",
            "/list/0",
            "/list/1/x",
            "/",
            "/dot.key/0",
            "",
        ] {
            assert_eq!(
                resolve(&body, pointer).ok(),
                body.pointer(pointer),
                "{pointer}"
            );
        }
    }

    #[test]
    fn misses_name_what_was_there() {
        let body = json!({"data": {"account_id": 1, "subscriber": "text"}, "list": [1]});
        let error = resolve(&body, "/data/contact/id").unwrap_err();
        assert_eq!(error.code(), "pointer_missing");
        let message = error.to_string();
        assert!(message.contains("/data/contact/id"), "{message}");
        assert!(
            message.contains("\"account_id\", \"subscriber\""),
            "{message}"
        );
        assert!(!message.contains("text"), "values never shown: {message}");

        let error = resolve(&body, "/data/subscriber/id").unwrap_err();
        assert_eq!(error.code(), "pointer_type");
        assert!(error.to_string().contains("a string"), "{error}");

        for missing in ["/list/1", "/list/01", "/list/-", "/list/x"] {
            let error = resolve(&body, missing).unwrap_err();
            assert_eq!(error.code(), "pointer_missing", "{missing}");
            assert!(error.to_string().contains("1 items"), "{error}");
        }
        let error = resolve(&json!({}), "/x").unwrap_err();
        assert!(error.to_string().contains("keys: none"), "{error}");
    }
}
