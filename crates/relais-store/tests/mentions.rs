//! Mentions search and alerts, the same assertions on SQLite and (with `RELAIS_TEST_PG`)
//! PostgreSQL: filters, full text in both dialects, hourly and per-minute counts, alert rules
//! with compare-and-set progress, alerts raised once, escalation targets with sealed secrets.

use relais_domain::Lang;
use relais_store::alerts::{NewAlert, NewAlertRule};
use relais_store::mentions::{MentionFilter, NewMention};
use relais_store::secrets::Keyring;
use relais_store::testing::fresh_store;
use relais_store::users::NewUser;
use relais_store::{Store, StoreError};

struct Fixture {
    store: Store,
    ws: i64,
    other: i64,
    brand: i64,
    rival: i64,
}

async fn fixture(store: Store) -> Fixture {
    let mut tx = store.begin().await.unwrap();
    let u = store
        .create_user(
            &mut tx,
            NewUser {
                email: "a@example.org",
                name: "A",
                password_hash: "x",
                lang: Some(Lang::Fr),
                is_admin: false,
            },
        )
        .await
        .unwrap();
    let ws = store
        .create_workspace(&mut tx, "W", "Europe/Paris", Lang::Fr, u.id)
        .await
        .unwrap()
        .id;
    let other = store
        .create_workspace(&mut tx, "O", "UTC", Lang::En, u.id)
        .await
        .unwrap()
        .id;
    let brand = store
        .create_query(&mut tx, ws, "Brand", "acme", "brand")
        .await
        .unwrap()
        .id;
    let rival = store
        .create_query(&mut tx, ws, "Rival", "globex", "competitor")
        .await
        .unwrap()
        .id;
    tx.commit().await.unwrap();
    Fixture {
        store,
        ws,
        other,
        brand,
        rival,
    }
}

#[allow(clippy::too_many_arguments)]
async fn mention(
    f: &Fixture,
    ws: i64,
    guid: &str,
    q: i64,
    body: &str,
    lang: &str,
    sentiment: &str,
    origin: &str,
) -> Option<i64> {
    let mut tx = f.store.begin().await.unwrap();
    let id = f
        .store
        .insert_mention(
            &mut tx,
            NewMention {
                workspace_id: ws,
                source_id: None,
                guid,
                query_ids: &[q],
                url: None,
                author: Some("someone"),
                title: None,
                body,
                lang: Some(lang),
                published_at: None,
                origin,
                sentiment: Some(sentiment),
                sentiment_score: Some(if sentiment == "negative" { -600 } else { 300 }),
                story_id: Some(7),
            },
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

#[tokio::test]
async fn mentions_are_filtered_and_searched() {
    let db = fresh_store().await.unwrap();
    let f = fixture(db.store.clone()).await;
    let a = mention(
        &f,
        f.ws,
        "g1",
        f.brand,
        "Les livraisons Acme sont en retard, quelle honte",
        "fr",
        "negative",
        "feed",
    )
    .await
    .unwrap();
    let b = mention(
        &f,
        f.ws,
        "g2",
        f.rival,
        "Globex launches a great new phone",
        "en",
        "positive",
        "bluesky",
    )
    .await
    .unwrap();
    let c = mention(
        &f,
        f.ws,
        "g3",
        f.brand,
        "L'Oréal et Acme : partenariat annoncé",
        "fr",
        "neutral",
        "mastodon",
    )
    .await
    .unwrap();
    // Same guid again in the same workspace: kept once; another workspace has its own.
    assert!(
        mention(&f, f.ws, "g1", f.brand, "dup", "fr", "neutral", "feed")
            .await
            .is_none()
    );
    mention(
        &f,
        f.other,
        "g1",
        999,
        "Acme livraison",
        "fr",
        "neutral",
        "feed",
    )
    .await
    .unwrap();

    let ids = |v: Vec<relais_store::mentions::Mention>| v.iter().map(|m| m.id).collect::<Vec<_>>();
    let search = |filter: MentionFilter| {
        let store = f.store.clone();
        let ws = f.ws;
        async move {
            ids(store
                .search_mentions(
                    ws,
                    &MentionFilter {
                        limit: 100,
                        ..filter
                    },
                )
                .await
                .unwrap())
        }
    };
    assert_eq!(search(MentionFilter::default()).await, vec![c, b, a]);
    assert_eq!(
        search(MentionFilter {
            query_id: f.rival,
            ..Default::default()
        })
        .await,
        vec![b]
    );
    assert_eq!(
        search(MentionFilter {
            tag: "brand".into(),
            ..Default::default()
        })
        .await,
        vec![c, a]
    );
    assert_eq!(
        search(MentionFilter {
            lang: "en".into(),
            ..Default::default()
        })
        .await,
        vec![b]
    );
    assert_eq!(
        search(MentionFilter {
            sentiment: "negative".into(),
            ..Default::default()
        })
        .await,
        vec![a]
    );
    assert_eq!(
        search(MentionFilter {
            origin: "mastodon".into(),
            ..Default::default()
        })
        .await,
        vec![c]
    );
    assert_eq!(
        search(MentionFilter {
            after_id: b,
            ..Default::default()
        })
        .await,
        vec![c]
    );
    // Full text: a plural finds the singular's stem, accents and case do not matter.
    assert_eq!(
        search(MentionFilter {
            text: "livraison".into(),
            ..Default::default()
        })
        .await,
        vec![a]
    );
    assert_eq!(
        search(MentionFilter {
            text: "LOREAL partenariat".into(),
            ..Default::default()
        })
        .await
        .len(),
        0
    );
    assert_eq!(
        search(MentionFilter {
            text: "l'oréal partenariat".into(),
            ..Default::default()
        })
        .await,
        vec![c]
    );
    assert_eq!(
        search(MentionFilter {
            text: "\"new phone\"".into(),
            ..Default::default()
        })
        .await,
        vec![b]
    );
    assert_eq!(
        search(MentionFilter {
            text: "acme -honte".into(),
            ..Default::default()
        })
        .await,
        vec![c]
    );
    // Hostile search text is just words.
    assert_eq!(
        search(MentionFilter {
            text: "\" OR * NEAR( ); DROP TABLE mentions".into(),
            ..Default::default()
        })
        .await
        .len(),
        0
    );
    // Irrelevant mentions leave the view; another workspace's id is not found.
    f.store.mark_irrelevant(f.ws, a).await.unwrap();
    assert_eq!(search(MentionFilter::default()).await, vec![c, b]);
    assert!(matches!(
        f.store.mark_irrelevant(f.other, b).await,
        Err(StoreError::NotFound)
    ));

    let hours = f.store.mention_hours(f.ws, 0).await.unwrap();
    assert_eq!(hours.iter().map(|h| h.count).sum::<i64>(), 2);
    let now = relais_store::now();
    let minutes = f
        .store
        .mention_minutes(f.brand, 0, now + 60_000)
        .await
        .unwrap();
    assert_eq!(minutes.iter().map(|m| m.count).sum::<i64>(), 1);
    assert_eq!(minutes.iter().map(|m| m.negative).sum::<i64>(), 0);
    let after = f.store.mentions_after(f.ws, f.brand, 0, 10).await.unwrap();
    assert_eq!(ids(after), vec![c]);
}

#[tokio::test]
async fn alert_rules_advance_once_and_alerts_are_raised_once() {
    let db = fresh_store().await.unwrap();
    let f = fixture(db.store.clone()).await;
    let rule = |ws: i64, q: i64| NewAlertRule {
        workspace_id: ws,
        query_id: q,
        mode: "threshold",
        threshold: 5,
        window_minutes: 60,
        sensitivity: 3,
        cooldown_minutes: 30,
        escalate: true,
        cursor: 0,
        created_by: None,
    };
    // A rule on another workspace's query is refused.
    assert!(matches!(
        f.store.create_alert_rule(rule(f.other, f.brand)).await,
        Err(StoreError::NotFound)
    ));
    let id = f
        .store
        .create_alert_rule(rule(f.ws, f.brand))
        .await
        .unwrap();
    let rules = f.store.alert_rules(f.ws).await.unwrap();
    assert_eq!(rules.len(), 1);
    assert!(rules[0].escalate);
    assert_eq!(f.store.all_alert_rules().await.unwrap().len(), 1);

    let mut tx = f.store.begin().await.unwrap();
    assert!(f
        .store
        .advance_alert_rule(&mut tx, id, 0, 10, "{\"x\":1}", Some(5))
        .await
        .unwrap());
    // A second evaluation that read the old cursor loses.
    assert!(!f
        .store
        .advance_alert_rule(&mut tx, id, 0, 11, "{}", None)
        .await
        .unwrap());
    let alert = NewAlert {
        workspace_id: f.ws,
        rule_id: id,
        query_id: f.brand,
        kind: "threshold",
        title: "Acme: 5 mentions in 60 min",
        brief: "{}",
        detected_at: 1,
        dedup: "rule-1-10",
    };
    let aid = f.store.insert_alert(&mut tx, alert).await.unwrap().unwrap();
    let again = NewAlert {
        workspace_id: f.ws,
        rule_id: id,
        query_id: f.brand,
        kind: "threshold",
        title: "t",
        brief: "{}",
        detected_at: 1,
        dedup: "rule-1-10",
    };
    assert!(f
        .store
        .insert_alert(&mut tx, again)
        .await
        .unwrap()
        .is_none());
    tx.commit().await.unwrap();
    let r = &f.store.alert_rules(f.ws).await.unwrap()[0];
    assert_eq!(
        (r.cursor, r.state.as_str(), r.last_fired_at),
        (10, "{\"x\":1}", Some(5))
    );
    assert_eq!(f.store.alerts(f.ws, 10).await.unwrap().len(), 1);
    assert!(matches!(
        f.store.alert(f.other, aid).await,
        Err(StoreError::NotFound)
    ));
    f.store
        .record_alert_delivery(aid, "email:a@example.org", "sent", None)
        .await
        .unwrap();
    f.store
        .record_alert_delivery(aid, "matrix:!r:x", "failed", Some("403"))
        .await
        .unwrap();
    let d = f.store.alert_deliveries(aid).await.unwrap();
    assert_eq!(d.len(), 2);
    assert_eq!(d[1].detail.as_deref(), Some("403"));

    // Escalation targets keep their credentials sealed and drop them with the target.
    let dir = relais_store::testing::TempDir::new();
    let ring = Keyring::load_or_create(&dir.0.join("keys")).unwrap();
    let mut tx = f.store.begin().await.unwrap();
    let secret = f
        .store
        .put_secret(&mut tx, &ring, "escalation.credentials", b"token")
        .await
        .unwrap();
    let t = f
        .store
        .add_escalation_target(&mut tx, f.ws, "matrix", "Crise", "!room:x", Some(secret))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(f.store.get_secret(&ring, secret).await.unwrap(), b"token");
    assert!(matches!(
        f.store.delete_escalation_target(f.other, t).await,
        Err(StoreError::NotFound)
    ));
    f.store.delete_escalation_target(f.ws, t).await.unwrap();
    assert!(f.store.escalation_targets(f.ws).await.unwrap().is_empty());
    assert!(matches!(
        f.store.get_secret(&ring, secret).await,
        Err(StoreError::NotFound)
    ));
    f.store.delete_alert_rule(f.ws, id).await.unwrap();
    assert!(f.store.alert_rules(f.ws).await.unwrap().is_empty());
}
