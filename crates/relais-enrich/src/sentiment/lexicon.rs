//! The sentiment lexicon: a TSV file (format in `docs/enrich.md`) compiled into hash tables
//! keyed by the folded token's hash.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::{Path, PathBuf};

use crate::fold::{self, combine, Emoticons, Event, Kind};

/// Languages with their own column of data; `*` lines fill both.
pub const LANGS: [&str; 2] = ["en", "fr"];

/// Identity hasher: keys are already good 64-bit hashes.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are used; fold anything else deterministically.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

pub(crate) type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

/// What a term does besides (or instead of) carrying a valence.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) enum Role {
    #[default]
    None,
    /// Flips the valence of a word up to three tokens later ("not", "pas", "sans").
    Negate,
    /// French "ne"/"n'": negates single words after it and turns on [`Role::NegateNe`].
    Ne,
    /// Negates only in a clause that has a "ne" before it ("ne … plus", "ne … rien").
    NegateNe,
    /// "never"/"jamais": negates, but intensifies when an intensifier follows ("never so bad").
    Never,
    /// "but"/"mais": what follows weighs more than what precedes.
    Contrast,
    /// Multiplies the valence of the next words ("very" ×1.3, "slightly" ×0.6).
    Scale(f32),
}

/// Per-language data of one token.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct LangData {
    /// Valence in [-4, 4]; 0 = none.
    pub valence: f32,
    /// The valence was given by a lexicon line (0 included: "neutral, whatever else says").
    pub fixed: bool,
    pub role: Role,
    /// A function word of this language (language guess, brief stop words).
    pub stop: bool,
    /// Crisis vocabulary.
    pub crisis: bool,
    /// Last word of at least one phrase of this language.
    pub tail: bool,
}

/// Data of one folded token. Looked up by the token's 64-bit hash alone (with its length as a
/// check): reading the key bytes back was a cache miss per token, and a false match needs a
/// 64-bit collision with one of a few thousand terms.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    len: u8,
    pub data: [LangData; 2],
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Phrase {
    pub valence: f32,
    pub len: u8,
    pub crisis: bool,
}

/// Hashes and bytes of a term's folded tokens.
type Folded = Vec<(u64, Box<[u8]>)>;

/// A compiled lexicon.
#[derive(Default)]
pub struct Lexicon {
    map: IdMap<Entry>,
    /// Term bytes by hash, to refuse two terms with one hash when loading.
    keys: IdMap<Box<[u8]>>,
    pub(crate) phrases: [IdMap<Phrase>; 2],
    pub(crate) emoticons: Emoticons,
    terms: usize,
    /// Inflected forms of single valence words: (language, form, valence, crisis).
    inflected: Vec<(usize, String, f32, bool)>,
}

/// A lexicon file could not be loaded.
#[derive(Debug, Clone, PartialEq)]
pub struct LexiconError {
    /// File the line comes from, when loaded from a path.
    pub path: Option<PathBuf>,
    /// 1-based line number (0 when the file could not be read).
    pub line: usize,
    pub message: String,
}

impl fmt::Display for LexiconError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = &self.path {
            write!(f, "{}: ", p.display())?;
        }
        if self.line > 0 {
            write!(f, "line {}: ", self.line)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for LexiconError {}

enum Value {
    Valence(f32),
    Role(Role),
    Stop,
}

fn parse_value(s: &str) -> Result<Value, String> {
    let s = s.trim();
    Ok(match s {
        "negate" => Value::Role(Role::Negate),
        "ne" => Value::Role(Role::Ne),
        "negate_ne" => Value::Role(Role::NegateNe),
        "never" => Value::Role(Role::Never),
        "contrast" => Value::Role(Role::Contrast),
        "stop" => Value::Stop,
        _ => {
            if let Some(f) = s.strip_prefix('x') {
                match f.parse::<f32>() {
                    Ok(f) if f > 0.0 && f <= 3.0 => Value::Role(Role::Scale(f)),
                    _ => {
                        return Err(format!(
                            "value '{s}': a multiplier is written x<factor> with a factor \
                             above 0 and at most 3 (x1.5 intensifies, x0.5 softens)"
                        ))
                    }
                }
            } else {
                match s.parse::<f32>() {
                    Ok(v) if (-4.0..=4.0).contains(&v) => Value::Valence(v),
                    _ => {
                        return Err(format!(
                            "value '{s}' is not a valence (a number from -4 to 4, 0 = neutral) nor \
                             one of negate, ne, negate_ne, never, contrast, stop, x<factor>"
                        ))
                    }
                }
            }
        }
    })
}

impl fmt::Debug for Lexicon {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lexicon")
            .field("terms", &self.terms)
            .field("tokens", &self.map.len())
            .finish()
    }
}

impl Lexicon {
    /// Number of terms loaded (lines with a term).
    pub fn len(&self) -> usize {
        self.terms
    }

    /// Whether no term is loaded.
    pub fn is_empty(&self) -> bool {
        self.terms == 0
    }

    /// Entry of a folded token.
    #[inline]
    pub(crate) fn get(&self, hash: u64, text: &[u8]) -> Option<&Entry> {
        self.map
            .get(&hash)
            .filter(|e| usize::from(e.len) == text.len().min(255))
    }

    fn entry_mut(&mut self, hash: u64, key: &[u8]) -> Result<&mut Entry, String> {
        if **self.keys.entry(hash).or_insert_with(|| key.into()) != *key {
            return Err("term collides with another term's hash; rename it".into());
        }
        Ok(self.map.entry(hash).or_insert(Entry {
            len: key.len().min(255) as u8,
            data: [LangData::default(); 2],
        }))
    }

    /// Add the lines of a TSV lexicon. Later lines and later files override earlier values,
    /// except that one file may not give the same term two values of the same kind.
    pub fn add_tsv(&mut self, text: &str, path: Option<&Path>) -> Result<(), LexiconError> {
        let mut seen = HashMap::new();
        for (n, line) in text.lines().enumerate() {
            let err = |message: String| LexiconError {
                path: path.map(Path::to_path_buf),
                line: n + 1,
                message,
            };
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            if cols.len() < 3 || cols.len() > 4 {
                return Err(err(format!(
                    "expected 3 or 4 tab-separated columns (lang, term, value, [crisis]), found {}",
                    cols.len()
                )));
            }
            let langs: &[usize] = match cols[0].trim() {
                "en" => &[0],
                "fr" => &[1],
                "*" => &[0, 1],
                other => {
                    return Err(err(format!(
                        "language '{other}' is not supported: use en, fr or * (both)"
                    )))
                }
            };
            let crisis = match cols.get(3).map(|s| s.trim()) {
                None | Some("") => false,
                Some("crisis") => true,
                Some(t) => {
                    return Err(err(format!(
                        "tag '{t}' is unknown: the fourth column is empty or 'crisis'"
                    )))
                }
            };
            let term = cols[1].trim();
            let value = parse_value(cols[2]).map_err(&err)?;
            let kind = match value {
                Value::Valence(_) => 0,
                Value::Role(_) => 1,
                Value::Stop => 2,
            };
            let tokens = self.fold_term(term).map_err(&err)?;
            let key = tokens[1..]
                .iter()
                .fold(tokens[0].0, |h, (t, _)| combine(h, *t));
            if let Some(first) = seen.insert((langs[0] * 2 + langs.len(), key, kind), n + 1) {
                return Err(err(format!(
                    "term '{term}' folds to the same words as line {first} and is given a \
                     value of the same kind again; keep one of the two lines"
                )));
            }
            self.add_term(langs, term, &tokens, value, crisis)
                .map_err(err)?;
            self.terms += 1;
        }
        Ok(())
    }

    /// Read and add a TSV lexicon file.
    pub fn add_file(&mut self, path: &Path) -> Result<(), LexiconError> {
        let text = std::fs::read_to_string(path).map_err(|e| LexiconError {
            path: Some(path.to_path_buf()),
            line: 0,
            message: format!("cannot read the lexicon file: {e}"),
        })?;
        self.add_tsv(&text, Some(path))
    }

    /// Folded tokens of a lexicon term (an emoticon is one token).
    fn fold_term(&mut self, term: &str) -> Result<Folded, String> {
        let mut tokens: Folded = Vec::new();
        if Emoticons::is_emoticon(term) {
            let key = self.emoticons.add(term);
            tokens.push((fold::hash_bytes(&key), key));
            return Ok(tokens);
        }
        let mut bad = false;
        fold::tokenize(term, &Emoticons::default(), |e| match e {
            Event::Token(t) if t.kind != Kind::Emoticon => tokens.push((t.hash, t.text.into())),
            Event::Token(_) => {}
            // Apostrophes and hyphens split words; other punctuation is a mistake.
            Event::Break(_) | Event::Url(_) => bad = true,
        });
        if bad {
            return Err(format!(
                "term '{term}' contains punctuation or a URL; write words separated by spaces"
            ));
        }
        match tokens.len() {
            0 => Err(format!("term '{term}' has no word, emoji or emoticon")),
            1..=3 => Ok(tokens),
            _ => Err(format!("term '{term}' has more than 3 words")),
        }
    }

    fn add_term(
        &mut self,
        langs: &[usize],
        term: &str,
        tokens: &[(u64, Box<[u8]>)],
        value: Value,
        crisis: bool,
    ) -> Result<(), String> {
        match (tokens.len(), value) {
            (1, v) => {
                if let Value::Valence(x) = v {
                    for &l in langs {
                        for form in inflections(term, l == 1) {
                            self.inflected.push((l, form, x, crisis));
                        }
                    }
                }
                let (h, key) = &tokens[0];
                let e = self.entry_mut(*h, key)?;
                for &l in langs {
                    let d = &mut e.data[l];
                    match v {
                        Value::Valence(x) => {
                            d.valence = x;
                            d.fixed = true;
                            d.crisis = crisis;
                        }
                        Value::Role(r) => d.role = r,
                        Value::Stop => d.stop = true,
                    }
                }
                Ok(())
            }
            (2..=3, Value::Valence(x)) => {
                let h = tokens[1..]
                    .iter()
                    .fold(tokens[0].0, |h, (t, _)| combine(h, *t));
                let (th, tkey) = tokens.last().expect("two or more tokens");
                let e = self.entry_mut(*th, tkey)?;
                for &l in langs {
                    e.data[l].tail = true;
                }
                for &l in langs {
                    self.phrases[l].insert(
                        h,
                        Phrase {
                            valence: x,
                            len: tokens.len() as u8,
                            crisis,
                        },
                    );
                }
                Ok(())
            }
            _ => Err(format!(
                "phrase '{term}' must have a numeric valence (roles and stop apply to one word)"
            )),
        }
    }

    /// Give plural (and French feminine) forms of single valence words the word's valence,
    /// unless a lexicon line sets them ("délicieux" -> "délicieuses", "cassé" -> "cassées",
    /// "problem" -> "problems"). Done once when the analyser is built: no cost per post.
    pub(crate) fn add_inflections(&mut self) {
        for (l, form, valence, crisis) in std::mem::take(&mut self.inflected) {
            let Ok(tokens) = self.fold_term(&form) else {
                continue;
            };
            if let [(h, key)] = &tokens[..] {
                if let Ok(e) = self.entry_mut(*h, key) {
                    let d = &mut e.data[l];
                    if !d.fixed && d.role == Role::None {
                        d.valence = valence;
                        d.crisis = crisis;
                    }
                }
            }
        }
    }

    /// The built-in French/English lexicon (written for relais, AGPL-3.0-or-later).
    pub fn builtin() -> Lexicon {
        let mut l = Lexicon::default();
        for (name, text) in BUILTIN {
            if let Err(e) = l.add_tsv(text, Some(Path::new(name))) {
                panic!("built-in lexicon is invalid: {e}");
            }
        }
        l
    }

    /// Whether a folded word is a stop word of English or French (briefs).
    pub fn is_stop(&self, word: &[u8]) -> bool {
        self.get(fold::hash_bytes(word), word)
            .is_some_and(|e| e.data[0].stop || e.data[1].stop)
    }
}

/// Regular plural forms (and French feminine forms) of a word as written (with accents: "cassé"
/// takes -e, "rappel" does not).
fn inflections(w: &str, french: bool) -> Vec<String> {
    let lower = w.to_lowercase();
    let w = lower.as_str();
    if w.chars().count() < 3 || !w.chars().all(char::is_alphabetic) {
        return Vec::new();
    }
    if french {
        if let Some(s) = w.strip_suffix("eux") {
            vec![format!("{s}euse"), format!("{s}euses")]
        } else if let Some(s) = w.strip_suffix("al") {
            vec![format!("{s}ale"), format!("{s}ales"), format!("{s}aux")]
        } else if let Some(s) = w.strip_suffix("if") {
            vec![format!("{s}ive"), format!("{s}ives"), format!("{s}ifs")]
        } else if w.ends_with(['s', 'x', 'z']) {
            vec![]
        } else if w.ends_with(['é', 'i', 'u', 't', 'd']) {
            vec![format!("{w}s"), format!("{w}e"), format!("{w}es")]
        } else {
            vec![format!("{w}s")]
        }
    } else if let Some(s) = w
        .strip_suffix('y')
        .filter(|s| !s.ends_with(['a', 'e', 'o', 'u']))
    {
        vec![format!("{s}ies")]
    } else if w.ends_with(['s', 'x']) {
        vec![]
    } else {
        vec![format!("{w}s")]
    }
}

/// Built-in lexicon files, in load order.
pub const BUILTIN: [(&str, &str); 8] = [
    ("data/common.tsv", include_str!("../../data/common.tsv")),
    ("data/en.tsv", include_str!("../../data/en.tsv")),
    ("data/en_rules.tsv", include_str!("../../data/en_rules.tsv")),
    (
        "data/en_crisis.tsv",
        include_str!("../../data/en_crisis.tsv"),
    ),
    ("data/fr.tsv", include_str!("../../data/fr.tsv")),
    ("data/fr_rules.tsv", include_str!("../../data/fr_rules.tsv")),
    (
        "data/fr_crisis.tsv",
        include_str!("../../data/fr_crisis.tsv"),
    ),
    ("data/stop.tsv", include_str!("../../data/stop.tsv")),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Lexicon, LexiconError> {
        let mut l = Lexicon::default();
        l.add_tsv(text, None).map(|_| l)
    }

    #[test]
    fn errors_name_the_line_and_the_fix() {
        let e = load("# c\nen\tgood\t2\nen\tbad\tminus\n").expect_err("error");
        assert_eq!(e.line, 3);
        assert!(e.to_string().starts_with("line 3: value 'minus'"), "{e}");
        let e = load("de\tgut\t2\n").expect_err("error");
        assert!(e.message.contains("use en, fr or *"), "{e}");
        let e = load("en\tgood\n").expect_err("error");
        assert!(e.message.contains("3 or 4 tab-separated columns"), "{e}");
        let e = load("en\tgood\t5\n").expect_err("error");
        assert!(e.message.contains("from -4 to 4"), "{e}");
        let e = load("en\tgood\t2\nen\tGood\t3\n").expect_err("error");
        assert_eq!(e.line, 2);
        let e = load("en\tvery good\tx2\n").expect_err("error");
        assert!(e.message.contains("numeric valence"), "{e}");
        let e = load("en\ta b c d\t1\n").expect_err("error");
        assert!(e.message.contains("more than 3 words"), "{e}");
        let e = load("en\tx\t1\tsad\n").expect_err("error");
        assert!(e.message.contains("'crisis'"), "{e}");
    }

    #[test]
    fn builtin_loads() {
        let l = Lexicon::builtin();
        assert!(l.len() > 1500, "{} terms", l.len());
        let e = l.get(fold::hash_bytes(b"decu"), b"decu").expect("decu");
        assert!(e.data[1].valence < 0.0);
        assert!(l.is_stop(b"the") && l.is_stop(b"les"));
    }
}
