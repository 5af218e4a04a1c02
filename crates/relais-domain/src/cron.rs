//! Schedules of recurring jobs: `every 30s|5m|2h|1d` or a five-field cron expression
//! (`minute hour day-of-month month day-of-week`, with `*`, `*/n`, `a-b`, `a-b/n`, lists),
//! evaluated in UTC. Small on purpose: recurring jobs are housekeeping, not a user feature.

use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    Every(i64),
    Cron(Box<Cron>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    minute: u64,
    hour: u64,
    dom: u64,
    month: u64,
    dow: u64,
    dom_any: bool,
    dow_any: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid schedule {input:?}: {reason}")]
pub struct ScheduleError {
    pub input: String,
    pub reason: &'static str,
}

impl Schedule {
    pub fn parse(s: &str) -> Result<Schedule, ScheduleError> {
        let err = |reason| ScheduleError {
            input: s.to_string(),
            reason,
        };
        let t = s.trim();
        if let Some(rest) = t.strip_prefix("every ") {
            let rest = rest.trim();
            let (num, unit) = rest.split_at(rest.len().saturating_sub(1));
            let n: i64 = num
                .parse()
                .map_err(|_| err("expected a number before the unit"))?;
            let secs = match unit {
                "s" => n,
                "m" => n * 60,
                "h" => n * 3600,
                "d" => n * 86_400,
                _ => return Err(err("unit must be s, m, h or d")),
            };
            if secs <= 0 {
                return Err(err("interval must be positive"));
            }
            return Ok(Schedule::Every(secs));
        }
        let f: Vec<&str> = t.split_whitespace().collect();
        if f.len() != 5 {
            return Err(err("expected `every N{s,m,h,d}` or five cron fields"));
        }
        let field = |i: usize, lo: u32, hi: u32| {
            parse_field(f[i], lo, hi).ok_or_else(|| err(FIELD_ERRORS[i]))
        };
        Ok(Schedule::Cron(Box::new(Cron {
            minute: field(0, 0, 59)?,
            hour: field(1, 0, 23)?,
            dom: field(2, 1, 31)?,
            month: field(3, 1, 12)?,
            // 7 is Sunday too, folded onto 0.
            dow: {
                let m = field(4, 0, 7)?;
                (m | (m >> 7)) & 0x7f
            },
            dom_any: f[2] == "*",
            dow_any: f[4] == "*",
        })))
    }

    /// The first run strictly after `after_ms`.
    pub fn next_after(&self, after_ms: i64) -> i64 {
        match self {
            Schedule::Every(secs) => after_ms + secs * 1000,
            Schedule::Cron(c) => c.next_after(after_ms),
        }
    }
}

const FIELD_ERRORS: [&str; 5] = [
    "minute field must be within 0-59",
    "hour field must be within 0-23",
    "day-of-month field must be within 1-31",
    "month field must be within 1-12",
    "day-of-week field must be within 0-7",
];

fn parse_field(s: &str, lo: u32, hi: u32) -> Option<u64> {
    let mut mask = 0u64;
    for part in s.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, st)) => (r, st.parse::<u32>().ok().filter(|&n| n > 0)?),
            None => (part, 1),
        };
        let (a, b) = if range == "*" {
            (lo, hi)
        } else if let Some((a, b)) = range.split_once('-') {
            (a.parse().ok()?, b.parse().ok()?)
        } else {
            let a: u32 = range.parse().ok()?;
            (a, if part.contains('/') { hi } else { a })
        };
        if a < lo || b > hi || a > b {
            return None;
        }
        let mut v = a;
        while v <= b {
            mask |= 1 << v;
            v += step;
        }
    }
    Some(mask)
}

impl Cron {
    fn matches(&self, t: &DateTime<Utc>) -> bool {
        let bit = |m: u64, v: u32| m & (1 << v) != 0;
        let dom_ok = bit(self.dom, t.day());
        let dow_ok = bit(self.dow, t.weekday().num_days_from_sunday());
        // Classic cron: when both day fields are restricted, either may match.
        let day_ok = match (self.dom_any, self.dow_any) {
            (true, true) => true,
            (true, false) => dow_ok,
            (false, true) => dom_ok,
            (false, false) => dom_ok || dow_ok,
        };
        bit(self.minute, t.minute())
            && bit(self.hour, t.hour())
            && bit(self.month, t.month())
            && day_ok
    }

    fn next_after(&self, after_ms: i64) -> i64 {
        let start = Utc
            .timestamp_millis_opt(after_ms)
            .single()
            .unwrap_or_else(Utc::now);
        let mut t = start
            .with_second(0)
            .and_then(|t| t.with_nanosecond(0))
            .unwrap_or(start)
            + Duration::minutes(1);
        // At most ~4 years of minutes: every valid expression matches well before that.
        for _ in 0..(4 * 366 * 1440) {
            if self.matches(&t) {
                return t.timestamp_millis();
            }
            t += Duration::minutes(1);
        }
        after_ms + 86_400_000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    #[test]
    fn intervals() {
        assert_eq!(Schedule::parse("every 5m").unwrap(), Schedule::Every(300));
        assert_eq!(
            Schedule::parse("every 30s").unwrap().next_after(1000),
            31_000
        );
        assert!(Schedule::parse("every 0s").is_err());
        assert!(Schedule::parse("every 5y").is_err());
    }

    #[test]
    fn cron_next() {
        let s = Schedule::parse("30 9 * * 1-5").unwrap();
        // Saturday 2026-11-21 → Monday 2026-11-23 09:30 UTC.
        assert_eq!(
            s.next_after(at("2026-11-21T10:00:00Z")),
            at("2026-11-23T09:30:00Z")
        );
        let s = Schedule::parse("*/15 * * * *").unwrap();
        assert_eq!(
            s.next_after(at("2026-11-21T10:07:10Z")),
            at("2026-11-21T10:15:00Z")
        );
        let s = Schedule::parse("0 3 1 * *").unwrap();
        assert_eq!(
            s.next_after(at("2026-11-21T10:00:00Z")),
            at("2026-12-01T03:00:00Z")
        );
        let s = Schedule::parse("0 0 * * 7").unwrap();
        assert_eq!(
            s.next_after(at("2026-11-21T10:00:00Z")),
            at("2026-11-22T00:00:00Z")
        );
    }

    #[test]
    fn cron_errors() {
        for bad in [
            "60 * * * *",
            "* * *",
            "* 24 * * *",
            "*/0 * * * *",
            "a * * * *",
            "5-1 * * * *",
        ] {
            assert!(Schedule::parse(bad).is_err(), "{bad}");
        }
    }
}
