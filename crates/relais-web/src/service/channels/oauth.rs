//! "Connect with <network>": the forms of the OAuth networks (Mastodon, and the networks that
//! need the user's own developer app), and the flow's errors in the user's language.

use relais_publisher::oauth_flow::{Endpoints, FlowErrorKind, OAuthFlow, StartForm};
use relais_publisher::ChannelError;

use crate::i18n::Tr;
use crate::view::Errs;
use crate::{AppError, AppState};

/// How a connect-form field is entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Secret,
    /// LinkedIn: post as the member or as a page they administer.
    LinkedInAs,
}

/// One field of a "Connect with" form: form name, label key, kind, required on a new channel.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: Kind,
    pub required: bool,
}

const fn f(name: &'static str, label: &'static str, kind: Kind, required: bool) -> Field {
    Field {
        name,
        label,
        kind,
        required,
    }
}

/// A network with a "Connect with" flow.
#[derive(Debug, Clone, Copy)]
pub struct OAuthNet {
    pub id: &'static str,
    /// Needs the user's own developer app (bring your own app).
    pub gated: bool,
    /// Where the user creates that app.
    pub console: &'static str,
    pub fields: &'static [Field],
}

impl OAuthNet {
    /// i18n key of the explanation shown under the network's name.
    pub fn help_key(&self) -> String {
        format!("oauth.help.{}", self.id)
    }
}

const META_APP: &[Field] = &[
    f("client_id", "oauth.app_id", Kind::Text, true),
    f("client_secret", "oauth.app_secret", Kind::Secret, true),
];

pub const OAUTH_NETS: &[OAuthNet] = &[
    OAuthNet {
        id: "mastodon",
        gated: false,
        console: "",
        fields: &[f("instance", "ch.instance", Kind::Text, true)],
    },
    OAuthNet {
        id: "facebook",
        gated: true,
        console: "https://developers.facebook.com/apps/",
        fields: &[
            f("client_id", "oauth.app_id", Kind::Text, true),
            f("client_secret", "oauth.app_secret", Kind::Secret, true),
            f("page_id", "oauth.page_id", Kind::Text, false),
        ],
    },
    OAuthNet {
        id: "instagram",
        gated: true,
        console: "https://developers.facebook.com/apps/",
        fields: META_APP,
    },
    OAuthNet {
        id: "threads",
        gated: true,
        console: "https://developers.facebook.com/apps/",
        fields: &[
            f("client_id", "oauth.threads_app_id", Kind::Text, true),
            f(
                "client_secret",
                "oauth.threads_app_secret",
                Kind::Secret,
                true,
            ),
        ],
    },
    OAuthNet {
        id: "linkedin",
        gated: true,
        console: "https://www.linkedin.com/developers/apps",
        fields: &[
            f("client_id", "oauth.client_id", Kind::Text, true),
            f("client_secret", "oauth.client_secret", Kind::Secret, true),
            f("organization", "oauth.linkedin_as", Kind::LinkedInAs, true),
        ],
    },
    OAuthNet {
        id: "x",
        gated: true,
        console: "https://developer.x.com/en/portal/dashboard",
        fields: &[
            f("client_id", "oauth.client_id", Kind::Text, true),
            f(
                "client_secret",
                "oauth.x_client_secret",
                Kind::Secret,
                false,
            ),
        ],
    },
];

pub fn oauth_net(id: &str) -> Option<&'static OAuthNet> {
    OAUTH_NETS.iter().find(|n| n.id == id)
}

/// The flow, on the networks' own hosts unless a test or gateway says otherwise.
pub fn flow(state: &AppState, endpoints: Option<Endpoints>) -> OAuthFlow {
    OAuthFlow::new(
        state.store.clone(),
        (*state.keyring).clone(),
        state.net.clone(),
        &state.cfg.public_url,
    )
    .with_endpoints(endpoints.unwrap_or_default())
}

/// The start form from the posted fields.
pub fn start_form(fields: &[(String, String)]) -> Result<StartForm, AppError> {
    let get = |k: &str| {
        fields
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let channel_id = match get("channel_id").as_str() {
        "" => None,
        v => Some(v.parse().map_err(|_| AppError::not_found())?),
    };
    Ok(StartForm {
        network: get("network"),
        name: get("name"),
        channel_id,
        instance: get("instance"),
        client_id: get("client_id"),
        client_secret: get("client_secret"),
        page_id: get("page_id"),
        organization: get("organization"),
    })
}

/// Field names of the forms (a message about any other goes on top of the form).
const FORM_FIELDS: &[&str] = &[
    "name",
    "instance",
    "client_id",
    "client_secret",
    "page_id",
    "organization",
    "redirect_uri",
    "choice",
];

/// A flow failure shown on the channels page, or an error page for what is not the user's to
/// fix there (permission, database).
pub fn flow_errs(t: Tr, kind: FlowErrorKind) -> Result<(u16, Errs), AppError> {
    let with = |key: &str, detail: Option<String>| match detail {
        Some(d) if !d.is_empty() => format!("{} ({d})", t.t(key)),
        _ => t.t(key).to_owned(),
    };
    let (status, field, msg) = match kind {
        FlowErrorKind::Field { field, message } => {
            let key = format!("oauth.err.{field}");
            let msg = match field {
                "name" => t.code(relais_domain::Code::Required, Some("name")),
                // The network's words help here (unreachable instance, not a Mastodon server).
                "instance" => with(&key, Some(message)),
                f if FORM_FIELDS.contains(&f) => t.t(&key).to_owned(),
                _ => with("oauth.err.form", Some(message)),
            };
            let field = FORM_FIELDS.iter().find(|f| **f == field).copied();
            (422, field, msg)
        }
        FlowErrorKind::UnknownState => (400, None, with("oauth.err.unknown_state", None)),
        FlowErrorKind::ExpiredState => (410, None, with("oauth.err.expired_state", None)),
        FlowErrorKind::Denied(d) => (400, None, with("oauth.err.denied", Some(d))),
        FlowErrorKind::Exchange(p) => (502, None, with("oauth.err.exchange", Some(p.to_string()))),
        FlowErrorKind::NoAccount(d) => (422, None, with("oauth.err.no_account", Some(d))),
        FlowErrorKind::Channel(ChannelError::Store(s)) | FlowErrorKind::Store(s) => {
            return Err(AppError::from(s))
        }
        FlowErrorKind::Channel(c) => (422, None, with("err.channel_refused", Some(c.to_string()))),
        FlowErrorKind::Forbidden => return Err(AppError::forbidden()),
    };
    Ok((
        status,
        Errs {
            field,
            msg: Some(msg),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use relais_domain::Lang;

    #[test]
    fn every_label_and_message_is_translated() {
        for lang in [Lang::En, Lang::Fr] {
            let t = Tr(lang);
            for n in OAUTH_NETS {
                let mut keys = vec![n.help_key(), format!("oauth.net.{}", n.id)];
                keys.extend(n.fields.iter().map(|f| f.label.to_string()));
                for k in keys {
                    assert!(!t.t(&k).starts_with('⟦'), "{k} ({lang:?})");
                }
                assert!(n.gated == n.console.starts_with("https://"), "{}", n.id);
            }
            for f in FORM_FIELDS.iter().filter(|f| **f != "name") {
                assert!(!t.t(&format!("oauth.err.{f}")).starts_with('⟦'), "{f}");
            }
        }
    }

    #[test]
    fn flow_errors_speak_the_users_language() {
        let (status, e) = flow_errs(Tr(Lang::Fr), FlowErrorKind::ExpiredState).unwrap();
        assert_eq!(status, 410);
        assert!(e.msg.unwrap().contains("a expiré"));
        let (status, e) = flow_errs(
            Tr(Lang::En),
            FlowErrorKind::Field {
                field: "instance",
                message: "connection refused".into(),
            },
        )
        .unwrap();
        assert_eq!((status, e.field), (422, Some("instance")));
        assert!(e.msg.unwrap().ends_with("(connection refused)"));
        assert!(flow_errs(Tr(Lang::En), FlowErrorKind::Forbidden).is_err());
    }
}
