//! Mastodon (any instance): app registration, OAuth code flow, statuses with media.
//! Idempotency: `Idempotency-Key` header on every status (the server keeps it for an hour).

use std::sync::RwLock;
use std::time::Duration;

use relais_net::Net;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

use crate::http::{call, join, Kind};
use crate::limits::{self, MediaRules, Network};
use crate::{Connector, Problem, PublishError, PublishRequest, Published, Secret, Variant};

/// What the user gives: the instance URL and a token (from the OAuth flow or pasted).
#[derive(Debug, Clone)]
pub struct MastodonCredentials {
    /// `https://mastodon.social`
    pub instance: String,
    pub access_token: Secret,
}

/// An app registered on one instance (`POST /api/v1/apps`); store it per instance.
#[derive(Debug, Clone)]
pub struct MastodonApp {
    pub client_id: String,
    pub client_secret: Secret,
    pub redirect_uri: String,
}

/// Scopes relais asks for.
pub const SCOPES: &str = "read write";

/// Register relais on an instance.
pub async fn register_app(
    net: &Net,
    instance: &str,
    client_name: &str,
    redirect_uri: &str,
    website: Option<&str>,
) -> Result<MastodonApp, PublishError> {
    // JSON (the documented body); `redirect_uris` is an array since Mastodon 4.3.
    let mut body = json!({
        "client_name": client_name,
        "redirect_uris": [redirect_uri],
        "scopes": SCOPES,
    });
    if let Some(w) = website {
        body["website"] = json!(w);
    }
    let v = call(
        net,
        net.post(&join(instance, "/api/v1/apps")).json(&body),
        Kind::Safe,
    )
    .await?;
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    Ok(MastodonApp {
        client_id: s("client_id").ok_or_else(|| bad("no client_id in /api/v1/apps answer"))?,
        client_secret: Secret(s("client_secret").ok_or_else(|| bad("no client_secret"))?),
        redirect_uri: redirect_uri.to_owned(),
    })
}

/// The URL to send the user to; `state` is an anti-CSRF value checked on return.
pub fn authorize_url(instance: &str, app: &MastodonApp, state: &str) -> String {
    let mut u =
        url::Url::parse(&join(instance, "/oauth/authorize")).expect("instance URL was validated");
    u.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &app.client_id)
        .append_pair("redirect_uri", &app.redirect_uri)
        .append_pair("scope", SCOPES)
        .append_pair("state", state);
    u.into()
}

/// Exchange the authorization code for an access token.
pub async fn exchange_code(
    net: &Net,
    instance: &str,
    app: &MastodonApp,
    code: &str,
) -> Result<Secret, PublishError> {
    let body = json!({
        "grant_type": "authorization_code",
        "code": code,
        "client_id": app.client_id,
        "client_secret": app.client_secret.expose(),
        "redirect_uri": app.redirect_uri,
        "scope": SCOPES,
    });
    let v = call(
        net,
        net.post(&join(instance, "/oauth/token")).json(&body),
        Kind::Safe,
    )
    .await?;
    v.get("access_token")
        .and_then(Value::as_str)
        .map(Secret::new)
        .ok_or_else(|| bad("no access_token in /oauth/token answer"))
}

fn bad(m: &str) -> PublishError {
    PublishError::BadRequest(m.to_owned())
}

/// Limits read from `/api/v2/instance` (defaults until [`Mastodon::refresh_limits`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MastodonLimits {
    pub max_characters: usize,
    pub characters_per_url: usize,
    pub max_media: usize,
    pub image_size_limit: Option<u64>,
    pub mimes: Vec<String>,
}

impl Default for MastodonLimits {
    fn default() -> Self {
        Self {
            max_characters: limits::MASTODON_DEFAULT_MAX,
            characters_per_url: limits::URL_WEIGHT,
            max_media: 4,
            image_size_limit: Some(16 * 1024 * 1024),
            mimes: Vec::new(),
        }
    }
}

/// A Mastodon channel.
pub struct Mastodon {
    net: Net,
    creds: MastodonCredentials,
    limits: RwLock<MastodonLimits>,
}

impl Mastodon {
    pub fn new(net: Net, creds: MastodonCredentials) -> Self {
        Self {
            net,
            creds,
            limits: RwLock::new(MastodonLimits::default()),
        }
    }

    /// The limits `validate` currently uses.
    pub fn limits(&self) -> MastodonLimits {
        self.limits.read().expect("limits lock").clone()
    }

    /// Read the instance's limits (`configuration.statuses`, `configuration.media_attachments`).
    pub async fn refresh_limits(&self) -> Result<MastodonLimits, PublishError> {
        let v = call(
            &self.net,
            self.net.get(&self.url("/api/v2/instance")),
            Kind::Safe,
        )
        .await?;
        let c = &v["configuration"];
        let n = |v: &Value| v.as_u64();
        let d = MastodonLimits::default();
        let l = MastodonLimits {
            max_characters: n(&c["statuses"]["max_characters"])
                .map_or(d.max_characters, |x| x as usize),
            characters_per_url: n(&c["statuses"]["characters_reserved_per_url"])
                .map_or(d.characters_per_url, |x| x as usize),
            max_media: n(&c["statuses"]["max_media_attachments"])
                .map_or(d.max_media, |x| x as usize),
            image_size_limit: n(&c["media_attachments"]["image_size_limit"]).or(d.image_size_limit),
            mimes: c["media_attachments"]["supported_mime_types"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|m| m.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
        };
        *self.limits.write().expect("limits lock") = l.clone();
        Ok(l)
    }

    fn url(&self, path: &str) -> String {
        join(&self.creds.instance, path)
    }

    fn auth(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        rb.bearer_auth(self.creds.access_token.expose())
    }

    /// The account behind the token (`verify_credentials`): `(id, acct)`.
    pub async fn account(&self) -> Result<(String, String), PublishError> {
        let rb = self.auth(
            self.net
                .get(&self.url("/api/v1/accounts/verify_credentials")),
        );
        let v = call(&self.net, rb, Kind::Safe).await?;
        let id = v["id"]
            .as_str()
            .ok_or_else(|| bad("no account id"))?
            .to_owned();
        Ok((id, v["acct"].as_str().unwrap_or_default().to_owned()))
    }

    async fn upload(&self, m: &crate::Media) -> Result<String, PublishError> {
        let part = Part::bytes(m.data.to_vec())
            .file_name(m.filename.clone())
            .mime_str(&m.mime)
            .map_err(|e| bad(&format!("media type {}: {e}", m.mime)))?;
        let mut form = Form::new().part("file", part);
        if let Some(alt) = &m.alt {
            form = form.text("description", alt.clone());
        }
        let rb = self
            .auth(self.net.post(&self.url("/api/v2/media")))
            .multipart(form);
        let v = call(&self.net, rb, Kind::Safe).await?;
        let id = v["id"]
            .as_str()
            .ok_or_else(|| bad("no media id"))?
            .to_owned();
        // 202: processed asynchronously; a status referencing it is refused until `url` is set.
        if v["url"].is_null() {
            for _ in 0..30 {
                tokio::time::sleep(Duration::from_millis(500)).await;
                let rb = self.auth(self.net.get(&self.url(&format!("/api/v1/media/{id}"))));
                let v = call(&self.net, rb, Kind::Safe).await?;
                if !v["url"].is_null() {
                    break;
                }
            }
        }
        Ok(id)
    }
}

/// Text of a status' HTML `content`, for comparing with what we sent.
pub(crate) fn html_to_text(html: &str) -> String {
    let html = html
        .replace("<br>", "\n")
        .replace("<br />", "\n")
        .replace("</p><p>", "\n\n");
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Whitespace-insensitive comparison key.
pub(crate) fn norm(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn published(v: &Value) -> Result<Published, PublishError> {
    Ok(Published {
        remote_id: v["id"]
            .as_str()
            .ok_or_else(|| bad("no status id"))?
            .to_owned(),
        url: v["url"].as_str().or(v["uri"].as_str()).map(str::to_owned),
        cid: None,
    })
}

#[async_trait::async_trait]
impl Connector for Mastodon {
    fn network(&self) -> &'static str {
        "mastodon"
    }

    fn validate(&self, v: &Variant) -> Vec<Problem> {
        let l = self.limits();
        let mimes: &'static [&'static str] = &[];
        let rules = MediaRules {
            max_items: l.max_media,
            max_image_bytes: l.image_size_limit,
            mimes,
            ..limits::media_rules(Network::Mastodon)
        };
        // The content warning counts towards the limit.
        let n = limits::mastodon_len(&v.text, l.characters_per_url)
            + v.spoiler.as_deref().map_or(0, |s| s.chars().count());
        let mut p = limits::check(Some((n, l.max_characters, "characters")), rules, v);
        if !l.mimes.is_empty() {
            for m in &v.media {
                if !l.mimes.contains(&m.mime) {
                    p.push(Problem::new(
                        "media_type",
                        format!("{}: {} is not accepted by the instance", m.filename, m.mime),
                    ));
                }
            }
        }
        p
    }

    async fn publish(&self, req: &PublishRequest) -> Result<Published, PublishError> {
        let v = &req.variant;
        let mut media_ids = Vec::new();
        for m in &v.media {
            media_ids.push(self.upload(m).await?);
        }
        // media_ids only when there are some: the OpenAPI description's oneOf (TextStatus |
        // MediaStatus) refuses an empty array next to a text.
        let mut body = json!({});
        if !v.text.is_empty() {
            body["status"] = json!(v.text);
        }
        if !media_ids.is_empty() {
            body["media_ids"] = json!(media_ids);
        }
        let mut set = |k: &str, val: &Option<String>| {
            if let Some(x) = val {
                body[k] = json!(x);
            }
        };
        set("visibility", &v.visibility);
        set("spoiler_text", &v.spoiler);
        set("language", &v.language);
        if let Some(r) = &req.reply_to {
            body["in_reply_to_id"] = json!(r.parent.remote_id);
        }
        let rb = self
            .auth(self.net.post(&self.url("/api/v1/statuses")))
            .header("Idempotency-Key", &req.idempotency_key)
            .json(&body);
        published(&call(&self.net, rb, Kind::IdempotentMutation).await?)
    }

    async fn reconcile(&self, req: &PublishRequest) -> Result<Option<Published>, PublishError> {
        let (id, _) = self.account().await?;
        let path = format!("/api/v1/accounts/{id}/statuses?limit=40&exclude_reblogs=true");
        let list = call(
            &self.net,
            self.auth(self.net.get(&self.url(&path))),
            Kind::Safe,
        )
        .await?;
        let want = norm(&req.variant.text);
        for s in list.as_array().into_iter().flatten() {
            let text = s["text"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| html_to_text(s["content"].as_str().unwrap_or_default()));
            if norm(&text) == want {
                return published(s).map(Some);
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn html_text() {
        let h = r#"<p>Hi &amp; <a href="https://x.org"><span class="invisible">https://</span><span>x.org</span></a></p><p>bye</p>"#;
        assert_eq!(
            super::norm(&super::html_to_text(h)),
            "Hi & https://x.org bye"
        );
    }
}
