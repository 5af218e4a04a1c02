//! What the calendar changes: moving a scheduled publication (drag and drop, or the keyboard
//! "Move…" form — one route, one set of checks) and the tags of a post.

use chrono::{NaiveDate, NaiveTime, Timelike};
use relais_domain::publish::{resolve_local, LocalTime, TargetState};
use relais_domain::{Code, Permission};
use relais_store::audit::{Actor, NewAudit};
use relais_store::users::User;
use relais_store::workspaces::Membership;

use super::field;
use crate::auth::require;
use crate::{AppError, AppState};

/// Where to move a target, in the workspace's zone. `time` ("HH:MM", the keyboard form) wins
/// over `hour` (a drop on an hour slot keeps the minutes); with neither, the post keeps its
/// local time on the new day (a drop on a month cell).
#[derive(Debug, Default, Clone)]
pub struct Move {
    pub version: i64,
    pub date: String,
    pub time: Option<String>,
    pub hour: Option<u32>,
}

/// Moves a scheduled target; returns the new instant. Refused: a frozen or archived
/// workspace, a role without the publish permission, a target that is not scheduled or was
/// changed since the page was shown (stale version), a time in a DST gap or that happens
/// twice, a past time.
pub async fn move_target(
    state: &AppState,
    user: &User,
    m: &Membership,
    target_id: i64,
    mv: &Move,
) -> Result<i64, AppError> {
    require(m, Permission::Publish)?;
    let ws = m.workspace.id;
    if state.store.active_freeze(ws).await?.is_some() {
        return Err(AppError::new(
            axum::http::StatusCode::CONFLICT,
            Code::Frozen,
        ));
    }
    let t = state.store.target(target_id).await?;
    if t.workspace_id != ws {
        return Err(AppError::not_found());
    }
    let tz: chrono_tz::Tz = m.workspace.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let old = match (t.state, t.scheduled_at) {
        (TargetState::Scheduled, Some(at)) => relais_domain::calendar::local(tz, at)
            .map(|(naive, _, _)| naive)
            .ok_or_else(AppError::internal)?,
        _ => return Err(AppError::from(field("date", Code::Conflict))),
    };
    let day = NaiveDate::parse_from_str(mv.date.trim(), "%Y-%m-%d")
        .map_err(|_| field("date", Code::InvalidDate))?;
    let time = match (mv.time.as_deref().map(str::trim), mv.hour) {
        (Some(s), _) if !s.is_empty() => {
            NaiveTime::parse_from_str(s, "%H:%M").map_err(|_| field("time", Code::InvalidTime))?
        }
        (_, Some(h)) => NaiveTime::from_hms_opt(h, old.minute(), 0)
            .ok_or_else(|| AppError::from(field("time", Code::InvalidTime)))?,
        _ => old.time(),
    };
    let local = day.and_time(time);
    let at = match resolve_local(tz, local) {
        LocalTime::Exact(at) => at,
        LocalTime::Gap { .. } => return Err(field("time", Code::DstGap).into()),
        LocalTime::Ambiguous { .. } => return Err(field("time", Code::DstAmbiguous).into()),
    };
    if at < relais_store::now() - 60_000 {
        return Err(field("date", Code::InPast).into());
    }
    let mut tx = state.store.begin().await?;
    relais_publisher::reschedule(&state.store, &mut tx, target_id, mv.version, at).await?;
    let actor = Actor::user(user.id, &user.email);
    let what = format!("target #{target_id}");
    let before = old.format("%Y-%m-%d %H:%M").to_string();
    let after = local.format("%Y-%m-%d %H:%M").to_string();
    let entry = NewAudit {
        workspace_id: Some(ws),
        actor: &actor,
        action: "post.move",
        target: &what,
        before: Some(&before),
        after: Some(&after),
    };
    super::record(state, tx, entry).await?;
    super::accounts::wake(state);
    Ok(at)
}

/// Whether `user` may change this post's tags: its author, or anyone who edits any post.
pub fn may_tag(m: &Membership, user: &User, author_id: Option<i64>) -> bool {
    m.role.allows(Permission::EditAnyPost)
        || (m.role.allows(Permission::CreatePost) && author_id == Some(user.id))
}

/// Replaces a post's tags from a typed list ("launch, spring sale"); returns them normalised.
pub async fn set_tags(
    state: &AppState,
    user: &User,
    m: &Membership,
    post_id: i64,
    input: &str,
) -> Result<Vec<String>, AppError> {
    require(m, Permission::CreatePost)?;
    let post = state.store.post(m.workspace.id, post_id).await?;
    if !may_tag(m, user, post.author_id) {
        return Err(AppError::forbidden());
    }
    let tags = relais_domain::tags::parse(input)?;
    let mut tx = state.store.begin().await?;
    state
        .store
        .set_post_tags(&mut tx, m.workspace.id, post_id, &tags)
        .await?;
    let actor = Actor::user(user.id, &user.email);
    let what = format!("post #{post_id}");
    let (before, after) = (post.tags.join(", "), tags.join(", "));
    let entry = NewAudit {
        workspace_id: Some(m.workspace.id),
        actor: &actor,
        action: "post.tags",
        target: &what,
        before: Some(&before),
        after: Some(&after),
    };
    super::record(state, tx, entry).await?;
    Ok(tags)
}
