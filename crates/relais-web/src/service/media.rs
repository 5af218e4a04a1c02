//! The media library: uploads streamed to a spool file with a size cap, typed by their first
//! bytes, stored under their content hash, and recorded only once the file is complete; alt
//! text; deletion refused while a post still to go out uses the file; and the checks of
//! attachments against each network's rules (as data).

use relais_domain::media::{self, Kind};
use relais_domain::{Code, Permission};
use relais_publish::limits;
use relais_store::audit::{Actor, NewAudit};
use relais_store::blobs::{key_for, Spool, SpoolError};
use relais_store::channels::Channel;
use relais_store::media::{Media, NewMedia};
use relais_store::users::User;
use relais_store::workspaces::Membership;

use super::field;
use crate::auth::require;
use crate::{AppError, AppState};

/// Longest alt text kept (Mastodon accepts 1,500; the composer warns per network).
pub const MAX_ALT: usize = 2000;

/// Receives one upload. `chunks` yields the file's bytes as they arrive; the spool refuses
/// them past the configured size, and the row is written after the file is safely stored.
pub async fn upload<S, E>(
    state: &AppState,
    user: &User,
    m: &Membership,
    filename: &str,
    alt: &str,
    mut chunks: S,
) -> Result<Media, AppError>
where
    S: futures::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    use futures::StreamExt;
    require(m, Permission::CreatePost)?;
    let alt = clean_alt(alt)?;
    let max = state.cfg.media_max_bytes;
    let mut spool = Spool::create(state.media.spool_dir(), max)
        .await
        .map_err(io_err)?;
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|e| {
            AppError::from(field("file", Code::BadRequest)).with_detail(e.to_string())
        })?;
        spool.write(&chunk).await.map_err(|e| match e {
            SpoolError::TooLarge(max) => AppError::from(field("file", Code::MediaTooLarge))
                .with_detail(format!("{} MB", max / 1_000_000)),
            SpoolError::Io(e) => io_err(e),
        })?;
    }
    let done = spool.finish().await.map_err(io_err)?;
    if done.len == 0 {
        done.discard();
        return Err(field("file", Code::Required).into());
    }
    let Some(kind) = media::sniff(&done.head) else {
        done.discard();
        return Err(
            AppError::from(field("file", Code::MediaType)).with_detail("JPEG, PNG, GIF, WebP, MP4")
        );
    };
    let dims = media::dimensions(kind, &done.head);
    if dims.is_none() && !kind.is_video() {
        done.discard();
        return Err(AppError::from(field("file", Code::MediaType))
            .with_detail(format!("{}: unreadable image header", kind.mime())));
    }
    let key = key_for(m.workspace.id, &done.sha256);
    let (sha, len) = (done.sha256.clone(), done.len);
    if let Err(e) = state.media.commit(&done.path, &key).await {
        done.discard();
        return Err(io_err(e));
    }
    let name = clean_name(filename, kind);
    // The file is complete under its final name: now (and only now) the row, with its audit.
    let mut tx = state.store.begin().await?;
    let (row, created) = state
        .store
        .insert_media(
            &mut tx,
            NewMedia {
                workspace_id: m.workspace.id,
                sha256: &sha,
                mime: kind.mime(),
                bytes: len as i64,
                width: dims.map(|d| i64::from(d.0)),
                height: dims.map(|d| i64::from(d.1)),
                filename: &name,
                alt: &alt,
                storage: state.media.name(),
                storage_key: &key,
                created_by: user.id,
            },
        )
        .await?;
    if created {
        let entry = NewAudit {
            workspace_id: Some(m.workspace.id),
            actor: &Actor::user(user.id, &user.email),
            action: "media.upload",
            target: &format!("media #{}", row.id),
            before: None,
            after: Some(&name),
        };
        state.store.audit(&mut tx, entry).await?;
    }
    tx.commit().await.map_err(relais_store::StoreError::from)?;
    Ok(row)
}

fn io_err(e: std::io::Error) -> AppError {
    tracing::error!(error = %e, "media storage");
    AppError::internal()
}

/// A display name: the base name, without control characters, with the real extension.
fn clean_name(name: &str, kind: Kind) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let stem: String = base
        .rsplit_once('.')
        .map_or(base, |(s, _)| s)
        .chars()
        .filter(|c| !c.is_control())
        .take(100)
        .collect();
    let stem = if stem.trim().is_empty() {
        "media".to_string()
    } else {
        stem
    };
    format!("{}.{}", stem.trim(), kind.extension())
}

fn clean_alt(alt: &str) -> Result<String, AppError> {
    let alt = alt.trim();
    if alt.chars().count() > MAX_ALT {
        return Err(field("alt", Code::TooLong).into());
    }
    if alt.chars().any(|c| c.is_control() && c != '\n') {
        return Err(field("alt", Code::InvalidValue).into());
    }
    Ok(alt.to_string())
}

pub async fn set_alt(
    state: &AppState,
    user: &User,
    m: &Membership,
    id: i64,
    alt: &str,
) -> Result<(), AppError> {
    require(m, Permission::CreatePost)?;
    let alt = clean_alt(alt)?;
    let mut tx = state.store.begin().await?;
    state
        .store
        .set_media_alt(&mut tx, m.workspace.id, id, &alt)
        .await?;
    let entry = NewAudit {
        workspace_id: Some(m.workspace.id),
        actor: &Actor::user(user.id, &user.email),
        action: "media.alt",
        target: &format!("media #{id}"),
        before: None,
        after: Some(&alt),
    };
    super::record(state, tx, entry).await
}

/// Deletes a media (row, then file). Refused while a scheduled post uses it.
pub async fn delete(
    state: &AppState,
    user: &User,
    m: &Membership,
    id: i64,
) -> Result<(), AppError> {
    // Editors and above: a contributor's upload may be in someone else's draft.
    require(m, Permission::Publish)?;
    let mut tx = state.store.begin().await?;
    let gone = match state.store.delete_media(&mut tx, m.workspace.id, id).await {
        Err(relais_store::StoreError::Conflict(_)) => {
            return Err(field("media", Code::MediaInUse).into())
        }
        r => r?,
    };
    let entry = NewAudit {
        workspace_id: Some(m.workspace.id),
        actor: &Actor::user(user.id, &user.email),
        action: "media.delete",
        target: &format!("media #{id}"),
        before: Some(&gone.filename),
        after: None,
    };
    super::record(state, tx, entry).await?;
    // The row is gone for good: now the file (a failure leaves an unreferenced file, no harm).
    if let Err(e) = state.media.delete(&gone.storage_key).await {
        tracing::warn!(error = %e, key = gone.storage_key, "media file not removed");
    }
    Ok(())
}

/// A file of the workspace for display: (mime, bytes). Another workspace's media is 404.
pub async fn file(
    state: &AppState,
    m: &Membership,
    id: i64,
) -> Result<(String, Vec<u8>), AppError> {
    let row = state.store.media(m.workspace.id, id).await?;
    // Only the types the upload accepted are ever served with their type.
    if Kind::from_mime(&row.mime).is_none() {
        return Err(AppError::not_found());
    }
    match state.media.read(&row.storage_key).await {
        Ok(data) => Ok((row.mime, data)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(AppError::not_found()),
        Err(e) => Err(io_err(e)),
    }
}

/// The workspace's media with the ids `ids`, in that order; an unknown id is an error naming
/// `field_name`.
pub async fn resolve(
    state: &AppState,
    m: &Membership,
    ids: &[i64],
    field_name: &'static str,
) -> Result<Vec<Media>, AppError> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        match state.store.media(m.workspace.id, *id).await {
            Ok(x) => out.push(x),
            Err(relais_store::StoreError::NotFound) => {
                return Err(AppError::from(field(field_name, Code::InvalidValue))
                    .with_detail(format!("#{id}")))
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(out)
}

/// The first problem of `files` attached to a post on `ch`, as an error naming the channel
/// (and the file).
pub fn check_attachments(ch: &Channel, files: &[Media]) -> Result<(), AppError> {
    if files.is_empty() {
        return Ok(());
    }
    let rules = super::compose::network(&ch.network).map(limits::media_rules);
    let err = |code, detail: String| {
        Err(AppError::from(field("media", code)).with_detail(format!("{}: {detail}", ch.name)))
    };
    let Some(rules) = rules else {
        return err(Code::TooManyMedia, format!("{} / 0", files.len()));
    };
    // A Mastodon instance says how many it takes.
    let max_items = ch
        .limits
        .get("max_media")
        .and_then(|v| v.as_u64())
        .map_or(rules.max_items, |n| n as usize);
    if files.len() > max_items {
        return err(Code::TooManyMedia, format!("{} / {max_items}", files.len()));
    }
    let videos = files
        .iter()
        .filter(|f| f.mime.starts_with("video/"))
        .count();
    let (max_videos, mixed) = media::video_rule(&ch.network);
    if videos > max_videos || (videos > 0 && !mixed && files.len() > videos) {
        return err(
            Code::MediaType,
            format!("{videos} video(s) / {max_videos}, no mix with images"),
        );
    }
    let max_bytes = ch
        .limits
        .get("image_size_limit")
        .and_then(|v| v.as_u64())
        .or(rules.max_image_bytes);
    for f in files {
        if !rules.mimes.is_empty()
            && !rules.mimes.contains(&f.mime.as_str())
            && !f.mime.starts_with("video/")
        {
            return err(Code::MediaType, format!("{} ({})", f.filename, f.mime));
        }
        if let Some(max) = max_bytes.filter(|m| f.mime.starts_with("image/") && f.bytes as u64 > *m)
        {
            return err(
                Code::MediaTooLarge,
                format!("{} ({} KB > {} KB)", f.filename, f.bytes / 1000, max / 1000),
            );
        }
        if let (Some(w), Some(h)) = (f.width, f.height) {
            if let Some((rule, limit)) = media::check_dimensions(&ch.network, w as u32, h as u32) {
                return err(
                    Code::MediaDimensions,
                    format!("{} ({w}×{h}, {rule} {limit})", f.filename),
                );
            }
        }
        if let Some(max) = rules.max_alt_chars.filter(|m| f.alt.chars().count() > *m) {
            return Err(
                AppError::from(field("alt", Code::TooLong)).with_detail(format!(
                    "{}: {} > {max}",
                    f.filename,
                    f.alt.chars().count()
                )),
            );
        }
    }
    Ok(())
}
