//! Telegram bot: sendMessage / sendPhoto / sendMediaGroup to one chat or channel.
//! No idempotency key exists in the Bot API and bots cannot read a chat's history, so an unknown
//! outcome cannot be reconciled automatically (see `reconcile`).

use std::time::Duration;

use relais_net::Net;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

use crate::http::{join, send_json, Kind, Reply};
use crate::limits::{self, Network};
use crate::{
    Connector, Problem, PublishError, PublishRequest, Published, RateScope, Secret, Variant,
};

pub const DEFAULT_API: &str = "https://api.telegram.org";

/// Bot token (from @BotFather) and chat id (`-100…` or `@channelname`); the bot must be a
/// member (an admin with "post messages" in a channel).
#[derive(Debug, Clone)]
pub struct TelegramConfig {
    pub bot_token: Secret,
    pub chat_id: String,
    /// [`DEFAULT_API`], or a local Bot API server.
    pub api_base: String,
}

pub struct Telegram {
    net: Net,
    cfg: TelegramConfig,
}

/// `{"ok":false,"error_code":…,"description":…,"parameters":{"retry_after":…}}`.
fn fail(r: &Reply) -> PublishError {
    let desc = r.json["description"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let msg = format!("{}: {desc}", r.status.as_u16());
    let lower = desc.to_lowercase();
    match r.status.as_u16() {
        401 | 403 => PublishError::Disconnect(msg),
        429 => PublishError::RateLimited {
            retry_after: r.json["parameters"]["retry_after"]
                .as_u64()
                .map(Duration::from_secs),
            scope: RateScope::Channel,
            message: msg,
        },
        400 if lower.contains("chat not found") || lower.contains("not enough rights") => {
            PublishError::Disconnect(msg)
        }
        // Bot API behind a gateway: a 502/504 may hide a sent message.
        502 | 504 => PublishError::UnknownOutcome(msg),
        500..=599 => PublishError::Transient(msg),
        _ => PublishError::BadRequest(msg),
    }
}

impl Telegram {
    pub fn new(net: Net, cfg: TelegramConfig) -> Self {
        Self { net, cfg }
    }

    fn method(&self, name: &str) -> String {
        join(
            &self.cfg.api_base,
            &format!("/bot{}/{name}", self.cfg.bot_token.expose()),
        )
    }

    async fn call(&self, rb: reqwest::RequestBuilder) -> Result<Value, PublishError> {
        let r = send_json(&self.net, rb, Kind::Mutation).await?;
        if r.status.is_success() && r.json["ok"] == true {
            return Ok(r.json["result"].clone());
        }
        Err(fail(&r))
    }

    fn published(&self, msg: &Value) -> Published {
        let id = msg["message_id"].as_i64().unwrap_or_default();
        // Public link only for public channels/groups with a username.
        let url = msg["chat"]["username"]
            .as_str()
            .map(|u| format!("https://t.me/{u}/{id}"));
        Published {
            remote_id: id.to_string(),
            url,
            cid: None,
        }
    }
}

fn part(m: &crate::Media) -> Result<Part, PublishError> {
    Part::bytes(m.data.to_vec())
        .file_name(m.filename.clone())
        .mime_str(&m.mime)
        .map_err(|e| PublishError::BadRequest(format!("media type {}: {e}", m.mime)))
}

#[async_trait::async_trait]
impl Connector for Telegram {
    fn network(&self) -> &'static str {
        "telegram"
    }

    fn validate(&self, v: &Variant) -> Vec<Problem> {
        limits::validate(Network::Telegram, v)
    }

    async fn publish(&self, req: &PublishRequest) -> Result<Published, PublishError> {
        let v = &req.variant;
        let reply = req
            .reply_to
            .as_ref()
            .and_then(|r| r.parent.remote_id.parse::<i64>().ok());
        let reply_json = reply.map(|id| json!({ "message_id": id }).to_string());
        match v.media.len() {
            0 => {
                let mut body = json!({ "chat_id": self.cfg.chat_id, "text": v.text });
                if let Some(id) = reply {
                    body["reply_parameters"] = json!({ "message_id": id });
                }
                let msg = self
                    .call(self.net.post(&self.method("sendMessage")).json(&body))
                    .await?;
                Ok(self.published(&msg))
            }
            1 => {
                let mut form = Form::new()
                    .text("chat_id", self.cfg.chat_id.clone())
                    .text("caption", v.text.clone())
                    .part("photo", part(&v.media[0])?);
                if let Some(r) = reply_json {
                    form = form.text("reply_parameters", r);
                }
                let msg = self
                    .call(self.net.post(&self.method("sendPhoto")).multipart(form))
                    .await?;
                Ok(self.published(&msg))
            }
            _ => {
                // An album: the caption goes on the first item; files are attached by name.
                let items: Vec<Value> = v
                    .media
                    .iter()
                    .enumerate()
                    .map(|(i, _)| {
                        let mut it = json!({ "type": "photo", "media": format!("attach://f{i}") });
                        if i == 0 {
                            it["caption"] = json!(v.text);
                        }
                        it
                    })
                    .collect();
                let mut form = Form::new()
                    .text("chat_id", self.cfg.chat_id.clone())
                    .text("media", Value::from(items).to_string());
                for (i, m) in v.media.iter().enumerate() {
                    form = form.part(format!("f{i}"), part(m)?);
                }
                if let Some(r) = reply_json {
                    form = form.text("reply_parameters", r);
                }
                let msgs = self
                    .call(
                        self.net
                            .post(&self.method("sendMediaGroup"))
                            .multipart(form),
                    )
                    .await?;
                Ok(self.published(&msgs[0]))
            }
        }
    }

    /// Bots cannot read past messages: the outcome stays unknown for a human to confirm.
    async fn reconcile(&self, _req: &PublishRequest) -> Result<Option<Published>, PublishError> {
        Err(PublishError::UnknownOutcome(
            "Telegram bots cannot read the chat history: check the chat and confirm by hand".into(),
        ))
    }
}
