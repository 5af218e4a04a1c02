//! Workspaces, members, invitations, isolation, audit — through the pages and the JSON API.

use crate::common;
use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn invitation_roles_isolation_and_audit() {
    let app = spawn_app().await;
    let owner = app.owner("fr").await;
    let brand = app.create_workspace(&owner, "Citroën").await;
    let secret = app.create_workspace(&owner, "Projet secret").await;

    // Bad input names the field, in the user's language.
    let r = app
        .submit(
            &owner,
            "/",
            "/workspaces",
            &[("name", "X"), ("time_zone", "Paris"), ("lang", "fr")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Fuseau horaire n’est pas un fuseau connu"));
    let r = app
        .submit(
            &owner,
            &format!("/w/{brand}/members"),
            &format!("/w/{brand}/members/invite"),
            &[("email", "not-an-email"), ("role", "editor")],
        )
        .await;
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("n’est pas une adresse valide"));

    let editor = app.join(&owner, brand, "eddie@example.com", "editor").await;
    let (s, page) = app.get(&editor, &format!("/w/{brand}")).await;
    assert_eq!(s, 200);
    assert!(page.contains("Citroën") && page.contains("Editor"));
    // Isolation: the other workspace does not exist for the editor (404, not 403).
    for p in [
        format!("/w/{secret}"),
        format!("/w/{secret}/members"),
        format!("/w/{secret}/audit"),
        format!("/w/{secret}/settings"),
    ] {
        assert_eq!(app.get(&editor, &p).await.0, 404, "{p}");
    }
    // Role limits inside the workspace: editors neither manage members nor read the audit log.
    assert_eq!(app.get(&editor, &format!("/w/{brand}/audit")).await.0, 403);
    assert_eq!(
        app.get(&editor, &format!("/w/{brand}/settings")).await.0,
        403
    );
    let (_, members) = app.get(&editor, &format!("/w/{brand}/members")).await;
    assert!(!members.contains("/members/invite"));
    let r = app
        .submit(
            &editor,
            &format!("/w/{brand}/members"),
            &format!("/w/{brand}/members/invite"),
            &[("email", "x@example.com"), ("role", "owner")],
        )
        .await;
    assert_eq!(r.status(), 403);

    // The invitation cannot be used twice.
    let link = app.link_in_mail("eddie@example.com", "http").await;
    let path = format!("/invite/{}", link.split_once("/invite/").unwrap().1);
    let (_, page) = app.get(&client("en"), &path).await;
    assert!(page.contains("already used or revoked"), "{page}");

    // Changing roles; the last owner cannot be demoted.
    let members = app.state.store.members(brand).await.unwrap();
    let eddie = members
        .iter()
        .find(|m| m.email == "eddie@example.com")
        .unwrap()
        .user_id;
    let me = members
        .iter()
        .find(|m| m.email == "owner@example.com")
        .unwrap()
        .user_id;
    let r = app
        .submit(
            &owner,
            &format!("/w/{brand}/members"),
            &format!("/w/{brand}/members/{me}/role"),
            &[("role", "manager")],
        )
        .await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("au moins un propriétaire"));
    let r = app
        .submit(
            &owner,
            &format!("/w/{brand}/members"),
            &format!("/w/{brand}/members/{eddie}/role"),
            &[("role", "manager")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        app.get(&editor, &format!("/w/{brand}/audit")).await.0,
        200,
        "now a manager"
    );

    // Settings change, archive; all in the audit log, filterable and exportable.
    let r = app
        .submit(
            &owner,
            &format!("/w/{brand}/settings"),
            &format!("/w/{brand}/settings"),
            &[
                ("name", "Citroën France"),
                ("time_zone", "America/Martinique"),
                ("lang", "fr"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (_, audit) = app.get(&owner, &format!("/w/{brand}/audit")).await;
    for a in [
        "workspace.create",
        "member.invite",
        "member.join",
        "member.role",
        "workspace.update",
    ] {
        assert!(audit.contains(a), "{a} in audit");
    }
    let (_, filtered) = app
        .get(&owner, &format!("/w/{brand}/audit?action=member.role"))
        .await;
    assert!(filtered.contains("member.role") && !filtered.contains("workspace.update"));
    let r = owner
        .get(app.at(&format!("/w/{brand}/audit.csv?action=member.")))
        .send()
        .await
        .unwrap();
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = r.text().await.unwrap();
    assert!(
        csv.starts_with("at,actor,action,target,before,after\n")
            && csv.contains("\"member.join\"")
            && !csv.contains("workspace.update")
    );
    let r = app
        .submit(
            &owner,
            &format!("/w/{brand}/settings"),
            &format!("/w/{brand}/archive"),
            &[],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (_, page) = app.get(&owner, &format!("/w/{brand}")).await;
    assert!(page.contains("Cet espace est archivé"));
    let r = app
        .submit(
            &owner,
            &format!("/w/{brand}/members"),
            &format!("/w/{brand}/members/invite"),
            &[("email", "late@example.com"), ("role", "client")],
        )
        .await;
    assert_eq!(r.status(), 409, "archived workspaces do not change");
}

#[tokio::test]
async fn expired_and_revoked_invitations() {
    let app = spawn_app().await;
    let owner = app.owner("en").await;
    let ws = app.create_workspace(&owner, "Brand").await;
    app.submit(
        &owner,
        &format!("/w/{ws}/members"),
        &format!("/w/{ws}/members/invite"),
        &[("email", "late@example.com"), ("role", "client")],
    )
    .await;
    let link = app.link_in_mail("late@example.com", "http").await;
    let path = format!("/invite/{}", link.split_once("/invite/").unwrap().1);
    relais_store::sqlx::query("UPDATE invitations SET expires_at = 0")
        .execute(app.state.store.pool())
        .await
        .unwrap();
    let (_, page) = app.get(&client("en"), &path).await;
    assert!(
        page.contains("This invitation has expired: ask for a new one."),
        "{page}"
    );
    let c = client("en");
    let r = app
        .submit(
            &c,
            "/login",
            &path,
            &[
                ("email", "late@example.com"),
                ("name", "L"),
                ("password", "late password 1"),
                ("password_confirm", "late password 1"),
            ],
        )
        .await;
    assert!(r.text().await.unwrap().contains("expired"));
    assert!(
        app.state
            .store
            .user_by_email("late@example.com")
            .await
            .unwrap()
            .is_none(),
        "nothing half-written"
    );
    // Duplicate email on an invitation for an existing account: sign in instead.
    app.submit(
        &owner,
        &format!("/w/{ws}/members"),
        &format!("/w/{ws}/members/invite"),
        &[("email", "owner@example.com"), ("role", "client")],
    )
    .await;
}

#[tokio::test]
async fn json_api_with_tokens_errors_and_isolation() {
    let app = spawn_app().await;
    let owner = app.owner("en").await;
    let token = app.api_token(&owner).await;
    let api = reqwest::Client::new();
    let get = |p: &str| api.get(app.at(&format!("/api/v1{p}"))).bearer_auth(&token);
    assert_eq!(
        api.get(app.at("/api/v1/me")).send().await.unwrap().status(),
        401
    );
    let me: Value = get("/me").send().await.unwrap().json().await.unwrap();
    assert_eq!(me["email"], "owner@example.com");
    assert!(me.get("password_hash").is_none());

    let r = api
        .post(app.at("/api/v1/workspaces"))
        .bearer_auth(&token)
        .json(&json!({"name": "Brand", "time_zone": "Mars/Olympus", "lang": "fr"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert_eq!(
        (e["code"].as_str(), e["field"].as_str()),
        (Some("invalid_time_zone"), Some("time_zone"))
    );
    assert!(e["message"].as_str().unwrap().contains("Europe/Paris"));
    let r = api
        .post(app.at("/api/v1/workspaces"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "request");
    let r = api
        .post(app.at("/api/v1/workspaces"))
        .bearer_auth(&token)
        .json(&json!({"name": "Brand", "time_zone": "Europe/Paris", "lang": "fr"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let ws: Value = r.json().await.unwrap();
    let id = ws["id"].as_i64().unwrap();
    assert_eq!(ws["role"], "owner");
    let r = api
        .patch(app.at(&format!("/api/v1/workspaces/{id}")))
        .bearer_auth(&token)
        .json(&json!({"name": "Brand FR"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["name"], "Brand FR");
    let r = api
        .post(app.at(&format!("/api/v1/workspaces/{id}/invitations")))
        .bearer_auth(&token)
        .json(&json!({"email": "ed@example.com", "role": "editor"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = api
        .post(app.at(&format!("/api/v1/workspaces/{id}/invitations")))
        .bearer_auth(&token)
        .json(&json!({"email": "owner@example.com", "role": "editor"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "already_member");
    let audit: Value = get(&format!("/workspaces/{id}/audit"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(audit["entries"].as_array().unwrap().len() >= 3);
    let csv = get(&format!("/workspaces/{id}/audit?format=csv"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.contains("member.invite"));

    // Another user's token sees nothing of this workspace: 404 everywhere.
    let other = join_other_user(&app, &owner).await;
    let tok2 = app.api_token(&other).await;
    for p in [
        format!("/workspaces/{id}"),
        format!("/workspaces/{id}/members"),
        format!("/workspaces/{id}/audit"),
    ] {
        let r = api
            .get(app.at(&format!("/api/v1{p}")))
            .bearer_auth(&tok2)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{p}");
        assert_eq!(r.json::<Value>().await.unwrap()["code"], "not_found");
    }
    let r = api
        .get(app.at("/api/v1/admin/jobs"))
        .bearer_auth(&tok2)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "admin API hidden from non-admins");
    let jobs: Value = get("/admin/jobs?state=done")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(jobs["stats"]["done"].is_number());
    // Revoked tokens stop working.
    let list: Value = get("/tokens").send().await.unwrap().json().await.unwrap();
    let tid = list["tokens"][0]["id"].as_i64().unwrap();
    assert_eq!(
        api.delete(app.at(&format!("/api/v1/tokens/{tid}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(get("/me").send().await.unwrap().status(), 401);
    let doc: Value = api
        .get(app.at("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.0.3");
}

/// A second user, member of a workspace of their own only.
async fn join_other_user(app: &TestApp, owner: &reqwest::Client) -> reqwest::Client {
    let tmp = app.create_workspace(owner, "Tmp").await;
    let c = app.join(owner, tmp, "zoe@example.com", "editor").await;
    c
}

#[tokio::test]
async fn dead_jobs_are_visible_to_admins_and_retryable() {
    let app = spawn_app().await;
    let owner = app.owner("en").await;
    let mut tx = app.state.store.begin().await.unwrap();
    let job = relais_store::jobs::NewJob {
        max_attempts: 1,
        ..relais_store::jobs::NewJob::now("system.probe", json!({"fail": "permanent"}))
    };
    let id = app
        .state
        .store
        .enqueue(&mut tx, &job)
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    for _ in 0..100 {
        if app.state.store.job(id).await.unwrap().state == "dead" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (_, page) = app.get(&owner, "/admin/jobs").await;
    assert!(page.contains("probe asked to fail permanently"), "{page}");
    let r = app
        .submit(
            &owner,
            "/admin/jobs",
            &format!("/admin/jobs/{id}/retry"),
            &[],
        )
        .await;
    assert_eq!(r.status(), 303);
    let st = app.state.store.job(id).await.unwrap();
    assert!(st.state != "dead" || st.attempts >= 1);
}
