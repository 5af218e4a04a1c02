//! Per network: the authorization URL, then the code exchange into the credentials of each
//! account the token reaches (a Page, an organization…).

use relais_publish::facebook::{self, FacebookCredentials};
use relais_publish::instagram::{self, InstagramCredentials, InstagramLogin};
use relais_publish::linkedin::{self, LinkedIn, LinkedInCredentials};
use relais_publish::mastodon::{self, MastodonApp};
use relais_publish::meta::DEFAULT_GRAPH_VERSION;
use relais_publish::oauth::{OAuthApp, OAuthTokens, Pkce};
use relais_publish::threads::{self, ThreadsCredentials};
use relais_publish::x::{self, XCredentials};
use relais_publish::{ConfigError, PublishError, Secret};
use serde::{Deserialize, Serialize};

use super::{FlowError, FlowErrorKind, OAuthFlow, StartForm};
use crate::credentials::ChannelCredentials;

/// Where each network's OAuth and API endpoints live. Defaults: the networks' own hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub facebook_graph: String,
    pub instagram_oauth: String,
    pub instagram_graph: String,
    pub threads_api: String,
    pub linkedin_oauth: String,
    pub linkedin_api: String,
    pub x_api: String,
}

impl Default for Endpoints {
    fn default() -> Self {
        Self {
            facebook_graph: facebook::DEFAULT_API.into(),
            instagram_oauth: instagram::INSTAGRAM_OAUTH.into(),
            instagram_graph: instagram::INSTAGRAM_GRAPH.into(),
            threads_api: threads::DEFAULT_API.into(),
            linkedin_oauth: linkedin::DEFAULT_OAUTH.into(),
            linkedin_api: linkedin::DEFAULT_API.into(),
            x_api: x::DEFAULT_API.into(),
        }
    }
}

impl Endpoints {
    /// Every network on one local server (contract tests).
    pub fn all_at(base: &str) -> Self {
        let b = base.trim_end_matches('/');
        Self {
            facebook_graph: b.into(),
            instagram_oauth: b.into(),
            instagram_graph: b.into(),
            threads_api: b.into(),
            linkedin_oauth: format!("{b}/oauth/v2"),
            linkedin_api: b.into(),
            x_api: b.into(),
        }
    }
}

/// What the callback needs, sealed with the state.
#[derive(Serialize, Deserialize)]
#[serde(tag = "network", rename_all = "snake_case")]
pub(crate) enum App {
    Mastodon {
        instance: String,
        client_id: String,
        client_secret: String,
    },
    Facebook {
        app_id: String,
        app_secret: String,
        page_id: Option<String>,
    },
    Instagram {
        app_id: String,
        app_secret: String,
    },
    Threads {
        app_id: String,
        app_secret: String,
    },
    #[serde(rename = "linkedin")]
    LinkedIn {
        client_id: String,
        client_secret: String,
        /// `None`: the member's profile; `Some("")`: any page they administer; else that URN.
        organization: Option<String>,
    },
    X {
        client_id: String,
        client_secret: String,
        verifier: String,
    },
}

/// Organization scopes plus the read of the member's page roles (`organizationAcls` needs
/// `r_organization_admin`).
const LINKEDIN_ORG_SCOPES: &str =
    "w_organization_social r_organization_social r_organization_admin";

/// The form's value, else the previous channel's.
fn or_old(given: &str, old: Option<&str>) -> String {
    match given.trim() {
        "" => old.unwrap_or_default().to_owned(),
        g => g.to_owned(),
    }
}

fn cfg(network: &str, e: ConfigError) -> FlowError {
    FlowError::field(network, e.field, e.message)
}

fn numeric_id(network: &str, v: &str) -> Result<(), FlowError> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FlowError::field(
            network,
            "client_id",
            "the numeric App ID shown in the App Dashboard (App settings → Basic, or Use cases → Threads → Settings)",
        ));
    }
    Ok(())
}

/// `https://host[:port]` from what the user typed (`mastodon.social` works too).
pub(crate) fn instance_url(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err(
            "type the address of your Mastodon instance, e.g. https://mastodon.social".into(),
        );
    }
    let full = if s.contains("://") {
        s.to_owned()
    } else {
        format!("https://{s}")
    };
    let u = url::Url::parse(&full).map_err(|_| format!("`{s}` is not a web address"))?;
    let plain =
        u.path().trim_end_matches('/').is_empty() && u.query().is_none() && u.username().is_empty();
    if !matches!(u.scheme(), "https" | "http") || u.host_str().is_none() || !plain {
        return Err(format!(
            "`{s}` is not an instance address: give only https://host, e.g. https://mastodon.social"
        ));
    }
    Ok(u.origin().ascii_serialization())
}

#[derive(Serialize, Deserialize)]
struct CachedApp {
    client_id: String,
    client_secret: String,
}

/// The app relais registered on `instance` (registered now on first use).
async fn mastodon_app(
    flow: &OAuthFlow,
    instance: &str,
    redirect: &str,
) -> Result<MastodonApp, FlowError> {
    let cached = flow
        .store
        .mastodon_app(&flow.ring, instance, redirect)
        .await
        .ok()
        .flatten()
        .and_then(|b| serde_json::from_slice::<CachedApp>(&b).ok());
    if let Some(c) = cached {
        return Ok(MastodonApp {
            client_id: c.client_id,
            client_secret: Secret::new(c.client_secret),
            redirect_uri: redirect.into(),
        });
    }
    let app = mastodon::register_app(
        &flow.net,
        instance,
        "relais",
        redirect,
        Some(&flow.public_url),
    )
    .await
    .map_err(|e| {
        FlowError::field(
            "mastodon",
            "instance",
            format!("this instance did not let relais register ({e}): check the address"),
        )
    })?;
    let bytes = serde_json::to_vec(&CachedApp {
        client_id: app.client_id.clone(),
        client_secret: app.client_secret.expose().into(),
    })
    .expect("app serializes");
    flow.store
        .save_mastodon_app(&flow.ring, instance, redirect, &bytes)
        .await
        .map_err(|e| FlowError::new("mastodon", FlowErrorKind::Store(e)))?;
    Ok(app)
}

/// Checks the form and builds the authorization URL.
pub(crate) async fn authorize(
    flow: &OAuthFlow,
    form: &StartForm,
    previous: Option<&ChannelCredentials>,
    redirect: &str,
    state: &str,
) -> Result<(App, String), FlowError> {
    let net = form.network.as_str();
    // The developer app: from the form, else from the channel being reconnected.
    let (old_id, old_secret) = match previous {
        Some(ChannelCredentials::Facebook(c)) => (Some(&c.app_id), Some(c.app_secret.expose())),
        Some(ChannelCredentials::Instagram(c)) => (Some(&c.app_id), Some(c.app_secret.expose())),
        Some(ChannelCredentials::Threads(c)) => (Some(&c.app_id), Some(c.app_secret.expose())),
        Some(ChannelCredentials::LinkedIn(c)) => {
            (Some(&c.client_id), Some(c.client_secret.expose()))
        }
        Some(ChannelCredentials::X(c)) => (Some(&c.client_id), Some(c.client_secret.expose())),
        _ => (None, None),
    };
    let id = or_old(&form.client_id, old_id.map(String::as_str));
    let secret = or_old(&form.client_secret, old_secret);
    let oapp = OAuthApp {
        client_id: id.clone(),
        client_secret: Secret::new(secret.clone()),
        redirect_uri: redirect.into(),
    };
    Ok(match net {
        "mastodon" => {
            let old = match previous {
                Some(ChannelCredentials::Mastodon { instance, .. }) => Some(instance.as_str()),
                _ => None,
            };
            let instance = instance_url(&or_old(&form.instance, old))
                .map_err(|m| FlowError::field(net, "instance", m))?;
            let app = mastodon_app(flow, &instance, redirect).await?;
            let url = mastodon::authorize_url(&instance, &app, state);
            let app = App::Mastodon {
                instance,
                client_id: app.client_id,
                client_secret: app.client_secret.expose().into(),
            };
            (app, url)
        }
        "facebook" => {
            numeric_id(net, &id)?;
            let old_page = match previous {
                Some(ChannelCredentials::Facebook(c)) => Some(c.page_id.as_str()),
                _ => None,
            };
            let page = or_old(&form.page_id, old_page);
            if !page.bytes().all(|b| b.is_ascii_digit()) {
                return Err(FlowError::field(
                    net,
                    "page_id",
                    "the numeric Page id (Page → About → Page transparency), or leave it empty to choose after signing in",
                ));
            }
            let url = facebook::authorize_url(&oapp, state, DEFAULT_GRAPH_VERSION)
                .map_err(|e| cfg(net, e))?;
            let app = App::Facebook {
                app_id: id,
                app_secret: secret,
                page_id: Some(page).filter(|p| !p.is_empty()),
            };
            (app, url)
        }
        "instagram" => {
            numeric_id(net, &id)?;
            let url = instagram::authorize_url(&oapp, state).map_err(|e| cfg(net, e))?;
            (
                App::Instagram {
                    app_id: id,
                    app_secret: secret,
                },
                url,
            )
        }
        "threads" => {
            numeric_id(net, &id)?;
            let url = threads::authorize_url(&oapp, state).map_err(|e| cfg(net, e))?;
            (
                App::Threads {
                    app_id: id,
                    app_secret: secret,
                },
                url,
            )
        }
        "linkedin" => {
            let old_org = match previous {
                Some(ChannelCredentials::LinkedIn(c))
                    if c.author.starts_with("urn:li:organization:") =>
                {
                    Some(c.author.clone())
                }
                Some(ChannelCredentials::LinkedIn(_)) => Some("member".to_owned()),
                _ => None,
            };
            let organization = match or_old(&form.organization, old_org.as_deref()).as_str() {
                "" | "member" => None,
                "organization" => Some(String::new()),
                urn if urn.starts_with("urn:li:organization:") => Some(urn.to_owned()),
                _ => {
                    return Err(FlowError::field(
                        net,
                        "organization",
                        "choose your profile or a page you administer",
                    ))
                }
            };
            let scopes = match organization {
                None => linkedin::MEMBER_SCOPES,
                Some(_) => LINKEDIN_ORG_SCOPES,
            };
            let url = linkedin::authorize_url(&flow.endpoints.linkedin_oauth, &oapp, state, scopes)
                .map_err(|e| cfg(net, e))?;
            let app = App::LinkedIn {
                client_id: id,
                client_secret: secret,
                organization,
            };
            (app, url)
        }
        "x" => {
            let pkce = Pkce::generate();
            let url = x::authorize_url(&oapp, state, &pkce).map_err(|e| cfg(net, e))?;
            let app = App::X {
                client_id: id,
                client_secret: secret,
                verifier: pkce.verifier.expose().into(),
            };
            (app, url)
        }
        _ => return Err(FlowError::field(net, "network", "not an OAuth network")),
    })
}

fn no_account(network: &str, m: impl Into<String>) -> FlowError {
    FlowError::new(network, FlowErrorKind::NoAccount(m.into()))
}

fn exchange_err(network: &str) -> impl Fn(PublishError) -> FlowError + '_ {
    move |e| FlowError::new(network, FlowErrorKind::Exchange(e))
}

/// Code → tokens → the accounts they reach, as (label, credentials).
pub(crate) async fn exchange(
    flow: &OAuthFlow,
    app: &App,
    redirect: &str,
    code: &str,
) -> Result<Vec<(String, ChannelCredentials)>, FlowError> {
    let net = &flow.net;
    let ep = &flow.endpoints;
    let oapp = |id: &str, secret: &str| OAuthApp {
        client_id: id.into(),
        client_secret: Secret::new(secret),
        redirect_uri: redirect.into(),
    };
    Ok(match app {
        App::Mastodon {
            instance,
            client_id,
            client_secret,
        } => {
            let mapp = MastodonApp {
                client_id: client_id.clone(),
                client_secret: Secret::new(client_secret),
                redirect_uri: redirect.into(),
            };
            let token = match mastodon::exchange_code(net, instance, &mapp, code).await {
                Ok(t) => t,
                Err(e) => {
                    if matches!(e, PublishError::Disconnect(_)) {
                        // The instance may have dropped relais' app: register again next time.
                        let _ = flow.store.forget_mastodon_app(instance, redirect).await;
                    }
                    return Err(exchange_err("mastodon")(e));
                }
            };
            let creds = ChannelCredentials::Mastodon {
                instance: instance.clone(),
                access_token: token.expose().into(),
            };
            vec![(instance.clone(), creds)]
        }
        App::Facebook {
            app_id,
            app_secret,
            page_id,
        } => {
            let v = DEFAULT_GRAPH_VERSION;
            let a = oapp(app_id, app_secret);
            let user = facebook::exchange_code(net, &ep.facebook_graph, v, &a, code)
                .await
                .map_err(exchange_err("facebook"))?;
            let pages = facebook::pages(net, &ep.facebook_graph, v, &user.access_token)
                .await
                .map_err(exchange_err("facebook"))?;
            let out: Vec<_> = pages
                .into_iter()
                .filter(|p| p.tasks.is_empty() || p.tasks.iter().any(|t| t == "CREATE_CONTENT"))
                .filter(|p| page_id.as_ref().is_none_or(|id| *id == p.id))
                .map(|p| {
                    let creds = ChannelCredentials::Facebook(FacebookCredentials {
                        app_id: app_id.clone(),
                        app_secret: Secret::new(app_secret),
                        page_id: p.id.clone(),
                        page_access_token: p.access_token,
                        api_base: ep.facebook_graph.clone(),
                        graph_version: v.into(),
                    });
                    (format!("{} ({})", p.name, p.id), creds)
                })
                .collect();
            if out.is_empty() {
                return Err(no_account(
                    "facebook",
                    match page_id {
                        Some(id) => format!("your account cannot publish on Page {id}, or did not grant relais access to it: connect again and select that Page"),
                        None => "your account manages no Page relais may publish on: connect again and select at least one Page".into(),
                    },
                ));
            }
            out
        }
        App::Instagram { app_id, app_secret } => {
            let (user_id, t) = instagram::exchange_code(
                net,
                &ep.instagram_oauth,
                &ep.instagram_graph,
                &oapp(app_id, app_secret),
                code,
            )
            .await
            .map_err(exchange_err("instagram"))?;
            if user_id.is_empty() {
                return Err(no_account(
                    "instagram",
                    "Instagram did not say which account signed in: connect again with a professional (business or creator) account",
                ));
            }
            let api_base = (ep.instagram_graph != instagram::INSTAGRAM_GRAPH)
                .then(|| ep.instagram_graph.clone());
            let creds = ChannelCredentials::Instagram(InstagramCredentials {
                app_id: app_id.clone(),
                app_secret: Secret::new(app_secret),
                ig_user_id: user_id.clone(),
                access_token: t.access_token,
                expires_at: t.expires_at,
                login: InstagramLogin::Instagram,
                api_base,
                graph_version: DEFAULT_GRAPH_VERSION.into(),
            });
            vec![(user_id, creds)]
        }
        App::Threads { app_id, app_secret } => {
            let (user_id, t) =
                threads::exchange_code(net, &ep.threads_api, &oapp(app_id, app_secret), code)
                    .await
                    .map_err(exchange_err("threads"))?;
            if user_id.is_empty() {
                return Err(no_account(
                    "threads",
                    "Threads did not say which account signed in: connect again",
                ));
            }
            let creds = ChannelCredentials::Threads(ThreadsCredentials {
                app_id: app_id.clone(),
                app_secret: Secret::new(app_secret),
                threads_user_id: user_id.clone(),
                access_token: t.access_token,
                expires_at: t.expires_at,
                api_base: ep.threads_api.clone(),
                api_version: threads::DEFAULT_VERSION.into(),
            });
            vec![(user_id, creds)]
        }
        App::LinkedIn {
            client_id,
            client_secret,
            organization,
        } => {
            let a = oapp(client_id, client_secret);
            let t = linkedin::exchange_code(net, &ep.linkedin_oauth, &a, code)
                .await
                .map_err(exchange_err("linkedin"))?;
            linkedin_accounts(flow, client_id, client_secret, t, organization.as_deref()).await?
        }
        App::X {
            client_id,
            client_secret,
            verifier,
        } => {
            let a = oapp(client_id, client_secret);
            let t = x::exchange_code(net, &ep.x_api, &a, code, &Secret::new(verifier))
                .await
                .map_err(exchange_err("x"))?;
            let creds = ChannelCredentials::X(XCredentials {
                client_id: client_id.clone(),
                client_secret: Secret::new(client_secret),
                user_id: None,
                tokens: t,
                api_base: ep.x_api.clone(),
            });
            vec![("X".into(), creds)]
        }
    })
}

/// The member's profile, or the pages they administer (all, or the one asked).
async fn linkedin_accounts(
    flow: &OAuthFlow,
    client_id: &str,
    client_secret: &str,
    tokens: OAuthTokens,
    organization: Option<&str>,
) -> Result<Vec<(String, ChannelCredentials)>, FlowError> {
    let ep = &flow.endpoints;
    let creds = |author: String, tokens: OAuthTokens| {
        ChannelCredentials::LinkedIn(LinkedInCredentials {
            client_id: client_id.into(),
            client_secret: Secret::new(client_secret),
            author,
            tokens,
            api_version: linkedin::DEFAULT_VERSION.into(),
            api_base: ep.linkedin_api.clone(),
            oauth_base: ep.linkedin_oauth.clone(),
        })
    };
    let Some(wanted) = organization else {
        let me = linkedin::userinfo(&flow.net, &ep.linkedin_api, &tokens.access_token)
            .await
            .map_err(exchange_err("linkedin"))?;
        let sub = me["sub"].as_str().unwrap_or_default();
        if sub.is_empty() {
            return Err(no_account(
                "linkedin",
                "LinkedIn did not say who signed in: add the product \"Sign In with LinkedIn using OpenID Connect\" to your app",
            ));
        }
        let name = me["name"].as_str().unwrap_or(sub).to_owned();
        return Ok(vec![(name, creds(format!("urn:li:person:{sub}"), tokens))]);
    };
    let probe = match creds("urn:li:organization:0".into(), tokens.clone()) {
        ChannelCredentials::LinkedIn(c) => LinkedIn::new(flow.net.clone(), c),
        _ => unreachable!("built as LinkedIn"),
    };
    let orgs = probe
        .organizations()
        .await
        .map_err(exchange_err("linkedin"))?;
    // Keep tokens renewed during the probe.
    let tokens = probe.tokens().await;
    let out: Vec<_> = orgs
        .into_iter()
        .filter(|o| wanted.is_empty() || o == wanted)
        .map(|o| (o.clone(), creds(o, tokens.clone())))
        .collect();
    if out.is_empty() {
        return Err(no_account(
            "linkedin",
            if wanted.is_empty() {
                "this LinkedIn member administers no page: ask a page administrator to give you the administrator role".to_owned()
            } else {
                format!("this LinkedIn member is not an administrator of {wanted}")
            },
        ));
    }
    Ok(out)
}
