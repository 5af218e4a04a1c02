//! Crisis detection per query: every closed minute of the query's fresh mentions is fed to
//! relais-enrich's detector (EWMA level × hour-of-week profile, exact Poisson tail, cool-down,
//! and a negative-share dip test); its state lives with the rule. A trigger becomes an alert
//! whose brief holds the volume-vs-baseline series, top posts, top terms and sentiment split.

use relais_enrich::{Config, Detector, TriggerKind};
use relais_store::alerts::AlertRule;
use relais_store::listening::SavedQuery;
use relais_store::mentions::MentionFilter;
use relais_store::StoreError;

use super::alerts::brief;
use super::alerts::engine::{Outcome, Raised};
use crate::i18n::Tr;
use crate::AppState;

const MINUTE: i64 = 60_000;
/// Minutes of history replayed at most in one evaluation (a week, the baseline's horizon).
const MAX_REPLAY: i64 = 7 * 1_440;
/// Triggers older than this (history replayed after a pause) are learnt from, not raised.
const FRESH_MINUTES: i64 = 10;

/// The detector settings for a rule: sensitivity 1 (only big bursts) to 5 (small ones too).
pub fn config(rule: &AlertRule) -> Config {
    let (p_value, min_ratio, min_count) = match rule.sensitivity {
        1 => (1e-9, 3.0, 20),
        2 => (1e-7, 2.0, 15),
        4 => (1e-4, 1.3, 6),
        5 => (1e-3, 1.2, 4),
        _ => (1e-6, 1.5, 10),
    };
    Config {
        p_value,
        min_ratio,
        min_count,
        cooldown_minutes: rule.cooldown_minutes.clamp(0, 1_440) as u32,
        series_minutes: 60,
        ..Config::default()
    }
}

fn detector(rule: &AlertRule) -> Detector {
    let cfg = config(rule);
    match serde_json::from_str::<Detector>(&rule.state) {
        Ok(mut d) => {
            // The sensitivity or cool-down may have changed since.
            let _ = d.set_config(cfg);
            d
        }
        Err(_) => Detector::new(cfg)
            .unwrap_or_else(|_| Detector::new(Config::default()).expect("defaults are valid")),
    }
}

pub async fn evaluate(
    state: &AppState,
    rule: &AlertRule,
    q: &SavedQuery,
    t: Tr,
    now: i64,
) -> Result<Option<Outcome>, StoreError> {
    let last_closed = now / MINUTE - 1;
    let from = (rule.cursor + 1).max(last_closed - MAX_REPLAY);
    if from > last_closed {
        return Ok(None);
    }
    let mut det = detector(rule);
    let counts = state
        .store
        .mention_minutes(rule.query_id, from * MINUTE, (last_closed + 1) * MINUTE)
        .await?;
    let mut fired = Vec::new();
    // A new detector starts at the beginning of the replayed history (quiet minutes count).
    if det.last_minute_ms().is_none() && counts.first().is_none_or(|c| c.minute > from) {
        det.observe(from * MINUTE, 0, 0);
    }
    for c in &counts {
        if let Some(tr) = det.observe(c.minute * MINUTE, c.count as u32, c.negative as u32) {
            fired.push(tr);
        }
    }
    // The quiet minutes up to the last closed one count too.
    if counts.last().is_none_or(|c| c.minute < last_closed) {
        if let Some(tr) = det.observe(last_closed * MINUTE, 0, 0) {
            fired.push(tr);
        }
    }
    let mut raised = Vec::new();
    for tr in fired
        .into_iter()
        .filter(|tr| tr.minute_ms / MINUTE >= last_closed - FRESH_MINUTES)
    {
        let window = MentionFilter {
            query_id: rule.query_id,
            from: tr.minute_ms - 15 * MINUTE,
            to: tr.minute_ms + MINUTE,
            limit: 2_000,
            ..MentionFilter::default()
        };
        let mentions = state
            .store
            .search_mentions(rule.workspace_id, &window)
            .await?;
        let mut b = brief::from_mentions(&q.name, &q.expression, &mentions, det.series(60));
        b.p_value = Some(tr.p_value);
        let (kind, head) = match tr.kind {
            TriggerKind::Volume => ("crisis", t.t("alerts.crisis")),
            TriggerKind::SentimentDip => ("sentiment", t.t("alerts.sentiment_dip")),
        };
        raised.push(Raised {
            kind,
            title: format!(
                "{head} « {} » : {} / {} {:.1} ({} min)",
                q.name,
                t.number(tr.observed as i64),
                t.t("alerts.expected"),
                tr.expected,
                tr.window_minutes
            ),
            brief: b,
            // Significant when the minute closed.
            detected_at: tr.minute_ms + MINUTE,
            dedup: format!("c:{}:{}:{}", rule.id, kind, tr.minute_ms / MINUTE),
        });
    }
    Ok(Some(Outcome {
        cursor: last_closed,
        state: serde_json::to_string(&det).unwrap_or_else(|_| "{}".into()),
        raised,
    }))
}
