//! Lexicon-based sentiment for French and English social posts, in one pass over the text.
//!
//! Each folded token is looked up once in a hash table; a small state machine per language
//! applies the rules (negation, intensifiers, "but"/"mais", caps, elongation, exclamation,
//! phrases). When the language is unknown both languages are scored in the same pass and the
//! one with more function words (and accents, for French) wins.

pub mod learn;
pub mod lexicon;

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::fold::{self, combine, Break, Event, Kind, Mark, Token};
use lexicon::{IdMap, LangData, Phrase, Role};
pub use lexicon::{Lexicon, LexiconError};

/// Polarity of a post.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SentimentLabel {
    Negative,
    Neutral,
    Positive,
}

impl SentimentLabel {
    /// Stable lower-case name (stored in the database).
    pub fn as_str(self) -> &'static str {
        match self {
            SentimentLabel::Negative => "negative",
            SentimentLabel::Neutral => "neutral",
            SentimentLabel::Positive => "positive",
        }
    }
}

impl fmt::Display for SentimentLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SentimentLabel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "negative" => Ok(SentimentLabel::Negative),
            "neutral" => Ok(SentimentLabel::Neutral),
            "positive" => Ok(SentimentLabel::Positive),
            _ => Err(format!(
                "sentiment '{s}' is unknown: use negative, neutral or positive"
            )),
        }
    }
}

/// Sentiment of one post.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SentimentScore {
    pub label: SentimentLabel,
    /// Compound score in [-1, 1].
    pub score: f32,
    /// Crisis-vocabulary terms found (not negated).
    pub crisis_terms: u16,
}

/// Default |score| from which a post is positive or negative.
pub const DEFAULT_THRESHOLD: f32 = 0.05;

// Rule constants (VADER's, which were fitted on social media text).
const NEGATION: f32 = -0.74;
const CAPS: f32 = 0.733;
const ELONGATION: f32 = 0.3;
const EXCLAMATION: f32 = 0.292;
const BEFORE_CONTRAST: f32 = 0.5;
const AFTER_CONTRAST: f32 = 1.5;
const NORMALISE: f32 = 15.0;
/// Weight of an intensifier 1, 2, 3 tokens before the word.
const DAMP: [f32; 3] = [1.0, 0.95, 0.9];
const RING: usize = 8;

/// The sentiment analyser (immutable, cheap to share behind an `Arc`).
#[derive(Debug)]
pub struct Sentiment {
    lexicon: Lexicon,
    threshold: f32,
}

impl Default for Sentiment {
    fn default() -> Self {
        Sentiment::builtin()
    }
}

impl Sentiment {
    /// The built-in French/English lexicon.
    pub fn builtin() -> Self {
        Self::with_lexicon(Lexicon::builtin())
    }

    /// A lexicon file replacing the built-in one (same TSV format, see `docs/enrich.md`).
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, LexiconError> {
        let mut l = Lexicon::default();
        l.add_file(path.as_ref())?;
        Ok(Self::with_lexicon(l))
    }

    /// The built-in lexicon plus a user file whose lines add terms or override values.
    pub fn builtin_with(path: impl AsRef<Path>) -> Result<Self, LexiconError> {
        let mut l = Lexicon::builtin();
        l.add_file(path.as_ref())?;
        Ok(Self::with_lexicon(l))
    }

    /// A lexicon given as TSV text.
    pub fn from_tsv(text: &str) -> Result<Self, LexiconError> {
        let mut l = Lexicon::default();
        l.add_tsv(text, None)?;
        Ok(Self::with_lexicon(l))
    }

    /// Use a compiled lexicon.
    pub fn with_lexicon(mut lexicon: Lexicon) -> Self {
        lexicon.add_inflections();
        Sentiment {
            lexicon,
            threshold: DEFAULT_THRESHOLD,
        }
    }

    /// Change the |score| from which a post is labelled positive or negative (0 to 1).
    pub fn with_threshold(mut self, threshold: f32) -> Self {
        self.threshold = threshold.clamp(0.0, 1.0);
        self
    }

    /// The lexicon in use.
    pub fn lexicon(&self) -> &Lexicon {
        &self.lexicon
    }

    /// Score `text`. `lang` is a language tag ("fr", "en-GB"…); other or missing languages
    /// are guessed between French and English.
    pub fn score(&self, text: &str, lang: Option<&str>) -> SentimentScore {
        let hint = lang.and_then(|l| {
            let l = l.get(..2)?;
            if l.eq_ignore_ascii_case("en") {
                Some(0)
            } else if l.eq_ignore_ascii_case("fr") {
                Some(1)
            } else {
                None
            }
        });
        let lex = &self.lexicon;
        let mut st = [State::new(false), State::new(true)];
        let active: &[usize] = match hint {
            Some(0) => &[0],
            Some(_) => &[1],
            None => &[0, 1],
        };
        let mut votes = [0u32; 2];
        let (mut caps_words, mut words, mut exclaim) = (0u32, 0u32, 0u32);
        fold::tokenize(text, &lex.emoticons, |e| match e {
            Event::Token(t) => {
                if t.mark == Mark::At {
                    return;
                }
                if t.kind == Kind::Word {
                    words += 1;
                    caps_words += u32::from(t.caps);
                    votes[1] += u32::from(t.accented);
                }
                let mut entry = lex.get(t.hash, t.text);
                if entry.is_none() && t.text.len() >= 3 && t.elongated() {
                    // "goooood" -> "good", then "nuuuul" -> "nul".
                    for keep in [2, 1] {
                        let s = squeeze(t.text, keep);
                        entry = lex.get(fold::hash_bytes(&s), &s);
                        if entry.is_some() {
                            break;
                        }
                    }
                }
                for &l in active {
                    let d = entry.map(|e| e.data[l]).unwrap_or_default();
                    votes[l] += u32::from(d.stop);
                    st[l].token(&t, d, &lex.phrases[l]);
                }
            }
            Event::Break(b) => {
                exclaim += u32::from(b == Break::Exclamation);
                for &l in active {
                    st[l].clause += 1;
                }
            }
            Event::Url(_) => {}
        });
        let l = match hint {
            Some(l) => l,
            None if votes[0] != votes[1] => usize::from(votes[1] > votes[0]),
            None => usize::from(st[1].hits > st[0].hits),
        };
        // Caps count as emphasis only when some, not all, words are in capitals.
        let caps = caps_words > 0 && caps_words < words;
        let s = &st[l];
        let mut sum = s.sum + if caps { s.caps } else { 0.0 };
        if sum != 0.0 {
            sum += sum.signum() * exclaim.min(4) as f32 * EXCLAMATION;
        }
        let score = (sum / (sum * sum + NORMALISE).sqrt()).clamp(-1.0, 1.0);
        let label = if score >= self.threshold {
            SentimentLabel::Positive
        } else if score <= -self.threshold {
            SentimentLabel::Negative
        } else {
            SentimentLabel::Neutral
        };
        SentimentScore {
            label,
            score,
            crisis_terms: s.crisis,
        }
    }
}

/// `text` with runs of three or more identical bytes shortened to `keep`.
fn squeeze(text: &[u8], keep: usize) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::with_capacity(text.len());
    for chunk in text.chunk_by(|a, b| a == b) {
        let n = if chunk.len() >= 3 { keep } else { chunk.len() };
        out.extend_from_slice(&chunk[..n]);
    }
    out
}

#[derive(Clone, Copy, Default)]
struct Slot {
    hash: u64,
    clause: u32,
    role: Role,
    /// Contribution added to the sum (and caps emphasis), to undo when a phrase consumes it.
    contrib: f32,
    caps: f32,
    valence: bool,
    negated: bool,
    /// Distance back to the valence word this negator flipped after it ("aime pas").
    retro: u8,
}

/// Scoring state of one language.
struct State {
    french: bool,
    sum: f32,
    caps: f32,
    hits: u32,
    crisis: u16,
    ring: [Slot; RING],
    n: usize,
    clause: u32,
    /// Clause (+1) in which a French "ne" was seen.
    ne_clause: u32,
    weight: f32,
}

impl State {
    fn new(french: bool) -> Self {
        State {
            french,
            sum: 0.0,
            caps: 0.0,
            hits: 0,
            crisis: 0,
            ring: [Slot::default(); RING],
            n: 0,
            clause: 1,
            ne_clause: 0,
            weight: 1.0,
        }
    }

    #[inline]
    fn back(&self, d: usize) -> Option<&Slot> {
        (d <= self.n && d < RING).then(|| &self.ring[(self.n - d) % RING])
    }

    fn token(&mut self, t: &Token<'_>, d: LangData, phrases: &IdMap<Phrase>) {
        let mut slot = Slot {
            hash: t.hash,
            clause: self.clause,
            role: d.role,
            ..Slot::default()
        };
        let mut valence = d.valence;
        let mut crisis = d.crisis;
        let mut start = 0; // tokens before this one that belong to the matched phrase
        if d.tail {
            if let Some((p, len)) = self.phrase(t.hash, phrases) {
                valence = p.valence;
                crisis = p.crisis;
                start = len - 1;
                slot.role = Role::None;
                for k in 1..len {
                    self.consume(k);
                }
            }
        }
        if valence != 0.0 {
            let mut v = valence;
            let (scale, negated) = self.modifiers(start, start > 0);
            v *= scale;
            if negated {
                v *= NEGATION;
            }
            if t.elongated() {
                v += v.signum() * ELONGATION;
            }
            slot.contrib = v * self.weight;
            if t.caps {
                slot.caps = v.signum() * CAPS * self.weight;
            }
            slot.valence = true;
            slot.negated = negated;
            self.sum += slot.contrib;
            self.caps += slot.caps;
            self.hits += 1;
            if crisis && !negated {
                self.crisis += 1;
            }
        } else {
            match slot.role {
                Role::Contrast => {
                    self.sum *= BEFORE_CONTRAST;
                    self.caps *= BEFORE_CONTRAST;
                    self.weight = AFTER_CONTRAST;
                    self.clause += 1;
                    slot.clause = self.clause;
                }
                Role::Ne => self.ne_clause = self.clause + 1,
                _ => {}
            }
            if self.french && self.negates(slot.role) {
                slot.retro = self.retro_negate();
            }
        }
        self.ring[self.n % RING] = slot;
        self.n += 1;
    }

    fn negates(&self, role: Role) -> bool {
        match role {
            Role::Negate | Role::Never => true,
            Role::NegateNe => self.ne_clause == self.clause + 1,
            _ => false,
        }
    }

    /// Scale and negation from the three tokens before the word (or phrase).
    fn modifiers(&mut self, skip: usize, phrase: bool) -> (f32, bool) {
        let mut scale = 1.0f32;
        let mut negated = false;
        for d in 1..=3 {
            let Some(s) = self.back(skip + d).copied() else {
                break;
            };
            if s.clause != self.clause {
                break;
            }
            match s.role {
                Role::Negate => negated = true,
                // A phrase like "marche pas" already carries its negation.
                Role::Ne if !phrase => negated = true,
                Role::NegateNe if self.ne_clause == self.clause + 1 => negated = true,
                Role::Never if scale > 1.0 => scale *= 1.25,
                Role::Never => negated = true,
                Role::Scale(f) => {
                    scale *= 1.0 + (f - 1.0) * DAMP[d - 1];
                    // "super sympa": "super" intensifies instead of counting on its own.
                    if s.valence {
                        self.consume(skip + d);
                    }
                }
                _ => {}
            }
        }
        (scale, negated)
    }

    /// French negation after the verb ("j'aime pas", "je recommande plus").
    fn retro_negate(&mut self) -> u8 {
        for d in 1..=2 {
            let n = self.n;
            let Some(s) = self.back(d).copied() else {
                return 0;
            };
            if s.clause != self.clause {
                return 0;
            }
            if s.valence && !s.negated {
                let s = &mut self.ring[(n - d) % RING];
                self.sum += s.contrib * (NEGATION - 1.0);
                self.caps += s.caps * (NEGATION - 1.0);
                s.contrib *= NEGATION;
                s.caps *= NEGATION;
                s.negated = true;
                return d as u8;
            }
        }
        0
    }

    /// Undo the token `d` back (it became part of a phrase or an intensifier).
    fn consume(&mut self, d: usize) {
        let n = self.n;
        let i = (n - d) % RING;
        let s = self.ring[i];
        self.sum -= s.contrib;
        self.caps -= s.caps;
        if s.valence {
            self.hits -= 1;
        }
        if s.retro > 0 && d + (s.retro as usize) < RING {
            let t = &mut self.ring[(n - d - s.retro as usize) % RING];
            self.sum += t.contrib * (1.0 / NEGATION - 1.0);
            self.caps += t.caps * (1.0 / NEGATION - 1.0);
            t.contrib /= NEGATION;
            t.caps /= NEGATION;
            t.negated = false;
        }
        self.ring[i] = Slot {
            hash: s.hash,
            clause: s.clause,
            ..Slot::default()
        };
    }

    /// The longest phrase (3 then 2 words, same clause) ending with the current token.
    fn phrase(&self, hash: u64, phrases: &IdMap<Phrase>) -> Option<(Phrase, usize)> {
        for len in [3usize, 2] {
            let mut h = 0;
            let mut ok = true;
            for k in (1..len).rev() {
                match self.back(k) {
                    Some(s) if s.clause == self.clause => {
                        h = if k == len - 1 {
                            s.hash
                        } else {
                            combine(h, s.hash)
                        }
                    }
                    _ => {
                        ok = false;
                        break;
                    }
                }
            }
            if ok {
                if let Some(p) = phrases.get(&combine(h, hash)) {
                    if p.len as usize == len {
                        return Some((*p, len));
                    }
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests;
