//! Step 4 of a CRM call: what an answer means. A status and body become an [`Answer`] or an
//! error:
//! - 2xx is JSON (else `CrmBadResponse`);
//! - 401/403 `CrmAuth`;
//! - 404 is the caller's to decide ([`Answer::NotFound`]) when the body is the API's JSON and
//!   a wrong URL (`InvalidSetting`) when it is not;
//! - 429 `CrmRateLimited`, 5xx `CrmUnavailable`, both with the CRM's `Retry-After` in seconds
//!   (delay-seconds or an HTTP-date, at most a day) when it sent one;
//! - other 4xx and 3xx `CrmRejected` with the CRM's own message (see `message`).

use std::time::SystemTime;

use serde_json::Value;

use super::errors;
use super::message::{crm_message, looks_like_html, Masked};
use super::spec::{ApiSpec, Method};
use crate::error::{Error, Result};
use crate::text::printable;

/// Longest wait we take from a CRM's `Retry-After`: a day.
const MAX_RETRY_AFTER_SECS: u64 = 24 * 60 * 60;

/// A successful exchange: the API's JSON, or its "no such item".
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// 2xx with the parsed body (`Value::Null` for an empty body).
    Found(Value),
    /// 404 with a JSON body: the API exists and says the item does not.
    NotFound,
}

/// What we read from an answer's status line and headers.
#[derive(Debug, Clone, Default)]
pub(super) struct Head {
    pub status: u16,
    /// Where a redirect points, reduced by [`redirect_target`].
    pub location: Option<String>,
    /// `Retry-After` in seconds, see [`retry_after`].
    pub retry_after: Option<u64>,
}

impl Head {
    pub fn of<B>(response: &ureq::http::Response<B>) -> Head {
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok());
        Head {
            status: response.status().as_u16(),
            location: header("location").map(redirect_target),
            retry_after: header("retry-after").and_then(|v| retry_after(v, SystemTime::now())),
        }
    }
}

/// Turns a status and body into an answer or an error.
pub(super) fn interpret(
    spec: &ApiSpec,
    method: Method,
    head: &Head,
    body: &[u8],
    masked: &Masked,
) -> Result<Answer> {
    let crm = spec.crm.display_name();
    let status = head.status;
    match status {
        200..=299 => parse_json(spec, body).map(Answer::Found),
        300..=399 => Err(Error::CrmRejected {
            crm,
            status,
            detail: format!(
                "the API answered {} with a redirect{}; set {} to the address requests \
                 should go to, e.g. {}",
                method.as_str(),
                head.location
                    .as_ref()
                    .map(|l| format!(" to {l}"))
                    .unwrap_or_default(),
                spec.url_key(),
                spec.url_example()
            ),
        }),
        401 | 403 => Err(Error::CrmAuth { crm, status }),
        404 => {
            if serde_json::from_slice::<Value>(body).is_ok() {
                Ok(Answer::NotFound)
            } else {
                Err(errors::wrong_url(spec, 404))
            }
        }
        429 => Err(Error::CrmRateLimited {
            crm,
            retry_after: head.retry_after,
        }),
        500..=599 => Err(Error::CrmUnavailable {
            crm,
            detail: match crm_message(body, masked) {
                Some(message) => format!("HTTP {status}: {message}"),
                None => format!("HTTP {status}"),
            },
            retry_after: head.retry_after,
        }),
        400..=499 => Err(Error::CrmRejected {
            crm,
            status,
            detail: crm_message(body, masked)
                .unwrap_or_else(|| "no error message given".to_string()),
        }),
        _ => Err(errors::bad_response(
            spec.crm,
            &format!("unexpected HTTP status {status}"),
        )),
    }
}

/// Parses a 2xx body; an empty body is `Null`.
fn parse_json(spec: &ApiSpec, body: &[u8]) -> Result<Value> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(body).map_err(|e| {
        let detail = if looks_like_html(body) {
            format!(
                "an HTML page instead of JSON; check that {} is the API address (like {}) \
                 and that the API is enabled",
                spec.url_key(),
                spec.url_example()
            )
        } else {
            format!("invalid JSON at line {} column {}", e.line(), e.column())
        };
        errors::bad_response(spec.crm, &detail)
    })
}

/// A `Retry-After` value (RFC 9110, 10.2.3) in seconds: delay-seconds as given, an HTTP-date
/// counted from `now` (a date already past is 0). At most [`MAX_RETRY_AFTER_SECS`]; `None`
/// when it is neither form.
fn retry_after(value: &str, now: SystemTime) -> Option<u64> {
    let value = value.trim();
    let seconds = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Only digits, so a parse failure is an overflow: the cap applies.
        value.parse::<u64>().unwrap_or(u64::MAX)
    } else {
        let at = httpdate::parse_http_date(value).ok()?;
        at.duration_since(now).map_or(0, |wait| {
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    };
    Some(seconds.min(MAX_RETRY_AFTER_SECS))
}

/// Keeps scheme, host and path of a redirect target: enough to act on, no query strings.
fn redirect_target(location: &str) -> String {
    let end = location.find(['?', '#']).unwrap_or(location.len());
    let mut target = &location[..end];
    // Drop any user:password@ part.
    if let Some(scheme_end) = target.find("://") {
        let rest = &target[scheme_end + 3..];
        let host_end = rest.find('/').unwrap_or(rest.len());
        if let Some(at) = rest[..host_end].rfind('@') {
            return printable(
                &format!("{}{}", &target[..scheme_end + 3], &rest[at + 1..]),
                100,
            );
        }
    } else {
        target = target.trim();
    }
    printable(target, 100)
}

/// A JSON id in an API answer as a string (the rule of `text::contact_id`); `None` for
/// anything else.
pub fn id_string(value: &Value) -> Option<String> {
    crate::text::contact_id(value).ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm_kind::CrmKind;
    use serde_json::json;

    const SPEC: ApiSpec = ApiSpec {
        crm: CrmKind::Mautic,
    };

    #[test]
    fn statuses_map_to_errors() {
        let none = Masked::default();
        let call = |status, body: &str| {
            let head = Head {
                status,
                ..Head::default()
            };
            interpret(&SPEC, Method::Get, &head, body.as_bytes(), &none)
        };
        assert_eq!(
            call(200, "{\"a\":1}").unwrap(),
            Answer::Found(json!({"a":1}))
        );
        assert_eq!(call(204, "").unwrap(), Answer::Found(Value::Null));
        assert_eq!(call(401, "").unwrap_err().code(), "crm_auth_failed");
        assert_eq!(call(403, "").unwrap_err().code(), "crm_auth_failed");
        assert_eq!(call(404, "{\"errors\":[]}").unwrap(), Answer::NotFound);
        assert_eq!(call(404, "<html>").unwrap_err().code(), "invalid_setting");
        assert_eq!(call(429, "").unwrap_err().code(), "crm_rate_limited");
        assert_eq!(call(503, "").unwrap_err().code(), "crm_unavailable");
        assert_eq!(call(302, "").unwrap_err().code(), "crm_rejected");
        assert_eq!(call(200, "{nope").unwrap_err().code(), "crm_bad_response");
        let rejected = call(
            422,
            r#"{"errors":[{"message":"email: A valid email is required.","code":422}]}"#,
        )
        .unwrap_err();
        assert_eq!(
            rejected,
            Error::CrmRejected {
                crm: "Mautic",
                status: 422,
                detail: "email: A valid email is required".to_string()
            }
        );
    }

    #[test]
    fn rate_limits_and_outages_carry_retry_after() {
        let head = |status| Head {
            status,
            retry_after: Some(30),
            ..Head::default()
        };
        let none = Masked::default();
        let call = |status| interpret(&SPEC, Method::Get, &head(status), b"", &none);
        assert_eq!(
            call(429).unwrap_err(),
            Error::CrmRateLimited {
                crm: "Mautic",
                retry_after: Some(30)
            }
        );
        assert_eq!(
            call(503).unwrap_err(),
            Error::CrmUnavailable {
                crm: "Mautic",
                detail: "HTTP 503".to_string(),
                retry_after: Some(30)
            }
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(retry_after("120", now), Some(120));
        assert_eq!(retry_after(" 0 ", now), Some(0));
        assert_eq!(retry_after("Sun, 06 Nov 1994 08:51:37 GMT", now), Some(120));
        assert_eq!(retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now), Some(0));
        // A CRM cannot park us for longer than a day, however it asks.
        assert_eq!(retry_after("999999999", now), Some(86_400));
        assert_eq!(retry_after(&"9".repeat(40), now), Some(86_400));
        assert_eq!(
            retry_after("Fri, 01 Jan 2100 00:00:00 GMT", now),
            Some(86_400)
        );
        for bad in ["", "soon", "-5", "1.5", "+3", "Sun, 06 Nov 1994"] {
            assert_eq!(retry_after(bad, now), None, "{bad:?}");
        }
    }

    #[test]
    fn redirect_targets_lose_credentials_and_queries() {
        assert_eq!(
            redirect_target("https://u:p@h.example/s/login?x=1"),
            "https://h.example/s/login"
        );
    }
}
