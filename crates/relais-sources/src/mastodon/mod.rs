//! Mastodon: a public or hashtag timeline, live through the streaming API, with timeline polling
//! to catch up after every (re)connection and as the fallback when streaming is unavailable.
//!
//! Streaming has no resume: what was posted while disconnected is fetched from the timeline
//! (`min_id` = the cursor, the highest status id delivered) before the stream is reopened, and
//! replays between the two are dropped by guid (the status URI).

mod api;
mod stream;

use std::time::Duration;

use relais_net::{Net, SsrfPolicy};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use url::Url;

use crate::backoff::Backoff;
use crate::error::{redact, ErrorCode, SourceError};
use crate::model::{now_ms, Secret};
use crate::output::Output;
use crate::status::SourceState;
use crate::ws::{connect, to_ws_scheme, WsOptions};

/// Pages fetched in one catch-up (then the next poll goes on).
const MAX_PAGES: usize = 10;
const MAX_MESSAGE: usize = 1024 * 1024;
/// After streaming was refused, how long to poll before trying it again.
const STREAM_RETRY: Duration = Duration::from_secs(600);
/// Streams are quiet on small hashtags; the server answers pings.
const IDLE: Duration = Duration::from_secs(90);

/// Which timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Timeline {
    /// The federated (or, with `local`, local) public timeline.
    Public,
    /// A hashtag, without `#`.
    Hashtag { tag: String },
}

/// How to follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MastodonMode {
    /// Streaming, with polling to catch up and as the fallback.
    #[default]
    Stream,
    /// Polling only.
    Poll,
}

/// Settings of a Mastodon source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MastodonConfig {
    /// The instance: `https://mastodon.social`.
    pub instance: String,
    pub timeline: Timeline,
    /// Only statuses of this instance.
    #[serde(default)]
    pub local: bool,
    /// An access token (many instances require one for public streams).
    #[serde(default)]
    pub token: Option<Secret>,
    #[serde(default)]
    pub mode: MastodonMode,
    /// Seconds between polls when polling (default 60).
    #[serde(default = "default_poll")]
    pub poll_interval_secs: u64,
}

fn default_poll() -> u64 {
    60
}

impl MastodonConfig {
    pub fn hashtag(instance: impl Into<String>, tag: impl Into<String>) -> Self {
        MastodonConfig {
            instance: instance.into(),
            timeline: Timeline::Hashtag { tag: tag.into() },
            local: false,
            token: None,
            mode: MastodonMode::Stream,
            poll_interval_secs: default_poll(),
        }
    }

    fn instance_url(&self) -> Result<Url, SourceError> {
        let mut u = Url::parse(self.instance.trim()).map_err(|e| {
            SourceError::config(format!("instance: {e} (e.g. https://mastodon.social)"))
        })?;
        if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
            return Err(SourceError::config(
                "instance: must be an https:// address (e.g. https://mastodon.social)",
            ));
        }
        u.set_path("/");
        u.set_query(None);
        u.set_fragment(None);
        Ok(u)
    }

    fn tag(&self) -> Result<Option<String>, SourceError> {
        let Timeline::Hashtag { tag } = &self.timeline else {
            return Ok(None);
        };
        let t = tag.trim().trim_start_matches('#');
        if t.is_empty()
            || t.chars().count() > 100
            || !t.chars().all(|c| c.is_alphanumeric() || c == '_')
        {
            return Err(SourceError::config(format!(
                "tag: {tag:?} is not a hashtag (letters, digits and _ only)"
            )));
        }
        Ok(Some(t.to_owned()))
    }

    pub fn validate(&self) -> Result<(), SourceError> {
        self.instance_url()?;
        self.tag()?;
        if self.poll_interval_secs == 0 {
            return Err(SourceError::config(
                "poll_interval_secs: must be at least 1",
            ));
        }
        Ok(())
    }

    /// The REST timeline URL.
    fn timeline_url(&self) -> Result<Url, SourceError> {
        let mut u = self.instance_url()?;
        {
            let mut p = u.path_segments_mut().expect("http URLs have paths");
            p.clear().extend(["api", "v1", "timelines"]);
            match self.tag()? {
                Some(t) => p.extend(["tag", t.as_str()]),
                None => p.push("public"),
            };
        }
        if self.local {
            u.query_pairs_mut().append_pair("local", "true");
        }
        Ok(u)
    }
}

pub(crate) struct Mastodon {
    cfg: MastodonConfig,
    timeline_url: Url,
    host: String,
    net: Net,
    connect_timeout: Duration,
    stream_base: Option<Url>,
}

impl Mastodon {
    pub(crate) fn new(
        cfg: &MastodonConfig,
        net: Net,
        connect_timeout: Duration,
    ) -> Result<Self, SourceError> {
        cfg.validate()?;
        let mut cfg = cfg.clone();
        if let (Some(t), Timeline::Hashtag { tag }) = (cfg.tag()?, &mut cfg.timeline) {
            *tag = t;
        }
        let inst = cfg.instance_url()?;
        Ok(Mastodon {
            timeline_url: cfg.timeline_url()?,
            host: inst.host_str().unwrap_or_default().to_owned()
                + &inst.port().map(|p| format!(":{p}")).unwrap_or_default(),
            cfg,
            net,
            connect_timeout,
            stream_base: None,
        })
    }

    fn token(&self) -> Option<&str> {
        self.cfg
            .token
            .as_ref()
            .map(Secret::expose)
            .filter(|t| !t.is_empty())
    }

    /// Fetch what is newer than the cursor (the newest page on a first start).
    async fn catch_up(&self, out: &mut Output) -> Result<(), SourceError> {
        for _ in 0..MAX_PAGES {
            let min_id = out.cursor().map(str::to_owned);
            let page = api::timeline_page(
                &self.net,
                &self.timeline_url,
                min_id.as_deref(),
                self.token(),
            )
            .await?;
            let full = page.len() >= api::PAGE_LIMIT;
            let mut top = min_id.clone();
            for s in page {
                if top.as_deref().is_none_or(|t| api::cmp_id(&s.id, t).is_gt()) {
                    top = Some(s.id.clone());
                }
                if let Some(e) = api::status_event(s, &self.host) {
                    out.push(e);
                }
            }
            out.set_cursor(top);
            out.flush().await?;
            // A first start takes the newest page only; otherwise go on while pages are full.
            if min_id.is_none() || !full {
                break;
            }
        }
        Ok(())
    }

    async fn stream_url(&mut self, policy: &SsrfPolicy) -> Result<Url, SourceError> {
        if self.stream_base.is_none() {
            let inst = self.cfg.instance_url()?;
            let mut base = api::streaming_base(&self.net, &inst, self.token())
                .await?
                .unwrap_or(inst);
            to_ws_scheme(&mut base);
            self.stream_base = Some(base);
        }
        let base = self.stream_base.as_ref().expect("set above");
        let u = stream::stream_url(base, &self.cfg.timeline, self.cfg.local);
        crate::ws::check_url(policy, &u)?;
        Ok(u)
    }

    async fn stream_session(&mut self, out: &mut Output, backoff: &mut Backoff) -> SourceError {
        let policy = self.net.policy().clone();
        let url = match self.stream_url(&policy).await {
            Ok(u) => u,
            Err(e) => return e,
        };
        let opts = WsOptions {
            max_message: MAX_MESSAGE,
            connect_timeout: self.connect_timeout,
            headers: self
                .token()
                .map(|t| vec![(relais_net::header::AUTHORIZATION, format!("Bearer {t}"))])
                .unwrap_or_default(),
        };
        let mut ws = match connect(&policy, &url, &opts).await {
            Ok(ws) => ws,
            Err(e) => return e,
        };
        tracing::debug!(url = %redact(&url), "mastodon stream open");
        out.state(SourceState::Connected);
        let host = self.host.clone();
        let mut handler = |m, o: &mut Output| stream::on_message(m, o, &host);
        crate::stream::pump(&mut ws, out, IDLE, backoff, &mut handler).await
    }

    pub(crate) async fn run(&mut self, out: &mut Output) -> SourceError {
        let mut backoff = Backoff::default();
        let poll_every = Duration::from_secs(self.cfg.poll_interval_secs.max(1));
        let mut stream_retry_at: Option<Instant> = None;
        loop {
            out.state(SourceState::Connecting);
            if let Err(e) = self.catch_up(out).await {
                if e.is_fatal() {
                    return e;
                }
                if let Err(stop) = out.backoff(&e, &mut backoff).await {
                    return stop;
                }
                continue;
            }
            out.healthy();
            let streaming = self.cfg.mode == MastodonMode::Stream
                && stream_retry_at.is_none_or(|t| Instant::now() >= t);
            if !streaming {
                backoff.reset();
                let next_at_ms = now_ms() + poll_every.as_millis() as i64;
                if let Err(e) = out.wait(poll_every, SourceState::Idle { next_at_ms }).await {
                    return e;
                }
                continue;
            }
            let e = self.stream_session(out, &mut backoff).await;
            if e.is_fatal() {
                return e;
            }
            let refused = e.code == ErrorCode::HttpStatus && e.status != Some(429)
                || e.code == ErrorCode::SsrfBlocked;
            if refused {
                // No streaming here (disabled, needs a token, blocked): poll instead for a while.
                out.notice(&SourceError::new(
                    ErrorCode::StreamingUnavailable,
                    format!(
                        "polling every {}s instead: {}",
                        poll_every.as_secs(),
                        e.message
                    ),
                ));
                stream_retry_at = Some(Instant::now() + STREAM_RETRY);
                self.stream_base = None;
                continue;
            }
            if let Err(stop) = out.backoff(&e, &mut backoff).await {
                return stop;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_urls() {
        let c = MastodonConfig::hashtag("https://m.example/some/path?x=1", "#Café_2");
        assert!(c.validate().is_ok());
        assert_eq!(
            c.timeline_url().unwrap().as_str(),
            "https://m.example/api/v1/timelines/tag/Caf%C3%A9_2"
        );
        let mut p = MastodonConfig::hashtag("https://m.example", "x");
        p.timeline = Timeline::Public;
        p.local = true;
        assert_eq!(
            p.timeline_url().unwrap().as_str(),
            "https://m.example/api/v1/timelines/public?local=true"
        );
        let base = Url::parse("wss://streaming.m.example").unwrap();
        assert_eq!(
            stream::stream_url(&base, &c.timeline, false).as_str(),
            "wss://streaming.m.example/api/v1/streaming?stream=hashtag&tag=%23Caf%C3%A9_2"
        );
        for bad in ["a b", "", "#", "x/y"] {
            let c = MastodonConfig::hashtag("https://m.example", bad);
            assert!(
                c.validate().unwrap_err().message.starts_with("tag"),
                "{bad}"
            );
        }
        let c = MastodonConfig::hashtag("mastodon.social", "x");
        assert!(c.validate().unwrap_err().message.starts_with("instance"));
        let json = serde_json::json!({"instance": "https://m.example", "timeline": {"type": "hashtag", "tag": "rust"}, "token": "t"});
        let c: MastodonConfig = serde_json::from_value(json).unwrap();
        assert_eq!(c.mode, MastodonMode::Stream);
        assert!(!format!("{c:?}").contains("\"t\""));
    }
}
