//! CSRF protection for the pages: a double-submit token. Each browser holds a random
//! `relais_csrf` cookie (HttpOnly, SameSite=Lax); every form carries the same value in `_csrf`
//! and htmx sends it as `X-CSRF-Token` (read from a meta tag by /assets/app.js). A state-changing
//! request whose token does not match — or whose Origin is another site — is refused.
//! The JSON API is not cookie-authenticated, so it needs no token.

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use relais_domain::Code;

use crate::auth::{cookie, set_cookie};
use crate::{AppError, AppState};

pub const CSRF_COOKIE: &str = "relais_csrf";
const FORM_LIMIT: usize = 1024 * 1024;

/// The token to embed in the page's forms.
#[derive(Clone, Debug)]
pub struct CsrfToken(pub String);

fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn origin_ok(req: &Request) -> bool {
    let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    else {
        return true;
    };
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    origin.split_once("://").map(|(_, h)| h) == Some(host)
}

fn is_multipart(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"))
}

pub async fn verify(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let existing = cookie(req.headers(), CSRF_COOKIE).filter(|v| v.len() >= 20);
    let token = existing
        .clone()
        .unwrap_or_else(|| relais_store::random_token(24));
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method {
        let refused = || AppError::new(StatusCode::FORBIDDEN, Code::Csrf).into_response();
        let Some(expected) = existing.as_deref() else {
            return refused();
        };
        if !origin_ok(&req) {
            return refused();
        }
        let header_token = req
            .headers()
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let sent = match header_token {
            Some(t) => t,
            // A file upload's body is streamed to disk, never buffered here: its form carries
            // the token in the query (`?_csrf=`), still checked against the cookie.
            None if is_multipart(&req) => req
                .uri()
                .query()
                .and_then(|q| {
                    url::form_urlencoded::parse(q.as_bytes())
                        .find(|(k, _)| k == "_csrf")
                        .map(|(_, v)| v.into_owned())
                })
                .unwrap_or_default(),
            None => {
                let is_form = req
                    .headers()
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
                if !is_form {
                    return refused();
                }
                let (parts, body) = req.into_parts();
                let Ok(bytes) = to_bytes(body, FORM_LIMIT).await else {
                    return AppError::bad_request("request", Code::TooLong).into_response();
                };
                let sent = url::form_urlencoded::parse(&bytes)
                    .find(|(k, _)| k == "_csrf")
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default();
                req = Request::from_parts(parts, Body::from(bytes));
                sent
            }
        };
        if !same(&sent, expected) {
            return refused();
        }
    }
    req.extensions_mut().insert(CsrfToken(token.clone()));
    let mut res = next.run(req).await;
    if existing.is_none() {
        res.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(
                CSRF_COOKIE,
                &token,
                30 * 24 * 3600,
                state.cfg.secure_cookies,
            ),
        );
    }
    res
}
