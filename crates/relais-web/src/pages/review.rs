//! The client's review page, reached through a review link without an account: the post's
//! text per channel, read-only, with the findings of the checks, and one decision signed
//! with a name. The form is protected like every other (double-submit CSRF cookie).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::Response;
use axum::{Extension, Form};
use relais_store::workspaces::Membership;

use super::{anon_base, html};
use crate::auth::VisitorLang;
use crate::csrf::CsrfToken;
use crate::i18n::Tr;
use crate::service::review_links::{self, Opened};
use crate::view::{Base, Errs, FindingRow, NoticePage};
use crate::{AppError, AppState};

/// One channel's text as the client reviews it.
pub struct VariantView {
    pub channel: String,
    pub network: String,
    pub text: String,
    pub findings: Vec<FindingRow>,
}

#[derive(Template)]
#[template(path = "review.html")]
pub struct ReviewPage {
    pub b: Base,
    pub errs: Errs,
    pub workspace: String,
    pub action: String,
    pub variants: Vec<VariantView>,
    pub wanted: Option<String>,
    pub expires: String,
    pub pending: bool,
    pub name: String,
    pub comment: String,
}

/// Never indexed, never cached: the address is a key.
fn private(mut res: Response) -> Response {
    res.headers_mut().insert(
        "x-robots-tag",
        HeaderValue::from_static("noindex, nofollow"),
    );
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

async fn render(
    state: &AppState,
    t: Tr,
    csrf: &CsrfToken,
    o: &Opened,
    token: &str,
    errs: Errs,
    (name, comment): (String, String),
) -> Result<Response, AppError> {
    let channels = state.store.channels(o.workspace.id).await?;
    // The checks read the workspace's charter; the client is no member, so a read-only view.
    let m = Membership {
        workspace: o.workspace.clone(),
        role: relais_domain::Role::Client,
    };
    let tz = &o.workspace.time_zone;
    let mut variants = Vec::new();
    for x in &o.targets {
        let ch = channels.iter().find(|c| c.id == x.channel_id);
        let network = ch.map(|c| c.network.clone()).unwrap_or_default();
        let report =
            crate::service::checks::check(state, &m, &x.body, "", Some(&network), t.0).await?;
        variants.push(VariantView {
            channel: ch.map(|c| c.name.clone()).unwrap_or_default(),
            findings: FindingRow::rows(&x.body, &report),
            text: x.body.clone(),
            network,
        });
    }
    let page = ReviewPage {
        b: anon_base(t, csrf, t.t("review.title")),
        errs,
        workspace: o.workspace.name.clone(),
        action: format!("/review/{}/{token}", o.post.id),
        variants,
        wanted: o.wanted_at.map(|w| t.datetime(w, tz)),
        expires: t.datetime(o.link.expires_at, tz),
        pending: o.pending,
        name,
        comment,
    };
    Ok(private(html(page)?))
}

pub async fn page(
    State(state): State<AppState>,
    VisitorLang(t): VisitorLang,
    Extension(csrf): Extension<CsrfToken>,
    Path((post, token)): Path<(i64, String)>,
) -> Result<Response, AppError> {
    let o = review_links::open(&state, post, &token).await?;
    render(
        &state,
        t,
        &csrf,
        &o,
        &token,
        Errs::none(),
        Default::default(),
    )
    .await
}

#[derive(serde::Deserialize)]
pub struct ReviewForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    comment: String,
}

pub async fn decide(
    State(state): State<AppState>,
    VisitorLang(t): VisitorLang,
    Extension(csrf): Extension<CsrfToken>,
    Path((post, token)): Path<(i64, String)>,
    Form(f): Form<ReviewForm>,
) -> Result<Response, AppError> {
    match review_links::decide(&state, post, &token, &f.name, &f.decision, &f.comment).await {
        Ok(()) => {
            let key = format!("review.done.{}", f.decision);
            let page = NoticePage {
                b: anon_base(t, &csrf, t.t("review.title")),
                message: t.t(&key).to_string(),
                link: None,
            };
            Ok(private(html(page)?))
        }
        Err(e) if e.field.is_some() && e.field != Some("token") => {
            let o = review_links::open(&state, post, &token).await?;
            let errs = Errs::from(t, &e);
            let mut res = render(&state, t, &csrf, &o, &token, errs, (f.name, f.comment)).await?;
            *res.status_mut() = e.status;
            Ok(res)
        }
        Err(e) => Err(e),
    }
}
