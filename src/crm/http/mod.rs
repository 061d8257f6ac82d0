//! HTTP plumbing shared by the CRM clients (`mautic.rs`, `userengage.rs`): every call the
//! apply step makes to a CRM's API goes through [`Client::call`].
//!
//! One call, in order, and the file that decides each step:
//! 0. `spec`: what every step knows of the call (the API's [`ApiSpec`], the [`Method`], the
//!    largest answer read); it uses no file beside it;
//! 1. `checks`: before a client exists, its settings and arguments are checked and shaped for
//!    a URL or a header (base URLs, header-safe credentials, numeric ids, searchable emails,
//!    percent-encoding);
//! 2. `client`: the [`Client`] (endpoint, agent, headers) sends the request;
//! 3. `agent`: how the agent behaves (timeouts, no redirects, the proxy and its httpoxy rule);
//! 4. `answer`: a status and body become an [`Answer`] or an error (with `Retry-After`);
//! 5. `transport`: a failure before any answer (timeout, refused, DNS, TLS) becomes an error;
//! 6. `message`: the CRM's own error message, found, truncated and masked;
//! 7. `errors`: the error constructors the clients and the steps above share.
//!
//! Files here depend one way (`tests/layers.rs` checks it): `spec`, `agent` and `message`
//! use no file beside them, `errors` uses `spec`; `checks`, `answer` and `transport` use
//! those; `client`, on top, uses the steps it runs.
//!
//! Error details never carry URLs, header values or the values we sent: only fixed phrases and
//! the CRM's (truncated, sanitised) error message, from which the values we sent are masked.

mod agent;
mod answer;
mod checks;
mod client;
mod errors;
mod message;
mod spec;
mod transport;

pub use answer::{id_string, Answer};
pub use checks::{
    authorization, base_url, basic_authorization, contact_id_segment, encode_component,
};
pub use client::{Client, Endpoint};
pub use errors::{bad_response, contact_not_found};
pub use spec::{ApiSpec, Method};
