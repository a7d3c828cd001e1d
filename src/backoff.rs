//! How long to wait before the next attempt: exponential with jitter, Retry-After honoured,
//! every wait capped.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

pub struct Backoff {
    initial: Duration,
    max: Duration,
    /// xorshift state, seeded per handle from std's per-process random keys: no global state.
    rng: u64,
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Self {
        let seed = RandomState::new().build_hasher().finish() | 1;
        Backoff { initial, max, rng: seed }
    }

    /// The wait after failed attempt number `attempt` (1-based). A Retry-After from the
    /// server is a floor, still capped at the maximum.
    pub fn wait(&mut self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let exp = self.initial.saturating_mul(1u32 << (attempt - 1).min(20)).min(self.max);
        // Equal jitter: half fixed, half random, so retries of many clients spread out.
        let half = exp / 2;
        let jitter = if half.is_zero() { Duration::ZERO } else { half.mul_f64(self.next_unit()) };
        let wait = half + jitter;
        match retry_after {
            Some(ra) => wait.max(ra).min(self.max),
            None => wait,
        }
    }

    fn next_unit(&mut self) -> f64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        (self.rng >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Retry-After as delay-seconds. The HTTP-date form is ignored (exponential backoff applies).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_with_jitter_and_stays_capped() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_millis(1000));
        for _ in 0..100 {
            let w1 = b.wait(1, None);
            assert!(w1 >= Duration::from_millis(50) && w1 <= Duration::from_millis(100), "{w1:?}");
            let w3 = b.wait(3, None);
            assert!(w3 >= Duration::from_millis(200) && w3 <= Duration::from_millis(400), "{w3:?}");
            assert!(b.wait(30, None) <= Duration::from_millis(1000));
        }
    }

    #[test]
    fn retry_after_is_a_capped_floor() {
        let mut b = Backoff::new(Duration::from_millis(10), Duration::from_millis(5000));
        assert_eq!(b.wait(1, Some(Duration::from_secs(2))), Duration::from_secs(2));
        assert_eq!(b.wait(1, Some(Duration::from_secs(3600))), Duration::from_millis(5000));
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}
