//! The client factory: reqwest + rustls/ring, timeouts, user agent, SSRF guard, size limits.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::{Method, RequestBuilder, Response};
use url::{Host, Url};

use crate::error::{Blocked, TOO_MANY_REDIRECTS};
use crate::{NetError, SsrfPolicy};

/// `relais/<version>`, sent on every request.
pub const USER_AGENT: &str = concat!("relais/", env!("CARGO_PKG_VERSION"));

/// Settings for [`Net::new`].
#[derive(Debug, Clone)]
pub struct NetConfig {
    /// Whole-request deadline (connect + send + headers + body).
    pub timeout: Duration,
    /// Deadline for DNS + TCP + TLS.
    pub connect_timeout: Duration,
    /// Redirect hops followed (each one checked by the guard); 0 returns the 3xx response.
    pub max_redirects: usize,
    /// Default cap for [`Net::read_limited`] callers that have no better idea.
    pub max_body: u64,
    pub ssrf: SsrfPolicy,
}

impl Default for NetConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_redirects: 5,
            max_body: 10 * 1024 * 1024,
            ssrf: SsrfPolicy::strict(),
        }
    }
}

/// Resolver that drops forbidden addresses from every DNS answer and fails when none is left.
/// Resolving and connecting to the same answer closes the DNS-rebinding gap of "check then fetch".
#[derive(Clone)]
struct GuardedResolver {
    policy: Arc<SsrfPolicy>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)?
                .collect();
            let mut refused = None;
            let allowed: Vec<SocketAddr> = addrs
                .into_iter()
                .filter(|a| match policy.check(a.ip()) {
                    Ok(()) => true,
                    Err(e) => {
                        refused = Some(e);
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                let why = refused.unwrap_or_else(|| "no address".into());
                return Err(Box::new(Blocked(format!("{host} resolves to {why}"))) as _);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// Scheme and IP-literal check for a URL (hostnames are checked by the resolver).
fn check_url(policy: &SsrfPolicy, url: &Url) -> Result<(), String> {
    match url.scheme() {
        "http" | "https" => {}
        s => return Err(format!("scheme {s}: is not allowed")),
    }
    let ip: Option<IpAddr> = match url.host() {
        Some(Host::Ipv4(v4)) => Some(v4.into()),
        Some(Host::Ipv6(v6)) => Some(v6.into()),
        Some(Host::Domain(_)) => None,
        None => return Err("url without host".into()),
    };
    match ip {
        Some(ip) => policy.check(ip),
        None => Ok(()),
    }
}

/// The outbound HTTP client every server-side fetch of relais goes through. Cheap to clone.
#[derive(Clone)]
pub struct Net {
    client: reqwest::Client,
    policy: Arc<SsrfPolicy>,
    timeout: Duration,
    max_body: u64,
}

impl std::fmt::Debug for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Net").field("policy", &self.policy).finish()
    }
}

impl Net {
    /// Build a client. Installs rustls' ring provider as the process default if none is.
    pub fn new(cfg: NetConfig) -> Result<Net, NetError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let policy = Arc::new(cfg.ssrf);
        let redirect_policy = policy.clone();
        let max_redirects = cfg.max_redirects;
        let redirect = reqwest::redirect::Policy::custom(move |attempt| {
            // 0 = hand the 3xx back to the caller (link checks show each hop themselves).
            if max_redirects == 0 {
                return attempt.stop();
            }
            if attempt.previous().len() > max_redirects {
                return attempt.error(Blocked(TOO_MANY_REDIRECTS.into()));
            }
            match check_url(&redirect_policy, attempt.url()) {
                Ok(()) => attempt.follow(),
                Err(e) => {
                    let msg = format!("redirect to {}: {e}", attempt.url());
                    attempt.error(Blocked(msg))
                }
            }
        });
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .user_agent(USER_AGENT)
            .timeout(cfg.timeout)
            .connect_timeout(cfg.connect_timeout)
            .redirect(redirect)
            // A proxy would resolve names itself and bypass the guard.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver {
                policy: policy.clone(),
            }))
            .build()
            .map_err(|e| NetError::Config(e.to_string()))?;
        Ok(Net {
            client,
            policy,
            timeout: cfg.timeout,
            max_body: cfg.max_body,
        })
    }

    /// Default settings and a strict guard.
    pub fn strict() -> Result<Net, NetError> {
        Net::new(NetConfig::default())
    }

    /// The guard in use.
    pub fn policy(&self) -> &SsrfPolicy {
        &self.policy
    }

    /// The configured body cap.
    pub fn max_body(&self) -> u64 {
        self.max_body
    }

    /// Start a request. Send it with [`Net::send`] (not `RequestBuilder::send`) so that the
    /// URL is checked and errors are classified.
    pub fn request(&self, method: Method, url: &str) -> RequestBuilder {
        self.client.request(method, url)
    }

    pub fn get(&self, url: &str) -> RequestBuilder {
        self.request(Method::GET, url)
    }

    pub fn post(&self, url: &str) -> RequestBuilder {
        self.request(Method::POST, url)
    }

    pub fn put(&self, url: &str) -> RequestBuilder {
        self.request(Method::PUT, url)
    }

    /// Validate a URL the way `send` would, without sending (e.g. when a user saves a webhook).
    pub fn check(&self, url: &str) -> Result<Url, NetError> {
        let u = Url::parse(url).map_err(|e| NetError::InvalidUrl(format!("{url}: {e}")))?;
        check_url(&self.policy, &u).map_err(|e| {
            if e.starts_with("scheme") || e.starts_with("url without") {
                NetError::InvalidUrl(e)
            } else {
                NetError::SsrfBlocked(e)
            }
        })?;
        Ok(u)
    }

    /// Send a request: check scheme and IP literal, then execute. Any status is `Ok`.
    pub async fn send(&self, rb: RequestBuilder) -> Result<Response, NetError> {
        let req = rb
            .build()
            .map_err(|e| NetError::InvalidUrl(e.to_string()))?;
        self.check(req.url().as_str())?;
        self.client
            .execute(req)
            .await
            .map_err(|e| NetError::from_reqwest(e, self.timeout))
    }

    /// Read a body, stopping with `TooLarge` as soon as it passes `limit` bytes.
    pub async fn read_limited(&self, resp: Response, limit: u64) -> Result<Bytes, NetError> {
        read_limited(resp, limit, self.timeout).await
    }

    /// `send`, fail on a non-2xx status, read the body within `max_body`.
    pub async fn fetch(&self, rb: RequestBuilder) -> Result<Bytes, NetError> {
        let resp = self.send(rb).await?;
        let status = resp.status();
        let body = self.read_limited(resp, self.max_body).await?;
        if !status.is_success() {
            return Err(NetError::HttpStatus {
                status: status.as_u16(),
                body: snippet(&body),
            });
        }
        Ok(body)
    }
}

/// The start of a body, for error messages.
pub fn snippet(body: &[u8]) -> String {
    let s = String::from_utf8_lossy(body);
    let mut out: String = s.chars().take(500).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

/// Stream a response body and stop past `limit` bytes (Content-Length is checked first).
pub async fn read_limited(
    mut resp: Response,
    limit: u64,
    timeout: Duration,
) -> Result<Bytes, NetError> {
    if resp.content_length().is_some_and(|n| n > limit) {
        return Err(NetError::TooLarge { limit });
    }
    let mut buf = BytesMut::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| NetError::from_reqwest(e, timeout))?
    {
        if buf.len() as u64 + chunk.len() as u64 > limit {
            return Err(NetError::TooLarge { limit });
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}
