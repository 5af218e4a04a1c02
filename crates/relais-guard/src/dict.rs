//! The Hunspell dictionaries shipped in `dicts/`, embedded in the binary and
//! parsed once on first use (about 0.1 s for French).

use spellbook::Dictionary;
use std::collections::HashMap;
use std::sync::OnceLock;

/// Spelling languages relais has a dictionary for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    Fr,
    En,
}

impl Lang {
    /// `fr`, `fr-FR`, `fr_CA`, `en`, `en-GB`… Anything else has no dictionary.
    pub fn parse(tag: &str) -> Option<Lang> {
        let t = tag.trim().to_ascii_lowercase();
        let primary = t.split(['-', '_']).next().unwrap_or("");
        match primary {
            "fr" => Some(Lang::Fr),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }
}

/// Language tags accepted by the spelling check.
pub const SUPPORTED_LANGUAGES: &[&str] = &["fr", "en"];

/// True when `tag` (e.g. `"fr-CA"`) has a spelling dictionary.
pub fn has_dictionary(tag: &str) -> bool {
    Lang::parse(tag).is_some_and(|l| !dictionaries(l).is_empty())
}

static FR: OnceLock<Option<Dictionary>> = OnceLock::new();
static EN_US: OnceLock<Option<Dictionary>> = OnceLock::new();
static EN_GB: OnceLock<Option<Dictionary>> = OnceLock::new();

fn load(aff: &'static str, dic: &'static str) -> Option<Dictionary> {
    // en_GB.dic starts with a byte-order mark.
    Dictionary::new(
        aff.trim_start_matches('\u{feff}'),
        dic.trim_start_matches('\u{feff}'),
    )
    .ok()
}

const FR_DIC: &str = include_str!("../dicts/fr.dic");
const EN_US_DIC: &str = include_str!("../dicts/en_US.dic");
const EN_GB_DIC: &str = include_str!("../dicts/en_GB.dic");

fn fr() -> Option<&'static Dictionary> {
    FR.get_or_init(|| load(include_str!("../dicts/fr.aff"), FR_DIC))
        .as_ref()
}

fn en_us() -> Option<&'static Dictionary> {
    EN_US
        .get_or_init(|| load(include_str!("../dicts/en_US.aff"), EN_US_DIC))
        .as_ref()
}

fn en_gb() -> Option<&'static Dictionary> {
    EN_GB
        .get_or_init(|| load(include_str!("../dicts/en_GB.aff"), EN_GB_DIC))
        .as_ref()
}

/// The dictionaries consulted for a language; a word is correct when any
/// accepts it (English accepts both US and UK spellings).
pub fn dictionaries(lang: Lang) -> Vec<&'static Dictionary> {
    match lang {
        Lang::Fr => fr().into_iter().collect(),
        Lang::En => en_us().into_iter().chain(en_gb()).collect(),
    }
}

/// Parses every dictionary now (call at start-up to keep the first check fast).
pub fn preload() {
    dictionaries(Lang::Fr);
    dictionaries(Lang::En);
}

type AccentIndex = HashMap<String, Vec<&'static str>>;
static FR_INDEX: OnceLock<AccentIndex> = OnceLock::new();
static EN_INDEX: OnceLock<AccentIndex> = OnceLock::new();

fn build_index(dics: &[&'static str]) -> AccentIndex {
    let mut map: AccentIndex = HashMap::new();
    for dic in dics {
        for line in dic.lines().skip(1) {
            let stem = line.split(['/', '\t']).next().unwrap_or("").trim();
            if stem.is_empty() || stem.is_ascii() {
                continue;
            }
            let list = map.entry(crate::text::fold(stem)).or_default();
            if !list.contains(&stem) {
                list.push(stem);
            }
        }
    }
    map
}

/// Dictionary stems with accents, by their accent-free folded form: the
/// first suggestions for "evenement" are "événement", "évènement".
/// Built on the first suggestion request only (suggestions are off the hot path).
pub fn accent_index(lang: Lang) -> &'static AccentIndex {
    match lang {
        Lang::Fr => FR_INDEX.get_or_init(|| build_index(&[FR_DIC])),
        Lang::En => EN_INDEX.get_or_init(|| build_index(&[EN_US_DIC, EN_GB_DIC])),
    }
}
