//! The workspace's SMTP server: the host is user-given, so it goes through the same SSRF policy
//! as every URL relais fetches (private addresses refused unless allow-listed in
//! `security.fetch_allow`). The name is resolved once, checked, and the connection is made to
//! that very address (TLS still verifies the certificate for the name): no DNS-rebinding gap.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::time::Duration;

use relais_net::SsrfPolicy;
use relais_publish::newsletter::{
    FailureKind, Newsletter, NewsletterMessage, SmtpConfig, SmtpFailure, SmtpSecurity,
};
use relais_publish::Secret;
use relais_store::newsletter::NewsletterSettings;

use crate::AppState;

/// Purpose the SMTP password is sealed for.
pub const PASSWORD_PURPOSE: &str = "newsletter.smtp_password";
/// How long resolving the host may take.
const DNS_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the host cannot be used.
#[derive(Debug)]
pub enum HostError {
    /// The name does not resolve (or not in time).
    Unresolved(String),
    /// Only private/local addresses, and none allow-listed.
    Refused(String),
}

/// Resolves `host` and returns the first address the policy permits.
pub async fn resolve(host: &str, port: u16, policy: &SsrfPolicy) -> Result<IpAddr, HostError> {
    let addrs: Vec<IpAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => {
            let found = tokio::time::timeout(DNS_TIMEOUT, tokio::net::lookup_host((host, port)))
                .await
                .map_err(|_| HostError::Unresolved(format!("{host}: DNS timed out")))?
                .map_err(|e| HostError::Unresolved(format!("{host}: {e}")))?;
            found.map(|a| a.ip()).collect()
        }
    };
    if addrs.is_empty() {
        return Err(HostError::Unresolved(format!("{host}: no address")));
    }
    addrs
        .iter()
        .copied()
        .find(|ip| policy.permits(*ip))
        .ok_or_else(|| HostError::Refused(format!("{host} resolves to {}", addrs[0])))
}

pub fn security_of(s: &str) -> Option<SmtpSecurity> {
    match s {
        "tls" => Some(SmtpSecurity::Tls),
        "starttls" => Some(SmtpSecurity::StartTls),
        "none" => Some(SmtpSecurity::Plain),
        _ => None,
    }
}

/// What the sender needs, in clear, for one connection.
pub struct Server {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<String>,
    pub timeout: Duration,
}

impl Server {
    /// The sender for this server at an address already checked by [`resolve`].
    pub fn sender(&self, addr: IpAddr) -> Result<Newsletter, SmtpFailure> {
        let cfg = SmtpConfig {
            host: self.host.clone(),
            port: self.port,
            security: self.security,
            username: self.username.clone(),
            password: self.password.as_deref().map(Secret::new),
            timeout: self.timeout,
        };
        Newsletter::pinned(&cfg, addr).map_err(|e| SmtpFailure {
            kind: FailureKind::Unreachable,
            code: None,
            message: e.to_string(),
        })
    }
}

/// Opens the workspace's stored settings (password unsealed) and resolves the host again:
/// DNS may have changed since the settings were saved.
pub async fn open(
    state: &AppState,
    s: &NewsletterSettings,
    timeout: Duration,
) -> Result<Newsletter, SmtpFailure> {
    let unreachable = |message: String| SmtpFailure {
        kind: FailureKind::Unreachable,
        code: None,
        message,
    };
    let password = match s.secret_id {
        Some(id) => {
            let raw = state
                .store
                .get_secret(&state.keyring, id)
                .await
                .map_err(|e| unreachable(format!("the SMTP password cannot be read: {e}")))?;
            Some(String::from_utf8_lossy(&raw).into_owned())
        }
        None => None,
    };
    let server = Server {
        host: s.host.clone(),
        port: s.port,
        security: security_of(&s.security)
            .ok_or_else(|| unreachable(format!("unknown SMTP security {:?}", s.security)))?,
        username: s.username.clone(),
        password,
        timeout,
    };
    let addr = resolve(&s.host, s.port, state.net.policy())
        .await
        .map_err(|e| match e {
            HostError::Unresolved(m) | HostError::Refused(m) => unreachable(m),
        })?;
    server.sender(addr)
}

/// Sends one message. A trait so the sending job can be run with a failure injected (tests).
pub trait Sender: Send + Sync {
    fn send<'a>(
        &'a self,
        m: &'a NewsletterMessage,
    ) -> Pin<Box<dyn Future<Output = Result<String, SmtpFailure>> + Send + 'a>>;
}

impl Sender for Newsletter {
    fn send<'a>(
        &'a self,
        m: &'a NewsletterMessage,
    ) -> Pin<Box<dyn Future<Output = Result<String, SmtpFailure>> + Send + 'a>> {
        Box::pin(self.deliver(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn private_hosts_need_the_allow_list() {
        let strict = SsrfPolicy::strict();
        assert!(matches!(
            resolve("127.0.0.1", 25, &strict).await,
            Err(HostError::Refused(_))
        ));
        assert!(matches!(
            resolve("10.1.2.3", 25, &strict).await,
            Err(HostError::Refused(_))
        ));
        let allow = SsrfPolicy::with_allow_list(["127.0.0.1/32"]).unwrap();
        assert_eq!(
            resolve("127.0.0.1", 25, &allow).await.unwrap(),
            "127.0.0.1".parse::<IpAddr>().unwrap()
        );
        assert!(matches!(
            resolve("localhost", 25, &strict).await,
            Err(HostError::Refused(_))
        ));
        assert!(matches!(
            resolve("no-such-host.invalid", 25, &strict).await,
            Err(HostError::Unresolved(_))
        ));
    }
}
