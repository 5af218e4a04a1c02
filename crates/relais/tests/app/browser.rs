//! End-to-end runs in a real browser (Debian's Chromium through chromedriver) with real email
//! (the SMTP sink): setup → owner → workspace → invitation by email → a second user joins as
//! editor → cannot see another workspace; and compose for two channels → live counters →
//! schedule → an approver approves → the worker publishes → the calendar links to the posts.
//! Needs WEBDRIVER_URL (start-chromedriver.sh) and SMTP_HOST/SMTP_PORT/SMTP_SINK_DIR
//! (start-smtp.sh). With CI=true a missing peer fails the test; otherwise it is skipped.

use crate::common;
use common::*;
use serde_json::json;
use std::time::{Duration, Instant};

mod webdriver;
use webdriver::*;

#[tokio::test]
async fn setup_invite_join_and_isolation_in_a_real_browser() {
    let Some((webdriver, smtp_host, smtp_port, sink)) = peers() else {
        return;
    };
    let app = spawn_with(|s| {
        s.smtp = Some(relais_web::mail::SmtpSettings {
            host: smtp_host,
            port: smtp_port,
            username: None,
            password: None,
            security: "none".into(),
            from: "relais <relais@example.com>".into(),
        });
    })
    .await;
    let started = std::time::SystemTime::now() - Duration::from_secs(1);
    let b = Browser::start(&webdriver).await;

    // Setup: the one-time link → owner account.
    b.go(app.setup_link.as_ref().unwrap()).await;
    b.wait_for("Create the owner account").await;
    b.screenshot("1-setup").await;
    b.fill("#name", "Olga Owner").await;
    b.fill("#email", "olga@example.com").await;
    b.fill("#password", "correct horse battery").await;
    b.fill("#password_confirm", "correct horse battery").await;
    b.click("button[type=submit]").await;
    b.wait_for("Your workspaces").await;

    // Two workspaces.
    for name in ["Citroën", "Secret project"] {
        b.go(&app.at("/")).await;
        b.fill("#name", name).await;
        b.fill("#time_zone", "Europe/Paris").await;
        b.click("form.grid button[type=submit]").await;
        b.wait_for("Your role").await;
    }
    let ws: Vec<_> = app.state.store.memberships(1).await.unwrap();
    let brand = ws
        .iter()
        .find(|m| m.workspace.name == "Citroën")
        .unwrap()
        .workspace
        .id;
    let secret = ws
        .iter()
        .find(|m| m.workspace.name == "Secret project")
        .unwrap()
        .workspace
        .id;
    b.screenshot("2-workspace").await;

    // Invite an editor by email.
    b.go(&app.at(&format!("/w/{brand}/members"))).await;
    b.fill("#email", "eddie@example.com").await;
    b.select("#role", "editor").await;
    b.click("section button[type=submit]").await;
    b.wait_for("Invitation sent.").await;
    b.screenshot("3-members").await;
    let mail = wait_for_mail(&sink, "eddie@example.com", started).await;
    let start = mail.find(&app.url).expect("link in the invitation email");
    let link: String = mail[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();

    // Sign out, then the invitee joins through the link.
    b.click("header form button").await;
    b.wait_for("Sign in").await;
    b.go(&link).await;
    b.wait_for("Create your account to accept").await;
    b.fill("#name", "Eddie Editor").await;
    b.fill("#password", "editor password 1").await;
    b.fill("#password_confirm", "editor password 1").await;
    b.click("button[type=submit]").await;
    let page = b.wait_for("Your role").await;
    assert!(page.contains("Editor") && page.contains("Citroën"));
    b.screenshot("4-editor").await;

    // The editor cannot see the other workspace: it does not exist for them.
    b.go(&app.at(&format!("/w/{secret}"))).await;
    let page = b.wait_for("Error 404").await;
    assert!(!page.contains("Secret project"));
    b.go(&app.at("/")).await;
    let page = b.wait_for("Your workspaces").await;
    assert!(page.contains("Citroën") && !page.contains("Secret project"));
    assert!(b.url().await.ends_with('/'));
    b.quit().await;
}

/// A webhook receiver that answers like a network: an id and the post's address.
async fn receiver() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::sync::{Arc, Mutex};
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    let (s, b) = (seen.clone(), base.clone());
    let app = axum::Router::new().route(
        "/hook/{n}",
        axum::routing::post(move |body: String| {
            let (s, b) = (s.clone(), b.clone());
            async move {
                let n = {
                    let mut v = s.lock().unwrap();
                    v.push(body);
                    v.len()
                };
                axum::Json(json!({"id": format!("post-{n}"), "url": format!("{b}/posts/{n}")}))
            }
        }),
    );
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (base, seen)
}

#[tokio::test]
async fn compose_approve_publish_and_see_it_on_the_calendar_in_a_real_browser() {
    let Some((webdriver, ..)) = peers() else {
        return;
    };
    let (hooks, seen) = receiver().await;
    let app = spawn_with(|s| s.security.fetch_allow = vec!["127.0.0.1/32".into()]).await;
    // Set-up over HTTP: owner, workspace (Europe/Paris), one internal approval stage, two
    // webhook channels on the local receiver, and an approver.
    let owner = app.owner("en").await;
    let ws = app.create_workspace(&owner, "Citroën").await;
    let r = app
        .submit(
            &owner,
            &format!("/w/{ws}/settings"),
            &format!("/w/{ws}/approval-mode"),
            &[("approval_mode", "internal")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let mut channels = Vec::new();
    for (i, name) in ["Blog", "Zapier"].iter().enumerate() {
        let page = format!("/w/{ws}/channels");
        let url = format!("{hooks}/hook/{i}");
        let fields = [
            ("network", "webhook"),
            ("name", name),
            ("url", url.as_str()),
            ("secret", "s3cr3t-signing"),
        ];
        assert_eq!(
            app.submit(&owner, &page, &page, &fields).await.status(),
            303
        );
    }
    for c in app.state.store.channels(ws).await.unwrap() {
        channels.push(c.id);
    }
    let approver = app.join(&owner, ws, "ap@example.com", "approver").await;

    let b = Browser::start(&webdriver).await;
    b.login(&app, "owner@example.com", "correct horse battery")
        .await;
    b.go(&app.at(&format!("/w/{ws}/compose"))).await;
    b.wait_for("New publication").await;
    for id in &channels {
        b.click(&format!("input[name=channel][value='{id}']")).await;
    }
    // The counters follow the text as it is typed.
    let text = "Spring launch: the new range is out";
    b.fill("#body", text).await;
    let counted = |n: usize| format!("<strong>{n}</strong> characters");
    let page = b.wait_for(&counted(text.chars().count())).await;
    assert_eq!(
        page.matches(&counted(text.chars().count())).count(),
        2,
        "one per channel"
    );
    let more = " — today";
    let e = b.find("#body").await;
    b.cmd(
        reqwest::Method::POST,
        &format!("/element/{e}/value"),
        json!({"text": more}),
    )
    .await;
    let full = format!("{text}{more}");
    b.wait_for(&counted(full.chars().count())).await;
    b.screenshot("5-compose").await;

    // Schedule for the current minute in Paris (the workspace's zone, not the browser's).
    let paris = || {
        relais_domain::calendar::local("Europe/Paris".parse().unwrap(), relais_store::now())
            .unwrap()
            .0
    };
    let mut now = paris();
    if chrono::Timelike::second(&now) > 45 {
        tokio::time::sleep(Duration::from_secs(16)).await;
        now = paris();
    }
    let (date, time) = (
        now.format("%Y-%m-%d").to_string(),
        now.format("%H:%M").to_string(),
    );
    b.exec(
        "document.getElementById('date').value = arguments[0]; document.getElementById('time').value = arguments[1];",
        json!([date, time]),
    )
    .await;
    b.click("button[name=action][value=schedule]").await;
    let t0 = Instant::now();
    while app
        .state
        .store
        .pending_reviews(ws)
        .await
        .unwrap()
        .is_empty()
    {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "submitted for approval"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        seen.lock().unwrap().is_empty(),
        "nothing goes out before approval"
    );

    // The approver approves in the browser.
    b.click("header form button").await;
    b.wait_for("Sign in").await;
    b.login(&app, "ap@example.com", "member password 1").await;
    b.go(&app.at(&format!("/w/{ws}/approvals"))).await;
    b.wait_for(&full).await;
    b.click("button[name=decision][value=approve]").await;
    b.wait_for("Nothing waits for a decision.").await;

    // The worker publishes once per channel; the calendar links to both remote posts.
    let t0 = Instant::now();
    loop {
        let targets = app
            .state
            .store
            .list_targets(ws, &Default::default())
            .await
            .unwrap();
        if targets.iter().all(|t| t.state.as_str() == "published") {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "published: {targets:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        seen.lock().unwrap().len(),
        2,
        "exactly one delivery per channel"
    );
    // More of a week for the picture: one scheduled later today, one draft.
    let later = relais_domain::calendar::local(
        "Europe/Paris".parse().unwrap(),
        relais_store::now() + 2 * 3600 * 1000,
    )
    .unwrap()
    .0;
    let (d, t) = (
        later.format("%Y-%m-%d").to_string(),
        later.format("%H:%M").to_string(),
    );
    let ch = channels[0].to_string();
    for (text, action) in [
        ("Weekend recipe: tarte tatin", "schedule"),
        ("Idea: behind the scenes", "draft"),
    ] {
        let fields = [
            ("body", text),
            ("channel", ch.as_str()),
            ("action", action),
            ("date", &d),
            ("time", &t),
        ];
        let compose = format!("/w/{ws}/compose");
        assert_eq!(
            app.submit(&owner, &compose, &compose, &fields)
                .await
                .status(),
            303
        );
    }
    let pending = app.state.store.pending_reviews(ws).await.unwrap()[0].post_id;
    let r = app
        .submit(
            &approver,
            &format!("/w/{ws}/approvals"),
            &format!("/w/{ws}/approvals/{pending}"),
            &[("decision", "approve")],
        )
        .await;
    assert_eq!(r.status(), 303);
    b.window(1280, 2200).await;
    b.go(&app.at(&format!("/w/{ws}/calendar?view=week"))).await;
    let page = b.wait_for(&format!("{hooks}/posts/2")).await;
    assert!(page.contains(&format!("href=\"{hooks}/posts/1\"")));
    assert!(page.contains("class=\"st\">Published<"), "status in words");
    assert!(page.contains("Spring launch"));
    b.screenshot("6-calendar-week").await;
    b.go(&app.at(&format!("/w/{ws}/calendar?view=day"))).await;
    b.wait_for(&format!("{hooks}/posts/2")).await;
    b.screenshot("7-calendar-day").await;

    // The keyboard alternative to drag and drop: the owner opens "Move…" with Enter, sets a new
    // time in the form (in the workspace's zone) and sends it.
    b.click("header form button").await;
    b.wait_for("Sign in").await;
    b.login(&app, "owner@example.com", "correct horse battery")
        .await;
    b.window(1280, 1000).await;
    b.go(&app.at(&format!("/w/{ws}/calendar?view=day&date={d}")))
        .await;
    b.wait_for("Weekend recipe").await;
    let summary = b.find("details.move summary").await;
    b.cmd(
        reqwest::Method::POST,
        &format!("/element/{summary}/value"),
        json!({"text": "\u{E007}"}),
    )
    .await;
    b.wait_for("<details class=\"move\" open").await;
    let target = app
        .state
        .store
        .list_targets(ws, &Default::default())
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.body.starts_with("Weekend"))
        .unwrap();
    let moved = relais_domain::calendar::local(
        "Europe/Paris".parse().unwrap(),
        target.scheduled_at.unwrap() + 3600 * 1000,
    )
    .unwrap()
    .0;
    b.exec(
        "document.getElementById(arguments[0]).value = arguments[1]; document.getElementById(arguments[2]).value = arguments[3];",
        json!([
            format!("mv-date-{}", target.id),
            moved.format("%Y-%m-%d").to_string(),
            format!("mv-time-{}", target.id),
            moved.format("%H:%M").to_string()
        ]),
    )
    .await;
    b.screenshot("8-move").await;
    b.click("details.move[open] button[type=submit]").await;
    let t0 = Instant::now();
    while app
        .state
        .store
        .target(target.id)
        .await
        .unwrap()
        .scheduled_at
        != target.scheduled_at.map(|x| x + 3600 * 1000)
    {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "moved an hour later"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    b.go(&app.at(&format!("/w/{ws}/calendar?view=month&date={d}")))
        .await;
    b.wait_for("Weekend recipe").await;
    b.screenshot("9-calendar-month").await;
    b.quit().await;
}
