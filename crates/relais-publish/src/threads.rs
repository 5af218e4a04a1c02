//! Threads through the user's own Meta app (Threads use case).
//! Publishing is two-step: a container (`POST /{threads-user-id}/threads`, `media_type`
//! TEXT / IMAGE / CAROUSEL, `text`, public `image_url`, `alt_text`, `reply_to_id` for a reply),
//! polled until `status` is `FINISHED`, then `POST /{threads-user-id}/threads_publish`.
//! https://developers.facebook.com/docs/threads/posts
//! https://developers.facebook.com/docs/threads/reply-management (reply_to_id)
//! Tokens: short-lived (1 h) → long-lived (60 days, `th_exchange_token`), renewed with
//! `th_refresh_token`. https://developers.facebook.com/docs/threads/get-started/long-lived-tokens
//! No idempotency key: `reconcile` reads the account's latest threads (or replies).

use std::sync::Arc;

use relais_net::Net;
use serde::{Deserialize, Serialize};

use crate::facebook::numeric;
use crate::http::{check_base, join, required, send_json, Kind};
use crate::instagram::url_problems;
use crate::limits::{self, Network};
use crate::mastodon::norm;
use crate::meta::{id_of, Graph, LongLivedRefresh, Poll};
use crate::oauth::{
    authorize_url as build_url, now_ms, token_call, OAuthApp, OAuthTokens, Session, TokenSink,
};
use crate::{
    ConfigError, Connector, Problem, PublishError, PublishRequest, Published, Secret, Variant,
};

pub const DEFAULT_API: &str = "https://graph.threads.net";
pub const DEFAULT_VERSION: &str = "v1.0";
pub const AUTHORIZE: &str = "https://threads.com/oauth/authorize";
/// Profile, publishing, replies (threads and first comments).
pub const SCOPES: &str = "threads_basic,threads_content_publish,threads_manage_replies";

fn default_api() -> String {
    DEFAULT_API.into()
}
fn default_version() -> String {
    DEFAULT_VERSION.into()
}

/// What a Threads channel stores (sealed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadsCredentials {
    /// The **Threads** app id (App Dashboard → Use cases → Threads → Settings), not the Meta
    /// app id.
    pub app_id: String,
    /// The Threads app secret next to it.
    pub app_secret: Secret,
    pub threads_user_id: String,
    pub access_token: Secret,
    #[serde(default)]
    pub expires_at: Option<i64>,
    #[serde(default = "default_api")]
    pub api_base: String,
    #[serde(default = "default_version")]
    pub api_version: String,
}

impl ThreadsCredentials {
    pub fn check(&self) -> Result<(), ConfigError> {
        numeric(
            "app_id",
            &self.app_id,
            "the numeric Threads app id (App Dashboard → Use cases → Threads → Settings)",
        )?;
        required(
            "app_secret",
            self.app_secret.expose(),
            "the Threads app secret",
        )?;
        numeric(
            "threads_user_id",
            &self.threads_user_id,
            "the numeric Threads user id: connect the account again",
        )?;
        required(
            "access_token",
            self.access_token.expose(),
            "connect the Threads account (the token is stored for you)",
        )?;
        check_base("api_base", &self.api_base)?;
        if !self.api_version.starts_with('v') {
            return Err(ConfigError::new(
                "api_version",
                format!(
                    "`{}` is not a version like {DEFAULT_VERSION}",
                    self.api_version
                ),
            ));
        }
        Ok(())
    }

    pub fn tokens(&self) -> OAuthTokens {
        OAuthTokens {
            access_token: self.access_token.clone(),
            expires_at: self.expires_at,
            ..Default::default()
        }
    }

    pub fn with_tokens(&self, t: &OAuthTokens) -> Self {
        Self {
            access_token: t.access_token.clone(),
            expires_at: t.expires_at,
            ..self.clone()
        }
    }
}

/// Authorization Window URL.
pub fn authorize_url(app: &OAuthApp, state: &str) -> Result<String, ConfigError> {
    app.check(true)?;
    build_url(
        AUTHORIZE,
        &[
            ("client_id", &app.client_id),
            ("redirect_uri", &app.redirect_uri),
            ("scope", SCOPES),
            ("response_type", "code"),
            ("state", state),
        ],
    )
}

/// Code → short-lived token → 60-day token. Returns the Threads user id too.
pub async fn exchange_code(
    net: &Net,
    api_base: &str,
    app: &OAuthApp,
    code: &str,
) -> Result<(String, OAuthTokens), PublishError> {
    let rb = net.post(&join(api_base, "/oauth/access_token")).form(&[
        ("client_id", app.client_id.as_str()),
        ("client_secret", app.client_secret.expose()),
        ("code", code),
        ("grant_type", "authorization_code"),
        ("redirect_uri", &app.redirect_uri),
    ]);
    let r = send_json(net, rb, Kind::Safe).await?;
    if !r.status.is_success() || r.json["access_token"].is_null() {
        return Err(PublishError::Disconnect(format!(
            "Threads refused the authorization code: {}",
            crate::http::error_message(r.status.as_u16(), &r.json)
        )));
    }
    let user_id = r.json["user_id"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| r.json["user_id"].as_u64().map(|n| n.to_string()))
        .unwrap_or_default();
    let long = token_call(
        net,
        net.get(&join(api_base, "/access_token")).query(&[
            ("grant_type", "th_exchange_token"),
            ("client_secret", app.client_secret.expose()),
            (
                "access_token",
                r.json["access_token"].as_str().unwrap_or_default(),
            ),
        ]),
        now_ms(),
        None,
    )
    .await?;
    Ok((user_id, long))
}

/// A Threads channel.
pub struct Threads {
    graph: Graph,
    creds: ThreadsCredentials,
    poll: Poll,
}

impl Threads {
    pub fn new(net: Net, creds: ThreadsCredentials) -> Self {
        let graph = Graph {
            net,
            base: join(&creds.api_base, &format!("/{}", creds.api_version)),
            app_secret: None,
            session: Session::new(
                creds.tokens(),
                Some(Arc::new(LongLivedRefresh {
                    url: join(&creds.api_base, "/refresh_access_token"),
                    grant_type: "th_refresh_token",
                })),
            ),
        };
        Self {
            graph,
            creds,
            poll: Poll::default(),
        }
    }

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

    pub async fn refresh_tokens(&self) -> Result<OAuthTokens, PublishError> {
        self.graph.session.refresh_now(&self.graph.net).await
    }

    /// The account id and username.
    pub async fn account(&self) -> Result<(String, String), PublishError> {
        self.creds.check()?;
        let v = self
            .graph
            .get("/me", &[("fields", "id,username".into())])
            .await?;
        Ok((
            id_of(&v, "me")?,
            v["username"].as_str().unwrap_or_default().to_owned(),
        ))
    }

    async fn container(&self, params: &[(&str, String)]) -> Result<String, PublishError> {
        // Containers stay private until published.
        let v = self
            .graph
            .post(
                &format!("/{}/threads", self.creds.threads_user_id),
                params,
                Kind::Safe,
            )
            .await?;
        id_of(&v, "container")
    }

    async fn ready(&self, id: &str) -> Result<(), PublishError> {
        self.graph
            .wait_ready(id, "status", "error_message", self.poll)
            .await
    }
}

fn image_params(m: &crate::Media) -> Result<Vec<(&'static str, String)>, PublishError> {
    let url = m.url.clone().ok_or_else(|| {
        PublishError::BadRequest(format!(
            "{}: Threads fetches media from a public URL and this file has none",
            m.filename
        ))
    })?;
    let mut p = vec![("media_type", "IMAGE".to_owned()), ("image_url", url)];
    if let Some(alt) = &m.alt {
        p.push(("alt_text", alt.clone()));
    }
    Ok(p)
}

#[async_trait::async_trait]
impl Connector for Threads {
    fn network(&self) -> &'static str {
        "threads"
    }

    fn validate(&self, v: &Variant) -> Vec<Problem> {
        let mut p = limits::validate(Network::Threads, v);
        p.extend(url_problems("Threads", v));
        p
    }

    async fn publish(&self, req: &PublishRequest) -> Result<Published, PublishError> {
        self.creds.check()?;
        let v = &req.variant;
        let mut params: Vec<(&str, String)> = match v.media.as_slice() {
            [] => vec![("media_type", "TEXT".to_owned())],
            [m] => image_params(m)?,
            many => {
                let mut children = Vec::new();
                for m in many {
                    let mut p = image_params(m)?;
                    p.push(("is_carousel_item", "true".to_owned()));
                    let id = self.container(&p).await?;
                    self.ready(&id).await?;
                    children.push(id);
                }
                vec![
                    ("media_type", "CAROUSEL".to_owned()),
                    ("children", children.join(",")),
                ]
            }
        };
        if !v.text.is_empty() {
            params.push(("text", v.text.clone()));
        }
        if let Some(r) = &req.reply_to {
            params.push(("reply_to_id", r.parent.remote_id.clone()));
        }
        let container = self.container(&params).await?;
        self.ready(&container).await?;
        let p = self
            .graph
            .post(
                &format!("/{}/threads_publish", self.creds.threads_user_id),
                &[("creation_id", container)],
                Kind::Mutation,
            )
            .await?;
        let id = id_of(&p, "threads_publish")?;
        // Best effort: the post is out whatever this read says.
        let url = self
            .graph
            .get(&format!("/{id}"), &[("fields", "permalink".into())])
            .await
            .ok()
            .and_then(|v| v["permalink"].as_str().map(str::to_owned));
        Ok(Published {
            remote_id: id,
            url,
            cid: None,
        })
    }

    async fn reconcile(&self, req: &PublishRequest) -> Result<Option<Published>, PublishError> {
        self.creds.check()?;
        let edge = if req.reply_to.is_some() {
            "replies"
        } else {
            "threads"
        };
        let v = self
            .graph
            .get(
                &format!("/{}/{edge}", self.creds.threads_user_id),
                &[
                    ("fields", "id,text,permalink,timestamp".into()),
                    ("limit", "25".into()),
                ],
            )
            .await?;
        let want = norm(&req.variant.text);
        for t in v["data"].as_array().into_iter().flatten() {
            if norm(t["text"].as_str().unwrap_or_default()) == want {
                return Ok(Some(Published {
                    remote_id: id_of(t, "thread")?,
                    url: t["permalink"].as_str().map(str::to_owned),
                    cid: None,
                }));
            }
        }
        Ok(None)
    }
}
