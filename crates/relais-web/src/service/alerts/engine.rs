//! The evaluation job: every few seconds each rule looks at what arrived since its cursor and
//! raises alerts. A rule's progress and its alerts are written in one transaction, guarded by
//! a compare-and-set on the cursor, and each alert has a dedup key: two workers, a retry or a
//! crash never raise the same alert twice. Deliveries are separate jobs.

use relais_store::alerts::{AlertRule, NewAlert};
use relais_store::listening::SavedQuery;
use relais_store::worker::{JobError, Registry};
use relais_store::StoreError;

use super::brief::{self, Brief};
use crate::i18n::Tr;
use crate::AppState;

pub const EVALUATE_JOB: &str = "alerts.evaluate";

pub fn register(registry: &mut Registry, state: AppState) {
    let s = state.clone();
    registry.register(EVALUATE_JOB, move |_store, _job, _worker| {
        let state = s.clone();
        Box::pin(async move {
            evaluate_all(&state, relais_store::now())
                .await
                .map(|_| ())
                .map_err(|e| JobError::Retry(e.to_string()))
        })
    });
    super::deliver::register(registry, state);
}

/// Schedules the evaluation (every 10 s: crisis alerts must leave within a minute).
pub async fn schedule(store: &relais_store::Store) -> relais_store::Result<()> {
    store
        .upsert_recurring(
            "alerts-evaluate",
            EVALUATE_JOB,
            &serde_json::json!({}),
            "every 10s",
        )
        .await
}

/// What one rule's evaluation decided.
pub struct Outcome {
    pub cursor: i64,
    pub state: String,
    pub raised: Vec<Raised>,
}

pub struct Raised {
    pub kind: &'static str,
    pub title: String,
    pub brief: Brief,
    pub detected_at: i64,
    pub dedup: String,
}

/// Evaluates every rule once; returns how many alerts were raised.
pub async fn evaluate_all(state: &AppState, now: i64) -> Result<usize, StoreError> {
    let rules = state.store.all_alert_rules().await?;
    if rules.is_empty() {
        return Ok(0);
    }
    let queries = state.store.all_queries().await?;
    let mut raised = 0;
    for rule in rules {
        let Some(q) = queries.iter().find(|q| q.id == rule.query_id) else {
            continue;
        };
        match evaluate(state, &rule, q, now).await {
            Ok(Some(o)) => raised += commit(state, &rule, o, now).await?,
            Ok(None) => {}
            Err(e) => tracing::warn!(rule = rule.id, error = %e, "alert rule evaluation failed"),
        }
    }
    if raised > 0 {
        super::super::accounts::wake(state);
    }
    Ok(raised)
}

async fn commit(
    state: &AppState,
    rule: &AlertRule,
    o: Outcome,
    now: i64,
) -> Result<usize, StoreError> {
    let mut tx = state.store.begin().await?;
    let fired = (!o.raised.is_empty()).then_some(now);
    if !state
        .store
        .advance_alert_rule(&mut tx, rule.id, rule.cursor, o.cursor, &o.state, fired)
        .await?
    {
        return Ok(0); // another evaluation moved this rule first
    }
    let mut n = 0;
    for r in o.raised {
        let brief = serde_json::to_string(&r.brief).unwrap_or_else(|_| "{}".into());
        let id = state
            .store
            .insert_alert(
                &mut tx,
                NewAlert {
                    workspace_id: rule.workspace_id,
                    rule_id: rule.id,
                    query_id: rule.query_id,
                    kind: r.kind,
                    title: &r.title,
                    brief: &brief,
                    detected_at: r.detected_at,
                    dedup: &r.dedup,
                },
            )
            .await?;
        if let Some(id) = id {
            super::deliver::enqueue(state, &mut tx, id).await?;
            n += 1;
        }
    }
    tx.commit().await?;
    Ok(n)
}

async fn evaluate(
    state: &AppState,
    rule: &AlertRule,
    q: &SavedQuery,
    now: i64,
) -> Result<Option<Outcome>, StoreError> {
    let w = state.store.workspace(rule.workspace_id).await?;
    let t = Tr(w.lang);
    match rule.mode.as_str() {
        "each" => {
            let new = state
                .store
                .mentions_after(rule.workspace_id, rule.query_id, rule.cursor, 200)
                .await?;
            let Some(last) = new.last().map(|m| m.id) else {
                return Ok(None);
            };
            // A handful become one alert each; a flood becomes one grouped alert.
            let raised = if new.len() <= 5 {
                new.iter()
                    .map(|m| Raised {
                        kind: "mention",
                        title: format!(
                            "{} « {} » : {}",
                            t.t("alerts.new_mention"),
                            q.name,
                            excerpt(&m.body, 80)
                        ),
                        brief: brief::from_mentions(
                            &q.name,
                            &q.expression,
                            std::slice::from_ref(m),
                            Vec::new(),
                        ),
                        detected_at: m.received_at,
                        dedup: format!("m:{}:{}", rule.id, m.id),
                    })
                    .collect()
            } else {
                vec![Raised {
                    kind: "mention",
                    title: format!(
                        "{} « {} » : {}",
                        t.t("alerts.new_mentions"),
                        q.name,
                        t.number(new.len() as i64)
                    ),
                    brief: brief::from_mentions(&q.name, &q.expression, &new, Vec::new()),
                    detected_at: new[0].received_at,
                    dedup: format!("m:{}:{}-{}", rule.id, new[0].id, last),
                }]
            };
            Ok(Some(Outcome {
                cursor: last,
                state: rule.state.clone(),
                raised,
            }))
        }
        "digest" => {
            let period = rule.window_minutes * 60_000;
            let since = rule.last_fired_at.unwrap_or(rule.created_at);
            if now - since < period {
                return Ok(None);
            }
            let new = state
                .store
                .mentions_after(rule.workspace_id, rule.query_id, rule.cursor, 1000)
                .await?;
            // Nothing new: no digest; the next one covers from the last one.
            let Some(last) = new.last().map(|m| m.id) else {
                return Ok(None);
            };
            Ok(Some(Outcome {
                cursor: last,
                state: rule.state.clone(),
                raised: vec![Raised {
                    kind: "digest",
                    title: format!(
                        "{} « {} » : {}",
                        t.t("alerts.digest"),
                        q.name,
                        t.number(new.len() as i64)
                    ),
                    brief: brief::from_mentions(&q.name, &q.expression, &new, Vec::new()),
                    detected_at: now,
                    dedup: format!("d:{}:{}", rule.id, last),
                }],
            }))
        }
        "threshold" => {
            let window = rule.window_minutes * 60_000;
            if rule
                .last_fired_at
                .is_some_and(|f| now - f < rule.cooldown_minutes.max(1) * 60_000)
            {
                return Ok(None);
            }
            let minutes = state
                .store
                .mention_minutes(rule.query_id, now - window, now + 1)
                .await?;
            let count: i64 = minutes.iter().map(|m| m.count).sum();
            if count < rule.threshold {
                return Ok(None);
            }
            let f = relais_store::mentions::MentionFilter {
                query_id: rule.query_id,
                from: now - window,
                limit: 500,
                ..Default::default()
            };
            let recent = state.store.search_mentions(rule.workspace_id, &f).await?;
            let newest = recent
                .first()
                .map(|m| m.id)
                .unwrap_or(rule.cursor)
                .max(rule.cursor);
            Ok(Some(Outcome {
                cursor: newest,
                state: rule.state.clone(),
                raised: vec![Raised {
                    kind: "threshold",
                    title: format!(
                        "« {} » : {} {} {} min",
                        q.name,
                        t.number(count),
                        t.t("alerts.mentions_in"),
                        rule.window_minutes
                    ),
                    brief: brief::from_mentions(&q.name, &q.expression, &recent, Vec::new()),
                    detected_at: now,
                    dedup: format!("t:{}:{}", rule.id, now / 60_000),
                }],
            }))
        }
        "crisis" => super::super::crisis::evaluate(state, rule, q, t, now).await,
        _ => Ok(None),
    }
}

pub fn excerpt(s: &str, n: usize) -> String {
    let one_line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= n {
        one_line
    } else {
        format!("{}…", one_line.chars().take(n).collect::<String>())
    }
}
