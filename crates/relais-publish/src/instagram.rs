//! Instagram professional account through the user's own Meta app.
//! Publishing is two-step: a media container (`POST /{ig-user-id}/media` with a public
//! `image_url`, `caption`, `alt_text`; carousels from `is_carousel_item` children), polled
//! until `status_code` is `FINISHED`, then `POST /{ig-user-id}/media_publish`.
//! https://developers.facebook.com/docs/instagram-platform/content-publishing
//! Replies ("first comment"): `POST /{ig-media-id}/comments`.
//! Login: "Instagram API with Instagram Login" (graph.instagram.com, 60-day tokens renewed with
//! `ig_refresh_token`) or "with Facebook Login" (graph.facebook.com, the Page token).
//! https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/business-login
//! No idempotency key: `reconcile` reads the account's latest media (or the parent's comments).

use std::sync::Arc;

use relais_net::Net;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::facebook::{check_version, numeric};
use crate::http::{check_base, join, required, Kind};
use crate::limits::{self, Network};
use crate::mastodon::norm;
use crate::meta::{id_of, Graph, LongLivedRefresh, Poll, DEFAULT_GRAPH_VERSION};
use crate::oauth::{
    authorize_url as build_url, now_ms, token_call, OAuthApp, OAuthTokens, Refresher, Session,
    TokenSink,
};
use crate::{
    ConfigError, Connector, Problem, PublishError, PublishRequest, Published, Secret, Variant,
};

pub const INSTAGRAM_GRAPH: &str = "https://graph.instagram.com";
pub const FACEBOOK_GRAPH: &str = crate::facebook::DEFAULT_API;
/// Code exchange host for Instagram Login.
pub const INSTAGRAM_OAUTH: &str = "https://api.instagram.com";
pub const AUTHORIZE: &str = "https://www.instagram.com/oauth/authorize";
/// Instagram Login permissions: profile, publishing, comments (for the first comment).
pub const SCOPES: &str =
    "instagram_business_basic,instagram_business_content_publish,instagram_business_manage_comments";

/// Which Meta login made the token (decides the host and whether it can be renewed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstagramLogin {
    /// Instagram API with Instagram Login: graph.instagram.com, renewable 60-day token.
    #[default]
    Instagram,
    /// Instagram API with Facebook Login: graph.facebook.com with the linked Page's token.
    Facebook,
}

fn default_version() -> String {
    DEFAULT_GRAPH_VERSION.into()
}

/// What an Instagram channel stores (sealed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstagramCredentials {
    /// Instagram app id (Instagram Login) or Meta app id (Facebook Login).
    pub app_id: String,
    pub app_secret: Secret,
    /// The professional account's id (`user_id` of the token exchange, or the Page's
    /// `instagram_business_account`).
    pub ig_user_id: String,
    pub access_token: Secret,
    /// When `access_token` expires (unix ms), for renewal ahead of time.
    #[serde(default)]
    pub expires_at: Option<i64>,
    #[serde(default)]
    pub login: InstagramLogin,
    /// Empty: the login's host.
    #[serde(default)]
    pub api_base: Option<String>,
    #[serde(default = "default_version")]
    pub graph_version: String,
}

impl InstagramCredentials {
    pub fn check(&self) -> Result<(), ConfigError> {
        numeric(
            "app_id",
            &self.app_id,
            "the numeric app id from the App Dashboard",
        )?;
        required(
            "app_secret",
            self.app_secret.expose(),
            "the app secret next to the app id",
        )?;
        numeric(
            "ig_user_id",
            &self.ig_user_id,
            "the numeric Instagram professional account id: connect the account again",
        )?;
        required(
            "access_token",
            self.access_token.expose(),
            "connect the Instagram account (the token is stored for you)",
        )?;
        check_base("api_base", &self.base())?;
        check_version(&self.graph_version)
    }

    pub fn base(&self) -> String {
        self.api_base
            .clone()
            .filter(|b| !b.is_empty())
            .unwrap_or_else(|| match self.login {
                InstagramLogin::Instagram => INSTAGRAM_GRAPH.into(),
                InstagramLogin::Facebook => FACEBOOK_GRAPH.into(),
            })
    }

    pub fn tokens(&self) -> OAuthTokens {
        OAuthTokens {
            access_token: self.access_token.clone(),
            expires_at: self.expires_at,
            ..Default::default()
        }
    }

    /// The same credentials with renewed tokens (what a [`TokenSink`] stores).
    pub fn with_tokens(&self, t: &OAuthTokens) -> Self {
        Self {
            access_token: t.access_token.clone(),
            expires_at: t.expires_at,
            ..self.clone()
        }
    }
}

/// Instagram Login authorization URL.
pub fn authorize_url(app: &OAuthApp, state: &str) -> Result<String, ConfigError> {
    app.check(true)?;
    build_url(
        AUTHORIZE,
        &[
            ("client_id", &app.client_id),
            ("redirect_uri", &app.redirect_uri),
            ("response_type", "code"),
            ("scope", SCOPES),
            ("state", state),
        ],
    )
}

/// Code → short-lived token (`POST {oauth_base}/oauth/access_token`) → 60-day token
/// (`GET {graph_base}/access_token?grant_type=ig_exchange_token`). Returns the account id too.
pub async fn exchange_code(
    net: &Net,
    oauth_base: &str,
    graph_base: &str,
    app: &OAuthApp,
    code: &str,
) -> Result<(String, OAuthTokens), PublishError> {
    let rb = net.post(&join(oauth_base, "/oauth/access_token")).form(&[
        ("client_id", app.client_id.as_str()),
        ("client_secret", app.client_secret.expose()),
        ("grant_type", "authorization_code"),
        ("redirect_uri", &app.redirect_uri),
        ("code", code),
    ]);
    let r = crate::http::send_json(net, rb, Kind::Safe).await?;
    // Newer answers wrap the token in `data[0]`.
    let body = if r.json["data"].is_array() {
        r.json["data"][0].clone()
    } else {
        r.json.clone()
    };
    if !r.status.is_success() || body["access_token"].is_null() {
        return Err(PublishError::Disconnect(format!(
            "Instagram refused the authorization code: {}",
            crate::http::error_message(r.status.as_u16(), &r.json)
        )));
    }
    let user_id = body["user_id"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| body["user_id"].as_u64().map(|n| n.to_string()))
        .unwrap_or_default();
    let short = body["access_token"].as_str().unwrap_or_default();
    let long = token_call(
        net,
        net.get(&join(graph_base, "/access_token")).query(&[
            ("grant_type", "ig_exchange_token"),
            ("client_secret", app.client_secret.expose()),
            ("access_token", short),
        ]),
        now_ms(),
        None,
    )
    .await?;
    Ok((user_id, long))
}

/// An Instagram channel.
pub struct Instagram {
    graph: Graph,
    creds: InstagramCredentials,
    poll: Poll,
}

impl Instagram {
    pub fn new(net: Net, creds: InstagramCredentials) -> Self {
        let refresher: Option<Arc<dyn Refresher>> = match creds.login {
            InstagramLogin::Instagram => Some(Arc::new(LongLivedRefresh {
                url: join(&creds.base(), "/refresh_access_token"),
                grant_type: "ig_refresh_token",
            })),
            InstagramLogin::Facebook => None,
        };
        let graph = Graph {
            net,
            base: join(&creds.base(), &format!("/{}", creds.graph_version)),
            app_secret: None,
            session: Session::new(creds.tokens(), refresher),
        };
        Self {
            graph,
            creds,
            poll: Poll::default(),
        }
    }

    /// Store renewed tokens through `sink` (the caller re-seals the credentials).
    pub fn with_token_sink(mut self, sink: Arc<dyn TokenSink>) -> Self {
        self.graph.session.set_sink(sink);
        self
    }

    /// The tokens in use (renewed ones included).
    pub async fn tokens(&self) -> OAuthTokens {
        self.graph.session.current().await
    }

    pub fn with_poll(mut self, poll: Poll) -> Self {
        self.poll = poll;
        self
    }

    /// Renew the 60-day token now (a periodic job calls this for idle channels).
    pub async fn refresh_tokens(&self) -> Result<OAuthTokens, PublishError> {
        self.graph.session.refresh_now(&self.graph.net).await
    }

    /// The account id and username.
    pub async fn account(&self) -> Result<(String, String), PublishError> {
        self.creds.check()?;
        let v = self
            .graph
            .get(
                &format!("/{}", self.creds.ig_user_id),
                &[("fields", "id,username".into())],
            )
            .await?;
        Ok((
            id_of(&v, "account")?,
            v["username"].as_str().unwrap_or_default().to_owned(),
        ))
    }

    async fn container(&self, params: &[(&str, String)]) -> Result<String, PublishError> {
        // A container is private until published: creating one again is harmless.
        let v = self
            .graph
            .post(
                &format!("/{}/media", self.creds.ig_user_id),
                params,
                Kind::Safe,
            )
            .await?;
        id_of(&v, "container")
    }

    async fn ready(&self, id: &str) -> Result<(), PublishError> {
        self.graph
            .wait_ready(id, "status_code", "status", self.poll)
            .await
    }

    async fn permalink(&self, id: &str) -> Option<String> {
        let v = self
            .graph
            .get(&format!("/{id}"), &[("fields", "permalink".into())])
            .await
            .ok()?;
        v["permalink"].as_str().map(str::to_owned)
    }
}

fn media_url(m: &crate::Media) -> Result<String, PublishError> {
    m.url.clone().ok_or_else(|| {
        PublishError::BadRequest(format!(
            "{}: Instagram fetches media from a public URL and this file has none",
            m.filename
        ))
    })
}

/// Problems specific to URL-fetched media (Instagram, Threads).
pub(crate) fn url_problems(network: &str, v: &Variant) -> Vec<Problem> {
    let mut out = Vec::new();
    if v.media.is_empty() && network == "Instagram" {
        out.push(Problem::new(
            "media_required",
            "an Instagram post needs at least one image",
        ));
    }
    for m in &v.media {
        match m.url.as_deref().map(url::Url::parse) {
            Some(Ok(u)) if u.scheme() == "https" => {}
            _ => out.push(Problem::new(
                "media_url",
                format!(
                    "{}: {network} downloads media from a public https URL; this file has none",
                    m.filename
                ),
            )),
        }
    }
    out
}

#[async_trait::async_trait]
impl Connector for Instagram {
    fn network(&self) -> &'static str {
        "instagram"
    }

    fn validate(&self, v: &Variant) -> Vec<Problem> {
        let mut p = limits::validate(Network::Instagram, v);
        p.extend(url_problems("Instagram", v));
        p
    }

    async fn publish(&self, req: &PublishRequest) -> Result<Published, PublishError> {
        self.creds.check()?;
        let v = &req.variant;
        let ig = &self.creds.ig_user_id;
        if let Some(r) = &req.reply_to {
            let c = self
                .graph
                .post(
                    &format!("/{}/comments", r.parent.remote_id),
                    &[("message", v.text.clone())],
                    Kind::Mutation,
                )
                .await?;
            return Ok(Published {
                remote_id: id_of(&c, "comment")?,
                url: None,
                cid: None,
            });
        }
        let alt = |m: &crate::Media| m.alt.clone().unwrap_or_default();
        let container = match v.media.as_slice() {
            [] => {
                return Err(PublishError::BadRequest(
                    "an Instagram post needs at least one image".into(),
                ))
            }
            [m] => {
                let mut params = vec![("image_url", media_url(m)?), ("caption", v.text.clone())];
                if m.alt.is_some() {
                    params.push(("alt_text", alt(m)));
                }
                self.container(&params).await?
            }
            many => {
                let mut children = Vec::new();
                for m in many {
                    let mut params = vec![
                        ("image_url", media_url(m)?),
                        ("is_carousel_item", "true".to_owned()),
                    ];
                    if m.alt.is_some() {
                        params.push(("alt_text", alt(m)));
                    }
                    let id = self.container(&params).await?;
                    self.ready(&id).await?;
                    children.push(id);
                }
                self.container(&[
                    ("media_type", "CAROUSEL".to_owned()),
                    ("children", children.join(",")),
                    ("caption", v.text.clone()),
                ])
                .await?
            }
        };
        self.ready(&container).await?;
        let p = self
            .graph
            .post(
                &format!("/{ig}/media_publish"),
                &[("creation_id", container)],
                Kind::Mutation,
            )
            .await?;
        let id = id_of(&p, "media_publish")?;
        Ok(Published {
            url: self.permalink(&id).await,
            remote_id: id,
            cid: None,
        })
    }

    async fn reconcile(&self, req: &PublishRequest) -> Result<Option<Published>, PublishError> {
        self.creds.check()?;
        let want = norm(&req.variant.text);
        let (path, fields, text) = match &req.reply_to {
            Some(r) => (
                format!("/{}/comments", r.parent.remote_id),
                "id,text,timestamp",
                "text",
            ),
            None => (
                format!("/{}/media", self.creds.ig_user_id),
                "id,caption,permalink,timestamp",
                "caption",
            ),
        };
        let v = self
            .graph
            .get(&path, &[("fields", fields.into()), ("limit", "25".into())])
            .await?;
        let hit = v["data"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|m: &&Value| norm(m[text].as_str().unwrap_or_default()) == want);
        match hit {
            Some(m) => Ok(Some(Published {
                remote_id: id_of(m, "media")?,
                url: m["permalink"].as_str().map(str::to_owned),
                cid: None,
            })),
            None => Ok(None),
        }
    }
}
