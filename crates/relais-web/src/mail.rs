//! Outgoing email for accounts (invitations, password resets). Without SMTP settings the
//! message — and so its link — is written to the log, and the UI says so.

use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    #[serde(default = "default_port")]
    pub port: u16,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// `none` (plain, for local relays), `starttls` or `tls`.
    #[serde(default = "default_security")]
    pub security: String,
    pub from: String,
}

fn default_port() -> u16 {
    587
}
fn default_security() -> String {
    "starttls".into()
}

pub enum Mailer {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
    Log,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid SMTP settings: {0}")]
    Config(String),
    #[error("could not send the email: {0}")]
    Send(String),
}

impl Mailer {
    pub fn from_settings(s: Option<&SmtpSettings>) -> Result<Mailer, MailError> {
        let Some(s) = s.filter(|s| !s.host.is_empty()) else {
            return Ok(Mailer::Log);
        };
        let from: Mailbox = s
            .from
            .parse()
            .map_err(|e| MailError::Config(format!("smtp.from {:?}: {e}", s.from)))?;
        let builder = match s.security.as_str() {
            "none" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host),
            "starttls" | "tls" => {
                let params = TlsParameters::new(s.host.clone())
                    .map_err(|e| MailError::Config(e.to_string()))?;
                let tls = if s.security == "tls" {
                    Tls::Wrapper(params)
                } else {
                    Tls::Required(params)
                };
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host).tls(tls)
            }
            other => {
                return Err(MailError::Config(format!(
                    "smtp.security {other:?}: use none, starttls or tls"
                )))
            }
        };
        let mut builder = builder
            .port(s.port)
            .timeout(Some(std::time::Duration::from_secs(20)));
        if let (Some(u), Some(p)) = (&s.username, &s.password) {
            builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
        }
        Ok(Mailer::Smtp {
            transport: builder.build(),
            from,
        })
    }

    pub fn is_configured(&self) -> bool {
        matches!(self, Mailer::Smtp { .. })
    }

    pub async fn send(&self, to: &str, subject: &str, text: &str) -> Result<(), MailError> {
        match self {
            Mailer::Log => {
                tracing::warn!(
                    to,
                    subject,
                    body = text,
                    "no SMTP configured: email written to the log instead of sent"
                );
                Ok(())
            }
            Mailer::Smtp { transport, from } => {
                let to: Mailbox = to
                    .parse()
                    .map_err(|e| MailError::Send(format!("recipient: {e}")))?;
                let msg = Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(subject)
                    .header(ContentType::TEXT_PLAIN)
                    .body(text.to_string())
                    .map_err(|e| MailError::Send(e.to_string()))?;
                transport
                    .send(msg)
                    .await
                    .map_err(|e| MailError::Send(e.to_string()))?;
                Ok(())
            }
        }
    }
}
