//! Bluesky / AT Protocol (any PDS): app-password session, posts with facets, images, replies.
//! Idempotency: the record key is a TID derived from the idempotency key, so a retry of the same
//! post conflicts instead of duplicating; reconcile is a `getRecord` of that key.

use chrono::SecondsFormat;
use relais_net::Net;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

use crate::http::{error_message, join, send_json, Kind, Reply};
use crate::limits::{self, Network};
use crate::{
    classify_status, Connector, Problem, PublishError, PublishRequest, Published, Secret, Variant,
};

pub const DEFAULT_PDS: &str = "https://bsky.social";
const POST: &str = "app.bsky.feed.post";

/// Handle (or DID / e-mail) and an app password (Settings → App passwords).
#[derive(Debug, Clone)]
pub struct BlueskyCredentials {
    /// PDS base URL; [`DEFAULT_PDS`] for bsky.social accounts.
    pub pds: String,
    pub identifier: String,
    pub app_password: Secret,
}

#[derive(Clone)]
struct Session {
    access: Secret,
    refresh: Secret,
    did: String,
    handle: String,
}

/// A Bluesky channel. The session is created on first use and refreshed on `ExpiredToken`.
pub struct Bluesky {
    net: Net,
    creds: BlueskyCredentials,
    session: Mutex<Option<Session>>,
}

/// Record key for an idempotency key: a syntactically valid TID (13 chars of base32-sortable)
/// whose timestamp bits come from SHA-256(key), pinned to 2023 so it never sorts in the future.
pub fn rkey_for(idempotency_key: &str) -> String {
    const ALPHABET: &[u8] = b"234567abcdefghijklmnopqrstuvwxyz";
    let h = Sha256::digest(idempotency_key.as_bytes());
    let n = u64::from_be_bytes(h[..8].try_into().expect("8 bytes"));
    let start_2023: u64 = 1_672_531_200_000_000; // µs
    let year: u64 = 365 * 24 * 3600 * 1_000_000;
    let micros = start_2023 + (n >> 10) % year;
    let tid = (micros << 10) | (n & 0x3ff);
    (0..13)
        .rev()
        .map(|i| ALPHABET[((tid >> (i * 5)) & 31) as usize] as char)
        .collect()
}

impl Bluesky {
    pub fn new(net: Net, creds: BlueskyCredentials) -> Self {
        Self {
            net,
            creds,
            session: Mutex::new(None),
        }
    }

    fn xrpc(&self, nsid: &str) -> String {
        join(&self.creds.pds, &format!("/xrpc/{nsid}"))
    }

    async fn create_session(&self) -> Result<Session, PublishError> {
        let body = json!({ "identifier": self.creds.identifier, "password": self.creds.app_password.expose() });
        let r = send_json(
            &self.net,
            self.net
                .post(&self.xrpc("com.atproto.server.createSession"))
                .json(&body),
            Kind::Safe,
        )
        .await?;
        if !r.status.is_success() {
            // Wrong password / handle: 401 AuthenticationRequired, or 400 on some PDS versions.
            return Err(match xrpc_fail(&r, Kind::Safe) {
                PublishError::BadRequest(m) => PublishError::Disconnect(m),
                e => e,
            });
        }
        session_from(&r.json)
    }

    async fn refresh(&self, s: &Session) -> Result<Session, PublishError> {
        let rb = self
            .net
            .post(&self.xrpc("com.atproto.server.refreshSession"))
            .bearer_auth(s.refresh.expose());
        let r = send_json(&self.net, rb, Kind::Safe).await?;
        if r.status.is_success() {
            return session_from(&r.json);
        }
        // The refresh token is gone too: start over with the app password.
        self.create_session().await
    }

    async fn current(&self) -> Result<Session, PublishError> {
        let mut g = self.session.lock().await;
        if let Some(s) = g.as_ref() {
            return Ok(s.clone());
        }
        let s = self.create_session().await?;
        *g = Some(s.clone());
        Ok(s)
    }

    /// Authenticated call; refreshes the session once on `ExpiredToken`. `build` makes the request.
    async fn authed(
        &self,
        kind: Kind,
        build: impl Fn(&Session) -> reqwest::RequestBuilder,
    ) -> Result<Reply, PublishError> {
        let s = self.current().await?;
        let r = send_json(&self.net, build(&s), kind).await?;
        if !is_expired(&r) {
            return Ok(r);
        }
        let fresh = self.refresh(&s).await?;
        *self.session.lock().await = Some(fresh.clone());
        send_json(&self.net, build(&fresh), kind).await
    }

    /// The account DID and handle (creates the session if needed).
    pub async fn whoami(&self) -> Result<(String, String), PublishError> {
        let s = self.current().await?;
        Ok((s.did, s.handle))
    }

    async fn resolve_handle(&self, handle: &str) -> Option<String> {
        let mut u = url::Url::parse(&self.xrpc("com.atproto.identity.resolveHandle")).ok()?;
        u.query_pairs_mut().append_pair("handle", handle);
        let r = send_json(&self.net, self.net.get(u.as_str()), Kind::Safe)
            .await
            .ok()?;
        r.json["did"].as_str().map(str::to_owned)
    }

    /// Rich-text facets with UTF-8 byte offsets: links, mentions (resolved to DIDs; unresolvable
    /// handles stay plain text) and hashtags.
    pub async fn facets(&self, text: &str) -> Vec<Value> {
        let mut out = Vec::new();
        for (s, e) in limits::find_urls(text) {
            out.push(facet(
                s,
                e,
                json!({"$type": "app.bsky.richtext.facet#link", "uri": &text[s..e]}),
            ));
        }
        for (s, e) in tokens(text, '@') {
            let handle = &text[s + 1..e];
            if !handle.contains('.') {
                continue;
            }
            if let Some(did) = self.resolve_handle(handle).await {
                out.push(facet(
                    s,
                    e,
                    json!({"$type": "app.bsky.richtext.facet#mention", "did": did}),
                ));
            }
        }
        for (s, e) in tokens(text, '#') {
            let tag = &text[s + 1..e];
            if tag.chars().all(|c| c.is_ascii_digit()) || tag.chars().count() > 64 {
                continue;
            }
            out.push(facet(
                s,
                e,
                json!({"$type": "app.bsky.richtext.facet#tag", "tag": tag}),
            ));
        }
        out
    }

    async fn upload(&self, m: &crate::Media) -> Result<Value, PublishError> {
        let r = self
            .authed(Kind::Safe, |s| {
                self.net
                    .post(&self.xrpc("com.atproto.repo.uploadBlob"))
                    .bearer_auth(s.access.expose())
                    .header("content-type", &m.mime)
                    .body(m.data.clone())
            })
            .await?;
        if !r.status.is_success() {
            return Err(xrpc_fail(&r, Kind::Safe));
        }
        Ok(r.json["blob"].clone())
    }

    async fn get_record(&self, did: &str, rkey: &str) -> Result<Option<Published>, PublishError> {
        let mut u =
            url::Url::parse(&self.xrpc("com.atproto.repo.getRecord")).expect("valid PDS URL");
        u.query_pairs_mut()
            .append_pair("repo", did)
            .append_pair("collection", POST)
            .append_pair("rkey", rkey);
        let r = send_json(&self.net, self.net.get(u.as_str()), Kind::Safe).await?;
        if r.status.is_success() {
            let handle = self.whoami().await?.1;
            return Ok(Some(published(&r.json, &handle, rkey)));
        }
        if r.json["error"] == "RecordNotFound" || r.status.as_u16() == 404 {
            return Ok(None);
        }
        Err(xrpc_fail(&r, Kind::Safe))
    }
}

fn facet(start: usize, end: usize, feature: Value) -> Value {
    json!({ "index": { "byteStart": start, "byteEnd": end }, "features": [feature] })
}

/// Byte ranges of `@word` / `#word` tokens that start a word; trailing punctuation is dropped.
fn tokens(text: &str, sigil: char) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (i, c) in text.char_indices() {
        if c != sigil {
            continue;
        }
        let prev_ok = text[..i]
            .chars()
            .next_back()
            .is_none_or(|p| p.is_whitespace() || p == '(');
        if !prev_ok {
            continue;
        }
        let rest = &text[i + 1..];
        let mut end = i
            + 1
            + rest
                .find(|ch: char| {
                    ch.is_whitespace() || !(ch.is_alphanumeric() || "._-".contains(ch))
                })
                .unwrap_or(rest.len());
        while end > i + 1 && text[..end].ends_with(['.', '-', '_']) {
            end -= 1;
        }
        if end > i + 1 {
            out.push((i, end));
        }
    }
    out
}

fn session_from(v: &Value) -> Result<Session, PublishError> {
    let s = |k: &str| v[k].as_str().map(str::to_owned);
    Ok(Session {
        access: Secret(
            s("accessJwt").ok_or_else(|| PublishError::Disconnect("no accessJwt".into()))?,
        ),
        refresh: Secret(s("refreshJwt").unwrap_or_default()),
        did: s("did").unwrap_or_default(),
        handle: s("handle").unwrap_or_default(),
    })
}

fn is_expired(r: &Reply) -> bool {
    matches!(r.status.as_u16(), 400 | 401) && r.json["error"] == "ExpiredToken"
}

/// XRPC failure: `InvalidToken` / `AuthenticationRequired` mean reconnect; the rest by status.
fn xrpc_fail(r: &Reply, kind: Kind) -> PublishError {
    let msg = error_message(r.status.as_u16(), &r.json);
    match r.json["error"].as_str() {
        Some(
            "InvalidToken" | "AuthenticationRequired" | "AccountTakedown" | "AccountDeactivated",
        ) => PublishError::Disconnect(msg),
        Some("ExpiredToken") => PublishError::RefreshToken(msg),
        _ => classify_status(r.status, &r.headers, msg, kind != Kind::Mutation),
    }
}

fn published(v: &Value, handle: &str, rkey: &str) -> Published {
    Published {
        remote_id: v["uri"].as_str().unwrap_or_default().to_owned(),
        url: Some(format!("https://bsky.app/profile/{handle}/post/{rkey}")),
        cid: v["cid"].as_str().map(str::to_owned),
    }
}

fn strong_ref(p: &Published) -> Value {
    json!({ "uri": p.remote_id, "cid": p.cid.clone().unwrap_or_default() })
}

#[async_trait::async_trait]
impl Connector for Bluesky {
    fn network(&self) -> &'static str {
        "bluesky"
    }

    fn validate(&self, v: &Variant) -> Vec<Problem> {
        limits::validate(Network::Bluesky, v)
    }

    async fn publish(&self, req: &PublishRequest) -> Result<Published, PublishError> {
        let v = &req.variant;
        let (did, handle) = self.whoami().await?;
        let rkey = rkey_for(&req.idempotency_key);
        let mut record = json!({
            "$type": POST,
            "text": v.text,
            "createdAt": chrono::Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        });
        let facets = self.facets(&v.text).await;
        if !facets.is_empty() {
            record["facets"] = json!(facets);
        }
        if let Some(l) = &v.language {
            record["langs"] = json!([l]);
        }
        if let Some(r) = &req.reply_to {
            record["reply"] =
                json!({ "root": strong_ref(&r.root), "parent": strong_ref(&r.parent) });
        }
        if !v.media.is_empty() {
            let mut images = Vec::new();
            for m in &v.media {
                let blob = self.upload(m).await?;
                images.push(json!({ "alt": m.alt.clone().unwrap_or_default(), "image": blob }));
            }
            record["embed"] = json!({ "$type": "app.bsky.embed.images", "images": images });
        }
        let body = json!({ "repo": did, "collection": POST, "rkey": rkey, "record": record });
        let r = self
            .authed(Kind::IdempotentMutation, |s| {
                self.net
                    .post(&self.xrpc("com.atproto.repo.createRecord"))
                    .bearer_auth(s.access.expose())
                    .json(&body)
            })
            .await?;
        if r.status.is_success() {
            return Ok(published(&r.json, &handle, &rkey));
        }
        // Same rkey already written (a retry of a post that went through): the PDS answers 400
        // or 500 (a unique-constraint failure in @atproto/pds 0.4) — look it up.
        if matches!(r.status.as_u16(), 400 | 409 | 500) {
            if let Ok(Some(p)) = self.get_record(&did, &rkey).await {
                return Ok(p);
            }
        }
        Err(xrpc_fail(&r, Kind::IdempotentMutation))
    }

    async fn reconcile(&self, req: &PublishRequest) -> Result<Option<Published>, PublishError> {
        let (did, _) = self.whoami().await?;
        self.get_record(&did, &rkey_for(&req.idempotency_key)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rkey_is_a_stable_tid() {
        let a = rkey_for("target-1");
        assert_eq!(a, rkey_for("target-1"));
        assert_ne!(a, rkey_for("target-2"));
        assert_eq!(a.len(), 13);
        assert!(
            "234567abcdefghij".contains(a.chars().next().unwrap()),
            "{a}"
        );
    }

    #[test]
    fn finds_tokens() {
        let t = "hé @alice.test, #rust! and a#b (#x) #123";
        let got: Vec<&str> = tokens(t, '#').into_iter().map(|(s, e)| &t[s..e]).collect();
        assert_eq!(got, ["#rust", "#x", "#123"]);
        let got: Vec<&str> = tokens(t, '@').into_iter().map(|(s, e)| &t[s..e]).collect();
        assert_eq!(got, ["@alice.test"]);
    }
}
