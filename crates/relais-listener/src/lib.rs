//! The listening pipeline run by workers: a recurring `listen.poll` job claims due feeds
//! (each URL is fetched once for every workspace that follows it), matches its items against
//! every query of every workspace at once, and stores a mention per workspace whose query
//! matched, with its language, once per workspace and item.

use std::sync::{Arc, Mutex};

use relais_feeds::{FeedState, FetchOutcome, PollPolicy};
use relais_listen::{Matcher, Query};
use relais_net::Net;
use relais_store::listening::SavedQuery;

pub mod bench;
mod ingest;
pub mod live;
pub use ingest::{Enricher, Incoming};
use relais_store::worker::{JobError, Registry};
use relais_store::Store;

pub const POLL_JOB: &str = "listen.poll";

/// The compiled matcher and the query set it was built from; rebuilt when queries change.
#[derive(Default)]
struct Compiled {
    version: (i64, i64),
    queries: Vec<SavedQuery>,
    matcher: Option<Arc<Matcher>>,
}

#[derive(Clone)]
pub struct Listener {
    store: Store,
    net: Net,
    compiled: Arc<Mutex<Compiled>>,
    enricher: Arc<Enricher>,
}

fn retry(e: impl std::fmt::Display) -> JobError {
    JobError::Retry(e.to_string())
}

impl Listener {
    pub fn new(store: Store, net: Net) -> Listener {
        Listener {
            store,
            net,
            compiled: Arc::new(Mutex::new(Compiled::default())),
            enricher: Arc::new(Enricher::default()),
        }
    }

    /// Uses this enricher (e.g. with a user sentiment lexicon) instead of the built-in one.
    pub fn with_enricher(mut self, e: Enricher) -> Listener {
        self.enricher = Arc::new(e);
        self
    }

    /// Rebuilds the story index from the mentions of its window (48 h); the number of items.
    pub async fn warm_stories(&self) -> relais_store::Result<usize> {
        let window = relais_enrich::StoryOptions::default();
        let from = relais_store::now() - window.window_ms;
        let members = self
            .store
            .story_members_since(from, window.max_members as i64)
            .await?;
        self.enricher.warm_stories(&members);
        Ok(members.len())
    }

    /// Registers the poll job and its schedule.
    pub async fn register(&self, registry: &mut Registry) -> relais_store::Result<()> {
        let me = self.clone();
        registry.register(POLL_JOB, move |_store, _job, _worker| {
            let me = me.clone();
            Box::pin(async move { me.poll_due(16).await.map(|_| ()).map_err(retry) })
        });
        self.store
            .upsert_recurring("listen-poll", POLL_JOB, &serde_json::json!({}), "every 15s")
            .await
    }

    /// The matcher for the current queries (compiled together, all workspaces).
    async fn matcher(&self) -> relais_store::Result<(Arc<Matcher>, Vec<SavedQuery>)> {
        let version = self.store.queries_version().await?;
        {
            let c = self.compiled.lock().expect("matcher lock");
            if let (Some(m), true) = (&c.matcher, c.version == version) {
                return Ok((m.clone(), c.queries.clone()));
            }
        }
        let all = self.store.all_queries().await?;
        // Queries were validated when saved; one that no longer parses is skipped, not fatal.
        let parsed: Vec<(SavedQuery, Query)> = all
            .into_iter()
            .filter_map(|q| match relais_listen::parse(&q.expression) {
                Ok(p) => Some((q, p)),
                Err(e) => {
                    tracing::warn!(query = q.id, error = %e, "skipping a query that does not parse");
                    None
                }
            })
            .collect();
        let matcher = Arc::new(Matcher::compile_queries(parsed.iter().map(|(_, p)| p)));
        let queries: Vec<SavedQuery> = parsed.into_iter().map(|(q, _)| q).collect();
        let mut c = self.compiled.lock().expect("matcher lock");
        *c = Compiled {
            version,
            queries: queries.clone(),
            matcher: Some(matcher.clone()),
        };
        Ok((matcher, queries))
    }

    /// Polls up to `limit` due feeds; returns the number of mentions stored.
    pub async fn poll_due(&self, limit: i64) -> relais_store::Result<usize> {
        let due = self.store.claim_due_feeds(limit, 5 * 60 * 1000).await?;
        let mut stored = 0;
        for feed in due {
            stored += self.poll_one(&feed).await?;
        }
        Ok(stored)
    }

    async fn poll_one(
        &self,
        feed: &relais_store::listening::DueFeed,
    ) -> relais_store::Result<usize> {
        let (feed_id, url, state_json) = (feed.id, feed.url.as_str(), feed.state.as_str());
        let mut state: FeedState =
            serde_json::from_str(state_json).unwrap_or_else(|_| FeedState::new(url));
        let outcome = relais_feeds::fetch(&self.net, &state).await;
        let now = relais_store::now();
        let delay = state.record(&outcome, now, &PollPolicy::default());
        let next = now + delay.as_millis() as i64;
        let error = outcome
            .error()
            .map(|e| format!("{}: {}", e.code.as_str(), e.message));
        let mut stored = 0;
        if let FetchOutcome::Updated { feed, .. } = &outcome {
            stored = self.ingest(feed_id, &feed.items).await?;
        }
        let state_json = serde_json::to_string(&state).unwrap_or_default();
        if !self
            .store
            .record_feed_poll(
                feed_id,
                feed.claimed_until,
                &state_json,
                next,
                error.as_deref(),
            )
            .await?
        {
            tracing::debug!(
                feed = feed_id,
                "feed was reset during the poll; it stays due"
            );
        }
        if let Some(e) = error {
            tracing::info!(feed = feed_id, error = %e, "feed poll failed; backing off");
        }
        Ok(stored)
    }

    async fn ingest(
        &self,
        feed_id: i64,
        items: &[relais_feeds::Item],
    ) -> relais_store::Result<usize> {
        let subs = self.store.sources_of_feed(feed_id).await?;
        let incoming: Vec<Incoming> = items
            .iter()
            .map(|item| Incoming {
                guid: item.guid.clone(),
                url: item.url.clone(),
                author: item.author.clone(),
                title: item.title.clone(),
                text: match &item.title {
                    Some(t) if !item.summary_text.starts_with(t.as_str()) => {
                        format!("{t}\n{}", item.summary_text)
                    }
                    _ => item.summary_text.clone(),
                },
                langs: item.language.iter().cloned().collect(),
                published_at: item.published_at,
            })
            .collect();
        // Every item of a changed feed is matched again: a workspace that just followed the
        // feed gets its current items, and mentions stay unique per workspace and item, so
        // nothing is stored twice (unchanged feeds answer 304 and cost nothing).
        let audience: Vec<(i64, Option<i64>)> =
            subs.iter().map(|s| (s.workspace_id, Some(s.id))).collect();
        self.store_matches("feed", &audience, &incoming).await
    }
}
