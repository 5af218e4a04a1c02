//! The newsletter's user flows, as a browser does them.

use std::time::Duration;

use crate::common::{client, spawn_with, TestApp};

pub async fn app() -> TestApp {
    spawn_with(|s| s.security.fetch_allow = vec!["127.0.0.1/32".into()]).await
}

pub fn marker() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    format!("{}k{:06}", t.as_secs(), t.subsec_micros())
}

/// Saves the mail server settings; returns the response.
pub async fn settings(
    app: &TestApp,
    c: &reqwest::Client,
    ws: i64,
    host: &str,
    port: &str,
    user: &str,
) -> reqwest::Response {
    app.submit(
        c,
        &format!("/w/{ws}/newsletter"),
        &format!("/w/{ws}/newsletter/settings"),
        &[
            ("smtp_host", host),
            ("smtp_port", port),
            ("smtp_security", "none"),
            ("smtp_username", user),
            (
                "smtp_password",
                if user.is_empty() { "" } else { "sink-pw" },
            ),
            ("from_address", "Brand News <news@brand.test>"),
            ("bounce_limit", "1"),
        ],
    )
    .await
}

/// Creates a list; returns (id, public id).
pub async fn list(app: &TestApp, c: &reqwest::Client, ws: i64, name: &str) -> (i64, String) {
    let r = app
        .submit(
            c,
            &format!("/w/{ws}/newsletter"),
            &format!("/w/{ws}/newsletter/lists"),
            &[("list_name", name)],
        )
        .await;
    assert_eq!(r.status(), 303);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let id: i64 = loc.rsplit('/').next().unwrap().parse().unwrap();
    let (_, page) = app.get(c, &loc).await;
    let public = regex::Regex::new(r"/nl/([A-Za-z0-9_-]{16,})")
        .unwrap()
        .captures(&page)
        .unwrap()[1]
        .to_string();
    (id, public)
}

pub async fn subscribe(app: &TestApp, public: &str, email: &str) -> (u16, String) {
    let c = client("en");
    let r = app
        .submit(
            &c,
            &format!("/nl/{public}"),
            &format!("/nl/{public}"),
            &[("email", email), ("name", "Reader"), ("website", "")],
        )
        .await;
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Opens a confirmation link (GET shows a button), then presses it.
pub async fn confirm(app: &TestApp, path: &str) -> (u16, String) {
    let c = client("en");
    let (status, page) = app.get(&c, path).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Confirm my subscription"), "{page}");
    let r = app.submit(&c, path, path, &[]).await;
    (r.status().as_u16(), r.text().await.unwrap())
}

pub async fn send(app: &TestApp, c: &reqwest::Client, ws: i64, fields: &[(&str, &str)]) -> i64 {
    let r = app
        .submit(
            c,
            &format!("/w/{ws}/newsletter/issues/new"),
            &format!("/w/{ws}/newsletter/issues"),
            fields,
        )
        .await;
    let status = r.status();
    let loc = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string());
    assert_eq!(status, 303, "{:?}", r.text().await);
    loc.unwrap().rsplit('/').next().unwrap().parse().unwrap()
}

pub async fn wait_sent(app: &TestApp, issue: i64) {
    for _ in 0..400 {
        let i = app.state.store.issue_by_id(issue).await.unwrap();
        if i.state == "sent" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "issue {issue} not sent: {:?}",
        app.state.store.issue_by_id(issue).await
    );
}
