//! Reconnect delays: exponential with jitter, reset after a healthy session.

use std::time::Duration;

use rand::Rng;

/// Exponential backoff: `base · 2^(attempt-1)`, capped at `max`, with "equal jitter" (half fixed,
/// half random) so that many sources cut by the same outage do not come back in lockstep.
#[derive(Debug, Clone)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
    attempt: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new(Duration::from_secs(1), Duration::from_secs(300))
    }
}

impl Backoff {
    pub fn new(base: Duration, max: Duration) -> Self {
        Backoff {
            base,
            max,
            attempt: 0,
        }
    }

    /// Failures since the last reset.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The delay before the next attempt.
    pub fn next_delay(&mut self) -> Duration {
        self.attempt = self.attempt.saturating_add(1);
        let exp = self.attempt.saturating_sub(1).min(20);
        let full = self.base.saturating_mul(1 << exp).min(self.max);
        let half = full / 2;
        let jitter = rand::thread_rng().gen_range(0..=half.as_millis() as u64);
        half + Duration::from_millis(jitter)
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_caps_and_jitters() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
        let d1 = b.next_delay();
        assert!(d1 >= Duration::from_millis(50) && d1 <= Duration::from_millis(100));
        let d2 = b.next_delay();
        assert!(d2 >= Duration::from_millis(100) && d2 <= Duration::from_millis(200));
        for _ in 0..30 {
            let d = b.next_delay();
            assert!(d <= Duration::from_secs(1), "{d:?}");
            if b.attempt() >= 5 {
                assert!(d >= Duration::from_millis(500), "{d:?}");
            }
        }
        assert_eq!(b.attempt(), 32);
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(100));
        // Jitter: not all equal.
        let mut b = Backoff::new(Duration::from_secs(10), Duration::from_secs(10));
        let ds: Vec<Duration> = (0..20).map(|_| b.next_delay()).collect();
        assert!(ds.iter().any(|d| *d != ds[0]));
    }
}
