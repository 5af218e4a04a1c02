//! `publish.target {target_id, version}`: claim, send once, record the outcome.
//!
//! The claim is a compare-and-set on (state = scheduled, version), so a stale job (the target
//! was rescheduled) or a duplicate job does nothing. Once claimed, every path settles the
//! target; if this process dies first, the job's re-run (or the sweeper) finds the target still
//! `publishing` and asks the channel what happened instead of sending again.

use relais_domain::publish::TargetState;
use relais_store::audit::{Actor, NewAudit};
use relais_store::channels::Channel;
use relais_store::posts::Target;
use relais_store::worker::JobError;
use relais_store::{now, Store, StoreError};

use relais_publish::PublishError;

use crate::channels::ChannelError;
use crate::handlers::retry;
use crate::outcome::{decide, Next};
use crate::schedule::{enqueue_publish, enqueue_reconcile};
use crate::Publisher;

pub(crate) async fn run(
    p: &Publisher,
    store: &Store,
    id: i64,
    version: i64,
    job_attempts: i64,
) -> Result<(), JobError> {
    let t = match store.target(id).await {
        Ok(t) => t,
        Err(StoreError::NotFound) => return Ok(()),
        Err(e) => return Err(retry(e)),
    };
    if t.version != version {
        return Ok(()); // rescheduled since: that version's job does the work
    }
    match t.state {
        TargetState::Scheduled => {}
        // This very job ran before and its worker died during the call (its lease expired):
        // the post may be out. Never re-send blindly.
        TargetState::Publishing if job_attempts > 1 => {
            return mark_unconfirmed(
                p,
                store,
                &t,
                "interrupted",
                "the worker stopped during the call; checking the channel",
            )
            .await
            .map_err(retry);
        }
        // A duplicate job while another worker publishes, or already settled.
        _ => return Ok(()),
    }
    let ch = store.channel_by_id(t.channel_id).await.map_err(retry)?;
    let at = now();
    if let Some(until) = ch.rate_limited_until.filter(|u| *u > at) {
        // The network asked us to wait: move the schedule, no call.
        let mut tx = store.begin().await.map_err(retry)?;
        if let Some(t2) = store
            .reschedule_target(&mut tx, id, version, Some(until))
            .await
            .map_err(retry)?
        {
            enqueue_publish(store, &mut tx, id, t2.version, until)
                .await
                .map_err(retry)?;
        }
        tx.commit().await.map_err(|e| retry(e.into()))?;
        return Ok(());
    }
    let Some(t) = store.claim_target(id, version).await.map_err(retry)? else {
        return Ok(()); // another worker won the claim
    };
    let next = match precheck(&ch) {
        Some(next) => next,
        None => match p.connector(store, &ch).await {
            Ok(c) => {
                let res = crate::thread::send(p, store, &t, &*c).await;
                decide(res, t.attempts, t.last_error_code.as_deref(), now(), &p.cfg)
            }
            // Nothing was sent: a database hiccup is retried like a network one.
            Err(ChannelError::Store(e)) => {
                let res = Err(PublishError::Transient(e.to_string()));
                decide(res, t.attempts, None, now(), &p.cfg)
            }
            Err(e) => Next::Failed {
                code: "credentials",
                message: e.to_string(),
                disconnect: true,
            },
        },
    };
    settle(p, store, &t, &ch, next).await.map_err(retry)
}

/// Reasons not to call the network at all.
fn precheck(ch: &Channel) -> Option<Next> {
    let fail = |code, message: &str| {
        Some(Next::Failed {
            code,
            message: message.into(),
            disconnect: false,
        })
    };
    if ch.archived_at.is_some() {
        return fail("channel_archived", "the channel was removed");
    }
    if ch.status == "needs_reconnect" {
        return fail(
            "disconnect",
            "the channel needs reconnecting (its credentials were refused)",
        );
    }
    None
}

async fn settle(
    p: &Publisher,
    store: &Store,
    t: &Target,
    ch: &Channel,
    next: Next,
) -> Result<(), StoreError> {
    match next {
        Next::Published(out) => {
            if !store
                .mark_published(t.id, &out.remote_id, out.url.as_deref())
                .await?
            {
                tracing::warn!(target_id = t.id, "published, but the target had moved on");
            }
            if ch.status == "rate_limited" {
                store.clear_channel_rate_limit(ch.id).await?;
            }
            tracing::info!(target_id = t.id, remote_id = %out.remote_id, "published");
        }
        Next::Retry {
            at,
            code,
            message,
            channel_until,
            refresh,
        } => {
            if let Some(until) = channel_until {
                store
                    .mark_channel_rate_limited(ch.id, until, &message)
                    .await?;
            }
            if refresh {
                p.forget(ch.id);
            }
            let mut tx = store.begin().await?;
            if let Some(t2) = store
                .settle_attempt_in(
                    &mut tx,
                    t.id,
                    TargetState::Scheduled,
                    code,
                    &message,
                    Some(at),
                )
                .await?
            {
                enqueue_publish(store, &mut tx, t.id, t2.version, at).await?;
            }
            tx.commit().await?;
            tracing::warn!(target_id = t.id, code, %message, retry_at = at, "publish attempt failed; will retry");
        }
        Next::Unconfirmed { code, message } => {
            mark_unconfirmed(p, store, t, code, &message).await?;
        }
        Next::Failed {
            code,
            message,
            disconnect,
        } => {
            if disconnect {
                p.forget(ch.id);
                store
                    .set_channel_status(ch.id, "needs_reconnect", Some(&message), None)
                    .await?;
            }
            let mut tx = store.begin().await?;
            if store
                .settle_attempt_in(&mut tx, t.id, TargetState::Failed, code, &message, None)
                .await?
                .is_some()
            {
                audit(
                    store,
                    &mut tx,
                    t,
                    "publish.failed",
                    &format!("{code}: {message}"),
                )
                .await?;
            }
            tx.commit().await?;
            tracing::error!(target_id = t.id, code, %message, "publication failed");
        }
    }
    Ok(())
}

/// publishing → unconfirmed, with a reconcile job and an audit entry, in one transaction.
pub(crate) async fn mark_unconfirmed(
    p: &Publisher,
    store: &Store,
    t: &Target,
    code: &str,
    message: &str,
) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    if store
        .settle_attempt_in(&mut tx, t.id, TargetState::Unconfirmed, code, message, None)
        .await?
        .is_some()
    {
        let at = now() + p.cfg.reconcile_delay_ms;
        enqueue_reconcile(
            store,
            &mut tx,
            t.id,
            t.version,
            at,
            p.cfg.reconcile_max_attempts,
        )
        .await?;
        audit(
            store,
            &mut tx,
            t,
            "publish.unconfirmed",
            &format!("{code}: {message}"),
        )
        .await?;
    }
    tx.commit().await?;
    tracing::warn!(
        target_id = t.id,
        code,
        message,
        "publication unconfirmed; reconciling"
    );
    Ok(())
}

/// Job kind the application handles to tell people (in-app and by email) that a publication
/// failed or is unconfirmed; enqueued in the same transaction as the state change.
pub const NOTIFY_JOB: &str = "notify.publish";

pub(crate) async fn audit(
    store: &Store,
    conn: &mut relais_store::AnyConnection,
    t: &Target,
    action: &str,
    after: &str,
) -> Result<(), StoreError> {
    let payload = serde_json::json!({ "workspace_id": t.workspace_id, "target_id": t.id, "post_id": t.post_id, "action": action, "message": after });
    store
        .enqueue(conn, &relais_store::jobs::NewJob::now(NOTIFY_JOB, payload))
        .await?;
    store
        .audit(
            conn,
            NewAudit {
                workspace_id: Some(t.workspace_id),
                actor: &Actor::system("publisher"),
                action,
                target: &format!("target:{}", t.id),
                before: None,
                after: Some(after),
            },
        )
        .await
}
