//! Newsletter by SMTP: build and send ONE message to ONE recipient (the subscriber list and the
//! loop over it live with the caller). HTML + text alternative, RFC 8058 one-click unsubscribe
//! headers, and the recipient's own unsubscribe link in both bodies.

use std::time::Duration;

use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
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

impl Newsletter {
    pub fn new(cfg: &SmtpConfig) -> Result<Self, PublishError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let builder = match cfg.security {
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&cfg.host),
            SmtpSecurity::StartTls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&cfg.host)
            }
            SmtpSecurity::Plain => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
                &cfg.host,
            )),
        }
        .map_err(|e| PublishError::Disconnect(format!("SMTP {}: {e}", cfg.host)))?;
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
        let msg = build(m)?;
        let id = msg
            .headers()
            .get_raw("Message-ID")
            .unwrap_or_default()
            .to_owned();
        self.transport.send(msg).await.map_err(classify)?;
        Ok(id)
    }
}

/// 5xx: refused for good (535/530 = credentials: reconnect); 4xx: try later; a timeout may hit
/// after the server accepted the data, so it is an unknown outcome.
fn classify(e: lettre::transport::smtp::Error) -> PublishError {
    let code = e.status().map(|c| c.to_string()).unwrap_or_default();
    let msg = format!("SMTP {code} {e}");
    if e.is_permanent() {
        if code == "535" || code == "530" || code == "534" {
            return PublishError::Disconnect(msg);
        }
        return PublishError::BadRequest(msg);
    }
    if e.is_timeout() {
        return PublishError::UnknownOutcome(msg);
    }
    PublishError::Transient(msg)
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
}
