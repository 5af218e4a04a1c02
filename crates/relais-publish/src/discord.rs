//! Discord webhook (`…/api/webhooks/{id}/{token}?wait=true`): messages with up to 10 files.
//! No idempotency key for webhooks and no way to search a channel with the webhook token, so an
//! unknown outcome is left for a human (see `reconcile`).

use std::time::Duration;

use relais_net::Net;
use reqwest::multipart::{Form, Part};
use serde_json::json;

use crate::http::{error_message, send_json, Kind, Reply};
use crate::limits::{self, Network};
use crate::{
    classify_status, Connector, Problem, PublishError, PublishRequest, Published, RateScope,
    Secret, Variant,
};

/// The webhook URL is itself the credential (it embeds the token).
#[derive(Debug, Clone)]
pub struct DiscordWebhookConfig {
    pub webhook_url: Secret,
    /// Display name override.
    pub username: Option<String>,
}

pub struct DiscordWebhook {
    net: Net,
    cfg: DiscordWebhookConfig,
}

/// 429 body: `{"message", "retry_after": seconds (float), "global": bool}`.
fn fail(r: &Reply) -> PublishError {
    let msg = error_message(r.status.as_u16(), &r.json);
    if r.status.as_u16() == 429 {
        return PublishError::RateLimited {
            retry_after: r.json["retry_after"]
                .as_f64()
                .map(|s| Duration::from_secs_f64(s.max(0.0)))
                .or_else(|| crate::retry_after(&r.headers)),
            scope: if r.json["global"] == true || r.headers.get("x-ratelimit-global").is_some() {
                RateScope::App
            } else {
                RateScope::Channel
            },
            message: msg,
        };
    }
    // 404 Unknown Webhook: deleted on Discord's side.
    if r.status.as_u16() == 404 {
        return PublishError::Disconnect(msg);
    }
    classify_status(r.status, &r.headers, msg, false)
}

impl DiscordWebhook {
    pub fn new(net: Net, cfg: DiscordWebhookConfig) -> Self {
        Self { net, cfg }
    }

    fn url(&self) -> String {
        let u = self.cfg.webhook_url.expose();
        let sep = if u.contains('?') { '&' } else { '?' };
        format!("{u}{sep}wait=true")
    }
}

#[async_trait::async_trait]
impl Connector for DiscordWebhook {
    fn network(&self) -> &'static str {
        "discord"
    }

    fn validate(&self, v: &Variant) -> Vec<Problem> {
        limits::validate(Network::Discord, v)
    }

    async fn publish(&self, req: &PublishRequest) -> Result<Published, PublishError> {
        let v = &req.variant;
        // No @everyone / role pings from scheduled content.
        let mut payload = json!({ "content": v.text, "allowed_mentions": { "parse": [] } });
        if let Some(u) = &self.cfg.username {
            payload["username"] = json!(u);
        }
        let rb = self.net.post(&self.url());
        let rb = if v.media.is_empty() {
            rb.json(&payload)
        } else {
            payload["attachments"] = v
                .media
                .iter()
                .enumerate()
                .map(|(i, m)| json!({ "id": i, "filename": m.filename, "description": m.alt }))
                .collect();
            let mut form = Form::new().text("payload_json", payload.to_string());
            for (i, m) in v.media.iter().enumerate() {
                let part = Part::bytes(m.data.to_vec())
                    .file_name(m.filename.clone())
                    .mime_str(&m.mime)
                    .map_err(|e| PublishError::BadRequest(format!("media type {}: {e}", m.mime)))?;
                form = form.part(format!("files[{i}]"), part);
            }
            rb.multipart(form)
        };
        let r = send_json(&self.net, rb, Kind::Mutation).await?;
        if !r.status.is_success() {
            return Err(fail(&r));
        }
        let id = r.json["id"].as_str().unwrap_or_default().to_owned();
        let url = match (r.json["guild_id"].as_str(), r.json["channel_id"].as_str()) {
            (Some(g), Some(c)) => Some(format!("https://discord.com/channels/{g}/{c}/{id}")),
            _ => None,
        };
        Ok(Published {
            remote_id: id,
            url,
            cid: None,
        })
    }

    async fn reconcile(&self, _req: &PublishRequest) -> Result<Option<Published>, PublishError> {
        Err(PublishError::UnknownOutcome(
            "a Discord webhook cannot search the channel: check it and confirm by hand".into(),
        ))
    }
}
