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

/// The store methods the publisher builds on: re-arming, settling in a transaction, the
/// sweeper's queries, health counts and channel status changes.
#[tokio::test]
async fn publisher_support_queries() {
    use relais_store::jobs::NewJob;
    use relais_store::posts::publish_job_key;

    let db = fresh_store().await.unwrap();
    let s = &db.store;
    let mut tx = s.begin().await.unwrap();
    let u = s
        .create_user(
            &mut tx,
            NewUser {
                email: "p@x.fr",
                name: "P",
                password_hash: "x",
                lang: None,
                is_admin: false,
            },
        )
        .await
        .unwrap();
    let w = s
        .create_workspace(&mut tx, "W", "UTC", Lang::En, u.id)
        .await
        .unwrap();
    let ch = s
        .create_channel(
            &mut tx,
            NewChannel {
                workspace_id: w.id,
                network: "webhook",
                name: "Hook",
                config: &json!({}),
                secret_id: None,
                limits: &json!({}),
                created_by: u.id,
            },
        )
        .await
        .unwrap();
    let post = s.create_post(&mut tx, w.id, u.id, "b", &[]).await.unwrap();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let t = s
            .add_target(
                &mut tx,
                &post,
                NewTarget {
                    channel_id: ch.id,
                    body: "b",
                    options: &json!({}),
                    state: S::Draft,
                    scheduled_at: None,
                },
            )
            .await
            .unwrap();
        ids.push(t.id);
    }
    let past = relais_store::now() - 600_000;
    for id in &ids {
        s.move_target(&mut tx, *id, S::Draft, S::Scheduled, Some(past))
            .await
            .unwrap()
            .unwrap();
    }
    // Only the first target has a pending job for its version.
    let job = NewJob {
        dedupe_key: Some(publish_job_key(ids[0], 1)),
        ..NewJob::now("publish.target", json!({}))
    };
    s.enqueue(&mut tx, &job).await.unwrap();
    tx.commit().await.unwrap();

    let lost = s
        .lost_scheduled_targets(relais_store::now(), 10)
        .await
        .unwrap();
    assert_eq!(lost, vec![(ids[1], 1), (ids[2], 1)]);

    // Re-arming is a compare-and-set on the version.
    let mut tx = s.begin().await.unwrap();
    assert!(s
        .reschedule_target(&mut tx, ids[1], 0, None)
        .await
        .unwrap()
        .is_none());
    let t = s
        .reschedule_target(&mut tx, ids[1], 1, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((t.version, t.scheduled_at), (2, Some(past)));
    tx.commit().await.unwrap();

    // Settling in a transaction returns the new version on a retry.
    let c = s.claim_target(ids[2], 1).await.unwrap().unwrap();
    assert_eq!(c.state, S::Publishing);
    let stale = s
        .stale_publishing_targets(relais_store::now() + 1, 10)
        .await
        .unwrap();
    assert_eq!(stale.len(), 1);
    assert!(s
        .stale_publishing_targets(relais_store::now() - 60_000, 10)
        .await
        .unwrap()
        .is_empty());
    let h = s
        .publishing_health(
            Some(w.id),
            relais_store::now(),
            relais_store::now() - 120_000,
        )
        .await
        .unwrap();
    assert_eq!(
        (
            h[0].due,
            h[0].late,
            h[0].publishing,
            h[0].failed,
            h[0].unconfirmed
        ),
        (2, 2, 1, 0, 0)
    );
    let mut tx = s.begin().await.unwrap();
    let at = relais_store::now() + 5_000;
    let r = s
        .settle_attempt_in(&mut tx, ids[2], S::Scheduled, "transient", "500", Some(at))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (r.state, r.version, r.scheduled_at),
        (S::Scheduled, 2, Some(at))
    );
    assert!(s
        .settle_attempt_in(&mut tx, ids[2], S::Failed, "x", "y", None)
        .await
        .unwrap()
        .is_none());
    tx.commit().await.unwrap();

    // Notes keep the state and the last-attempt time.
    s.claim_target(ids[2], 2).await.unwrap().unwrap();
    s.settle_attempt(ids[2], S::Unconfirmed, "unknown_outcome", "timeout", None)
        .await
        .unwrap();
    let before = s.target(ids[2]).await.unwrap();
    let mut c = s.pool().acquire().await.unwrap();
    assert!(s
        .note_target_error(&mut c, ids[2], S::Unconfirmed, "not_found", "check by hand")
        .await
        .unwrap());
    assert!(!s
        .note_target_error(&mut c, ids[2], S::Failed, "x", "y")
        .await
        .unwrap());
    drop(c);
    let after = s.target(ids[2]).await.unwrap();
    assert_eq!(
        (
            after.state,
            after.last_error_code.as_deref(),
            after.updated_at
        ),
        (S::Unconfirmed, Some("not_found"), before.updated_at)
    );
    let all = s
        .publishing_health(None, relais_store::now(), 0)
        .await
        .unwrap();
    assert_eq!((all.len(), all[0].unconfirmed), (1, 1));

    // Channels: worker lookup, rate limit on and off, config update.
    let until = relais_store::now() + 30_000;
    s.mark_channel_rate_limited(ch.id, until, "429")
        .await
        .unwrap();
    let c = s.channel_by_id(ch.id).await.unwrap();
    assert_eq!(
        (c.status.as_str(), c.rate_limited_until),
        ("rate_limited", Some(until))
    );
    s.clear_channel_rate_limit(ch.id).await.unwrap();
    let c = s.channel_by_id(ch.id).await.unwrap();
    assert_eq!(
        (c.status.as_str(), c.rate_limited_until),
        ("connected", None)
    );
    s.set_channel_status(ch.id, "needs_reconnect", Some("401"), None)
        .await
        .unwrap();
    s.mark_channel_rate_limited(ch.id, until, "429")
        .await
        .unwrap();
    s.clear_channel_rate_limit(ch.id).await.unwrap();
    let c = s.channel_by_id(ch.id).await.unwrap();
    assert_eq!(
        (c.status.as_str(), c.status_detail.as_deref()),
        ("needs_reconnect", Some("401")),
        "the more urgent status stays"
    );
    let mut tx = s.begin().await.unwrap();
    s.update_channel_config(&mut tx, ch.id, &json!({"acct": "b"}), &json!({"max": 5}))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let c = s.channel_by_id(ch.id).await.unwrap();
    assert_eq!(
        (c.config["acct"].as_str(), c.limits["max"].as_i64()),
        (Some("b"), Some(5))
    );
}
