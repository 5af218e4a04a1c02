//! Approvals: one or two stages, nobody approves their own post, contributors always go
//! through review, decisions audited, approved posts scheduled at the time asked for.

use crate::common;
use common::*;
use relais_domain::publish::TargetState as S;
use serde_json::json;

async fn compose(
    app: &TestApp,
    c: &reqwest::Client,
    ws: i64,
    ch: i64,
    text: &str,
) -> reqwest::Response {
    let chs = ch.to_string();
    app.submit(
        c,
        &format!("/w/{ws}/compose"),
        &format!("/w/{ws}/compose"),
        &[
            ("body", text),
            ("channel", &chs),
            ("action", "schedule"),
            ("date", "2031-05-04"),
            ("time", "10:00"),
        ],
    )
    .await
}

async fn states(app: &TestApp, ws: i64) -> Vec<S> {
    app.state
        .store
        .list_targets(ws, &Default::default())
        .await
        .unwrap()
        .iter()
        .map(|t| t.state)
        .collect()
}

#[tokio::test]
async fn one_stage_approval_and_own_posts() {
    let app = spawn_app().await;
    let owner = app.owner("en").await;
    let ws = app.create_workspace(&owner, "Brand").await;
    let ch = app.channel(ws, "webhook", "Hook", json!({})).await;
    let r = app
        .submit(
            &owner,
            &format!("/w/{ws}/settings"),
            &format!("/w/{ws}/approval-mode"),
            &[("approval_mode", "internal")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let editor = app.join(&owner, ws, "ed@example.com", "editor").await;
    let approver = app.join(&owner, ws, "ap@example.com", "approver").await;

    // The editor cannot publish what must be approved: it waits for review.
    assert_eq!(
        compose(&app, &editor, ws, ch, "Nouvelle offre")
            .await
            .status(),
        303
    );
    assert_eq!(states(&app, ws).await, vec![S::InReview]);
    assert!(app
        .state
        .store
        .list_jobs("queued", 100)
        .await
        .unwrap()
        .iter()
        .all(|j| j.kind != "publish.target"));
    let (_, page) = app.get(&editor, &format!("/w/{ws}/approvals")).await;
    assert!(
        page.contains("Nouvelle offre") && !page.contains("name=\"decision\""),
        "editors do not decide"
    );

    // A decision other than approve needs a comment.
    let post = app.state.store.pending_reviews(ws).await.unwrap()[0].post_id;
    let url = format!("/w/{ws}/approvals/{post}");
    let r = app
        .submit(
            &approver,
            &format!("/w/{ws}/approvals"),
            &url,
            &[("decision", "changes"), ("comment", "")],
        )
        .await;
    assert_eq!(r.status(), 422);
    let r = app
        .submit(
            &approver,
            &format!("/w/{ws}/approvals"),
            &url,
            &[("decision", "approve"), ("comment", "OK pour moi")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let t = &app
        .state
        .store
        .list_targets(ws, &Default::default())
        .await
        .unwrap()[0];
    let wanted = chrono::DateTime::parse_from_rfc3339("2031-05-04T08:00:00Z")
        .unwrap()
        .timestamp_millis();
    assert_eq!(
        (t.state, t.scheduled_at),
        (S::Scheduled, Some(wanted)),
        "scheduled at the time asked for"
    );
    assert!(app
        .state
        .store
        .list_jobs("queued", 100)
        .await
        .unwrap()
        .iter()
        .any(|j| j.kind == "publish.target"));

    // The owner's own post: someone else must approve it.
    assert_eq!(
        compose(&app, &owner, ws, ch, "Message du patron")
            .await
            .status(),
        303
    );
    let post = app.state.store.pending_reviews(ws).await.unwrap()[0].post_id;
    let r = app
        .submit(
            &owner,
            &format!("/w/{ws}/approvals"),
            &format!("/w/{ws}/approvals/{post}"),
            &[("decision", "approve")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Nobody approves their own post"));
    let r = app
        .submit(
            &approver,
            &format!("/w/{ws}/approvals"),
            &format!("/w/{ws}/approvals/{post}"),
            &[("decision", "reject"), ("comment", "Pas maintenant")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert!(states(&app, ws).await.contains(&S::Cancelled));
    let (_, audit) = app
        .get(&owner, &format!("/w/{ws}/audit?action=approval."))
        .await;
    assert!(
        audit.contains("approval.approve")
            && audit.contains("approval.reject")
            && audit.contains("Pas maintenant")
    );
}

#[tokio::test]
async fn contributors_go_through_review_and_two_stages_end_with_the_client() {
    let app = spawn_app().await;
    let owner = app.owner("en").await;
    let ws = app.create_workspace(&owner, "Brand").await;
    let ch = app.channel(ws, "webhook", "Hook", json!({})).await;
    let contributor = app.join(&owner, ws, "co@example.com", "contributor").await;
    let client_user = app.join(&owner, ws, "cl@example.com", "client").await;
    // No approval mode, but a contributor still cannot publish directly.
    let (_, page) = app.get(&contributor, &format!("/w/{ws}/compose")).await;
    assert!(page.contains("Submit for approval") && !page.contains("Publish now"));
    assert_eq!(
        compose(&app, &contributor, ws, ch, "Un brouillon")
            .await
            .status(),
        303
    );
    assert_eq!(states(&app, ws).await, vec![S::InReview]);

    app.submit(
        &owner,
        &format!("/w/{ws}/settings"),
        &format!("/w/{ws}/approval-mode"),
        &[("approval_mode", "internal_client")],
    )
    .await;
    let post = app.state.store.pending_reviews(ws).await.unwrap()[0].post_id;
    let url = format!("/w/{ws}/approvals/{post}");
    // The client cannot take the internal stage.
    let r = app
        .submit(
            &client_user,
            &format!("/w/{ws}/approvals"),
            &url,
            &[("decision", "approve")],
        )
        .await;
    assert_eq!(r.status(), 403);
    app.submit(
        &owner,
        &format!("/w/{ws}/approvals"),
        &url,
        &[("decision", "approve")],
    )
    .await;
    assert_eq!(
        app.state.store.pending_reviews(ws).await.unwrap()[0].stage,
        "client"
    );
    assert_eq!(
        states(&app, ws).await,
        vec![S::InReview],
        "still waiting for the client"
    );
    let r = app
        .submit(
            &owner,
            &format!("/w/{ws}/approvals"),
            &url,
            &[("decision", "approve")],
        )
        .await;
    assert_eq!(r.status(), 403, "the client stage is the client's");
    let r = app
        .submit(
            &client_user,
            &format!("/w/{ws}/approvals"),
            &url,
            &[("decision", "approve")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(states(&app, ws).await, vec![S::Scheduled]);
}
