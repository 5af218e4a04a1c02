//! Links: extraction, UTM parameters required by the charter, and a plain data
//! API for the network probe run elsewhere (SSRF-guarded client in another
//! crate): `extract` → probe → `findings_from_probe`.

use serde::{Deserialize, Serialize};

use crate::charter::LinkRules;
use crate::finding::{kinds, Finding, Hit, Severity, UiLang};
use crate::text::CharMap;
use crate::tokenize::{protected_spans, SpanKind};

pub const DEFAULT_UTM_PARAMS: &[&str] = &["utm_source", "utm_medium", "utm_campaign"];

/// A link found in a text. `start`/`end` are character offsets; `url` is
/// absolute (`www.` links get `https://`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkRef {
    pub url: String,
    pub start: usize,
    pub end: usize,
}

/// What the probe saw for one link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ProbeOutcome {
    Ok {
        status: u16,
    },
    /// Followed redirects; `chain` lists the intermediate URLs in order.
    Redirected {
        chain: Vec<String>,
        final_url: String,
        final_status: u16,
    },
    HttpError {
        status: u16,
    },
    Timeout,
    /// DNS failure, refused connection, TLS error, or blocked by the SSRF guard.
    Unreachable {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeResult {
    pub link: LinkRef,
    pub outcome: ProbeOutcome,
}

/// Every URL of the text, in order.
pub fn extract(text: &str) -> Vec<LinkRef> {
    let map = CharMap::new(text);
    extract_bytes(text)
        .into_iter()
        .map(|(s, e, url)| LinkRef {
            url,
            start: map.char_at(s),
            end: map.char_at(e),
        })
        .collect()
}

fn extract_bytes(text: &str) -> Vec<(usize, usize, String)> {
    protected_spans(text)
        .into_iter()
        .filter(|p| p.kind == SpanKind::Url)
        .map(|p| {
            let raw = &text[p.start..p.end];
            let url = if raw.to_ascii_lowercase().starts_with("www.") {
                format!("https://{raw}")
            } else {
                raw.to_string()
            };
            (p.start, p.end, url)
        })
        .collect()
}

fn host_of(url: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .host_str()
        .map(|h| h.trim_start_matches("www.").to_ascii_lowercase())
}

/// Links missing UTM parameters the charter requires.
pub(crate) fn check_utm(text: &str, rules: &LinkRules, ui: UiLang) -> Vec<Hit> {
    if !rules.require_utm {
        return Vec::new();
    }
    let wanted: Vec<String> = if rules.utm_params.is_empty() {
        DEFAULT_UTM_PARAMS.iter().map(|s| s.to_string()).collect()
    } else {
        rules.utm_params.clone()
    };
    let mut out = Vec::new();
    for (s, e, url) in extract_bytes(text) {
        let Ok(parsed) = url::Url::parse(&url) else {
            continue;
        };
        if !rules.utm_domains.is_empty() {
            let host = host_of(&url).unwrap_or_default();
            let ours = rules.utm_domains.iter().any(|d| {
                let d = d.trim().trim_start_matches("www.").to_ascii_lowercase();
                host == d || host.ends_with(&format!(".{d}"))
            });
            if !ours {
                continue;
            }
        }
        let present: Vec<String> = parsed
            .query_pairs()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, _)| k.into_owned())
            .collect();
        let missing: Vec<&str> = wanted
            .iter()
            .filter(|w| !present.contains(w))
            .map(String::as_str)
            .collect();
        if missing.is_empty() {
            continue;
        }
        let list = missing.join(", ");
        let msg = ui.pick(
            format!("Paramètres UTM manquants : {list}"),
            format!("Missing UTM parameters: {list}"),
        );
        out.push(Hit::new(
            kinds::UTM_MISSING,
            rules.severity.unwrap_or(Severity::Warn),
            (s, e),
            msg,
        ));
    }
    out
}

/// Findings for probe results: broken links block, unreachable ones need
/// approval, redirects are shown as warnings.
pub fn findings_from_probe(results: &[ProbeResult], ui: UiLang) -> Vec<Finding> {
    let mut out = Vec::new();
    for r in results {
        let (kind, severity, message, suggestions) = match &r.outcome {
            ProbeOutcome::Ok { .. } => continue,
            ProbeOutcome::Redirected {
                chain,
                final_url,
                final_status,
            } => {
                let hops = chain.len() + 1;
                if *final_status >= 400 {
                    let m = ui.pick(
                        format!(
                            "Lien cassé : redirigé vers {final_url}, qui répond {final_status}"
                        ),
                        format!(
                            "Broken link: redirects to {final_url}, which answers {final_status}"
                        ),
                    );
                    (kinds::LINK_BROKEN, Severity::Block, m, vec![])
                } else {
                    let m = ui.pick(
                        format!("Lien redirigé ({hops} saut(s)) vers {final_url}"),
                        format!("Link redirects ({hops} hop(s)) to {final_url}"),
                    );
                    (
                        kinds::LINK_REDIRECT,
                        Severity::Warn,
                        m,
                        vec![final_url.clone()],
                    )
                }
            }
            ProbeOutcome::HttpError { status } => {
                let m = ui.pick(
                    format!("Lien cassé : le serveur répond {status}"),
                    format!("Broken link: the server answers {status}"),
                );
                (kinds::LINK_BROKEN, Severity::Block, m, vec![])
            }
            ProbeOutcome::Timeout => {
                let m = ui.pick(
                    "Lien injoignable : délai dépassé",
                    "Link unreachable: timed out",
                );
                (
                    kinds::LINK_UNREACHABLE,
                    Severity::NeedsApproval,
                    m.to_string(),
                    vec![],
                )
            }
            ProbeOutcome::Unreachable { reason } => {
                let m = ui.pick(
                    format!("Lien injoignable : {reason}"),
                    format!("Link unreachable: {reason}"),
                );
                (kinds::LINK_UNREACHABLE, Severity::NeedsApproval, m, vec![])
            }
        };
        out.push(Finding {
            kind: kind.to_string(),
            severity,
            start: r.link.start,
            end: r.link.end,
            message,
            suggestions,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extract_char_offsets_and_trailing_punctuation() {
        let t = "Été 🎉 : voir https://relais.io/a?b=1. Et (www.example.fr/x), fin";
        let links = extract(t);
        assert_eq!(links.len(), 2);
        assert_eq!(links[0].url, "https://relais.io/a?b=1");
        let chars: Vec<char> = t.chars().collect();
        let s: String = chars[links[0].start..links[0].end].iter().collect();
        assert_eq!(s, "https://relais.io/a?b=1");
        assert_eq!(links[1].url, "https://www.example.fr/x");
    }

    #[test]
    fn utm_required() {
        let rules = LinkRules {
            require_utm: true,
            utm_domains: vec!["relais.io".into()],
            ..LinkRules::default()
        };
        let t = "https://relais.io/p?utm_source=li&utm_medium=social&utm_campaign=x https://blog.relais.io/a?utm_source=li https://other.com/";
        let hits = check_utm(t, &rules, UiLang::En);
        assert_eq!(hits.len(), 1);
        assert!(hits[0].message.contains("utm_medium, utm_campaign"));
    }

    #[test]
    fn probe_findings() {
        let link = LinkRef {
            url: "https://a.fr".into(),
            start: 3,
            end: 15,
        };
        let res = vec![
            ProbeResult {
                link: link.clone(),
                outcome: ProbeOutcome::Ok { status: 200 },
            },
            ProbeResult {
                link: link.clone(),
                outcome: ProbeOutcome::HttpError { status: 404 },
            },
            ProbeResult {
                link: link.clone(),
                outcome: ProbeOutcome::Redirected {
                    chain: vec![],
                    final_url: "https://b.fr".into(),
                    final_status: 200,
                },
            },
            ProbeResult {
                link,
                outcome: ProbeOutcome::Timeout,
            },
        ];
        let f = findings_from_probe(&res, UiLang::Fr);
        let k: Vec<_> = f.iter().map(|x| (x.kind.as_str(), x.severity)).collect();
        assert_eq!(
            k,
            [
                (kinds::LINK_BROKEN, Severity::Block),
                (kinds::LINK_REDIRECT, Severity::Warn),
                (kinds::LINK_UNREACHABLE, Severity::NeedsApproval)
            ]
        );
        assert_eq!((f[0].start, f[0].end), (3, 15));
    }
}
