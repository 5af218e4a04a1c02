//! Crisis detection per query (relais-enrich's detector over 1-minute buckets).

use relais_store::alerts::AlertRule;
use relais_store::listening::SavedQuery;
use relais_store::StoreError;

use super::alerts::engine::Outcome;
use crate::i18n::Tr;
use crate::AppState;

pub async fn evaluate(
    _state: &AppState,
    _rule: &AlertRule,
    _q: &SavedQuery,
    _words: &[String],
    _t: Tr,
    _now: i64,
) -> Result<Option<Outcome>, StoreError> {
    Ok(None)
}
