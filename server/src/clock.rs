//! The time rules are decided by: quiet hours, edit windows, reminder spacing.
//!
//! Real time in production; a test sets it (and moves it forward) to check rules that depend on
//! the hour without waiting for it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use chrono::{DateTime, TimeDelta, Utc};

/// Where "now" comes from. Cloning shares the same clock.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Set once a test has frozen the clock.
    frozen: AtomicBool,
    /// Milliseconds since the epoch while frozen.
    at: AtomicI64,
}

impl Clock {
    /// The system's real time (until a test freezes it).
    pub fn system() -> Clock {
        Clock::default()
    }

    /// A clock standing at `at` until it is set or advanced.
    pub fn manual(at: DateTime<Utc>) -> Clock {
        let clock = Clock::default();
        clock.set(at);
        clock
    }

    pub fn now(&self) -> DateTime<Utc> {
        if !self.inner.frozen.load(Ordering::Acquire) {
            return Utc::now();
        }
        DateTime::from_timestamp_millis(self.inner.at.load(Ordering::Acquire)).unwrap_or_default()
    }

    /// Freeze the clock at `at` (tests only: nothing in the server calls this).
    pub fn set(&self, at: DateTime<Utc>) {
        self.inner
            .at
            .store(at.timestamp_millis(), Ordering::Release);
        self.inner.frozen.store(true, Ordering::Release);
    }

    /// Move a frozen clock forward.
    pub fn advance(&self, by: TimeDelta) {
        self.inner
            .at
            .fetch_add(by.num_milliseconds(), Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_stands_still_until_moved() {
        let start = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let clock = Clock::manual(start);
        assert_eq!(clock.now(), start);
        clock.clone().advance(TimeDelta::minutes(5));
        assert_eq!(clock.now(), start + TimeDelta::minutes(5));
    }
}
