//! The work one request may do: at most `max_events` contact events (more is refused whole,
//! 413 `too_many_events`, before anything is applied), and a time budget (`time_budget`
//! seconds) checked between events.
//!
//! Apply: `apply` starts a `Budget`, checks the event count, and asks `spent` before each
//! event after the first. A spent budget stops the batch cleanly between two events and
//! answers 503 `time_budget_exceeded` with the results of the events done and the contact
//! ids still `pending`, so the CRM retries; its retry re-applies the done events (each step
//! is idempotent) or skips them as stale. At least one event runs per request, so retries
//! always make progress. One event can outlast the budget by its own CRM calls (each bounded
//! by `crm_timeout`) and lock wait.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::{error_response, EventResult, Response};
use crate::error::{Error, Result};
use crate::settings::Settings;
use crate::site::{LogLevel, Site};
use crate::webhook::Webhook;

/// A request's budget, started when apply begins.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    deadline: Instant,
    max_events: usize,
}

impl Budget {
    pub fn start(settings: &Settings) -> Self {
        Budget::with(settings.time_budget, settings.max_events)
    }

    pub fn with(time: Duration, max_events: usize) -> Self {
        Budget {
            deadline: Instant::now() + time,
            max_events,
        }
    }

    /// `TooManyEvents` when a webhook holds more events than a request may apply.
    pub fn check_events(&self, count: usize) -> Result<()> {
        if count > self.max_events {
            return Err(Error::TooManyEvents {
                count,
                limit: self.max_events,
            });
        }
        Ok(())
    }

    /// Whether the time is up.
    pub fn spent(&self) -> bool {
        Instant::now() >= self.deadline
    }
}

/// The answer when the time ran out: the results so far and the contact ids left.
pub fn exceeded(webhook: &Webhook, results: &[EventResult], site: &dyn Site) -> Response {
    let error = Error::TimeBudgetExceeded {
        done: results.len(),
        total: webhook.events.len(),
    };
    site.log(LogLevel::Error, &format!("{error} [{}]", error.code()));
    let mut response = error_response(&error, Some(webhook), results);
    let pending: Vec<Value> = webhook.events[results.len().min(webhook.events.len())..]
        .iter()
        .map(|event| Value::String(event.contact_id.clone()))
        .collect();
    if let Some(body) = response.body.as_object_mut() {
        body.insert("pending".into(), Value::Array(pending));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_count_over_the_limit_is_413() {
        let budget = Budget::with(Duration::from_secs(5), 100);
        assert!(budget.check_events(100).is_ok());
        let error = budget.check_events(101).unwrap_err();
        assert_eq!(error.code(), "too_many_events");
        assert_eq!(error.status(), 413);
        assert!(!budget.spent());
        assert!(Budget::with(Duration::ZERO, 1).spent());
    }
}
