//! Calendar arithmetic in a workspace's IANA zone, never the process's. A local day lasts 23,
//! 24 or 25 hours: the day view lists the hours that really happen (02:00 missing in spring,
//! twice in autumn), the week view marks an hour that does not exist.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone};
use chrono_tz::Tz;

use crate::publish::{resolve_local, LocalTime};

const HOUR_MS: i64 = 3_600_000;

/// The first instant of a local day: midnight, or the end of a DST gap that swallows midnight;
/// the earlier one when midnight happens twice.
pub fn day_start(tz: Tz, date: NaiveDate) -> i64 {
    match resolve_local(tz, date.and_time(NaiveTime::MIN)) {
        LocalTime::Exact(t) => t,
        LocalTime::Gap { after } => after,
        LocalTime::Ambiguous { earliest, .. } => earliest,
    }
}

/// How long a local day lasts, in minutes (1380, 1440 or 1500 around DST changes in Europe).
pub fn day_minutes(tz: Tz, date: NaiveDate) -> i64 {
    let next = date.succ_opt().unwrap_or(date);
    (day_start(tz, next) - day_start(tz, date)) / 60_000
}

/// The local wall-clock time of an instant, its UTC offset ("+02:00"), and whether that
/// wall-clock time happens twice that day (autumn change), when the offset tells them apart.
pub fn local(tz: Tz, ms: i64) -> Option<(NaiveDateTime, String, bool)> {
    let d = tz.timestamp_millis_opt(ms).single()?;
    let naive = d.naive_local();
    let repeated = matches!(resolve_local(tz, naive), LocalTime::Ambiguous { .. });
    Some((naive, offset(d.offset().fix().local_minus_utc()), repeated))
}

fn offset(secs: i32) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let m = secs.unsigned_abs() / 60;
    format!("{sign}{:02}:{:02}", m / 60, m % 60)
}

/// One row of the day view: an hour that really happens that day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HourRow {
    pub start: i64,
    pub end: i64,
    /// Local wall-clock hour (0–23) at the start of the row.
    pub hour: u32,
    /// "HH:MM" on the local clock.
    pub label: String,
    /// The UTC offset during this hour.
    pub offset: String,
    /// This wall-clock hour happens twice today (the clocks go back): show the offset.
    pub repeated: bool,
}

/// The hours of a local day, in order: 23, 24 or 25 rows.
pub fn day_hours(tz: Tz, date: NaiveDate) -> Vec<HourRow> {
    let start = day_start(tz, date);
    let end = day_start(tz, date.succ_opt().unwrap_or(date));
    let mut rows = Vec::new();
    let mut t = start;
    while t < end {
        if let Some((naive, off, repeated)) = local(tz, t) {
            use chrono::Timelike;
            rows.push(HourRow {
                start: t,
                end: (t + HOUR_MS).min(end),
                hour: naive.hour(),
                label: naive.format("%H:%M").to_string(),
                offset: off,
                repeated,
            });
        }
        t += HOUR_MS;
    }
    rows
}

/// Whether any minute of the wall-clock hour `hour` exists on `date` (false for 02:00 on the
/// spring change in Paris).
pub fn hour_exists(tz: Tz, date: NaiveDate, hour: u32) -> bool {
    [0, 59].iter().any(|&m| {
        NaiveTime::from_hms_opt(hour, m, 0)
            .is_some_and(|t| !matches!(resolve_local(tz, date.and_time(t)), LocalTime::Gap { .. }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn paris_days_last_23_24_and_25_hours() {
        let tz: Tz = "Europe/Paris".parse().unwrap();
        assert_eq!(day_minutes(tz, d("2026-03-29")), 23 * 60);
        assert_eq!(day_minutes(tz, d("2026-06-01")), 24 * 60);
        assert_eq!(day_minutes(tz, d("2026-10-25")), 25 * 60);

        let spring = day_hours(tz, d("2026-03-29"));
        let labels: Vec<&str> = spring.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(spring.len(), 23);
        assert_eq!(&labels[..3], &["00:00", "01:00", "03:00"]);
        assert!(!hour_exists(tz, d("2026-03-29"), 2));
        assert!(hour_exists(tz, d("2026-03-29"), 3));

        let autumn = day_hours(tz, d("2026-10-25"));
        assert_eq!(autumn.len(), 25);
        let twos: Vec<&HourRow> = autumn.iter().filter(|r| r.hour == 2).collect();
        assert_eq!(twos.len(), 2);
        assert!(twos.iter().all(|r| r.repeated));
        assert_eq!(
            (twos[0].offset.as_str(), twos[1].offset.as_str()),
            ("+02:00", "+01:00")
        );
        assert_eq!(twos[1].start - twos[0].start, HOUR_MS);
        assert!(autumn.iter().filter(|r| r.hour != 2).all(|r| !r.repeated));
    }

    #[test]
    fn day_start_is_local_midnight_not_utc() {
        let tz: Tz = "America/New_York".parse().unwrap();
        // 2026-06-01 00:00 EDT = 04:00 UTC.
        assert_eq!(day_start(tz, d("2026-06-01")), 1_780_286_400_000);
        let (naive, off, rep) = local(tz, 1_780_286_400_000).unwrap();
        assert_eq!(
            (naive.to_string().as_str(), off.as_str(), rep),
            ("2026-06-01 00:00:00", "-04:00", false)
        );
    }
}
