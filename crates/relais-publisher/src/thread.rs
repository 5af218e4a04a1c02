//! Sending one target: the post with its media, then its thread parts and first comment, each
//! as a reply by the same account. Every item has its own idempotency key and its remote id is
//! saved the moment it is out, so an attempt that stops half-way (error, crash) resumes at the
//! next item and never posts one twice.

use std::collections::HashMap;

use relais_publish::{Connector, Media, PublishError, PublishRequest, Published, ReplyTo};
use relais_store::parts::{Part, Remote};
use relais_store::posts::Target;
use relais_store::Store;

use crate::publisher::request;
use crate::Publisher;

fn remote(p: &Published) -> Remote {
    Remote {
        id: p.remote_id.clone(),
        cid: p.cid.clone(),
        url: p.url.clone(),
    }
}

fn published(r: &Remote) -> Published {
    Published {
        remote_id: r.id.clone(),
        url: r.url.clone(),
        cid: r.cid.clone(),
    }
}

/// Before anything is sent, a database error is like a network hiccup: retry later.
fn before(e: relais_store::StoreError) -> PublishError {
    PublishError::Transient(format!("database: {e}"))
}

/// After something went out, failing to record it leaves the outcome unknown: the reconcile
/// reads the channel instead of sending again.
fn after(e: relais_store::StoreError) -> PublishError {
    PublishError::UnknownOutcome(format!("sent, but not recorded: {e}"))
}

/// The attached files of a target by position, read from the media storage.
async fn media_of(
    p: &Publisher,
    store: &Store,
    t: &Target,
) -> Result<HashMap<i64, Vec<Media>>, PublishError> {
    let rows = store.target_media(t.id).await.map_err(before)?;
    let mut out: HashMap<i64, Vec<Media>> = HashMap::new();
    if rows.is_empty() {
        return Ok(out);
    }
    let Some(storage) = p.media.as_ref() else {
        return Err(PublishError::BadRequest(
            "this post has media but the worker has no media storage configured".into(),
        ));
    };
    for (pos, m) in rows {
        let data = storage.read(&m.storage_key).await.map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                PublishError::BadRequest(format!(
                    "media “{}” is missing from the storage: attach it again",
                    m.filename
                ))
            } else {
                PublishError::Transient(format!("reading media “{}”: {e}", m.filename))
            }
        })?;
        out.entry(pos).or_default().push(Media {
            data: data.into(),
            mime: m.mime,
            filename: m.filename,
            alt: Some(m.alt).filter(|a| !a.trim().is_empty()),
            // Instagram and Threads fetch media by URL instead of receiving the bytes.
            url: p
                .cfg
                .public_media_base
                .as_ref()
                .map(|b| format!("{b}{}", m.storage_key)),
        });
    }
    Ok(out)
}

/// The request of a follow-up: its own text and key, the target's options, a reply.
fn part_request(t: &Target, part: &Part, media: Vec<Media>, reply_to: ReplyTo) -> PublishRequest {
    let mut req = request(t);
    req.idempotency_key = part.idempotency_key.clone();
    req.variant.text = part.body.clone();
    req.variant.title = None;
    req.variant.html = None;
    req.variant.media = media;
    req.reply_to = Some(reply_to);
    req
}

/// Where a reply points: thread parts answer the previous part, the first comment the post.
fn reply_for(part: &Part, head: &Published, prev: &Published) -> ReplyTo {
    let parent = if part.kind == relais_domain::thread::COMMENT {
        head.clone()
    } else {
        prev.clone()
    };
    ReplyTo {
        root: head.clone(),
        parent,
    }
}

/// Publishes what is not out yet; returns the first post (the target's link).
pub(crate) async fn send(
    p: &Publisher,
    store: &Store,
    t: &Target,
    c: &dyn Connector,
) -> Result<Published, PublishError> {
    let parts = store.parts(t.id).await.map_err(before)?;
    let mut media = media_of(p, store, t).await?;
    let mut req = request(t);
    req.variant.media = media.remove(&0).unwrap_or_default();
    if parts.is_empty() {
        return c.publish(&req).await;
    }
    let head = match store.target_head(t.id).await.map_err(before)? {
        Some(h) => published(&h),
        None => {
            let out = c.publish(&req).await?;
            store
                .record_head(t.id, &remote(&out))
                .await
                .map_err(after)?;
            out
        }
    };
    let mut prev = head.clone();
    for part in &parts {
        if let Some(r) = &part.remote {
            if part.kind != relais_domain::thread::COMMENT {
                prev = published(r);
            }
            continue;
        }
        let files = media.remove(&part.position).unwrap_or_default();
        let preq = part_request(t, part, files, reply_for(part, &head, &prev));
        let out = c.publish(&preq).await?;
        store
            .mark_part_published(part.id, &remote(&out))
            .await
            .map_err(after)?;
        tracing::info!(target_id = t.id, position = part.position, remote_id = %out.remote_id, "thread part published");
        if part.kind != relais_domain::thread::COMMENT {
            prev = out;
        }
    }
    Ok(head)
}

/// What reading the channel back found for an unconfirmed target.
pub(crate) enum ReadBack {
    /// Everything is out: the target is published (with its first post).
    Done(Published),
    /// The item in flight is out; the rest is still to send.
    Resume,
    /// The item in flight is not on the channel.
    Missing,
}

/// Reads back the one item that was in flight when the outcome became unknown.
pub(crate) async fn reconcile(
    store: &Store,
    t: &Target,
    c: &dyn Connector,
) -> Result<ReadBack, PublishError> {
    let parts = store.parts(t.id).await.map_err(before)?;
    let head = match store.target_head(t.id).await.map_err(before)? {
        Some(h) => published(&h),
        None => {
            return Ok(match c.reconcile(&request(t)).await? {
                Some(out) if parts.is_empty() => ReadBack::Done(out),
                Some(out) => {
                    store
                        .record_head(t.id, &remote(&out))
                        .await
                        .map_err(before)?;
                    ReadBack::Resume
                }
                None => ReadBack::Missing,
            });
        }
    };
    let mut prev = head.clone();
    let pending: Vec<&Part> = parts.iter().filter(|p| p.remote.is_none()).collect();
    let Some(part) = pending.first() else {
        return Ok(ReadBack::Done(head));
    };
    for done in parts.iter().filter(|p| p.position < part.position) {
        if let (Some(r), false) = (&done.remote, done.kind == relais_domain::thread::COMMENT) {
            prev = published(r);
        }
    }
    let req = part_request(t, part, Vec::new(), reply_for(part, &head, &prev));
    match c.reconcile(&req).await? {
        Some(out) => {
            store
                .mark_part_published(part.id, &remote(&out))
                .await
                .map_err(before)?;
            Ok(if pending.len() == 1 {
                ReadBack::Done(head)
            } else {
                ReadBack::Resume
            })
        }
        None => Ok(ReadBack::Missing),
    }
}
