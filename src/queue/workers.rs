//! The numbers that run the drain around a request: how the plugin's triggers bound a drain
//! (a draining request's rounds and the hand-over of a drain whose budget ended, the command
//! line's `run`), the resident worker's default bounds and heartbeat ages, and the refusal
//! counters the minute tick folds into the log. The plugin only loops, sleeps and writes rows;
//! it reads every number here through `wpf_bridge_rules()` (`worker`, `resident`, `refusals`)
//! and keeps no copy. A leaf of `queue`: it uses no other file.

use std::time::Duration;

/// How a drain after a webhook's answer, the minute tick and the command line are bounded.
pub mod drains {
    use super::Duration;

    /// Contacts one drain takes at most; the time budget usually ends it first.
    pub const MAX_CONTACTS: u64 = 1000;

    /// A draining request waits this long between rounds, holding the lease, so a burst's
    /// webhooks are applied together. Measured on the webhook benchmark (README, "Measured").
    pub const ROUND_PAUSE: Duration = Duration::from_secs(1);

    /// How long the one-time token of a hand-over request (a drain whose budget ended with
    /// events due, and work done, starts the next drain at once) stays valid.
    pub const HANDOVER_TOKEN_TTL: Duration = Duration::from_secs(60);

    /// The budget of the command line's `run` (`--budget`) when none is given.
    pub const RUN_BUDGET: Duration = Duration::from_secs(60);
}

/// `run --loop`: the resident worker's default bounds (it ends at one, so its supervisor
/// starts a fresh process), its rounds and its heartbeat.
pub mod resident {
    use super::Duration;

    /// Contacts it applies before it ends (`--max-contacts`).
    pub const MAX_CONTACTS: u64 = 10_000;

    /// Memory in MiB it may hold before it ends (`--max-memory`).
    pub const MAX_MEMORY_MIB: u64 = 256;

    /// How long it runs before it ends (`--max-seconds`).
    pub const MAX_LIFETIME: Duration = Duration::from_secs(3600);

    /// How long it sleeps when nothing is due (`--idle-sleep`).
    pub const IDLE_SLEEP: Duration = Duration::from_secs(1);

    /// How long one drain call may take before the loop looks at its bounds again.
    pub const ROUND: Duration = Duration::from_secs(10);

    /// How often it writes its heartbeat.
    pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(5);

    /// A running worker's heartbeat older than this means it is gone (six missed beats).
    pub const HEARTBEAT_STALE: Duration = Duration::from_secs(30);

    /// A worker that stopped and was not followed by another within this long was not
    /// restarted: Site Health says so.
    pub const RESTART_WITHIN: Duration = Duration::from_secs(60);
}

/// The counters of requests refused before authentication: one counter per bucket of time,
/// reason and source, in a table held in the database server's memory.
pub mod refusals {
    use super::Duration;

    /// The time each counter covers: one minute, the tick that folds them into the log.
    pub const BUCKET: Duration = Duration::from_secs(60);

    /// Counters the table holds at most; past that, refusals of new buckets go uncounted
    /// until the next fold.
    pub const MAX_BUCKETS: u64 = 20_000;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_heartbeat_is_stale_only_after_several_missed_beats() {
        assert!(resident::HEARTBEAT_STALE >= resident::HEARTBEAT_EVERY * 3);
        assert!(resident::RESTART_WITHIN > resident::HEARTBEAT_STALE);
        // A round ends before the heartbeat could be called stale.
        assert!(resident::ROUND < resident::HEARTBEAT_STALE);
    }

    #[test]
    fn the_bounds_are_the_documented_numbers() {
        assert_eq!(drains::MAX_CONTACTS, 1000);
        assert_eq!(drains::ROUND_PAUSE, Duration::from_secs(1));
        assert_eq!(drains::HANDOVER_TOKEN_TTL, Duration::from_secs(60));
        assert_eq!(drains::RUN_BUDGET, Duration::from_secs(60));
        assert_eq!(
            (
                resident::MAX_CONTACTS,
                resident::MAX_MEMORY_MIB,
                resident::MAX_LIFETIME.as_secs(),
                resident::IDLE_SLEEP.as_secs()
            ),
            (10_000, 256, 3600, 1)
        );
        assert_eq!(refusals::BUCKET.as_secs(), 60);
        assert_eq!(refusals::MAX_BUCKETS, 20_000);
    }
}
