//! Shared HTTP plumbing for the CRM clients: one ureq agent with timeouts, and the mapping
//! from HTTP outcomes to `Error` (401/403 -> CrmAuth, 429 -> CrmRateLimited, 5xx and
//! transport failures -> CrmUnavailable, ...).
