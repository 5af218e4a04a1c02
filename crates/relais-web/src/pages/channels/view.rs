//! Page models of the channels pages: the list with each channel's health and the connect
//! forms, the step before leaving for the network, and the choice among accounts.

use askama::Template;
use relais_publisher::health::ChannelHealth;
use relais_store::channels::Channel;

use crate::service::channels::oauth::{Kind, OAuthNet};
use crate::view::{Base, Errs};

/// Fields of the token-pasting forms: (network, [(field, is secret)]).
pub type PasteForms = &'static [(&'static str, &'static [(&'static str, bool)])];

pub struct ChannelRow {
    pub ch: Channel,
    pub health: ChannelHealth,
    /// "Connect with" flow of its network, if any (reconnect with one click).
    pub oauth: Option<&'static OAuthNet>,
    /// Fields to paste again, for networks connected by token.
    pub paste: Option<&'static [(&'static str, bool)]>,
}

impl ChannelRow {
    /// Who the channel publishes as, as the network said when connecting.
    pub fn account(&self) -> Option<&str> {
        self.ch.config.get("account").and_then(|v| v.as_str())
    }
}

#[derive(Template)]
#[template(path = "channels.html")]
pub struct ChannelsPage {
    pub b: Base,
    pub errs: Errs,
    pub ws: i64,
    pub tz: String,
    pub rows: Vec<ChannelRow>,
    pub networks: PasteForms,
    pub oauth: &'static [OAuthNet],
    pub can_manage: bool,
    /// The form shown open with its errors: `paste-<net>`, `oauth-<net>` or `re-<channel id>`.
    pub open: String,
    pub public_url: String,
}

impl ChannelsPage {
    pub fn is_open(&self, form: &str) -> bool {
        self.open == form
    }
    /// Bluesky's PDS may stay empty (bsky.social).
    pub fn required(&self, field: &str) -> bool {
        field != "pds"
    }
    /// The message about `field` when `form` is the one that failed.
    pub fn err(&self, form: &str, field: &str) -> Option<&str> {
        if self.is_open(form) {
            self.errs.get(field)
        } else {
            None
        }
    }
    /// The message of the failed `form` that concerns none of `fields`.
    pub fn form_err(&self, form: &str, fields: &[&str]) -> Option<&str> {
        if !self.is_open(form) {
            return None;
        }
        match (self.errs.field, self.errs.msg.as_deref()) {
            (Some(f), Some(_)) if fields.contains(&f) => None,
            (_, m) => m,
        }
    }
    pub fn oauth_fields(n: &OAuthNet) -> Vec<&'static str> {
        let mut v: Vec<&str> = n.fields.iter().map(|f| f.name).collect();
        v.extend(["name", "redirect_uri"]);
        v
    }
    pub fn paste_fields(fields: &[(&'static str, bool)]) -> Vec<&'static str> {
        let mut v: Vec<&str> = fields.iter().map(|f| f.0).collect();
        v.push("name");
        v
    }
    /// A message no form claims (shown on top).
    pub fn page_err(&self) -> Option<&str> {
        if self.open.is_empty() {
            self.errs.msg.as_deref()
        } else {
            None
        }
    }
    /// The callback to register in the developer app.
    pub fn redirect_uri(&self, network: &str) -> String {
        relais_publisher::oauth_flow::redirect_uri(&self.public_url, network)
    }
    pub fn is_secret(k: &Kind) -> bool {
        *k == Kind::Secret
    }
    pub fn is_choice(k: &Kind) -> bool {
        *k == Kind::LinkedInAs
    }
    /// The message of a failed reconnect of channel row `form`.
    pub fn row_err(&self, form: &str) -> Option<&str> {
        self.form_err(form, &[])
    }
    /// "12 of 50 posts left in the last 24 hours".
    pub fn quota(&self, h: &ChannelHealth) -> Option<String> {
        let t = self.b.t;
        let (_, limit) = h.quota?;
        Some(
            t.t("oauth.quota")
                .replace("{left}", &t.number(h.quota_left().unwrap_or_default()))
                .replace("{limit}", &t.number(limit)),
        )
    }
    pub fn when(&self, ms: &i64) -> String {
        self.b.t.datetime(*ms, &self.tz)
    }
}

/// Before leaving for the network: where the browser goes and the callback to register.
#[derive(Template)]
#[template(path = "oauth_go.html")]
pub struct OAuthGoPage {
    pub b: Base,
    pub ws: i64,
    pub network: String,
    pub host: String,
    pub authorize_url: String,
    pub redirect_uri: String,
}

/// Several Pages / organizations: which one becomes the channel.
#[derive(Template)]
#[template(path = "oauth_pick.html")]
pub struct OAuthPickPage {
    pub b: Base,
    pub errs: Errs,
    pub ws: i64,
    pub network: String,
    pub token: String,
    pub choices: Vec<String>,
}
