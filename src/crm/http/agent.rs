//! Step 3 of a CRM call: the ureq agent a [`super::Client`] sends with, and its proxy policy.
//!
//! One agent per client, built from the settings without touching the network:
//! `settings.crm_timeout` is both the connect and the whole-call (global) timeout, redirects
//! are not followed, statuses are answers (not errors), and the proxy comes from the
//! environment except for the httpoxy case below.

use std::time::Duration;

/// The agent for one client.
pub(super) fn agent(timeout: Duration) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .timeout_connect(Some(timeout))
        .http_status_as_error(false)
        // A redirect would drop our Authorization header (ureq's safe default) and turn a
        // PATCH into a GET; an error naming the problem helps more.
        .max_redirects(0)
        .proxy(environment_proxy())
        .user_agent(format!("wpf-bridge/{}", crate::VERSION))
        .build();
    ureq::Agent::new_with_config(config)
}

/// The proxy from the environment (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`, ...), as ureq
/// reads it, except under CGI: there a request's `Proxy:` header becomes `HTTP_PROXY`
/// ("httpoxy"), so a webhook caller could route our authenticated API calls through its
/// server. Like Go and curl, we then ignore `HTTP_PROXY` (the other variables still count).
fn environment_proxy() -> Option<ureq::Proxy> {
    if ignores_cgi_proxy(|name| std::env::var(name).ok()) {
        return None;
    }
    ureq::Proxy::try_from_env()
}

/// True when ureq would take its proxy from `HTTP_PROXY` while we run as a CGI program.
fn ignores_cgi_proxy(var: impl Fn(&str) -> Option<String>) -> bool {
    let set = |name: &str| var(name).is_some_and(|v| !v.trim().is_empty());
    let under_cgi = var("REQUEST_METHOD").is_some() || var("GATEWAY_INTERFACE").is_some();
    let earlier = ["ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy"];
    under_cgi && set("HTTP_PROXY") && !earlier.iter().any(|name| set(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgi_http_proxy_is_ignored() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        const ATTACK: &[(&str, &str)] =
            &[("REQUEST_METHOD", "POST"), ("HTTP_PROXY", "http://evil:1")];
        assert!(ignores_cgi_proxy(env(ATTACK)));
        assert!(!ignores_cgi_proxy(env(&[(
            "HTTP_PROXY",
            "http://proxy:3128"
        )])));
        const BOTH: &[(&str, &str)] = &[
            ("GATEWAY_INTERFACE", "CGI/1.1"),
            ("HTTP_PROXY", "http://evil:1"),
            ("HTTPS_PROXY", "http://proxy:3128"),
        ];
        assert!(!ignores_cgi_proxy(env(BOTH)));
    }
}
