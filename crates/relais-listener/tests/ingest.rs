//! The ingest path on a real database (SQLite, or PostgreSQL with `RELAIS_TEST_PG`): mentions
//! stored in multi-row statements, once per workspace and item, linked to every query that
//! matched; the story index rebuilt from stored mentions after a restart.

use relais_domain::Lang;
use relais_listener::{Incoming, Listener};
use relais_store::testing::fresh_store;
use relais_store::users::NewUser;
use relais_store::Store;

async fn setup(store: &Store) -> (i64, i64) {
    let mut tx = store.begin().await.unwrap();
    let u = store
        .create_user(
            &mut tx,
            NewUser {
                email: "cm@example.org",
                name: "cm",
                password_hash: "x",
                lang: Some(Lang::Fr),
                is_admin: false,
            },
        )
        .await
        .unwrap();
    let a = store
        .create_workspace(&mut tx, "A", "Europe/Paris", Lang::Fr, u.id)
        .await
        .unwrap()
        .id;
    let b = store
        .create_workspace(&mut tx, "B", "Europe/Paris", Lang::Fr, u.id)
        .await
        .unwrap()
        .id;
    store
        .create_query(&mut tx, a, "brand", "velorapide", "brand")
        .await
        .unwrap();
    store
        .create_query(&mut tx, a, "recall", "velorapide AND rappel", "topic")
        .await
        .unwrap();
    store
        .create_query(&mut tx, b, "rival", "velorapide OR trottix", "competitor")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    (a, b)
}

fn item(guid: &str, text: &str) -> Incoming {
    Incoming {
        guid: guid.into(),
        text: text.into(),
        ..Incoming::default()
    }
}

fn listener(store: &Store) -> Listener {
    let net = relais_net::Net::new(relais_net::NetConfig::default()).unwrap();
    Listener::new(store.clone(), net)
}

#[tokio::test]
async fn batches_store_each_mention_once_with_all_its_queries() {
    let db = fresh_store().await.unwrap();
    let (a, b) = setup(&db.store).await;
    let l = listener(&db.store);
    let audience = [(a, None), (b, None)];
    // 150 items (more than one multi-row statement), every third about the brand's recall,
    // every fifth about nobody, one guid twice in the batch.
    let mut items: Vec<Incoming> = (0..150)
        .map(|i| match i % 5 {
            0 => item(&format!("g{i}"), "rien à voir, il pleut sur Lyon"),
            _ if i % 3 == 0 => item(
                &format!("g{i}"),
                "Rappel produit chez VeloRapide : les vélos de la série X sont concernés",
            ),
            _ => item(&format!("g{i}"), "Mon vélo VeloRapide est super"),
        })
        .collect();
    items.push(item("g1", "Mon vélo VeloRapide est super"));
    let stored = l.store_matches("bluesky", &audience, &items).await.unwrap();
    assert_eq!(
        stored,
        120 * 2,
        "120 items about the brand, 2 workspaces each"
    );
    // The same batch again (a replayed cursor) stores nothing.
    let again = l.store_matches("bluesky", &audience, &items).await.unwrap();
    assert_eq!(again, 0);

    let ms = db.store.mentions(a, None, 1000).await.unwrap();
    assert_eq!(ms.len(), 120);
    let recall = ms.iter().find(|m| m.body.contains("Rappel")).unwrap();
    assert_eq!(recall.query_ids.len(), 2, "brand and recall queries");
    assert!(recall.sentiment.is_some());
    assert_eq!(recall.lang.as_deref(), Some("fr"));
    let plain = ms.iter().find(|m| m.body.contains("super")).unwrap();
    assert_eq!(plain.query_ids.len(), 1);
    // The link table agrees: filtering by the recall query finds only recall items.
    let recall_q = recall.query_ids.iter().max().copied().unwrap();
    let by_query = db.store.mentions(a, Some(recall_q), 1000).await.unwrap();
    assert_eq!(
        by_query.len(),
        (0..150).filter(|i| i % 5 != 0 && i % 3 == 0).count()
    );
    assert!(by_query.iter().all(|m| m.body.contains("Rappel")));
    let other = db.store.mentions(b, None, 1000).await.unwrap();
    assert_eq!(other.len(), 120);
}

#[tokio::test]
async fn a_restarted_listener_keeps_the_stories_of_its_window() {
    let db = fresh_store().await.unwrap();
    let (a, _) = setup(&db.store).await;
    let audience = [(a, None)];
    // The first post shares the article: its story is named after the article's URL. An
    // echo without the link joins it by its text only if the index remembers the first.
    let first = "VeloRapide rappelle 20000 vélos électriques après des défauts de freinage, les clients doivent cesser de les utiliser";
    let echo = format!("RT @velonews: {first}");
    let l = listener(&db.store);
    let shared = Incoming {
        url: Some("https://news.example/eco/velorapide-rappel?utm_source=bsky".into()),
        ..item("s1", first)
    };
    l.store_matches("bluesky", &audience, &[shared])
        .await
        .unwrap();
    let story = |ms: &[relais_store::mentions::Mention], guid_text: &str| {
        ms.iter()
            .find(|m| m.body == guid_text)
            .and_then(|m| m.story_id)
            .unwrap()
    };
    let ms = db.store.mentions(a, None, 10).await.unwrap();
    let s1 = story(&ms, first);

    // A new process that did not rebuild its index starts a new story for the echo...
    let cold = listener(&db.store);
    cold.store_matches("bluesky", &audience, &[item("s2", &echo)])
        .await
        .unwrap();
    let ms = db.store.mentions(a, None, 10).await.unwrap();
    assert_ne!(story(&ms, &echo), s1, "a cold index cannot know the story");

    // ...one that did puts it in the same story.
    let warm = listener(&db.store);
    assert_eq!(warm.warm_stories().await.unwrap(), 2);
    warm.store_matches(
        "bluesky",
        &audience,
        &[item("s3", &format!("{echo} #velo"))],
    )
    .await
    .unwrap();
    let ms = db.store.mentions(a, None, 10).await.unwrap();
    assert_eq!(story(&ms, &format!("{echo} #velo")), s1);
}
