//! Mentions view and alerts end to end: filters and full-text search in the page, the live
//! stream's poll, share of voice as SVG, alert rules raising alerts once (even with the
//! recurring job racing a direct evaluation), delivery in the app, by email and to a signed
//! webhook on loopback, and the crisis page's one-click freeze.

use crate::common;
use common::*;
use relais_store::mentions::NewMention;
use relais_web::service::alerts::engine::evaluate_all;
use std::sync::{Arc, Mutex};
use std::time::Duration;

async fn query(
    app: &TestApp,
    c: &reqwest::Client,
    ws: i64,
    name: &str,
    expr: &str,
    tag: &str,
) -> i64 {
    let r = app
        .submit(
            c,
            &format!("/w/{ws}/listening/setup"),
            &format!("/w/{ws}/listening/queries"),
            &[("name", name), ("expression", expr), ("tag", tag)],
        )
        .await;
    assert_eq!(r.status(), 303);
    let qs = app.state.store.queries(ws).await.unwrap();
    qs.iter().find(|q| q.name == name).unwrap().id
}

async fn mention(app: &TestApp, ws: i64, guid: &str, q: i64, body: &str, sentiment: &str) -> i64 {
    let mut tx = app.state.store.begin().await.unwrap();
    let id = app
        .state
        .store
        .insert_mention(
            &mut tx,
            NewMention {
                workspace_id: ws,
                source_id: None,
                guid,
                query_ids: &[q],
                url: Some("https://news.example/a"),
                author: Some("reporter"),
                title: None,
                body,
                lang: Some("fr"),
                published_at: None,
                origin: "bluesky",
                sentiment: Some(sentiment),
                sentiment_score: None,
                story_id: None,
            },
        )
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    id
}

#[tokio::test]
async fn the_mentions_view_filters_searches_streams_and_charts() {
    let app = spawn_app().await;
    let owner = app.owner("fr").await;
    let ws = app.create_workspace(&owner, "Acme").await;
    let brand = query(&app, &owner, ws, "Acme", "acme", "brand").await;
    let rival = query(&app, &owner, ws, "Globex", "globex", "competitor").await;
    let a = mention(
        &app,
        ws,
        "1",
        brand,
        "Livraisons Acme en retard <script>alert(1)</script>",
        "negative",
    )
    .await;
    mention(
        &app,
        ws,
        "2",
        rival,
        "Globex lance un téléphone",
        "positive",
    )
    .await;

    let (s, page) = app.get(&owner, &format!("/w/{ws}/listening")).await;
    assert_eq!(s, 200);
    // Terms marked, hostile markup inert, chips, volume chart.
    assert!(page.contains("<mark>Acme</mark>"), "{page}");
    assert!(!page.contains("<script>alert(1)") && page.contains("&lt;script&gt;"));
    assert!(page.contains("négative") && page.contains("<svg"));
    let (_, page) = app
        .get(
            &owner,
            &format!("/w/{ws}/listening?text=livraison&sentiment=negative"),
        )
        .await;
    assert!(page.contains("Livraisons") && !page.contains("téléphone"));
    let (_, page) = app
        .get(&owner, &format!("/w/{ws}/listening?tag=competitor"))
        .await;
    assert!(!page.contains("Livraisons") && page.contains("téléphone"));
    // A bad filter names the field instead of failing the page.
    let (s, page) = app
        .get(&owner, &format!("/w/{ws}/listening?from=demain"))
        .await;
    assert_eq!(s, 200);
    assert!(page.contains("class=\"error\""), "{page}");

    // The live poll returns what came after the newest shown, and the poller moved forward.
    let (_, live) = app
        .get(
            &owner,
            &format!("/w/{ws}/listening/stream?after={a}&tag=brand"),
        )
        .await;
    assert!(!live.contains("<li") && live.contains(&format!("after={a}")));
    let b = mention(&app, ws, "3", brand, "Acme répond enfin", "neutral").await;
    let (_, live) = app
        .get(
            &owner,
            &format!("/w/{ws}/listening/stream?after={a}&tag=brand"),
        )
        .await;
    assert!(
        live.contains("répond enfin")
            && live.contains(&format!("after={b}"))
            && live.contains("hx-swap-oob")
    );

    // Share of voice: brand 2, competitor 1.
    let (_, share) = app
        .get(&owner, &format!("/w/{ws}/listening/share?days=7"))
        .await;
    assert!(share.contains("<svg") && share.contains("66,7"), "{share}");
    // CSV export keeps the filters.
    let csv = owner
        .get(app.at(&format!("/w/{ws}/listening/mentions.csv?tag=competitor")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    // Another workspace sees none of it.
    let other = app.create_workspace(&owner, "Other").await;
    let (_, page) = app
        .get(&owner, &format!("/w/{other}/listening/stream?after=0"))
        .await;
    assert!(!page.contains("Acme"));
}

/// A webhook receiver that keeps every signed body it gets.
async fn receiver(secret: &'static str) -> (String, Arc<Mutex<Vec<String>>>) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let g = g.clone();
                async move {
                    let sig = headers["x-relais-signature"].to_str().unwrap();
                    assert!(relais_publish::webhook::verify(
                        &relais_publish::Secret::new(secret),
                        &body,
                        sig
                    ));
                    g.lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(&body).to_string());
                    axum::Json(serde_json::json!({ "ok": true }))
                }
            },
        ),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (format!("http://{addr}/hook"), got)
}

#[tokio::test]
async fn alert_rules_raise_once_and_deliver_to_members_and_the_escalation_list() {
    let app = spawn_with(|s| s.security.fetch_allow = vec!["127.0.0.1/32".into()]).await;
    let owner = app.owner("fr").await;
    let ws = app.create_workspace(&owner, "Acme").await;
    let brand = query(&app, &owner, ws, "Acme", "acme", "brand").await;
    let (hook, got) = receiver("a-long-enough-secret").await;
    let alerts = format!("/w/{ws}/alerts");
    // Bad input names the field.
    let r = app
        .submit(
            &owner,
            &alerts,
            &format!("{alerts}/targets"),
            &[
                ("kind", "webhook"),
                ("label", "Zap"),
                ("address", &hook),
                ("secret", "short"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let r = app
        .submit(
            &owner,
            &alerts,
            &format!("{alerts}/rules"),
            &[
                ("query", &brand.to_string()),
                ("mode", "threshold"),
                ("threshold", "0"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Seuil"));
    for form in [
        vec![
            ("kind", "webhook"),
            ("label", "Zap"),
            ("address", hook.as_str()),
            ("secret", "a-long-enough-secret"),
        ],
        vec![
            ("kind", "email"),
            ("label", "Astreinte"),
            ("address", "oncall@example.org"),
        ],
    ] {
        let r = app
            .submit(&owner, &alerts, &format!("{alerts}/targets"), &form)
            .await;
        assert_eq!(r.status(), 303);
    }
    let q = brand.to_string();
    for form in [
        vec![("query", q.as_str()), ("mode", "each"), ("escalate", "1")],
        vec![
            ("query", q.as_str()),
            ("mode", "threshold"),
            ("threshold", "3"),
            ("window_minutes", "10"),
        ],
    ] {
        let r = app
            .submit(&owner, &alerts, &format!("{alerts}/rules"), &form)
            .await;
        assert_eq!(r.status(), 303);
    }
    // Mentions that existed before the rules raise nothing; new ones do, once.
    for i in 0..3 {
        mention(
            &app,
            ws,
            &format!("m{i}"),
            brand,
            &format!("Acme rappel numéro {i}"),
            "negative",
        )
        .await;
    }
    let now = relais_store::now();
    let (x, y) = tokio::join!(evaluate_all(&app.state, now), evaluate_all(&app.state, now));
    let first = x.unwrap() + y.unwrap();
    let again = evaluate_all(&app.state, now).await.unwrap();
    let raised = app.state.store.alerts(ws, 50).await.unwrap();
    // 3 mention alerts (one each) + 1 threshold alert, whatever raced.
    assert_eq!(raised.len(), 4, "{raised:?}");
    assert!(first <= 4 && again == 0);
    let threshold = raised.iter().find(|a| a.kind == "threshold").unwrap();
    assert!(threshold.title.contains('3'));

    // Deliveries: the escalating rule's alerts reach the webhook (signed) and the on-call
    // address; every alert reaches the owner in the app and by email.
    let mut done = false;
    for _ in 0..200 {
        let hooks = got.lock().unwrap().len();
        let mails = app.mails().await;
        let oncall = mails
            .iter()
            .filter(|(to, _, _)| to == "oncall@example.org")
            .count();
        let owner_mails = mails
            .iter()
            .filter(|(to, s, _)| to == "owner@example.com" && s.starts_with("[relais]"))
            .count();
        if hooks == 3 && oncall == 3 && owner_mails == 4 {
            done = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(done, "hooks {:?}", got.lock().unwrap());
    assert!(got.lock().unwrap()[0].contains("Acme rappel"));
    let (_, page) = app
        .get(&owner, &format!("/w/{ws}/alerts/{}", threshold.id))
        .await;
    assert!(
        page.contains("members") && page.contains("rappel"),
        "{page}"
    );
    let (_, notes) = app.get(&owner, "/notifications").await;
    assert!(notes.contains("Nouvelle mention"));
    // Another workspace cannot read the alert.
    let other = app.create_workspace(&owner, "Other").await;
    let (s, _) = app
        .get(&owner, &format!("/w/{other}/alerts/{}", threshold.id))
        .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn a_burst_raises_one_crisis_alert_with_a_brief_and_the_freeze_is_one_click() {
    let app = spawn_app().await;
    let owner = app.owner("fr").await;
    let ws = app.create_workspace(&owner, "Acme").await;
    let brand = query(&app, &owner, ws, "Acme", "acme", "brand").await;
    let alerts = format!("/w/{ws}/alerts");
    let q = brand.to_string();
    let r = app
        .submit(
            &owner,
            &alerts,
            &format!("{alerts}/rules"),
            &[
                ("query", q.as_str()),
                ("mode", "crisis"),
                ("sensitivity", "3"),
                ("cooldown_minutes", "30"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    // A week of quiet is learnt first: nothing is raised.
    let now = relais_store::now();
    assert_eq!(evaluate_all(&app.state, now).await.unwrap(), 0);
    // Then 40 mentions in one minute, most of them angry and sharing one story.
    for i in 0..40 {
        let body = if i % 4 == 0 {
            format!("Acme rappel du lait {i}")
        } else {
            format!("Scandale : Acme rappelle son lait contaminé, honte ! #{i}")
        };
        mention(&app, ws, &format!("b{i}"), brand, &body, "negative").await;
    }
    // Once the minute has closed the burst is significant: one alert, however often evaluated.
    let closed = (relais_store::now() / 60_000 + 1) * 60_000 + 1;
    let (x, y) = tokio::join!(
        evaluate_all(&app.state, closed),
        evaluate_all(&app.state, closed)
    );
    assert!(x.unwrap() + y.unwrap() >= 1);
    assert_eq!(evaluate_all(&app.state, closed + 5_000).await.unwrap(), 0);
    let raised = app.state.store.alerts(ws, 10).await.unwrap();
    let crisis: Vec<_> = raised.iter().filter(|a| a.kind == "crisis").collect();
    assert_eq!(crisis.len(), 1, "{raised:?}");
    let a = crisis[0];
    assert!(
        a.title.contains("Crise possible") && a.title.contains("40"),
        "{}",
        a.title
    );
    assert!(a.detected_at % 60_000 == 0 && a.detected_at <= closed);
    let brief: relais_web::service::alerts::brief::Brief = serde_json::from_str(&a.brief).unwrap();
    assert_eq!(brief.count, 40);
    assert_eq!(brief.sentiment.negative, 40);
    assert!(
        brief.observed.last().copied().unwrap_or(0.0) >= 40.0 || brief.observed.contains(&40.0)
    );
    assert!(
        brief.top_terms.iter().any(|(w, _)| w == "lait"),
        "{:?}",
        brief.top_terms
    );
    assert!(!brief.top_terms.iter().any(|(w, _)| w == "acme"));

    // The alert page: chart, brief, and the freeze in one click.
    let (_, page) = app.get(&owner, &format!("/w/{ws}/alerts/{}", a.id)).await;
    assert!(
        page.contains("<svg")
            && page.contains("lait")
            && page.contains(&format!("action=\"/w/{ws}/freeze\"")),
        "{page}"
    );
    let r = app
        .submit(
            &owner,
            &format!("/w/{ws}/alerts/{}", a.id),
            &format!("/w/{ws}/freeze"),
            &[("reason", "Alerte de crise : Acme")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert!(app.state.store.active_freeze(ws).await.unwrap().is_some());
    let (_, page) = app.get(&owner, &format!("/w/{ws}/alerts/{}", a.id)).await;
    assert!(!page.contains(&format!("action=\"/w/{ws}/freeze\"")));
}
