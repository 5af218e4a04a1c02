//! Per-query crisis detection on closed 1-minute buckets (a pure, serialisable state machine).
//!
//! Expected volume = level × seasonal factor. The level is an EWMA of the deseasonalised
//! per-minute rate; the factor comes from an hour-of-week profile (once a slot has been seen in
//! two weeks) or else an hour-of-day profile, each slot an EWMA (one step per day) of the hour's
//! rate relative to that day's mean, interpolated between hours. A minute (and the last 2 and 5 minutes) is
//! tested with the exact Poisson upper tail; a sentiment dip is a binomial test of the negative
//! share over a window against its slow baseline. See `docs/enrich.md`.

pub mod brief;
mod compact;
mod learn;
pub mod tail;

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

pub use brief::SeriesPoint;

/// Milliseconds in a minute.
pub const MINUTE_MS: i64 = 60_000;

/// Detector settings (all have defaults; a missing field in stored JSON takes its default).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Sensitivity: a volume alert needs a Poisson p-value below this (split over the 1-, 2-
    /// and 5-minute windows). Smaller = fewer, surer alerts.
    pub p_value: f64,
    /// A volume alert also needs observed ≥ this × expected (high volumes are overdispersed:
    /// +10 % on 5,000 a minute is "significant" but not a crisis).
    pub min_ratio: f64,
    /// A volume alert needs at least this many posts in the tested window.
    pub min_count: u32,
    /// After an alert, no alert of the same kind for this many minutes.
    pub cooldown_minutes: u32,
    /// EWMA weight of each new minute in the level.
    pub ewma_alpha: f64,
    /// Learn how much noisier than Poisson the stream is (variance = mean + a·mean², `a` learned
    /// from the prediction errors) and test with the negative binomial of that variance: real
    /// streams are bursty, and a pure Poisson test would alert on ordinary bursts of busy
    /// queries. `a` is 0 for a Poisson stream, and the test is then the Poisson one.
    pub overdispersion: bool,
    /// Learn the hour-of-day / hour-of-week profile (false: flat baseline).
    pub seasonal: bool,
    /// EWMA weight of each new hour in its profile slot.
    pub seasonal_alpha: f64,
    /// No alert at all before this many minutes of history.
    pub min_history_minutes: u32,
    /// Until this many minutes of history, a volume alert also needs `warmup_floor` posts in
    /// the minute (a new query with a massive burst still alerts).
    pub warmup_minutes: u32,
    /// See `warmup_minutes`.
    pub warmup_floor: u32,
    /// Sentiment dip: negative share over the window above the baseline share by this much.
    pub sentiment_dip: f64,
    /// Sentiment dip: the binomial p-value must be below this.
    pub dip_p_value: f64,
    /// Sentiment dip window in minutes.
    pub dip_window_minutes: u32,
    /// Sentiment dip: at least this many posts in the window.
    pub dip_min_count: u32,
    /// Sentiment dip: posts seen before the baseline share is trusted.
    pub dip_min_history: u32,
    /// EWMA weight of each minute with posts in the baseline negative share.
    pub dip_alpha: f64,
    /// Minutes of (observed, expected) kept for the brief's chart.
    pub series_minutes: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            p_value: 1e-6,
            min_ratio: 1.5,
            min_count: 10,
            cooldown_minutes: 30,
            ewma_alpha: 0.02,
            overdispersion: true,
            seasonal: true,
            seasonal_alpha: 0.2,
            min_history_minutes: 10,
            warmup_minutes: 24 * 60,
            warmup_floor: 50,
            sentiment_dip: 0.25,
            dip_p_value: 1e-5,
            dip_window_minutes: 15,
            dip_min_count: 20,
            dip_min_history: 200,
            dip_alpha: 0.002,
            series_minutes: 180,
        }
    }
}

impl Config {
    /// Check the settings; the error names the field and the accepted range.
    pub fn validate(&self) -> Result<(), String> {
        let unit = |v: f64, name: &str| {
            if v > 0.0 && v < 1.0 {
                Ok(())
            } else {
                Err(format!(
                    "{name} must be between 0 and 1 (exclusive), got {v}"
                ))
            }
        };
        unit(self.p_value, "p_value")?;
        unit(self.dip_p_value, "dip_p_value")?;
        unit(self.ewma_alpha, "ewma_alpha")?;
        unit(self.seasonal_alpha, "seasonal_alpha")?;
        unit(self.dip_alpha, "dip_alpha")?;
        unit(self.sentiment_dip, "sentiment_dip")?;
        if self.min_ratio.is_nan() || self.min_ratio < 1.0 {
            return Err(format!(
                "min_ratio must be at least 1, got {}",
                self.min_ratio
            ));
        }
        if self.dip_window_minutes == 0 || self.dip_window_minutes > 1440 {
            return Err("dip_window_minutes must be between 1 and 1440".into());
        }
        if self.series_minutes > 10_080 {
            return Err("series_minutes must be at most 10080 (one week)".into());
        }
        Ok(())
    }
}

/// What fired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerKind {
    Volume,
    SentimentDip,
}

/// An alert condition.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trigger {
    pub kind: TriggerKind,
    /// Start of the minute that fired (ms UTC).
    pub minute_ms: i64,
    /// Minutes summed by the test (1, 2 or 5 for volume; the dip window).
    pub window_minutes: u32,
    /// Posts in the window (volume) or negative posts in the window (dip).
    pub observed: u64,
    /// Expected value of `observed` under the baseline.
    pub expected: f64,
    /// One-sided p-value (may underflow to 0; see `ln_p`).
    pub p_value: f64,
    /// Natural log of the p-value.
    pub ln_p: f64,
    /// (observed − expected) / standard deviation.
    pub z: f64,
}

/// One profile slot: an hour's rate relative to its day's mean.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Slot {
    pub factor: f32,
    pub n: u16,
}

/// Posts and minutes of one hour of the current day.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Hour {
    pub sum: f32,
    pub minutes: u16,
}

/// The per-query detector. Feed it every closed minute in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Detector {
    pub(crate) config: Config,
    /// Last minute fed (minutes since the epoch).
    pub(crate) last: Option<i64>,
    /// Minutes of history.
    pub(crate) minutes: u64,
    /// Deseasonalised per-minute rate.
    pub(crate) level: f64,
    /// EWMA of (squared prediction error − expected) and of expected²: a = their ratio.
    pub(crate) excess: f64,
    pub(crate) expected_sq: f64,
    pub(crate) err_minutes: u64,
    /// (Clipped) counts and minutes seen per UTC hour of the current day.
    #[serde(with = "compact::hours")]
    pub(crate) today: Vec<Hour>,
    #[serde(with = "compact::week")]
    pub(crate) week: Vec<Slot>,
    #[serde(with = "compact::day")]
    pub(crate) day: Vec<Slot>,
    /// Baseline negative posts and posts per minute (EWMA over minutes with posts).
    pub(crate) neg_rate: f64,
    pub(crate) post_rate: f64,
    pub(crate) dip_minutes: u64,
    pub(crate) dip_posts: u64,
    #[serde(with = "compact::series")]
    pub(crate) recent: VecDeque<SeriesPoint>,
    /// Minute until which each kind stays quiet (volume, dip).
    pub(crate) quiet_until: [i64; 2],
}

impl Detector {
    /// A new detector; `config` must pass [`Config::validate`].
    pub fn new(config: Config) -> Result<Self, String> {
        config.validate()?;
        Ok(Detector {
            config,
            last: None,
            minutes: 0,
            level: 0.0,
            excess: 0.0,
            expected_sq: 0.0,
            err_minutes: 0,
            today: vec![Hour::default(); 24],
            week: vec![Slot::default(); 168],
            day: vec![Slot::default(); 24],
            neg_rate: 0.0,
            post_rate: 0.0,
            dip_minutes: 0,
            dip_posts: 0,
            recent: VecDeque::new(),
            quiet_until: [i64::MIN; 2],
        })
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Replace the settings, keeping the learned state.
    pub fn set_config(&mut self, config: Config) -> Result<(), String> {
        config.validate()?;
        self.config = config;
        Ok(())
    }

    /// Start (ms UTC) of the last minute fed.
    pub fn last_minute_ms(&self) -> Option<i64> {
        self.last.map(|m| m * MINUTE_MS)
    }

    /// Minutes of history seen.
    pub fn history_minutes(&self) -> u64 {
        self.minutes
    }

    /// Expected posts in the minute starting at `minute_ms` under the current baseline.
    pub fn expected_at(&self, minute_ms: i64) -> f64 {
        self.expected(minute_ms.div_euclid(MINUTE_MS))
    }

    /// Learned overdispersion `a` (variance = mean + a·mean² per minute; 0 = Poisson).
    pub fn overdispersion(&self) -> f64 {
        if !self.config.overdispersion || self.err_minutes < 60 || self.expected_sq <= 0.0 {
            return 0.0;
        }
        (self.excess / self.expected_sq).clamp(0.0, 4.0)
    }

    /// The last `n` minutes (oldest first) for the brief's volume-vs-baseline chart.
    pub fn series(&self, n: usize) -> Vec<SeriesPoint> {
        let skip = self.recent.len().saturating_sub(n);
        self.recent.iter().skip(skip).copied().collect()
    }

    /// Feed the closed bucket of the minute starting at `minute_ms`: `count` posts, of which
    /// `negative` were negative. Missing minutes since the last call count as empty. A minute
    /// at or before the last one fed is ignored (returns `None`).
    pub fn observe(&mut self, minute_ms: i64, count: u32, negative: u32) -> Option<Trigger> {
        let m = minute_ms.div_euclid(MINUTE_MS);
        if self.last.is_some_and(|l| m <= l) {
            return None;
        }
        self.advance_to(minute_ms);
        let negative = negative.min(count);
        let expected = self.expected(m);
        self.push_point(m, count, negative, expected);
        let trigger = self.test_volume(m).or_else(|| self.test_dip(m, count > 0));
        self.learn(m, count, negative, expected);
        trigger
    }

    /// Count every minute from the last one fed up to (not including) `minute_ms` as empty, in
    /// time proportional to the hours crossed, not the minutes.
    pub fn advance_to(&mut self, minute_ms: i64) {
        let target = minute_ms.div_euclid(MINUTE_MS);
        let Some(last) = self.last else {
            return;
        };
        let mut m = last + 1;
        // Minutes that will appear in the chart are stepped one by one; the rest fast.
        let keep = self.series_capacity() as i64;
        let fast_until = (target - keep).max(m);
        while m < fast_until {
            let hour_end = (m.div_euclid(60) + 1) * 60;
            let chunk = hour_end.min(fast_until) - m;
            // One step per hour crossed (each hour's minutes count for its profile slot).
            self.skip_empty(m, chunk as u64);
            m += chunk;
        }
        while m < target {
            let expected = self.expected(m);
            self.push_point(m, 0, 0, expected);
            self.learn(m, 0, 0, expected);
            m += 1;
        }
    }

    fn series_capacity(&self) -> usize {
        (self.config.series_minutes as usize)
            .max(self.config.dip_window_minutes as usize)
            .max(5)
    }

    fn push_point(&mut self, m: i64, count: u32, negative: u32, expected: f64) {
        if self.recent.len() >= self.series_capacity() {
            self.recent.pop_front();
        }
        self.recent.push_back(SeriesPoint {
            minute_ms: m * MINUTE_MS,
            observed: count,
            negative,
            expected: expected as f32,
        });
    }

    fn test_volume(&mut self, m: i64) -> Option<Trigger> {
        let c = &self.config;
        if self.minutes < u64::from(c.min_history_minutes) || m < self.quiet_until[0] {
            return None;
        }
        let now = self.recent.back()?;
        if now.observed == 0 {
            return None;
        }
        if self.minutes < u64::from(c.warmup_minutes) && now.observed < c.warmup_floor {
            return None;
        }
        let ln_alpha = (c.p_value / 3.0).ln();
        let a = self.overdispersion();
        let mut best: Option<Trigger> = None;
        for w in [1usize, 2, 5] {
            if w > self.recent.len() || w as u64 > self.minutes + 1 {
                break;
            }
            let (obs, exp) = self
                .recent
                .iter()
                .rev()
                .take(w)
                .fold((0u64, 0f64), |(o, e), p| {
                    (o + u64::from(p.observed), e + f64::from(p.expected))
                });
            if obs < u64::from(c.min_count) || (obs as f64) < c.min_ratio * exp {
                continue;
            }
            // Minutes are independent: the variance of the sum is E + a·Σe² ≈ E + a·E²/w.
            let dispersion = 1.0 + a * exp / w as f64;
            let ln_p = tail::negbin_sf_ln(obs, exp, dispersion);
            if ln_p < ln_alpha && best.as_ref().is_none_or(|b| ln_p < b.ln_p) {
                best = Some(Trigger {
                    kind: TriggerKind::Volume,
                    minute_ms: m * MINUTE_MS,
                    window_minutes: w as u32,
                    observed: obs,
                    expected: exp,
                    p_value: ln_p.exp(),
                    ln_p,
                    z: (obs as f64 - exp) / (exp * dispersion).sqrt(),
                });
            }
        }
        if best.is_some() {
            self.quiet_until[0] = m + i64::from(c.cooldown_minutes);
        }
        best
    }

    fn test_dip(&mut self, m: i64, had_posts: bool) -> Option<Trigger> {
        let c = &self.config;
        if !had_posts || m < self.quiet_until[1] || self.dip_posts < u64::from(c.dip_min_history) {
            return None;
        }
        let (n, neg) = self
            .recent
            .iter()
            .rev()
            .take(c.dip_window_minutes as usize)
            .fold((0u64, 0u64), |(n, k), p| {
                (n + u64::from(p.observed), k + u64::from(p.negative))
            });
        if n < u64::from(c.dip_min_count) {
            return None;
        }
        let base = (self.neg_rate / self.post_rate).clamp(0.01, 0.99);
        let share = neg as f64 / n as f64;
        if share - base < c.sentiment_dip {
            return None;
        }
        let ln_p = tail::binomial_sf_ln(neg, n, base);
        if ln_p >= c.dip_p_value.ln() {
            return None;
        }
        self.quiet_until[1] = m + i64::from(c.cooldown_minutes);
        let expected = base * n as f64;
        Some(Trigger {
            kind: TriggerKind::SentimentDip,
            minute_ms: m * MINUTE_MS,
            window_minutes: c.dip_window_minutes,
            observed: neg,
            expected,
            p_value: ln_p.exp(),
            ln_p,
            z: (neg as f64 - expected) / (expected * (1.0 - base)).sqrt(),
        })
    }
}

#[cfg(test)]
mod tests;
