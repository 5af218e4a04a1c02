//! Approvals, continued: approvers named by the workspace, the client's review through an
//! expiring link without an account, and pending approvals that expire.

use crate::common;
use common::*;
use relais_domain::publish::TargetState as S;
use serde_json::json;

async fn compose(app: &TestApp, c: &reqwest::Client, ws: i64, ch: i64, text: &str) {
    let chs = ch.to_string();
    let r = app
        .submit(
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
        .await;
    assert_eq!(r.status(), 303);
}

async fn post_of(app: &TestApp, ws: i64, text: &str) -> i64 {
    app.state
        .store
        .pending_reviews(ws)
        .await
        .unwrap()
        .iter()
        .find(|p| p.body == text)
        .expect("pending")
        .post_id
}

async fn user_id(app: &TestApp, email: &str) -> i64 {
    app.state
        .store
        .user_by_email(email)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn settings(
    app: &TestApp,
    owner: &reqwest::Client,
    ws: i64,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut f = vec![("full", "1")];
    f.extend_from_slice(fields);
    app.submit(
        owner,
        &format!("/w/{ws}/settings"),
        &format!("/w/{ws}/approval-mode"),
        &f,
    )
    .await
}

async fn decide(app: &TestApp, c: &reqwest::Client, ws: i64, post: i64, decision: &str) -> u16 {
    app.submit(
        c,
        &format!("/w/{ws}/approvals"),
        &format!("/w/{ws}/approvals/{post}"),
        &[("decision", decision), ("comment", "vu")],
    )
    .await
    .status()
    .as_u16()
}

#[tokio::test]
async fn approvers_by_name_in_addition_to_or_instead_of_roles() {
    let app = spawn_app().await;
    let owner = app.owner("en").await;
    let ws = app.create_workspace(&owner, "Brand").await;
    let ch = app.channel(ws, "webhook", "Hook", json!({})).await;
    let editor = app.join(&owner, ws, "ed@example.com", "editor").await;
    let approver = app.join(&owner, ws, "ap@example.com", "approver").await;
    let contributor = app.join(&owner, ws, "co@example.com", "contributor").await;
    let ed = user_id(&app, "ed@example.com").await.to_string();

    // Naming approvers "instead of roles" needs at least one name.
    let r = settings(
        &app,
        &owner,
        ws,
        &[("approval_mode", "internal"), ("named_only", "1")],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("id=\"approvers-err\""));

    // The editor is named: in addition to the approving roles.
    let r = settings(
        &app,
        &owner,
        ws,
        &[("approval_mode", "internal"), ("approver", &ed)],
    )
    .await;
    assert_eq!(r.status(), 303);
    let (_, page) = app.get(&owner, &format!("/w/{ws}/settings")).await;
    assert!(page.contains(&format!("name=\"approver\" value=\"{ed}\" checked")));
    compose(&app, &contributor, ws, ch, "Un").await;
    compose(&app, &contributor, ws, ch, "Deux").await;
    let (one, two) = (
        post_of(&app, ws, "Un").await,
        post_of(&app, ws, "Deux").await,
    );
    let (_, queue) = app.get(&editor, &format!("/w/{ws}/approvals")).await;
    assert!(
        queue.contains("name=\"decision\""),
        "the named editor sees the decision form"
    );
    assert_eq!(decide(&app, &editor, ws, one, "approve").await, 303);
    assert_eq!(
        decide(&app, &approver, ws, two, "approve").await,
        303,
        "roles still decide"
    );

    // Instead of roles: the approver role no longer decides, the named editor does.
    let r = settings(
        &app,
        &owner,
        ws,
        &[
            ("approval_mode", "internal"),
            ("approver", &ed),
            ("named_only", "1"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    compose(&app, &contributor, ws, ch, "Trois").await;
    let three = post_of(&app, ws, "Trois").await;
    assert_eq!(decide(&app, &approver, ws, three, "approve").await, 403);
    assert_eq!(decide(&app, &owner, ws, three, "approve").await, 403);
    // Nobody approves their own post, named or not.
    compose(&app, &editor, ws, ch, "Quatre").await;
    let four = post_of(&app, ws, "Quatre").await;
    assert_eq!(decide(&app, &editor, ws, four, "approve").await, 422);
    assert_eq!(decide(&app, &editor, ws, three, "approve").await, 303);
    let (_, audit) = app
        .get(&owner, &format!("/w/{ws}/audit?action=approval."))
        .await;
    assert!(audit.contains("approval.settings") && audit.contains("(only)"));
    // The contributor learns every decision in the app.
    let co = user_id(&app, "co@example.com").await;
    let notes = app.state.store.notifications(co, 10).await.unwrap();
    assert_eq!(
        notes
            .iter()
            .filter(|n| n.kind == "approval.approve")
            .count(),
        3
    );
}

/// Posts a decision on a review page with the page's own CSRF token (no session).
async fn client_decides(
    app: &TestApp,
    c: &reqwest::Client,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    app.submit(c, path, path, fields).await
}

#[tokio::test]
async fn client_review_through_an_expiring_single_use_link() {
    let app = spawn_app().await;
    let owner = app.owner("en").await;
    let ws = app.create_workspace(&owner, "Brand").await;
    let ch = app.channel(ws, "webhook", "Hook", json!({})).await;
    let contributor = app.join(&owner, ws, "co@example.com", "contributor").await;
    settings(&app, &owner, ws, &[("approval_mode", "internal_client")]).await;
    compose(&app, &contributor, ws, ch, "Promo de printemps").await;
    compose(&app, &contributor, ws, ch, "Autre publication").await;
    let post = post_of(&app, ws, "Promo de printemps").await;
    let other = post_of(&app, ws, "Autre publication").await;
    let links = format!("/w/{ws}/approvals/{post}/links");
    // Only at the client stage.
    let r = app
        .submit(
            &owner,
            &format!("/w/{ws}/approvals"),
            &links,
            &[("days", "7")],
        )
        .await;
    assert_eq!(r.status(), 409);
    for p in [post, other] {
        assert_eq!(decide(&app, &owner, ws, p, "approve").await, 303);
    }
    // Managers only.
    let r = app
        .submit(&contributor, &format!("/w/{ws}/approvals"), &links, &[])
        .await;
    assert_eq!(r.status(), 403);

    let make = || async {
        let r = app
            .submit(
                &owner,
                &format!("/w/{ws}/approvals"),
                &links,
                &[("days", "7")],
            )
            .await;
        assert_eq!(r.status(), 200);
        let page = r.text().await.unwrap();
        let url = regex::Regex::new(r#"id="review-link">([^<]+)<"#)
            .unwrap()
            .captures(&page)
            .unwrap()[1]
            .to_string();
        url.strip_prefix(&app.url).unwrap().to_string()
    };
    let path = make().await;
    let token = path.rsplit('/').next().unwrap().to_string();
    assert!(path.starts_with(&format!("/review/{post}/")));
    let stored: String =
        relais_store::sqlx::query_scalar("SELECT token_hash FROM review_links WHERE post_id = $1")
            .bind(post)
            .fetch_one(app.state.store.pool())
            .await
            .unwrap();
    assert_ne!(stored, token, "the token is stored hashed");
    let (_, approvals) = app.get(&owner, &format!("/w/{ws}/approvals")).await;
    assert!(!approvals.contains(&token), "shown once");

    // A visitor without an account: the post read-only, its checks, the decision form.
    let client = client("fr");
    let (s, page) = app.get(&client, &path).await;
    assert_eq!(s, 200);
    assert!(page.contains("Promo de printemps") && !page.contains("Autre publication"));
    assert!(
        page.contains("Aucun problème trouvé"),
        "the checks are shown"
    );
    assert!(page.contains("name=\"_csrf\""));
    // The same token on another post does nothing.
    let (s, _) = app.get(&client, &format!("/review/{other}/{token}")).await;
    assert_eq!(s, 404);
    let csrf = csrf_of(&page);
    let r = client
        .post(app.at(&format!("/review/{other}/{token}")))
        .form(&[
            ("name", "Claire"),
            ("decision", "approve"),
            ("_csrf", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        app.state.store.targets_of_post(other).await.unwrap()[0].state,
        S::InReview
    );
    // CSRF: a post without the cookie's token is refused.
    let r = client
        .post(app.at(&path))
        .form(&[("name", "Claire"), ("decision", "approve")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // A name is needed; requesting changes needs a comment.
    let r = client_decides(
        &app,
        &client,
        &path,
        &[("name", ""), ("decision", "approve")],
    )
    .await;
    assert_eq!(r.status(), 422);
    let r = client_decides(
        &app,
        &client,
        &path,
        &[("name", "Claire"), ("decision", "changes")],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("id=\"comment-err\""));

    let r = client_decides(
        &app,
        &client,
        &path,
        &[
            ("name", "Claire Client"),
            ("decision", "approve"),
            ("comment", "Parfait"),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("la publication est validée"));
    let targets = app.state.store.targets_of_post(post).await.unwrap();
    assert_eq!(targets[0].state, S::Scheduled);
    let decisions = app.state.store.decisions(post).await.unwrap();
    assert_eq!(
        decisions.last().unwrap().by,
        "client via link: Claire Client"
    );
    let (_, audit) = app
        .get(&owner, &format!("/w/{ws}/audit?action=approval.approve"))
        .await;
    assert!(audit.contains("client via link: Claire Client") && audit.contains("Parfait"));

    // Spent: neither the page nor a second decision.
    let (s, page) = app.get(&client, &path).await;
    assert_eq!(s, 410);
    assert!(page.contains("déjà servi"));
    let r = client
        .post(app.at(&path))
        .form(&[
            ("name", "Claire"),
            ("decision", "reject"),
            ("comment", "non"),
            ("_csrf", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 410);
    assert_eq!(
        app.state.store.targets_of_post(post).await.unwrap()[0].state,
        S::Scheduled
    );

    // Expired and revoked links (on the other post).
    let links = format!("/w/{ws}/approvals/{other}/links");
    let r = app
        .submit(
            &owner,
            &format!("/w/{ws}/approvals"),
            &links,
            &[("days", "3")],
        )
        .await;
    let page = r.text().await.unwrap();
    let expired = regex::Regex::new(r#"id="review-link">[^<]*(/review/[^<]+)<"#)
        .unwrap()
        .captures(&page)
        .unwrap()[1]
        .to_string();
    relais_store::sqlx::query("UPDATE review_links SET expires_at = $1 WHERE post_id = $2")
        .bind(relais_store::now() - 1000)
        .bind(other)
        .execute(app.state.store.pool())
        .await
        .unwrap();
    let (s, page) = app.get(&client, &expired).await;
    assert_eq!(s, 410);
    assert!(page.contains("expiré"));
    let r = app
        .submit(
            &owner,
            &format!("/w/{ws}/approvals"),
            &links,
            &[("days", "99")],
        )
        .await;
    assert_eq!(r.status(), 422, "lifetimes are among those offered");
    let r = app
        .submit(&owner, &format!("/w/{ws}/approvals"), &links, &[])
        .await;
    let page = r.text().await.unwrap();
    let live = regex::Regex::new(r#"id="review-link">[^<]*(/review/[^<]+)<"#)
        .unwrap()
        .captures(&page)
        .unwrap()[1]
        .to_string();
    let id = app
        .state
        .store
        .open_review_links(ws, other, relais_store::now())
        .await
        .unwrap()[0]
        .id;
    let r = app
        .submit(
            &owner,
            &format!("/w/{ws}/approvals"),
            &format!("/w/{ws}/review-links/{id}/revoke"),
            &[],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (s, _) = app.get(&client, &live).await;
    assert_eq!(s, 404, "revoked");
}

#[tokio::test]
async fn pending_approvals_expire_back_to_draft() {
    let app = spawn_app().await;
    let owner = app.owner("en").await;
    let ws = app.create_workspace(&owner, "Brand").await;
    let ch = app.channel(ws, "webhook", "Hook", json!({})).await;
    let contributor = app.join(&owner, ws, "co@example.com", "contributor").await;
    let r = settings(
        &app,
        &owner,
        ws,
        &[
            ("approval_mode", "internal"),
            ("approval_expiry_days", "400"),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("1 to 365"));
    let r = settings(
        &app,
        &owner,
        ws,
        &[("approval_mode", "internal"), ("approval_expiry_days", "2")],
    )
    .await;
    assert_eq!(r.status(), 303);
    compose(&app, &contributor, ws, ch, "Attend trop").await;
    let post = post_of(&app, ws, "Attend trop").await;
    let day = 24 * 3600 * 1000;
    let expire = |at: i64| relais_web::service::approval_expiry::expire_pending(&app.state, at);
    assert_eq!(
        expire(relais_store::now() + day).await.unwrap(),
        0,
        "not yet"
    );
    assert_eq!(
        expire(relais_store::now() + 2 * day + 60_000)
            .await
            .unwrap(),
        1
    );
    assert!(app
        .state
        .store
        .pending_reviews(ws)
        .await
        .unwrap()
        .is_empty());
    let t = &app.state.store.targets_of_post(post).await.unwrap()[0];
    assert_eq!(t.state, S::Draft);
    assert_eq!(
        app.state.store.decisions(post).await.unwrap()[0].decision,
        "expired"
    );
    let co = user_id(&app, "co@example.com").await;
    let notes = app.state.store.notifications(co, 10).await.unwrap();
    assert!(notes
        .iter()
        .any(|n| n.kind == "approval.expired" && n.message.contains("went back to draft")));
    assert!(app
        .mails()
        .await
        .iter()
        .any(|(to, subject, _)| to == "co@example.com" && subject.contains("went back to draft")));
    let (_, audit) = app
        .get(&owner, &format!("/w/{ws}/audit?action=approval.expire"))
        .await;
    assert!(audit.contains("draft after 2 d"));
    assert_eq!(
        expire(relais_store::now() + 10 * day).await.unwrap(),
        0,
        "once"
    );
    // The worker runs it on its own.
    let n: i64 = relais_store::sqlx::query_scalar(
        "SELECT COUNT(*) FROM recurring_jobs WHERE kind = 'approvals.expire'",
    )
    .fetch_one(app.state.store.pool())
    .await
    .unwrap();
    assert_eq!(n, 1);
}
