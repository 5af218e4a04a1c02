//! Publishing through a webhook channel to a local sink: exactly once, retries, crashes,
//! stale jobs, the sweeper and health counts.

mod common;

use std::time::Duration;

use common::env;
use relais_domain::publish::TargetState as S;
use relais_publisher::sink::{Sink, SinkBehaviour};
use relais_store::jobs::NewJob;
use relais_store::now;

#[tokio::test]
async fn due_target_is_published_once_with_its_remote_id() {
    let e = env().await;
    let sink = Sink::start(SinkBehaviour::default()).await.unwrap();
    let ch = e.webhook(sink.url(0)).await;
    let t = e.draft(&ch, "Bonjour le monde").await;
    let t = e.schedule(&t, now()).await;
    assert_eq!((t.state, t.version), (S::Scheduled, 1));
    let w = e.worker("w1");
    let done = e.wait_state(t.id, S::Published, 10).await;
    w.stop().await;
    assert_eq!(done.remote_id, Some(format!("sink-{}", t.idempotency_key)));
    assert!(done.published_at.is_some());
    assert_eq!(sink.requests(), 1);
    assert_eq!(sink.deliveries_of(&t.idempotency_key), 1);
}

#[tokio::test]
async fn two_workers_and_duplicate_jobs_publish_each_target_once() {
    let e = env().await;
    let sink = Sink::start(SinkBehaviour::default()).await.unwrap();
    let ch = e.webhook(sink.url(0)).await;
    let mut ids = Vec::new();
    for i in 0..12 {
        let t = e.draft(&ch, &format!("post {i}")).await;
        let t = e.schedule(&t, now()).await;
        // Two more jobs for the same version (a duplicate enqueue, a replayed job).
        let mut tx = e.store.begin().await.unwrap();
        for _ in 0..2 {
            let payload = serde_json::json!({"target_id": t.id, "version": t.version});
            e.store
                .enqueue(&mut tx, &NewJob::now("publish.target", payload))
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        ids.push(t.id);
    }
    let w = e.workers(&["a", "b"]);
    for id in &ids {
        e.wait_state(*id, S::Published, 15).await;
    }
    // Let the duplicate jobs run too.
    tokio::time::sleep(Duration::from_millis(500)).await;
    w.stop().await;
    assert_eq!(sink.requests(), 12, "one network call per target");
    assert_eq!(sink.duplicates(), 0);
    let q = e.store.queue_stats().await.unwrap();
    assert_eq!((q.queued, q.running, q.dead), (0, 0, 0));
}

#[tokio::test]
async fn a_server_error_is_retried_then_published() {
    let e = env().await;
    let sink = Sink::start(SinkBehaviour {
        fail_first: 1,
        ..Default::default()
    })
    .await
    .unwrap();
    let ch = e.webhook(sink.url(0)).await;
    let t = e.draft(&ch, "retry me").await;
    let t = e.schedule(&t, now()).await;
    let w = e.worker("w1");
    let done = e.wait_state(t.id, S::Published, 10).await;
    w.stop().await;
    assert_eq!(done.attempts, 2);
    assert_eq!(done.version, 2, "the retry was a new schedule version");
    assert_eq!(sink.requests(), 2);
    assert_eq!(sink.distinct(), 1);
}

#[tokio::test]
async fn a_worker_killed_mid_publish_leads_to_reconcile_not_a_blind_resend() {
    let e = env().await;
    let sink = Sink::start(SinkBehaviour {
        hold_first: Some(Duration::from_secs(3)),
        ..Default::default()
    })
    .await
    .unwrap();
    let ch = e.webhook(sink.url(0)).await;
    let t = e.draft(&ch, "held").await;
    let t = e.schedule(&t, now()).await;
    let a = e.worker("doomed");
    let end = tokio::time::Instant::now() + Duration::from_secs(10);
    while sink.requests() == 0 {
        assert!(
            tokio::time::Instant::now() < end,
            "the sink never got the request"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    a.abort(); // crash while the sink holds the request: its job lease is not returned
    assert_eq!(e.target(t.id).await.state, S::Publishing);
    let b = e.worker("survivor");
    let done = e.wait_state(t.id, S::Published, 15).await;
    b.stop().await;
    assert!(e
        .audit_actions()
        .await
        .contains(&"publish.unconfirmed".to_string()));
    // The re-send after reconciliation carries the same key: one post for the receiver.
    assert_eq!(sink.distinct(), 1);
    assert_eq!(done.remote_id, Some(format!("sink-{}", t.idempotency_key)));
}

#[tokio::test]
async fn a_rescheduled_targets_old_job_does_nothing() {
    let e = env().await;
    let sink = Sink::start(SinkBehaviour::default()).await.unwrap();
    let ch = e.webhook(sink.url(0)).await;
    let t = e.draft(&ch, "later").await;
    let v1 = e.schedule(&t, now()).await;
    let mut tx = e.store.begin().await.unwrap();
    let v2 = relais_publisher::reschedule(&e.store, &mut tx, t.id, v1.version, now() + 3_600_000)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(v2.version, v1.version + 1);
    let w = e.worker("w1");
    let end = tokio::time::Instant::now() + Duration::from_secs(10);
    while e.store.queue_stats().await.unwrap().done == 0 {
        assert!(tokio::time::Instant::now() < end, "the v1 job never ran");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    w.stop().await;
    let q = e.store.queue_stats().await.unwrap();
    assert_eq!(
        (q.done, q.queued),
        (1, 1),
        "the v1 job ran (as a no-op); v2 waits"
    );
    assert_eq!(e.target(t.id).await.state, S::Scheduled);
    assert_eq!(sink.requests(), 0);
    // The stale version cannot be rescheduled by a late editor either.
    let mut tx = e.store.begin().await.unwrap();
    assert!(
        relais_publisher::reschedule(&e.store, &mut tx, t.id, v1.version, now())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn the_sweeper_requeues_lost_jobs_and_unconfirms_abandoned_claims() {
    let e = env().await;
    let sink = Sink::start(SinkBehaviour::default()).await.unwrap();
    let ch = e.webhook(sink.url(0)).await;
    // Lost: scheduled in the past and its job is gone.
    let lost = e.draft(&ch, "lost").await;
    let lost = e.schedule(&lost, now() - 5_000).await;
    relais_store::sqlx::query("DELETE FROM jobs")
        .execute(e.store.pool())
        .await
        .unwrap();
    // Abandoned: claimed by a worker that died before calling the network.
    let gone = e.draft(&ch, "abandoned").await;
    let gone = e.schedule(&gone, now()).await;
    relais_store::sqlx::query("DELETE FROM jobs")
        .execute(e.store.pool())
        .await
        .unwrap();
    assert!(e
        .store
        .claim_target(gone.id, gone.version)
        .await
        .unwrap()
        .is_some());
    let h = relais_publisher::health::health(&e.store, Some(e.workspace_id))
        .await
        .unwrap();
    assert_eq!((h[0].due, h[0].publishing), (1, 1));
    tokio::time::sleep(Duration::from_millis(1_600)).await;
    let r = relais_publisher::sweep(&e.publisher, &e.store)
        .await
        .unwrap();
    assert_eq!((r.requeued, r.unconfirmed), (1, 1));
    let again = relais_publisher::sweep(&e.publisher, &e.store)
        .await
        .unwrap();
    assert_eq!((again.requeued, again.unconfirmed), (0, 0), "idempotent");
    assert_eq!(e.target(gone.id).await.state, S::Unconfirmed);
    let w = e.worker("w1");
    e.wait_state(lost.id, S::Published, 10).await;
    e.wait_state(gone.id, S::Published, 10).await;
    w.stop().await;
    assert_eq!(sink.requests(), 2);
    assert_eq!(sink.duplicates(), 0);
    let h = relais_publisher::health::health(&e.store, None)
        .await
        .unwrap();
    assert!(h.is_empty(), "nothing pending: {h:?}");
}

#[tokio::test]
async fn the_sweep_is_a_registered_recurring_job() {
    let e = env().await;
    relais_publisher::install_sweeper(&e.store).await.unwrap();
    relais_publisher::install_sweeper(&e.store).await.unwrap();
    let kinds = e.registry();
    let mut k = kinds.kinds();
    k.sort();
    assert!(
        k.contains(&"publish.sweep")
            && k.contains(&"publish.target")
            && k.contains(&"publish.reconcile")
    );
}
