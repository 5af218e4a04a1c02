//! Findings: what every check returns, with spans in character offsets.

use serde::{Deserialize, Serialize};

/// How serious a finding is. Ordered: `Warn < NeedsApproval < Block`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Warn,
    NeedsApproval,
    Block,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warn => "warn",
            Severity::NeedsApproval => "needs_approval",
            Severity::Block => "block",
        }
    }
}

/// Language of the messages shown to the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UiLang {
    #[default]
    Fr,
    En,
}

impl UiLang {
    /// `"en…"` gives English, anything else French (the product's default).
    pub fn parse(s: &str) -> UiLang {
        if s.trim().to_ascii_lowercase().starts_with("en") {
            UiLang::En
        } else {
            UiLang::Fr
        }
    }

    /// Picks the message in the user's language.
    pub fn pick(self, fr: impl Into<String>, en: impl Into<String>) -> String {
        match self {
            UiLang::Fr => fr.into(),
            UiLang::En => en.into(),
        }
    }
}

/// One problem found in the text.
///
/// `start`/`end` are character offsets (Unicode scalar values) into the
/// checked text, end exclusive. Each suggestion replaces the whole span.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable code, e.g. `spelling.unknown_word`; see [`kinds`].
    pub kind: String,
    pub severity: Severity,
    pub start: usize,
    pub end: usize,
    pub message: String,
    pub suggestions: Vec<String>,
}

/// Stable `kind` codes, shared with the UI and the CLI output.
pub mod kinds {
    pub const SPELLING: &str = "spelling.unknown_word";
    pub const NBSP: &str = "typography.nbsp";
    pub const SPACE_BEFORE_PUNCT: &str = "typography.space_before_punctuation";
    pub const DOUBLED_WORD: &str = "typography.doubled_word";
    pub const DOUBLED_SPACE: &str = "typography.doubled_space";
    pub const ALL_CAPS: &str = "typography.all_caps";
    pub const REPEATED_PUNCT: &str = "typography.repeated_punctuation";
    pub const FORBIDDEN: &str = "charter.forbidden_term";
    pub const REQUIRED: &str = "charter.required_term_missing";
    pub const BRAND: &str = "charter.brand_spelling";
    pub const APPROVAL: &str = "charter.approval_term";
    pub const MAX_HASHTAGS: &str = "charter.too_many_hashtags";
    pub const MAX_EXCLAMATIONS: &str = "charter.too_many_exclamations";
    pub const CONFIDENTIAL: &str = "confidential.term";
    pub const PII_EMAIL: &str = "pii.email";
    pub const PII_PHONE: &str = "pii.phone";
    pub const PII_IBAN: &str = "pii.iban";
    pub const PII_CARD: &str = "pii.payment_card";
    pub const PII_NIR: &str = "pii.social_security_number";
    pub const UTM_MISSING: &str = "link.utm_missing";
    pub const LINK_BROKEN: &str = "link.broken";
    pub const LINK_REDIRECT: &str = "link.redirect";
    pub const LINK_UNREACHABLE: &str = "link.unreachable";
}

/// A finding whose span is still in byte offsets (internal to the checks).
#[derive(Debug, Clone)]
pub(crate) struct Hit {
    pub kind: &'static str,
    pub severity: Severity,
    pub start: usize,
    pub end: usize,
    pub message: String,
    pub suggestions: Vec<String>,
}

impl Hit {
    pub fn new(
        kind: &'static str,
        severity: Severity,
        span: (usize, usize),
        message: String,
    ) -> Hit {
        Hit {
            kind,
            severity,
            start: span.0,
            end: span.1,
            message,
            suggestions: Vec::new(),
        }
    }

    pub fn suggest(mut self, s: impl Into<String>) -> Hit {
        self.suggestions.push(s.into());
        self
    }

    pub fn into_finding(self, map: &crate::text::CharMap) -> Finding {
        Finding {
            kind: self.kind.to_string(),
            severity: self.severity,
            start: map.char_at(self.start),
            end: map.char_at(self.end),
            message: self.message,
            suggestions: self.suggestions,
        }
    }
}
