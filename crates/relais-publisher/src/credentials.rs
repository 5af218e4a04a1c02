//! Per-network channel credentials, as stored (sealed) in `secrets` under
//! [`CREDENTIALS_PURPOSE`], and the connector they make.

use std::sync::Arc;

use relais_net::Net;
use relais_publish::bluesky::{Bluesky, BlueskyCredentials, DEFAULT_PDS};
use relais_publish::discord::{DiscordWebhook, DiscordWebhookConfig};
use relais_publish::facebook::{Facebook, FacebookCredentials};
use relais_publish::instagram::{Instagram, InstagramCredentials};
use relais_publish::linkedin::{LinkedIn, LinkedInCredentials};
use relais_publish::mastodon::{Mastodon, MastodonCredentials};
use relais_publish::matrix::{Matrix, MatrixCredentials};
use relais_publish::oauth::{OAuthTokens, TokenSink};
use relais_publish::telegram::{Telegram, TelegramConfig, DEFAULT_API};
use relais_publish::threads::{Threads, ThreadsCredentials};
use relais_publish::webhook::{Webhook, WebhookConfig};
use relais_publish::wordpress::{WordPress, WordPressCredentials};
use relais_publish::x::{XCredentials, X};
use relais_publish::{Connector, Secret};
use relais_store::channels::Channel;
use serde::{Deserialize, Serialize};

/// Purpose bound to the sealed credentials (a secret sealed for another purpose does not open).
pub const CREDENTIALS_PURPOSE: &str = "channel.credentials";

/// What the user gives to connect a channel, one variant per network relais-publish supports.
/// Serialized with a `network` tag; `Debug` never prints a secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "network", rename_all = "snake_case")]
pub enum ChannelCredentials {
    Mastodon {
        instance: String,
        access_token: String,
    },
    Bluesky {
        #[serde(default = "default_pds")]
        pds: String,
        identifier: String,
        app_password: String,
    },
    Matrix {
        homeserver: String,
        access_token: String,
        room: String,
    },
    Webhook {
        url: String,
        secret: String,
    },
    #[serde(rename = "wordpress")]
    WordPress {
        site: String,
        user: String,
        app_password: String,
    },
    Telegram {
        bot_token: String,
        chat_id: String,
        #[serde(default)]
        api_base: Option<String>,
    },
    Discord {
        webhook_url: String,
        #[serde(default)]
        username: Option<String>,
    },
    // Through the user's own developer app; fields documented on each struct.
    Facebook(FacebookCredentials),
    Instagram(InstagramCredentials),
    Threads(ThreadsCredentials),
    #[serde(rename = "linkedin")]
    LinkedIn(LinkedInCredentials),
    X(XCredentials),
}

fn default_pds() -> String {
    DEFAULT_PDS.to_string()
}

impl std::fmt::Debug for ChannelCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ChannelCredentials({}, ***)", self.network())
    }
}

/// Every network a channel can be connected to (the newsletter is not a channel connector).
pub const NETWORKS: [&str; 12] = [
    "mastodon",
    "bluesky",
    "matrix",
    "webhook",
    "wordpress",
    "telegram",
    "discord",
    "facebook",
    "instagram",
    "threads",
    "linkedin",
    "x",
];

impl ChannelCredentials {
    /// The network name, as stored in `channels.network` and returned by `Connector::network`.
    pub fn network(&self) -> &'static str {
        match self {
            ChannelCredentials::Mastodon { .. } => "mastodon",
            ChannelCredentials::Bluesky { .. } => "bluesky",
            ChannelCredentials::Matrix { .. } => "matrix",
            ChannelCredentials::Webhook { .. } => "webhook",
            ChannelCredentials::WordPress { .. } => "wordpress",
            ChannelCredentials::Telegram { .. } => "telegram",
            ChannelCredentials::Discord { .. } => "discord",
            ChannelCredentials::Facebook(_) => "facebook",
            ChannelCredentials::Instagram(_) => "instagram",
            ChannelCredentials::Threads(_) => "threads",
            ChannelCredentials::LinkedIn(_) => "linkedin",
            ChannelCredentials::X(_) => "x",
        }
    }

    /// What is not secret, kept in `channels.config` for display (never a token or a URL that
    /// embeds one).
    pub fn public_config(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            ChannelCredentials::Mastodon { instance, .. } => json!({ "instance": instance }),
            ChannelCredentials::Bluesky {
                pds, identifier, ..
            } => json!({ "pds": pds, "identifier": identifier }),
            ChannelCredentials::Matrix {
                homeserver, room, ..
            } => json!({ "homeserver": homeserver, "room": room }),
            ChannelCredentials::Webhook { url, .. } => json!({ "host": host_of(url) }),
            ChannelCredentials::WordPress { site, user, .. } => {
                json!({ "site": site, "user": user })
            }
            ChannelCredentials::Telegram { chat_id, .. } => json!({ "chat_id": chat_id }),
            ChannelCredentials::Discord { username, .. } => json!({ "username": username }),
            ChannelCredentials::Facebook(c) => json!({ "page_id": c.page_id, "app_id": c.app_id }),
            ChannelCredentials::Instagram(c) => {
                json!({ "ig_user_id": c.ig_user_id, "app_id": c.app_id })
            }
            ChannelCredentials::Threads(c) => {
                json!({ "threads_user_id": c.threads_user_id, "app_id": c.app_id })
            }
            ChannelCredentials::LinkedIn(c) => {
                json!({ "author": c.author, "client_id": c.client_id })
            }
            ChannelCredentials::X(c) => json!({ "user_id": c.user_id, "client_id": c.client_id }),
        }
    }

    /// The OAuth tokens of networks that renew them (X, LinkedIn, Instagram, Threads).
    pub fn oauth_tokens(&self) -> Option<OAuthTokens> {
        match self {
            ChannelCredentials::X(c) => Some(c.tokens.clone()),
            ChannelCredentials::LinkedIn(c) => Some(c.tokens.clone()),
            ChannelCredentials::Instagram(c) => Some(c.tokens()),
            ChannelCredentials::Threads(c) => Some(c.tokens()),
            _ => None,
        }
    }

    /// The same credentials with renewed tokens (`None` for networks without OAuth renewal).
    pub fn with_tokens(&self, t: &OAuthTokens) -> Option<Self> {
        Some(match self {
            ChannelCredentials::X(c) => ChannelCredentials::X(c.with_tokens(t)),
            ChannelCredentials::LinkedIn(c) => ChannelCredentials::LinkedIn(c.with_tokens(t)),
            ChannelCredentials::Instagram(c) => ChannelCredentials::Instagram(c.with_tokens(t)),
            ChannelCredentials::Threads(c) => ChannelCredentials::Threads(c.with_tokens(t)),
            _ => return None,
        })
    }

    /// When the access token stops working (unix ms), where the network says.
    pub fn token_expires_at(&self) -> Option<i64> {
        self.oauth_tokens().and_then(|t| t.expires_at)
    }

    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("credentials serialize")
    }

    pub(crate) fn from_bytes(b: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(b)
    }
}

fn host_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The connector of a channel. Errors when the credentials are for another network.
pub fn connector_for(
    channel: &Channel,
    creds: &ChannelCredentials,
    net: Net,
) -> Result<Box<dyn Connector>, String> {
    if channel.network != creds.network() {
        return Err(format!(
            "channel {} is a {} channel but its credentials are for {}",
            channel.id,
            channel.network,
            creds.network()
        ));
    }
    Ok(build(creds, net))
}

/// The connector for credentials alone (used while connecting, before a channel exists).
pub fn build(creds: &ChannelCredentials, net: Net) -> Box<dyn Connector> {
    build_with_sink(creds, net, None)
}

/// The connector, handing renewed tokens to `sink` (X, LinkedIn, Instagram, Threads) so they
/// are stored before they are used.
pub fn build_with_sink(
    creds: &ChannelCredentials,
    net: Net,
    sink: Option<Arc<dyn TokenSink>>,
) -> Box<dyn Connector> {
    let s = |v: &str| Secret::new(v);
    match creds.clone() {
        ChannelCredentials::Mastodon {
            instance,
            access_token,
        } => Box::new(Mastodon::new(
            net,
            MastodonCredentials {
                instance,
                access_token: s(&access_token),
            },
        )),
        ChannelCredentials::Bluesky {
            pds,
            identifier,
            app_password,
        } => Box::new(Bluesky::new(
            net,
            BlueskyCredentials {
                pds,
                identifier,
                app_password: s(&app_password),
            },
        )),
        ChannelCredentials::Matrix {
            homeserver,
            access_token,
            room,
        } => Box::new(Matrix::new(
            net,
            MatrixCredentials {
                homeserver,
                access_token: s(&access_token),
                room,
            },
        )),
        ChannelCredentials::Webhook { url, secret } => Box::new(Webhook::new(
            net,
            WebhookConfig {
                url,
                secret: s(&secret),
            },
        )),
        ChannelCredentials::WordPress {
            site,
            user,
            app_password,
        } => Box::new(WordPress::new(
            net,
            WordPressCredentials {
                site,
                user,
                app_password: s(&app_password),
            },
        )),
        ChannelCredentials::Telegram {
            bot_token,
            chat_id,
            api_base,
        } => Box::new(Telegram::new(
            net,
            TelegramConfig {
                bot_token: s(&bot_token),
                chat_id,
                api_base: api_base.unwrap_or_else(|| DEFAULT_API.to_string()),
            },
        )),
        ChannelCredentials::Discord {
            webhook_url,
            username,
        } => Box::new(DiscordWebhook::new(
            net,
            DiscordWebhookConfig {
                webhook_url: s(&webhook_url),
                username,
            },
        )),
        ChannelCredentials::Facebook(c) => Box::new(Facebook::new(net, c)),
        ChannelCredentials::Instagram(c) => {
            let c = Instagram::new(net, c);
            Box::new(match sink {
                Some(k) => c.with_token_sink(k),
                None => c,
            })
        }
        ChannelCredentials::Threads(c) => {
            let c = Threads::new(net, c);
            Box::new(match sink {
                Some(k) => c.with_token_sink(k),
                None => c,
            })
        }
        ChannelCredentials::LinkedIn(c) => {
            let c = LinkedIn::new(net, c);
            Box::new(match sink {
                Some(k) => c.with_token_sink(k),
                None => c,
            })
        }
        ChannelCredentials::X(c) => {
            let c = X::new(net, c);
            Box::new(match sink {
                Some(k) => c.with_token_sink(k),
                None => c,
            })
        }
    }
}

/// Whether a re-send after `reconcile` answered "not there" is deduplicated by the network
/// (so an unconfirmed target may go back to the schedule), given how long ago it was sent.
/// Mastodon keeps an `Idempotency-Key` about an hour; we stay well inside that window.
pub fn resend_is_safe(network: &str, since_attempt_ms: i64) -> bool {
    match network {
        "bluesky" | "matrix" | "webhook" => true,
        "mastodon" => since_attempt_ms < 45 * 60 * 1000,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_round_trip_and_debug_hides_secrets() {
        let c = ChannelCredentials::Mastodon {
            instance: "https://m.example".into(),
            access_token: "tok-123".into(),
        };
        let back = ChannelCredentials::from_bytes(&c.to_bytes()).unwrap();
        assert_eq!(back, c);
        assert!(!format!("{c:?}").contains("tok-123"));
        let j: ChannelCredentials = serde_json::from_value(serde_json::json!({
            "network": "bluesky", "identifier": "a.bsky.social", "app_password": "x"
        }))
        .unwrap();
        assert!(matches!(j, ChannelCredentials::Bluesky { ref pds, .. } if pds == DEFAULT_PDS));
        let w = ChannelCredentials::Webhook {
            url: "https://hooks.example/p?token=secret".into(),
            secret: "s".into(),
        };
        assert_eq!(w.public_config()["host"], "hooks.example");
        assert!(!w.public_config().to_string().contains("secret"));
    }

    #[test]
    fn every_network_builds_its_connector() {
        let net = Net::strict().unwrap();
        let all = [
            r#"{"network":"mastodon","instance":"https://m.example","access_token":"t"}"#,
            r#"{"network":"bluesky","identifier":"a","app_password":"p"}"#,
            r#"{"network":"matrix","homeserver":"https://h","access_token":"t","room":"!r:h"}"#,
            r#"{"network":"webhook","url":"https://h/x","secret":"s"}"#,
            r#"{"network":"wordpress","site":"https://w","user":"u","app_password":"p"}"#,
            r#"{"network":"telegram","bot_token":"1:a","chat_id":"-100"}"#,
            r#"{"network":"discord","webhook_url":"https://discord.com/api/webhooks/1/t"}"#,
            r#"{"network":"facebook","app_id":"1","app_secret":"s","page_id":"2","page_access_token":"t"}"#,
            r#"{"network":"instagram","app_id":"1","app_secret":"s","ig_user_id":"2","access_token":"t"}"#,
            r#"{"network":"threads","app_id":"1","app_secret":"s","threads_user_id":"2","access_token":"t"}"#,
            r#"{"network":"linkedin","client_id":"c","client_secret":"s","author":"urn:li:person:a","access_token":"t","refresh_token":"r","expires_at":1}"#,
            r#"{"network":"x","client_id":"c","access_token":"t","refresh_token":"r","expires_at":1}"#,
        ];
        for (json, name) in all.iter().zip(NETWORKS) {
            let c: ChannelCredentials = serde_json::from_str(json).unwrap();
            assert_eq!(c.network(), name);
            assert_eq!(ChannelCredentials::from_bytes(&c.to_bytes()).unwrap(), c);
            assert!(!c.public_config().to_string().contains("\"t\""), "{name}");
            assert_eq!(build(&c, net.clone()).network(), name);
        }
        assert!(resend_is_safe("webhook", i64::MAX));
        assert!(!resend_is_safe("mastodon", 3_600_000));
        assert!(!resend_is_safe("telegram", 0));
    }
}
