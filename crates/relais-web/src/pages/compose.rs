//! The composer and the publications list.

use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::{Extension, Form};
use relais_domain::Permission;
use relais_store::posts::TargetFilter;

use super::{base, form_answer, html, see_other};
use crate::auth::Member;
use crate::csrf::CsrfToken;
use crate::service::compose::{self, Draft};
use crate::view::{
    CharterPage, ComposePage, CountersFragment, Errs, FindingRow, PostRow, PostsPage,
};
use crate::view_compose::{AutosaveFragment, Picker, PreviewFragment};
use crate::{AppError, AppState};

/// Reads the composer form: repeated `channel`, `media`; per channel `variant_<id>`,
/// `media_<id>`, `thread_<id>` (repeated, in order), `comment_<id>`, `spoiler_<id>`,
/// `title_<id>`; the edited draft's `post_id` and `version`.
fn draft_of(fields: Vec<(String, String)>) -> Draft {
    let mut d = Draft::default();
    for (k, v) in fields {
        match k.as_str() {
            "body" => d.body = v,
            "channel" => d.channels.extend(v.parse::<i64>().ok()),
            "date" => d.date = v,
            "time" => d.time = v,
            "action" => d.action = v,
            "override_reason" => d.override_reason = v,
            "lang" => d.lang = v,
            "post_id" => d.post_id = v.parse().ok(),
            "version" => d.version = v.parse().ok(),
            "tab" => {
                d.tab = v
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .take(40)
                    .collect()
            }
            "media" => d.media.extend(v.parse::<i64>().ok()),
            _ => {
                let Some((name, id)) = k
                    .split_once('_')
                    .and_then(|(n, i)| Some((n, i.parse::<i64>().ok()?)))
                else {
                    continue;
                };
                match name {
                    "variant" if !v.trim().is_empty() => {
                        d.variants.insert(id, v);
                    }
                    "media" => d
                        .variant_media
                        .entry(id)
                        .or_default()
                        .extend(v.parse::<i64>().ok()),
                    "thread" => d.threads.entry(id).or_default().push(v),
                    "comment" => {
                        d.comments.insert(id, v);
                    }
                    "spoiler" => {
                        d.spoilers.insert(id, v);
                    }
                    "title" => {
                        d.titles.insert(id, v);
                    }
                    "lang" if !v.is_empty() => {
                        d.langs.insert(id, v);
                    }
                    _ => {}
                }
            }
        }
    }
    d
}

async fn page(
    state: &AppState,
    mb: &Member,
    csrf: &CsrfToken,
    mut draft: Draft,
    errs: Errs,
) -> Result<Response, AppError> {
    if draft.tab.is_empty() {
        draft.tab = relais_store::random_token(12).replace(['-', '_'], "x");
    }
    let t = mb.viewer.t;
    let b = base(state, &mb.viewer, csrf, t.t("compose.title"), Some(&mb.m)).await?;
    let channels = state.store.channels(mb.id()).await?;
    let counters_html = fragment(state, mb, &draft).await?;
    let library = state.store.list_media(mb.id()).await?;
    let mut pickers = std::collections::HashMap::new();
    let mut render = |name: String, chosen: Vec<i64>| -> Result<(), AppError> {
        let p = Picker {
            t,
            ws: mb.id(),
            name: name.clone(),
            items: library.clone(),
            chosen,
            error: None,
        };
        pickers.insert(name, askama::Template::render(&p)?);
        Ok(())
    };
    render("media".into(), draft.media.clone())?;
    for c in &channels {
        let own = draft.variant_media.get(&c.id).cloned().unwrap_or_default();
        render(format!("media_{}", c.id), own)?;
    }
    let drafts = state
        .store
        .draft_posts(mb.id(), mb.viewer.user.id, 8)
        .await?
        .into_iter()
        .filter(|p| Some(p.id) != draft.post_id)
        .map(|p| {
            let title: String = p.body.chars().take(60).collect();
            (
                p.id,
                title,
                t.datetime(p.updated_at, &mb.m.workspace.time_zone),
            )
        })
        .collect();
    html(ComposePage {
        b,
        errs,
        ws: mb.id(),
        tz: mb.m.workspace.time_zone.clone(),
        channels,
        draft,
        counters_html,
        can_publish: mb.m.role.allows(Permission::Publish),
        can_override: mb.m.role.allows(Permission::ManageCharter),
        pickers,
        drafts,
    })
}

#[derive(serde::Deserialize, Default)]
pub struct ComposeQuery {
    /// A draft post to go on editing.
    #[serde(default)]
    post: Option<i64>,
}

pub async fn form(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Query(q): Query<ComposeQuery>,
) -> Result<Response, AppError> {
    mb.require(Permission::CreatePost)?;
    let draft = match q.post {
        Some(id) => crate::service::drafts::load(&state, &mb.m, id).await?,
        None => Draft::default(),
    };
    page(&state, &mb, &csrf, draft, Errs::none()).await
}

/// Counters, check findings of the main text and the preview cards, refreshed as the user types.
async fn fragment(state: &AppState, mb: &Member, d: &Draft) -> Result<String, AppError> {
    let t = mb.viewer.t;
    let counters = compose::counters(state, &mb.m, d).await?;
    let channels = state.store.channels(mb.id()).await?;
    let (findings, no_dictionary) = check_variants(state, mb, d, &channels).await?;
    let library: std::collections::HashMap<i64, relais_store::media::Media> = state
        .store
        .list_media(mb.id())
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    let cards = crate::service::preview::cards(mb.id(), d, &channels, &library);
    let mut alt_missing: Vec<String> = Vec::new();
    for c in channels.iter().filter(|c| d.channels.contains(&c.id)) {
        for id in d.media_for(c.id) {
            if let Some(m) = library.get(id).filter(|m| m.alt.trim().is_empty()) {
                if !alt_missing.contains(&m.filename) {
                    alt_missing.push(m.filename.clone());
                }
            }
        }
    }
    let preview_html = askama::Template::render(&PreviewFragment {
        t,
        cards,
        alt_missing,
    })?;
    Ok(askama::Template::render(&CountersFragment {
        t,
        ws: mb.id(),
        counters,
        findings,
        no_dictionary,
        preview_html,
    })?)
}

pub async fn counters(
    State(state): State<AppState>,
    mb: Member,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let d = draft_of(fields);
    Ok(IntoResponse::into_response(Html(
        fragment(&state, &mb, &d).await?,
    )))
}

/// Checks the main message in its language, and each variant that has its own text or
/// language in that variant's language; findings say which variant they are in.
async fn check_variants(
    state: &AppState,
    mb: &Member,
    d: &Draft,
    channels: &[relais_store::channels::Channel],
) -> Result<(Vec<FindingRow>, Vec<String>), AppError> {
    let t = mb.viewer.t;
    let mut findings = Vec::new();
    let mut no_dictionary: Vec<String> = Vec::new();
    let mut texts: Vec<(String, &str, &str)> = Vec::new();
    if !d.body.trim().is_empty() {
        texts.push((String::new(), d.body.as_str(), d.lang.as_str()));
    }
    for c in channels.iter().filter(|c| d.channels.contains(&c.id)) {
        let own_text = d.variants.get(&c.id).is_some_and(|v| !v.trim().is_empty());
        let own_lang = d.langs.contains_key(&c.id) && d.lang_for(c.id) != d.lang;
        if own_text || own_lang {
            texts.push((c.name.clone(), d.text_for(c.id), d.lang_for(c.id)));
        }
    }
    for (channel, text, lang) in texts {
        let lang = if lang.is_empty() {
            mb.m.workspace.lang.as_str()
        } else {
            lang
        };
        let report = crate::service::checks::check(state, &mb.m, text, lang, None, t.0).await?;
        findings.extend(FindingRow::rows_in(text, &report, &channel, lang));
        for l in report.languages_without_dictionary {
            if !no_dictionary.contains(&l) {
                no_dictionary.push(l);
            }
        }
    }
    Ok((findings, no_dictionary))
}

#[derive(serde::Deserialize)]
pub struct SuggestQuery {
    word: String,
    #[serde(default)]
    lang: String,
}

/// Spelling suggestions for one word, on demand (they can take hundreds of ms: computed off the
/// request threads, never while typing).
pub async fn suggest(mb: Member, Query(q): Query<SuggestQuery>) -> Result<Response, AppError> {
    mb.require(Permission::CreatePost)?;
    let t = mb.viewer.t;
    let word: String = q.word.chars().take(60).collect();
    let lang = match q.lang.as_str() {
        "fr" | "en" => q.lang.clone(),
        _ => mb.m.workspace.lang.as_str().to_string(),
    };
    let found = tokio::task::spawn_blocking(move || relais_guard::suggest(&word, &lang, 5))
        .await
        .unwrap_or_default();
    let esc = crate::highlight::askama_escape;
    let html = if found.is_empty() {
        esc(t.t("check.no_suggestion"))
    } else {
        format!(
            "{} : {}",
            esc(t.t("check.suggestions")),
            esc(&found.join(", "))
        )
    };
    Ok(Html(format!("<em>{html}</em>")).into_response())
}

/// Saves the composer as a draft every few seconds (htmx); a stale version answers 409 with
/// who saved it meanwhile, and nothing is overwritten.
pub async fn autosave(
    State(state): State<AppState>,
    mb: Member,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let d = draft_of(fields);
    let t = mb.viewer.t;
    let r = crate::service::drafts::autosave(&state, &mb.viewer.user, &mb.m, &d).await;
    let (frag, status) = match r {
        Ok(Some(s)) => (
            AutosaveFragment {
                t,
                post_id: s.post_id,
                version: s.version,
                at: t.time(s.at, &mb.m.workspace.time_zone),
                error: None,
            },
            axum::http::StatusCode::OK,
        ),
        Ok(None) => return Ok(axum::http::StatusCode::NO_CONTENT.into_response()),
        Err(e) if e.field.is_some() => (
            AutosaveFragment {
                t,
                post_id: 0,
                version: 0,
                at: String::new(),
                error: Some(e.message(t)),
            },
            e.status,
        ),
        Err(e) => return Err(e),
    };
    let mut res = Html(askama::Template::render(&frag)?).into_response();
    *res.status_mut() = status;
    Ok(res)
}

/// One more empty thread part for a channel ("+ add to thread").
pub async fn part(mb: Member, Query(q): Query<PartQuery>) -> Result<Response, AppError> {
    mb.require(Permission::CreatePost)?;
    let frag = crate::view_compose::PartFragment {
        t: mb.viewer.t,
        channel: q.channel,
        text: String::new(),
    };
    Ok(Html(askama::Template::render(&frag)?).into_response())
}

#[derive(serde::Deserialize)]
pub struct PartQuery {
    channel: i64,
}

pub async fn submit(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let d = draft_of(fields);
    let r = compose::save(&state, &mb.viewer.user, &mb.m, &d).await;
    let to = format!("/w/{}/posts", mb.id());
    form_answer(r, to, mb.viewer.t, |errs| page(&state, &mb, &csrf, d, errs)).await
}

pub async fn list(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
) -> Result<Response, AppError> {
    let t = mb.viewer.t;
    let channels = state.store.channels(mb.id()).await?;
    let targets = state
        .store
        .list_targets(mb.id(), &TargetFilter::default())
        .await?;
    let tz = mb.m.workspace.time_zone.as_str();
    let rows = targets
        .into_iter()
        .map(|x| {
            let ch = channels.iter().find(|c| c.id == x.channel_id);
            let excerpt: String = x.body.chars().take(90).collect::<String>()
                + if x.body.chars().count() > 90 {
                    "…"
                } else {
                    ""
                };
            PostRow {
                when: t.datetime(x.scheduled_at.unwrap_or(x.updated_at), tz),
                channel: ch.map(|c| c.name.clone()).unwrap_or_default(),
                network: ch.map(|c| c.network.clone()).unwrap_or_default(),
                excerpt,
                state: x.state,
                url: x.remote_url,
                error: x.last_error,
            }
        })
        .collect();
    let b = base(&state, &mb.viewer, &csrf, t.t("posts.title"), Some(&mb.m)).await?;
    let h = relais_publisher::health::health(&state.store, Some(mb.id())).await?;
    let health = h
        .first()
        .map(|h| (h.due, h.late, h.failed, h.unconfirmed, h.publishing))
        .unwrap_or_default();
    html(PostsPage {
        health,
        b,
        ws: mb.id(),
        rows,
        can_create: mb.m.role.allows(Permission::CreatePost),
        can_manage: mb.m.role.allows(Permission::ManageChannels),
    })
}

async fn charter_page(
    state: &AppState,
    mb: &Member,
    csrf: &CsrfToken,
    body: String,
    errs: Errs,
) -> Result<Response, AppError> {
    let b = base(
        state,
        &mb.viewer,
        csrf,
        mb.viewer.t.t("charter.title"),
        Some(&mb.m),
    )
    .await?;
    let can_edit =
        mb.m.role.allows(Permission::ManageCharter) && mb.m.workspace.archived_at.is_none();
    html(CharterPage {
        b,
        errs,
        ws: mb.id(),
        body,
        can_edit,
    })
}

pub async fn charter(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
) -> Result<Response, AppError> {
    let c = crate::service::checks::charter(&state, mb.id()).await?;
    let body = serde_json::to_string_pretty(&c).map_err(|_| AppError::internal())?;
    charter_page(&state, &mb, &csrf, body, Errs::none()).await
}

#[derive(serde::Deserialize)]
pub struct CharterForm {
    #[serde(default)]
    charter: String,
}

pub async fn charter_save(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Form(f): Form<CharterForm>,
) -> Result<Response, AppError> {
    let r = crate::service::checks::save_charter(&state, &mb.viewer.user, &mb.m, &f.charter).await;
    let to = format!("/w/{}/charter", mb.id());
    form_answer(r, to, mb.viewer.t, |errs| {
        charter_page(&state, &mb, &csrf, f.charter, errs)
    })
    .await
}

/// "Check links": each URL of the main text probed through the SSRF guard (htmx fragment).
pub async fn links(
    State(state): State<AppState>,
    mb: Member,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let d = draft_of(fields);
    let t = mb.viewer.t;
    let results = crate::service::links::check_links(&state.net, &d.body).await;
    let findings =
        relais_guard::links::findings_from_probe(&results, crate::service::checks::ui_lang(t.0));
    let report = relais_guard::Report {
        findings,
        ..Default::default()
    };
    let rows = FindingRow::rows(&d.body, &report);
    let html = askama::Template::render(&crate::view::LinksFragment {
        t,
        rows,
        checked: results.len(),
    })?;
    Ok(IntoResponse::into_response(Html(html)))
}

pub async fn import_form(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
) -> Result<Response, AppError> {
    mb.require(Permission::CreatePost)?;
    let b = base(
        &state,
        &mb.viewer,
        &csrf,
        mb.viewer.t.t("import.title"),
        Some(&mb.m),
    )
    .await?;
    html(crate::view::ImportPage {
        b,
        ws: mb.id(),
        data: String::new(),
        errors: Vec::new(),
    })
}

#[derive(serde::Deserialize)]
pub struct ImportForm {
    #[serde(default)]
    data: String,
}

pub async fn import(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Form(f): Form<ImportForm>,
) -> Result<Response, AppError> {
    use crate::service::import::{self as imp, ImportError};
    match imp::import(&state, &mb.viewer.user, &mb.m, &f.data, mb.viewer.t).await {
        Ok(_) => Ok(see_other(&format!("/w/{}/posts", mb.id()))),
        Err(ImportError::Lines(errors)) => {
            let b = base(
                &state,
                &mb.viewer,
                &csrf,
                mb.viewer.t.t("import.title"),
                Some(&mb.m),
            )
            .await?;
            let mut res = html(crate::view::ImportPage {
                b,
                ws: mb.id(),
                data: f.data,
                errors,
            })?;
            *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
        Err(ImportError::App(e)) => Err(e),
    }
}

pub async fn export(State(state): State<AppState>, mb: Member) -> Result<Response, AppError> {
    let csv = crate::service::import::export(&state, &mb.m).await?;
    let disposition = format!("attachment; filename=\"publications-{}.csv\"", mb.id());
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8".to_string(),
            ),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        csv,
    )
        .into_response())
}
