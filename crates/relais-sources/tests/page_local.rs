//! Page watch against a local axum server: baseline, ETag/304, a change inside the selector
//! becomes a diff, a change outside it does not, restart from the saved snapshot, caps, guard.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use common::{loopback_net, status_until, Collector};
use relais_net::Net;
use relais_sources::page::check;
use relais_sources::{spawn, ErrorCode, PageConfig, PageState, SourceConfig, SourceState};

#[derive(Default)]
struct Site {
    price: Mutex<String>,
    footer: Mutex<String>,
    gets: AtomicUsize,
    not_modified: AtomicUsize,
}

fn page(site: &Site) -> String {
    format!(
        "<html><head><title>Tarifs</title></head><body><main id=prices><h1>Prix</h1>\
         <p>Offre de base</p><p>{}</p><p>Support inclus</p></main><footer>{}</footer></body></html>",
        site.price.lock().unwrap(),
        site.footer.lock().unwrap()
    )
}

async fn serve(State(site): State<Arc<Site>>, headers: HeaderMap) -> Response {
    site.gets.fetch_add(1, Ordering::SeqCst);
    let body = page(&site);
    let etag = format!(
        "\"{}\"",
        body.len() * 31 + body.bytes().map(usize::from).sum::<usize>()
    );
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        site.not_modified.fetch_add(1, Ordering::SeqCst);
        return StatusCode::NOT_MODIFIED.into_response();
    }
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_string()),
            (header::ETAG, etag),
        ],
        body,
    )
        .into_response()
}

async fn start(site: Arc<Site>) -> String {
    let app = Router::new()
        .route("/prices", get(serve))
        .route("/big", get(|| async { "x".repeat(100_000) }))
        .route(
            "/image",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "image/png")],
                    vec![0x89u8, b'P', b'N', b'G', 0],
                )
            }),
        )
        .with_state(site);
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_change_under_the_selector_becomes_a_diff() {
    let site = Arc::new(Site::default());
    *site.price.lock().unwrap() = "10 € par mois".into();
    *site.footer.lock().unwrap() = "© 2024".into();
    let base = start(site.clone()).await;
    let net = loopback_net();
    let mut cfg = PageConfig::new(format!("{base}/prices"));
    cfg.selector = Some("#prices".into());
    let mut st = PageState::default();

    assert_eq!(
        check(&net, &cfg, &mut st).await.unwrap(),
        None,
        "first look = baseline"
    );
    assert_eq!(
        st.text.as_deref(),
        Some("Prix\nOffre de base\n10 € par mois\nSupport inclus")
    );
    assert_eq!(check(&net, &cfg, &mut st).await.unwrap(), None);
    assert_eq!(
        site.not_modified.load(Ordering::SeqCst),
        1,
        "validators sent back"
    );

    *site.footer.lock().unwrap() = "© 2025".into();
    assert_eq!(
        check(&net, &cfg, &mut st).await.unwrap(),
        None,
        "outside the selector"
    );

    *site.price.lock().unwrap() = "12 € par mois".into();
    let ev = check(&net, &cfg, &mut st).await.unwrap().expect("a change");
    assert!(
        ev.text.contains("-10 € par mois\n+12 € par mois"),
        "{}",
        ev.text
    );
    assert!(
        ev.text.contains(" Offre de base"),
        "context lines: {}",
        ev.text
    );
    assert_eq!(ev.title.as_deref(), Some("Tarifs"));
    assert_eq!(ev.url.as_deref(), Some(cfg.url.as_str()));
    assert!(
        ev.guid.starts_with(&format!("{base}/prices#change=")),
        "{}",
        ev.guid
    );
    let guid = ev.guid.clone();

    // Back and forth: a new transition has a new guid.
    *site.price.lock().unwrap() = "10 € par mois".into();
    let back = check(&net, &cfg, &mut st)
        .await
        .unwrap()
        .expect("a change back");
    assert_ne!(back.guid, guid);

    // The selector stops matching: an error, and the snapshot is kept.
    let mut gone = cfg.clone();
    gone.selector = Some("#tarifs".into());
    let before = st.clone();
    let mut st2 = st.clone();
    st2.etag = None;
    let e = check(&net, &gone, &mut st2).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::SelectorNoMatch);
    assert_eq!(st2.text, before.text);
}

#[tokio::test]
async fn limits_content_types_and_the_guard() {
    let base = start(Arc::new(Site::default())).await;
    let net = loopback_net();
    let mut cfg = PageConfig::new(format!("{base}/big"));
    cfg.max_bytes = Some(10_000);
    let e = check(&net, &cfg, &mut PageState::default())
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::TooLarge);
    let cfg = PageConfig::new(format!("{base}/image"));
    let e = check(&net, &cfg, &mut PageState::default())
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NotText);
    let cfg = PageConfig::new(format!("{base}/missing"));
    let e = check(&net, &cfg, &mut PageState::default())
        .await
        .unwrap_err();
    assert_eq!((e.code, e.status), (ErrorCode::HttpStatus, Some(404)));
    let strict = Net::strict().unwrap();
    let cfg = PageConfig::new(format!("{base}/prices"));
    let e = check(&strict, &cfg, &mut PageState::default())
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::SsrfBlocked);
}

#[tokio::test]
async fn the_running_watch_hands_over_the_snapshot_as_its_cursor() {
    let site = Arc::new(Site::default());
    *site.price.lock().unwrap() = "10 €".into();
    let base = start(site.clone()).await;
    let mut cfg = PageConfig::new(format!("{base}/prices"));
    cfg.interval_secs = 1;
    let sc = SourceConfig::PageWatch(cfg.clone());
    let (tx, mut c) = Collector::new();
    let h = spawn(loopback_net(), 9, sc.clone(), None, tx);
    c.until(Duration::from_secs(5), "baseline cursor", |c| {
        c.cursor.is_some()
    })
    .await;
    assert!(c.events.is_empty());
    status_until(&h, Duration::from_secs(5), "idle", |s| {
        matches!(s.state, SourceState::Idle { .. })
    })
    .await;
    *site.price.lock().unwrap() = "11 €".into();
    c.until(Duration::from_secs(5), "change", |c| !c.events.is_empty())
        .await;
    assert!(c.events[0].text.contains("+11 €"));
    let saved = c.cursor.clone();
    let state: PageState = serde_json::from_str(saved.as_deref().unwrap()).unwrap();
    assert!(state.text.unwrap().contains("11 €"));
    drop(h);

    // Changed while stopped: the restart compares with the saved snapshot.
    *site.price.lock().unwrap() = "13 €".into();
    let (tx2, mut c2) = Collector::new();
    let _h2 = spawn(loopback_net(), 9, sc, saved, tx2);
    c2.until(Duration::from_secs(5), "change since the snapshot", |c| {
        !c.events.is_empty()
    })
    .await;
    assert!(
        c2.events[0].text.contains("-11 €\n+13 €"),
        "{}",
        c2.events[0].text
    );
}
