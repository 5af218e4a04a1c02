//! Learning lexicon lines from the user's own labelled posts: the words and two-word phrases of
//! their sector the built-in lexicon does not know ("claqué", "pépite"…) or reads the wrong way
//! (a brand named like a word). The result is an ordinary lexicon file, so it is read, reviewed
//! and loaded like a hand-written one (`[listening] sentiment_lexicon`).
//!
//! Greedy and checked: candidates that lean clearly to one side are tried one at a time, most
//! frequent first, and kept only when they make more training posts right; a fifth of the posts
//! is held out and the accuracy on it reported before and after.

use std::collections::HashMap;

use super::{Lexicon, Sentiment, SentimentLabel};
use crate::fold;

/// One labelled post.
#[derive(Debug, Clone)]
pub struct Labelled {
    pub label: SentimentLabel,
    pub text: String,
}

/// Reads `label<TAB>text` lines (`#` comments and blank lines skipped); errors name the line.
pub fn parse_labelled(data: &str) -> Result<Vec<Labelled>, String> {
    let mut out = Vec::new();
    for (i, line) in data.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let (label, text) = line.split_once('\t').ok_or_else(|| {
            format!(
                "line {}: expected label<TAB>text (label: negative, neutral or positive)",
                i + 1
            )
        })?;
        let label = label
            .trim()
            .parse()
            .map_err(|e| format!("line {}: {e}", i + 1))?;
        out.push(Labelled {
            label,
            text: text.trim().to_string(),
        });
    }
    Ok(out)
}

/// What learning found and how it measured.
#[derive(Debug, Clone)]
pub struct Learned {
    /// Lexicon lines (`lang<TAB>term<TAB>valence`), in the order they were accepted.
    pub lines: Vec<(String, i8)>,
    pub train: usize,
    pub held_out: usize,
    /// Correct labels before and after, on the training and held-out posts.
    pub train_before: usize,
    pub train_after: usize,
    pub held_out_before: usize,
    pub held_out_after: usize,
}

impl Learned {
    /// The lexicon file: a header with the figures, then one line per term.
    pub fn to_tsv(&self, lang: &str, source: &str) -> String {
        let pct = |a: usize, n: usize| 100.0 * a as f64 / n.max(1) as f64;
        let mut s = format!(
            "# Learned by `relais sentiment learn` from {source} ({} posts, {} held out).\n\
             # Accuracy on training posts {:.1} % -> {:.1} %, on held-out posts {:.1} % -> {:.1} %.\n\
             # Review before use: every line is an ordinary lexicon line (docs/enrich.md).\n",
            self.train,
            self.held_out,
            pct(self.train_before, self.train),
            pct(self.train_after, self.train),
            pct(self.held_out_before, self.held_out),
            pct(self.held_out_after, self.held_out),
        );
        for (term, v) in &self.lines {
            s.push_str(&format!("{lang}\t{term}\t{v}\n"));
        }
        s
    }
}

/// Most terms a run adds (a lexicon is meant to be read).
const MAX_TERMS: usize = 300;
/// A candidate appears in at least this many training posts.
const MIN_SUPPORT: usize = 3;

fn correct(s: &Sentiment, posts: &[&Labelled], lang: &str) -> usize {
    posts
        .iter()
        .filter(|p| s.score(&p.text, Some(lang)).label == p.label)
        .count()
}

/// `base` is the lexicon being extended (the built-in one plus an optional user file, as TSV);
/// `lang` is `fr` or `en`.
pub fn learn(base: &str, lang: &str, posts: &[Labelled]) -> Result<Learned, String> {
    if lang != "fr" && lang != "en" {
        return Err(format!("language '{lang}': use fr or en"));
    }
    let build = |extra: &str| -> Result<Sentiment, String> {
        let mut l = Lexicon::builtin();
        l.add_tsv(base, None).map_err(|e| e.to_string())?;
        l.add_tsv(extra, None).map_err(|e| e.to_string())?;
        Ok(Sentiment::with_lexicon(l))
    };
    // Every fifth post is held out.
    let (mut train, mut held) = (Vec::new(), Vec::new());
    for (i, p) in posts.iter().enumerate() {
        if i % 5 == 4 { &mut held } else { &mut train }.push(p);
    }
    if train.len() < 10 {
        return Err(format!(
            "{} labelled posts: learning needs at least 13 (a fifth is held out)",
            posts.len()
        ));
    }
    let start = build("")?;

    // Counts per label of each word and two-word phrase (once per post).
    let mut counts: HashMap<String, [usize; 3]> = HashMap::new();
    for p in &train {
        let words = fold::words(&p.text);
        let mut seen: Vec<String> = words.iter().filter(|w| w.len() > 2).cloned().collect();
        seen.extend(words.windows(2).map(|w| format!("{} {}", w[0], w[1])));
        seen.sort();
        seen.dedup();
        let k = match p.label {
            SentimentLabel::Negative => 0,
            SentimentLabel::Neutral => 1,
            SentimentLabel::Positive => 2,
        };
        for term in seen {
            counts.entry(term).or_default()[k] += 1;
        }
    }
    // Candidates: terms leaning clearly to one side (valences to try), or a word the lexicon
    // reads as positive or negative that mostly appears in neutral posts (valence 0).
    let mut candidates: Vec<(usize, String, Vec<i8>)> = Vec::new();
    // Function words ("nous", "qui", "the") lean by chance in a few hundred posts: never
    // candidates, alone or in a phrase.
    let stop = |w: &str| start.lexicon().is_stop(w.as_bytes());
    for (term, [neg, neu, pos]) in counts {
        let n = neg + neu + pos;
        if n < MIN_SUPPORT || term.split(' ').any(stop) {
            continue;
        }
        let known = start.score(&term, Some(lang)).label != SentimentLabel::Neutral;
        let lean = ((pos as f64 + 0.5) / (neg as f64 + 0.5)).ln();
        if lean.abs() >= 3f64.ln() && neu * 2 < n {
            let sign: i8 = if lean > 0.0 { 1 } else { -1 };
            candidates.push((n, term, vec![sign, 2 * sign, 3 * sign]));
        } else if known && !term.contains(' ') && neu * 5 >= n * 4 {
            candidates.push((n, term, vec![0]));
        }
    }
    // Most frequent first; single words before the phrases that contain them.
    candidates.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| a.1.contains(' ').cmp(&b.1.contains(' ')))
            .then_with(|| a.1.cmp(&b.1))
    });

    let mut lines: Vec<(String, i8)> = Vec::new();
    let mut extra = String::new();
    let mut best = correct(&start, &train, lang);
    let train_before = best;
    for (_, term, valences) in candidates {
        if lines.len() >= MAX_TERMS {
            break;
        }
        let mut chosen = None;
        for v in valences {
            let s = build(&format!("{extra}{lang}\t{term}\t{v}\n"))?;
            let c = correct(&s, &train, lang);
            if c > best {
                best = c;
                chosen = Some(v);
            }
        }
        if let Some(v) = chosen {
            extra.push_str(&format!("{lang}\t{term}\t{v}\n"));
            lines.push((term, v));
        }
    }
    let end = build(&extra)?;
    Ok(Learned {
        train: train.len(),
        held_out: held.len(),
        train_before,
        train_after: best,
        held_out_before: correct(&start, &held, lang),
        held_out_after: correct(&end, &held, lang),
        lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posts(lines: &[(&str, &str)]) -> Vec<Labelled> {
        lines
            .iter()
            .map(|(l, t)| Labelled {
                label: l.parse().unwrap(),
                text: t.to_string(),
            })
            .collect()
    }

    #[test]
    fn sector_slang_is_learned_with_its_sign() {
        // "claqué" (worn out, broken) and "pépite" (a gem) are not in the built-in lexicon.
        let neg = [
            "Mon vélo est claqué après {} semaines",
            "Batterie claquée au bout de {} jours",
            "Franchement le moteur est claqué, {} euros de réparation",
            "Cadre claqué ({}e sortie), merci VeloRapide",
        ];
        let pos = [
            "Ce vélo est une pépite, {} km ce matin",
            "Quelle pépite ce modèle, {} sorties sans souci",
            "VeloRapide, une vraie pépite pour {} euros",
            "Pépite absolue, {} km et toujours comme neuf",
        ];
        let neu = [
            "VeloRapide ouvre un magasin à Lyon le {} mai",
            "Le nouveau catalogue sort le {} juin",
            "Réunion des revendeurs le {} septembre à Paris",
            "VeloRapide recrute {} techniciens cette année",
        ];
        let mut data = Vec::new();
        for i in 0..16 {
            for (label, set) in [("negative", &neg), ("positive", &pos), ("neutral", &neu)] {
                data.push((label, set[i % 4].replace("{}", &(i + 2).to_string())));
            }
        }
        let data: Vec<Labelled> = data
            .into_iter()
            .map(|(l, t)| Labelled {
                label: l.parse().unwrap(),
                text: t,
            })
            .collect();
        let got = learn("", "fr", &data).unwrap();
        let value = |t: &str| got.lines.iter().find(|(w, _)| w == t).map(|l| l.1);
        assert!(
            value("claque").or(value("claquee")).is_some_and(|v| v < 0),
            "{:?}",
            got.lines
        );
        assert!(value("pepite").is_some_and(|v| v > 0), "{:?}", got.lines);
        assert!(got.train_after > got.train_before);
        assert!(got.held_out_after > got.held_out_before);
        // The file loads as a lexicon and gives the same labels.
        let tsv = got.to_tsv("fr", "test");
        let mut l = Lexicon::builtin();
        l.add_tsv(&tsv, None).unwrap();
        let s = Sentiment::with_lexicon(l);
        assert_eq!(
            s.score("La batterie est claquée", Some("fr")).label,
            SentimentLabel::Negative
        );
    }

    #[test]
    fn bad_input_names_the_line() {
        assert_eq!(
            parse_labelled("# c\npositive\tok\nbof\ttexte\n").unwrap_err(),
            "line 3: sentiment 'bof' is unknown: use negative, neutral or positive"
        );
        assert!(parse_labelled("positive ok")
            .unwrap_err()
            .starts_with("line 1:"));
        let few = posts(&[("positive", "super")]);
        assert!(learn("", "fr", &few).unwrap_err().contains("at least"));
        assert!(learn("", "de", &few).unwrap_err().contains("use fr or en"));
    }
}
