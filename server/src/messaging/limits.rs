//! Per-sender rate limits (token buckets, per node): `KONGJIAN_MESSAGE_RATE` messages a minute
//! and `KONGJIAN_NOTICE_RATE` notices an hour, each allowed in a burst.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::{AppError, ErrorCode};
use crate::state::AppState;

#[derive(Debug)]
pub struct Bucket {
    tokens: f64,
    at: Instant,
}

/// (kind, person) → bucket. Checked with every message, so a plain bounded map (no expiry
/// bookkeeping per read); past 200,000 senders on one node the least used buckets are dropped
/// and start full again.
pub type Buckets = quick_cache::sync::Cache<(u8, String), Arc<Mutex<Bucket>>>;

pub fn buckets() -> Buckets {
    quick_cache::sync::Cache::new(200_000)
}

/// Take one token from a bucket of `capacity` that refills completely every `period`.
fn take(
    buckets: &Buckets,
    kind: u8,
    person: &str,
    capacity: u32,
    period: Duration,
    now: Instant,
) -> Result<(), u64> {
    let key = (kind, person.to_owned());
    let bucket = buckets
        .get_or_insert_with(&key, || {
            Ok::<_, std::convert::Infallible>(Arc::new(Mutex::new(Bucket {
                tokens: f64::from(capacity),
                at: now,
            })))
        })
        .unwrap_or_else(|never| match never {});
    let mut b = bucket
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let per_second = f64::from(capacity) / period.as_secs_f64();
    let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
    b.tokens = (b.tokens + elapsed * per_second).min(f64::from(capacity));
    b.at = now;
    if b.tokens >= 1.0 {
        b.tokens -= 1.0;
        Ok(())
    } else {
        Err(((1.0 - b.tokens) / per_second).ceil() as u64)
    }
}

fn limited(seconds: u64) -> AppError {
    AppError::new(ErrorCode::RateLimited).with_arg("seconds", seconds.max(1).to_string())
}

pub fn check_message(state: &AppState, person: &str) -> Result<(), AppError> {
    let rate = state.config.message_rate;
    take(
        &state.messaging.limits,
        0,
        person,
        rate,
        Duration::from_secs(60),
        Instant::now(),
    )
    .map_err(limited)
}

pub fn check_notice(state: &AppState, person: &str) -> Result<(), AppError> {
    let rate = state.config.notice_rate;
    take(
        &state.messaging.limits,
        1,
        person,
        rate,
        Duration::from_secs(3600),
        Instant::now(),
    )
    .map_err(limited)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_then_the_sender_waits() {
        let buckets = buckets();
        let now = Instant::now();
        for _ in 0..3 {
            assert!(take(&buckets, 0, "p", 3, Duration::from_secs(60), now).is_ok());
        }
        let wait = take(&buckets, 0, "p", 3, Duration::from_secs(60), now);
        assert_eq!(wait, Err(20));
        // Someone else is not held back.
        assert!(take(&buckets, 0, "q", 3, Duration::from_secs(60), now).is_ok());
        // Twenty seconds later one more fits.
        let later = now + Duration::from_secs(20);
        assert!(take(&buckets, 0, "p", 3, Duration::from_secs(60), later).is_ok());
    }
}
