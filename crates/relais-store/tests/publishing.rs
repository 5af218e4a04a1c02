//! Conformance of channels, posts and targets on SQLite and PostgreSQL: the compare-and-set
//! transitions that make "never publish twice" hold.

use relais_domain::publish::TargetState as S;
use relais_domain::Lang;
use relais_store::channels::NewChannel;
use relais_store::posts::{NewTarget, TargetFilter};
use relais_store::testing::fresh_store;
use relais_store::users::NewUser;
use serde_json::json;

#[tokio::test]
async fn targets_move_only_along_the_state_machine() {
    let db = fresh_store().await.unwrap();
    let s = &db.store;
    let mut tx = s.begin().await.unwrap();
    let u = s
        .create_user(
            &mut tx,
            NewUser {
                email: "a@x.fr",
                name: "A",
                password_hash: "x",
                lang: None,
                is_admin: false,
            },
        )
        .await
        .unwrap();
    let w = s
        .create_workspace(&mut tx, "W", "Europe/Paris", Lang::Fr, u.id)
        .await
        .unwrap();
    let other = s
        .create_workspace(&mut tx, "O", "UTC", Lang::En, u.id)
        .await
        .unwrap();
    let cfg = json!({"instance": "https://m.example"});
    let ch = s
        .create_channel(
            &mut tx,
            NewChannel {
                workspace_id: w.id,
                network: "mastodon",
                name: "Brand",
                config: &cfg,
                secret_id: None,
                limits: &json!({"max_characters": 500}),
                created_by: u.id,
            },
        )
        .await
        .unwrap();
    let post = s
        .create_post(&mut tx, w.id, u.id, "Bonjour", &["launch".into()])
        .await
        .unwrap();
    let t = s
        .add_target(
            &mut tx,
            &post,
            NewTarget {
                channel_id: ch.id,
                body: "Bonjour !",
                options: &json!({}),
                state: S::Draft,
                scheduled_at: None,
            },
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(
        matches!(
            s.channel(other.id, ch.id).await,
            Err(relais_store::StoreError::NotFound)
        ),
        "scoped"
    );
    assert_eq!(
        s.channels(w.id).await.unwrap()[0].limits["max_characters"],
        500
    );
    assert_eq!(
        s.post(w.id, post.id).await.unwrap().tags,
        vec!["launch".to_string()]
    );

    let mut tx = s.begin().await.unwrap();
    assert!(
        s.move_target(&mut tx, t.id, S::Draft, S::Published, None)
            .await
            .is_err(),
        "not a legal move"
    );
    let at = relais_store::now() + 60_000;
    let sched = s
        .move_target(&mut tx, t.id, S::Draft, S::Scheduled, Some(at))
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        (sched.state, sched.version, sched.scheduled_at),
        (S::Scheduled, 1, Some(at))
    );

    assert!(
        s.claim_target(t.id, 0).await.unwrap().is_none(),
        "stale version does nothing"
    );
    let claimed = s.claim_target(t.id, 1).await.unwrap().unwrap();
    assert_eq!((claimed.state, claimed.attempts), (S::Publishing, 1));
    assert!(
        s.claim_target(t.id, 1).await.unwrap().is_none(),
        "claimed once"
    );
    assert!(s
        .settle_attempt(
            t.id,
            S::Unconfirmed,
            "unknown_outcome",
            "timeout after send",
            None
        )
        .await
        .unwrap());
    assert!(s
        .mark_published(t.id, "109", Some("https://m.example/@b/109"))
        .await
        .unwrap());
    assert!(
        !s.mark_published(t.id, "110", None).await.unwrap(),
        "published once"
    );
    let done = s.target(t.id).await.unwrap();
    assert_eq!(
        (done.state, done.remote_id.as_deref()),
        (S::Published, Some("109"))
    );
    let list = s
        .list_targets(
            w.id,
            &TargetFilter {
                state: Some(S::Published),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    assert!(s
        .list_targets(other.id, &TargetFilter::default())
        .await
        .unwrap()
        .is_empty());
    let (counts, late) = s.target_counts(w.id, relais_store::now()).await.unwrap();
    assert_eq!((counts, late), (vec![("published".to_string(), 1)], 0));

    s.set_channel_status(ch.id, "rate_limited", Some("429"), Some(at))
        .await
        .unwrap();
    assert_eq!(
        s.channel(w.id, ch.id).await.unwrap().rate_limited_until,
        Some(at)
    );
}
