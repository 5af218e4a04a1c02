//! Baseline learning of the [`Detector`]: level, seasonal profiles, sentiment share.

use super::{Detector, Hour, Slot};

/// Expected posts per minute never drop below this (a dead query still has a baseline).
const MIN_EXPECTED: f64 = 0.02;
/// Weight of a minute in the dispersion estimate (about a day).
const DISPERSION_ALPHA: f64 = 1.0 / 1440.0;

/// A day updates the profile only if this many of its hours were observed (half an hour each).
const MIN_DAY_HOURS: usize = 12;
const MIN_FACTOR: f64 = 0.05;
const MAX_FACTOR: f64 = 20.0;

/// EWMA step that is a plain running mean while there are fewer than 1/α samples (so the first
/// minutes of a new query give a sensible baseline at once).
fn ewma(v: f64, n: u64, x: f64, alpha: f64) -> f64 {
    let a = alpha.max(1.0 / (n as f64 + 1.0));
    v + a * (x - v)
}

/// [`ewma`] applied to `z` zeros, in closed form.
fn ewma_zeros(v: f64, n: u64, z: u64, alpha: f64) -> f64 {
    let switch = (1.0 / alpha).floor() as u64;
    let p = if n < switch { z.min(switch - n) } else { 0 };
    let mut v = v;
    if p > 0 {
        v *= n as f64 / (n + p) as f64;
    }
    v * (1.0 - alpha).powf((z - p) as f64)
}

impl Detector {
    /// Expected posts in minute `m` (minutes since the epoch).
    pub(crate) fn expected(&self, m: i64) -> f64 {
        (self.level * self.factor(m)).max(MIN_EXPECTED)
    }

    /// Profile value of hour `h` (hours since the epoch), if learned.
    fn slot(&self, h: i64) -> Option<f64> {
        if !self.config.seasonal {
            return None;
        }
        let w = self.week[h.rem_euclid(168) as usize];
        if w.n >= 2 {
            return Some(f64::from(w.factor));
        }
        let d = self.day[h.rem_euclid(24) as usize];
        (d.n >= 1).then_some(f64::from(d.factor))
    }

    /// Seasonal factor of minute `m`, interpolated between the centres of adjacent hours so the
    /// baseline follows a morning rise smoothly instead of in hourly steps.
    pub(crate) fn factor(&self, m: i64) -> f64 {
        let h = m.div_euclid(60);
        let Some(here) = self.slot(h) else {
            return 1.0;
        };
        let pos = (m.rem_euclid(60) as f64 + 0.5 - 30.0) / 60.0;
        let other = if pos >= 0.0 { h + 1 } else { h - 1 };
        let f = match self.slot(other) {
            Some(o) => here + (o - here) * pos.abs(),
            None => here,
        };
        f.clamp(MIN_FACTOR, MAX_FACTOR)
    }

    /// Learn from the closed minute `m`.
    pub(crate) fn learn(&mut self, m: i64, count: u32, negative: u32, expected: f64) {
        let c = &self.config;
        let raw = f64::from(count);
        // Once there is a baseline, bursts are clipped so that an alert does not teach it that
        // bursts are normal (a lasting rise is still learned, a few posts a minute at a time).
        let x = if self.minutes < u64::from(c.min_history_minutes) {
            raw
        } else {
            raw.min(expected + 4.0 * expected.sqrt() + 2.0)
        };
        if self.minutes >= u64::from(c.min_history_minutes) {
            // A burst must not teach the detector that the stream is that noisy: one minute's
            // error counts for at most 3 expectations (+ 3 Poisson deviations).
            let err = (raw - expected)
                .abs()
                .min(3.0 * expected + 3.0 * expected.sqrt() + 1.0);
            let n = self.err_minutes;
            self.excess = ewma(self.excess, n, err * err - expected, DISPERSION_ALPHA);
            self.expected_sq = ewma(self.expected_sq, n, expected * expected, DISPERSION_ALPHA);
            self.err_minutes += 1;
        }
        let f = self.factor(m);
        self.level = ewma(self.level, self.minutes, x / f, c.ewma_alpha);
        let hour = &mut self.today[m.div_euclid(60).rem_euclid(24) as usize];
        hour.sum += x as f32;
        hour.minutes += 1;
        if count > 0 {
            let a = c.dip_alpha;
            self.neg_rate = ewma(self.neg_rate, self.dip_minutes, f64::from(negative), a);
            self.post_rate = ewma(self.post_rate, self.dip_minutes, raw, a);
            self.dip_minutes += 1;
            self.dip_posts += u64::from(count);
        }
        self.minutes += 1;
        self.last = Some(m);
        if (m + 1).rem_euclid(1440) == 0 {
            self.finish_day(m.div_euclid(1440));
        }
    }

    /// Learn `z` empty minutes from `m`, all within one hour.
    pub(crate) fn skip_empty(&mut self, m: i64, z: u64) {
        let a = self.config.ewma_alpha;
        self.level = ewma_zeros(self.level, self.minutes, z, a);
        self.today[m.div_euclid(60).rem_euclid(24) as usize].minutes += z as u16;
        self.minutes += z;
        let end = m + z as i64 - 1;
        self.last = Some(end);
        if (end + 1).rem_euclid(1440) == 0 {
            self.finish_day(end.div_euclid(1440));
        }
    }

    /// Fold the day `d` (days since the epoch) that just ended into the profiles: each hour's
    /// rate relative to the day's mean, so a quieter weekend scales every hour alike and does not
    /// bend the shape of the day.
    fn finish_day(&mut self, d: i64) {
        let hours: Vec<(usize, f64)> = self
            .today
            .iter()
            .enumerate()
            .filter(|(_, h)| h.minutes >= 30)
            .map(|(i, h)| (i, f64::from(h.sum) / f64::from(h.minutes)))
            .collect();
        self.today.fill(Hour::default());
        let mean = hours.iter().map(|h| h.1).sum::<f64>() / hours.len().max(1) as f64;
        if hours.len() < MIN_DAY_HOURS || mean < 1e-3 {
            return;
        }
        let next = (d + 1) * 1440;
        let before = self.factor(next);
        let beta = self.config.seasonal_alpha;
        for (h, rate) in hours {
            let ratio = (rate / mean).clamp(MIN_FACTOR, MAX_FACTOR);
            for s in [
                &mut self.week[(d * 24 + h as i64).rem_euclid(168) as usize],
                &mut self.day[h],
            ] {
                let b = beta.max(1.0 / (f64::from(s.n) + 1.0));
                *s = Slot {
                    factor: (f64::from(s.factor) + b * (ratio - f64::from(s.factor))) as f32,
                    n: s.n.saturating_add(1),
                };
            }
        }
        // A new profile must not make the expectation jump: re-anchor the level.
        self.level *= before / self.factor(next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_form_zeros_match_steps() {
        for &(alpha, n0) in &[(0.02, 0u64), (0.02, 10), (0.02, 300), (0.001, 5)] {
            for z in [1u64, 7, 60, 2000] {
                let mut v = 3.0;
                for i in 0..z {
                    v = ewma(v, n0 + i, 0.0, alpha);
                }
                let w = ewma_zeros(3.0, n0, z, alpha);
                assert!(
                    (v - w).abs() <= 1e-9 * v.abs().max(1e-12),
                    "{alpha} {n0} {z}: {v} {w}"
                );
            }
        }
    }
}
