//! From an incoming item (a feed entry, a Bluesky post, a Mastodon status, a page change) to
//! stored mentions: matched against every query at once, then — on matched items only —
//! language, sentiment and near-duplicate story, stored once per workspace and item in one
//! transaction per batch.

use std::sync::Mutex;

use relais_enrich::{Sentiment, StoryIndex, StoryOptions};
use relais_store::mentions::NewMention;

use crate::Listener;

/// An item from any source, normalised.
#[derive(Debug, Clone, Default)]
pub struct Incoming {
    /// Stable id (feed guid, `at://…` URI, status URL): a mention is stored once per workspace.
    pub guid: String,
    pub url: Option<String>,
    pub author: Option<String>,
    pub title: Option<String>,
    pub text: String,
    /// Declared languages (first is used first).
    pub langs: Vec<String>,
    pub published_at: Option<i64>,
}

/// Sentiment and story grouping, shared by every poll of a process.
pub struct Enricher {
    sentiment: Sentiment,
    stories: Mutex<StoryIndex>,
}

impl Default for Enricher {
    fn default() -> Self {
        Enricher {
            sentiment: Sentiment::builtin(),
            stories: Mutex::new(StoryIndex::new(StoryOptions::default())),
        }
    }
}

/// What enrichment adds to a matched item.
#[derive(Debug, Clone)]
pub struct Enriched {
    pub lang: Option<String>,
    pub sentiment: &'static str,
    pub score: i64,
    pub story: i64,
}

impl Enricher {
    /// A user lexicon on top of the built-in one (`listen.sentiment_lexicon`).
    pub fn with_lexicon(path: &std::path::Path) -> Result<Enricher, String> {
        Ok(Enricher {
            sentiment: Sentiment::builtin_with(path).map_err(|e| e.to_string())?,
            stories: Mutex::new(StoryIndex::new(StoryOptions::default())),
        })
    }

    /// Feeds the story index with what was stored in its window (story ids derive from the
    /// first member, so a restarted process, or a second one, gives the same ids).
    pub fn warm_stories(&self, members: &[(String, Option<String>, i64)]) {
        let mut index = self.stories.lock().expect("story index lock");
        for (text, url, at) in members {
            index.insert(text, url.as_deref(), *at);
        }
    }

    pub fn enrich(&self, item: &Incoming, now: i64) -> Enriched {
        let declared: Vec<&str> = item.langs.iter().map(String::as_str).collect();
        let lang =
            relais_listen::lang::post_language(&item.text, &declared).map(|l| l.code.to_string());
        let s = self.sentiment.score(&item.text, lang.as_deref());
        let story = self
            .stories
            .lock()
            .expect("story index lock")
            .insert(
                &item.text,
                item.url.as_deref(),
                item.published_at.unwrap_or(now),
            )
            .to_i64();
        Enriched {
            lang,
            sentiment: s.label.as_str(),
            score: (s.score.clamp(-1.0, 1.0) * 1000.0).round() as i64,
            story,
        }
    }
}

impl Listener {
    /// Matches `items` against every query and stores a mention for each workspace of the
    /// audience (workspace, its source) whose queries matched. Returns the mentions stored.
    pub async fn store_matches(
        &self,
        origin: &str,
        audience: &[(i64, Option<i64>)],
        items: &[Incoming],
    ) -> relais_store::Result<usize> {
        let (matcher, queries) = self.matcher().await?;
        let mut hits = Vec::new();
        let now = relais_store::now();
        // Matching and enrichment first, then every mention of the batch in a few statements.
        let mut found: Vec<(usize, i64, Option<i64>, Vec<i64>)> = Vec::new();
        let mut enriched: Vec<Option<Enriched>> = vec![None; items.len()];
        for (n, item) in items.iter().enumerate() {
            let declared: Vec<&str> = item.langs.iter().map(String::as_str).collect();
            hits.clear();
            matcher.match_text(&item.text, &declared, &mut hits);
            if hits.is_empty() {
                continue;
            }
            for (ws, source) in audience {
                let ids: Vec<i64> = hits
                    .iter()
                    .map(|&i| &queries[i as usize])
                    .filter(|q| q.workspace_id == *ws)
                    .map(|q| q.id)
                    .collect();
                if ids.is_empty() {
                    continue;
                }
                if enriched[n].is_none() {
                    enriched[n] = Some(self.enricher.enrich(item, now));
                }
                found.push((n, *ws, *source, ids));
            }
        }
        if found.is_empty() {
            return Ok(0);
        }
        let mentions: Vec<NewMention> = found
            .iter()
            .map(|(n, ws, source, ids)| {
                let (item, e) = (&items[*n], enriched[*n].as_ref().expect("enriched"));
                NewMention {
                    workspace_id: *ws,
                    source_id: *source,
                    guid: &item.guid,
                    query_ids: ids,
                    url: item.url.as_deref(),
                    author: item.author.as_deref(),
                    title: item.title.as_deref(),
                    body: &item.text,
                    lang: e.lang.as_deref(),
                    published_at: item.published_at,
                    origin,
                    sentiment: Some(e.sentiment),
                    sentiment_score: Some(e.score),
                    story_id: Some(e.story),
                }
            })
            .collect();
        let mut tx = self.store.begin().await?;
        let stored = self.store.insert_mentions(&mut tx, &mentions).await?;
        tx.commit().await?;
        let stored = stored.iter().flatten().count();
        Ok(stored)
    }
}
