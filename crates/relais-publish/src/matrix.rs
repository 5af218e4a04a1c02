//! Matrix (any homeserver, client-server API v3): text and image messages in one room.
//! Idempotency: `PUT …/send/m.room.message/{txnId}` with txnId derived from the idempotency key;
//! the homeserver returns the same event for the same txnId and access token (spec).

use std::time::Duration;

use relais_net::Net;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use crate::http::{error_message, join, send_json, Kind, Reply};
use crate::limits::{self, Network};
use crate::{
    classify_status, Connector, Problem, PublishError, PublishRequest, Published, RateScope,
    Secret, Variant,
};

/// Homeserver, token and room (`!id:server` or `#alias:server`).
#[derive(Debug, Clone)]
pub struct MatrixCredentials {
    pub homeserver: String,
    pub access_token: Secret,
    pub room: String,
}

/// Log in with a password (`m.login.password`) to get an access token.
pub async fn login_password(
    net: &Net,
    homeserver: &str,
    user: &str,
    password: &Secret,
) -> Result<Secret, PublishError> {
    let body = json!({
        "type": "m.login.password",
        "identifier": { "type": "m.id.user", "user": user },
        "password": password.expose(),
        "initial_device_display_name": "relais",
    });
    let r = send_json(
        net,
        net.post(&join(homeserver, "/_matrix/client/v3/login"))
            .json(&body),
        Kind::Safe,
    )
    .await?;
    if !r.status.is_success() {
        return Err(match fail(&r, Kind::Safe) {
            PublishError::BadRequest(m) => PublishError::Disconnect(m),
            e => e,
        });
    }
    r.json["access_token"]
        .as_str()
        .map(Secret::new)
        .ok_or_else(|| PublishError::Disconnect("no access_token in login answer".into()))
}

/// Transaction id for an idempotency key (path-safe, stable).
pub fn txn_id(idempotency_key: &str, part: &str) -> String {
    let h = hex::encode(Sha256::digest(idempotency_key.as_bytes()));
    format!("relais-{}{part}", &h[..32])
}

pub struct Matrix {
    net: Net,
    creds: MatrixCredentials,
    room_id: OnceCell<String>,
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// Matrix errors: `M_UNKNOWN_TOKEN` / `M_FORBIDDEN` mean reconnect (or rejoin), `M_LIMIT_EXCEEDED`
/// carries `retry_after_ms`.
fn fail(r: &Reply, kind: Kind) -> PublishError {
    let msg = error_message(r.status.as_u16(), &r.json);
    match r.json["errcode"].as_str() {
        Some("M_UNKNOWN_TOKEN") if r.json["soft_logout"] == true => PublishError::RefreshToken(msg),
        Some("M_UNKNOWN_TOKEN" | "M_MISSING_TOKEN" | "M_FORBIDDEN" | "M_USER_DEACTIVATED") => {
            PublishError::Disconnect(msg)
        }
        Some("M_LIMIT_EXCEEDED") => PublishError::RateLimited {
            retry_after: r.json["retry_after_ms"]
                .as_u64()
                .map(Duration::from_millis)
                .or_else(|| crate::retry_after(&r.headers)),
            scope: RateScope::Channel,
            message: msg,
        },
        _ => classify_status(r.status, &r.headers, msg, kind != Kind::Mutation),
    }
}

impl Matrix {
    pub fn new(net: Net, creds: MatrixCredentials) -> Self {
        Self {
            net,
            creds,
            room_id: OnceCell::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        join(&self.creds.homeserver, path)
    }

    async fn call(&self, rb: reqwest::RequestBuilder, kind: Kind) -> Result<Value, PublishError> {
        let r = send_json(
            &self.net,
            rb.bearer_auth(self.creds.access_token.expose()),
            kind,
        )
        .await?;
        if r.status.is_success() {
            Ok(r.json)
        } else {
            Err(fail(&r, kind))
        }
    }

    /// The room id, resolving `#alias:server` through `/directory/room` once.
    pub async fn room_id(&self) -> Result<String, PublishError> {
        self.room_id
            .get_or_try_init(|| async {
                let room = &self.creds.room;
                if !room.starts_with('#') {
                    return Ok(room.clone());
                }
                let v = self
                    .call(
                        self.net.get(
                            &self.url(&format!("/_matrix/client/v3/directory/room/{}", enc(room))),
                        ),
                        Kind::Safe,
                    )
                    .await
                    .map_err(|e| match e {
                        PublishError::BadRequest(m) => {
                            PublishError::Disconnect(format!("room alias {room}: {m}"))
                        }
                        e => e,
                    })?;
                v["room_id"].as_str().map(str::to_owned).ok_or_else(|| {
                    PublishError::Disconnect(format!("room alias {room} did not resolve"))
                })
            })
            .await
            .cloned()
    }

    /// Checks the token and that its user has joined the room (`/joined_rooms`): a wrong token
    /// or a room the bot is not in is refused when the room is set up, not at the first send.
    pub async fn check_joined(&self) -> Result<String, PublishError> {
        let room = self.room_id().await?;
        let v = self
            .call(
                self.net.get(&self.url("/_matrix/client/v3/joined_rooms")),
                Kind::Safe,
            )
            .await
            .map_err(|e| match e {
                PublishError::BadRequest(m) => PublishError::Disconnect(m),
                e => e,
            })?;
        let joined = v["joined_rooms"]
            .as_array()
            .is_some_and(|a| a.iter().any(|r| r.as_str() == Some(room.as_str())));
        if joined {
            Ok(room)
        } else {
            Err(PublishError::Disconnect(format!(
                "this account has not joined {room}"
            )))
        }
    }

    async fn send(&self, room: &str, txn: &str, content: &Value) -> Result<String, PublishError> {
        let path = format!(
            "/_matrix/client/v3/rooms/{}/send/m.room.message/{}",
            enc(room),
            enc(txn)
        );
        let v = self
            .call(
                self.net.put(&self.url(&path)).json(content),
                Kind::IdempotentMutation,
            )
            .await?;
        v["event_id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| PublishError::UnknownOutcome("no event_id in send answer".into()))
    }

    async fn upload(&self, m: &crate::Media) -> Result<String, PublishError> {
        let path = format!("/_matrix/media/v3/upload?filename={}", enc(&m.filename));
        let rb = self
            .net
            .post(&self.url(&path))
            .header("content-type", &m.mime)
            .body(m.data.clone());
        let v = self.call(rb, Kind::Safe).await?;
        v["content_uri"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| PublishError::Transient("no content_uri in upload answer".into()))
    }
}

#[async_trait::async_trait]
impl Connector for Matrix {
    fn network(&self) -> &'static str {
        "matrix"
    }

    fn validate(&self, v: &Variant) -> Vec<Problem> {
        limits::validate(Network::Matrix, v)
    }

    async fn publish(&self, req: &PublishRequest) -> Result<Published, PublishError> {
        let room = self.room_id().await?;
        let v = &req.variant;
        // Images first (one event each), then the text that refers to them.
        for (i, m) in v.media.iter().enumerate() {
            let uri = self.upload(m).await?;
            let content = json!({
                "msgtype": "m.image",
                "body": m.alt.clone().unwrap_or_else(|| m.filename.clone()),
                "filename": m.filename,
                "url": uri,
                "info": { "mimetype": m.mime, "size": m.data.len() },
            });
            self.send(
                &room,
                &txn_id(&req.idempotency_key, &format!("-img{i}")),
                &content,
            )
            .await?;
        }
        let mut content = json!({ "msgtype": "m.text", "body": v.text });
        if let Some(html) = &v.html {
            content["format"] = json!("org.matrix.custom.html");
            content["formatted_body"] = json!(html);
        }
        if let Some(r) = &req.reply_to {
            content["m.relates_to"] =
                json!({ "m.in_reply_to": { "event_id": r.parent.remote_id } });
        }
        let event_id = self
            .send(&room, &txn_id(&req.idempotency_key, ""), &content)
            .await?;
        Ok(Published {
            url: Some(format!("https://matrix.to/#/{room}/{event_id}")),
            remote_id: event_id,
            cid: None,
        })
    }

    /// Our own events carry `unsigned.transaction_id` for the token that sent them.
    async fn reconcile(&self, req: &PublishRequest) -> Result<Option<Published>, PublishError> {
        let room = self.room_id().await?;
        let path = format!(
            "/_matrix/client/v3/rooms/{}/messages?dir=b&limit=100",
            enc(&room)
        );
        let v = self
            .call(self.net.get(&self.url(&path)), Kind::Safe)
            .await?;
        let want = txn_id(&req.idempotency_key, "");
        Ok(v["chunk"].as_array().into_iter().flatten().find_map(|e| {
            (e["unsigned"]["transaction_id"] == want.as_str()).then(|| {
                let id = e["event_id"].as_str().unwrap_or_default().to_owned();
                Published {
                    url: Some(format!("https://matrix.to/#/{room}/{id}")),
                    remote_id: id,
                    cid: None,
                }
            })
        }))
    }
}
