//! Mastodon REST: statuses → events, timeline pages, streaming URL discovery
//! (docs.joinmastodon.org/methods/timelines, /methods/instance, /entities/Status).

use std::cmp::Ordering;

use relais_net::header;
use relais_net::Net;
use serde::{Deserialize, Deserializer};
use url::Url;

use crate::error::SourceError;
use crate::html::fragment_text;
use crate::model::{cap_list, cap_text, parse_time, Event, MAX_LANGS, MAX_LINKS, MAX_TEXT};

/// Largest timeline page or instance document read.
const MAX_BODY: u64 = 4 * 1024 * 1024;
pub(crate) const PAGE_LIMIT: usize = 40;

/// Mastodon sends ids as strings; some servers and mocks send numbers.
fn id_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        S(String),
        N(u64),
    }
    Ok(match Id::deserialize(d)? {
        Id::S(s) => s,
        Id::N(n) => n.to_string(),
    })
}

#[derive(Debug, Deserialize)]
pub(crate) struct Status {
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    #[serde(default)]
    pub uri: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub spoiler_text: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub account: Option<Account>,
    #[serde(default)]
    pub reblog: Option<Box<Status>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Account {
    #[serde(default)]
    pub acct: Option<String>,
}

/// Order of status ids: numeric strings (Mastodon snowflakes) and fixed-width flake ids
/// (Pleroma) both sort by length, then bytes.
pub(crate) fn cmp_id(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// The event of a status (a boost becomes the boosted status, so it dedups with it).
pub(crate) fn status_event(s: Status, instance_host: &str) -> Option<Event> {
    let s = match s.reblog {
        Some(inner) => *inner,
        None => s,
    };
    let guid = s.uri.clone().or_else(|| s.url.clone())?;
    let (text, links) = fragment_text(s.content.as_deref().unwrap_or(""));
    let links = links
        .into_iter()
        .filter(|l| l.starts_with("https://") || l.starts_with("http://"));
    let author = s.account.and_then(|a| a.acct).map(|acct| {
        if acct.contains('@') {
            acct
        } else {
            format!("{acct}@{instance_host}")
        }
    });
    Some(Event {
        guid,
        url: s.url.or(s.uri),
        author,
        title: s.spoiler_text.filter(|t| !t.trim().is_empty()),
        text: cap_text(text, MAX_TEXT),
        langs: cap_list(s.language, MAX_LANGS),
        links: cap_list(links, MAX_LINKS),
        published_at_ms: s.created_at.as_deref().and_then(parse_time),
    })
}

async fn get_json<T: serde::de::DeserializeOwned>(
    net: &Net,
    url: &Url,
    token: Option<&str>,
) -> Result<T, SourceError> {
    let mut rb = net
        .get(url.as_str())
        .header(header::ACCEPT, "application/json");
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    let resp = net.send(rb).await?;
    let status = resp.status();
    let body = net.read_limited(resp, MAX_BODY).await?;
    if !status.is_success() {
        let snippet = relais_net::snippet(&body[..body.len().min(300)]);
        return Err(SourceError::http(
            status.as_u16(),
            format!("HTTP {status}: {}", snippet.trim()),
        ));
    }
    serde_json::from_slice(&body).map_err(|e| SourceError::malformed(format!("response: {e}")))
}

/// One page of a timeline: statuses newer than `min_id` (the oldest of them), or the newest.
pub(crate) async fn timeline_page(
    net: &Net,
    timeline_url: &Url,
    min_id: Option<&str>,
    token: Option<&str>,
) -> Result<Vec<Status>, SourceError> {
    let mut u = timeline_url.clone();
    {
        let mut q = u.query_pairs_mut();
        q.append_pair("limit", &PAGE_LIMIT.to_string());
        if let Some(m) = min_id {
            q.append_pair("min_id", m);
        }
    }
    // A status that does not parse is skipped, not the page.
    let raw: Vec<serde_json::Value> = get_json(net, &u, token).await?;
    let mut out: Vec<Status> = raw
        .into_iter()
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect();
    out.sort_by(|a, b| cmp_id(&a.id, &b.id));
    Ok(out)
}

#[derive(Deserialize)]
struct InstanceV2 {
    #[serde(default)]
    configuration: Option<ConfigurationV2>,
}
#[derive(Deserialize)]
struct ConfigurationV2 {
    #[serde(default)]
    urls: Option<UrlsV2>,
}
#[derive(Deserialize)]
struct UrlsV2 {
    #[serde(default)]
    streaming: Option<String>,
}
#[derive(Deserialize)]
struct InstanceV1 {
    #[serde(default)]
    urls: Option<UrlsV1>,
}
#[derive(Deserialize)]
struct UrlsV1 {
    #[serde(default)]
    streaming_api: Option<String>,
}

/// The streaming server's base URL (`configuration.urls.streaming` of /api/v2/instance, else
/// `urls.streaming_api` of /api/v1/instance); `None` when the instance has none.
pub(crate) async fn streaming_base(
    net: &Net,
    instance: &Url,
    token: Option<&str>,
) -> Result<Option<Url>, SourceError> {
    let v2 = instance
        .join("api/v2/instance")
        .expect("relative URL joins");
    let found = match get_json::<InstanceV2>(net, &v2, token).await {
        Ok(i) => i
            .configuration
            .and_then(|c| c.urls)
            .and_then(|u| u.streaming),
        Err(e) if e.status == Some(404) => {
            let v1 = instance
                .join("api/v1/instance")
                .expect("relative URL joins");
            let i: InstanceV1 = get_json(net, &v1, token).await?;
            i.urls.and_then(|u| u.streaming_api)
        }
        Err(e) => return Err(e),
    };
    Ok(found.and_then(|s| Url::parse(&s).ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_order() {
        assert_eq!(cmp_id("9", "10"), Ordering::Less);
        assert_eq!(
            cmp_id("110000000000000001", "110000000000000002"),
            Ordering::Less
        );
        assert_eq!(cmp_id("AbC", "AbD"), Ordering::Less);
        assert_eq!(cmp_id("007", "7"), Ordering::Equal);
    }

    #[test]
    fn status_to_event() {
        let s: Status = serde_json::from_value(serde_json::json!({
            "id": 5,
            "uri": "https://m.example/users/a/statuses/5",
            "url": "https://m.example/@a/5",
            "created_at": "2024-01-02T03:04:05.678Z",
            "content": "<p>Bonjour <a href=\"https://ex.org/x\">ex.org/x</a></p>",
            "spoiler_text": "",
            "language": "fr",
            "account": {"acct": "a"}
        }))
        .unwrap();
        let e = status_event(s, "m.example").unwrap();
        assert_eq!(e.guid, "https://m.example/users/a/statuses/5");
        assert_eq!(e.url.as_deref(), Some("https://m.example/@a/5"));
        assert_eq!(e.author.as_deref(), Some("a@m.example"));
        assert_eq!(e.text, "Bonjour ex.org/x");
        assert_eq!(e.langs, vec!["fr"]);
        assert_eq!(e.links, vec!["https://ex.org/x"]);
        assert_eq!(e.title, None);
        // A boost is the boosted status.
        let b: Status = serde_json::from_value(serde_json::json!({
            "id": "6", "uri": "https://m.example/users/b/statuses/6/activity",
            "content": "", "account": {"acct": "b"},
            "reblog": {"id": "1", "uri": "https://o.example/s/1", "content": "<p>orig</p>",
                       "account": {"acct": "c@o.example"}}
        }))
        .unwrap();
        let e = status_event(b, "m.example").unwrap();
        assert_eq!(
            (e.guid.as_str(), e.text.as_str()),
            ("https://o.example/s/1", "orig")
        );
        assert_eq!(e.author.as_deref(), Some("c@o.example"));
    }
}
