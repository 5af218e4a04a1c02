//! Store conformance: the same assertions on SQLite (always) and PostgreSQL (when
//! `RELAIS_TEST_PG` is set). Every repository method the app relies on is exercised here.

use relais_domain::{Lang, Role};
use relais_store::audit::{Actor, AuditFilter, NewAudit};
use relais_store::jobs::NewJob;
use relais_store::secrets::Keyring;
use relais_store::testing::{fresh_store, TempDir};
use relais_store::users::NewUser;
use relais_store::worker::{Registry, Worker, WorkerConfig};
use relais_store::{password, StoreError};
use std::time::Duration;

async fn user(store: &relais_store::Store, email: &str) -> relais_store::users::User {
    let mut tx = store.begin().await.unwrap();
    let u = store
        .create_user(
            &mut tx,
            NewUser {
                email,
                name: email,
                password_hash: "x",
                lang: Some(Lang::Fr),
                is_admin: false,
            },
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    u
}

#[tokio::test]
async fn migrations_are_idempotent() {
    let db = fresh_store().await.unwrap();
    assert!(db.store.migrate().await.unwrap().is_empty());
    assert!(db.store.pending_migrations().await.unwrap().is_empty());
}

#[tokio::test]
async fn users_sessions_tokens() {
    let db = fresh_store().await.unwrap();
    let s = &db.store;
    let u = user(s, "ana@example.com").await;
    assert_eq!(u.lang, Some(Lang::Fr));
    let mut tx = s.begin().await.unwrap();
    let dup = s
        .create_user(
            &mut tx,
            NewUser {
                email: "ana@example.com",
                name: "x",
                password_hash: "x",
                lang: None,
                is_admin: false,
            },
        )
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict("email"))), "{dup:?}");
    drop(tx);
    assert_eq!(
        s.user_by_email("ANA@example.com")
            .await
            .unwrap()
            .unwrap()
            .id,
        u.id
    );
    assert_eq!(s.count_users().await.unwrap(), 1);

    let (tok, sess) = s.create_session(u.id, true).await.unwrap();
    let got = s.session_by_token(&tok).await.unwrap().unwrap();
    assert!(got.second_factor_pending);
    s.complete_second_factor(sess.id).await.unwrap();
    assert!(
        !s.session_by_token(&tok)
            .await
            .unwrap()
            .unwrap()
            .second_factor_pending
    );
    assert!(s.session_by_token("nope").await.unwrap().is_none());
    s.delete_session(sess.id).await.unwrap();
    assert!(s.session_by_token(&tok).await.unwrap().is_none());

    assert_eq!(
        s.record_login_failure(&["ana@example.com", "ip:1"], 60_000)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.record_login_failure(&["ana@example.com"], 60_000)
            .await
            .unwrap(),
        2
    );
    s.clear_login_failures("ana@example.com").await.unwrap();
    assert_eq!(
        s.login_failures("ana@example.com", 60_000).await.unwrap(),
        0
    );

    let (clear, t) = s.create_api_token(u.id, "ci").await.unwrap();
    assert_eq!(s.user_for_api_token(&clear).await.unwrap(), Some(u.id));
    assert_eq!(s.list_api_tokens(u.id).await.unwrap().len(), 1);
    let other = user(s, "bob@example.com").await;
    assert!(matches!(
        s.revoke_api_token(other.id, t.id).await,
        Err(StoreError::NotFound)
    ));
    s.revoke_api_token(u.id, t.id).await.unwrap();
    assert_eq!(s.user_for_api_token(&clear).await.unwrap(), None);

    let mut tx = s.begin().await.unwrap();
    let ott = s
        .create_one_time_token(&mut tx, "password_reset", Some(u.id), 60_000)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        s.peek_one_time_token("password_reset", &ott).await.unwrap(),
        Some(u.id)
    );
    assert!(matches!(
        s.peek_one_time_token("setup", &ott).await,
        Err(StoreError::NotFound)
    ));
    let mut tx = s.begin().await.unwrap();
    s.consume_one_time_token(&mut tx, "password_reset", &ott)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(matches!(
        s.peek_one_time_token("password_reset", &ott).await,
        Err(StoreError::Conflict("used"))
    ));
    let mut tx = s.begin().await.unwrap();
    assert!(s
        .consume_one_time_token(&mut tx, "password_reset", &ott)
        .await
        .is_err());
}

#[tokio::test]
async fn workspaces_members_invitations_audit() {
    let db = fresh_store().await.unwrap();
    let s = &db.store;
    let ana = user(s, "ana@example.com").await;
    let bob = user(s, "bob@example.com").await;
    let mut tx = s.begin().await.unwrap();
    let w = s
        .create_workspace(&mut tx, "Citroën", "Europe/Paris", Lang::Fr, ana.id)
        .await
        .unwrap();
    let other = s
        .create_workspace(&mut tx, "Other", "UTC", Lang::En, bob.id)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(s.membership(ana.id, w.id).await.unwrap().role, Role::Owner);
    assert!(
        matches!(
            s.membership(ana.id, other.id).await,
            Err(StoreError::NotFound)
        ),
        "isolation"
    );
    assert_eq!(s.memberships(ana.id).await.unwrap().len(), 1);

    let mut tx = s.begin().await.unwrap();
    let (token, inv_id) = s
        .create_invitation(&mut tx, w.id, "bob@example.com", Role::Editor, ana.id)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let inv = s.invitation_by_token(&token).await.unwrap();
    assert_eq!(
        (inv.id, inv.role, inv.workspace_name.as_str()),
        (inv_id, Role::Editor, "Citroën")
    );
    assert_eq!(s.pending_invitations(w.id).await.unwrap().len(), 1);
    let mut tx = s.begin().await.unwrap();
    s.accept_invitation(&mut tx, inv.id).await.unwrap();
    s.add_member(&mut tx, w.id, bob.id, inv.role).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = s.begin().await.unwrap();
    assert!(
        s.accept_invitation(&mut tx, inv.id).await.is_err(),
        "accepted once"
    );
    assert!(matches!(
        s.add_member(&mut tx, w.id, bob.id, Role::Client).await,
        Err(StoreError::Conflict("member"))
    ));
    drop(tx);
    assert_eq!(s.members(w.id).await.unwrap().len(), 2);
    let mut tx = s.begin().await.unwrap();
    assert_eq!(s.count_owners(&mut tx, w.id).await.unwrap(), 1);
    s.set_member_role(&mut tx, w.id, bob.id, Role::Manager)
        .await
        .unwrap();
    s.update_workspace(&mut tx, w.id, "Citroën FR", "America/New_York", Lang::En)
        .await
        .unwrap();
    s.set_workspace_archived(&mut tx, w.id, true).await.unwrap();
    let actor = Actor::user(ana.id, &ana.email);
    s.audit(
        &mut tx,
        NewAudit {
            workspace_id: Some(w.id),
            actor: &actor,
            action: "workspace.rename",
            target: "workspace",
            before: Some("Citroën"),
            after: Some("Citroën FR"),
        },
    )
    .await
    .unwrap();
    s.audit(
        &mut tx,
        NewAudit {
            workspace_id: Some(other.id),
            actor: &actor,
            action: "x",
            target: "y",
            before: None,
            after: None,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let m = s.membership(bob.id, w.id).await.unwrap();
    assert_eq!(
        (m.role, m.workspace.name.as_str(), m.workspace.lang),
        (Role::Manager, "Citroën FR", Lang::En)
    );
    assert!(m.workspace.archived_at.is_some());
    let log = s.list_audit(w.id, &AuditFilter::default()).await.unwrap();
    assert_eq!(log.len(), 1);
    let f = AuditFilter {
        action: Some("workspace.".into()),
        actor: Some("ANA".into()),
        ..Default::default()
    };
    assert_eq!(s.list_audit(w.id, &f).await.unwrap().len(), 1);
    let f = AuditFilter {
        action: Some("member.".into()),
        ..Default::default()
    };
    assert!(s.list_audit(w.id, &f).await.unwrap().is_empty());
    let mut tx = s.begin().await.unwrap();
    s.remove_member(&mut tx, w.id, bob.id).await.unwrap();
    tx.commit().await.unwrap();
    assert!(matches!(
        s.membership(bob.id, w.id).await,
        Err(StoreError::NotFound)
    ));
}

#[tokio::test]
async fn secrets_rotation() {
    let db = fresh_store().await.unwrap();
    let s = &db.store;
    let dir = TempDir::new();
    let mut ring = Keyring::load_or_create(&dir.0.join("keys")).unwrap();
    let mut tx = s.begin().await.unwrap();
    let id = s
        .put_secret(&mut tx, &ring, "channel.token", b"s3cret")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(s.get_secret(&ring, id).await.unwrap(), b"s3cret");
    std::thread::sleep(Duration::from_millis(2));
    ring.add_key().unwrap();
    assert_eq!(s.reseal_secrets(&ring).await.unwrap(), 1);
    ring.prune().unwrap();
    assert_eq!(s.get_secret(&ring, id).await.unwrap(), b"s3cret");
}

#[tokio::test]
async fn job_queue_lifecycle() {
    let db = fresh_store().await.unwrap();
    let s = &db.store;
    let mut tx = s.begin().await.unwrap();
    let a = s
        .enqueue(&mut tx, &NewJob::now("system.probe", serde_json::json!({})))
        .await
        .unwrap()
        .unwrap();
    let dedupe = NewJob {
        dedupe_key: Some("k".into()),
        ..NewJob::now("system.probe", serde_json::json!({}))
    };
    assert!(s.enqueue(&mut tx, &dedupe).await.unwrap().is_some());
    assert!(
        s.enqueue(&mut tx, &dedupe).await.unwrap().is_none(),
        "deduplicated"
    );
    tx.commit().await.unwrap();
    // Rolled-back enqueue leaves nothing behind.
    let mut tx = s.begin().await.unwrap();
    s.enqueue(&mut tx, &NewJob::now("system.probe", serde_json::json!({})))
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(s.queue_stats().await.unwrap().queued, 2);

    let got = s.claim_jobs("w1", 10, 60_000).await.unwrap();
    assert_eq!(got.len(), 2);
    assert!(
        s.claim_jobs("w2", 10, 60_000).await.unwrap().is_empty(),
        "leased jobs are not claimed twice"
    );
    let ja = got.iter().find(|j| j.id == a).unwrap();
    assert!(
        !s.complete_job(a, "w2").await.unwrap(),
        "only the lease owner completes"
    );
    assert!(s.complete_job(a, "w1").await.unwrap());
    let jb = got.iter().find(|j| j.id != a).unwrap().clone();
    s.fail_job(&jb, "w1", "boom", false).await.unwrap();
    let back = s.job(jb.id).await.unwrap();
    assert_eq!(
        (back.state.as_str(), back.last_error.as_deref()),
        ("queued", Some("boom"))
    );
    assert!(back.run_at > relais_store::now(), "backoff");
    let _ = ja;

    // Expired lease → claimable by another worker.
    let mut tx = s.begin().await.unwrap();
    let c = s
        .enqueue(&mut tx, &NewJob::now("system.probe", serde_json::json!({})))
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(s.claim_jobs("w1", 1, -1).await.unwrap()[0].id, c);
    let again = s.claim_jobs("w2", 1, 60_000).await.unwrap();
    assert_eq!((again[0].id, again[0].attempts), (c, 2));
    // Graceful release gives the attempt back.
    assert_eq!(s.release_jobs("w2").await.unwrap(), 1);
    assert_eq!(s.job(c).await.unwrap().attempts, 1);

    // Permanent failure → dead → retry by an admin.
    let j = s.claim_jobs("w1", 1, 60_000).await.unwrap().remove(0);
    s.fail_job(&j, "w1", "bad", true).await.unwrap();
    assert_eq!(s.list_jobs("dead", 10).await.unwrap().len(), 1);
    s.retry_dead_job(j.id).await.unwrap();
    assert_eq!(s.job(j.id).await.unwrap().state, "queued");
    assert!(s.retry_dead_job(j.id).await.is_err());
}

#[tokio::test]
async fn recurring_jobs_fire_once() {
    let db = fresh_store().await.unwrap();
    let s = &db.store;
    s.upsert_recurring("tick", "system.probe", &serde_json::json!({}), "every 1s")
        .await
        .unwrap();
    assert!(s
        .upsert_recurring(
            "bad",
            "system.probe",
            &serde_json::json!({}),
            "every now and then"
        )
        .await
        .is_err());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (a, b) = tokio::join!(s.enqueue_due_recurring(), s.enqueue_due_recurring());
    assert_eq!(a.unwrap() + b.unwrap(), 1, "one occurrence, one job");
}

#[tokio::test]
async fn workers_share_the_queue_without_running_a_job_twice() {
    let db = fresh_store().await.unwrap();
    let s = &db.store;
    let mut tx = s.begin().await.unwrap();
    for _ in 0..200 {
        s.enqueue(&mut tx, &NewJob::now("system.probe", serde_json::json!({})))
            .await
            .unwrap();
    }
    s.enqueue(
        &mut tx,
        &NewJob {
            max_attempts: 2,
            ..NewJob::now("system.probe", serde_json::json!({"fail": "permanent"}))
        },
    )
    .await
    .unwrap();
    s.enqueue(&mut tx, &NewJob::now("no.such.kind", serde_json::json!({})))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut handles = Vec::new();
    for i in 0..3 {
        let cfg = WorkerConfig {
            id: format!("w{i}"),
            concurrency: 4,
            poll: Duration::from_millis(20),
            ..Default::default()
        };
        handles.push(tokio::spawn(
            Worker::new(s.clone(), Registry::new(), cfg).run(stop_rx.clone()),
        ));
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let st = s.queue_stats().await.unwrap();
        if st.done == 200 && st.dead == 2 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "queue did not drain: {st:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop_tx.send(true).unwrap();
    for h in handles {
        h.await.unwrap();
    }
    let (runs, distinct, workers) = s.probe_run_counts().await.unwrap();
    assert_eq!(
        runs, 201,
        "200 probes + 1 failing probe, each run exactly once"
    );
    assert_eq!(distinct, 201);
    assert!(workers >= 2, "work was shared ({workers} workers)");
    let dead = s.list_jobs("dead", 10).await.unwrap();
    assert!(dead
        .iter()
        .any(|j| j.last_error.as_deref().unwrap_or("").contains("no handler")));
}

#[tokio::test]
async fn bad_urls_and_unreachable_databases() {
    let opts = relais_store::ConnectOptions {
        acquire_timeout: Duration::from_secs(2),
        ..Default::default()
    };
    let e = relais_store::Store::connect("mysql://x/y", &opts)
        .await
        .err()
        .unwrap();
    assert!(e.to_string().contains("unsupported"), "{e}");
    let e = relais_store::Store::connect("postgres://u:topsecret@127.0.0.1:1/db", &opts)
        .await
        .err()
        .unwrap();
    let msg = e.to_string();
    assert!(
        msg.contains("cannot connect") && !msg.contains("topsecret"),
        "{msg}"
    );
    assert!(!password::verify("x", password::dummy_hash()));
}
