//! Queue slots of a channel ("Mon-Fri 09:30 12:30; Sat 10:00") and the next free one, in the
//! workspace's time zone.

use chrono::{Datelike, Duration, NaiveTime, TimeZone};

use crate::publish::{resolve_local, LocalTime};

/// (weekday with Monday = 0, minute of the day).
pub type Slot = (u8, u16);

const DAYS: [[&str; 2]; 7] = [
    ["mon", "lun"],
    ["tue", "mar"],
    ["wed", "mer"],
    ["thu", "jeu"],
    ["fri", "ven"],
    ["sat", "sam"],
    ["sun", "dim"],
];

fn day(s: &str) -> Option<u8> {
    let s = s.trim().trim_end_matches('.').to_lowercase();
    DAYS.iter()
        .position(|names| names.iter().any(|n| s.starts_with(n) && s.len() <= 9))
        .map(|i| i as u8)
}

/// Parses groups separated by `;` or new lines, each `DAYS TIME [TIME…]`, where DAYS is a day,
/// a range (`Mon-Fri`) or a list (`Mon,Wed`), in English or French. Errors say what to fix.
pub fn parse(spec: &str) -> Result<Vec<Slot>, String> {
    let mut out = Vec::new();
    for group in spec
        .split([';', '\n'])
        .map(str::trim)
        .filter(|g| !g.is_empty())
    {
        let mut parts = group.split_whitespace();
        let days_part = parts.next().unwrap_or_default();
        let mut days = Vec::new();
        for item in days_part.split(',') {
            match item.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (
                        day(a).ok_or(format!("unknown day {a:?}"))?,
                        day(b).ok_or(format!("unknown day {b:?}"))?,
                    );
                    let mut d = a;
                    loop {
                        days.push(d);
                        if d == b {
                            break;
                        }
                        d = (d + 1) % 7;
                    }
                }
                None => days.push(
                    day(item).ok_or(format!("unknown day {item:?}: write Mon-Fri or lun-ven"))?,
                ),
            }
        }
        let times: Vec<&str> = parts.collect();
        if times.is_empty() {
            return Err(format!(
                "{group:?} has no time: write it like Mon-Fri 09:30"
            ));
        }
        for t in times {
            let t = t.replace('h', ":");
            let tm = NaiveTime::parse_from_str(&t, "%H:%M")
                .map_err(|_| format!("{t:?} is not a time: write HH:MM"))?;
            for d in &days {
                out.push((*d, (tm.hour_minute())));
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

trait HourMinute {
    fn hour_minute(&self) -> u16;
}

impl HourMinute for NaiveTime {
    fn hour_minute(&self) -> u16 {
        use chrono::Timelike;
        (self.hour() * 60 + self.minute()) as u16
    }
}

/// The first slot after `now_ms` that no scheduled post already takes (same minute), looking
/// four weeks ahead. Slot times that do not exist that day (DST) are skipped.
pub fn next_free(tz: chrono_tz::Tz, now_ms: i64, slots: &[Slot], taken: &[i64]) -> Option<i64> {
    if slots.is_empty() {
        return None;
    }
    let today = tz.timestamp_millis_opt(now_ms).single()?.date_naive();
    for offset in 0..28 {
        let date = today + Duration::days(offset);
        let wd = date.weekday().num_days_from_monday() as u8;
        for (_, minute) in slots.iter().filter(|(d, _)| *d == wd) {
            let local = date.and_hms_opt(u32::from(*minute) / 60, u32::from(*minute) % 60, 0)?;
            let at = match resolve_local(tz, local) {
                LocalTime::Exact(at) => at,
                LocalTime::Ambiguous { earliest, .. } => earliest,
                LocalTime::Gap { .. } => continue,
            };
            if at > now_ms && !taken.iter().any(|t| (t - at).abs() < 60_000) {
                return Some(at);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_millis()
    }

    #[test]
    fn parses_english_and_french() {
        assert_eq!(parse("Mon-Fri 09:30 12:30").unwrap().len(), 10);
        assert_eq!(
            parse("lun,mer 9h30; sam 10:00").unwrap(),
            vec![(0, 570), (2, 570), (5, 600)]
        );
        assert_eq!(
            parse("Fri-Mon 08:00")
                .unwrap()
                .iter()
                .map(|s| s.0)
                .collect::<Vec<_>>(),
            vec![0, 4, 5, 6]
        );
        assert!(parse("Mon-Fri").unwrap_err().contains("no time"));
        assert!(parse("Someday 09:00").unwrap_err().contains("unknown day"));
        assert!(parse("Mon 25:00").unwrap_err().contains("not a time"));
    }

    #[test]
    fn next_free_skips_taken_and_past_slots() {
        let tz: chrono_tz::Tz = "Europe/Paris".parse().unwrap();
        let slots = parse("Mon-Fri 09:30 12:30").unwrap();
        // Friday 2026-11-20 10:00 Paris → 12:30 the same day (11:30 UTC).
        let now = ms("2026-11-20T09:00:00Z");
        assert_eq!(
            next_free(tz, now, &slots, &[]),
            Some(ms("2026-11-20T11:30:00Z"))
        );
        // Taken → Monday 09:30 (08:30 UTC).
        assert_eq!(
            next_free(tz, now, &slots, &[ms("2026-11-20T11:30:00Z")]),
            Some(ms("2026-11-23T08:30:00Z"))
        );
        assert_eq!(next_free(tz, now, &[], &[]), None);
    }
}
