//! relais-guard: checks a post before it goes out.
//!
//! Spelling (French and English Hunspell dictionaries embedded in the
//! binary), typography, the workspace's editorial charter, confidentiality,
//! personal data and links. Every finding has a severity, a character span,
//! a message in the user's language, suggestions and a stable `kind`.
//!
//! ```
//! use relais_guard::{check, CheckContext};
//! let ctx = CheckContext::new("fr").with_custom_words(["Relais"]);
//! let report = check("Bonjour !", &ctx);
//! assert!(!report.blocking);
//! ```

mod charter;
mod check;
mod confidential;
mod dict;
mod finding;
pub mod links;
mod pii;
mod spelling;
mod text;
mod tokenize;
mod typography;

pub mod bench;
pub mod cli;

pub use charter::{
    ApprovalPreset, BrandRule, Charter, CharterError, CompiledCharter, LinkRules, TermRule,
    ToneRules,
};
pub use check::{check, CheckContext, Report};
pub use confidential::DEFAULT_MARKERS as DEFAULT_CONFIDENTIAL_MARKERS;
pub use dict::{has_dictionary, preload as preload_dictionaries, Lang, SUPPORTED_LANGUAGES};
pub use finding::{kinds, Finding, Severity, UiLang};
pub use pii::{iban_valid, luhn_valid, nir_valid};
pub use spelling::{is_correct, suggest, suggest_for};

pub use bench::{run_bench, BenchArgs};
pub use cli::{run_check, CheckArgs};
