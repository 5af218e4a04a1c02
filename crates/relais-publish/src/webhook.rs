//! Outgoing webhook: POST a signed JSON document to a URL the user controls.
//!
//! Headers: `X-Relais-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>`,
//! `X-Relais-Timestamp: <unix seconds>` (also inside the signed body as `sent_at`, so a receiver can
//! refuse replays) and `Idempotency-Key` (receivers must deduplicate on it: relais re-sends with the
//! same key after an unknown outcome). See docs/publish-connectors.md for verification code.

use hmac::{Hmac, Mac};
use relais_net::Net;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::http::{call, Kind};
use crate::limits::{self, Network};
use crate::{Connector, Problem, PublishError, PublishRequest, Published, Secret, Variant};

#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub url: String,
    /// Shared secret for the signature.
    pub secret: Secret,
}

type HmacSha256 = Hmac<Sha256>;

/// `sha256=<hex>` of the body.
pub fn sign(secret: &Secret, body: &[u8]) -> String {
    let mut mac =
        HmacSha256::new_from_slice(secret.expose().as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Check a `X-Relais-Signature` header value in constant time.
pub fn verify(secret: &Secret, body: &[u8], header: &str) -> bool {
    let Some(sig) = header
        .strip_prefix("sha256=")
        .and_then(|h| hex::decode(h).ok())
    else {
        return false;
    };
    let mut mac =
        HmacSha256::new_from_slice(secret.expose().as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

pub struct Webhook {
    net: Net,
    cfg: WebhookConfig,
}

impl Webhook {
    pub fn new(net: Net, cfg: WebhookConfig) -> Self {
        Self { net, cfg }
    }

    /// The JSON document sent for a request (media as metadata only; bytes are not posted).
    pub fn payload(req: &PublishRequest, sent_at: i64) -> Value {
        let v = &req.variant;
        json!({
            "event": "post.published",
            "idempotency_key": req.idempotency_key,
            "sent_at": sent_at,
            "title": v.title,
            "text": v.text,
            "html": v.html,
            "language": v.language,
            "media": v.media.iter().map(|m| json!({"filename": m.filename, "mime": m.mime, "alt": m.alt, "size": m.data.len()})).collect::<Vec<_>>(),
            "reply_to": req.reply_to.as_ref().map(|r| r.parent.remote_id.clone()),
        })
    }
}

#[async_trait::async_trait]
impl Connector for Webhook {
    fn network(&self) -> &'static str {
        "webhook"
    }

    fn validate(&self, v: &Variant) -> Vec<Problem> {
        limits::validate(Network::Webhook, v)
    }

    async fn publish(&self, req: &PublishRequest) -> Result<Published, PublishError> {
        let ts = chrono::Utc::now().timestamp();
        let body = serde_json::to_vec(&Self::payload(req, ts)).expect("JSON");
        let rb = self
            .net
            .post(&self.cfg.url)
            .header("content-type", "application/json")
            .header("x-relais-signature", sign(&self.cfg.secret, &body))
            .header("x-relais-timestamp", ts.to_string())
            .header("idempotency-key", &req.idempotency_key)
            .body(body);
        let v = call(&self.net, rb, Kind::Mutation).await?;
        // A receiver may answer `{"id": …, "url": …}`; otherwise the key identifies the delivery.
        let id = match &v["id"] {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => req.idempotency_key.clone(),
        };
        Ok(Published {
            remote_id: id,
            url: v["url"].as_str().map(str::to_owned),
            cid: None,
        })
    }

    /// A webhook cannot be read back: `None` lets the caller re-send with the same
    /// `Idempotency-Key`, which receivers deduplicate.
    async fn reconcile(&self, _req: &PublishRequest) -> Result<Option<Published>, PublishError> {
        Ok(None)
    }
}
