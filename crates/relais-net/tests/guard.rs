//! The guard against a real local server: loopback refused by default, allowed when
//! allow-listed; redirects to private addresses refused; oversize bodies stopped.

use std::time::Duration;

use axum::response::Redirect;
use axum::routing::get;
use axum::Router;
use relais_net::{Net, NetConfig, NetError, SsrfPolicy};

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn app() -> Router {
    Router::new()
        .route("/ok", get(|| async { "hello" }))
        .route("/big", get(|| async { "x".repeat(100_000) }))
        .route(
            "/to-private",
            get(|| async { Redirect::temporary("http://10.0.0.1/secret") }),
        )
        .route(
            "/to-metadata",
            get(|| async { Redirect::temporary("http://[::ffff:169.254.169.254]/latest") }),
        )
        .route(
            "/to-file",
            get(|| async { Redirect::temporary("file:///etc/passwd") }),
        )
        .route("/to-ok", get(|| async { Redirect::temporary("/ok") }))
        .route(
            "/hang",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(10)).await;
                "late"
            }),
        )
}

fn allowing_loopback() -> Net {
    Net::new(NetConfig {
        ssrf: SsrfPolicy::with_allow_list(["127.0.0.1/32"]).unwrap(),
        timeout: Duration::from_secs(2),
        ..NetConfig::default()
    })
    .unwrap()
}

#[tokio::test]
async fn loopback_refused_by_default() {
    let base = serve(app()).await;
    let net = Net::strict().unwrap();
    let err = net.fetch(net.get(&format!("{base}/ok"))).await.unwrap_err();
    assert_eq!(err.code(), "ssrf_blocked", "{err}");
    assert!(!err.maybe_sent());
    // By name: the resolver refuses the answer.
    let port = base.rsplit(':').next().unwrap();
    let err = net
        .fetch(net.get(&format!("http://localhost:{port}/ok")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "ssrf_blocked", "{err}");
    // Mapped and unspecified literals too.
    for u in [
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://[::1]/",
    ] {
        let err = net.fetch(net.get(u)).await.unwrap_err();
        assert_eq!(err.code(), "ssrf_blocked", "{u}: {err}");
    }
}

#[tokio::test]
async fn loopback_allowed_when_allow_listed() {
    let base = serve(app()).await;
    let net = allowing_loopback();
    let body = net.fetch(net.get(&format!("{base}/ok"))).await.unwrap();
    assert_eq!(&body[..], b"hello");
    let port = base.rsplit(':').next().unwrap();
    let body = net
        .fetch(net.get(&format!("http://localhost:{port}/to-ok")))
        .await
        .unwrap();
    assert_eq!(&body[..], b"hello");
}

#[tokio::test]
async fn redirect_to_private_refused() {
    let base = serve(app()).await;
    let net = allowing_loopback();
    for path in ["/to-private", "/to-metadata"] {
        let err = net
            .fetch(net.get(&format!("{base}{path}")))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "ssrf_blocked", "{path}: {err}");
    }
    // reqwest never follows a non-http(s) Location: the 3xx itself comes back.
    let err = net
        .fetch(net.get(&format!("{base}/to-file")))
        .await
        .unwrap_err();
    assert!(
        matches!(err, NetError::HttpStatus { status: 307, .. }) || err.code() == "ssrf_blocked",
        "{err}"
    );
}

#[tokio::test]
async fn redirect_loop_is_too_many_redirects() {
    let app = Router::new().route("/loop", get(|| async { Redirect::temporary("/loop") }));
    let base = serve(app).await;
    let err = allowing_loopback()
        .fetch(allowing_loopback().get(&format!("{base}/loop")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "too_many_redirects", "{err}");
}

#[tokio::test]
async fn non_http_schemes_refused() {
    let net = Net::strict().unwrap();
    let err = net.check("file:///etc/passwd").unwrap_err();
    assert_eq!(err.code(), "invalid_url");
    let err = net.check("gopher://example.com/").unwrap_err();
    assert_eq!(err.code(), "invalid_url");
    assert!(net.check("https://example.com/").is_ok());
}

#[tokio::test]
async fn oversize_body_stopped() {
    let base = serve(app()).await;
    let net = allowing_loopback();
    let resp = net.send(net.get(&format!("{base}/big"))).await.unwrap();
    let err = net.read_limited(resp, 1000).await.unwrap_err();
    assert!(matches!(err, NetError::TooLarge { limit: 1000 }), "{err}");
    assert_eq!(err.code(), "too_large");
    let resp = net.send(net.get(&format!("{base}/big"))).await.unwrap();
    assert_eq!(
        net.read_limited(resp, 100_000).await.unwrap().len(),
        100_000
    );
}

#[tokio::test]
async fn hang_times_out_as_maybe_sent() {
    let base = serve(app()).await;
    let net = Net::new(NetConfig {
        ssrf: SsrfPolicy::with_allow_list(["127.0.0.1/32"]).unwrap(),
        timeout: Duration::from_millis(300),
        ..NetConfig::default()
    })
    .unwrap();
    let err = net
        .fetch(net.get(&format!("{base}/hang")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "timeout", "{err}");
    assert!(err.maybe_sent());
}

#[tokio::test]
async fn refused_connection_is_connect() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let net = allowing_loopback();
    let err = net
        .fetch(net.get(&format!("http://{addr}/")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "connect", "{err}");
    assert!(!err.maybe_sent());
}
