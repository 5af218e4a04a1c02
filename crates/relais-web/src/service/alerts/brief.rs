//! What an alert carries: a short brief (volume against the expected baseline, top posts, top
//! terms, sentiment split), stored as JSON with the alert and rendered in the page, the email
//! and the Matrix message.

use relais_store::mentions::Mention;

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Brief {
    pub query: String,
    /// Mentions behind the alert (new ones, the digest's, the window's).
    pub count: i64,
    /// Per-minute volume and the baseline the detector expected (crisis alerts), oldest first.
    #[serde(default)]
    pub minutes: Vec<i64>,
    #[serde(default)]
    pub observed: Vec<f64>,
    #[serde(default)]
    pub expected: Vec<f64>,
    /// p-value of the triggering minute (crisis).
    #[serde(default)]
    pub p_value: Option<f64>,
    pub top_posts: Vec<TopPost>,
    pub top_terms: Vec<(String, u32)>,
    pub sentiment: Split,
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct TopPost {
    pub mention_id: i64,
    pub author: Option<String>,
    pub url: Option<String>,
    pub text: String,
    /// How many mentions share this story (near-duplicates, shares).
    pub shares: u32,
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Split {
    pub positive: u32,
    pub neutral: u32,
    pub negative: u32,
}

fn label(s: Option<&str>) -> relais_enrich::SentimentLabel {
    match s {
        Some("positive") => relais_enrich::SentimentLabel::Positive,
        Some("negative") => relais_enrich::SentimentLabel::Negative,
        _ => relais_enrich::SentimentLabel::Neutral,
    }
}

/// A mention's story (without one, a mention is its own story).
fn story(m: &Mention) -> relais_enrich::StoryId {
    relais_enrich::StoryId::from_i64(m.story_id.unwrap_or(-m.id))
}

/// The brief of a set of mentions (relais-enrich's builder): posts ranked by how many mentions
/// share their story, the most frequent words (stop words and the query's own words left
/// out), the sentiment split, and the detector's volume series when there is one.
pub fn from_mentions(
    query: &str,
    expression: &str,
    mentions: &[Mention],
    series: Vec<relais_enrich::SeriesPoint>,
) -> Brief {
    let input: Vec<relais_enrich::BriefMention<'_>> = mentions
        .iter()
        .map(|m| relais_enrich::BriefMention {
            text: &m.body,
            url: m.url.as_deref(),
            author: m.author.as_deref().unwrap_or(""),
            label: label(m.sentiment.as_deref()),
            story: story(m),
            at_ms: m.published_at.unwrap_or(m.received_at),
        })
        .collect();
    let opts = relais_enrich::BriefOptions::default().excluding_query(expression);
    let b = relais_enrich::Brief::build(&input, series, &opts);
    // The story is shown by its earliest mention.
    let first_of = |p: &relais_enrich::TopPost| {
        mentions
            .iter()
            .filter(|m| story(m) == p.story)
            .min_by_key(|m| (m.published_at.unwrap_or(m.received_at), m.id))
            .map(|m| m.id)
            .unwrap_or_default()
    };
    Brief {
        query: query.to_string(),
        count: mentions.len() as i64,
        minutes: b.series.iter().map(|p| p.minute_ms / 60_000).collect(),
        observed: b.series.iter().map(|p| p.observed as f64).collect(),
        expected: b.series.iter().map(|p| p.expected as f64).collect(),
        p_value: None,
        top_posts: b
            .top_posts
            .iter()
            .map(|p| TopPost {
                mention_id: first_of(p),
                author: Some(p.author.clone()).filter(|a| !a.is_empty()),
                url: p.url.clone(),
                text: p.text.chars().take(280).collect(),
                shares: p.shares,
            })
            .collect(),
        top_terms: b.top_terms,
        sentiment: Split {
            positive: b.sentiment.positive,
            neutral: b.sentiment.neutral,
            negative: b.sentiment.negative,
        },
    }
}

/// The brief as plain text (email, Matrix, webhook).
pub fn text(b: &Brief, t: crate::i18n::Tr) -> String {
    let mut s = String::new();
    if let (Some(o), Some(e)) = (b.observed.last(), b.expected.last()) {
        s.push_str(&format!(
            "{}: {} / {} {:.1}\n",
            t.t("alerts.volume"),
            t.number(*o as i64),
            t.t("alerts.expected"),
            e
        ));
    }
    s.push_str(&format!(
        "{}: +{} ={} -{}\n",
        t.t("listen.sentiment"),
        b.sentiment.positive,
        b.sentiment.neutral,
        b.sentiment.negative
    ));
    if !b.top_terms.is_empty() {
        let words: Vec<&str> = b.top_terms.iter().map(|(w, _)| w.as_str()).collect();
        s.push_str(&format!(
            "{}: {}\n",
            t.t("alerts.top_terms"),
            words.join(", ")
        ));
    }
    for p in &b.top_posts {
        s.push_str(&format!(
            "\n— {}{} (×{})\n{}\n",
            p.author.as_deref().unwrap_or(""),
            p.url
                .as_deref()
                .map(|u| format!(" {u}"))
                .unwrap_or_default(),
            p.shares,
            p.text
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: i64, body: &str, story: Option<i64>, sentiment: &str) -> Mention {
        Mention {
            id,
            workspace_id: 1,
            source_id: None,
            query_ids: vec![1],
            url: None,
            author: Some(format!("u{id}")),
            title: None,
            body: body.into(),
            lang: Some("fr".into()),
            published_at: None,
            received_at: 0,
            origin: "feed".into(),
            sentiment: Some(sentiment.into()),
            sentiment_score: None,
            story_id: story,
        }
    }

    #[test]
    fn shares_rank_posts_and_query_words_leave_the_terms() {
        let ms = vec![
            m(1, "Rappel Acme : lait contaminé", Some(9), "negative"),
            m(2, "RT Rappel Acme : lait contaminé", Some(9), "negative"),
            m(3, "Acme lait contaminé, scandale", Some(9), "negative"),
            m(4, "J'adore Acme", None, "positive"),
        ];
        let b = from_mentions("Acme", "acme", &ms, Vec::new());
        assert_eq!(b.count, 4);
        assert_eq!(b.top_posts[0].shares, 3);
        assert_eq!(b.top_posts[0].mention_id, 1);
        assert_eq!((b.sentiment.negative, b.sentiment.positive), (3, 1));
        assert!(b.top_terms.iter().any(|(w, n)| w == "contamine" && *n == 3));
        assert!(!b.top_terms.iter().any(|(w, _)| w == "acme" || w == "rt"));
    }
}
