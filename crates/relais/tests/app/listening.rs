//! Listening end to end: a feed served on loopback, queries of two workspaces, mentions stored
//! once, hostile HTML inert, a private address refused unless allow-listed.

use crate::common;
use common::*;
use std::time::Duration;

const FEED: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Auto news</title><link>http://news.example/</link><language>fr</language>
<item><guid>a1</guid><title>La nouvelle Citroën C5 Aircross</title><link>http://news.example/a1</link>
<description>&lt;p&gt;Essai complet de la &lt;b&gt;Citroën&lt;/b&gt; C5 Aircross.&lt;script&gt;alert(1)&lt;/script&gt;&lt;/p&gt;</description></item>
<item><guid>a2</guid><title>Peugeot rappelle la 3008</title><link>http://news.example/a2</link><description>Un rappel touche 12 000 véhicules.</description></item>
<item><guid>a3</guid><title>Météo du week-end</title><link>http://news.example/a3</link><description>Du soleil partout.</description></item>
</channel></rss>"#;

async fn serve_feed() -> String {
    let app = axum::Router::new().route(
        "/feed.xml",
        axum::routing::get(|| async { ([("content-type", "application/rss+xml")], FEED) }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    format!("http://{addr}/feed.xml")
}

async fn wait_mentions(app: &TestApp, ws: i64, n: usize) -> Vec<relais_store::listening::Mention> {
    for _ in 0..200 {
        let m = app.state.store.mentions(ws, None, 100).await.unwrap();
        if m.len() >= n {
            return m;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no mentions in time for workspace {ws}");
}

#[tokio::test]
async fn a_feed_becomes_mentions_in_each_workspace_once() {
    let url = serve_feed().await;
    let app = spawn_with(|s| s.security.fetch_allow = vec!["127.0.0.1/32".into()]).await;
    let owner = app.owner("fr").await;
    let brand = app.create_workspace(&owner, "Citroën").await;
    let other = app.create_workspace(&owner, "Peugeot").await;
    let l = |ws: i64| format!("/w/{ws}/listening");

    // A query that does not parse is refused with its column.
    let r = app
        .submit(
            &owner,
            &l(brand),
            &format!("/w/{brand}/listening/queries"),
            &[
                ("name", "Marque"),
                ("expression", "citroen AND (c5 OR"),
                ("tag", "brand"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(body.contains("col."), "column given: {body}");
    for (ws, name, expr, tag) in [
        (brand, "Marque", "citroen", "brand"),
        (brand, "Concurrent", "peugeot OR renault", "competitor"),
        (other, "Rappels", "rappel*", "topic"),
    ] {
        let r = app
            .submit(
                &owner,
                &l(ws),
                &format!("/w/{ws}/listening/queries"),
                &[("name", name), ("expression", expr), ("tag", tag)],
            )
            .await;
        assert_eq!(r.status(), 303);
    }
    for ws in [brand, other] {
        let r = app
            .submit(
                &owner,
                &l(ws),
                &format!("/w/{ws}/listening/sources"),
                &[("url", &url)],
            )
            .await;
        assert_eq!(r.status(), 303);
    }
    let mentions = wait_mentions(&app, brand, 2).await;
    assert_eq!(mentions.len(), 2);
    assert!(mentions.iter().all(|m| m.lang.as_deref() == Some("fr")));
    let others = wait_mentions(&app, other, 1).await;
    assert_eq!(
        others.len(),
        1,
        "each workspace sees its own queries' matches"
    );
    let (feeds,): (i64,) = (relais_store::Row::try_get(
        &relais_store::sqlx::query("SELECT COUNT(*) FROM feeds")
            .fetch_one(app.state.store.pool())
            .await
            .unwrap(),
        0,
    )
    .unwrap(),);
    assert_eq!(feeds, 1, "one shared ingest per URL");

    // The page shows them; the feed's markup is text, never HTML.
    let (_, page) = app.get(&owner, &l(brand)).await;
    assert!(page.contains("La nouvelle Citroën C5 Aircross") && page.contains("Peugeot rappelle"));
    assert!(
        !page.contains("<script>alert(1)") && !page.contains("<b>Citroën</b>"),
        "hostile HTML inert"
    );
    // Polling again stores nothing twice.
    relais_store::sqlx::query("UPDATE feeds SET next_poll_at = 0")
        .execute(app.state.store.pool())
        .await
        .unwrap();
    let listener = relais_listener::Listener::new(app.state.store.clone(), app.state.net.clone());
    listener.poll_due(10).await.unwrap();
    assert_eq!(
        app.state
            .store
            .mentions(brand, None, 100)
            .await
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn private_addresses_are_refused_unless_allow_listed() {
    let url = serve_feed().await;
    let app = spawn_app().await;
    let owner = app.owner("en").await;
    let ws = app.create_workspace(&owner, "Brand").await;
    let r = app
        .submit(
            &owner,
            &format!("/w/{ws}/listening"),
            &format!("/w/{ws}/listening/sources"),
            &[("url", &url)],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("private or local address"));
    let r = app
        .submit(
            &owner,
            &format!("/w/{ws}/listening"),
            &format!("/w/{ws}/listening/sources"),
            &[("url", "ftp://example.com/x")],
        )
        .await;
    assert!(r.text().await.unwrap().contains("is not a web address"));
}

#[tokio::test]
async fn opml_import_export_and_mentions_csv() {
    let url = serve_feed().await;
    let app = spawn_with(|s| s.security.fetch_allow = vec!["127.0.0.1/32".into()]).await;
    let owner = app.owner("en").await;
    let ws = app.create_workspace(&owner, "Brand").await;
    let l = format!("/w/{ws}/listening");
    let r = app
        .submit(
            &owner,
            &l,
            &format!("/w/{ws}/listening/queries"),
            &[
                ("name", "Brand"),
                ("expression", "citroen"),
                ("tag", "brand"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let r = app
        .submit(
            &owner,
            &l,
            &format!("/w/{ws}/listening/opml"),
            &[("opml", "not opml at all")],
        )
        .await;
    assert_eq!(r.status(), 422);
    let opml = format!(
        r#"<?xml version="1.0"?><opml version="2.0"><head><title>Veille</title></head><body>
<outline text="Auto"><outline type="rss" text="Auto news" xmlUrl="{url}"/></outline>
<outline type="rss" text="Intranet" xmlUrl="http://10.1.2.3/feed"/></body></opml>"#
    );
    let r = app
        .submit(
            &owner,
            &l,
            &format!("/w/{ws}/listening/opml"),
            &[("opml", &opml)],
        )
        .await;
    assert_eq!(r.status(), 303);
    let sources = app.state.store.sources(ws).await.unwrap();
    assert_eq!(sources.len(), 1, "the private address was skipped");
    assert_eq!(sources[0].name, "Auto news");
    let exported = owner
        .get(app.at(&format!("/w/{ws}/listening/sources.opml")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(exported.contains(&url) && exported.contains("<opml"));
    wait_mentions(&app, ws, 1).await;
    let csv = owner
        .get(app.at(&format!("/w/{ws}/listening/mentions.csv")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.starts_with(
        "received_at,published_at,queries,origin,lang,sentiment,author,title,url,text\n"
    ));
    assert!(
        csv.contains("La nouvelle Citroën C5 Aircross") && csv.contains(",Brand,feed,fr,neutral,"),
        "{csv}"
    );
}

#[tokio::test]
async fn a_sentiment_lexicon_extends_the_built_in_one_and_a_bad_one_stops_the_start() {
    let dir = relais_store::testing::TempDir::new();
    let bad = dir.0.join("bad.tsv");
    std::fs::write(&bad, "fr\tcitronnade\tminus\n").unwrap();
    let mut s = relais::config::Settings::from_toml("listen = \"127.0.0.1:0\"\n", "test").unwrap();
    s.data_dir = dir.0.clone();
    s.database_url = format!("sqlite://{}/relais.db", dir.0.display());
    s.listening.sentiment_lexicon = bad.display().to_string();
    let roles = relais::app::Roles {
        web: false,
        worker: true,
    };
    let err = match relais::app::Application::build(&s, roles).await {
        Ok(_) => panic!("a bad lexicon must stop the start"),
        Err(e) => format!("{e:#}"),
    };
    assert!(
        err.contains("listening.sentiment_lexicon") && err.contains("line 1"),
        "{err}"
    );
    let good = dir.0.join("good.tsv");
    std::fs::write(&good, "fr\tcitronnade\t-3\n").unwrap();
    let e = relais_listener::Enricher::with_lexicon(&good).unwrap();
    let item = relais_listener::Incoming {
        text: "Cette citronnade, franchement.".into(),
        langs: vec!["fr".into()],
        ..Default::default()
    };
    assert_eq!(e.enrich(&item, 0).sentiment, "negative");
    assert_eq!(
        relais_listener::Enricher::default()
            .enrich(&item, 0)
            .sentiment,
        "neutral"
    );
}
