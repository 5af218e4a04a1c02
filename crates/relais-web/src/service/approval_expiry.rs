//! Pending approvals expire: when a workspace sets N days, a post that waited longer in a
//! review stage goes back to draft, the author is told (in the app and by email), and the
//! audit log says so. A recurring job (`approvals.expire`, every 5 minutes) does the rounds.

use relais_domain::publish::TargetState;
use relais_store::audit::{Actor, NewAudit};
use relais_store::worker::{JobError, Registry};
use relais_store::StoreError;

use crate::i18n::Tr;
use crate::{AppError, AppState};

pub const JOB: &str = "approvals.expire";
const BATCH: i64 = 200;

/// Registers the handler and declares the recurring job (idempotent; call at start-up).
pub async fn install(registry: &mut Registry, state: AppState) -> Result<(), StoreError> {
    state
        .store
        .upsert_recurring(JOB, JOB, &serde_json::json!({}), "every 5m")
        .await?;
    registry.register(JOB, move |_store, _job, _worker| {
        let state = state.clone();
        Box::pin(async move {
            expire_pending(&state, relais_store::now())
                .await
                .map(|_| ())
                .map_err(|e| JobError::Retry(format!("{e:?}")))
        })
    });
    Ok(())
}

/// Sends back to draft every review that expired at `now_ms`; returns how many. A decision
/// taken meanwhile wins (compare-and-set on the stage and its start).
pub async fn expire_pending(state: &AppState, now_ms: i64) -> Result<usize, AppError> {
    let mut done = 0;
    for e in state.store.expired_reviews(now_ms, BATCH).await? {
        let targets = state.store.targets_of_post(e.post_id).await?;
        let mut tx = state.store.begin().await?;
        if !state
            .store
            .end_review_if(&mut tx, e.post_id, &e.stage, e.since)
            .await?
        {
            continue;
        }
        for t in targets.iter().filter(|t| t.state == TargetState::InReview) {
            state
                .store
                .move_target(
                    &mut tx,
                    t.id,
                    TargetState::InReview,
                    TargetState::Draft,
                    None,
                )
                .await?;
        }
        let w = state.store.workspace(e.workspace_id).await?;
        let days = state
            .store
            .approval_settings(e.workspace_id)
            .await?
            .expiry_days
            .unwrap_or_default();
        let nd = relais_store::approvals::NewDecision {
            workspace_id: e.workspace_id,
            post_id: e.post_id,
            stage: &e.stage,
            decision: "expired",
            comment: "",
            by_id: None,
            by_label: "relais",
        };
        state.store.record_decision(&mut tx, nd).await?;
        if let Some(author) = e.author_id {
            let user = state.store.user_by_id(author).await?;
            let t = Tr(user.lang.unwrap_or(w.lang));
            let link = format!("/w/{}/calendar?view=list", e.workspace_id);
            let message = format!(
                "{} (#{}, {}) — {} {days}",
                t.t("notify.review_expired"),
                e.post_id,
                w.name,
                t.t("notify.after_days"),
            );
            state
                .store
                .notify(
                    &mut tx,
                    author,
                    Some(w.id),
                    "approval.expired",
                    &message,
                    Some(&link),
                )
                .await?;
            let body = format!("{message}\n\n{}\n", state.link(&link));
            super::mailjob::enqueue(
                state,
                &mut tx,
                &user.email,
                t.t("notify.review_expired"),
                &body,
            )
            .await?;
        }
        let actor = Actor::system("relais");
        let target = format!("post #{} ({})", e.post_id, e.stage);
        let after = format!("draft after {days} d");
        let entry = NewAudit {
            workspace_id: Some(e.workspace_id),
            actor: &actor,
            action: "approval.expire",
            target: &target,
            before: None,
            after: Some(&after),
        };
        super::record(state, tx, entry).await?;
        done += 1;
    }
    if done > 0 {
        super::accounts::wake(state);
    }
    Ok(done)
}
