//! The entry point: [`check`] runs every check with a [`CheckContext`].

use serde::{Deserialize, Serialize};
use std::sync::Arc;

use crate::charter::{Charter, CharterError, CompiledCharter};
use crate::confidential::ConfidentialMatcher;
use crate::dict::{self, Lang};
use crate::finding::{Finding, Hit, Severity, UiLang};
use crate::spelling::CustomWords;
use crate::text::{CharMap, Folded};
use crate::tokenize::SpanKind;
use crate::{links, pii, spelling, tokenize, typography};

/// Everything a check needs besides the text. Build it once per workspace
/// (it compiles the charter and term lists) and reuse it.
#[derive(Clone)]
pub struct CheckContext {
    /// Language of the text (`fr`, `en`, `fr-CA`…), given per call.
    pub lang: String,
    /// Language of the messages.
    pub ui_lang: UiLang,
    /// Channel kind (`linkedin`, `instagram`, `newsletter`…) for per-channel rules.
    pub channel_kind: Option<String>,
    charter: Option<Arc<CompiledCharter>>,
    custom: Arc<CustomWords>,
    confidential: Arc<ConfidentialMatcher>,
    custom_list: Vec<String>,
    confidential_list: Vec<String>,
}

impl CheckContext {
    pub fn new(lang: &str) -> CheckContext {
        CheckContext {
            lang: lang.to_string(),
            ui_lang: UiLang::parse(lang),
            channel_kind: None,
            charter: None,
            custom: Arc::new(CustomWords::default()),
            confidential: Arc::new(ConfidentialMatcher::new(Vec::<String>::new())),
            custom_list: Vec::new(),
            confidential_list: Vec::new(),
        }
    }

    pub fn with_ui_lang(mut self, ui: UiLang) -> Self {
        self.ui_lang = ui;
        self
    }

    pub fn with_channel(mut self, channel_kind: &str) -> Self {
        self.channel_kind = Some(channel_kind.to_string());
        self
    }

    /// Compiles the charter (its custom words, brand names and confidential
    /// terms are added to the context's lists).
    pub fn with_charter(mut self, charter: &Charter) -> Result<Self, CharterError> {
        let compiled = charter.compile()?;
        self.charter = Some(Arc::new(compiled));
        self.rebuild_lists();
        Ok(self)
    }

    /// Workspace dictionary: brand names, jargon (case-insensitive).
    pub fn with_custom_words<S: AsRef<str>>(mut self, words: impl IntoIterator<Item = S>) -> Self {
        self.custom_list
            .extend(words.into_iter().map(|w| w.as_ref().to_string()));
        self.rebuild_lists();
        self
    }

    /// Code names and internal markers of the workspace.
    pub fn with_confidential_terms<S: AsRef<str>>(
        mut self,
        terms: impl IntoIterator<Item = S>,
    ) -> Self {
        self.confidential_list
            .extend(terms.into_iter().map(|w| w.as_ref().to_string()));
        self.rebuild_lists();
        self
    }

    fn rebuild_lists(&mut self) {
        let ch = self.charter.as_ref().map(|c| &c.charter);
        let brands = ch
            .into_iter()
            .flat_map(|c| c.brand_names.iter().map(|b| b.name.clone()));
        let custom = ch.into_iter().flat_map(|c| c.custom_words.iter().cloned());
        let words: Vec<String> = self
            .custom_list
            .iter()
            .cloned()
            .chain(brands)
            .chain(custom)
            .collect();
        self.custom = Arc::new(CustomWords::new(words));
        let conf = ch
            .into_iter()
            .flat_map(|c| c.confidential_terms.iter().cloned());
        let terms: Vec<String> = self.confidential_list.iter().cloned().chain(conf).collect();
        self.confidential = Arc::new(ConfidentialMatcher::new(terms));
    }

    pub fn charter(&self) -> Option<&Charter> {
        self.charter.as_ref().map(|c| &c.charter)
    }
}

/// The result of a check. Findings are sorted by position.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub findings: Vec<Finding>,
    /// Something must be fixed before publishing.
    pub blocking: bool,
    /// Someone with approval rights must validate before publishing.
    pub needs_approval: bool,
    /// Text languages whose spelling was NOT checked (no dictionary): the UI
    /// must say so rather than show a clean report.
    pub languages_without_dictionary: Vec<String>,
}

/// Runs every check on `text`. Link reachability is not done here; see
/// [`links::extract`] and [`links::findings_from_probe`].
pub fn check(text: &str, ctx: &CheckContext) -> Report {
    let ui = ctx.ui_lang;
    let lang = Lang::parse(&ctx.lang);
    let mut report = Report::default();
    match lang {
        Some(l) if !dict::dictionaries(l).is_empty() => {}
        _ => report.languages_without_dictionary.push(ctx.lang.clone()),
    }
    if text.trim().is_empty() {
        return report;
    }
    let scan = tokenize::scan(text);
    let folded = Folded::new(text);
    let charter = ctx.charter.as_deref();
    let mut hits: Vec<Hit> = Vec::new();
    if let Some(l) = lang {
        hits.extend(spelling::check(text, &scan.words, l, &ctx.custom, ui));
    }
    let caps = match charter {
        Some(c) if c.charter.tone.no_all_caps => {
            c.charter.tone.severity.or(Some(Severity::NeedsApproval))
        }
        _ => Some(Severity::Warn),
    };
    hits.extend(typography::check(text, &scan, lang, ui, caps));
    hits.extend(ctx.confidential.check(&folded, ui));
    let allow = charter
        .map(|c| c.charter.allowed_contacts.as_slice())
        .unwrap_or(&[]);
    let link_spans: Vec<(usize, usize)> = scan
        .protected
        .iter()
        .filter(|p| matches!(p.kind, SpanKind::Url | SpanKind::Domain))
        .map(|p| (p.start, p.end))
        .collect();
    hits.extend(pii::check(text, allow, &link_spans, ui));
    if let Some(c) = charter {
        hits.extend(c.check(text, &folded, &scan, ctx.channel_kind.as_deref(), ui));
        hits.extend(links::check_utm(text, &c.charter.links, ui));
    }
    let map = CharMap::new(text);
    let mut findings: Vec<Finding> = hits.into_iter().map(|h| h.into_finding(&map)).collect();
    findings.sort_by(|a, b| (a.start, a.end, &a.kind).cmp(&(b.start, b.end, &b.kind)));
    findings.dedup_by(|a, b| a.start == b.start && a.end == b.end && a.kind == b.kind);
    report.blocking = findings.iter().any(|f| f.severity == Severity::Block);
    report.needs_approval = findings
        .iter()
        .any(|f| f.severity == Severity::NeedsApproval);
    report.findings = findings;
    report
}
