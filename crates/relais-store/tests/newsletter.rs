//! Conformance of the newsletter store on SQLite and PostgreSQL (RELAIS_TEST_PG): double opt-in
//! states, tokens by hash, one delivery per (issue, subscriber), bounce counting, isolation.

use relais_domain::Lang;
use relais_store::newsletter::issues::{NewIssue, Outcome};
use relais_store::newsletter::{
    Confirmation, Confirmed, NewSettings, NewsletterList, SubState, UnsubToken,
};
use relais_store::secrets::Keyring;
use relais_store::testing::fresh_store;
use relais_store::users::NewUser;
use relais_store::{now, Store, StoreError};

struct Fixture {
    user: i64,
    ws: i64,
    other_ws: i64,
    list: NewsletterList,
}

async fn fixture(s: &Store, ring: &Keyring) -> Fixture {
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
    let o = s
        .create_workspace(&mut tx, "O", "UTC", Lang::En, u.id)
        .await
        .unwrap();
    let key = s
        .put_secret(&mut tx, ring, "newsletter.list_key", &[7u8; 32])
        .await
        .unwrap();
    let list = s
        .create_newsletter_list(&mut tx, w.id, "News", key, u.id)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    Fixture {
        user: u.id,
        ws: w.id,
        other_ws: o.id,
        list,
    }
}

async fn add(
    s: &Store,
    list: &NewsletterList,
    email: &str,
    confirm: Option<(&str, i64)>,
) -> relais_store::newsletter::Subscriber {
    let mut tx = s.begin().await.unwrap();
    let uh = format!("u-{email}");
    let sub = s
        .insert_subscriber(
            &mut tx,
            list,
            email,
            None,
            UnsubToken {
                nonce: email,
                hash: &uh,
            },
            confirm.map(|(hash, expires_at)| Confirmation { hash, expires_at }),
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    sub
}

#[tokio::test]
async fn double_opt_in_and_unsubscribe() {
    let db = fresh_store().await.unwrap();
    let s = &db.store;
    let ring = Keyring::from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").unwrap();
    let f = fixture(s, &ring).await;

    // Settings: upsert replaces the password secret and deletes the old one.
    for secret in ["one", "two"] {
        let mut tx = s.begin().await.unwrap();
        let id = s
            .put_secret(
                &mut tx,
                &ring,
                "newsletter.smtp_password",
                secret.as_bytes(),
            )
            .await
            .unwrap();
        s.put_newsletter_settings(
            &mut tx,
            NewSettings {
                workspace_id: f.ws,
                host: "smtp.example.org",
                port: 587,
                security: "starttls",
                username: Some("u"),
                secret_id: Some(id),
                from_address: "News <news@example.org>",
                bounce_limit: 2,
                updated_by: f.user,
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    let set = s.newsletter_settings(f.ws).await.unwrap().unwrap();
    assert_eq!((set.port, set.security.as_str()), (587, "starttls"));
    assert_eq!(
        s.get_secret(&ring, set.secret_id.unwrap()).await.unwrap(),
        b"two"
    );
    assert!(s.newsletter_settings(f.other_ws).await.unwrap().is_none());

    let t = now();
    let pending = add(s, &f.list, "p@example.org", Some(("c-p", t + 60_000))).await;
    assert_eq!(pending.state, SubState::Pending);
    let expired = add(s, &f.list, "e@example.org", Some(("c-e", t - 1))).await;
    // One row per address and list.
    let mut tx = s.begin().await.unwrap();
    let dup = s
        .insert_subscriber(
            &mut tx,
            &f.list,
            "p@example.org",
            None,
            UnsubToken {
                nonce: "n",
                hash: "h",
            },
            None,
        )
        .await
        .unwrap_err();
    assert!(dup.is_unique_violation(), "{dup}");
    drop(tx);

    assert!(matches!(
        s.confirm_subscriber("nope").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.confirm_subscriber("c-e").await.unwrap(),
        Confirmed::Expired(x) if x.id == expired.id
    ));
    match s.confirm_subscriber("c-p").await.unwrap() {
        Confirmed::Done(x) => assert_eq!(x.state, SubState::Confirmed),
        other => panic!("{other:?}"),
    }
    // The link is idempotent.
    assert!(matches!(
        s.confirm_subscriber("c-p").await.unwrap(),
        Confirmed::Done(_)
    ));

    let c = s.newsletter_counts(f.ws).await.unwrap();
    assert_eq!(c.len(), 1);
    assert_eq!((c[0].1.pending, c[0].1.confirmed), (1, 1));
    assert!(s.newsletter_counts(f.other_ws).await.unwrap().is_empty());

    let u = s.unsubscribe("u-p@example.org").await.unwrap();
    assert_eq!(u.state, SubState::Unsubscribed);
    assert!(s.unsubscribe("u-p@example.org").await.is_ok(), "idempotent");
    assert!(matches!(
        s.unsubscribe("u-unknown").await,
        Err(StoreError::NotFound)
    ));
    // An old confirmation link does not bring an unsubscribed address back.
    assert!(s.confirm_subscriber("c-p").await.is_err());
    // A new request does (explicit consent again), with a fresh token.
    let mut tx = s.begin().await.unwrap();
    s.renew_confirmation(
        &mut tx,
        u.id,
        Confirmation {
            hash: "c-p2",
            expires_at: t + 60_000,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(s.subscriber(u.id).await.unwrap().state, SubState::Pending);
    // Lists are scoped to their workspace.
    assert!(s.newsletter_list(f.other_ws, f.list.id).await.is_err());
    assert_eq!(
        s.newsletter_list_public(&f.list.public_id)
            .await
            .unwrap()
            .id,
        f.list.id
    );
}

#[tokio::test]
async fn each_recipient_is_claimed_once_and_bounces_count() {
    let db = fresh_store().await.unwrap();
    let s = &db.store;
    let ring = Keyring::from_base64("AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=").unwrap();
    let f = fixture(s, &ring).await;
    let a = add(s, &f.list, "a@example.org", None).await;
    let b = add(s, &f.list, "b@example.org", None).await;
    let p = add(s, &f.list, "p@example.org", Some(("c", now() + 60_000))).await;
    let mut tx = s.begin().await.unwrap();
    let issue = s
        .create_issue(
            &mut tx,
            NewIssue {
                workspace_id: f.ws,
                list_id: f.list.id,
                post_id: None,
                subject: "Hello",
                html: "<p>Hi</p>",
                text: "Hi",
                created_by: f.user,
            },
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(s.issue(f.other_ws, issue.id).await.is_err());

    let next: Vec<i64> = s
        .next_recipients(&issue, 10)
        .await
        .unwrap()
        .iter()
        .map(|x| x.id)
        .collect();
    assert_eq!(next, vec![a.id, b.id], "confirmed only");
    let da = s.claim_delivery(&issue, a.id).await.unwrap().unwrap();
    assert_eq!(s.claim_delivery(&issue, a.id).await.unwrap(), None, "once");
    assert_eq!(
        s.claim_delivery(&issue, p.id).await.unwrap(),
        None,
        "pending"
    );
    let sent = Outcome::Sent {
        message_id: "<m@x>".into(),
    };
    assert!(s.settle_delivery(da, &sent, 2).await.unwrap());
    assert!(!s.settle_delivery(da, &sent, 2).await.unwrap(), "CAS");

    // A claim left by a dead run becomes unknown and is never offered again.
    let db_ = s.claim_delivery(&issue, b.id).await.unwrap().unwrap();
    assert_eq!(s.orphaned_deliveries_unknown(issue.id).await.unwrap(), 1);
    assert!(s.next_recipients(&issue, 10).await.unwrap().is_empty());
    assert!(!s.settle_delivery(db_, &sent, 2).await.unwrap());
    let c = s.delivery_counts(issue.id).await.unwrap();
    assert_eq!((c.sent, c.unknown), (1, 1));

    // Bounces: the subscriber is dropped at the limit (2).
    let mut tx = s.begin().await.unwrap();
    let mut issues = Vec::new();
    for subject in ["I2", "I3"] {
        issues.push(
            s.create_issue(
                &mut tx,
                NewIssue {
                    workspace_id: f.ws,
                    list_id: f.list.id,
                    post_id: None,
                    subject,
                    html: "x",
                    text: "x",
                    created_by: f.user,
                },
            )
            .await
            .unwrap(),
        );
    }
    tx.commit().await.unwrap();
    for (n, i) in issues.iter().enumerate() {
        let d = s.claim_delivery(i, a.id).await.unwrap().unwrap();
        let o = Outcome::Bounced {
            code: Some("550".into()),
            error: "no such user".into(),
        };
        s.settle_delivery(d, &o, 2).await.unwrap();
        let now_state = s.subscriber(a.id).await.unwrap();
        assert_eq!(now_state.bounces, n as i64 + 1);
        let want = if n == 0 {
            SubState::Confirmed
        } else {
            SubState::Bounced
        };
        assert_eq!(now_state.state, want);
    }
    let list = s.newsletter_bounces(f.ws, 10).await.unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].smtp_code.as_deref(), Some("550"));
    assert!(s
        .newsletter_bounces(f.other_ws, 10)
        .await
        .unwrap()
        .is_empty());

    // Deferred: retried only by a later run, then failed after the attempts.
    let i3 = &issues[1];
    let d = s.claim_delivery(i3, b.id).await.unwrap().unwrap();
    let later = Outcome::Deferred {
        code: Some("451".into()),
        error: "try later".into(),
    };
    s.settle_delivery(d, &later, 2).await.unwrap();
    let run_start = now() - 60_000;
    assert!(s
        .deferred_due(i3.id, 4, run_start, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(s.reclaimable_deferred(i3.id, 4).await.unwrap(), 1);
    let back = s.deferred_due(i3.id, 4, now() + 1, 10).await.unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].1.id, b.id);
    assert_eq!(back[0].1.email, "b@example.org");
    assert!(s.retake_deferred(back[0].0).await.unwrap());
    assert!(!s.retake_deferred(back[0].0).await.unwrap(), "taken once");
    s.settle_delivery(back[0].0, &later, 2).await.unwrap();
    assert_eq!(s.give_up_deferred(i3.id, 2).await.unwrap(), 1);
    assert_eq!(s.delivery_counts(i3.id).await.unwrap().failed, 1);
}
