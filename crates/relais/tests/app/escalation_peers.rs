//! A crisis escalation reaches real peers: a Matrix room on Synapse (start-synapse.sh) and an
//! on-call mailbox through the SMTP sink (start-smtp.sh). With CI=true a missing peer fails.

use crate::common;
use common::*;
use relais_store::mentions::NewMention;
use relais_web::service::alerts::engine::evaluate_all;
use serde_json::{json, Value};
use std::time::{Duration, SystemTime};

fn env(keys: &[&str]) -> Option<Vec<String>> {
    let got: Vec<Option<String>> = keys
        .iter()
        .map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .collect();
    if got.iter().all(Option::is_some) {
        return Some(got.into_iter().flatten().collect());
    }
    let msg = format!("escalation peers missing ({keys:?}): start ../shared/peers/start-synapse.sh and start-smtp.sh");
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{msg}");
    eprintln!("skipped: {msg}");
    None
}

#[tokio::test]
async fn a_crisis_escalates_to_a_synapse_room_and_the_smtp_sink() {
    let Some(e) = env(&[
        "MATRIX_HOMESERVER",
        "MATRIX_ACCESS_TOKEN",
        "SMTP_HOST",
        "SMTP_PORT",
        "SMTP_SINK_DIR",
    ]) else {
        return;
    };
    let (hs, token, sink) = (e[0].clone(), e[1].clone(), e[4].clone());
    let app = spawn_with(|s| {
        s.security.fetch_allow = vec!["127.0.0.1/32".into()];
        s.smtp = Some(relais_web::mail::SmtpSettings {
            host: e[2].clone(),
            port: e[3].parse().unwrap(),
            username: None,
            password: None,
            security: "none".into(),
            from: "relais <relais@example.com>".into(),
        });
    })
    .await;
    let started = SystemTime::now() - Duration::from_secs(1);
    // A private room for the crisis cell.
    let http = reqwest::Client::new();
    let room: Value = http
        .post(format!("{hs}/_matrix/client/v3/createRoom"))
        .bearer_auth(&token)
        .json(&json!({ "preset": "private_chat", "name": "cellule de crise" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let room_id = room["room_id"].as_str().unwrap().to_string();

    let owner = app.owner("fr").await;
    let ws = app.create_workspace(&owner, "Acme").await;
    let r = app
        .submit(
            &owner,
            &format!("/w/{ws}/listening/setup"),
            &format!("/w/{ws}/listening/queries"),
            &[("name", "Acme"), ("expression", "acme"), ("tag", "brand")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let q = app.state.store.queries(ws).await.unwrap()[0].id;
    let alerts = format!("/w/{ws}/alerts");
    // A wrong token is refused at once, naming the field.
    let r = app
        .submit(
            &owner,
            &alerts,
            &format!("{alerts}/targets"),
            &[
                ("kind", "matrix"),
                ("label", "Cellule"),
                ("address", &room_id),
                ("homeserver", &hs),
                ("access_token", "wrong"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    for form in [
        vec![
            ("kind", "matrix"),
            ("label", "Cellule"),
            ("address", room_id.as_str()),
            ("homeserver", hs.as_str()),
            ("access_token", token.as_str()),
        ],
        vec![
            ("kind", "email"),
            ("label", "Astreinte"),
            ("address", "astreinte@example.org"),
        ],
    ] {
        let r = app
            .submit(&owner, &alerts, &format!("{alerts}/targets"), &form)
            .await;
        assert_eq!(r.status(), 303, "{:?}", r.text().await);
    }
    let r = app
        .submit(
            &owner,
            &alerts,
            &format!("{alerts}/rules"),
            &[
                ("query", &q.to_string()),
                ("mode", "crisis"),
                ("escalate", "1"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    evaluate_all(&app.state, relais_store::now()).await.unwrap();
    for i in 0..30 {
        let mut tx = app.state.store.begin().await.unwrap();
        let body = format!("Acme : rappel du lait, scandale {i}");
        let m = NewMention {
            workspace_id: ws,
            source_id: None,
            guid: &format!("g{i}"),
            query_ids: &[q],
            url: None,
            author: Some("someone"),
            title: None,
            body: &body,
            lang: Some("fr"),
            published_at: None,
            origin: "bluesky",
            sentiment: Some("negative"),
            sentiment_score: Some(-800),
            story_id: Some(1),
        };
        app.state.store.insert_mention(&mut tx, m).await.unwrap();
        tx.commit().await.unwrap();
    }
    let closed = (relais_store::now() / 60_000 + 1) * 60_000 + 1;
    assert!(evaluate_all(&app.state, closed).await.unwrap() >= 1);

    // The room gets the alert once; the on-call mailbox gets it through real SMTP.
    let mut in_room = 0;
    let mut mailed = false;
    for _ in 0..300 {
        let v: Value = http
            .get(format!(
                "{hs}/_matrix/client/v3/rooms/{room_id}/messages?dir=b&limit=50"
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        in_room = v["chunk"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| {
                e["type"] == "m.room.message"
                    && e["content"]["body"]
                        .as_str()
                        .unwrap_or("")
                        .contains("Crise possible")
            })
            .count();
        mailed = std::fs::read_dir(format!("{sink}/eml"))
            .map(|d| {
                d.flatten().any(|f| {
                    f.metadata()
                        .and_then(|m| m.modified())
                        .is_ok_and(|t| t >= started)
                        && std::fs::read_to_string(f.path()).is_ok_and(|s| {
                            s.to_ascii_lowercase().contains("to: astreinte@example.org")
                        })
                })
            })
            .unwrap_or(false);
        if in_room >= 1 && mailed {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(in_room, 1, "one message in the Matrix room");
    assert!(mailed, "the on-call address got the alert through SMTP");
    let a = app
        .state
        .store
        .alerts(ws, 10)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.kind == "crisis")
        .unwrap();
    let d = app.state.store.alert_deliveries(a.id).await.unwrap();
    assert!(
        d.iter()
            .any(|d| d.target.starts_with("matrix:") && d.status == "sent"),
        "{d:?}"
    );
}
