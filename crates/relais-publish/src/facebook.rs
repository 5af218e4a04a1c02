//! Facebook Page through the user's own Meta app (Graph API).
//! - Posts: `POST /{page-id}/feed` (`message`, `link`), one photo with `POST /{page-id}/photos`,
//!   several as unpublished photos attached with `attached_media` (alt text: `alt_text_custom`).
//!   https://developers.facebook.com/docs/pages-api/posts
//! - Replies ("first comment"): `POST /{object-id}/comments`.
//! - Tokens: Facebook Login user token → long-lived user token → Page token (`/me/accounts`),
//!   which does not expire; a refusal (code 190) means reconnecting.
//!   https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived
//! - No idempotency key: `reconcile` reads `/{page-id}/published_posts` (or the parent's comments).

use relais_net::Net;
use reqwest::multipart::{Form, Part};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::http::{check_base, join, required, Kind};
use crate::limits::{self, Network};
use crate::mastodon::norm;
use crate::meta::{id_of, Graph, DEFAULT_GRAPH_VERSION};
use crate::oauth::{
    authorize_url as build_url, now_ms, token_call, OAuthApp, OAuthTokens, Session,
};
use crate::{
    ConfigError, Connector, Media, Problem, PublishError, PublishRequest, Published, Secret,
    Variant,
};

pub const DEFAULT_API: &str = "https://graph.facebook.com";
/// Facebook Login dialog host.
pub const DIALOG_HOST: &str = "https://www.facebook.com";
/// Permissions asked at login: list the Pages, publish, read back, comment.
pub const SCOPES: &str =
    "pages_show_list,pages_manage_posts,pages_read_engagement,pages_manage_engagement";

fn default_api() -> String {
    DEFAULT_API.into()
}
fn default_version() -> String {
    DEFAULT_GRAPH_VERSION.into()
}

/// What a Facebook Page channel stores (sealed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacebookCredentials {
    /// The Meta app's id (App Dashboard → App settings → Basic).
    pub app_id: String,
    /// Signs every call (`appsecret_proof`).
    pub app_secret: Secret,
    /// Numeric Page id.
    pub page_id: String,
    /// Page access token from `/me/accounts` (does not expire when made from a long-lived user
    /// token).
    pub page_access_token: Secret,
    #[serde(default = "default_api")]
    pub api_base: String,
    #[serde(default = "default_version")]
    pub graph_version: String,
}

/// `v25.0`-style version check shared with Instagram.
pub(crate) fn check_version(v: &str) -> Result<(), ConfigError> {
    let ok = v
        .strip_prefix('v')
        .and_then(|r| r.split_once('.'))
        .is_some_and(|(a, b)| {
            !a.is_empty()
                && !b.is_empty()
                && a.bytes().all(|c| c.is_ascii_digit())
                && b.bytes().all(|c| c.is_ascii_digit())
        });
    if ok {
        Ok(())
    } else {
        Err(ConfigError::new(
            "graph_version",
            format!("`{v}` is not a Graph API version like {DEFAULT_GRAPH_VERSION}"),
        ))
    }
}

pub(crate) fn numeric(field: &'static str, v: &str, fix: &str) -> Result<(), ConfigError> {
    if v.is_empty() || !v.bytes().all(|c| c.is_ascii_digit()) {
        return Err(ConfigError::new(field, fix.to_owned()));
    }
    Ok(())
}

impl FacebookCredentials {
    /// Every setting, checked before any call; the error names the field and the fix.
    pub fn check(&self) -> Result<(), ConfigError> {
        numeric(
            "app_id",
            &self.app_id,
            "the numeric App ID from App Dashboard → App settings → Basic",
        )?;
        required(
            "app_secret",
            self.app_secret.expose(),
            "the App secret from App Dashboard → App settings → Basic",
        )?;
        numeric(
            "page_id",
            &self.page_id,
            "the numeric Page id: connect with Facebook Login and pick the Page",
        )?;
        required(
            "page_access_token",
            self.page_access_token.expose(),
            "connect with Facebook Login and pick the Page (its Page token is stored)",
        )?;
        check_base("api_base", &self.api_base)?;
        check_version(&self.graph_version)
    }
}

/// A Page the logged-in user manages, as `/me/accounts` lists it.
#[derive(Debug, Clone)]
pub struct PageChoice {
    pub id: String,
    pub name: String,
    pub access_token: Secret,
    pub tasks: Vec<String>,
    /// The Instagram professional account linked to the Page, if any.
    pub instagram_account_id: Option<String>,
}

/// Facebook Login dialog URL (`state`: anti-CSRF value checked on return).
pub fn authorize_url(
    app: &OAuthApp,
    state: &str,
    graph_version: &str,
) -> Result<String, ConfigError> {
    app.check(true)?;
    check_version(graph_version)?;
    build_url(
        &format!("{DIALOG_HOST}/{graph_version}/dialog/oauth"),
        &[
            ("client_id", &app.client_id),
            ("redirect_uri", &app.redirect_uri),
            ("state", state),
            ("scope", SCOPES),
            ("response_type", "code"),
        ],
    )
}

/// Code → short-lived user token → long-lived user token (60 days), the one Page tokens are
/// made from.
pub async fn exchange_code(
    net: &Net,
    api_base: &str,
    graph_version: &str,
    app: &OAuthApp,
    code: &str,
) -> Result<OAuthTokens, PublishError> {
    let url = join(api_base, &format!("/{graph_version}/oauth/access_token"));
    let short = token_call(
        net,
        net.get(&url).query(&[
            ("client_id", app.client_id.as_str()),
            ("redirect_uri", &app.redirect_uri),
            ("client_secret", app.client_secret.expose()),
            ("code", code),
        ]),
        now_ms(),
        None,
    )
    .await?;
    token_call(
        net,
        net.get(&url).query(&[
            ("grant_type", "fb_exchange_token"),
            ("client_id", &app.client_id),
            ("client_secret", app.client_secret.expose()),
            ("fb_exchange_token", short.access_token.expose()),
        ]),
        now_ms(),
        None,
    )
    .await
}

/// The Pages the user can publish to, with their Page tokens.
pub async fn pages(
    net: &Net,
    api_base: &str,
    graph_version: &str,
    user_token: &Secret,
) -> Result<Vec<PageChoice>, PublishError> {
    let g = Graph {
        net: net.clone(),
        base: join(api_base, &format!("/{graph_version}")),
        app_secret: None,
        session: Session::new(
            OAuthTokens {
                access_token: user_token.clone(),
                ..Default::default()
            },
            None,
        ),
    };
    let v = g
        .get(
            "/me/accounts",
            &[(
                "fields",
                "id,name,access_token,tasks,instagram_business_account".into(),
            )],
        )
        .await?;
    let s = |p: &Value, k: &str| p[k].as_str().unwrap_or_default().to_owned();
    Ok(v["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| PageChoice {
            id: s(p, "id"),
            name: s(p, "name"),
            access_token: Secret::new(s(p, "access_token")),
            tasks: p["tasks"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect(),
            instagram_account_id: p["instagram_business_account"]["id"]
                .as_str()
                .map(str::to_owned),
        })
        .collect())
}

/// A Facebook Page channel.
pub struct Facebook {
    graph: Graph,
    creds: FacebookCredentials,
}

fn part(m: &Media) -> Result<Part, PublishError> {
    Part::bytes(m.data.to_vec())
        .file_name(m.filename.clone())
        .mime_str(&m.mime)
        .map_err(|e| PublishError::BadRequest(format!("media type {}: {e}", m.mime)))
}

impl Facebook {
    pub fn new(net: Net, creds: FacebookCredentials) -> Self {
        let graph = Graph {
            net,
            base: join(&creds.api_base, &format!("/{}", creds.graph_version)),
            app_secret: Some(creds.app_secret.clone()),
            session: Session::new(
                OAuthTokens {
                    access_token: creds.page_access_token.clone(),
                    ..Default::default()
                },
                None,
            ),
        };
        Self { graph, creds }
    }

    /// The Page's id and name (checks the token and the Page id).
    pub async fn account(&self) -> Result<(String, String), PublishError> {
        self.creds.check()?;
        let v = self
            .graph
            .get(
                &format!("/{}", self.creds.page_id),
                &[("fields", "id,name".into())],
            )
            .await?;
        Ok((
            id_of(&v, "page")?,
            v["name"].as_str().unwrap_or_default().to_owned(),
        ))
    }

    async fn photo(
        &self,
        m: &Media,
        caption: Option<&str>,
        published: bool,
    ) -> Result<Value, PublishError> {
        let kind = if published {
            Kind::Mutation
        } else {
            Kind::Safe
        };
        let path = format!("/{}/photos", self.creds.page_id);
        self.graph
            .post_multipart(
                &path,
                || {
                    let mut f = Form::new()
                        .part("source", part(m)?)
                        .text("published", published.to_string());
                    if let Some(c) = caption.filter(|c| !c.is_empty()) {
                        f = f.text("message", c.to_owned());
                    }
                    if let Some(alt) = &m.alt {
                        f = f.text("alt_text_custom", alt.clone());
                    }
                    Ok(f)
                },
                kind,
            )
            .await
    }

    /// Best effort: the post is out whatever this read says.
    async fn permalink(&self, id: &str) -> Option<String> {
        let v = self
            .graph
            .get(&format!("/{id}"), &[("fields", "permalink_url".into())])
            .await
            .ok()?;
        v["permalink_url"].as_str().map(str::to_owned)
    }

    async fn published(&self, id: String) -> Published {
        Published {
            url: self.permalink(&id).await,
            remote_id: id,
            cid: None,
        }
    }
}

#[async_trait::async_trait]
impl Connector for Facebook {
    fn network(&self) -> &'static str {
        "facebook"
    }

    fn validate(&self, v: &Variant) -> Vec<Problem> {
        limits::validate(Network::Facebook, v)
    }

    async fn publish(&self, req: &PublishRequest) -> Result<Published, PublishError> {
        self.creds.check()?;
        let v = &req.variant;
        if let Some(r) = &req.reply_to {
            // A reply is a comment under the parent post (the "first comment").
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
        let feed = format!("/{}/feed", self.creds.page_id);
        match v.media.len() {
            0 => {
                let mut params = vec![("message", v.text.clone())];
                // The first link gets the preview card.
                if let Some((s, e)) = limits::find_urls(&v.text).first() {
                    params.push(("link", v.text[*s..*e].to_owned()));
                }
                let p = self.graph.post(&feed, &params, Kind::Mutation).await?;
                Ok(self.published(id_of(&p, "post")?).await)
            }
            1 => {
                let p = self.photo(&v.media[0], Some(&v.text), true).await?;
                // `post_id` is the feed story; `id` the photo.
                let id = p["post_id"]
                    .as_str()
                    .map(str::to_owned)
                    .map_or_else(|| id_of(&p, "photo"), Ok)?;
                Ok(self.published(id).await)
            }
            _ => {
                // Unpublished photos are invisible until attached: safe to upload again.
                let mut pairs = vec![("message".to_owned(), v.text.clone())];
                for (i, m) in v.media.iter().enumerate() {
                    let p = self.photo(m, None, false).await?;
                    let fbid = json!({ "media_fbid": id_of(&p, "photo")? }).to_string();
                    pairs.push((format!("attached_media[{i}]"), fbid));
                }
                let params: Vec<(&str, String)> =
                    pairs.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
                let p = self.graph.post(&feed, &params, Kind::Mutation).await?;
                Ok(self.published(id_of(&p, "post")?).await)
            }
        }
    }

    async fn reconcile(&self, req: &PublishRequest) -> Result<Option<Published>, PublishError> {
        self.creds.check()?;
        let want = norm(&req.variant.text);
        let (path, text_field) = match &req.reply_to {
            Some(r) => (format!("/{}/comments", r.parent.remote_id), "message"),
            None => (
                format!("/{}/published_posts", self.creds.page_id),
                "message",
            ),
        };
        let v = self
            .graph
            .get(
                &path,
                &[
                    ("fields", "id,message,permalink_url,created_time".into()),
                    ("limit", "25".into()),
                ],
            )
            .await?;
        for p in v["data"].as_array().into_iter().flatten() {
            if norm(p[text_field].as_str().unwrap_or_default()) == want {
                return Ok(Some(Published {
                    remote_id: id_of(p, "post")?,
                    url: p["permalink_url"].as_str().map(str::to_owned),
                    cid: None,
                }));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> FacebookCredentials {
        FacebookCredentials {
            app_id: "123".into(),
            app_secret: "s".into(),
            page_id: "456".into(),
            page_access_token: "t".into(),
            api_base: DEFAULT_API.into(),
            graph_version: DEFAULT_GRAPH_VERSION.into(),
        }
    }

    #[test]
    fn check_names_fields() {
        assert!(creds().check().is_ok());
        let e = FacebookCredentials {
            page_id: "my-page".into(),
            ..creds()
        }
        .check()
        .unwrap_err();
        assert_eq!(e.field, "page_id");
        let e = FacebookCredentials {
            graph_version: "25".into(),
            ..creds()
        }
        .check()
        .unwrap_err();
        assert_eq!(e.field, "graph_version");
        let e = FacebookCredentials {
            api_base: "http://graph.example".into(),
            ..creds()
        }
        .check()
        .unwrap_err();
        assert_eq!(e.field, "api_base");
    }

    #[test]
    fn dialog_url() {
        let app = OAuthApp {
            client_id: "123".into(),
            client_secret: "s".into(),
            redirect_uri: "https://relais.example/oauth/facebook".into(),
        };
        let u = authorize_url(&app, "st", "v25.0").unwrap();
        assert!(u.starts_with("https://www.facebook.com/v25.0/dialog/oauth?client_id=123&"));
        assert!(u.contains("scope=pages_show_list%2Cpages_manage_posts"));
        assert!(u.contains("state=st"));
        assert!(!u.contains("client_secret"));
    }
}
