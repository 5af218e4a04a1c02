//! The media library: list with thumbnails, upload (streamed, multipart), alt text, delete,
//! and the files themselves (only to members of the workspace).

use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::{Extension, Form};
use relais_domain::{Code, Permission};

use super::{base, form_answer, html};
use crate::auth::Member;
use crate::csrf::CsrfToken;
use crate::service::media as svc;
use crate::view::Errs;
use crate::view_compose::{MediaPage, Picker};
use crate::{AppError, AppState};

async fn page(
    state: &AppState,
    mb: &Member,
    csrf: &CsrfToken,
    errs: Errs,
) -> Result<Response, AppError> {
    let t = mb.viewer.t;
    let b = base(state, &mb.viewer, csrf, t.t("media.title"), Some(&mb.m)).await?;
    html(MediaPage {
        b,
        errs,
        ws: mb.id(),
        items: state.store.list_media(mb.id()).await?,
        max_mb: state.cfg.media_max_bytes / 1_000_000,
    })
}

pub async fn index(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
) -> Result<Response, AppError> {
    mb.require(Permission::CreatePost)?;
    page(&state, &mb, &csrf, Errs::none()).await
}

#[derive(serde::Deserialize, Default)]
pub struct UploadQuery {
    /// Set by the composer's picker: answer with the picker for that field.
    #[serde(default)]
    picker: Option<String>,
}

/// Reads the form: an optional `alt` field, then `file`, streamed to the spool.
async fn receive(
    state: &AppState,
    mb: &Member,
    mut mp: Multipart,
    kept: &mut Vec<i64>,
) -> Result<relais_store::media::Media, AppError> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        AppError::from(crate::service::field("file", Code::BadRequest)).with_detail(e.body_text())
    };
    let mut alt = String::new();
    let mut stored = None;
    while let Some(field) = mp.next_field().await.map_err(bad)? {
        match field.name() {
            Some("alt") => alt = field.text().await.map_err(bad)?,
            Some("file") if stored.is_none() => {
                let name = field.file_name().unwrap_or_default().to_string();
                let r = svc::upload(state, &mb.viewer.user, &mb.m, &name, &alt, Box::pin(field));
                let failed = r.await.map(|m| stored = Some(m));
                // The rest of a refused body is not read.
                failed?;
            }
            // The picker's ticked boxes (before or after the file): kept ticked.
            Some(n) if valid_picker_name(n) => {
                if let Ok(id) = field.text().await.map_err(bad)?.parse() {
                    kept.push(id);
                }
            }
            _ => {}
        }
    }
    stored.ok_or_else(|| crate::service::field("file", Code::Required).into())
}

pub async fn upload(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Query(q): Query<UploadQuery>,
    mp: Multipart,
) -> Result<Response, AppError> {
    let mut kept = Vec::new();
    let r = receive(&state, &mb, mp, &mut kept).await;
    if let Some(name) = q.picker.filter(|n| valid_picker_name(n)) {
        // The composer: the picker again, with the new file ticked (or the error beside it).
        let (error, status) = match &r {
            Ok(m) => {
                if !kept.contains(&m.id) {
                    kept.push(m.id);
                }
                (None, StatusCode::OK)
            }
            Err(e) if e.field.is_some() => (Some(e.message(mb.viewer.t)), e.status),
            Err(e) => return Err(e.clone()),
        };
        let p = Picker {
            t: mb.viewer.t,
            ws: mb.id(),
            name,
            items: state.store.list_media(mb.id()).await?,
            chosen: kept,
            error,
        };
        let mut res = Html(askama::Template::render(&p)?).into_response();
        *res.status_mut() = status;
        return Ok(res);
    }
    let to = format!("/w/{}/media", mb.id());
    form_answer(r, to, mb.viewer.t, |errs| page(&state, &mb, &csrf, errs)).await
}

/// Picker fields are `media` or `media_<channel id>`.
fn valid_picker_name(n: &str) -> bool {
    n == "media"
        || n.strip_prefix("media_")
            .is_some_and(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()))
}

#[derive(serde::Deserialize)]
pub struct AltForm {
    #[serde(default)]
    alt: String,
}

pub async fn set_alt(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Path((_, id)): Path<(i64, i64)>,
    Form(f): Form<AltForm>,
) -> Result<Response, AppError> {
    let r = svc::set_alt(&state, &mb.viewer.user, &mb.m, id, &f.alt).await;
    let to = format!("/w/{}/media", mb.id());
    form_answer(r, to, mb.viewer.t, |errs| page(&state, &mb, &csrf, errs)).await
}

pub async fn delete(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Path((_, id)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let r = svc::delete(&state, &mb.viewer.user, &mb.m, id).await;
    let to = format!("/w/{}/media", mb.id());
    form_answer(r, to, mb.viewer.t, |errs| page(&state, &mb, &csrf, errs)).await
}

/// The file, with its checked type, to members of its workspace only (others: 404).
pub async fn file(
    State(state): State<AppState>,
    mb: Member,
    Path((_, id)): Path<(i64, i64)>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let etag = format!("\"m{id}\"");
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        // Content-addressed: an id never changes content. Still only for members.
        state.store.media(mb.id(), id).await?;
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    let (mime, data) = svc::file(&state, &mb.m, id).await?;
    let mut res = data.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&mime).map_err(|_| AppError::internal())?,
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=86400"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("inline"),
    );
    h.insert(
        header::ETAG,
        HeaderValue::from_str(&etag).map_err(|_| AppError::internal())?,
    );
    Ok(res)
}

/// A library file for the networks that fetch media by URL (Instagram, Threads). No session: the
/// path holds the file's SHA-256, which only someone who has the file can know; only files still
/// in a library, of the types the upload accepted, are served.
pub async fn public_file(
    State(state): State<AppState>,
    Path((ws, hash)): Path<(i64, String)>,
) -> Result<Response, AppError> {
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::not_found());
    }
    let key = format!("{ws}/{hash}");
    let row = state
        .store
        .media_by_storage_key(&key)
        .await
        .map_err(|_| AppError::not_found())?;
    if relais_domain::media::Kind::from_mime(&row.mime).is_none() {
        return Err(AppError::not_found());
    }
    let data = state
        .media
        .read(&key)
        .await
        .map_err(|_| AppError::not_found())?;
    let mut res = data.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&row.mime).map_err(|_| AppError::internal())?,
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400, immutable"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(res)
}
