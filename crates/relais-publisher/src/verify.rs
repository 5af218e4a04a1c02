//! The account check made before any channel is stored: an authenticated read on the network
//! that proves the credentials work and tells who they belong to.

use relais_net::Net;
use relais_publish::bluesky::Bluesky;
use relais_publish::facebook::Facebook;
use relais_publish::instagram::{Instagram, InstagramLogin};
use relais_publish::limits::{media_rules, text_len, Network};
use relais_publish::linkedin::LinkedIn;
use relais_publish::mastodon::Mastodon;
use relais_publish::matrix::Matrix;
use relais_publish::threads::Threads;
use relais_publish::x::X;
use relais_publish::PublishError;
use serde_json::{json, Value};

use crate::credentials::ChannelCredentials;

/// What the network told us while checking the credentials.
#[derive(Debug, Clone)]
pub struct Verified {
    /// Non-secret configuration shown in the UI (instance, account, room…).
    pub config: Value,
    /// Limits read from the network or known for it (`channels.limits`).
    pub limits: Value,
    /// The credentials to store: as given, completed with what the network said (the X user
    /// id) and with tokens renewed during the check, if any.
    pub creds: ChannelCredentials,
}

/// Known limits of a network whose API does not publish them.
fn known_limits(n: Network) -> Value {
    let r = media_rules(n);
    let max = text_len(n, "", false).map(|(_, max, unit)| (max, unit));
    json!({
        "max_characters": max.map(|m| m.0),
        "unit": max.map(|m| m.1),
        "max_media": r.max_items,
        "image_size_limit": r.max_image_bytes,
        "mime_types": r.mimes,
    })
}

fn other_account(what: &str) -> PublishError {
    PublishError::Disconnect(format!(
        "{what}: sign in to the network with the right account and connect again"
    ))
}

/// Checks credentials against the network where it has a cheap authenticated read:
/// Mastodon `verify_credentials` + `/api/v2/instance`, Bluesky `createSession`, Matrix room
/// alias resolution, the Page / account / member behind a Meta, LinkedIn or X token.
/// Webhook, WordPress, Telegram and Discord are stored as given (their first publication tells).
pub async fn verify(creds: &ChannelCredentials, net: &Net) -> Result<Verified, PublishError> {
    let mut config = creds.public_config();
    let mut out = creds.clone();
    let limits = match creds {
        ChannelCredentials::Mastodon {
            instance,
            access_token,
        } => {
            let m = Mastodon::new(
                net.clone(),
                relais_publish::mastodon::MastodonCredentials {
                    instance: instance.clone(),
                    access_token: access_token.as_str().into(),
                },
            );
            let (id, acct) = m.account().await?;
            let l = m.refresh_limits().await?;
            config["account_id"] = json!(id);
            config["acct"] = json!(acct);
            json!({
                "max_characters": l.max_characters,
                "characters_per_url": l.characters_per_url,
                "max_media": l.max_media,
                "image_size_limit": l.image_size_limit,
                "mime_types": l.mimes,
            })
        }
        ChannelCredentials::Bluesky {
            pds,
            identifier,
            app_password,
        } => {
            let b = Bluesky::new(
                net.clone(),
                relais_publish::bluesky::BlueskyCredentials {
                    pds: pds.clone(),
                    identifier: identifier.clone(),
                    app_password: app_password.as_str().into(),
                },
            );
            let (did, handle) = b.whoami().await?;
            config["did"] = json!(did);
            config["handle"] = json!(handle);
            json!({ "max_graphemes": 300, "max_bytes": 3000, "max_media": 4 })
        }
        ChannelCredentials::Matrix {
            homeserver,
            access_token,
            room,
        } => {
            let m = Matrix::new(
                net.clone(),
                relais_publish::matrix::MatrixCredentials {
                    homeserver: homeserver.clone(),
                    access_token: access_token.as_str().into(),
                    room: room.clone(),
                },
            );
            config["room_id"] = json!(m.room_id().await?);
            json!({ "max_bytes": 60000 })
        }
        ChannelCredentials::Facebook(c) => {
            let (id, name) = Facebook::new(net.clone(), c.clone()).account().await?;
            if id != c.page_id {
                return Err(other_account(&format!(
                    "the token is for Page {id}, not {}",
                    c.page_id
                )));
            }
            config["account"] = json!(name);
            known_limits(Network::Facebook)
        }
        ChannelCredentials::Instagram(c) => {
            let ig = Instagram::new(net.clone(), c.clone());
            let (_, username) = ig.account().await?;
            if c.login == InstagramLogin::Instagram {
                out = out.with_tokens(&ig.tokens().await).unwrap_or(out);
            }
            config["account"] = json!(username);
            known_limits(Network::Instagram)
        }
        ChannelCredentials::Threads(c) => {
            let th = Threads::new(net.clone(), c.clone());
            let (id, username) = th.account().await?;
            if id != c.threads_user_id {
                return Err(other_account(&format!(
                    "the token is for Threads user {id}, not {}",
                    c.threads_user_id
                )));
            }
            out = out.with_tokens(&th.tokens().await).unwrap_or(out);
            config["account"] = json!(username);
            known_limits(Network::Threads)
        }
        ChannelCredentials::LinkedIn(c) => {
            let li = LinkedIn::new(net.clone(), c.clone());
            if c.author.starts_with("urn:li:organization:") {
                let orgs = li.organizations().await?;
                if !orgs.contains(&c.author) {
                    return Err(other_account(&format!(
                        "this LinkedIn member does not administer {}",
                        c.author
                    )));
                }
                config["account"] = json!(c.author);
            } else {
                let (urn, name) = li.member().await?;
                if urn != c.author {
                    return Err(other_account(&format!(
                        "the token is for {urn}, not {}",
                        c.author
                    )));
                }
                config["account"] = json!(name);
            }
            out = out.with_tokens(&li.tokens().await).unwrap_or(out);
            known_limits(Network::LinkedIn)
        }
        ChannelCredentials::X(c) => {
            let x = X::new(net.clone(), c.clone());
            let (id, username) = x.account().await?;
            if c.user_id.as_deref().is_some_and(|u| u != id) {
                return Err(other_account(&format!(
                    "the token is for X user {id}, not the one this channel was connected with"
                )));
            }
            let mut c2 = c.clone();
            c2.user_id = Some(id.clone());
            c2.tokens = x.tokens().await;
            out = ChannelCredentials::X(c2);
            config["user_id"] = json!(id);
            config["account"] = json!(format!("@{username}"));
            known_limits(Network::X)
        }
        _ => json!({}),
    };
    if let Some(t) = out.token_expires_at() {
        config["token_expires_at"] = json!(t);
    }
    Ok(Verified {
        config,
        limits,
        creds: out,
    })
}
