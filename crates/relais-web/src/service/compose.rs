//! The composer: one message, a variant per chosen channel, counted with each network's own
//! rule, then saved as drafts or scheduled in the workspace's time zone.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use relais_domain::publish::{resolve_local, LocalTime, TargetState};
use relais_domain::{Code, Permission};
use relais_publish::limits::{self, Network};
use relais_store::audit::{Actor, NewAudit};
use relais_store::channels::Channel;
use relais_store::posts::NewTarget;
use relais_store::users::User;
use relais_store::workspaces::Membership;

use super::field;
use crate::auth::require;
use crate::{AppError, AppState};

pub fn network(name: &str) -> Option<Network> {
    Some(match name {
        "mastodon" => Network::Mastodon,
        "bluesky" => Network::Bluesky,
        "x" => Network::X,
        "threads" => Network::Threads,
        "instagram" => Network::Instagram,
        "facebook" => Network::Facebook,
        "linkedin" => Network::LinkedIn,
        "telegram" => Network::Telegram,
        "discord" => Network::Discord,
        "matrix" => Network::Matrix,
        "wordpress" => Network::WordPress,
        "webhook" => Network::Webhook,
        "newsletter" => Network::Newsletter,
        _ => return None,
    })
}

/// The live counter of one variant: "287 / 300 graphemes".
#[derive(Debug, Clone, serde::Serialize)]
pub struct Counter {
    pub channel_id: i64,
    pub channel: String,
    pub network: String,
    pub used: usize,
    pub max: Option<usize>,
    pub unit: &'static str,
    pub over: bool,
}

/// Counts `text` for `ch`, with the limit the network told us (a Mastodon instance's
/// `max_characters`) over the default.
pub fn count(ch: &Channel, text: &str) -> Counter {
    let rule = network(&ch.network).and_then(|n| limits::text_len(n, text, false));
    let (used, max, unit) = match rule {
        Some((used, max, unit)) => {
            let max = ch
                .limits
                .get("max_characters")
                .and_then(|v| v.as_u64())
                .map(|m| m as usize)
                .unwrap_or(max);
            (used, Some(max), unit)
        }
        None => (text.chars().count(), None, "characters"),
    };
    Counter {
        channel_id: ch.id,
        channel: ch.name.clone(),
        network: ch.network.clone(),
        used,
        max,
        unit,
        over: max.is_some_and(|m| used > m),
    }
}

/// What the composer form sends.
#[derive(Debug, Default, Clone)]
pub struct Draft {
    pub body: String,
    pub channels: Vec<i64>,
    /// Per-channel text; absent or empty = the main text.
    pub variants: HashMap<i64, String>,
    /// `YYYY-MM-DD` and `HH:MM` in the workspace's zone, when scheduling.
    pub date: String,
    pub time: String,
    /// `draft`, `schedule` or `now`.
    pub action: String,
    /// Why a blocking finding may be ignored (owners and managers only); lands in the audit log.
    pub override_reason: String,
}

impl Draft {
    pub fn text_for(&self, channel: i64) -> &str {
        self.variants
            .get(&channel)
            .map(String::as_str)
            .filter(|s| !s.trim().is_empty())
            .unwrap_or(&self.body)
    }
}

/// Counters of the chosen channels.
pub async fn counters(
    state: &AppState,
    m: &Membership,
    d: &Draft,
) -> Result<Vec<Counter>, AppError> {
    let all = state.store.channels(m.workspace.id).await?;
    Ok(all
        .iter()
        .filter(|c| d.channels.contains(&c.id))
        .map(|c| count(c, d.text_for(c.id)))
        .collect())
}

/// When to publish, checked against the workspace's zone: a past date, a time inside a DST gap
/// or an ambiguous hour are refused with the field to fix.
fn when(d: &Draft, tz: &str) -> Result<Option<i64>, AppError> {
    match d.action.as_str() {
        "draft" => Ok(None),
        "now" => Ok(Some(relais_store::now())),
        "schedule" => {
            if d.date.trim().is_empty() {
                return Err(field("date", Code::Required).into());
            }
            if d.time.trim().is_empty() {
                return Err(field("time", Code::Required).into());
            }
            let local = NaiveDateTime::parse_from_str(
                &format!("{} {}", d.date.trim(), d.time.trim()),
                "%Y-%m-%d %H:%M",
            )
            .map_err(|_| field("date", Code::InvalidValue))?;
            let tz: chrono_tz::Tz = tz.parse().unwrap_or(chrono_tz::UTC);
            let at = match resolve_local(tz, local) {
                LocalTime::Exact(at) => at,
                LocalTime::Gap { .. } => return Err(field("time", Code::DstGap).into()),
                LocalTime::Ambiguous { .. } => return Err(field("time", Code::DstAmbiguous).into()),
            };
            if at < relais_store::now() - 60_000 {
                return Err(field("date", Code::InPast).into());
            }
            Ok(Some(at))
        }
        _ => Err(field("action", Code::InvalidValue).into()),
    }
}

/// A post ready to be written: validated, checked, with its fate decided.
pub struct Prepared {
    pub channels: Vec<Channel>,
    pub at: Option<i64>,
    /// "Add to queue": each channel's next free slot (overrides `at` per channel).
    pub slot_at: Vec<(i64, i64)>,
    /// Goes to approval rather than the schedule.
    pub review: bool,
    /// Blocking findings overridden with a justification.
    pub overridden: Vec<String>,
}

/// Validates a draft against the workspace's channels, the time zone and the checks. Touches
/// nothing: the import validates every row first and writes all or nothing.
pub async fn prepare(
    state: &AppState,
    user: &User,
    m: &Membership,
    d: &Draft,
    all: &[Channel],
) -> Result<Prepared, AppError> {
    require(m, Permission::CreatePost)?;
    if d.body.trim().is_empty() && d.variants.values().all(|v| v.trim().is_empty()) {
        return Err(field("body", Code::Required).into());
    }
    if d.channels.is_empty() {
        return Err(field("channels", Code::Required).into());
    }
    let channels: Vec<Channel> = d
        .channels
        .iter()
        .map(|id| {
            all.iter()
                .find(|c| c.id == *id)
                .cloned()
                .ok_or_else(|| AppError::from(field("channels", Code::InvalidValue)))
        })
        .collect::<Result<_, _>>()?;
    if channels.iter().any(|c| count(c, d.text_for(c.id)).over) {
        return Err(field("body", Code::TooLong).into());
    }
    let (at, slot_at) = if d.action == "queue" {
        let slot_at = queue_times(state, m, &channels).await?;
        (slot_at.iter().map(|(_, t)| *t).min(), slot_at)
    } else {
        (when(d, &m.workspace.time_zone)?, Vec::new())
    };
    // Whether this goes to approval instead of the schedule: the workspace asks for it, the
    // author may not publish (contributors), or a check needs approval (prices, legal…).
    let mut review = false;
    let mut overridden: Vec<String> = Vec::new();
    if at.is_some() {
        // Nothing with a blocking finding (confidential term, card number…) leaves the drafts.
        for c in &channels {
            let r = super::checks::check(
                state,
                m,
                d.text_for(c.id),
                "",
                Some(&c.network),
                user.lang.unwrap_or(m.workspace.lang),
            )
            .await?;
            if r.blocking {
                let reason = d.override_reason.trim();
                if reason.is_empty() || !m.role.allows(Permission::ManageCharter) {
                    return Err(field("body", Code::Blocked).into());
                }
                overridden.extend(
                    r.findings
                        .iter()
                        .filter(|f| f.severity == relais_guard::Severity::Block)
                        .map(|f| f.kind.clone()),
                );
            }
            review |= r.needs_approval;
        }
        review |= state.store.approval_mode(m.workspace.id).await? != "none"
            || !m.role.allows(Permission::Publish);
    }
    Ok(Prepared {
        channels,
        at,
        slot_at,
        review,
        overridden,
    })
}

/// Writes a prepared post in the caller's transaction: the post, a target per channel, the
/// schedule (with its publish jobs) or the review, and the audit entries.
pub async fn write(
    state: &AppState,
    tx: &mut relais_store::AnyConnection,
    user: &User,
    m: &Membership,
    d: &Draft,
    p: &Prepared,
) -> Result<i64, AppError> {
    let post = state
        .store
        .create_post(tx, m.workspace.id, user.id, d.body.trim(), &[])
        .await?;
    for c in &p.channels {
        let nt = NewTarget {
            channel_id: c.id,
            body: d.text_for(c.id).trim(),
            options: &serde_json::json!({}),
            state: TargetState::Draft,
            scheduled_at: None,
        };
        let t = state.store.add_target(tx, &post, nt).await?;
        let at = p
            .slot_at
            .iter()
            .find(|(id, _)| *id == c.id)
            .map(|(_, t)| *t)
            .or(p.at);
        match at {
            Some(_) if p.review => {
                state
                    .store
                    .move_target(tx, t.id, TargetState::Draft, TargetState::InReview, None)
                    .await?;
            }
            // The state change and its publish job commit together.
            Some(at) => {
                relais_publisher::schedule(&state.store, tx, t.id, TargetState::Draft, at).await?;
            }
            None => {}
        }
    }
    if p.review {
        state
            .store
            .set_review(tx, post.id, Some("internal"), p.at)
            .await?;
    }
    let actor = Actor::user(user.id, &user.email);
    if !p.overridden.is_empty() {
        let what = format!("post #{} ({})", post.id, p.overridden.join(", "));
        let entry = NewAudit {
            workspace_id: Some(m.workspace.id),
            actor: &actor,
            action: "check.override",
            target: &what,
            before: None,
            after: Some(d.override_reason.trim()),
        };
        state.store.audit(tx, entry).await?;
    }
    let action = if p.review {
        "post.submit"
    } else if p.at.is_some() {
        "post.schedule"
    } else {
        "post.draft"
    };
    let after = format!(
        "#{} → {}",
        post.id,
        p.channels
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let entry = NewAudit {
        workspace_id: Some(m.workspace.id),
        actor: &actor,
        action,
        target: "post",
        before: None,
        after: Some(&after),
    };
    state.store.audit(tx, entry).await?;
    Ok(post.id)
}

/// Saves the post with one target per chosen channel; schedules them when asked. Returns the
/// post id.
pub async fn save(
    state: &AppState,
    user: &User,
    m: &Membership,
    d: &Draft,
) -> Result<i64, AppError> {
    let all = state.store.channels(m.workspace.id).await?;
    let p = prepare(state, user, m, d, &all).await?;
    let mut tx = state.store.begin().await?;
    let id = write(state, &mut tx, user, m, d, &p).await?;
    tx.commit().await.map_err(relais_store::StoreError::from)?;
    super::accounts::wake(state);
    Ok(id)
}

/// Moves a scheduled target to another day at the same local time (calendar drag and drop).
pub async fn move_to_day(
    state: &AppState,
    user: &User,
    m: &Membership,
    target_id: i64,
    version: i64,
    date: &str,
) -> Result<(), AppError> {
    require(m, Permission::Publish)?;
    let t = state.store.target(target_id).await?;
    if t.workspace_id != m.workspace.id {
        return Err(AppError::not_found());
    }
    let tz: chrono_tz::Tz = m.workspace.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let old = t
        .scheduled_at
        .and_then(chrono::DateTime::from_timestamp_millis)
        .ok_or_else(|| AppError::from(field("date", Code::Conflict)))?;
    let day = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .map_err(|_| field("date", Code::InvalidValue))?;
    let d = Draft {
        date: day.format("%Y-%m-%d").to_string(),
        time: old.with_timezone(&tz).format("%H:%M").to_string(),
        action: "schedule".into(),
        ..Default::default()
    };
    let at = when(&d, &m.workspace.time_zone)?
        .ok_or_else(|| AppError::from(field("date", Code::InvalidValue)))?;
    let mut tx = state.store.begin().await?;
    relais_publisher::reschedule(&state.store, &mut tx, target_id, version, at).await?;
    let actor = Actor::user(user.id, &user.email);
    let what = format!("target #{target_id}");
    let entry = NewAudit {
        workspace_id: Some(m.workspace.id),
        actor: &actor,
        action: "post.move",
        target: &what,
        before: None,
        after: Some(date),
    };
    super::record(state, tx, entry).await?;
    super::accounts::wake(state);
    Ok(())
}

/// Each channel's next free queue slot; a channel without slots (or with none free in four
/// weeks) is an error naming it.
async fn queue_times(
    state: &AppState,
    m: &Membership,
    channels: &[Channel],
) -> Result<Vec<(i64, i64)>, AppError> {
    let tz: chrono_tz::Tz = m.workspace.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let now = relais_store::now();
    let mut out = Vec::new();
    for c in channels {
        let slots = relais_domain::slots::parse(super::channels::slots_of(c)).unwrap_or_default();
        let filter = relais_store::posts::TargetFilter {
            from: Some(now),
            state: Some(TargetState::Scheduled),
            channel_id: Some(c.id),
            ..Default::default()
        };
        let taken: Vec<i64> = state
            .store
            .list_targets(m.workspace.id, &filter)
            .await?
            .iter()
            .filter_map(|t| t.scheduled_at)
            .collect();
        match relais_domain::slots::next_free(tz, now, &slots, &taken) {
            Some(at) => out.push((c.id, at)),
            None => {
                return Err(
                    AppError::from(field("channels", Code::NoSlot)).with_detail(c.name.clone())
                )
            }
        }
    }
    Ok(out)
}
