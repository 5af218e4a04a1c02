//! WordPress (REST API + application password): articles with categories, tags and a featured
//! image. WordPress has no idempotency key: the content carries an HTML comment
//! `<!-- relais:<key> -->` (invisible to readers) that `reconcile` searches for.

use relais_net::Net;
use serde_json::{json, Value};

use crate::http::{call, fail, join, send_json, Kind};
use crate::limits::{self, Network};
use crate::{Connector, Problem, PublishError, PublishRequest, Published, Secret, Variant};

/// Site URL, user name and an application password (Users → Profile → Application Passwords).
#[derive(Debug, Clone)]
pub struct WordPressCredentials {
    pub site: String,
    pub user: String,
    pub app_password: Secret,
}

pub struct WordPress {
    net: Net,
    creds: WordPressCredentials,
}

fn marker(key: &str) -> String {
    // `--` cannot appear inside an HTML comment.
    format!("relais:{}", key.replace("--", "-"))
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl WordPress {
    pub fn new(net: Net, creds: WordPressCredentials) -> Self {
        Self { net, creds }
    }

    fn url(&self, path: &str) -> String {
        join(&self.creds.site, &format!("/wp-json/wp/v2{path}"))
    }

    fn auth(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        rb.basic_auth(&self.creds.user, Some(self.creds.app_password.expose()))
    }

    /// Id of the tag or category `name` (`taxonomy` = `tags` | `categories`), created if missing.
    pub async fn term_id(&self, taxonomy: &str, name: &str) -> Result<u64, PublishError> {
        let rb = self.auth(
            self.net
                .get(&self.url(&format!("/{taxonomy}?per_page=100&search={}", enc(name)))),
        );
        let found = call(&self.net, rb, Kind::Safe).await?;
        let hit = found.as_array().into_iter().flatten().find(|t| {
            t["name"]
                .as_str()
                .is_some_and(|n| html_unescape(n).eq_ignore_ascii_case(name))
        });
        if let Some(id) = hit.and_then(|t| t["id"].as_u64()) {
            return Ok(id);
        }
        let rb = self
            .auth(self.net.post(&self.url(&format!("/{taxonomy}"))))
            .json(&json!({ "name": name }));
        let r = send_json(&self.net, rb, Kind::Safe).await?;
        if r.status.is_success() {
            return r.json["id"]
                .as_u64()
                .ok_or_else(|| PublishError::Transient(format!("no id for {taxonomy} {name}")));
        }
        // Created concurrently (or the search missed it): `term_exists` carries the id.
        if r.json["code"] == "term_exists" {
            if let Some(id) = r.json["data"]["term_id"].as_u64() {
                return Ok(id);
            }
        }
        Err(fail(&r, Kind::Safe))
    }

    async fn upload(&self, m: &crate::Media) -> Result<u64, PublishError> {
        let disposition = format!(
            "attachment; filename=\"{}\"",
            m.filename.replace(['"', '\\', '\r', '\n'], "_")
        );
        let rb = self
            .auth(self.net.post(&self.url("/media")))
            .header("content-type", &m.mime)
            .header("content-disposition", disposition)
            .body(m.data.clone());
        let v = call(&self.net, rb, Kind::Safe).await?;
        let id = v["id"]
            .as_u64()
            .ok_or_else(|| PublishError::Transient("no media id".into()))?;
        if let Some(alt) = &m.alt {
            let rb = self
                .auth(self.net.post(&self.url(&format!("/media/{id}"))))
                .json(&json!({ "alt_text": alt }));
            call(&self.net, rb, Kind::Safe).await?;
        }
        Ok(id)
    }
}

fn html_unescape(s: &str) -> String {
    s.replace("&amp;", "&")
        .replace("&#039;", "'")
        .replace("&quot;", "\"")
}

fn published(v: &Value) -> Result<Published, PublishError> {
    let id = v["id"]
        .as_u64()
        .ok_or_else(|| PublishError::UnknownOutcome("no post id in answer".into()))?;
    Ok(Published {
        remote_id: id.to_string(),
        url: v["link"].as_str().map(str::to_owned),
        cid: None,
    })
}

#[async_trait::async_trait]
impl Connector for WordPress {
    fn network(&self) -> &'static str {
        "wordpress"
    }

    fn validate(&self, v: &Variant) -> Vec<Problem> {
        let mut p = limits::validate(Network::WordPress, v);
        if v.title.as_deref().is_none_or(|t| t.trim().is_empty()) {
            p.push(Problem::new("missing_title", "an article needs a title"));
        }
        p
    }

    async fn publish(&self, req: &PublishRequest) -> Result<Published, PublishError> {
        let v = &req.variant;
        let mut tags = Vec::new();
        for t in &v.tags {
            tags.push(self.term_id("tags", t).await?);
        }
        let mut categories = Vec::new();
        for c in &v.categories {
            categories.push(self.term_id("categories", c).await?);
        }
        let html = v.html.clone().unwrap_or_else(|| {
            v.text
                .split("\n\n")
                .map(|p| {
                    format!(
                        "<p>{}</p>",
                        p.replace('&', "&amp;")
                            .replace('<', "&lt;")
                            .replace('>', "&gt;")
                    )
                })
                .collect()
        });
        let mut body = json!({
            "title": v.title.clone().unwrap_or_default(),
            "content": format!("{html}\n<!-- {} -->", marker(&req.idempotency_key)),
            "status": v.status.clone().unwrap_or_else(|| "publish".into()),
            "tags": tags,
            "categories": categories,
        });
        if let Some(m) = v.media.first() {
            body["featured_media"] = json!(self.upload(m).await?);
        }
        let rb = self.auth(self.net.post(&self.url("/posts"))).json(&body);
        published(&call(&self.net, rb, Kind::Mutation).await?)
    }

    async fn reconcile(&self, req: &PublishRequest) -> Result<Option<Published>, PublishError> {
        let m = marker(&req.idempotency_key);
        let path = format!(
            "/posts?context=edit&status=publish,future,draft,pending,private&search={}",
            enc(&m)
        );
        let list = call(
            &self.net,
            self.auth(self.net.get(&self.url(&path))),
            Kind::Safe,
        )
        .await?;
        for p in list.as_array().into_iter().flatten() {
            if p["content"]["raw"].as_str().is_some_and(|c| c.contains(&m)) {
                return published(p).map(Some);
            }
        }
        Ok(None)
    }
}
