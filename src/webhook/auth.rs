//! Authentication of a webhook: the access key (parameter or header) and, for Mautic, the
//! `Webhook-Signature` HMAC. All comparisons are constant time.
//!
//! First step of intake, before the payload is parsed. Keys and signatures never appear in
//! an error: the errors say only which check failed.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, URL_SAFE_NO_PAD};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::rngs::SysRng;
use rand::{Rng, TryRng};
use sha2::Sha256;

use crate::crm_kind::CrmKind;
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::settings::{Settings, SourceRef};
use crate::webhook::Request;

/// Query or form parameter carrying the access key (WP Fusion's name).
pub const ACCESS_KEY_PARAM: &str = "access_key";
/// Header carrying the access key, for senders that can set headers (keeps it out of URLs).
pub const ACCESS_KEY_HEADER: &str = "X-WPF-Access-Key";
/// Mautic's signature header.
pub const SIGNATURE_HEADER: &str = "Webhook-Signature";

/// Random bytes in a generated access key: 24 bytes = 192 bits, 32 base64url characters.
const ACCESS_KEY_BYTES: usize = 24;

/// Standard base64 (PHP's `base64_encode`), accepting the signature with or without padding.
const SIGNATURE_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Constant-time comparison; an empty expected key never matches.
///
/// Both keys are hashed to fixed-size SHA-256 digests first, so neither the content nor the
/// length of the expected key leaks through timing.
pub fn verify_access_key(given: &str, expected: &str) -> bool {
    Secret::new(expected).matches(given)
}

/// Checks a CRM's webhook signature over the raw body bytes.
///
/// Mautic: `signature` is base64(HMAC-SHA256(raw body, secret)). An empty secret or a
/// signature that is not base64 never matches. User.com has no signing scheme we know of, so
/// it never matches either. ActiveCampaign and MailerLite are read through their preset
/// mappings, which carry their signature rule (`mapping::signature`), never through here.
pub fn verify_signature(crm: CrmKind, raw_body: &[u8], signature: &str, secret: &str) -> bool {
    match crm {
        CrmKind::Mautic => verify_hmac_sha256(raw_body, signature, secret),
        CrmKind::UserEngage | CrmKind::ActiveCampaign | CrmKind::MailerLite => false,
    }
}

fn verify_hmac_sha256(raw_body: &[u8], signature: &str, secret: &str) -> bool {
    if secret.is_empty() {
        return false;
    }
    let Ok(expected) = SIGNATURE_BASE64.decode(signature.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(raw_body);
    mac.verify_slice(&expected).is_ok()
}

/// Authenticates a request against the settings: its access key selects the source it came
/// in through (none: `InvalidAccessKey`); then, for the first source reading Mautic with a
/// webhook secret set, the signature must match.
///
/// The key comes from the `access_key` parameter, else from the `X-WPF-Access-Key` header.
/// Returns the source and whether the payload's signature was verified here
/// (`payload::parse_authenticated` then lets no URL parameter redirect the signed data). A
/// further source's signature is its mapping's (`mapping::parse` checks it).
pub fn authenticate<'s>(
    request: &Request,
    settings: &'s Settings,
) -> Result<(SourceRef<'s>, bool)> {
    let source = source_of(request, settings).ok_or(Error::InvalidAccessKey)?;
    if let SourceRef::Further(_) = source {
        return Ok((source, false));
    }
    // The signature protects the payload's data, which apply trusts without asking the CRM.
    // A call without a payload (a campaign webhook or `test` with only URL parameters, a form
    // post) makes apply load the contact from the CRM's own API: the access key suffices.
    if settings.crm == CrmKind::Mautic
        && !settings.webhook_secret.is_empty()
        && crate::webhook::payload::has_payload(request)
    {
        let signature = request
            .header(SIGNATURE_HEADER)
            .map(str::trim)
            .filter(|signature| !signature.is_empty())
            .ok_or(Error::MissingSignature)?;
        if !verify_signature(
            settings.crm,
            &request.body,
            signature,
            settings.webhook_secret.expose(),
        ) {
            return Err(Error::InvalidSignature);
        }
        return Ok((source, true));
    }
    Ok((source, false))
}

/// The source the request's access key selects (`Settings::source_by_key`), or `None`: the
/// first step of `authenticate`, also used to name the source of a refused request's record.
pub fn source_of<'s>(request: &Request, settings: &'s Settings) -> Option<SourceRef<'s>> {
    let given = request
        .param(ACCESS_KEY_PARAM)
        .filter(|key| !key.is_empty())
        .or_else(|| request.header(ACCESS_KEY_HEADER).map(str::to_string))
        .unwrap_or_default();
    settings.source_by_key(&given)
}

/// A new access key: at least 160 bits from the OS random source, URL-safe characters only.
///
/// 24 random bytes as base64url without padding: 32 characters from `A-Z a-z 0-9 - _`.
pub fn generate_access_key() -> String {
    let mut bytes = [0u8; ACCESS_KEY_BYTES];
    if SysRng.try_fill_bytes(&mut bytes).is_err() {
        // The OS source failed (practically never happens); the thread RNG is a CSPRNG seeded
        // from the same source and may still hold good state.
        rand::rng().fill_bytes(&mut bytes);
    }
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Secret;
    use serde_json::{json, Value};

    /// Whether `authenticate` found the payload signed (the source it selects aside).
    fn found_signed(request: &Request, settings: &Settings) -> Result<bool> {
        authenticate(request, settings).map(|(_, signed)| signed)
    }

    const SECRET: &str = "any_secret_will_do";
    // The short inline vector of tests/fixtures/mautic/signatures.txt.
    const INLINE_BODY: &str = r#"{"mautic.lead_post_save_update":[{"contact":{"id":52,"fields":{"core":{"email":{"value":"john@doe.name"},"timezone1":{"value":"Europe\/Prague"}}}},"timestamp":"2017-06-19T09:32:24+00:00"}]}"#;
    const INLINE_SIGNATURE: &str = "ROe/5C4mI80KJqjXc0K0i5dEwZO2C3gUl67dgya5sJw=";

    fn make_settings(key: &str, crm: CrmKind, secret: &str) -> Settings {
        Settings {
            access_key: Secret::new(key),
            crm,
            webhook_secret: Secret::new(secret),
            ..Settings::default()
        }
    }

    fn request(query: Value, headers: &[(&str, &str)], body: &str) -> Request {
        Request::test_post(query, headers, body)
    }

    #[test]
    fn access_key_comparison() {
        assert!(verify_access_key("abc", "abc"));
        assert!(!verify_access_key("abd", "abc"));
        assert!(!verify_access_key("abc ", "abc"));
        assert!(!verify_access_key("ab", "abc"));
        assert!(!verify_access_key("", ""));
        assert!(!verify_access_key("anything", ""));
        assert!(
            !verify_access_key("0e1", "0e2"),
            "no PHP-style numeric comparison"
        );
    }

    #[test]
    fn inline_signature_vector() {
        let body = INLINE_BODY.as_bytes();
        assert!(verify_signature(
            CrmKind::Mautic,
            body,
            INLINE_SIGNATURE,
            SECRET
        ));
        // Without padding and with surrounding whitespace still matches.
        let unpadded = INLINE_SIGNATURE.trim_end_matches('=');
        assert!(verify_signature(CrmKind::Mautic, body, unpadded, SECRET));
        assert!(verify_signature(
            CrmKind::Mautic,
            body,
            " ROe/5C4mI80KJqjXc0K0i5dEwZO2C3gUl67dgya5sJw= ",
            SECRET
        ));
        assert!(!verify_signature(
            CrmKind::Mautic,
            body,
            INLINE_SIGNATURE,
            "other"
        ));
        assert!(!verify_signature(
            CrmKind::Mautic,
            body,
            INLINE_SIGNATURE,
            ""
        ));
        assert!(!verify_signature(
            CrmKind::Mautic,
            b"{}",
            INLINE_SIGNATURE,
            SECRET
        ));
        assert!(!verify_signature(
            CrmKind::Mautic,
            body,
            "not base64!!",
            SECRET
        ));
        assert!(!verify_signature(CrmKind::Mautic, body, "", SECRET));
        assert!(!verify_signature(
            CrmKind::UserEngage,
            body,
            INLINE_SIGNATURE,
            SECRET
        ));
        // Re-encoding the JSON (no `\/` escape) changes the bytes, so the signature fails.
        let reencoded = INLINE_BODY.replace("\\/", "/");
        assert!(!verify_signature(
            CrmKind::Mautic,
            reencoded.as_bytes(),
            INLINE_SIGNATURE,
            SECRET
        ));
    }

    #[test]
    fn authenticate_access_key_sources() {
        let settings = make_settings("k3y", CrmKind::UserEngage, "");
        let ok = request(json!({"access_key": "k3y"}), &[], "");
        assert_eq!(found_signed(&ok, &settings), Ok(false));
        let header = request(json!({}), &[("X-WPF-Access-Key", "k3y")], "");
        assert_eq!(found_signed(&header, &settings), Ok(false));
        let wrong = request(json!({"access_key": "nope"}), &[], "");
        assert_eq!(
            found_signed(&wrong, &settings),
            Err(Error::InvalidAccessKey)
        );
        let missing = request(json!({}), &[], "");
        let error = found_signed(&missing, &settings).unwrap_err();
        assert_eq!(error.code(), "invalid_access_key");
        assert_eq!(error.status(), 403);
        let empty_expected = make_settings("", CrmKind::Mautic, "");
        let empty = request(json!({"access_key": ""}), &[], "");
        assert_eq!(
            found_signed(&empty, &empty_expected),
            Err(Error::InvalidAccessKey)
        );
    }

    #[test]
    fn authenticate_signature() {
        let settings = make_settings("k3y", CrmKind::Mautic, SECRET);
        let signed = request(
            json!({"access_key": "k3y"}),
            &[("Webhook-Signature", INLINE_SIGNATURE)],
            INLINE_BODY,
        );
        assert_eq!(found_signed(&signed, &settings), Ok(true));

        let unsigned = request(json!({"access_key": "k3y"}), &[], INLINE_BODY);
        let error = found_signed(&unsigned, &settings).unwrap_err();
        assert_eq!(error.code(), "missing_signature");

        let bad = request(
            json!({"access_key": "k3y"}),
            &[("Webhook-Signature", "AAAA")],
            INLINE_BODY,
        );
        let error = found_signed(&bad, &settings).unwrap_err();
        assert_eq!(error.code(), "invalid_signature");
        assert!(!error.to_string().contains("AAAA"));

        // A wrong key fails before the signature is looked at.
        let wrong_key = request(json!({"access_key": "x"}), &[], INLINE_BODY);
        assert_eq!(
            found_signed(&wrong_key, &settings),
            Err(Error::InvalidAccessKey)
        );

        // No secret configured: no signature needed.
        let no_secret = make_settings("k3y", CrmKind::Mautic, "");
        assert_eq!(found_signed(&unsigned, &no_secret), Ok(false));
    }

    #[test]
    fn generated_keys() {
        let first = generate_access_key();
        let second = generate_access_key();
        assert_eq!(first.len(), 32);
        assert_ne!(first, second);
        assert!(first
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_eq!(URL_SAFE_NO_PAD.decode(&first).map(|b| b.len()), Ok(24));
    }
}
