//! Personal data: emails, phone numbers, IBANs (mod 97), payment cards
//! (Luhn) and French social security numbers (NIR key). Findings name the
//! kind of data, never the value, and nothing here logs.

use regex::Regex;
use std::sync::LazyLock;

use crate::finding::{kinds, Hit, Severity, UiLang};

static NIR_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b([1-478])[ .]?(\d{2})[ .]?(\d{2})[ .]?(\d{2}|2[AB])[ .]?(\d{3})[ .]?(\d{3})[ .]?(\d{2})\b")
        .expect("nir regex")
});
static IBAN_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b")
        .expect("iban regex")
});
static CARD_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b\d(?:[ -]?\d){12,18}\b").expect("card regex"));
static PHONE_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?:(?:\+|\b00)33[ .-]?(?:\(0\)[ .-]?)?|\b0)[1-9](?:[ .-]?\d{2}){4}\b",
        r"|(?:\+|\b00)[1-9]\d{0,2}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){2,5}\b",
    ))
    .expect("phone regex")
});
static EMAIL_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.\p{L}{2,}").expect("email")
});

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// Luhn checksum, used by payment cards.
pub fn luhn_valid(number: &str) -> bool {
    let d = digits(number);
    if d.len() < 13 || d.len() > 19 {
        return false;
    }
    let sum: u32 = d
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let v = u32::from(b - b'0');
            if i % 2 == 1 {
                let x = v * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                v
            }
        })
        .sum();
    matches!(sum % 10, 0)
}

/// ISO 13616 IBAN check: moved country code, letters as numbers, mod 97 == 1.
pub fn iban_valid(iban: &str) -> bool {
    let s: String = iban
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    if s.len() < 15 || s.len() > 34 || !s.chars().all(|c| c.is_ascii_alphanumeric()) {
        return false;
    }
    let (head, tail) = s.split_at(4);
    if !head[..2].chars().all(|c| c.is_ascii_uppercase())
        || !head[2..].chars().all(|c| c.is_ascii_digit())
    {
        return false;
    }
    let mut rem: u32 = 0;
    for c in tail.chars().chain(head.chars()) {
        let v = c.to_digit(36).unwrap_or(0);
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

/// French NIR: 13 characters (Corsica "2A"/"2B" count as 19/18) + key
/// 97 − (n mod 97).
pub fn nir_valid(nir: &str) -> bool {
    let s: String = nir
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_uppercase();
    if s.len() != 15 {
        return false;
    }
    let (body, key) = s.split_at(13);
    let (Ok(key), true) = (key.parse::<u64>(), key.chars().all(|c| c.is_ascii_digit())) else {
        return false;
    };
    let mut n: u64 = 0;
    let mut corsica = 0;
    for (i, c) in body.chars().enumerate() {
        let v = match c {
            '0'..='9' => c as u64 - '0' as u64,
            'A' | 'B' if i == 6 => {
                corsica = if c == 'A' { 1_000_000 } else { 2_000_000 };
                0
            }
            _ => return false,
        };
        n = n * 10 + v;
    }
    // 2A → 19, 2B → 18: body with "20" then subtract 1/2 at the department position.
    let n = n - corsica;
    97 - (n % 97) == key
}

fn overlaps(taken: &[(usize, usize)], s: usize, e: usize) -> bool {
    taken.iter().any(|&(a, b)| a < e && s < b)
}

/// Contact values (the brand's own email or phone) that may be published.
fn allowed(value: &str, allow: &[String]) -> bool {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_whitespace() && !matches!(c, '.' | '-'))
            .collect::<String>()
            .to_lowercase()
    };
    let v = norm(value);
    allow.iter().any(|a| norm(a) == v)
}

type Validator = fn(&str, &[String]) -> bool;

/// Detectors in priority order: a span taken by one is not reported again.
fn detectors() -> [(
    &'static str,
    Severity,
    &'static Regex,
    Validator,
    &'static str,
    &'static str,
); 5] {
    [
        (
            kinds::PII_NIR,
            Severity::Block,
            &NIR_RE,
            |m, _| nir_valid(m),
            "Numéro de sécurité sociale détecté (donnée personnelle sensible)",
            "French social security number detected (sensitive personal data)",
        ),
        (
            kinds::PII_IBAN,
            Severity::Block,
            &IBAN_RE,
            |m, _| iban_valid(m),
            "IBAN détecté (coordonnées bancaires)",
            "IBAN detected (bank details)",
        ),
        (
            kinds::PII_CARD,
            Severity::Block,
            &CARD_RE,
            |m, _| luhn_valid(m),
            "Numéro de carte bancaire détecté",
            "Payment card number detected",
        ),
        (
            kinds::PII_EMAIL,
            Severity::NeedsApproval,
            &EMAIL_RE,
            |m, allow| !allowed(m, allow),
            "Adresse e-mail détectée : vérifiez qu’elle peut être publiée",
            "Email address detected: check that it may be published",
        ),
        (
            kinds::PII_PHONE,
            Severity::NeedsApproval,
            &PHONE_RE,
            |m, allow| (8..=15).contains(&digits(m).len()) && !allowed(m, allow),
            "Numéro de téléphone détecté : vérifiez qu’il peut être publié",
            "Phone number detected: check that it may be published",
        ),
    ]
}

/// `links` are the byte spans of URLs and domains: digits in a link path are
/// identifiers, not phone or card numbers.
pub(crate) fn check(
    text: &str,
    allow: &[String],
    links: &[(usize, usize)],
    ui: UiLang,
) -> Vec<Hit> {
    let mut out = Vec::new();
    let mut taken: Vec<(usize, usize)> = links.to_vec();
    for (kind, sev, re, valid, fr, en) in detectors() {
        for m in re.find_iter(text) {
            if !overlaps(&taken, m.start(), m.end()) && valid(m.as_str(), allow) {
                taken.push((m.start(), m.end()));
                out.push(Hit::new(kind, sev, (m.start(), m.end()), ui.pick(fr, en)));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<&'static str> {
        check(text, &[], &[], UiLang::Fr)
            .into_iter()
            .map(|h| h.kind)
            .collect()
    }

    #[test]
    fn iban_checksum() {
        assert!(iban_valid("FR76 3000 6000 0112 3456 7890 189"));
        assert!(iban_valid("GB82WEST12345698765432"));
        assert!(!iban_valid("FR76 3000 6000 0112 3456 7890 188"));
        assert_eq!(
            found("Virement : FR76 3000 6000 0112 3456 7890 189 merci"),
            [kinds::PII_IBAN]
        );
        assert!(found("Réf FR76 3000 6000 0112 3456 7890 188").is_empty());
    }

    #[test]
    fn luhn_cards() {
        assert!(luhn_valid("4111 1111 1111 1111"));
        assert!(luhn_valid("5500-0000-0000-0004"));
        assert!(!luhn_valid("4111 1111 1111 1112"));
        assert_eq!(found("carte 4111 1111 1111 1111."), [kinds::PII_CARD]);
        assert!(found("commande 4111 1111 1111 1112").is_empty());
    }

    #[test]
    fn nir_key_and_corsica() {
        // 1 84 12 76 451 089 key 46 (97 - n mod 97).
        assert!(nir_valid("1 84 12 76 451 089 46"));
        assert!(!nir_valid("1 84 12 76 451 089 47"));
        assert!(nir_valid("2 90 05 2A 004 123 52"), "Corsica 2A");
        assert!(!nir_valid("2 90 05 2A 004 123 53"));
        assert_eq!(found("NIR 184127645108946"), [kinds::PII_NIR]);
    }

    #[test]
    fn phones_and_emails() {
        assert_eq!(found("Appelez le 06 12 34 56 78"), [kinds::PII_PHONE]);
        assert_eq!(found("ou +33 6 12 34 56 78"), [kinds::PII_PHONE]);
        assert_eq!(found("ou 0033 6 12 34 56 78"), [kinds::PII_PHONE]);
        assert_eq!(found("call +44 20 7946 0958 now"), [kinds::PII_PHONE]);
        assert_eq!(found("write to jane.doe@example.com"), [kinds::PII_EMAIL]);
        assert!(found("Le 12/03/2025 à 18h30, 49,90 € pour 2 000 personnes").is_empty());
        let allow = vec![
            "contact@relais.fr".to_string(),
            "01 23 45 67 89".to_string(),
        ];
        assert!(check(
            "contact@relais.fr ou 01.23.45.67.89",
            &allow,
            &[],
            UiLang::En
        )
        .is_empty());
    }

    #[test]
    fn messages_never_echo_values() {
        for h in check(
            "jane@ex.com 06 12 34 56 78 4111 1111 1111 1111",
            &[],
            &[],
            UiLang::En,
        ) {
            assert!(
                !h.message.contains("jane")
                    && !h.message.contains("1111")
                    && !h.message.contains("12 34")
            );
        }
    }
}
