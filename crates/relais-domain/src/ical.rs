//! A minimal iCalendar (RFC 5545) writer for the feed of planned publications: UTC instants,
//! escaped text, lines folded at 75 octets, CRLF endings.

use chrono::{TimeZone, Utc};

pub struct Event<'a> {
    pub uid: String,
    pub start_ms: i64,
    pub summary: &'a str,
    pub description: &'a str,
    pub url: Option<&'a str>,
    /// `CONFIRMED` (published), `TENTATIVE` (planned) or `CANCELLED`.
    pub status: &'a str,
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends one content line, folded so no line exceeds 75 octets (never inside a character).
fn line(out: &mut String, content: &str) {
    let mut width = 0;
    for c in content.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

fn stamp(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or_default()
        .format("%Y%m%dT%H%M%SZ")
        .to_string()
}

pub fn calendar(name: &str, now_ms: i64, events: &[Event]) -> String {
    let mut out = String::new();
    for l in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//relais//publications//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ] {
        line(&mut out, l);
    }
    line(&mut out, &format!("X-WR-CALNAME:{}", escape(name)));
    for e in events {
        line(&mut out, "BEGIN:VEVENT");
        line(&mut out, &format!("UID:{}", escape(&e.uid)));
        line(&mut out, &format!("DTSTAMP:{}", stamp(now_ms)));
        line(&mut out, &format!("DTSTART:{}", stamp(e.start_ms)));
        line(
            &mut out,
            &format!("DTEND:{}", stamp(e.start_ms + 15 * 60 * 1000)),
        );
        line(&mut out, &format!("SUMMARY:{}", escape(e.summary)));
        line(&mut out, &format!("DESCRIPTION:{}", escape(e.description)));
        if let Some(u) = e.url {
            line(&mut out, &format!("URL:{}", escape(u)));
        }
        line(&mut out, &format!("STATUS:{}", e.status));
        line(&mut out, "END:VEVENT");
    }
    line(&mut out, "END:VCALENDAR");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_folded_utc() {
        let long = "é".repeat(60);
        let e = Event {
            uid: "t1@relais".into(),
            start_ms: 1_795_509_000_000,
            summary: "Promo; -20 %, vite\nà saisir",
            description: &long,
            url: None,
            status: "TENTATIVE",
        };
        let c = calendar("Citroën", 0, &[e]);
        assert!(c.contains("DTSTART:20261124T083000Z\r\n"));
        assert!(c.contains("SUMMARY:Promo\\; -20 %\\, vite\\nà saisir\r\n"));
        assert!(c.lines().all(|l| l.len() <= 75), "folded");
        assert!(
            c.contains("\r\n é"),
            "continuation lines start with a space"
        );
        assert!(c.starts_with("BEGIN:VCALENDAR\r\n") && c.ends_with("END:VCALENDAR\r\n"));
    }
}
