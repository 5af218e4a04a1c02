//! Websocket client through the SSRF guard of relais-net.
//!
//! reqwest does not speak websockets, so the guard's rules are applied here the same way: the
//! name is resolved once, forbidden addresses are dropped from the answer, and the TCP connection
//! goes to one of the remaining addresses (no second lookup: no DNS-rebinding gap). TLS is rustls
//! with the ring provider and the webpki roots, as everywhere in relais. Redirects are not
//! followed (a websocket upgrade answers 101 or fails).

use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use relais_net::SsrfPolicy;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{header, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::WebSocketStream;
use url::{Host, Url};

use crate::error::{redact, ErrorCode, SourceError};

/// Any byte stream (plain TCP or TLS).
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

pub(crate) type Ws = WebSocketStream<Pin<Box<dyn Io>>>;

/// Limits of one websocket connection.
#[derive(Debug, Clone)]
pub(crate) struct WsOptions {
    /// Largest message (and frame) accepted; a bigger one ends the connection with `too_large`.
    pub max_message: usize,
    /// DNS + TCP + TLS + upgrade.
    pub connect_timeout: Duration,
    /// Extra request headers (`Authorization`).
    pub headers: Vec<(header::HeaderName, String)>,
}

fn tls_config() -> Arc<rustls::ClientConfig> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("ring supports the default TLS versions")
                .with_root_certificates(roots)
                .with_no_client_auth();
            // Websocket upgrades are HTTP/1.1.
            cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
            Arc::new(cfg)
        })
        .clone()
}

/// Check a websocket URL (`ws`/`wss`) without connecting: scheme, host, IP-literal guard.
pub(crate) fn check_url(policy: &SsrfPolicy, url: &Url) -> Result<(), SourceError> {
    if !matches!(url.scheme(), "ws" | "wss") {
        return Err(SourceError::config(format!(
            "{}: the scheme must be ws or wss",
            redact(url)
        )));
    }
    match url.host() {
        None => Err(SourceError::config(format!("{}: no host", redact(url)))),
        Some(Host::Domain(_)) => Ok(()),
        Some(Host::Ipv4(v4)) => ip_allowed(policy, v4.into()),
        Some(Host::Ipv6(v6)) => ip_allowed(policy, v6.into()),
    }
}

fn ip_allowed(policy: &SsrfPolicy, ip: IpAddr) -> Result<(), SourceError> {
    if policy.permits(ip) {
        Ok(())
    } else {
        Err(SourceError::new(
            ErrorCode::SsrfBlocked,
            format!("{ip} is not a public address (allow-list it to reach it)"),
        ))
    }
}

/// The addresses of `url` the guard permits, in resolver order.
async fn resolve(policy: &SsrfPolicy, url: &Url) -> Result<Vec<SocketAddr>, SourceError> {
    check_url(policy, url)?;
    let port = url.port_or_known_default().unwrap_or(443);
    let host = match url.host() {
        Some(Host::Ipv4(v4)) => return Ok(vec![SocketAddr::new(v4.into(), port)]),
        Some(Host::Ipv6(v6)) => return Ok(vec![SocketAddr::new(v6.into(), port)]),
        Some(Host::Domain(d)) => d.to_owned(),
        None => unreachable!("checked above"),
    };
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|e| SourceError::new(ErrorCode::Connect, format!("{host}: {e}")))?
        .collect();
    let allowed: Vec<SocketAddr> = addrs
        .iter()
        .copied()
        .filter(|a| policy.permits(a.ip()))
        .collect();
    if allowed.is_empty() {
        let why = match addrs.first() {
            Some(a) => format!("{host} resolves to {}, not a public address", a.ip()),
            None => format!("{host} resolves to no address"),
        };
        return Err(SourceError::new(ErrorCode::SsrfBlocked, why));
    }
    Ok(allowed)
}

async fn tcp(addrs: &[SocketAddr]) -> Result<TcpStream, SourceError> {
    let mut last = None;
    for a in addrs {
        match TcpStream::connect(a).await {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => last = Some(format!("{a}: {e}")),
        }
    }
    Err(SourceError::new(
        ErrorCode::Connect,
        last.unwrap_or_else(|| "no address".into()),
    ))
}

async fn open(policy: &SsrfPolicy, url: &Url, opts: &WsOptions) -> Result<Ws, SourceError> {
    let addrs = resolve(policy, url).await?;
    let tcp = tcp(&addrs).await?;
    let stream: Pin<Box<dyn Io>> = if url.scheme() == "wss" {
        let host = url.host_str().unwrap_or_default();
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let name = rustls::pki_types::ServerName::try_from(host.to_owned())
            .map_err(|e| SourceError::config(format!("{host}: {e}")))?;
        let tls = tokio_rustls::TlsConnector::from(tls_config())
            .connect(name, tcp)
            .await
            .map_err(|e| SourceError::new(ErrorCode::Connect, format!("TLS: {e}")))?;
        Box::pin(tls)
    } else {
        Box::pin(tcp)
    };
    let mut req = url
        .as_str()
        .into_client_request()
        .map_err(|e| SourceError::config(format!("{}: {e}", redact(url))))?;
    let h = req.headers_mut();
    h.insert(
        header::USER_AGENT,
        HeaderValue::from_static(relais_net::USER_AGENT),
    );
    for (name, value) in &opts.headers {
        let v = HeaderValue::from_str(value)
            .map_err(|_| SourceError::config(format!("header {name}: not a valid value")))?;
        h.insert(name.clone(), v);
    }
    let cfg = WebSocketConfig::default()
        .max_message_size(Some(opts.max_message))
        .max_frame_size(Some(opts.max_message));
    let (ws, _resp) = tokio_tungstenite::client_async_with_config(req, stream, Some(cfg))
        .await
        .map_err(ws_error)?;
    Ok(ws)
}

/// Connect within `opts.connect_timeout`.
pub(crate) async fn connect(
    policy: &SsrfPolicy,
    url: &Url,
    opts: &WsOptions,
) -> Result<Ws, SourceError> {
    match tokio::time::timeout(opts.connect_timeout, open(policy, url, opts)).await {
        Ok(r) => r,
        Err(_) => Err(SourceError::new(
            ErrorCode::Timeout,
            format!(
                "{}: no websocket within {:?}",
                redact(url),
                opts.connect_timeout
            ),
        )),
    }
}

/// Classify a websocket error.
pub(crate) fn ws_error(e: WsError) -> SourceError {
    match e {
        WsError::Http(resp) => {
            let status = resp.status().as_u16();
            let body = resp
                .body()
                .as_deref()
                .map(|b| relais_net::snippet(&b[..b.len().min(300)]))
                .unwrap_or_default();
            SourceError::http(
                status,
                format!("websocket upgrade refused: HTTP {status} {}", body.trim()),
            )
        }
        WsError::Capacity(c) => SourceError::new(ErrorCode::TooLarge, c.to_string()),
        WsError::ConnectionClosed | WsError::AlreadyClosed => {
            SourceError::new(ErrorCode::Closed, "the server closed the connection")
        }
        WsError::Io(io) => SourceError::new(ErrorCode::Closed, format!("connection lost: {io}")),
        WsError::Tls(t) => SourceError::new(ErrorCode::Connect, format!("TLS: {t}")),
        WsError::Url(u) => SourceError::config(u.to_string()),
        other => SourceError::new(ErrorCode::Closed, other.to_string()),
    }
}

/// Turn `https://host/path` into `wss://host/path` (and http → ws); other schemes unchanged.
pub(crate) fn to_ws_scheme(url: &mut Url) {
    let s = match url.scheme() {
        "https" => "wss",
        "http" => "ws",
        _ => return,
    };
    // Both are special schemes: set_scheme only refuses special ↔ non-special changes.
    let _ = url.set_scheme(s);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn guard_refuses_private_addresses() {
        let strict = SsrfPolicy::strict();
        for u in [
            "ws://127.0.0.1:9/x",
            "wss://[::1]/x",
            "ws://169.254.169.254/",
            "ws://10.0.0.1/",
        ] {
            let e = resolve(&strict, &Url::parse(u).unwrap()).await.unwrap_err();
            assert_eq!(e.code, ErrorCode::SsrfBlocked, "{u}: {e}");
        }
        let e = resolve(&strict, &Url::parse("ws://localhost:9/").unwrap())
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::SsrfBlocked, "{e}");
        let e = check_url(&strict, &Url::parse("https://example.org/").unwrap()).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidConfig);
        let lo = SsrfPolicy::with_allow_list(["127.0.0.1/32"]).unwrap();
        let a = resolve(&lo, &Url::parse("ws://localhost:9/").unwrap())
            .await
            .unwrap();
        assert!(
            a.iter().all(|a| a.ip().is_loopback() && a.is_ipv4()),
            "{a:?}"
        );
    }

    #[test]
    fn scheme_mapping() {
        let mut u = Url::parse("https://bsky.network/xrpc").unwrap();
        to_ws_scheme(&mut u);
        assert_eq!(u.as_str(), "wss://bsky.network/xrpc");
        let mut u = Url::parse("http://127.0.0.1:2583").unwrap();
        to_ws_scheme(&mut u);
        assert_eq!(u.as_str(), "ws://127.0.0.1:2583/");
    }
}
