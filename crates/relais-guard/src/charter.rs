//! The editorial charter of a workspace: a serde struct stored as JSON by the
//! caller, validated on save ([`Charter::validate`]) and compiled once per
//! workspace ([`Charter::compile`]) so that checks stay fast.

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

use crate::finding::{kinds, Hit, Severity, UiLang};
use crate::text::{Folded, TermMatcher};
use crate::tokenize::{Scan, SpanKind};

/// A term or pattern rule. `term` is a literal word or phrase matched as whole
/// words ignoring case and accents, or a regular expression when `regex` is
/// true (case-insensitive).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TermRule {
    pub term: String,
    pub regex: bool,
    /// What to write instead (forbidden terms).
    pub replacement: Option<String>,
    /// Why the rule exists, shown to the user.
    pub reason: Option<String>,
    /// Channel kinds the rule applies to (`linkedin`, `newsletter`…); empty = all.
    pub channels: Vec<String>,
    /// Overrides the default severity of the rule family.
    pub severity: Option<Severity>,
}

/// A brand name that must be written exactly one way ("Citroën").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BrandRule {
    pub name: String,
    /// Extra wrong spellings to catch ("Citroen" is caught without this).
    pub variants: Vec<String>,
    pub severity: Option<Severity>,
}

/// Built-in lists of words that force approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalPreset {
    /// Amounts with a currency, discounts ("-30 %").
    Prices,
    /// Guarantees, contests, refunds, lawsuits.
    Legal,
    /// Health and medical claims.
    Health,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ToneRules {
    /// Report ALL-CAPS passages with `severity` instead of a plain warning.
    pub no_all_caps: bool,
    pub max_exclamation_marks: Option<usize>,
    pub severity: Option<Severity>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LinkRules {
    /// Links must carry the UTM parameters below.
    pub require_utm: bool,
    /// Defaults to utm_source, utm_medium, utm_campaign.
    pub utm_params: Vec<String>,
    /// Only links to these domains (and their subdomains); empty = all links.
    pub utm_domains: Vec<String>,
    pub severity: Option<Severity>,
}

/// The editorial charter of a workspace.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Charter {
    /// Default severity `block`.
    pub forbidden_terms: Vec<TermRule>,
    /// Missing term or hashtag for the channel; default `needs_approval`.
    pub required_terms: Vec<TermRule>,
    /// Default `block`.
    pub brand_names: Vec<BrandRule>,
    /// Default `needs_approval`.
    pub approval_terms: Vec<TermRule>,
    pub approval_presets: Vec<ApprovalPreset>,
    pub max_hashtags: Option<usize>,
    pub tone: ToneRules,
    pub links: LinkRules,
    /// Extra words for the spelling check (jargon, product names).
    pub custom_words: Vec<String>,
    /// Code names and internal markers that must never be published.
    pub confidential_terms: Vec<String>,
    /// The brand's own email addresses and phone numbers, allowed in posts.
    pub allowed_contacts: Vec<String>,
}

/// A charter rule that cannot be used; names the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid charter rule {rule}: {message}")]
pub struct CharterError {
    /// E.g. `forbidden_terms[2] ("prix(")`.
    pub rule: String,
    pub message: String,
}

enum Matcher {
    Literal,
    Regex(Regex),
}

struct RuleSet {
    rules: Vec<TermRule>,
    matchers: Vec<Matcher>,
    literals: TermMatcher,
}

impl RuleSet {
    fn compile(family: &str, rules: &[TermRule]) -> Result<RuleSet, CharterError> {
        let mut matchers = Vec::new();
        for (i, r) in rules.iter().enumerate() {
            let rule = format!("{family}[{i}] ({:?})", r.term);
            if r.term.trim().is_empty() {
                return Err(CharterError {
                    rule,
                    message: "empty term".into(),
                });
            }
            if r.regex {
                let re = RegexBuilder::new(&r.term)
                    .case_insensitive(true)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| CharterError {
                        rule,
                        message: e.to_string(),
                    })?;
                matchers.push(Matcher::Regex(re));
            } else {
                matchers.push(Matcher::Literal);
            }
        }
        let literals = TermMatcher::new(
            rules
                .iter()
                .enumerate()
                .filter(|(_, r)| !r.regex)
                .map(|(i, r)| (i, r.term.as_str())),
        );
        Ok(RuleSet {
            rules: rules.to_vec(),
            matchers,
            literals,
        })
    }

    /// (rule index, byte span) of every match of the rules active on `channel`.
    fn find(
        &self,
        text: &str,
        folded: &Folded,
        channel: Option<&str>,
    ) -> Vec<(usize, (usize, usize))> {
        let mut out = self.literals.find(folded);
        for (i, m) in self.matchers.iter().enumerate() {
            if let Matcher::Regex(re) = m {
                out.extend(
                    re.find_iter(text)
                        .filter(|m| !m.is_empty())
                        .map(|m| (i, (m.start(), m.end()))),
                );
            }
        }
        out.retain(|(i, _)| applies(&self.rules[*i], channel));
        out.sort_by_key(|(_, s)| *s);
        out
    }
}

fn applies(rule: &TermRule, channel: Option<&str>) -> bool {
    rule.channels.is_empty()
        || channel.is_some_and(|c| rule.channels.iter().any(|r| r.eq_ignore_ascii_case(c)))
}

fn preset_rules(p: ApprovalPreset) -> Vec<TermRule> {
    let lit = |t: &str| TermRule {
        term: t.into(),
        reason: Some(format!("{p:?}").to_lowercase()),
        ..TermRule::default()
    };
    match p {
        ApprovalPreset::Prices => vec![TermRule {
            term: r"\d[\d\u{00A0}\u{202F} .,]*\s?(?:€|eur\b|euros?\b|\$|usd\b|£|gbp\b)|(?:€|\$|£)\s?\d|-\s?\d+\s?%".into(),
            regex: true,
            reason: Some("prices".into()),
            ..TermRule::default()
        }],
        ApprovalPreset::Legal => [
            "garantie", "garanti", "garantis", "remboursé", "remboursement", "jeu concours", "jeu-concours",
            "tirage au sort", "sans obligation d'achat", "conditions générales", "procès", "plainte",
            "guarantee", "guaranteed", "refund", "giveaway", "sweepstakes", "terms and conditions",
            "lawsuit", "no purchase necessary",
        ]
        .iter()
        .map(|t| lit(t))
        .collect(),
        ApprovalPreset::Health => [
            "guérit", "guérir", "soigne", "soigner", "traitement", "médicament", "cliniquement prouvé",
            "minceur", "cure", "cures", "heals", "treatment", "clinically proven", "weight loss",
        ]
        .iter()
        .map(|t| lit(t))
        .collect(),
    }
}

/// A charter ready to check texts; build it once per workspace.
pub struct CompiledCharter {
    pub charter: Charter,
    forbidden: RuleSet,
    required: RuleSet,
    approval: RuleSet,
    brands: TermMatcher,
    /// For each brand matcher id: index of the brand rule.
    brand_of: Vec<usize>,
}

impl Charter {
    /// Checks every rule; the error names the first invalid one.
    pub fn validate(&self) -> Result<(), CharterError> {
        self.compile().map(|_| ())
    }

    pub fn compile(&self) -> Result<CompiledCharter, CharterError> {
        let mut approval = self.approval_terms.clone();
        for p in &self.approval_presets {
            approval.extend(preset_rules(*p));
        }
        let mut brand_terms: Vec<(usize, String)> = Vec::new();
        for (i, b) in self.brand_names.iter().enumerate() {
            if b.name.trim().is_empty() {
                return Err(CharterError {
                    rule: format!("brand_names[{i}]"),
                    message: "empty name".into(),
                });
            }
            let n = b.name.trim();
            brand_terms.push((i, n.to_string()));
            if n.contains('-') {
                brand_terms.push((i, n.replace('-', " ")));
                brand_terms.push((i, n.replace('-', "")));
            }
            if n.contains(' ') {
                brand_terms.push((i, n.replace(' ', "")));
            }
            brand_terms.extend(b.variants.iter().map(|v| (i, v.clone())));
        }
        for (i, p) in self.links.utm_params.iter().enumerate() {
            if p.trim().is_empty() || p.contains(['&', '=', ' ']) {
                return Err(CharterError {
                    rule: format!("links.utm_params[{i}] ({p:?})"),
                    message: "not a parameter name".into(),
                });
            }
        }
        let brands = TermMatcher::new(
            brand_terms
                .iter()
                .enumerate()
                .map(|(k, (_, t))| (k, t.as_str())),
        );
        Ok(CompiledCharter {
            forbidden: RuleSet::compile("forbidden_terms", &self.forbidden_terms)?,
            required: RuleSet::compile("required_terms", &self.required_terms)?,
            approval: RuleSet::compile("approval_terms", &approval)?,
            brand_of: brand_terms.iter().map(|(i, _)| *i).collect(),
            brands,
            charter: self.clone(),
        })
    }
}

fn or(sev: Option<Severity>, default: Severity) -> Severity {
    sev.unwrap_or(default)
}

impl CompiledCharter {
    pub(crate) fn check(
        &self,
        text: &str,
        folded: &Folded,
        scan: &Scan<'_>,
        channel: Option<&str>,
        ui: UiLang,
    ) -> Vec<Hit> {
        let mut out = Vec::new();
        for (i, span) in self.forbidden.find(text, folded, channel) {
            let r = &self.forbidden.rules[i];
            let found = &text[span.0..span.1];
            let mut msg = ui.pick(
                format!("Terme proscrit par la charte : « {found} »"),
                format!("Term banned by the charter: “{found}”"),
            );
            if let Some(why) = &r.reason {
                msg.push_str(&format!(" ({why})"));
            }
            let mut h = Hit::new(kinds::FORBIDDEN, or(r.severity, Severity::Block), span, msg);
            if let Some(rep) = &r.replacement {
                h = h.suggest(rep.clone());
            }
            out.push(h);
        }
        for (i, span) in self.approval.find(text, folded, channel) {
            let r = &self.approval.rules[i];
            let found = &text[span.0..span.1];
            let why = r.reason.as_deref().unwrap_or("charte");
            let msg = ui.pick(
                format!("« {found} » demande une validation ({why})"),
                format!("“{found}” needs approval ({why})"),
            );
            out.push(Hit::new(
                kinds::APPROVAL,
                or(r.severity, Severity::NeedsApproval),
                span,
                msg,
            ));
        }
        self.check_required(text, folded, channel, ui, &mut out);
        self.check_brands(text, folded, ui, &mut out);
        self.check_counts(text, scan, ui, &mut out);
        out
    }

    fn check_required(
        &self,
        text: &str,
        folded: &Folded,
        channel: Option<&str>,
        ui: UiLang,
        out: &mut Vec<Hit>,
    ) {
        let present: Vec<usize> = self
            .required
            .find(text, folded, channel)
            .into_iter()
            .map(|(i, _)| i)
            .collect();
        for (i, r) in self.required.rules.iter().enumerate() {
            if !applies(r, channel) || present.contains(&i) {
                continue;
            }
            let term = &r.term;
            let msg = match channel {
                Some(c) => ui.pick(
                    format!("« {term} » est obligatoire sur {c}"),
                    format!("“{term}” is required on {c}"),
                ),
                None => ui.pick(
                    format!("« {term} » est obligatoire"),
                    format!("“{term}” is required"),
                ),
            };
            let end = text.len();
            let mut h = Hit::new(
                kinds::REQUIRED,
                or(r.severity, Severity::NeedsApproval),
                (end, end),
                msg,
            );
            if !r.regex {
                h = h.suggest(format!(" {term}"));
            }
            out.push(h);
        }
    }

    fn check_brands(&self, text: &str, folded: &Folded, ui: UiLang, out: &mut Vec<Hit>) {
        for (k, span) in self.brands.find(folded) {
            let rule = &self.charter.brand_names[self.brand_of[k]];
            let name = rule.name.trim();
            let found = &text[span.0..span.1];
            if found == name {
                continue;
            }
            // All-lowercase "orange" for brand "Orange" is usually the common word.
            let only_case = found.to_lowercase() == name.to_lowercase();
            if only_case && !found.chars().any(char::is_uppercase) {
                continue;
            }
            let msg = ui.pick(
                format!("La marque s’écrit « {name} »"),
                format!("The brand is written “{name}”"),
            );
            out.push(
                Hit::new(kinds::BRAND, or(rule.severity, Severity::Block), span, msg).suggest(name),
            );
        }
    }

    fn check_counts(&self, text: &str, scan: &Scan<'_>, ui: UiLang, out: &mut Vec<Hit>) {
        let c = &self.charter;
        if let Some(max) = c.max_hashtags {
            let tags: Vec<_> = scan
                .protected
                .iter()
                .filter(|p| p.kind == SpanKind::Hashtag)
                .collect();
            if tags.len() > max {
                let (s, e) = (tags[max].start, tags[tags.len() - 1].end);
                let msg = ui.pick(
                    format!(
                        "{} hashtags : la charte en autorise {max} au plus",
                        tags.len()
                    ),
                    format!("{} hashtags: the charter allows at most {max}", tags.len()),
                );
                out.push(Hit::new(kinds::MAX_HASHTAGS, Severity::Warn, (s, e), msg));
            }
        }
        if let Some(max) = c.tone.max_exclamation_marks {
            let marks: Vec<usize> = text
                .match_indices('!')
                .map(|(b, _)| b)
                .filter(|b| !scan.is_protected(*b))
                .collect();
            if marks.len() > max {
                let s = marks[max];
                let msg = ui.pick(
                    format!(
                        "{} points d’exclamation : la charte en autorise {max} au plus",
                        marks.len()
                    ),
                    format!(
                        "{} exclamation marks: the charter allows at most {max}",
                        marks.len()
                    ),
                );
                let sev = or(c.tone.severity, Severity::Warn);
                out.push(Hit::new(
                    kinds::MAX_EXCLAMATIONS,
                    sev,
                    (s, marks[marks.len() - 1] + 1),
                    msg,
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests;
