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

/// Retry-After as delay-seconds or as an HTTP-date (IMF-fixdate, "Wed, 21 Oct 2015 07:28:00
/// GMT", the form RFC 9110 requires senders to use); a date in the past means no wait.
/// Anything else is ignored and exponential backoff applies.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits for u64 is still "wait at least this long": the cap applies.
        return Some(value.parse::<u64>().map_or(Duration::MAX, Duration::from_secs));
    }
    let at = parse_imf_fixdate(value)?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(at.saturating_sub(now)))
}

/// Seconds since the Unix epoch of an IMF-fixdate.
fn parse_imf_fixdate(s: &str) -> Option<u64> {
    let (_weekday, rest) = s.split_once(", ")?;
    let mut it = rest.split(' ');
    let (day, month, year, time, zone) = (it.next()?, it.next()?, it.next()?, it.next()?, it.next()?);
    if zone != "GMT" || it.next().is_some() || day.len() != 2 || year.len() != 4 {
        return None;
    }
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let month = MONTHS.iter().position(|m| *m == month)? as i64 + 1;
    let (day, year): (i64, i64) = (day.parse().ok()?, year.parse().ok()?);
    let hms: Vec<u64> = time.split(':').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let [h, m, sec] = hms[..] else { return None };
    if !(1..=31).contains(&day) || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    // Days from 1970-01-01 to year-month-day (Howard Hinnant's days_from_civil).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days).ok().map(|d| d * 86_400 + h * 3600 + m * 60 + sec)
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
        // A date in the past: no wait. A date an hour ahead: about an hour.
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        assert_eq!(parse_imf_fixdate("Wed, 21 Oct 2015 07:28:00 GMT"), Some(1_445_412_480));
        assert_eq!(parse_imf_fixdate("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(parse_imf_fixdate("Tue, 29 Feb 2028 23:59:59 GMT"), Some(1_835_481_599));
        // More digits than u64 holds: still a floor, so the cap applies (not a fall back to
        // exponential backoff).
        assert_eq!(parse_retry_after("99999999999999999999"), Some(Duration::MAX));
        assert_eq!(b.wait(1, parse_retry_after("99999999999999999999")), Duration::from_millis(5000));
        assert_eq!(parse_retry_after("-5"), None);
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 PST"), None);
    }
}
