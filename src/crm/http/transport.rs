//! Step 5 of a CRM call: a failure before any answer (timeout, refused connection, DNS, TLS,
//! an answer that is not HTTP) becomes an error whose detail is a fixed phrase. ureq's own
//! messages can contain URLs (and proxy URLs can contain credentials), so they are never
//! passed on.

use std::time::Duration;

use super::errors;
use super::spec::{ApiSpec, MAX_RESPONSE_BYTES};
use crate::error::Error;

/// Maps a ureq failure (sending, or reading the answer's body) to an error.
pub(super) fn error(spec: &ApiSpec, timeout: Duration, error: &ureq::Error) -> Error {
    let crm = spec.crm.display_name();
    let unavailable = |detail: String| Error::CrmUnavailable {
        crm,
        detail,
        retry_after: None,
    };
    let bad_response = |detail: &str| errors::bad_response(spec.crm, detail);
    match error {
        ureq::Error::Timeout(_) => unavailable(format!(
            "no answer within {} (timeout)",
            describe_duration(timeout)
        )),
        ureq::Error::Io(io) if is_dns_failure(io) => host_not_found(spec),
        ureq::Error::Io(io) => unavailable(describe_io(io.kind(), timeout)),
        ureq::Error::ConnectionFailed => unavailable("the connection failed".to_string()),
        ureq::Error::HostNotFound => host_not_found(spec),
        ureq::Error::BadUri(_) | ureq::Error::Http(_) => Error::setting(
            spec.url_key(),
            format!(
                "it is not a usable URL; it should look like {}",
                spec.url_example()
            ),
        ),
        ureq::Error::RequireHttpsOnly(_) | ureq::Error::TlsRequired => {
            unavailable("the connection requires HTTPS".to_string())
        }
        ureq::Error::InvalidProxyUrl | ureq::Error::ConnectProxyFailed(_) => unavailable(
            "the HTTP proxy from the environment (HTTPS_PROXY, HTTP_PROXY) failed".to_string(),
        ),
        ureq::Error::BodyExceedsLimit(_) => bad_response(&format!(
            "the answer is larger than {} MiB",
            MAX_RESPONSE_BYTES / (1024 * 1024)
        )),
        ureq::Error::LargeResponseHeader(_, _) => {
            bad_response("the answer's headers are too large")
        }
        ureq::Error::Protocol(_) => unavailable(
            "the answer was not valid HTTP (does the URL start with the right http:// or \
             https://?)"
                .to_string(),
        ),
        ureq::Error::Decompress(_, _) => bad_response("the answer's compressed body is corrupt"),
        ureq::Error::BodyStalled => {
            unavailable("the answer stopped arriving before it was complete".to_string())
        }
        // TLS variants exist only with some ureq features; their messages name
        // certificates, not URLs, but a fixed phrase is enough to act on.
        other => {
            let text = other.to_string().to_ascii_lowercase();
            if text.contains("tls") || text.contains("certificate") || text.contains("pem") {
                unavailable(
                    "the TLS connection failed (certificate or protocol problem)".to_string(),
                )
            } else {
                unavailable("the HTTP request failed".to_string())
            }
        }
    }
}

fn host_not_found(spec: &ApiSpec) -> Error {
    Error::CrmUnavailable {
        crm: spec.crm.display_name(),
        detail: format!(
            "its host name could not be resolved; check {}",
            spec.url_key()
        ),
        retry_after: None,
    }
}

fn describe_duration(duration: Duration) -> String {
    let ms = duration.as_millis();
    if ms >= 1000 && ms % 1000 == 0 {
        format!("{} s", ms / 1000)
    } else {
        format!("{ms} ms")
    }
}

fn describe_io(kind: std::io::ErrorKind, timeout: Duration) -> String {
    use std::io::ErrorKind;
    match kind {
        ErrorKind::ConnectionRefused => {
            "the connection was refused (is the URL right and the server up?)".to_string()
        }
        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe => {
            "the connection was closed unexpectedly".to_string()
        }
        ErrorKind::UnexpectedEof => {
            "the connection was closed before the answer was complete".to_string()
        }
        ErrorKind::TimedOut | ErrorKind::WouldBlock => {
            format!("no answer within {} (timeout)", describe_duration(timeout))
        }
        other => format!("network error ({other:?})"),
    }
}

/// Name resolution failures reach us as uncategorised I/O errors; their text names no URL.
fn is_dns_failure(error: &std::io::Error) -> bool {
    let text = error.to_string().to_ascii_lowercase();
    [
        "lookup",
        "resolve",
        "name or service not known",
        "nodename nor servname",
    ]
    .iter()
    .any(|needle| text.contains(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_failures_are_recognised() {
        let dns = std::io::Error::other(
            "failed to lookup address information: Name or service not known",
        );
        assert!(is_dns_failure(&dns));
        assert!(!is_dns_failure(&std::io::Error::other("broken pipe")));
    }
}
