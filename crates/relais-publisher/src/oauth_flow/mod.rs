//! "Connect with <network>": the OAuth 2.0 authorization-code flow for Mastodon (any instance,
//! relais registers itself there) and for the networks reached through the user's own
//! developer app (Facebook Page, Instagram, Threads, LinkedIn, X).
//!
//! 1. [`OAuthFlow::start`] checks the form, keeps what the callback needs (app secret, PKCE
//!    verifier, instance…) sealed under the SHA-256 of a random `state`, bound to the workspace
//!    and the user, for [`STATE_TTL_MS`], and returns the network's authorization URL.
//! 2. The network sends the browser back to `{public_url}/oauth/callback/{network}`;
//!    [`OAuthFlow::finish`] takes the state (once), checks who may use it, exchanges the code,
//!    and connects — or reconnects — the channel through [`ChannelService`] (account check, sealed
//!    credentials, audit). A reconnect replaces the credentials only once the new ones work.
//! 3. When the account holds several Pages (Facebook) or organizations (LinkedIn), the choices
//!    are kept the same way and [`OAuthFlow::pick`] connects the one chosen.

mod networks;

use relais_domain::Permission;
use relais_net::Net;
use relais_publish::PublishError;
use relais_store::audit::Actor;
use relais_store::channels::Channel;
use relais_store::oauth::{NewOAuthState, TakenState};
use relais_store::secrets::Keyring;
use relais_store::{Store, StoreError};
use serde::{Deserialize, Serialize};

use crate::channels::{load_credentials, ChannelError, ChannelService};
use crate::credentials::ChannelCredentials;

pub use networks::Endpoints;

/// A pending authorization works for ten minutes.
pub const STATE_TTL_MS: i64 = 10 * 60 * 1000;

/// Networks with a "Connect with" flow.
pub const OAUTH_NETWORKS: [&str; 6] = [
    "mastodon",
    "facebook",
    "instagram",
    "threads",
    "linkedin",
    "x",
];

/// The redirect URI of a network: one fixed address the user registers in their developer app.
pub fn redirect_uri(public_url: &str, network: &str) -> String {
    format!(
        "{}/oauth/callback/{network}",
        public_url.trim_end_matches('/')
    )
}

/// What the connect form gives. Empty app fields on a reconnect reuse the channel's app.
#[derive(Debug, Clone, Default)]
pub struct StartForm {
    pub network: String,
    /// Name of the new channel (ignored on reconnect).
    pub name: String,
    /// Reconnect this channel instead of creating one.
    pub channel_id: Option<i64>,
    /// Mastodon: the instance URL.
    pub instance: String,
    /// App id / client id of the user's developer app.
    pub client_id: String,
    pub client_secret: String,
    /// Facebook: the Page to connect (empty: choose after sign-in).
    pub page_id: String,
    /// LinkedIn: an organization id or URN to post as (empty: the member's own profile).
    pub organization: String,
}

/// Where to send the browser.
#[derive(Debug, Clone)]
pub struct Started {
    pub authorize_url: String,
    pub redirect_uri: String,
}

/// What the network's redirect carries.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    /// Meta's name for `error_description`.
    pub error_message: Option<String>,
}

/// How a flow ended well.
#[derive(Debug, Clone)]
pub enum Outcome {
    Connected {
        workspace_id: i64,
        channel: Channel,
        reconnected: bool,
    },
    /// Several Pages / organizations: ask which one (`token` goes back to [`OAuthFlow::pick`]).
    Pick {
        workspace_id: i64,
        network: String,
        token: String,
        choices: Vec<String>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum FlowErrorKind {
    /// A form field to fix (named as in the form).
    #[error("{field}: {message}")]
    Field {
        field: &'static str,
        message: String,
    },
    /// Never issued, already used, started by someone else or for another network.
    #[error(
        "this authorization is unknown or was already used: start again from the channels page"
    )]
    UnknownState,
    #[error("this authorization expired (10 minutes): start again from the channels page")]
    ExpiredState,
    #[error("the authorization was declined on the network: {0}")]
    Denied(String),
    #[error("the network refused to complete the authorization: {0}")]
    Exchange(PublishError),
    /// Signed in, but nothing to publish to (no Page, not an administrator…).
    #[error("{0}")]
    NoAccount(String),
    #[error("you can no longer manage the channels of this workspace")]
    Forbidden,
    #[error(transparent)]
    Channel(ChannelError),
    #[error(transparent)]
    Store(StoreError),
}

/// A flow failure, with the workspace it concerns once the state told it.
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
pub struct FlowError {
    pub workspace_id: Option<i64>,
    pub network: String,
    pub kind: FlowErrorKind,
}

impl FlowError {
    fn new(network: &str, kind: FlowErrorKind) -> Self {
        Self {
            workspace_id: None,
            network: network.into(),
            kind,
        }
    }
    fn at(mut self, ws: i64) -> Self {
        self.workspace_id = Some(ws);
        self
    }
    pub(crate) fn field(network: &str, field: &'static str, message: impl Into<String>) -> Self {
        Self::new(
            network,
            FlowErrorKind::Field {
                field,
                message: message.into(),
            },
        )
    }

    /// Stable code: `field`, `unknown_state`, `expired_state`, `denied`, `exchange_failed`,
    /// `no_account`, `forbidden`, `account_refused`, `store`.
    pub fn code(&self) -> &'static str {
        match &self.kind {
            FlowErrorKind::Field { .. } => "field",
            FlowErrorKind::UnknownState => "unknown_state",
            FlowErrorKind::ExpiredState => "expired_state",
            FlowErrorKind::Denied(_) => "denied",
            FlowErrorKind::Exchange(_) => "exchange_failed",
            FlowErrorKind::NoAccount(_) => "no_account",
            FlowErrorKind::Forbidden => "forbidden",
            FlowErrorKind::Channel(ChannelError::Store(_)) | FlowErrorKind::Store(_) => "store",
            FlowErrorKind::Channel(_) => "account_refused",
        }
    }
}

/// What a pending state holds (sealed).
#[derive(Serialize, Deserialize)]
pub(crate) struct Pending {
    pub name: String,
    pub channel_id: Option<i64>,
    pub redirect_uri: String,
    pub step: Step,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub(crate) enum Step {
    /// Waiting for the network's redirect.
    Authorize(networks::App),
    /// Waiting for the user's choice among accounts the token reaches.
    Pick {
        choices: Vec<(String, ChannelCredentials)>,
    },
}

/// The flow, with the services it needs.
#[derive(Clone)]
pub struct OAuthFlow {
    store: Store,
    ring: Keyring,
    net: Net,
    endpoints: Endpoints,
    public_url: String,
}

impl OAuthFlow {
    pub fn new(store: Store, ring: Keyring, net: Net, public_url: &str) -> Self {
        Self {
            store,
            ring,
            net,
            endpoints: Endpoints::default(),
            public_url: public_url.trim_end_matches('/').to_owned(),
        }
    }

    /// Other network hosts (contract tests, API gateways).
    pub fn with_endpoints(mut self, e: Endpoints) -> Self {
        self.endpoints = e;
        self
    }

    fn service(&self) -> ChannelService {
        ChannelService::new(self.store.clone(), self.ring.clone(), self.net.clone())
    }

    /// Starts a connection (the caller checked the user may manage the workspace's channels).
    pub async fn start(
        &self,
        workspace_id: i64,
        user_id: i64,
        form: &StartForm,
    ) -> Result<Started, FlowError> {
        let network = form.network.as_str();
        if !OAUTH_NETWORKS.contains(&network) {
            return Err(FlowError::field(
                network,
                "network",
                "choose one of the networks listed",
            ));
        }
        let redirect = redirect_uri(&self.public_url, network);
        let (name, previous) = match form.channel_id {
            Some(id) => {
                let ch = self
                    .store
                    .channel(workspace_id, id)
                    .await
                    .map_err(|e| FlowError::new(network, FlowErrorKind::Store(e)))?;
                if ch.archived_at.is_some() {
                    return Err(FlowError::new(
                        network,
                        FlowErrorKind::Store(StoreError::NotFound),
                    ));
                }
                if ch.network != network {
                    return Err(FlowError::field(
                        network,
                        "network",
                        format!("this channel is a {} channel", ch.network),
                    ));
                }
                // Unreadable old credentials: the form must then give the app again.
                let old = load_credentials(&self.store, &self.ring, &ch).await.ok();
                (ch.name, old)
            }
            None if form.name.trim().is_empty() => {
                return Err(FlowError::field(network, "name", "give the channel a name"))
            }
            None => (form.name.trim().to_owned(), None),
        };
        let state = relais_store::random_token(32);
        let (app, url) =
            networks::authorize(self, form, previous.as_ref(), &redirect, &state).await?;
        let pending = Pending {
            name,
            channel_id: form.channel_id,
            redirect_uri: redirect.clone(),
            step: Step::Authorize(app),
        };
        self.keep(workspace_id, user_id, network, &state, &pending)
            .await?;
        Ok(Started {
            authorize_url: url,
            redirect_uri: redirect,
        })
    }

    async fn keep(
        &self,
        workspace_id: i64,
        user_id: i64,
        network: &str,
        state: &str,
        p: &Pending,
    ) -> Result<(), FlowError> {
        let payload = serde_json::to_vec(p).expect("pending state serializes");
        self.store
            .create_oauth_state(
                &self.ring,
                NewOAuthState {
                    state,
                    workspace_id,
                    user_id,
                    network,
                    payload: &payload,
                    ttl_ms: STATE_TTL_MS,
                },
            )
            .await
            .map_err(|e| FlowError::new(network, FlowErrorKind::Store(e)))
    }

    /// Takes a pending state of `network` started by `user_id`, once.
    async fn take(
        &self,
        network: &str,
        state: Option<&str>,
        user_id: i64,
    ) -> Result<(i64, Pending), FlowError> {
        let err = |k| FlowError::new(network, k);
        let Some(state) = state.filter(|s| !s.is_empty() && s.len() <= 200) else {
            return Err(err(FlowErrorKind::UnknownState));
        };
        let taken = self
            .store
            .take_oauth_state(&self.ring, state)
            .await
            .map_err(|e| err(FlowErrorKind::Store(e)))?;
        match taken {
            Some(TakenState::Valid {
                workspace_id,
                user_id: u,
                network: n,
                payload,
            }) if u == user_id && n == network => {
                let p: Pending = serde_json::from_slice(&payload)
                    .map_err(|_| err(FlowErrorKind::UnknownState))?;
                // Roles change: check again that this user may still manage channels here.
                let m = self.store.membership(user_id, workspace_id).await;
                match m {
                    Ok(m)
                        if m.role.allows(Permission::ManageChannels)
                            && m.workspace.archived_at.is_none() =>
                    {
                        Ok((workspace_id, p))
                    }
                    Ok(_) | Err(StoreError::NotFound) => {
                        Err(err(FlowErrorKind::Forbidden).at(workspace_id))
                    }
                    Err(e) => Err(err(FlowErrorKind::Store(e)).at(workspace_id)),
                }
            }
            Some(TakenState::Expired {
                workspace_id,
                user_id: u,
                network: n,
            }) if u == user_id && n == network => {
                Err(err(FlowErrorKind::ExpiredState).at(workspace_id))
            }
            _ => Err(err(FlowErrorKind::UnknownState)),
        }
    }

    /// The network's redirect: take the state, then exchange the code and connect.
    pub async fn finish(
        &self,
        network: &str,
        cb: &Callback,
        user: (i64, &Actor),
    ) -> Result<Outcome, FlowError> {
        let (ws, pending) = self.take(network, cb.state.as_deref(), user.0).await?;
        let fail = |k| FlowError::new(network, k).at(ws);
        if let Some(e) = &cb.error {
            let why = cb
                .error_description
                .as_deref()
                .or(cb.error_message.as_deref())
                .unwrap_or(e);
            return Err(fail(FlowErrorKind::Denied(clip(why))));
        }
        let Some(code) = cb.code.as_deref().filter(|c| !c.is_empty()) else {
            return Err(fail(FlowErrorKind::Denied(
                "the network sent no authorization code".into(),
            )));
        };
        let Step::Authorize(app) = &pending.step else {
            return Err(fail(FlowErrorKind::UnknownState));
        };
        let mut choices = networks::exchange(self, app, &pending.redirect_uri, code)
            .await
            .map_err(|e| e.at(ws))?;
        if choices.len() == 1 {
            let (_, creds) = choices.remove(0);
            return self.connect(ws, &pending, &creds, user).await;
        }
        let token = relais_store::random_token(32);
        let labels = choices.iter().map(|c| c.0.clone()).collect();
        let next = Pending {
            step: Step::Pick { choices },
            ..pending
        };
        self.keep(ws, user.0, network, &token, &next)
            .await
            .map_err(|e| e.at(ws))?;
        Ok(Outcome::Pick {
            workspace_id: ws,
            network: network.into(),
            token,
            choices: labels,
        })
    }

    /// The user chose account `index` of a [`Outcome::Pick`] in `workspace_id`.
    pub async fn pick(
        &self,
        workspace_id: i64,
        network: &str,
        token: &str,
        index: usize,
        user: (i64, &Actor),
    ) -> Result<Outcome, FlowError> {
        let (ws, pending) = self.take(network, Some(token), user.0).await?;
        if ws != workspace_id {
            return Err(FlowError::new(network, FlowErrorKind::UnknownState));
        }
        let Step::Pick { choices } = &pending.step else {
            return Err(FlowError::new(network, FlowErrorKind::UnknownState).at(ws));
        };
        let Some((_, creds)) = choices.get(index) else {
            return Err(
                FlowError::field(network, "choice", "choose one of the accounts listed").at(ws),
            );
        };
        self.connect(ws, &pending, creds, user).await
    }

    async fn connect(
        &self,
        ws: i64,
        p: &Pending,
        creds: &ChannelCredentials,
        user: (i64, &Actor),
    ) -> Result<Outcome, FlowError> {
        let svc = self.service();
        let res = match p.channel_id {
            Some(id) => svc.reconnect(ws, id, creds, user.1).await,
            None => svc.connect(ws, &p.name, creds, user).await,
        };
        match res {
            Ok(channel) => Ok(Outcome::Connected {
                workspace_id: ws,
                channel,
                reconnected: p.channel_id.is_some(),
            }),
            Err(e) => Err(FlowError::new(creds.network(), FlowErrorKind::Channel(e)).at(ws)),
        }
    }
}

/// Network-provided text shown to the user: short, one line.
fn clip(s: &str) -> String {
    let one: String = s.chars().filter(|c| !c.is_control()).take(300).collect();
    one.trim().to_owned()
}
