//! Newsletter by SMTP: build and send ONE message to ONE recipient (the subscriber list and the
//! loop over it live with the caller). HTML + text alternative, RFC 8058 one-click unsubscribe
//! headers, and the recipient's own unsubscribe link in both bodies. Failures are classified
//! ([`SmtpFailure`]) so the caller can tell a hard bounce from "not sent" and "maybe sent".

use std::net::IpAddr;
use std::time::Duration;

use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::{PublishError, Secret};

/// How to talk to the SMTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Implicit TLS (port 465).
    Tls,
    /// STARTTLS, required (port 587).
    StartTls,
    /// Plain TCP: only for a relay on localhost or a test sink.
    Plain,
}

#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub timeout: Duration,
}

/// One newsletter issue for one recipient.
#[derive(Debug, Clone)]
pub struct NewsletterMessage {
    /// `Relais <news@example.org>`
    pub from: String,
    pub to: String,
    pub subject: String,
    pub html: String,
    pub text: String,
    /// This recipient's unsubscribe URL (one-click: a POST to it must unsubscribe). Replaces
    /// `{{unsubscribe_url}}` in the bodies, or is appended as a footer when absent.
    pub unsubscribe_url: String,
    /// Optional `List-Id` (`<news.example.org>`).
    pub list_id: Option<String>,
}

macro_rules! raw_header {
    ($ty:ident, $name:literal) => {
        #[derive(Debug, Clone)]
        struct $ty(String);
        impl Header for $ty {
            fn name() -> HeaderName {
                HeaderName::new_from_ascii_str($name)
            }
            fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
                Ok(Self(s.to_owned()))
            }
            fn display(&self) -> HeaderValue {
                HeaderValue::new(Self::name(), self.0.clone())
            }
        }
    };
}
raw_header!(ListUnsubscribe, "List-Unsubscribe");
raw_header!(ListUnsubscribePost, "List-Unsubscribe-Post");
raw_header!(ListId, "List-Id");

fn bad(m: impl std::fmt::Display) -> PublishError {
    PublishError::BadRequest(m.to_string())
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Build the message (pure; exposed for previews and tests).
pub fn build(m: &NewsletterMessage) -> Result<Message, PublishError> {
    let url =
        url::Url::parse(&m.unsubscribe_url).map_err(|e| bad(format!("unsubscribe URL: {e}")))?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(bad("the unsubscribe URL must be http(s)"));
    }
    const SLOT: &str = "{{unsubscribe_url}}";
    let html = if m.html.contains(SLOT) {
        m.html.replace(SLOT, &html_escape(url.as_str()))
    } else {
        format!(
            "{}\n<p style=\"font-size:small\"><a href=\"{}\">Unsubscribe</a></p>",
            m.html,
            html_escape(url.as_str())
        )
    };
    let text = if m.text.contains(SLOT) {
        m.text.replace(SLOT, url.as_str())
    } else {
        format!("{}\n\n--\nUnsubscribe: {}\n", m.text, url)
    };
    let mut b = Message::builder()
        .from(
            m.from
                .parse::<Mailbox>()
                .map_err(|e| bad(format!("from: {e}")))?,
        )
        .to(m
            .to
            .parse::<Mailbox>()
            .map_err(|e| bad(format!("to {}: {e}", m.to)))?)
        .subject(m.subject.clone())
        .message_id(None)
        .header(ListUnsubscribe(format!("<{url}>")))
        .header(ListUnsubscribePost("List-Unsubscribe=One-Click".into()));
    if let Some(id) = &m.list_id {
        b = b.header(ListId(id.clone()));
    }
    b.multipart(MultiPart::alternative_plain_html(text, html))
        .map_err(bad)
}

/// An SMTP sender (pooled connections; cheap to share).
pub struct Newsletter {
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

/// Why one message did not go out, precise enough to decide what to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// 5xx for this message (RCPT or DATA refused): a hard bounce.
    Rejected,
    /// 530/534/535: the server refuses our credentials.
    Auth,
    /// 4xx: refused for now; nothing was delivered.
    Deferred,
    /// No session could be opened (DNS, refused, TLS handshake): nothing was delivered.
    Unreachable,
    /// Timeout or connection lost during the session: the message may have been accepted.
    Unknown,
    /// The message could not be built (a bad address…).
    Invalid,
}

/// An SMTP failure: its kind, the server's reply code when there is one, and a message that
/// never contains the password.
#[derive(Debug, Clone)]
pub struct SmtpFailure {
    pub kind: FailureKind,
    pub code: Option<u16>,
    pub message: String,
}

impl std::fmt::Display for SmtpFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<SmtpFailure> for PublishError {
    fn from(e: SmtpFailure) -> Self {
        match e.kind {
            FailureKind::Auth => PublishError::Disconnect(e.message),
            FailureKind::Rejected | FailureKind::Invalid => PublishError::BadRequest(e.message),
            FailureKind::Deferred | FailureKind::Unreachable => PublishError::Transient(e.message),
            FailureKind::Unknown => PublishError::UnknownOutcome(e.message),
        }
    }
}

fn tls_params(host: &str) -> Result<TlsParameters, PublishError> {
    TlsParameters::new(host.to_owned())
        .map_err(|e| PublishError::Disconnect(format!("SMTP {host}: {e}")))
}

impl Newsletter {
    pub fn new(cfg: &SmtpConfig) -> Result<Self, PublishError> {
        Self::build_transport(cfg, &cfg.host)
    }

    /// Connects to `addr` (already resolved and checked by the caller) while TLS still
    /// verifies the certificate for `cfg.host`: the address checked is the address used.
    pub fn pinned(cfg: &SmtpConfig, addr: IpAddr) -> Result<Self, PublishError> {
        Self::build_transport(cfg, &addr.to_string())
    }

    fn build_transport(cfg: &SmtpConfig, server: &str) -> Result<Self, PublishError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(server);
        let builder = match cfg.security {
            SmtpSecurity::Tls => builder.tls(Tls::Wrapper(tls_params(&cfg.host)?)),
            SmtpSecurity::StartTls => builder.tls(Tls::Required(tls_params(&cfg.host)?)),
            SmtpSecurity::Plain => builder,
        };
        let mut builder = builder.port(cfg.port).timeout(Some(cfg.timeout));
        if let (Some(u), Some(p)) = (&cfg.username, &cfg.password) {
            builder = builder.credentials(Credentials::new(u.clone(), p.expose().to_owned()));
        }
        Ok(Self {
            transport: builder.build(),
        })
    }

    /// Send one message; returns its `Message-ID`.
    pub async fn send(&self, m: &NewsletterMessage) -> Result<String, PublishError> {
        Ok(self.deliver(m).await?)
    }

    /// Send one message, with the failure classified for bounce and retry handling.
    pub async fn deliver(&self, m: &NewsletterMessage) -> Result<String, SmtpFailure> {
        let msg = build(m).map_err(|e| SmtpFailure {
            kind: FailureKind::Invalid,
            code: None,
            message: e.to_string(),
        })?;
        let id = msg
            .headers()
            .get_raw("Message-ID")
            .unwrap_or_default()
            .to_owned();
        self.transport.send(msg).await.map_err(classify)?;
        Ok(id)
    }

    /// Opens a session (greeting, EHLO, TLS, AUTH) and closes it: proves the settings work.
    pub async fn check(&self) -> Result<(), SmtpFailure> {
        match self.transport.test_connection().await {
            Ok(true) => Ok(()),
            Ok(false) => Err(SmtpFailure {
                kind: FailureKind::Unreachable,
                code: None,
                message: "the SMTP server closed the session".into(),
            }),
            Err(e) => {
                let mut f = classify(e);
                // Nothing was sent while checking: a timeout means unreachable.
                if f.kind == FailureKind::Unknown {
                    f.kind = FailureKind::Unreachable;
                }
                Err(f)
            }
        }
    }
}

/// 5xx: refused for good (530/534/535 = credentials); 4xx: try later; no session at all:
/// unreachable; a timeout or a lost connection may hit after the server accepted the data, so
/// it is an unknown outcome.
fn classify(e: lettre::transport::smtp::Error) -> SmtpFailure {
    let code = e.status().and_then(|c| c.to_string().parse::<u16>().ok());
    let message = match code {
        Some(c) => format!("SMTP {c} {e}"),
        None => format!("SMTP {e}"),
    };
    let kind = if e.is_permanent() {
        match code {
            Some(530 | 534 | 535) => FailureKind::Auth,
            _ => FailureKind::Rejected,
        }
    } else if e.is_transient() {
        FailureKind::Deferred
    } else if e.is_tls() || e.to_string().starts_with("Connection error") {
        // lettre reports DNS, connect and handshake failures as `Connection`.
        FailureKind::Unreachable
    } else if e.is_client() {
        FailureKind::Invalid
    } else {
        FailureKind::Unknown
    };
    SmtpFailure {
        kind,
        code,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_headers_and_parts() {
        let m = NewsletterMessage {
            from: "Relais <news@example.org>".into(),
            to: "ana@example.org".into(),
            subject: "Issue 1".into(),
            html: "<p>Hi</p>".into(),
            text: "Hi {{unsubscribe_url}}".into(),
            unsubscribe_url: "https://example.org/u/abc?x=1&y=2".into(),
            list_id: Some("<news.example.org>".into()),
        };
        let raw = String::from_utf8(build(&m).unwrap().formatted()).unwrap();
        assert!(
            raw.contains("List-Unsubscribe: <https://example.org/u/abc?x=1&y=2>"),
            "{raw}"
        );
        assert!(raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
        assert!(raw.contains("multipart/alternative"));
        assert!(raw.contains("Hi https://example.org/u/abc?x=1&y=2"));
        assert!(build(&NewsletterMessage {
            to: "not an address".into(),
            ..m
        })
        .is_err());
    }

    #[tokio::test]
    async fn a_closed_port_is_unreachable_not_unknown() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        let n = Newsletter::pinned(
            &SmtpConfig {
                host: "localhost".into(),
                port,
                security: SmtpSecurity::Plain,
                username: None,
                password: None,
                timeout: Duration::from_secs(5),
            },
            "127.0.0.1".parse().unwrap(),
        )
        .unwrap();
        let e = n.check().await.unwrap_err();
        assert_eq!(e.kind, FailureKind::Unreachable, "{e}");
    }
}
