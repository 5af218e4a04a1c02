//! Crisis freeze: every scheduled target held at once, a banner on every page, who/when/why in
//! the audit log, and a choice at unfreeze for what fell due. UI, API and CLI.

use crate::common;
use common::*;
use relais_domain::publish::TargetState as S;
use serde_json::{json, Value};

async fn schedule_two(app: &TestApp, owner: &reqwest::Client, ws: i64) -> (i64, i64) {
    let ch = app.channel(ws, "webhook", "Hook", json!({})).await;
    let chs = ch.to_string();
    for (body, date) in [("Bientôt", "2031-01-01"), ("Plus tard", "2032-01-01")] {
        let r = app
            .submit(
                owner,
                &format!("/w/{ws}/compose"),
                &format!("/w/{ws}/compose"),
                &[
                    ("body", body),
                    ("channel", &chs),
                    ("action", "schedule"),
                    ("date", date),
                    ("time", "10:00"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
    }
    let t = app
        .state
        .store
        .list_targets(ws, &Default::default())
        .await
        .unwrap();
    // Pretend the first one fell due while frozen.
    relais_store::sqlx::query("UPDATE targets SET scheduled_at = 1000 WHERE id = $1")
        .bind(t[0].id)
        .execute(app.state.store.pool())
        .await
        .unwrap();
    (t[0].id, t[1].id)
}

#[tokio::test]
async fn freeze_and_unfreeze_from_the_ui() {
    let app = spawn_app().await;
    let owner = app.owner("fr").await;
    let ws = app.create_workspace(&owner, "Citroën").await;
    let (due, later) = schedule_two(&app, &owner, ws).await;
    let r = app
        .submit(
            &owner,
            &format!("/w/{ws}"),
            &format!("/w/{ws}/freeze"),
            &[("reason", "")],
        )
        .await;
    assert_eq!(r.status(), 422, "a reason is required");
    let r = app
        .submit(
            &owner,
            &format!("/w/{ws}"),
            &format!("/w/{ws}/freeze"),
            &[("reason", "Rappel produit")],
        )
        .await;
    assert_eq!(r.status(), 303);
    for id in [due, later] {
        assert_eq!(app.state.store.target(id).await.unwrap().state, S::Frozen);
    }
    // The banner stays on every page of the workspace; the list shows "Gelé".
    for p in [
        format!("/w/{ws}/posts"),
        format!("/w/{ws}/members"),
        format!("/w/{ws}/compose"),
    ] {
        let (_, page) = app.get(&owner, &p).await;
        assert!(
            page.contains("Publications gelées (crise)") && page.contains("Rappel produit"),
            "{p}"
        );
    }
    assert!(app
        .get(&owner, &format!("/w/{ws}/posts"))
        .await
        .1
        .contains("Gelé"));
    let before = app.state.store.target(later).await.unwrap().version;
    let r = app
        .submit(
            &owner,
            &format!("/w/{ws}"),
            &format!("/w/{ws}/unfreeze"),
            &[("resolution", "drafts")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        app.state.store.target(due).await.unwrap().state,
        S::Draft,
        "fell due → draft"
    );
    let l = app.state.store.target(later).await.unwrap();
    assert_eq!(
        (l.state, l.version),
        (S::Scheduled, before + 1),
        "not due → back on the schedule, new version"
    );
    let jobs = app.state.store.list_jobs("queued", 100).await.unwrap();
    assert!(jobs
        .iter()
        .any(|j| j.payload["target_id"] == later && j.payload["version"] == l.version));
    let (_, audit) = app
        .get(&owner, &format!("/w/{ws}/audit?action=workspace."))
        .await;
    assert!(
        audit.contains("workspace.freeze")
            && audit.contains("workspace.unfreeze")
            && audit.contains("Rappel produit")
    );
}

#[tokio::test]
async fn freeze_by_api_and_cli() {
    let app = spawn_app().await;
    let owner = app.owner("en").await;
    let ws = app.create_workspace(&owner, "Brand").await;
    let (due, _) = schedule_two(&app, &owner, ws).await;
    let tok = app.api_token(&owner).await;
    let api = reqwest::Client::new();
    let url = |p: &str| app.at(&format!("/api/v1/workspaces/{ws}{p}"));
    let r: Value = api
        .post(url("/freeze"))
        .bearer_auth(&tok)
        .json(&json!({"reason": "Bad buzz"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["frozen_targets"], 2);
    let r = api
        .post(url("/freeze"))
        .bearer_auth(&tok)
        .json(&json!({"reason": "again"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let active: Value = api
        .get(url("/freeze"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(active["active"]["reason"], "Bad buzz");
    let r = api
        .post(url("/unfreeze"))
        .bearer_auth(&tok)
        .json(&json!({"resolution": "sometime"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "resolution");
    let r: Value = api
        .post(url("/unfreeze"))
        .bearer_auth(&tok)
        .json(&json!({"resolution": "publish_now"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["rescheduled_targets"], 2);
    let t = app.state.store.target(due).await.unwrap();
    assert!(
        t.state != S::Frozen && t.scheduled_at.unwrap() > 1000,
        "due target goes out now (the worker may already have taken it)"
    );
}

/// A freeze during a publishing burst: nothing reaches the network after the freeze instant
/// (beyond requests already in flight), and every target not yet sent stays frozen.
#[tokio::test]
async fn a_freeze_during_a_burst_stops_publishing() {
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};
    let arrivals: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let a = arrivals.clone();
    let sink = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let a = a.clone();
            async move {
                a.lock().unwrap().push(Instant::now());
                // A slow network: the burst lasts long enough to freeze in the middle of it.
                tokio::time::sleep(Duration::from_millis(20)).await;
                "ok"
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, sink).await.unwrap() });
    let app = spawn_with(|s| {
        s.security.fetch_allow = vec!["127.0.0.1/32".into()];
        s.worker.concurrency = 4;
    })
    .await;
    let owner = app.owner("en").await;
    let ws = app.create_workspace(&owner, "Brand").await;
    let page = format!("/w/{ws}/channels");
    let r = app
        .submit(
            &owner,
            &page,
            &page,
            &[
                ("network", "webhook"),
                ("name", "Hook"),
                ("url", &hook),
                ("secret", "k"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let ch = app.state.store.channels(ws).await.unwrap()[0].id;
    let store = &app.state.store;
    let mut tx = store.begin().await.unwrap();
    let post = store
        .create_post(&mut tx, ws, 1, "burst", &[])
        .await
        .unwrap();
    for i in 0..300 {
        let body = format!("message {i}");
        let t = store
            .add_target(
                &mut tx,
                &post,
                relais_store::posts::NewTarget {
                    channel_id: ch,
                    body: &body,
                    options: &json!({}),
                    state: S::Draft,
                    scheduled_at: None,
                },
            )
            .await
            .unwrap();
        relais_publisher::schedule(store, &mut tx, t.id, S::Draft, relais_store::now())
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    // Freeze once the burst is under way.
    let t0 = Instant::now();
    while arrivals.lock().unwrap().len() < 20 {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "burst never started"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let r = app
        .submit(
            &owner,
            &format!("/w/{ws}"),
            &format!("/w/{ws}/freeze"),
            &[("reason", "crisis")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let frozen_at = Instant::now();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let late = arrivals
        .lock()
        .unwrap()
        .iter()
        .filter(|t| **t > frozen_at + Duration::from_millis(1500))
        .count();
    assert_eq!(
        late, 0,
        "no delivery after the freeze (beyond requests already in flight)"
    );
    let targets = store.list_targets(ws, &Default::default()).await.unwrap();
    let frozen = targets.iter().filter(|t| t.state == S::Frozen).count();
    let sent = arrivals.lock().unwrap().len();
    assert!(
        frozen > 0 && frozen + sent >= 300,
        "frozen {frozen}, sent {sent}"
    );
    assert!(
        targets
            .iter()
            .all(|t| matches!(t.state, S::Frozen | S::Published)),
        "nothing else left"
    );
}

#[tokio::test]
async fn freeze_and_unfreeze_from_the_cli() {
    let app = spawn_app().await;
    let owner = app.owner("en").await;
    let ws = app.create_workspace(&owner, "Brand Name").await;
    let (due, _) = schedule_two(&app, &owner, ws).await;
    let dir = relais_store::testing::TempDir::new();
    let run = |args: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_relais"))
            .env("RELAIS_DATA_DIR", &dir.0)
            .env("RELAIS_LOG", "warn")
            .arg("--database-url")
            .arg(&app.db_url)
            .args(args)
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).to_string(),
            String::from_utf8_lossy(&o.stderr).to_string(),
        )
    };
    let (code, out, err) = run(&[
        "freeze",
        "--workspace",
        "Brand Name",
        "--reason",
        "Incident",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("2 scheduled publications held"), "{out}");
    let (code, _, err) = run(&["freeze", "--workspace", "Brand Name", "--reason", "again"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("changed meanwhile") || err.contains("conflict") || err.contains("reload"),
        "{err}"
    );
    let (code, _, err) = run(&["unfreeze", "--workspace", "Nope", "--resolution", "drafts"]);
    assert_ne!(code, Some(0));
    assert!(err.contains("no workspace named"), "{err}");
    let (code, out, _) = run(&[
        "unfreeze",
        "--workspace",
        &ws.to_string(),
        "--resolution",
        "drafts",
    ]);
    assert_eq!(code, Some(0));
    assert!(out.contains("unfrozen"));
    assert_eq!(app.state.store.target(due).await.unwrap().state, S::Draft);
    let (_, audit) = app.get(&owner, &format!("/w/{ws}/audit?actor=cli")).await;
    assert!(audit.contains("workspace.freeze") && audit.contains("Incident"));
}
