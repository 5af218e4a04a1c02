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

/// Words too common to say anything about a burst.
const STOP: &[&str] = &[
    "the", "a", "an", "and", "or", "of", "to", "in", "on", "for", "is", "are", "was", "it", "this",
    "that", "with", "at", "by", "from", "be", "as", "i", "you", "we", "they", "my", "your", "our",
    "not", "no", "but", "so", "just", "le", "la", "les", "un", "une", "des", "de", "du", "et",
    "ou", "a", "au", "aux", "en", "dans", "pour", "par", "sur", "avec", "est", "sont", "ce",
    "cette", "ces", "il", "elle", "on", "nous", "vous", "ils", "elles", "je", "tu", "mon", "ma",
    "mes", "son", "sa", "ses", "leur", "leurs", "pas", "ne", "que", "qui", "quoi", "plus", "d",
    "l", "j", "c", "s", "n", "qu", "y", "http", "https", "www", "com", "fr", "rt",
];

/// The brief of a set of mentions: posts ranked by how many mentions share their story, the
/// most frequent words (stop words and the query's own words left out), the sentiment split.
pub fn from_mentions(query: &str, mentions: &[Mention], query_words: &[String]) -> Brief {
    let mut stories: Vec<(Option<i64>, TopPost)> = Vec::new();
    let mut split = Split::default();
    let mut terms: std::collections::HashMap<String, u32> = Default::default();
    for m in mentions {
        match m.sentiment.as_deref() {
            Some("positive") => split.positive += 1,
            Some("negative") => split.negative += 1,
            _ => split.neutral += 1,
        }
        let mut seen = std::collections::HashSet::new();
        for t in relais_listen::fold::fold_tokens(&m.body) {
            if t.len() > 2
                && !t.bytes().all(|b| b.is_ascii_digit())
                && !STOP.contains(&t.as_str())
                && !query_words.contains(&t)
                && seen.insert(t.clone())
            {
                *terms.entry(t).or_default() += 1;
            }
        }
        let key = m.story_id;
        match stories.iter_mut().find(|(k, _)| key.is_some() && *k == key) {
            Some((_, p)) => p.shares += 1,
            None => stories.push((
                key,
                TopPost {
                    mention_id: m.id,
                    author: m.author.clone(),
                    url: m.url.clone(),
                    text: m.body.chars().take(280).collect(),
                    shares: 1,
                },
            )),
        }
    }
    let mut top_posts: Vec<TopPost> = stories.into_iter().map(|(_, p)| p).collect();
    top_posts.sort_by(|a, b| {
        b.shares
            .cmp(&a.shares)
            .then(b.mention_id.cmp(&a.mention_id))
    });
    top_posts.truncate(5);
    let mut top_terms: Vec<(String, u32)> = terms
        .into_iter()
        .filter(|(_, n)| *n > 1 || mentions.len() < 3)
        .collect();
    top_terms.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    top_terms.truncate(10);
    Brief {
        query: query.to_string(),
        count: mentions.len() as i64,
        top_posts,
        top_terms,
        sentiment: split,
        ..Brief::default()
    }
}

/// The words of a query (folded), to leave them out of the top terms.
pub fn query_words(expression: &str) -> Vec<String> {
    let Ok(q) = relais_listen::parse(expression) else {
        return Vec::new();
    };
    let mut p = Vec::new();
    crate::highlight::positive_patterns(&q, &mut p);
    p.into_iter().flat_map(|p| p.tokens).collect()
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
        let b = from_mentions("Acme", &ms, &query_words("acme"));
        assert_eq!(b.count, 4);
        assert_eq!(b.top_posts[0].shares, 3);
        assert_eq!(b.top_posts[0].mention_id, 1);
        assert_eq!((b.sentiment.negative, b.sentiment.positive), (3, 1));
        assert!(b.top_terms.iter().any(|(w, n)| w == "contamine" && *n == 3));
        assert!(!b.top_terms.iter().any(|(w, _)| w == "acme" || w == "rt"));
    }
}
