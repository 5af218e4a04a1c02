//! Fetching from a local server: conditional GET, hostile bodies, concurrency, SSRF.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, HeaderMap, Response, StatusCode};
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use futures::stream;
use relais_feeds::{
    fetch, fetch_with, ErrorCode, FeedState, FetchOptions, FetchOutcome, PollPolicy,
};
use relais_net::{Net, NetConfig, SsrfPolicy};

const RSS_FR: &str = include_str!("fixtures/rss2_fr.xml");
const ATOM_EN: &str = include_str!("fixtures/atom_en.xml");
const JSON_FEED: &str = include_str!("fixtures/feed.json");
const LAUGHS: &str = include_str!("fixtures/billion_laughs.xml");

const ETAG: &str = "\"v1-brulerie\"";
const LAST_MOD: &str = "Tue, 17 Nov 2026 08:30:00 GMT";
const HUGE: u64 = 200 * 1024 * 1024;

#[derive(Default)]
struct Counters {
    huge_sent: AtomicU64,
    flaky_calls: AtomicUsize,
}

fn respond(status: StatusCode, ct: &str, body: impl Into<Body>) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, ct)
        .body(body.into())
        .unwrap()
}

/// 200 MB, produced lazily in 64 KiB chunks; `sent` counts what the server produced.
fn huge_stream(sent: Arc<Counters>) -> Body {
    let chunk = Bytes::from(vec![b' '; 64 * 1024]);
    let head = Bytes::from_static(b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>");
    let s = stream::unfold(0u64, move |n| {
        let (chunk, head, sent) = (chunk.clone(), head.clone(), sent.clone());
        async move {
            if n >= HUGE {
                return None;
            }
            let c = if n == 0 { head } else { chunk };
            sent.huge_sent.fetch_add(c.len() as u64, Ordering::Relaxed);
            Some((Ok::<_, Infallible>(c.clone()), n + c.len() as u64))
        }
    });
    Body::from_stream(s)
}

/// A feed that starts, then sends one byte every 100 ms, forever.
fn trickle() -> Body {
    let s = stream::unfold(0u64, |n| async move {
        if n > 0 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let b = if n == 0 {
            Bytes::from_static(b"<rss version=\"2.0\"><channel><title>")
        } else {
            Bytes::from_static(b"a")
        };
        Some((Ok::<_, Infallible>(b), n + 1))
    });
    Body::from_stream(s)
}

fn gzipped(data: &[u8]) -> Response<Body> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).unwrap();
    let mut r = respond(StatusCode::OK, "application/rss+xml", enc.finish().unwrap());
    r.headers_mut()
        .insert(header::CONTENT_ENCODING, "gzip".parse().unwrap());
    r
}

fn app(c: Arc<Counters>) -> Router {
    let (c1, c2, c3) = (c.clone(), c.clone(), c.clone());
    Router::new()
        .route(
            "/rss",
            get(|h: HeaderMap| async move {
                let inm = h.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok());
                let status = if inm == Some(ETAG) {
                    StatusCode::NOT_MODIFIED
                } else {
                    StatusCode::OK
                };
                let body = if status == StatusCode::OK { RSS_FR } else { "" };
                Response::builder()
                    .status(status)
                    .header(header::CONTENT_TYPE, "application/rss+xml; charset=UTF-8")
                    .header(header::ETAG, ETAG)
                    .header(header::CACHE_CONTROL, "public, max-age=7200")
                    .body(Body::from(body))
                    .unwrap()
            }),
        )
        .route(
            "/lastmod",
            get(|h: HeaderMap| async move {
                let ims = h.get(header::IF_MODIFIED_SINCE).and_then(|v| v.to_str().ok());
                if ims == Some(LAST_MOD) {
                    return respond(StatusCode::NOT_MODIFIED, "application/atom+xml", "");
                }
                let mut r = respond(StatusCode::OK, "application/atom+xml", ATOM_EN);
                r.headers_mut()
                    .insert(header::LAST_MODIFIED, LAST_MOD.parse().unwrap());
                r
            }),
        )
        .route(
            "/atom",
            get(|| async { respond(StatusCode::OK, "application/atom+xml", ATOM_EN) }),
        )
        .route(
            "/json",
            get(|| async { respond(StatusCode::OK, "application/feed+json", JSON_FEED) }),
        )
        .route(
            "/laughs",
            get(|| async { respond(StatusCode::OK, "application/rss+xml", LAUGHS) }),
        )
        .route(
            "/huge",
            get(move || async move { respond(StatusCode::OK, "application/rss+xml", huge_stream(c1)) }),
        )
        .route(
            "/huge-declared",
            get(move || async move {
                let mut r = respond(StatusCode::OK, "application/rss+xml", huge_stream(c2));
                r.headers_mut()
                    .insert(header::CONTENT_LENGTH, HUGE.to_string().parse().unwrap());
                r
            }),
        )
        .route(
            "/trickle",
            get(|| async { respond(StatusCode::OK, "application/rss+xml", trickle()) }),
        )
        .route(
            "/truncated",
            get(|| async {
                respond(StatusCode::OK, "application/rss+xml", &RSS_FR[..RSS_FR.len() / 2])
            }),
        )
        .route(
            "/latin1-says-utf8",
            get(|| async {
                let body: Vec<u8> = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\">\
                    <channel><title>Caf\u{e9}</title><item><guid>1</guid><title>Cr\u{e8}me</title>\
                    </item></channel></rss>"
                    .chars()
                    .map(|c| c as u32 as u8)
                    .collect();
                respond(StatusCode::OK, "text/xml", body)
            }),
        )
        .route(
            "/flaky",
            get(move || async move {
                if c3.flaky_calls.fetch_add(1, Ordering::SeqCst) == 0 {
                    respond(StatusCode::INTERNAL_SERVER_ERROR, "text/plain", "database is down")
                } else {
                    respond(StatusCode::OK, "application/rss+xml", RSS_FR)
                }
            }),
        )
        .route(
            "/limited",
            get(|| async {
                let mut r = respond(StatusCode::TOO_MANY_REQUESTS, "text/plain", "slow down");
                r.headers_mut()
                    .insert(header::RETRY_AFTER, "5400".parse().unwrap());
                r
            }),
        )
        .route(
            "/unavailable",
            get(|| async { respond(StatusCode::SERVICE_UNAVAILABLE, "text/plain", "maintenance") }),
        )
        .route(
            "/page",
            get(|| async {
                respond(
                    StatusCode::OK,
                    "text/html",
                    "<!DOCTYPE html><html><head><link rel=\"alternate\" \
                     type=\"application/rss+xml\" href=\"/rss\"></head><body>Blog</body></html>",
                )
            }),
        )
        .route("/gzip", get(|| async { gzipped(RSS_FR.as_bytes()) }))
        .route(
            "/gzip-bomb",
            get(|| async { gzipped(&vec![b' '; 40 * 1024 * 1024]) }),
        )
        .route(
            "/empty",
            get(|| async { respond(StatusCode::OK, "application/rss+xml", "") }),
        )
        .route(
            "/to-private",
            get(|| async {
                Response::builder()
                    .status(StatusCode::FOUND)
                    .header(header::LOCATION, "http://10.0.0.1/feed")
                    .body(Body::empty())
                    .unwrap()
            }),
        )
        .route(
            "/moved",
            get(|| async {
                Response::builder()
                    .status(StatusCode::MOVED_PERMANENTLY)
                    .header(header::LOCATION, "/atom")
                    .body(Body::empty())
                    .unwrap()
            }),
        )
}

async fn serve() -> (String, Arc<Counters>) {
    let counters = Arc::new(Counters::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = app(counters.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), counters)
}

fn net() -> Net {
    Net::new(NetConfig {
        ssrf: SsrfPolicy::with_allow_list(["127.0.0.1/32"]).unwrap(),
        ..NetConfig::default()
    })
    .unwrap()
}

fn opts(budget_ms: u64) -> FetchOptions {
    FetchOptions {
        time_budget: Duration::from_millis(budget_ms),
        ..FetchOptions::default()
    }
}

fn code(o: &FetchOutcome) -> Option<ErrorCode> {
    o.error().map(|e| e.code)
}

const NOW: i64 = 1_795_000_000_000;

#[tokio::test]
async fn etag_round_trip_gives_not_modified() {
    let (base, _) = serve().await;
    let net = net();
    let mut state = FeedState::new(format!("{base}/rss"));
    let first = fetch(&net, &state).await;
    let FetchOutcome::Updated { feed, meta } = &first else {
        panic!("{first:?}");
    };
    assert_eq!(feed.items.len(), 3);
    assert_eq!(meta.etag.as_deref(), Some(ETAG));
    assert_eq!(meta.max_age_secs, Some(7200));
    let delay = state.record(&first, NOW, &PollPolicy::default());
    assert_eq!(state.etag.as_deref(), Some(ETAG));
    assert_eq!(state.last_ok_at, Some(NOW));
    // max-age (2 h) is a floor for the next poll.
    assert!(
        delay >= Duration::from_secs(7200) - Duration::from_secs(1),
        "{delay:?}"
    );

    let second = fetch(&net, &state).await;
    assert!(
        matches!(second, FetchOutcome::NotModified { .. }),
        "{second:?}"
    );
    state.record(&second, NOW + 1000, &PollPolicy::default());
    assert_eq!(state.etag.as_deref(), Some(ETAG));
    assert_eq!(state.consecutive_failures, 0);
}

#[tokio::test]
async fn last_modified_round_trip() {
    let (base, _) = serve().await;
    let net = net();
    let mut state = FeedState::new(format!("{base}/lastmod"));
    let first = fetch(&net, &state).await;
    assert!(matches!(first, FetchOutcome::Updated { .. }), "{first:?}");
    state.record(&first, NOW, &PollPolicy::default());
    assert_eq!(state.last_modified.as_deref(), Some(LAST_MOD));
    assert!(matches!(
        fetch(&net, &state).await,
        FetchOutcome::NotModified { .. }
    ));
}

#[tokio::test]
async fn a_500_then_recovery() {
    let (base, _) = serve().await;
    let net = net();
    let policy = PollPolicy::default();
    let mut state = FeedState::new(format!("{base}/flaky"));
    let bad = fetch(&net, &state).await;
    let e = bad.error().expect("failed");
    assert_eq!((e.code, e.status), (ErrorCode::HttpStatus, Some(500)));
    assert!(e.message.contains("database is down"), "{e}");
    let delay = state.record(&bad, NOW, &policy);
    assert_eq!(state.consecutive_failures, 1);
    assert_eq!(
        state.last_error.as_ref().unwrap().code,
        ErrorCode::HttpStatus
    );
    assert!(delay >= Duration::from_secs(4 * 60) && delay <= Duration::from_secs(6 * 60));
    assert_eq!(state.next_poll_at, Some(NOW + delay.as_millis() as i64));
    assert!(!state.is_due(NOW + 1000));

    let good = fetch(&net, &state).await;
    assert!(matches!(good, FetchOutcome::Updated { .. }), "{good:?}");
    state.record(&good, NOW + delay.as_millis() as i64, &policy);
    assert_eq!(state.consecutive_failures, 0);
    assert_eq!(state.last_error, None);
    assert!(state.avg_item_interval_secs.is_some());
}

#[tokio::test]
async fn rate_limits_are_honoured() {
    let (base, _) = serve().await;
    let net = net();
    let policy = PollPolicy::default();
    let mut state = FeedState::new(format!("{base}/limited"));
    let o = fetch(&net, &state).await;
    assert_eq!(o.meta().unwrap().retry_after_secs, Some(5400));
    assert_eq!(state.record(&o, NOW, &policy), Duration::from_secs(5400));

    let mut state = FeedState::new(format!("{base}/unavailable"));
    let o = fetch(&net, &state).await;
    assert_eq!(o.error().unwrap().status, Some(503));
    // No Retry-After: still at least the default interval.
    assert!(state.record(&o, NOW, &policy) >= policy.default_interval);
}

#[tokio::test]
async fn hostile_bodies_fail_with_clear_codes() {
    let (base, counters) = serve().await;
    let net = net();
    let o = |p: &str| FeedState::new(format!("{base}{p}"));

    let t = Instant::now();
    let huge = fetch_with(&net, &o("/huge"), &opts(20_000)).await;
    assert_eq!(code(&huge), Some(ErrorCode::TooLarge), "{huge:?}");
    assert!(t.elapsed() < Duration::from_secs(15));
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Reading stopped at the cap: nowhere near 200 MB left the server.
    let sent = counters.huge_sent.load(Ordering::Relaxed);
    eprintln!("huge: server produced {sent} bytes in {:?}", t.elapsed());
    assert!(sent < 40 * 1024 * 1024, "server produced {sent} bytes");

    let declared = fetch(&net, &o("/huge-declared")).await;
    assert_eq!(code(&declared), Some(ErrorCode::TooLarge), "{declared:?}");

    let t = Instant::now();
    let endless = fetch_with(&net, &o("/trickle"), &opts(1500)).await;
    assert_eq!(code(&endless), Some(ErrorCode::Timeout), "{endless:?}");
    assert!(endless.meta().is_some(), "headers were received");
    assert!(t.elapsed() < Duration::from_secs(4));

    let cut = fetch(&net, &o("/truncated")).await;
    assert_eq!(code(&cut), Some(ErrorCode::Truncated), "{cut:?}");

    let page = fetch(&net, &o("/page")).await;
    let e = page.error().unwrap();
    assert_eq!(e.code, ErrorCode::NotAFeed);
    assert!(e.message.contains(&format!("{base}/rss")), "{e}");

    assert_eq!(
        code(&fetch(&net, &o("/empty")).await),
        Some(ErrorCode::Empty)
    );

    let laughs = fetch(&net, &o("/laughs")).await;
    assert!(matches!(laughs, FetchOutcome::Updated { .. }), "{laughs:?}");
}

#[tokio::test]
async fn gzip_is_decoded_and_a_gzip_bomb_stops_at_the_cap() {
    let (base, _) = serve().await;
    let net = net();
    let o = fetch(&net, &FeedState::new(format!("{base}/gzip"))).await;
    assert!(matches!(o, FetchOutcome::Updated { .. }), "{o:?}");
    // 40 MB of spaces compress to ~40 KB; the cap applies to the decompressed bytes.
    let o = fetch(&net, &FeedState::new(format!("{base}/gzip-bomb"))).await;
    assert_eq!(code(&o), Some(ErrorCode::TooLarge), "{o:?}");
}

#[tokio::test]
async fn wrong_encoding_is_recovered_with_a_warning() {
    let (base, _) = serve().await;
    let o = fetch(&net(), &FeedState::new(format!("{base}/latin1-says-utf8"))).await;
    let FetchOutcome::Updated { feed, .. } = o else {
        panic!("{o:?}");
    };
    assert_eq!(feed.title.as_deref(), Some("Café"));
    assert_eq!(feed.items[0].title.as_deref(), Some("Crème"));
    assert_eq!(feed.warnings.len(), 1);
}

#[tokio::test]
async fn hostile_feeds_do_not_slow_the_others() {
    let (base, _) = serve().await;
    let net = net();
    let budget = opts(3000);
    let paths = [
        "/trickle",
        "/huge",
        "/rss",
        "/atom",
        "/json",
        "/truncated",
        "/flaky",
        "/laughs",
    ];
    let started = Instant::now();
    let runs = paths.iter().map(|p| {
        let (net, budget) = (net.clone(), budget.clone());
        let state = FeedState::new(format!("{base}{p}"));
        async move {
            let o = fetch_with(&net, &state, &budget).await;
            (*p, o, started.elapsed())
        }
    });
    let results = futures::future::join_all(runs).await;
    for (p, o, took) in &results {
        match *p {
            "/rss" | "/atom" | "/json" | "/laughs" => {
                assert!(matches!(o, FetchOutcome::Updated { .. }), "{p}: {o:?}");
                // Done long before the trickling feed's budget ran out.
                assert!(*took < Duration::from_millis(2500), "{p} took {took:?}");
            }
            "/trickle" => assert_eq!(code(o), Some(ErrorCode::Timeout)),
            "/huge" => assert_eq!(code(o), Some(ErrorCode::TooLarge)),
            "/truncated" => assert_eq!(code(o), Some(ErrorCode::Truncated)),
            "/flaky" => assert_eq!(code(o), Some(ErrorCode::HttpStatus)),
            _ => unreachable!(),
        }
    }
}

#[tokio::test]
async fn ssrf_guard_applies_to_feeds_and_redirects() {
    let (base, _) = serve().await;
    let strict = Net::strict().unwrap();
    let o = fetch(&strict, &FeedState::new(format!("{base}/rss"))).await;
    assert_eq!(code(&o), Some(ErrorCode::SsrfBlocked), "{o:?}");

    let o = fetch(&net(), &FeedState::new(format!("{base}/to-private"))).await;
    assert_eq!(code(&o), Some(ErrorCode::SsrfBlocked), "{o:?}");

    let o = fetch(&net(), &FeedState::new("file:///etc/passwd")).await;
    assert_eq!(code(&o), Some(ErrorCode::InvalidUrl), "{o:?}");

    // An allowed redirect is followed; the final URL is reported.
    let o = fetch(&net(), &FeedState::new(format!("{base}/moved"))).await;
    assert_eq!(o.meta().unwrap().final_url, format!("{base}/atom"));
    assert!(matches!(o, FetchOutcome::Updated { .. }));
}

#[test]
fn feed_state_is_plain_serde() {
    let mut s = FeedState::new("https://brulerie.example/feed/");
    s.etag = Some(ETAG.into());
    let json = serde_json::to_string(&s).unwrap();
    let back: FeedState = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s);
    // Older rows with fewer fields still load.
    let old: FeedState = serde_json::from_str(r#"{"url":"https://x.example/"}"#).unwrap();
    assert!(old.is_due(0));
}
