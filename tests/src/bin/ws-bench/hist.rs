//! A latency histogram many tasks record into at once: log-linear buckets of microseconds
//! (exact below 128 µs, then 64 buckets per power of two, so a percentile is off by at most
//! 1.6 %), counted with relaxed atomics.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use serde_json::{Value, json};

const LINEAR: u64 = 128;
const SUB_BITS: u32 = 6;
const SUB: u64 = 1 << SUB_BITS;
/// Enough for 2^40 µs (12 days).
const BUCKETS: usize = LINEAR as usize + 34 * SUB as usize;

pub struct Hist {
    buckets: Box<[AtomicU64]>,
    count: AtomicU64,
    sum_us: AtomicU64,
    max_us: AtomicU64,
}

impl Default for Hist {
    fn default() -> Self {
        Self::new()
    }
}

fn index(us: u64) -> usize {
    if us < LINEAR {
        return us as usize;
    }
    let exp = 63 - us.leading_zeros(); // ≥ 7
    let shift = exp - SUB_BITS;
    let mantissa = (us >> shift) - SUB; // 0..64
    let i = LINEAR as usize + (exp as usize - 7) * SUB as usize + mantissa as usize;
    i.min(BUCKETS - 1)
}

/// The highest value a bucket holds.
fn upper(i: usize) -> u64 {
    if (i as u64) < LINEAR {
        return i as u64;
    }
    let rest = i - LINEAR as usize;
    let exp = (rest / SUB as usize) as u32 + 7;
    let mantissa = (rest % SUB as usize) as u64 + SUB;
    let shift = exp - SUB_BITS;
    ((mantissa + 1) << shift) - 1
}

impl Hist {
    pub fn new() -> Self {
        Self {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum_us: AtomicU64::new(0),
            max_us: AtomicU64::new(0),
        }
    }

    pub fn record_us(&self, us: u64) {
        self.buckets[index(us)].fetch_add(1, Relaxed);
        self.count.fetch_add(1, Relaxed);
        self.sum_us.fetch_add(us, Relaxed);
        self.max_us.fetch_max(us, Relaxed);
    }

    pub fn record(&self, d: Duration) {
        self.record_us(d.as_micros().min(u128::from(u64::MAX)) as u64);
    }

    pub fn count(&self) -> u64 {
        self.count.load(Relaxed)
    }

    pub fn reset(&self) {
        for b in self.buckets.iter() {
            b.store(0, Relaxed);
        }
        self.count.store(0, Relaxed);
        self.sum_us.store(0, Relaxed);
        self.max_us.store(0, Relaxed);
    }

    /// Nearest-rank percentile in milliseconds (the upper edge of its bucket, never above the
    /// largest value recorded); NaN when empty.
    pub fn percentile_ms(&self, p: f64) -> f64 {
        let count = self.count();
        if count == 0 {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * count as f64).ceil().max(1.0) as u64;
        let max = self.max_us.load(Relaxed);
        let mut seen = 0;
        for (i, b) in self.buckets.iter().enumerate() {
            seen += b.load(Relaxed);
            if seen >= rank {
                return upper(i).min(max) as f64 / 1000.0;
            }
        }
        max as f64 / 1000.0
    }

    pub fn max_ms(&self) -> f64 {
        if self.count() == 0 {
            return f64::NAN;
        }
        self.max_us.load(Relaxed) as f64 / 1000.0
    }

    pub fn mean_ms(&self) -> f64 {
        let count = self.count();
        if count == 0 {
            return f64::NAN;
        }
        self.sum_us.load(Relaxed) as f64 / count as f64 / 1000.0
    }

    /// `{count, p50_ms, p90_ms, p99_ms, p999_ms, max_ms, mean_ms}`.
    pub fn summary(&self) -> Value {
        json!({
            "count": self.count(),
            "p50_ms": round3(self.percentile_ms(50.0)),
            "p90_ms": round3(self.percentile_ms(90.0)),
            "p99_ms": round3(self.percentile_ms(99.0)),
            "p999_ms": round3(self.percentile_ms(99.9)),
            "max_ms": round3(self.max_ms()),
            "mean_ms": round3(self.mean_ms()),
        })
    }
}

/// Exact nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// A number for the JSON report: three decimals, or null when not a number.
pub fn round3(x: f64) -> Value {
    if x.is_finite() {
        json!((x * 1000.0).round() / 1000.0)
    } else {
        Value::Null
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_values_in_order() {
        let mut last = 0;
        for us in [0u64, 1, 127, 128, 129, 1000, 50_000, 1 << 30, 1 << 39] {
            let i = index(us);
            assert!(i >= last);
            last = i;
            assert!(upper(i) >= us, "{us}: bucket {i} ends at {}", upper(i));
            assert!(upper(i) as f64 <= us as f64 * 1.016 + 1.0);
        }
    }

    #[test]
    fn percentiles() {
        let h = Hist::new();
        for us in 1..=1000 {
            h.record_us(us * 100);
        }
        let p99 = h.percentile_ms(99.0);
        assert!((99.0..=100.6).contains(&p99), "{p99}");
        assert_eq!(h.max_ms(), 100.0);
    }
}
