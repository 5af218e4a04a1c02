//! The alert brief: what the escalation list reads first (top posts, top terms, sentiment split,
//! volume against the baseline; the chart itself is drawn by the caller).

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::fold::{self, Emoticons, Event, Kind, Mark};
use crate::sentiment::{Lexicon, SentimentLabel};
use crate::story::StoryId;

/// One minute of the volume chart.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesPoint {
    /// Start of the minute (ms UTC).
    pub minute_ms: i64,
    pub observed: u32,
    pub negative: u32,
    /// Baseline expectation for the minute.
    pub expected: f32,
}

/// A mention of the alert window, as stored by the caller.
#[derive(Clone, Copy, Debug)]
pub struct BriefMention<'a> {
    pub text: &'a str,
    pub url: Option<&'a str>,
    pub author: &'a str,
    pub label: SentimentLabel,
    pub story: StoryId,
    pub at_ms: i64,
}

/// What to put in a brief.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BriefOptions {
    pub top_posts: usize,
    pub top_terms: usize,
    /// Folded words left out of the top terms (the query's own words).
    pub exclude: Vec<String>,
}

impl Default for BriefOptions {
    fn default() -> Self {
        BriefOptions {
            top_posts: 5,
            top_terms: 10,
            exclude: Vec::new(),
        }
    }
}

impl BriefOptions {
    /// Leave the words of a query (its text, operators included) out of the top terms.
    pub fn excluding_query(mut self, query: &str) -> Self {
        self.exclude.extend(fold::words(query));
        self
    }
}

/// The most shared story of the window, shown by its first post.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TopPost {
    pub story: StoryId,
    /// Mentions of this story in the window (the engagement proxy).
    pub shares: u32,
    pub text: String,
    pub url: Option<String>,
    pub author: String,
    pub label: SentimentLabel,
    pub at_ms: i64,
}

/// Counts per sentiment label.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentimentSplit {
    pub negative: u32,
    pub neutral: u32,
    pub positive: u32,
}

/// The brief attached to an alert.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Brief {
    pub mentions: u32,
    pub stories: u32,
    pub top_posts: Vec<TopPost>,
    /// (folded word, number of mentions containing it), most frequent first.
    pub top_terms: Vec<(String, u32)>,
    pub sentiment: SentimentSplit,
    /// Volume against the baseline, oldest minute first (from [`crate::Detector::series`]).
    pub series: Vec<SeriesPoint>,
}

/// English and French function words (and URL/retweet debris) never shown as terms.
fn stop_words() -> &'static Lexicon {
    static STOP: OnceLock<Lexicon> = OnceLock::new();
    STOP.get_or_init(|| {
        let mut l = Lexicon::default();
        let (name, text) = crate::sentiment::lexicon::BUILTIN
            .iter()
            .find(|(n, _)| n.ends_with("stop.tsv"))
            .expect("stop words are built in");
        if let Err(e) = l.add_tsv(text, Some(std::path::Path::new(name))) {
            panic!("built-in stop words are invalid: {e}");
        }
        l
    })
}

impl Brief {
    /// Build the brief of `mentions` (the alert window) with the detector's `series`.
    pub fn build(
        mentions: &[BriefMention<'_>],
        series: Vec<SeriesPoint>,
        opts: &BriefOptions,
    ) -> Brief {
        let mut sentiment = SentimentSplit::default();
        let mut stories: HashMap<StoryId, (u32, usize)> = HashMap::new();
        for (i, m) in mentions.iter().enumerate() {
            match m.label {
                SentimentLabel::Negative => sentiment.negative += 1,
                SentimentLabel::Neutral => sentiment.neutral += 1,
                SentimentLabel::Positive => sentiment.positive += 1,
            }
            let e = stories.entry(m.story).or_insert((0, i));
            e.0 += 1;
            // The story is shown by its earliest post (the original, not a reshare).
            if (m.at_ms, i) < (mentions[e.1].at_ms, e.1) {
                e.1 = i;
            }
        }
        let mut ranked: Vec<(StoryId, u32, usize)> =
            stories.iter().map(|(&s, &(n, i))| (s, n, i)).collect();
        ranked.sort_by(|a, b| {
            b.1.cmp(&a.1)
                .then(mentions[a.2].at_ms.cmp(&mentions[b.2].at_ms))
                .then(a.0.cmp(&b.0))
        });
        let top_posts = ranked
            .iter()
            .take(opts.top_posts)
            .map(|&(story, shares, i)| {
                let m = &mentions[i];
                TopPost {
                    story,
                    shares,
                    text: m.text.to_string(),
                    url: m.url.map(str::to_string),
                    author: m.author.to_string(),
                    label: m.label,
                    at_ms: m.at_ms,
                }
            })
            .collect();
        Brief {
            mentions: mentions.len() as u32,
            stories: stories.len() as u32,
            top_posts,
            top_terms: top_terms(mentions, opts),
            sentiment,
            series,
        }
    }
}

fn top_terms(mentions: &[BriefMention<'_>], opts: &BriefOptions) -> Vec<(String, u32)> {
    let stop = stop_words();
    let exclude: HashSet<&[u8]> = opts.exclude.iter().map(|s| s.as_bytes()).collect();
    let mut counts: HashMap<Vec<u8>, u32> = HashMap::new();
    let mut seen: HashSet<Vec<u8>> = HashSet::new();
    for m in mentions {
        seen.clear();
        fold::tokenize(m.text, &Emoticons::default(), |e| {
            let Event::Token(t) = e else {
                return;
            };
            let chars = String::from_utf8_lossy(t.text).chars().count();
            if t.kind != Kind::Word
                || t.mark == Mark::At
                || chars < 3
                || t.text.iter().all(u8::is_ascii_digit)
                || exclude.contains(t.text)
                || stop.is_stop(t.text)
            {
                return;
            }
            if seen.insert(t.text.to_vec()) {
                *counts.entry(t.text.to_vec()).or_default() += 1;
            }
        });
    }
    let mut terms: Vec<(String, u32)> = counts
        .into_iter()
        .map(|(k, n)| (String::from_utf8_lossy(&k).into_owned(), n))
        .collect();
    terms.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    terms.truncate(opts.top_terms);
    terms
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(text: &str, story: u64, label: SentimentLabel, at_ms: i64) -> BriefMention<'_> {
        BriefMention {
            text,
            url: None,
            author: "someone",
            label,
            story: StoryId(story),
            at_ms,
        }
    }

    #[test]
    fn top_posts_terms_and_split() {
        use SentimentLabel::*;
        let ms = [
            m(
                "RT @a: Acme kettle recall: bases overheating",
                1,
                Negative,
                20,
            ),
            m("Acme kettle recall: bases overheating", 1, Negative, 10),
            m(
                "RT @b: Acme kettle recall: bases overheating",
                1,
                Negative,
                30,
            ),
            m(
                "My Acme kettle is fine, no overheating here",
                2,
                Positive,
                15,
            ),
            m(
                "Le rappel des bouilloires Acme, quelle honte",
                3,
                Negative,
                40,
            ),
            m("Acme annonce un rappel de bouilloires", 4, Neutral, 50),
        ];
        let opts = BriefOptions {
            top_posts: 2,
            top_terms: 4,
            ..BriefOptions::default()
        }
        .excluding_query("acme AND (kettle OR bouilloire*)");
        let b = Brief::build(&ms, Vec::new(), &opts);
        assert_eq!(b.mentions, 6);
        assert_eq!(b.stories, 4);
        assert_eq!(b.top_posts.len(), 2);
        assert_eq!(b.top_posts[0].shares, 3);
        assert_eq!(b.top_posts[0].text, "Acme kettle recall: bases overheating");
        assert_eq!(b.top_posts[1].story, StoryId(2));
        assert_eq!(
            b.sentiment,
            SentimentSplit {
                negative: 4,
                neutral: 1,
                positive: 1
            }
        );
        let terms: Vec<&str> = b.top_terms.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(terms, ["overheating", "bases", "recall", "bouilloires"]);
        assert_eq!(b.top_terms[0].1, 4);
        assert!(!terms.contains(&"acme") && !terms.contains(&"kettle"));
    }
}
