//! French and English, complete. Every string of the interface has both translations in the
//! table below (the macro makes a missing one a compile error), and error messages say what
//! is wrong and what to do, per field.

use axum::http::HeaderMap;
use chrono::{Datelike, TimeZone, Timelike};
use relais_domain::{Code, Lang};

pub const LANG_COOKIE: &str = "relais_lang";

/// The visitor's language: the `relais_lang` cookie (set from the user's preference at login
/// and when it changes), then `Accept-Language`, then English.
pub fn lang_of_request(headers: &HeaderMap) -> Lang {
    crate::auth::cookie(headers, LANG_COOKIE)
        .and_then(|v| Lang::parse(&v))
        .or_else(|| {
            headers
                .get(axum::http::header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or_default()
}

macro_rules! table {
    ($($key:literal => $en:literal, $fr:literal;)*) => {
        pub(super) fn lookup(key: &str, lang: Lang) -> Option<&'static str> {
            Some(match (key, lang) {
                $(($key, Lang::En) => $en, ($key, Lang::Fr) => $fr,)*
                _ => return None,
            })
        }
        #[cfg(test)]
        pub(super) const KEYS: &[&str] = &[$($key),*];
    };
}

// Every string of the interface, in both languages (two tables to keep files small).
mod strings;
mod strings_listen;

fn lookup(key: &str, lang: Lang) -> Option<&'static str> {
    strings::lookup(key, lang).or_else(|| strings_listen::lookup(key, lang))
}

#[cfg(test)]
fn keys() -> impl Iterator<Item = &'static &'static str> {
    strings::KEYS.iter().chain(strings_listen::KEYS)
}

#[derive(Debug, Clone, Copy)]
pub struct Tr(pub Lang);

impl Tr {
    /// The translation of `key`; a missing key shows as `⟦key⟧` so tests catch it.
    pub fn t(&self, key: &str) -> &'static str {
        lookup(key, self.0).unwrap_or_else(|| {
            tracing::warn!(key, "missing translation");
            Box::leak(format!("⟦{key}⟧").into_boxed_str())
        })
    }

    pub fn lang(&self) -> &'static str {
        self.0.as_str()
    }

    /// Label of a form/API field, for messages.
    pub fn field(&self, field: &str) -> &'static str {
        lookup(&format!("field.{field}"), self.0).unwrap_or(match self.0 {
            Lang::En => "This field",
            Lang::Fr => "Ce champ",
        })
    }

    /// A message for an error code, naming the field when there is one.
    pub fn code(&self, code: Code, field: Option<&str>) -> String {
        let msg = lookup(&format!("err.{}", code.as_str()), self.0)
            .unwrap_or_else(|| self.t("err.internal"));
        match field {
            Some(f) => msg.replace("{field}", self.field(f)),
            None => msg.replace(
                "{field}",
                match self.0 {
                    Lang::En => "This value",
                    Lang::Fr => "Cette valeur",
                },
            ),
        }
    }

    /// A whole number as each language groups digits: « 12 500 » / "12,500".
    pub fn number(&self, n: impl std::borrow::Borrow<i64>) -> String {
        let n = *n.borrow();
        let digits = n.unsigned_abs().to_string();
        let sep = match self.0 {
            Lang::Fr => '\u{202f}',
            Lang::En => ',',
        };
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(sep);
            }
            out.push(c);
        }
        if n < 0 {
            out.insert(0, '-');
        }
        out
    }

    /// A share as a percentage with one decimal: « 3,5 % » / "3.5%".
    pub fn percent(&self, share: f64) -> String {
        let v = format!("{:.1}", share * 100.0);
        match self.0 {
            Lang::Fr => format!("{}\u{a0}%", v.replace('.', ",")),
            Lang::En => format!("{v}%"),
        }
    }

    /// A time of day in the given zone: « 14 h 32 » / "2:32 PM".
    pub fn time(&self, ms: impl std::borrow::Borrow<i64>, tz: &str) -> String {
        let tz: chrono_tz::Tz = tz.parse().unwrap_or(chrono_tz::UTC);
        let Some(d) = tz.timestamp_millis_opt(*ms.borrow()).single() else {
            return String::new();
        };
        match self.0 {
            Lang::Fr => format!("{:02}\u{a0}h\u{a0}{:02}", d.hour(), d.minute()),
            Lang::En => {
                let (pm, h) = d.hour12();
                format!("{h}:{:02} {}", d.minute(), if pm { "PM" } else { "AM" })
            }
        }
    }

    /// A date and time in the given zone, as each language writes it:
    /// « lun. 24 nov. 2026, 09 h 30 » / "Mon, Nov 24, 2026, 9:30 AM".
    pub fn datetime(&self, ms: impl std::borrow::Borrow<i64>, tz: &str) -> String {
        let ms = *ms.borrow();
        let tz: chrono_tz::Tz = tz.parse().unwrap_or(chrono_tz::UTC);
        let Some(d) = tz.timestamp_millis_opt(ms).single() else {
            return String::new();
        };
        let wd = d.weekday().num_days_from_monday() as usize;
        let mo = d.month0() as usize;
        match self.0 {
            Lang::Fr => {
                const J: [&str; 7] = ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."];
                const M: [&str; 12] = [
                    "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.",
                    "oct.", "nov.", "déc.",
                ];
                format!(
                    "{} {} {} {}, {:02}\u{a0}h\u{a0}{:02}",
                    J[wd],
                    d.day(),
                    M[mo],
                    d.year(),
                    d.hour(),
                    d.minute()
                )
            }
            Lang::En => {
                const D: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
                const M: [&str; 12] = [
                    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                    "Dec",
                ];
                let (pm, h) = d.hour12();
                format!(
                    "{}, {} {}, {}, {}:{:02} {}",
                    D[wd],
                    M[mo],
                    d.day(),
                    d.year(),
                    h,
                    d.minute(),
                    if pm { "PM" } else { "AM" }
                )
            }
        }
    }

    pub fn lang_name(&self, l: impl std::borrow::Borrow<Lang>) -> &'static str {
        self.t(&format!("lang.{}", l.borrow().as_str()))
    }

    pub fn state(
        &self,
        s: impl std::borrow::Borrow<relais_domain::publish::TargetState>,
    ) -> &'static str {
        self.t(&format!("state.{}", s.borrow().as_str()))
    }

    pub fn role(&self, role: &relais_domain::Role) -> &'static str {
        self.t(&format!("role.{}", role.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_message_in_both_languages() {
        for code in Code::ALL {
            for lang in [Lang::En, Lang::Fr] {
                assert!(
                    lookup(&format!("err.{}", code.as_str()), lang).is_some(),
                    "err.{code} ({lang:?})"
                );
            }
        }
    }

    #[test]
    fn numbers_and_percentages_follow_the_language() {
        assert_eq!(Tr(Lang::Fr).number(12500), "12\u{202f}500");
        assert_eq!(Tr(Lang::En).number(-1234567), "-1,234,567");
        assert_eq!(Tr(Lang::En).number(999), "999");
        assert_eq!(Tr(Lang::Fr).percent(0.035), "3,5\u{a0}%");
        assert_eq!(Tr(Lang::En).percent(0.5), "50.0%");
    }

    #[test]
    fn messages_name_the_field() {
        let m = Tr(Lang::Fr).code(Code::Required, Some("email"));
        assert_eq!(m, "E-mail est obligatoire : remplissez-le.");
        assert!(Tr(Lang::En)
            .code(Code::InvalidTimeZone, Some("time_zone"))
            .starts_with("Time zone is not"));
    }

    #[test]
    fn keys_unique_and_dates_localised() {
        let mut seen = std::collections::HashSet::new();
        for k in keys() {
            assert!(seen.insert(k), "duplicate key {k}");
        }
        // 2026-11-24 08:30 UTC = 09:30 in Paris.
        let ms = 1_795_509_000_000;
        assert_eq!(
            Tr(Lang::Fr).datetime(ms, "Europe/Paris"),
            "mar. 24 nov. 2026, 09\u{a0}h\u{a0}30"
        );
        assert_eq!(
            Tr(Lang::En).datetime(ms, "Europe/Paris"),
            "Tue, Nov 24, 2026, 9:30 AM"
        );
    }
}
