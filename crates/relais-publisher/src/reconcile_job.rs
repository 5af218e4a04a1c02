//! `publish.reconcile {target_id, version}`: an unconfirmed target's outcome, read from the
//! channel. Found → published. Not found → back to the schedule only where a re-send is
//! deduplicated by the network; otherwise it stays unconfirmed for a human, with the reason.

use relais_domain::publish::TargetState;
use relais_publish::PublishError;
use relais_store::worker::JobError;
use relais_store::{now, Store, StoreError};

use crate::credentials::resend_is_safe;
use crate::handlers::retry;
use crate::schedule::enqueue_publish;
use crate::thread::ReadBack;
use crate::Publisher;

pub(crate) async fn run(
    p: &Publisher,
    store: &Store,
    id: i64,
    version: i64,
) -> Result<(), JobError> {
    let t = match store.target(id).await {
        Ok(t) => t,
        Err(StoreError::NotFound) => return Ok(()),
        Err(e) => return Err(retry(e)),
    };
    if t.state != TargetState::Unconfirmed || t.version != version {
        return Ok(()); // settled meanwhile (by a late success or a human)
    }
    let ch = store.channel_by_id(t.channel_id).await.map_err(retry)?;
    let note = |code: &'static str, msg: String| async move {
        let mut c = store.pool().acquire().await?;
        store
            .note_target_error(&mut c, id, TargetState::Unconfirmed, code, &msg)
            .await
    };
    let conn = match p.connector(store, &ch).await {
        Ok(c) => c,
        Err(e) => {
            note("credentials", e.to_string()).await.map_err(retry)?;
            return Ok(());
        }
    };
    let found = crate::thread::reconcile(store, &t, &*conn).await;
    match found {
        Ok(ReadBack::Done(out)) => {
            store
                .mark_published(id, &out.remote_id, out.url.as_deref())
                .await
                .map_err(retry)?;
            tracing::info!(target_id = id, remote_id = %out.remote_id, "reconciled: the post was out");
        }
        // The item in flight is out; the rest of the thread still has to go: back to the
        // schedule, which resumes after the last item recorded.
        Ok(ReadBack::Resume) => {
            requeue(store, id).await.map_err(retry)?;
            tracing::info!(target_id = id, "reconciled: thread part was out; resuming");
        }
        Ok(ReadBack::Missing)
            if t.attempts < p.cfg.max_attempts
                && resend_is_safe(&ch.network, now() - t.updated_at) =>
        {
            // Not there, and the network drops a second request with the same key: send again.
            requeue(store, id).await.map_err(retry)?;
            tracing::info!(
                target_id = id,
                "reconciled: not out; sending again with the same key"
            );
        }
        Ok(ReadBack::Missing) => {
            let msg = if t.attempts >= p.cfg.max_attempts {
                format!("the post was not found on the channel after {} attempts: check the channel, then publish again", t.attempts)
            } else {
                "the post was not found on the channel and a re-send could duplicate it: \
                 check the channel, then publish again or mark it published"
                    .to_string()
            };
            note("not_found", msg).await.map_err(retry)?;
        }
        Err(PublishError::UnknownOutcome(m)) => {
            let msg = format!("this network cannot be read back ({m}): check the channel by hand");
            note("check_by_hand", msg).await.map_err(retry)?;
        }
        Err(PublishError::Disconnect(m)) => {
            p.forget(ch.id);
            store
                .set_channel_status(ch.id, "needs_reconnect", Some(&m), None)
                .await
                .map_err(retry)?;
            note("disconnect", m).await.map_err(retry)?;
        }
        // Transient, rate limited…: read again later (bounded by the job's attempts).
        Err(e) => {
            note("reconcile_failed", e.to_string())
                .await
                .map_err(retry)?;
            return Err(JobError::Retry(e.to_string()));
        }
    }
    Ok(())
}

/// unconfirmed → scheduled now, with its publish job, in one transaction.
async fn requeue(store: &Store, id: i64) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    let at = now();
    if let Some(t2) = store
        .move_target(
            &mut tx,
            id,
            TargetState::Unconfirmed,
            TargetState::Scheduled,
            Some(at),
        )
        .await?
    {
        enqueue_publish(store, &mut tx, id, t2.version, at).await?;
    }
    tx.commit().await?;
    Ok(())
}
