//! A mapping's HMAC signature check: over the raw body bytes (never a re-encoded value), with
//! SHA-256 or SHA-1, the signature hex or base64 with an optional prefix, and optionally a
//! timestamp header signed with the body and refused when older (or newer) than the allowed
//! age. The comparison is constant time (`Mac::verify_slice`). Errors say which check failed
//! and name the header, never the signature or the secret.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use hmac::{Hmac, Mac};
use jiff::Timestamp;

use crate::error::{Error, Result};
use crate::webhook::Request;

use super::{Algorithm, Encoding, SignatureRule, Signed, TimestampUnit};

/// Standard base64, with or without padding.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Checks the request's signature under `rule` with `secret`, at `now`.
pub fn verify(rule: &SignatureRule, secret: &str, request: &Request, now: Timestamp) -> Result<()> {
    let refuse = |reason: &'static str| Error::SignatureRejected {
        header: rule.header.clone(),
        reason,
    };
    let given = request
        .header(&rule.header)
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .ok_or_else(|| refuse("the header is missing"))?;
    let timestamp = match rule.signed {
        Signed::Body => None,
        Signed::TimestampBody | Signed::BodyTimestamp => {
            let header = rule.timestamp_header.as_deref().unwrap_or_default();
            let stamp = request
                .header(header)
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .ok_or_else(|| refuse("the timestamp header is missing"))?;
            check_age(rule, stamp, now).map_err(refuse)?;
            Some(stamp)
        }
    };
    let expected = decode(rule, given).ok_or_else(|| refuse("it is not in the expected form"))?;
    let matches = match rule.algorithm {
        Algorithm::Sha256 => {
            matches::<Hmac<sha2::Sha256>>(rule, secret, &request.body, timestamp, &expected)
        }
        Algorithm::Sha1 => {
            matches::<Hmac<sha1::Sha1>>(rule, secret, &request.body, timestamp, &expected)
        }
    };
    if matches {
        Ok(())
    } else {
        Err(refuse("it does not match the body"))
    }
}

/// A signature over the body alone (the rule signs `body`), as `wpf_bridge_verify_signature`
/// checks one: false for any mismatch, an empty secret or a rule that signs a timestamp.
pub fn matches_body(rule: &SignatureRule, secret: &str, body: &[u8], signature: &str) -> bool {
    if secret.is_empty() || rule.signed != Signed::Body {
        return false;
    }
    let Some(expected) = decode(rule, signature.trim()) else {
        return false;
    };
    match rule.algorithm {
        Algorithm::Sha256 => matches::<Hmac<sha2::Sha256>>(rule, secret, body, None, &expected),
        Algorithm::Sha1 => matches::<Hmac<sha1::Sha1>>(rule, secret, body, None, &expected),
    }
}

fn matches<M: Mac + hmac::digest::KeyInit>(
    rule: &SignatureRule,
    secret: &str,
    body: &[u8],
    timestamp: Option<&str>,
    expected: &[u8],
) -> bool {
    if secret.is_empty() {
        return false;
    }
    let Ok(mut mac) = <M as hmac::digest::KeyInit>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    let separator = rule.separator.as_bytes();
    match (rule.signed, timestamp) {
        (Signed::TimestampBody, Some(stamp)) => {
            mac.update(stamp.as_bytes());
            mac.update(separator);
            mac.update(body);
        }
        (Signed::BodyTimestamp, Some(stamp)) => {
            mac.update(body);
            mac.update(separator);
            mac.update(stamp.as_bytes());
        }
        _ => mac.update(body),
    }
    mac.verify_slice(expected).is_ok()
}

/// The signature's bytes: the prefix removed, then hex (either case) or base64.
fn decode(rule: &SignatureRule, given: &str) -> Option<Vec<u8>> {
    let value = given.strip_prefix(rule.prefix.as_str())?.trim();
    match rule.encoding {
        Encoding::Hex => hex(value),
        Encoding::Base64 => BASE64.decode(value).ok(),
    }
}

fn hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| {
            let high = (pair[0] as char).to_digit(16)?;
            let low = (pair[1] as char).to_digit(16)?;
            u8::try_from(high * 16 + low).ok()
        })
        .collect()
}

/// The timestamp header is a whole number of seconds (or milliseconds) since the epoch, no
/// further from `now` than the allowed age either way.
fn check_age(
    rule: &SignatureRule,
    stamp: &str,
    now: Timestamp,
) -> std::result::Result<(), &'static str> {
    let number: i64 = stamp
        .parse()
        .map_err(|_| "the timestamp header is not a whole number")?;
    let seconds = match rule.timestamp_unit {
        TimestampUnit::Seconds => number,
        TimestampUnit::Milliseconds => number.div_euclid(1000),
    };
    let age = now.as_second().saturating_sub(seconds).unsigned_abs();
    if age > rule.max_age_seconds {
        return Err("its timestamp is outside the allowed age");
    }
    Ok(())
}
