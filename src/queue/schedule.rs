//! The retry schedule: after a failed apply, when (or whether) a queued event is tried again.
//! Pure: the error's retry class, the event's attempt count and `retry_delays` decide.

use std::time::Duration;

use super::UnixTime;
use crate::error::Retry;

/// What becomes of an event whose apply failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Due again at this time.
    RetryAt(UnixTime),
    /// Given up: the administrator sees it failed, and may retry or discard it.
    Failed,
}

/// The next step for an event that failed on its `attempts`-th try (1 for the first).
///
/// A `Never` error fails at once. A `Later` error waits `delays[attempts - 1]`, or the
/// error's own `after` (a CRM's `Retry-After`, a busy contact) when that is longer; once
/// every delay was waited (`attempts > delays.len()`), the event fails.
pub fn next_step(retry: Retry, attempts: u32, delays: &[Duration], now: UnixTime) -> Next {
    let Retry::Later { after } = retry else {
        return Next::Failed;
    };
    let index = attempts.max(1) as usize - 1;
    let Some(delay) = delays.get(index) else {
        return Next::Failed;
    };
    let wait = after.map_or(*delay, |after| after.max(*delay));
    let wait = i64::try_from(wait.as_secs()).unwrap_or(i64::MAX);
    Next::RetryAt(now.saturating_add(wait))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(list: &[u64]) -> Vec<Duration> {
        list.iter().map(|s| Duration::from_secs(*s)).collect()
    }

    const LATER: Retry = Retry::Later { after: None };

    #[test]
    fn a_never_error_fails_at_once() {
        assert_eq!(next_step(Retry::Never, 1, &secs(&[30]), 1000), Next::Failed);
    }

    #[test]
    fn later_errors_follow_the_delays_then_fail() {
        let delays = secs(&[30, 120, 600]);
        assert_eq!(next_step(LATER, 1, &delays, 1000), Next::RetryAt(1030));
        assert_eq!(next_step(LATER, 2, &delays, 1000), Next::RetryAt(1120));
        assert_eq!(next_step(LATER, 3, &delays, 1000), Next::RetryAt(1600));
        assert_eq!(next_step(LATER, 4, &delays, 1000), Next::Failed);
        assert_eq!(next_step(LATER, u32::MAX, &delays, 1000), Next::Failed);
        // Attempt 0 is read as the first.
        assert_eq!(next_step(LATER, 0, &delays, 1000), Next::RetryAt(1030));
    }

    #[test]
    fn errors_are_scheduled_by_their_retry_class() {
        use crate::error::Error;
        let delays = secs(&[30, 120]);
        let step = |error: Error| next_step(error.retry(), 1, &delays, 0);
        assert_eq!(step(Error::MissingContactId), Next::Failed);
        assert_eq!(
            step(Error::ContactWithoutEmail {
                contact_id: "1".into()
            }),
            Next::Failed
        );
        assert_eq!(
            step(Error::StoredEventUnreadable {
                id: 1,
                detail: "x".into()
            }),
            Next::Failed
        );
        assert_eq!(
            step(Error::ContactBusy {
                contact_id: "1".into()
            }),
            Next::RetryAt(30)
        );
        assert_eq!(step(Error::Site("down".into())), Next::RetryAt(30));
        assert_eq!(
            step(Error::CrmRateLimited {
                crm: "Mautic",
                retry_after: Some(600)
            }),
            Next::RetryAt(600)
        );
        assert_eq!(
            step(Error::CrmUnavailable {
                crm: "Mautic",
                detail: "x".into(),
                retry_after: None
            }),
            Next::RetryAt(30)
        );
    }

    #[test]
    fn a_retry_after_is_a_minimum() {
        let delays = secs(&[30, 120]);
        let after = |s| Retry::Later {
            after: Some(Duration::from_secs(s)),
        };
        assert_eq!(next_step(after(90), 1, &delays, 0), Next::RetryAt(90));
        assert_eq!(next_step(after(5), 1, &delays, 0), Next::RetryAt(30));
        assert_eq!(next_step(after(5), 2, &delays, 0), Next::RetryAt(120));
        assert_eq!(next_step(after(9000), 3, &delays, 0), Next::Failed);
        assert_eq!(
            next_step(after(u64::MAX), 1, &delays, 5),
            Next::RetryAt(i64::MAX)
        );
    }
}
