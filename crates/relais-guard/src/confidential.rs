//! Confidentiality: code names, internal project names and markers
//! ("CONFIDENTIEL", "usage interne", "draft"), matched as whole words,
//! ignoring accents and case, over a folded copy of the text.

use crate::finding::{kinds, Hit, Severity, UiLang};
use crate::text::{Folded, TermMatcher};

/// Markers always checked, in addition to the workspace's own list.
pub const DEFAULT_MARKERS: &[&str] = &[
    "confidentiel",
    "confidential",
    "usage interne",
    "diffusion restreinte",
    "internal use only",
    "ne pas diffuser",
    "do not distribute",
    "sous embargo",
    "under embargo",
];

/// Compiled list of confidential terms of a workspace.
pub struct ConfidentialMatcher {
    terms: Vec<String>,
    matcher: TermMatcher,
}

impl ConfidentialMatcher {
    /// `terms` are the workspace's code names and markers ("Phénix", "draft").
    pub fn new<S: AsRef<str>>(terms: impl IntoIterator<Item = S>) -> ConfidentialMatcher {
        let terms: Vec<String> = terms
            .into_iter()
            .map(|t| t.as_ref().trim().to_string())
            .chain(DEFAULT_MARKERS.iter().map(|s| s.to_string()))
            .filter(|t| !t.is_empty())
            .collect();
        let matcher = TermMatcher::new(terms.iter().enumerate().map(|(i, t)| (i, t.as_str())));
        ConfidentialMatcher { terms, matcher }
    }

    pub(crate) fn check(&self, folded: &Folded, ui: UiLang) -> Vec<Hit> {
        self.matcher
            .find(folded)
            .into_iter()
            .map(|(id, span)| {
                let term = &self.terms[id];
                let msg = ui.pick(
                    format!("Terme confidentiel « {term} » : ne pas publier"),
                    format!("Confidential term “{term}”: must not be published"),
                );
                Hit::new(kinds::CONFIDENTIAL, Severity::Block, span, msg)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_case_whole_words() {
        let m = ConfidentialMatcher::new(["Projet Phénix", "draft"]);
        let t = "Le PROJET PHENIX (Draft) — document Confidentiel ; drafting et phénixien passent.";
        let hits = m.check(&Folded::new(t), UiLang::Fr);
        let found: Vec<&str> = hits.iter().map(|h| &t[h.start..h.end]).collect();
        assert_eq!(found, ["PROJET PHENIX", "Draft", "Confidentiel"]);
        assert!(hits.iter().all(|h| h.severity == Severity::Block));
    }

    #[test]
    fn english_marker() {
        let m = ConfidentialMatcher::new(Vec::<String>::new());
        let t = "INTERNAL USE ONLY: roadmap";
        assert_eq!(m.check(&Folded::new(t), UiLang::En).len(), 1);
    }
}
