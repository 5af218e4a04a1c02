//! Owned media first: a blog feed served on loopback becomes posts from a template — only the
//! articles published after it was added, each once even when the feed is fetched afresh
//! (lost validators, a restart), and evergreen repeats once per period.

use crate::common;
use common::*;
use relais_store::posts::TargetFilter;
use relais_web::service::blog::{evergreen_due, poll_due};
use std::sync::{Arc, Mutex};

fn rss(items: &[(&str, &str)]) -> String {
    let mut s = String::from(
        r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Blog</title><link>http://blog.example/</link>"#,
    );
    for (guid, title) in items {
        s.push_str(&format!(
            "<item><guid>{guid}</guid><title>{title}</title><link>https://blog.example/{guid}</link><description>Résumé de {title}</description></item>"
        ));
    }
    s.push_str("</channel></rss>");
    s
}

async fn serve(items: Arc<Mutex<Vec<(&'static str, &'static str)>>>) -> String {
    let app = axum::Router::new().route(
        "/feed.xml",
        axum::routing::get(move || {
            let items = items.clone();
            async move {
                (
                    [("content-type", "application/rss+xml")],
                    rss(&items.lock().unwrap()),
                )
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    format!("http://{addr}/feed.xml")
}

async fn bodies(app: &TestApp, ws: i64) -> Vec<String> {
    let targets = app
        .state
        .store
        .list_targets(ws, &TargetFilter::default())
        .await
        .unwrap();
    let mut out = Vec::new();
    for t in targets {
        out.push(app.state.store.post(ws, t.post_id).await.unwrap().body);
    }
    out.sort();
    out
}

/// Makes the feed due now, optionally forgetting its validators (as after a reset).
async fn due(app: &TestApp, ws: i64, forget: bool) {
    let f = &app.state.store.blog_feeds(ws).await.unwrap()[0];
    let st = if forget {
        serde_json::to_string(&relais_feeds::FeedState::new(&f.url)).unwrap()
    } else {
        f.state.clone()
    };
    app.state
        .store
        .record_blog_poll(f.id, &st, 0, None, f.seeded)
        .await
        .unwrap();
}

#[tokio::test]
async fn new_articles_become_posts_once_and_evergreen_repeats() {
    let items = Arc::new(Mutex::new(vec![("old", "Ancien article")]));
    let url = serve(items.clone()).await;
    let app = spawn_with(|s| s.security.fetch_allow = vec!["127.0.0.1/32".into()]).await;
    let owner = app.owner("fr").await;
    let ws = app.create_workspace(&owner, "Acme").await;
    let ch = app
        .channel(ws, "mastodon", "Acme Mastodon", serde_json::json!({}))
        .await;
    let page = format!("/w/{ws}/blog");
    // Bad input: no placeholder, no channel.
    let r = app
        .submit(
            &owner,
            &page,
            &page,
            &[
                ("url", &url),
                ("template", "Hello"),
                ("action", "draft"),
                ("channel", &ch.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Modèle"));
    let r = app
        .submit(
            &owner,
            &page,
            &page,
            &[
                ("url", &url),
                ("template", "{title} {url}"),
                ("action", "draft"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let r = app
        .submit(
            &owner,
            &page,
            &page,
            &[
                ("url", &url),
                ("template", "Nouvel article : {title} {url}"),
                ("action", "draft"),
                ("evergreen_days", "7"),
                ("channel", &ch.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);

    // First poll: what the blog already had is recorded, not posted.
    let now = relais_store::now();
    due(&app, ws, false).await;
    poll_due(&app.state, now).await.unwrap();
    assert!(app.state.store.blog_feeds(ws).await.unwrap()[0].seeded);
    assert!(bodies(&app, ws).await.is_empty());

    items.lock().unwrap().push(("new", "Été 2027"));
    due(&app, ws, false).await;
    assert_eq!(poll_due(&app.state, now).await.unwrap(), 1);
    assert_eq!(
        bodies(&app, ws).await,
        vec!["Nouvel article : Été 2027 https://blog.example/new"]
    );
    // Fetched afresh (no ETag, as after a restart), twice at once: still one post.
    due(&app, ws, true).await;
    let (a, b) = tokio::join!(poll_due(&app.state, now), poll_due(&app.state, now));
    assert_eq!(a.unwrap() + b.unwrap(), 0);
    assert_eq!(bodies(&app, ws).await.len(), 1);

    // Evergreen: one repeat per period, even when two workers look at once.
    let later = now + 8 * 86_400_000;
    let (a, b) = tokio::join!(
        evergreen_due(&app.state, later),
        evergreen_due(&app.state, later)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    assert_eq!(evergreen_due(&app.state, later).await.unwrap(), 0);
    assert_eq!(bodies(&app, ws).await.len(), 2);
    let (_, html) = app.get(&owner, &page).await;
    assert!(html.contains("Nouvel article : {title} {url}") && html.contains("7 jours"));
    // Another workspace neither sees nor removes it.
    let other = app.create_workspace(&owner, "Other").await;
    let id = app.state.store.blog_feeds(ws).await.unwrap()[0].id;
    let r = app
        .submit(
            &owner,
            &format!("/w/{other}/blog"),
            &format!("/w/{other}/blog/{id}/delete"),
            &[],
        )
        .await;
    assert_eq!(r.status(), 404);
}
