//! LinkedIn (member or organization page) through the user's own LinkedIn app.
//! - Posts API: `POST /rest/posts` with `LinkedIn-Version: YYYYMM` and
//!   `X-Restli-Protocol-Version: 2.0.0`; the new URN comes back in `x-restli-id`.
//!   https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api
//! - Images API: `POST /rest/images?action=initializeUpload`, then `PUT` the bytes to `uploadUrl`.
//!   https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/images-api
//! - `commentary` is "little text": reserved characters are escaped, `#tag` becomes a hashtag.
//!   https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/little-text-format
//! - Replies ("first comment"): `POST /rest/socialActions/{urn}/comments`.
//! - OAuth 2.0 3-legged; refresh tokens only for approved apps (programmatic refresh).
//!   https://learn.microsoft.com/en-us/linkedin/shared/authentication/authorization-code-flow

use std::sync::Arc;
use std::time::Duration;

use relais_net::Net;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::http::{check_base, error_message, join, required, send_json, Kind, Reply};
use crate::limits::{self, Network};
use crate::mastodon::norm;
use crate::oauth::{
    authorize_url as build_url, now_ms, token_call, OAuthApp, OAuthTokens, Refresher, Session,
    TokenSink,
};
use crate::{
    ConfigError, Connector, Problem, PublishError, PublishRequest, Published, RateScope, Secret,
    Variant,
};

pub const DEFAULT_API: &str = "https://api.linkedin.com";
pub const DEFAULT_OAUTH: &str = "https://www.linkedin.com/oauth/v2";
/// `LinkedIn-Version` sent when the channel does not set one (versions live about a year).
pub const DEFAULT_VERSION: &str = "202605";
/// A member posting as themself ("Share on LinkedIn" + "Sign In with LinkedIn using OpenID").
pub const MEMBER_SCOPES: &str = "openid profile w_member_social";
/// A company page (Community Management API approval).
pub const ORGANIZATION_SCOPES: &str = "w_organization_social r_organization_social";

fn default_api() -> String {
    DEFAULT_API.into()
}
fn default_oauth() -> String {
    DEFAULT_OAUTH.into()
}
fn default_version() -> String {
    DEFAULT_VERSION.into()
}

/// What a LinkedIn channel stores (sealed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedInCredentials {
    pub client_id: String,
    pub client_secret: Secret,
    /// `urn:li:person:{id}` or `urn:li:organization:{id}`.
    pub author: String,
    #[serde(flatten)]
    pub tokens: OAuthTokens,
    #[serde(default = "default_version")]
    pub api_version: String,
    #[serde(default = "default_api")]
    pub api_base: String,
    #[serde(default = "default_oauth")]
    pub oauth_base: String,
}

impl LinkedInCredentials {
    pub fn check(&self) -> Result<(), ConfigError> {
        required(
            "client_id",
            &self.client_id,
            "the Client ID from your LinkedIn app's Auth tab",
        )?;
        required(
            "client_secret",
            self.client_secret.expose(),
            "the Primary Client Secret from the app's Auth tab",
        )?;
        let author_ok = ["urn:li:person:", "urn:li:organization:"]
            .iter()
            .any(|p| self.author.strip_prefix(p).is_some_and(|id| !id.is_empty()));
        if !author_ok {
            return Err(ConfigError::new(
                "author",
                "urn:li:person:<id> (your profile, filled when connecting) or urn:li:organization:<numeric id> (a page you administer)",
            ));
        }
        required(
            "access_token",
            self.tokens.access_token.expose(),
            "connect the LinkedIn account (the token is stored for you)",
        )?;
        let v = &self.api_version;
        if v.len() != 6 || !v.bytes().all(|c| c.is_ascii_digit()) {
            return Err(ConfigError::new(
                "api_version",
                format!("`{v}` is not a LinkedIn version (YYYYMM, e.g. {DEFAULT_VERSION})"),
            ));
        }
        check_base("api_base", &self.api_base)?;
        check_base("oauth_base", &self.oauth_base)
    }

    pub fn with_tokens(&self, t: &OAuthTokens) -> Self {
        Self {
            tokens: t.clone(),
            ..self.clone()
        }
    }
}

/// Authorization URL; `scopes`: [`MEMBER_SCOPES`] or [`ORGANIZATION_SCOPES`].
pub fn authorize_url(
    oauth_base: &str,
    app: &OAuthApp,
    state: &str,
    scopes: &str,
) -> Result<String, ConfigError> {
    app.check(true)?;
    build_url(
        &join(oauth_base, "/authorization"),
        &[
            ("response_type", "code"),
            ("client_id", &app.client_id),
            ("redirect_uri", &app.redirect_uri),
            ("state", state),
            ("scope", scopes),
        ],
    )
}

/// Code → tokens (`POST {oauth_base}/accessToken`, form).
pub async fn exchange_code(
    net: &Net,
    oauth_base: &str,
    app: &OAuthApp,
    code: &str,
) -> Result<OAuthTokens, PublishError> {
    let rb = net.post(&join(oauth_base, "/accessToken")).form(&[
        ("grant_type", "authorization_code"),
        ("code", code),
        ("client_id", &app.client_id),
        ("client_secret", app.client_secret.expose()),
        ("redirect_uri", &app.redirect_uri),
    ]);
    token_call(net, rb, now_ms(), None).await
}

struct Refresh {
    url: String,
    client_id: String,
    client_secret: Secret,
}

#[async_trait::async_trait]
impl Refresher for Refresh {
    async fn refresh(&self, net: &Net, cur: &OAuthTokens) -> Result<OAuthTokens, PublishError> {
        let Some(rt) = &cur.refresh_token else {
            return Err(PublishError::Disconnect(
                "the LinkedIn token expired and this app has no refresh token (LinkedIn gives them to approved apps only): connect the channel again"
                    .into(),
            ));
        };
        let rb = net.post(&self.url).form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", rt.expose()),
            ("client_id", &self.client_id),
            ("client_secret", self.client_secret.expose()),
        ]);
        token_call(net, rb, now_ms(), Some(cur)).await
    }
}

/// Escape `commentary` for little text; `#word` becomes a hashtag template.
pub fn little_text(text: &str) -> String {
    const RESERVED: &str = "\\|{}@[]()<>#*_~";
    let mut out = String::with_capacity(text.len() + 16);
    let mut chars = text.char_indices().peekable();
    let mut prev: Option<char> = None;
    while let Some((i, c)) = chars.next() {
        if c == '#' && prev.is_none_or(|p| !p.is_alphanumeric()) {
            let tag: String = text[i + 1..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !tag.is_empty() && !tag.chars().all(|c| c.is_ascii_digit()) {
                out.push_str("{hashtag|\\#|");
                for t in tag.chars() {
                    if RESERVED.contains(t) {
                        out.push('\\');
                    }
                    out.push(t);
                }
                out.push('}');
                for _ in 0..tag.chars().count() {
                    chars.next();
                }
                prev = tag.chars().last();
                continue;
            }
        }
        if RESERVED.contains(c) {
            out.push('\\');
        }
        out.push(c);
        prev = Some(c);
    }
    out
}

/// Back from little text to what the author typed (for reconcile).
pub fn plain_text(little: &str) -> String {
    let mut s = String::with_capacity(little.len());
    let mut rest = little;
    while let Some(pos) = rest.find("{hashtag|\\#|") {
        s.push_str(&rest[..pos]);
        let after = &rest[pos + "{hashtag|\\#|".len()..];
        let end = after.find('}').unwrap_or(after.len());
        s.push('#');
        s.push_str(&after[..end]);
        rest = after.get(end + 1..).unwrap_or("");
    }
    s.push_str(rest);
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        match c {
            '\\' => out.extend(it.next()),
            c => out.push(c),
        }
    }
    out
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Seconds to the next midnight UTC, when LinkedIn's daily limits reset.
fn until_midnight_utc() -> Duration {
    let now = chrono::Utc::now();
    let next = (now.date_naive() + chrono::Days::new(1))
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc();
    (next - now).to_std().unwrap_or(Duration::from_secs(3600))
}

/// `{"status":401,"serviceErrorCode":65600,"code":"INVALID_ACCESS_TOKEN","message":"…"}`.
fn fail(r: &Reply, kind: Kind) -> PublishError {
    let status = r.status.as_u16();
    let msg = match r.json["serviceErrorCode"].as_i64() {
        Some(sec) => format!(
            "{} (serviceErrorCode {sec})",
            error_message(status, &r.json)
        ),
        None => error_message(status, &r.json),
    };
    match status {
        401 => PublishError::Disconnect(format!("{msg}: connect the channel again")),
        403 => PublishError::Disconnect(format!(
            "{msg}: the app lacks a product/permission or the member lost the page role"
        )),
        429 => PublishError::RateLimited {
            retry_after: crate::retry_after(&r.headers).or_else(|| Some(until_midnight_utc())),
            scope: RateScope::Channel,
            message: msg,
        },
        _ => crate::classify_status(r.status, &r.headers, msg, kind != Kind::Mutation),
    }
}

/// A LinkedIn channel.
pub struct LinkedIn {
    net: Net,
    creds: LinkedInCredentials,
    session: Session,
}

impl LinkedIn {
    pub fn new(net: Net, creds: LinkedInCredentials) -> Self {
        let refresher: Arc<dyn Refresher> = Arc::new(Refresh {
            url: join(&creds.oauth_base, "/accessToken"),
            client_id: creds.client_id.clone(),
            client_secret: creds.client_secret.clone(),
        });
        let session = Session::new(creds.tokens.clone(), Some(refresher));
        Self {
            net,
            creds,
            session,
        }
    }

    pub fn with_token_sink(mut self, sink: Arc<dyn TokenSink>) -> Self {
        self.session.set_sink(sink);
        self
    }

    /// The tokens in use (renewed ones included).
    pub async fn tokens(&self) -> OAuthTokens {
        self.session.current().await
    }

    fn url(&self, path: &str) -> String {
        join(&self.creds.api_base, path)
    }

    /// A versioned Rest.li call; refreshes the token once on 401.
    async fn call(
        &self,
        kind: Kind,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Reply, PublishError> {
        let r = self
            .session
            .send(
                &self.net,
                kind,
                |r| r.status.as_u16() == 401,
                |tok| {
                    build()
                        .bearer_auth(tok)
                        .header("LinkedIn-Version", &self.creds.api_version)
                        .header("X-Restli-Protocol-Version", "2.0.0")
                },
            )
            .await?;
        if r.status.is_success() {
            Ok(r)
        } else {
            Err(fail(&r, kind))
        }
    }

    /// The member behind the token (`/v2/userinfo`, OpenID): `urn:li:person:{sub}` and name.
    pub async fn member(&self) -> Result<(String, String), PublishError> {
        let url = self.url("/v2/userinfo");
        let r = self.call(Kind::Safe, || self.net.get(&url)).await?;
        let sub = r.json["sub"].as_str().unwrap_or_default();
        if sub.is_empty() {
            return Err(PublishError::Disconnect(
                "LinkedIn did not say who the member is: add the openid and profile scopes".into(),
            ));
        }
        let name = r.json["name"].as_str().unwrap_or_default().to_owned();
        Ok((format!("urn:li:person:{sub}"), name))
    }

    /// Organization pages the member administers (`organizationAcls`), as URNs.
    pub async fn organizations(&self) -> Result<Vec<String>, PublishError> {
        let url =
            self.url("/rest/organizationAcls?q=roleAssignee&role=ADMINISTRATOR&state=APPROVED");
        let r = self.call(Kind::Safe, || self.net.get(&url)).await?;
        Ok(r.json["elements"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["organization"].as_str().map(str::to_owned))
            .collect())
    }

    async fn upload(&self, m: &crate::Media) -> Result<Value, PublishError> {
        let init = self.url("/rest/images?action=initializeUpload");
        let body = json!({ "initializeUploadRequest": { "owner": self.creds.author } });
        let r = self
            .call(Kind::Safe, || self.net.post(&init).json(&body))
            .await?;
        let up = r.json["value"]["uploadUrl"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let image = r.json["value"]["image"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if up.is_empty() || image.is_empty() {
            return Err(PublishError::Transient(
                "initializeUpload answered without uploadUrl/image".into(),
            ));
        }
        let data = m.data.clone();
        self.call(Kind::Safe, || {
            self.net
                .put(&up)
                .header("Content-Type", m.mime.clone())
                .body(data.clone())
        })
        .await?;
        let mut item = json!({ "id": image });
        if let Some(alt) = &m.alt {
            item["altText"] = json!(alt);
        }
        Ok(item)
    }

    fn published(urn: String) -> Published {
        Published {
            url: Some(format!("https://www.linkedin.com/feed/update/{urn}/")),
            remote_id: urn,
            cid: None,
        }
    }
}

fn created_urn(r: &Reply) -> Option<String> {
    r.headers
        .get("x-restli-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| r.json["id"].as_str().map(str::to_owned))
        .or_else(|| r.json["$URN"].as_str().map(str::to_owned))
}

#[async_trait::async_trait]
impl Connector for LinkedIn {
    fn network(&self) -> &'static str {
        "linkedin"
    }

    fn validate(&self, v: &Variant) -> Vec<Problem> {
        limits::validate(Network::LinkedIn, v)
    }

    async fn publish(&self, req: &PublishRequest) -> Result<Published, PublishError> {
        self.creds.check()?;
        let v = &req.variant;
        if let Some(parent) = req.reply_to.as_ref().map(|r| &r.parent.remote_id) {
            let url = self.url(&format!("/rest/socialActions/{}/comments", enc(parent)));
            let body = json!({
                "actor": self.creds.author,
                "object": parent,
                "message": { "text": v.text },
            });
            let r = self
                .call(Kind::Mutation, || self.net.post(&url).json(&body))
                .await?;
            let id = created_urn(&r).ok_or_else(|| {
                PublishError::UnknownOutcome(
                    "LinkedIn created a comment without saying its id".into(),
                )
            })?;
            return Ok(Published {
                remote_id: id,
                url: None,
                cid: None,
            });
        }
        let mut body = json!({
            "author": self.creds.author,
            "commentary": little_text(&v.text),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": []
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": false
        });
        let mut images = Vec::new();
        for m in &v.media {
            images.push(self.upload(m).await?);
        }
        match images.len() {
            0 => {
                // An explicit title makes a link card for the first URL.
                if let (Some(title), Some((s, e))) = (&v.title, limits::find_urls(&v.text).first())
                {
                    body["content"] =
                        json!({ "article": { "source": &v.text[*s..*e], "title": title } });
                }
            }
            1 => body["content"] = json!({ "media": images.remove(0) }),
            _ => body["content"] = json!({ "multiImage": { "images": images } }),
        }
        let url = self.url("/rest/posts");
        let r = self
            .call(Kind::Mutation, || self.net.post(&url).json(&body))
            .await?;
        let urn = created_urn(&r).ok_or_else(|| {
            PublishError::UnknownOutcome("LinkedIn created the post without an x-restli-id".into())
        })?;
        Ok(Self::published(urn))
    }

    async fn reconcile(&self, req: &PublishRequest) -> Result<Option<Published>, PublishError> {
        self.creds.check()?;
        let want = norm(&req.variant.text);
        if let Some(parent) = req.reply_to.as_ref().map(|r| &r.parent.remote_id) {
            let url = self.url(&format!("/rest/socialActions/{}/comments", enc(parent)));
            let r = self.call(Kind::Safe, || self.net.get(&url)).await?;
            for c in r.json["elements"].as_array().into_iter().flatten() {
                let mine = c["actor"] == json!(self.creds.author);
                if mine && norm(c["message"]["text"].as_str().unwrap_or_default()) == want {
                    let id = c["$URN"].as_str().or(c["id"].as_str()).unwrap_or_default();
                    return Ok(Some(Published {
                        remote_id: id.to_owned(),
                        url: None,
                        cid: None,
                    }));
                }
            }
            return Ok(None);
        }
        let url = self.url(&format!(
            "/rest/posts?author={}&q=author&count=20&sortBy=LAST_MODIFIED",
            enc(&self.creds.author)
        ));
        let r = self
            .call(Kind::Safe, || {
                self.net.get(&url).header("X-RestLi-Method", "FINDER")
            })
            .await?;
        for p in r.json["elements"].as_array().into_iter().flatten() {
            let text = plain_text(p["commentary"].as_str().unwrap_or_default());
            if norm(&text) == want {
                if let Some(id) = p["id"].as_str() {
                    return Ok(Some(Self::published(id.to_owned())));
                }
            }
        }
        Ok(None)
    }
}

/// Check a token without a channel (the connect form): `send_json` with the version headers.
pub async fn userinfo(net: &Net, api_base: &str, token: &Secret) -> Result<Value, PublishError> {
    let rb = net
        .get(&join(api_base, "/v2/userinfo"))
        .bearer_auth(token.expose());
    let r = send_json(net, rb, Kind::Safe).await?;
    if r.status.is_success() {
        Ok(r.json)
    } else {
        Err(fail(&r, Kind::Safe))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn little_text_round_trip() {
        let t = "Hello #relais (beta) @team 50% off_now * #2024 ~ \\ [x] <y> {z} a|b";
        let l = little_text(t);
        assert_eq!(
            l,
            "Hello {hashtag|\\#|relais} \\(beta\\) \\@team 50% off\\_now \\* \\#2024 \\~ \\\\ \\[x\\] \\<y\\> \\{z\\} a\\|b"
        );
        assert_eq!(plain_text(&l), t);
        assert_eq!(little_text("a#b"), "a\\#b");
    }

    #[test]
    fn midnight_is_within_a_day() {
        let d = until_midnight_utc();
        assert!(d <= Duration::from_secs(86_400) && d > Duration::ZERO);
    }
}
