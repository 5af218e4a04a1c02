//! Polite adaptive polling, as pure functions (the caller supplies `now` and the jitter unit).
//!
//! - success: poll about as often as items appear, clamped (5 min … 6 h by default), never more
//!   often than `Cache-Control: max-age` allows;
//! - failure: exponential backoff with a cap, `Retry-After` honoured, 429/503 back off at least
//!   `default_interval` even without it;
//! - jitter spreads feeds that were added together.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// Polling bounds; the defaults are polite for public blogs and news sites.
#[derive(Debug, Clone)]
pub struct PollPolicy {
    pub min_interval: Duration,
    pub max_interval: Duration,
    /// When the item rate is unknown (new feed, no dated items).
    pub default_interval: Duration,
    /// First retry delay after a failure; doubles per consecutive failure.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// A `Retry-After` longer than this is cut (a broken header must not park a feed forever).
    pub max_retry_after: Duration,
    /// Relative jitter: 0.1 spreads a delay over ±10 %.
    pub jitter: f64,
    /// Newest dated items used to estimate the rate.
    pub rate_window: usize,
}

impl Default for PollPolicy {
    fn default() -> Self {
        PollPolicy {
            min_interval: Duration::from_secs(5 * 60),
            max_interval: Duration::from_secs(6 * 3600),
            default_interval: Duration::from_secs(3600),
            backoff_base: Duration::from_secs(5 * 60),
            backoff_max: Duration::from_secs(24 * 3600),
            max_retry_after: Duration::from_secs(7 * 24 * 3600),
            jitter: 0.1,
            rate_window: 20,
        }
    }
}

/// Mean time between items, from the newest `window` publication instants (UTC ms) up to now:
/// `(now - oldest) / count`. Counting up to *now* makes a feed that went quiet slow down, which
/// the mean gap between its old items would not. Future-dated items are ignored.
pub fn item_interval(published_ms: &[i64], now_ms: i64, window: usize) -> Option<Duration> {
    let mut dated: Vec<i64> = published_ms
        .iter()
        .copied()
        .filter(|&t| t <= now_ms)
        .collect();
    if dated.is_empty() || window == 0 {
        return None;
    }
    dated.sort_unstable_by(|a, b| b.cmp(a));
    dated.truncate(window);
    let oldest = *dated.last()?;
    let span_ms = (now_ms - oldest).max(0) as u64;
    Some(Duration::from_millis(span_ms / dated.len() as u64))
}

fn jittered(d: Duration, policy: &PollPolicy, unit: f64) -> Duration {
    let unit = if unit.is_finite() {
        unit.clamp(0.0, 1.0)
    } else {
        0.5
    };
    let j = policy.jitter.clamp(0.0, 1.0);
    d.mul_f64(1.0 + j * (2.0 * unit - 1.0))
}

/// Delay until the next poll after a success (200 or 304).
pub fn success_delay(
    policy: &PollPolicy,
    item_interval: Option<Duration>,
    max_age: Option<Duration>,
    jitter_unit: f64,
) -> Duration {
    let lo = policy.min_interval;
    let hi = policy.max_interval.max(lo);
    let base = item_interval
        .unwrap_or(policy.default_interval)
        .clamp(lo, hi);
    // The floor applies after the jitter: never poll before max-age has passed.
    let floor = max_age.unwrap_or_default().min(hi);
    jittered(base, policy, jitter_unit).max(floor).clamp(lo, hi)
}

/// Delay until the next attempt after `failures` consecutive failures (≥ 1).
pub fn failure_delay(
    policy: &PollPolicy,
    failures: u32,
    retry_after: Option<Duration>,
    rate_limited: bool,
    jitter_unit: f64,
) -> Duration {
    let exp = failures.saturating_sub(1).min(30);
    let backoff = policy
        .backoff_base
        .saturating_mul(1u32 << exp)
        .min(policy.backoff_max);
    let mut d = jittered(backoff, policy, jitter_unit).min(policy.backoff_max);
    if rate_limited {
        d = d.max(policy.default_interval);
    }
    if let Some(ra) = retry_after {
        d = d.max(ra.min(policy.max_retry_after));
    }
    d
}

/// `Retry-After`: delta-seconds or an HTTP date (a past date means now).
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(v).ok()?.with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// `max-age` of a `Cache-Control` value (`no-store` / `no-cache` give none).
pub fn parse_max_age(value: &str) -> Option<Duration> {
    let mut max_age = None;
    for d in value.split(',') {
        let d = d.trim().to_ascii_lowercase();
        if d == "no-store" || d == "no-cache" {
            return None;
        }
        if let Some(n) = d.strip_prefix("max-age=") {
            max_age = n
                .trim_matches('"')
                .parse::<u64>()
                .ok()
                .map(Duration::from_secs);
        }
    }
    max_age
}

/// A deterministic value in [0, 1) from a key: jitter that differs per feed and per attempt
/// without a random source (reproducible in tests).
pub fn jitter_unit(key: &str, salt: i64) -> f64 {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(key.as_bytes());
    h.update(salt.to_le_bytes());
    let d = h.finalize();
    let n = u64::from_le_bytes(d[..8].try_into().unwrap_or([0; 8]));
    (n >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: u64 = 60;
    const H: u64 = 3600;

    fn p() -> PollPolicy {
        PollPolicy::default()
    }

    #[test]
    fn rate_follows_items_and_is_clamped() {
        let now = 100 * H as i64 * 1000;
        // One item per 30 min over the last 10 hours.
        let fast: Vec<i64> = (1..=20).map(|i| now - i * 30 * 60 * 1000).collect();
        let iv = item_interval(&fast, now, 20).unwrap();
        assert_eq!(iv, Duration::from_secs(30 * MIN));
        assert_eq!(success_delay(&p(), Some(iv), None, 0.5), iv);
        // Very busy: clamped to 5 min.
        assert_eq!(
            success_delay(&p(), Some(Duration::from_secs(10)), None, 0.5),
            Duration::from_secs(5 * MIN)
        );
        // Dead feed (last item a year ago): clamped to 6 h.
        let old = [now - 365 * 24 * H as i64 * 1000];
        let iv = item_interval(&old, now, 20);
        assert_eq!(
            success_delay(&p(), iv, None, 0.5),
            Duration::from_secs(6 * H)
        );
        // Unknown rate: default.
        assert_eq!(success_delay(&p(), None, None, 0.5), Duration::from_secs(H));
        assert_eq!(item_interval(&[now + 1000], now, 20), None);
    }

    #[test]
    fn max_age_is_a_floor() {
        for u in [0.0, 0.5, 0.999] {
            let d = success_delay(
                &p(),
                Some(Duration::from_secs(10 * MIN)),
                Some(Duration::from_secs(2 * H)),
                u,
            );
            assert_eq!(d, Duration::from_secs(2 * H));
            let d = success_delay(
                &p(),
                Some(Duration::from_secs(2 * H)),
                Some(Duration::from_secs(2 * H)),
                u,
            );
            assert!(d >= Duration::from_secs(2 * H));
        }
        // But never past max_interval.
        let d = success_delay(&p(), None, Some(Duration::from_secs(100 * H)), 0.5);
        assert_eq!(d, Duration::from_secs(6 * H));
    }

    #[test]
    fn jitter_stays_within_bounds() {
        for u in [0.0, 0.25, 0.999, f64::NAN] {
            let d = success_delay(&p(), Some(Duration::from_secs(H)), None, u);
            assert!(d >= Duration::from_secs(54 * MIN) && d <= Duration::from_secs(66 * MIN));
        }
        let a = jitter_unit("https://a.example/feed", 1);
        assert!((0.0..1.0).contains(&a));
        assert_ne!(a, jitter_unit("https://b.example/feed", 1));
    }

    #[test]
    fn backoff_grows_and_caps() {
        let d: Vec<u64> = (1..=12)
            .map(|n| failure_delay(&p(), n, None, false, 0.5).as_secs())
            .collect();
        assert_eq!(&d[..4], &[5 * MIN, 10 * MIN, 20 * MIN, 40 * MIN]);
        assert_eq!(d[11], 24 * H);
        assert_eq!(
            failure_delay(&p(), u32::MAX, None, false, 0.9).as_secs(),
            24 * H
        );
    }

    #[test]
    fn retry_after_and_rate_limits() {
        let ra = Some(Duration::from_secs(3 * H));
        assert_eq!(failure_delay(&p(), 1, ra, true, 0.5).as_secs(), 3 * H);
        assert_eq!(failure_delay(&p(), 1, None, true, 0.5).as_secs(), H);
        let huge = Some(Duration::from_secs(365 * 24 * H));
        assert_eq!(
            failure_delay(&p(), 1, huge, true, 0.5).as_secs(),
            7 * 24 * H
        );
    }

    #[test]
    fn parses_headers() {
        let now = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 2026 01:00:00 GMT", now),
            Some(Duration::from_secs(H))
        );
        assert_eq!(
            parse_retry_after("Wed, 31 Dec 2025 01:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(
            parse_max_age("public, max-age=600"),
            Some(Duration::from_secs(600))
        );
        assert_eq!(parse_max_age("no-cache, max-age=600"), None);
        assert_eq!(parse_max_age("private"), None);
    }
}
