//! Accuracy of the built-in lexicon on labelled social posts written for relais (fictional
//! brands, 3 classes): `sentiment_{lang}.tsv` was written before the lexicon and used to fix it;
//! `sentiment_{lang}_holdout.tsv` was written after the lexicon was frozen and never tuned on.

use relais_enrich::{Sentiment, SentimentLabel};

struct Eval {
    n: usize,
    hinted: usize,
    guessed: usize,
    /// confusion[expected][predicted] with the language given.
    confusion: [[usize; 3]; 3],
    errors: Vec<String>,
}

fn idx(l: SentimentLabel) -> usize {
    match l {
        SentimentLabel::Negative => 0,
        SentimentLabel::Neutral => 1,
        SentimentLabel::Positive => 2,
    }
}

fn eval(file: &str, lang: &str) -> Eval {
    let s = Sentiment::builtin();
    let path = format!("{}/tests/data/{file}.tsv", env!("CARGO_MANIFEST_DIR"));
    let data = std::fs::read_to_string(&path).expect("evaluation set");
    let mut e = Eval {
        n: 0,
        hinted: 0,
        guessed: 0,
        confusion: [[0; 3]; 3],
        errors: Vec::new(),
    };
    for (i, line) in data.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let (label, text) = line.split_once('\t').expect("label<TAB>text");
        let want: SentimentLabel = label
            .parse()
            .unwrap_or_else(|e| panic!("line {}: {e}", i + 1));
        let got = s.score(text, Some(lang));
        e.n += 1;
        e.confusion[idx(want)][idx(got.label)] += 1;
        if got.label == want {
            e.hinted += 1;
        } else {
            e.errors.push(format!(
                "{want} -> {} ({:.2}): {text}",
                got.label, got.score
            ));
        }
        if s.score(text, None).label == want {
            e.guessed += 1;
        }
    }
    e
}

fn report(file: &str, lang: &str) -> (usize, usize, usize) {
    let e = eval(file, lang);
    println!(
        "{file}: {} posts, accuracy {:.3} (language given), {:.3} (language guessed); \
         confusion [neg, neu, pos], rows = expected: {:?}",
        e.n,
        e.hinted as f64 / e.n as f64,
        e.guessed as f64 / e.n as f64,
        e.confusion
    );
    if std::env::var_os("ENRICH_EVAL_ERRORS").is_some() {
        for err in &e.errors {
            println!("  {err}");
        }
    }
    (e.n, e.hinted, e.guessed)
}

fn check(lang: &str) {
    let (n1, h1, g1) = report(&format!("sentiment_{lang}"), lang);
    let (n2, h2, g2) = report(&format!("sentiment_{lang}_holdout"), lang);
    assert!(n1 >= 150, "{lang}: only {n1} posts");
    let (n, acc, guess) = (n1 + n2, (h1 + h2) as f64, (g1 + g2) as f64);
    let (acc, guess) = (acc / n as f64, guess / n as f64);
    println!("{lang} overall: {n} posts, accuracy {acc:.3}, {guess:.3} with a guessed language");
    assert!(acc >= 0.75, "{lang}: accuracy {acc:.3} < 0.75");
    assert!(
        guess >= 0.75,
        "{lang}: accuracy with a guessed language {guess:.3} < 0.75"
    );
    let held = h2 as f64 / n2 as f64;
    assert!(held >= 0.75, "{lang}: held-out accuracy {held:.3} < 0.75");
}

#[test]
fn english_accuracy() {
    check("en");
}

#[test]
fn french_accuracy() {
    check("fr");
}
