//! Threads against a local Mastodon-shaped server: parts go out as a chain of replies with the
//! media of each part, and a worker killed in the middle of a thread resumes at the next part
//! after reading the channel back, without posting any part twice.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use common::{env_with, fast_config, serve, tiny_png, Env};
use relais_domain::publish::TargetState as S;
use relais_publisher::ChannelCredentials;
use relais_store::channels::Channel;
use relais_store::now;
use serde_json::{json, Value};

#[derive(Default)]
struct Server {
    /// Stores the status of this call number (1-based), then never answers.
    hang_on: Option<usize>,
    calls: usize,
    /// (id, text, in_reply_to_id, media ids)
    statuses: Vec<(String, String, Option<String>, Vec<String>)>,
    /// (id, mime, description, bytes)
    media: Vec<(String, String, String, usize)>,
}

type Shared = Arc<Mutex<Server>>;

async fn verify() -> Json<Value> {
    Json(json!({"id": "7", "acct": "brand"}))
}

async fn instance() -> Json<Value> {
    Json(json!({"configuration": {"statuses": {"max_characters": 500}}}))
}

async fn upload(State(s): State<Shared>, mut mp: Multipart) -> Json<Value> {
    let (mut mime, mut desc, mut len) = (String::new(), String::new(), 0);
    while let Some(f) = mp.next_field().await.unwrap() {
        match f.name() {
            Some("file") => {
                mime = f.content_type().unwrap_or_default().to_string();
                len = f.bytes().await.unwrap().len();
            }
            Some("description") => desc = f.text().await.unwrap(),
            _ => {}
        }
    }
    let mut g = s.lock().unwrap();
    let id = format!("m{}", g.media.len() + 1);
    g.media.push((id.clone(), mime, desc, len));
    Json(json!({"id": id, "url": format!("https://m.test/media/{id}")}))
}

async fn create(State(s): State<Shared>, Json(body): Json<Value>) -> Response {
    let (id, hang) = {
        let mut g = s.lock().unwrap();
        g.calls += 1;
        let id = format!("{}", 100 + g.statuses.len());
        let media = body["media_ids"]
            .as_array()
            .map(|a| a.iter().map(|m| m.as_str().unwrap().to_string()).collect())
            .unwrap_or_default();
        g.statuses.push((
            id.clone(),
            body["status"].as_str().unwrap_or_default().to_string(),
            body["in_reply_to_id"].as_str().map(str::to_string),
            media,
        ));
        (id, g.hang_on == Some(g.calls))
    };
    if hang {
        tokio::time::sleep(Duration::from_secs(60)).await;
        return StatusCode::GATEWAY_TIMEOUT.into_response();
    }
    Json(json!({"id": id, "url": format!("https://m.test/@brand/{id}")})).into_response()
}

async fn account_statuses(State(s): State<Shared>, Path(_id): Path<String>) -> Json<Value> {
    let g = s.lock().unwrap();
    let list: Vec<Value> = g
        .statuses
        .iter()
        .rev()
        .map(|(id, text, _, _)| json!({"id": id, "url": format!("https://m.test/@brand/{id}"), "content": format!("<p>{text}</p>")}))
        .collect();
    Json(json!(list))
}

async fn setup(timeout: Duration) -> (Env, Shared, Channel) {
    let e = env_with(fast_config(), timeout).await;
    let s: Shared = Arc::default();
    let app = Router::new()
        .route("/api/v1/accounts/verify_credentials", get(verify))
        .route("/api/v2/instance", get(instance))
        .route("/api/v2/media", post(upload))
        .route("/api/v1/statuses", post(create))
        .route("/api/v1/accounts/{id}/statuses", get(account_statuses))
        .with_state(s.clone());
    let ch = e
        .connect(ChannelCredentials::Mastodon {
            instance: serve(app).await,
            access_token: "good".into(),
        })
        .await;
    (e, s, ch)
}

fn statuses(s: &Shared) -> Vec<(String, String, Option<String>, Vec<String>)> {
    s.lock().unwrap().statuses.clone()
}

#[tokio::test]
async fn a_thread_goes_out_as_a_chain_of_replies_with_media_and_a_first_comment() {
    let (e, s, ch) = setup(Duration::from_secs(5)).await;
    let t = e.draft(&ch, "1/3 Nouvelle gamme").await;
    e.attach(&t, 0, &tiny_png(), "Un pixel rouge").await;
    e.thread(
        &t,
        &["2/3 Les prix", "3/3 Les dates"],
        Some("Questions ? Ici."),
    )
    .await;
    let t = e.schedule(&t, now()).await;
    let w = e.worker("w1");
    let done = e.wait_state(t.id, S::Published, 15).await;
    w.stop().await;
    let st = statuses(&s);
    let texts: Vec<&str> = st.iter().map(|x| x.1.as_str()).collect();
    assert_eq!(
        texts,
        [
            "1/3 Nouvelle gamme",
            "2/3 Les prix",
            "3/3 Les dates",
            "Questions ? Ici."
        ]
    );
    assert_eq!(st[0].2, None);
    assert_eq!(
        st[1].2.as_deref(),
        Some(st[0].0.as_str()),
        "part 2 answers part 1"
    );
    assert_eq!(
        st[2].2.as_deref(),
        Some(st[1].0.as_str()),
        "part 3 answers part 2"
    );
    assert_eq!(
        st[3].2.as_deref(),
        Some(st[0].0.as_str()),
        "the comment answers the post"
    );
    assert_eq!(st[0].3, ["m1"], "the image goes with the first post only");
    let media = s.lock().unwrap().media.clone();
    assert_eq!(media.len(), 1);
    assert_eq!(
        (media[0].1.as_str(), media[0].2.as_str()),
        ("image/png", "Un pixel rouge")
    );
    assert_eq!(media[0].3, tiny_png().len());
    assert_eq!(
        done.remote_id.as_deref(),
        Some(st[0].0.as_str()),
        "the target links to the first post"
    );
    let parts = e.store.parts(t.id).await.unwrap();
    assert!(parts.iter().all(|p| p.remote.is_some()));
}

#[tokio::test]
async fn a_worker_killed_mid_thread_resumes_at_the_next_part_without_duplicates() {
    // The client waits longer than the test takes to kill it: the call is in flight at the kill.
    let (e, s, ch) = setup(Duration::from_secs(20)).await;
    s.lock().unwrap().hang_on = Some(2);
    let t = e.draft(&ch, "Partie un").await;
    e.thread(&t, &["Partie deux", "Partie trois"], None).await;
    let t = e.schedule(&t, now()).await;
    let w = e.worker("w1");
    let end = tokio::time::Instant::now() + Duration::from_secs(10);
    while statuses(&s).len() < 2 {
        assert!(tokio::time::Instant::now() < end, "part 2 never sent");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    w.abort(); // SIGKILL-like: the lease is not returned, the call never answers
    let mid = e.target(t.id).await;
    assert_eq!(mid.state, S::Publishing);
    let head = e
        .store
        .target_head(t.id)
        .await
        .unwrap()
        .expect("part 1 recorded");
    assert_eq!(head.id, "100");
    assert!(e
        .store
        .parts(t.id)
        .await
        .unwrap()
        .iter()
        .all(|p| p.remote.is_none()));

    let w = e.worker("w2");
    let done = e.wait_state(t.id, S::Published, 20).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    w.stop().await;
    let st = statuses(&s);
    let texts: Vec<&str> = st.iter().map(|x| x.1.as_str()).collect();
    assert_eq!(
        texts,
        ["Partie un", "Partie deux", "Partie trois"],
        "each part exactly once"
    );
    assert_eq!(
        st[2].2.as_deref(),
        Some("101"),
        "part 3 answers part 2 found by reading back"
    );
    assert_eq!(done.remote_id.as_deref(), Some("100"));
    let parts = e.store.parts(t.id).await.unwrap();
    assert_eq!(parts[0].remote.as_ref().unwrap().id, "101");
    assert_eq!(parts[1].remote.as_ref().unwrap().id, "102");
    assert!(e
        .audit_actions()
        .await
        .contains(&"publish.unconfirmed".to_string()));
}
