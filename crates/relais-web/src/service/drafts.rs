//! Writing what the composer holds: a new post or a draft being edited (compare-and-set on its
//! version, so a second tab gets a clear conflict instead of overwriting), its targets with
//! their media, thread parts and first comment, then the schedule or the review. Autosave uses
//! the same path without the checks that only matter when publishing.

use std::collections::HashMap;

use relais_domain::publish::TargetState;
use relais_domain::thread::{self, MAX_PARTS};
use relais_domain::{Code, Permission};
use relais_store::audit::{Actor, NewAudit};
use relais_store::channels::Channel;
use relais_store::media::Media;
use relais_store::posts::{NewTarget, Post};
use relais_store::users::User;
use relais_store::workspaces::Membership;

use super::compose::{count, Draft, Prepared};
use super::field;
use crate::auth::require;
use crate::{AppError, AppState};

/// Media, thread parts and first comments of a draft, checked per channel: the media exist in
/// this workspace and suit the network, the network takes replies, each part fits its limit.
pub async fn check_extras(
    state: &AppState,
    m: &Membership,
    d: &Draft,
    channels: &[Channel],
) -> Result<HashMap<i64, Vec<Media>>, AppError> {
    let mut files = HashMap::new();
    for c in channels {
        let list = super::media::resolve(state, m, d.media_for(c.id), "media").await?;
        super::media::check_attachments(c, &list)?;
        files.insert(c.id, list);
        let parts = d.parts_for(c.id);
        let replies = thread::replies(&c.network);
        let named = |f: &'static str, code: Code, detail: String| {
            Err(AppError::from(field(f, code)).with_detail(format!("{}: {detail}", c.name)))
        };
        if !parts.is_empty() && !replies.thread {
            return named("thread", Code::NoReplies, c.network.clone());
        }
        if parts.len() > MAX_PARTS {
            return named(
                "thread",
                Code::TooLong,
                format!("{} / {MAX_PARTS}", parts.len()),
            );
        }
        for (i, p) in parts.iter().enumerate() {
            let n = count(c, p);
            if n.over {
                let max = n.max.unwrap_or_default();
                return named(
                    "thread",
                    Code::TooLong,
                    format!("{} {}: {} / {max}", i + 2, n.unit, n.used),
                );
            }
        }
        if let Some(x) = d.comment_for(c.id) {
            if !replies.first_comment {
                return named("comment", Code::NoReplies, c.network.clone());
            }
            let n = count(c, x);
            if n.over {
                return named(
                    "comment",
                    Code::TooLong,
                    format!("{} / {}", n.used, n.max.unwrap_or_default()),
                );
            }
        }
    }
    Ok(files)
}

/// The post a draft writes into: a new one, or the edited one if nobody saved it since.
async fn upsert_post(
    state: &AppState,
    tx: &mut relais_store::AnyConnection,
    user: &User,
    m: &Membership,
    d: &Draft,
) -> Result<Post, AppError> {
    let ws = m.workspace.id;
    let tab = Some(d.tab.as_str()).filter(|t| !t.is_empty());
    let Some(id) = d.post_id else {
        let post = state
            .store
            .create_post(tx, ws, user.id, d.body.trim(), &[])
            .await?;
        // Version 0 → 1, remembering which page created it.
        state
            .store
            .update_post(tx, ws, post.id, 0, tab, d.body.trim(), user.id)
            .await?;
        return Ok(post);
    };
    let post = state.store.post(ws, id).await?;
    if post.author_id != Some(user.id) && !m.role.allows(Permission::EditAnyPost) {
        return Err(AppError::forbidden());
    }
    let version = d.version.unwrap_or(-1);
    if state
        .store
        .update_post(tx, ws, id, version, tab, d.body.trim(), user.id)
        .await?
        .is_none()
    {
        return Err(conflict(state, m, id).await);
    }
    Ok(post)
}

/// "Saved meanwhile by Olga at 14:32": the field error a second tab gets.
pub async fn conflict(state: &AppState, m: &Membership, post_id: i64) -> AppError {
    let e = AppError::from(field("body", Code::EditedElsewhere));
    match state.store.post_version(m.workspace.id, post_id).await {
        Ok(v) => {
            let when = chrono::DateTime::from_timestamp_millis(v.updated_at)
                .map(|t| {
                    let tz: chrono_tz::Tz = m.workspace.time_zone.parse().unwrap_or(chrono_tz::UTC);
                    t.with_timezone(&tz).format("%H:%M").to_string()
                })
                .unwrap_or_default();
            e.with_detail(
                format!("{} {when}", v.updated_by.unwrap_or_default())
                    .trim()
                    .to_string(),
            )
        }
        Err(_) => e,
    }
}

/// Writes a prepared post in the caller's transaction: the post, a target per channel (the
/// edited draft's targets are updated, added or removed), their media and follow-ups, the
/// schedule (with its publish jobs) or the review, and the audit entries. Returns the post id.
pub async fn write(
    state: &AppState,
    tx: &mut relais_store::AnyConnection,
    user: &User,
    m: &Membership,
    d: &Draft,
    p: &Prepared,
) -> Result<i64, AppError> {
    let post = upsert_post(state, tx, user, m, d).await?;
    let existing = if d.post_id.is_some() {
        state.store.targets_of_post(post.id).await?
    } else {
        Vec::new()
    };
    if existing.iter().any(|t| t.state != TargetState::Draft) {
        return Err(field("body", Code::Conflict).into());
    }
    for t in existing
        .iter()
        .filter(|t| !p.channels.iter().any(|c| c.id == t.channel_id))
    {
        state.store.delete_draft_target(tx, t.id).await?;
    }
    for c in &p.channels {
        let body = d.text_for(c.id).trim();
        let options = d.options_for(c.id);
        let t = match existing.iter().find(|t| t.channel_id == c.id) {
            Some(t) => {
                state
                    .store
                    .update_draft_target(tx, t.id, body, &options)
                    .await?;
                t.clone()
            }
            None => {
                let nt = NewTarget {
                    channel_id: c.id,
                    body,
                    options: &options,
                    state: TargetState::Draft,
                    scheduled_at: None,
                };
                state.store.add_target(tx, &post, nt).await?
            }
        };
        let ids: Vec<i64> = p
            .files
            .get(&c.id)
            .map(|f| f.iter().map(|x| x.id).collect())
            .unwrap_or_default();
        state.store.set_target_media(tx, t.id, 0, &ids).await?;
        let mut parts: Vec<(&str, &str)> = d
            .parts_for(c.id)
            .into_iter()
            .map(|x| (thread::PART, x))
            .collect();
        if let Some(x) = d.comment_for(c.id) {
            parts.push((thread::COMMENT, x));
        }
        state.store.set_parts(tx, t.id, &parts).await?;
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
    if !p.quiet {
        audit(state, tx, user, m, d, p, post.id).await?;
    }
    Ok(post.id)
}

async fn audit(
    state: &AppState,
    tx: &mut relais_store::AnyConnection,
    user: &User,
    m: &Membership,
    d: &Draft,
    p: &Prepared,
    post_id: i64,
) -> Result<(), AppError> {
    let actor = Actor::user(user.id, &user.email);
    if !p.overridden.is_empty() {
        let what = format!("post #{} ({})", post_id, p.overridden.join(", "));
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
    let names: Vec<&str> = p.channels.iter().map(|c| c.name.as_str()).collect();
    let after = format!("#{post_id} → {}", names.join(", "));
    let entry = NewAudit {
        workspace_id: Some(m.workspace.id),
        actor: &actor,
        action,
        target: "post",
        before: None,
        after: Some(&after),
    };
    state.store.audit(tx, entry).await?;
    Ok(())
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
    let p = super::compose::prepare(state, user, m, d, &all).await?;
    let mut tx = state.store.begin().await?;
    let id = write(state, &mut tx, user, m, d, &p).await?;
    tx.commit().await.map_err(relais_store::StoreError::from)?;
    super::accounts::wake(state);
    Ok(id)
}

/// What an autosave wrote.
pub struct Saved {
    pub post_id: i64,
    pub version: i64,
    pub at: i64,
}

/// Saves the composer as a draft without the publishing checks (a text over the limit is
/// kept, to be fixed later). Nothing typed yet: nothing saved.
pub async fn autosave(
    state: &AppState,
    user: &User,
    m: &Membership,
    d: &Draft,
) -> Result<Option<Saved>, AppError> {
    require(m, Permission::CreatePost)?;
    let empty = d.body.trim().is_empty()
        && d.variants.values().all(|v| v.trim().is_empty())
        && d.media.is_empty();
    if d.post_id.is_none() && empty {
        return Ok(None);
    }
    let all = state.store.channels(m.workspace.id).await?;
    let channels: Vec<Channel> = all
        .into_iter()
        .filter(|c| d.channels.contains(&c.id))
        .collect();
    let mut files = HashMap::new();
    for c in &channels {
        files.insert(
            c.id,
            super::media::resolve(state, m, d.media_for(c.id), "media").await?,
        );
    }
    let p = Prepared {
        channels,
        at: None,
        slot_at: Vec::new(),
        review: false,
        overridden: Vec::new(),
        files,
        quiet: true,
    };
    let mut tx = state.store.begin().await?;
    let id = write(state, &mut tx, user, m, d, &p).await?;
    tx.commit().await.map_err(relais_store::StoreError::from)?;
    let v = state.store.post_version(m.workspace.id, id).await?;
    Ok(Some(Saved {
        post_id: id,
        version: v.version,
        at: v.updated_at,
    }))
}

/// The composer's content of a draft post, to go on editing it. A post that left the drafts
/// (scheduled, in review…) is not edited here.
pub async fn load(state: &AppState, m: &Membership, post_id: i64) -> Result<Draft, AppError> {
    let post = state.store.post(m.workspace.id, post_id).await?;
    let targets = state.store.targets_of_post(post.id).await?;
    if targets.iter().any(|t| t.state != TargetState::Draft) {
        return Err(field("body", Code::Conflict).into());
    }
    let v = state.store.post_version(m.workspace.id, post.id).await?;
    let mut d = Draft {
        body: post.body.clone(),
        action: "draft".into(),
        post_id: Some(post.id),
        version: Some(v.version),
        ..Default::default()
    };
    let mut main_media: Option<Vec<i64>> = None;
    let mut per: Vec<(i64, Vec<i64>)> = Vec::new();
    for t in &targets {
        d.channels.push(t.channel_id);
        if t.body != post.body {
            d.variants.insert(t.channel_id, t.body.clone());
        }
        let s = |k: &str| t.options.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        if let Some(x) = s("spoiler") {
            d.spoilers.insert(t.channel_id, x);
        }
        if let Some(x) = s("title") {
            d.titles.insert(t.channel_id, x);
        }
        if let Some(x) = s("language") {
            d.langs.insert(t.channel_id, x);
        }
        for part in state.store.parts(t.id).await? {
            if part.kind == thread::COMMENT {
                d.comments.insert(t.channel_id, part.body);
            } else {
                d.threads.entry(t.channel_id).or_default().push(part.body);
            }
        }
        let ids: Vec<i64> = state
            .store
            .target_media(t.id)
            .await?
            .into_iter()
            .filter(|(pos, _)| *pos == 0)
            .map(|(_, x)| x.id)
            .collect();
        main_media.get_or_insert_with(|| ids.clone());
        per.push((t.channel_id, ids));
    }
    // The first target's media are the main ones; others that differ are per channel.
    d.media = main_media.unwrap_or_default();
    for (ch, ids) in per {
        if ids != d.media {
            d.variant_media.insert(ch, ids);
        }
    }
    Ok(d)
}
